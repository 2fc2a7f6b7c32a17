"""SHIP001-004 and PARCEL001 on hand-made stores: each rule's positive and negative cases."""

from __future__ import annotations

import json

import pytest
from tests.support import listing, run_check

from promoguard.engine import evidence as ev
from promoguard.rules.logistics import ship001_shipped_without_pickup as ship001

from .helpers import at, found, order, tables

# -- SHIP001 --------------------------------------------------------------------------------------


def test_ship001_flags_no_pickup_and_late_pickup_only(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("never", declared=5),  # declared, never picked up, horizon is far later
                order("late", declared=5),  # pickup 30 h after the declaration
                order("ok_23h", declared=5),  # pickup 23 h after: inside the 24 h
                order("ok_24h", declared=5),  # pickup exactly 24 h after: still within them
                order("late_24h1m", declared=5),  # pickup 24 h and a minute after: late
                order("ok_before", declared=5),  # picked up before the click: fine for SHIP001
                order("not_declared", declared=None, status="paid"),
                order("too_recent", declared=95),  # declared 5 h before the data ends
                order("due_at_horizon", declared=76),  # its 24 h end as the data does: not late
                order("due_before_horizon", declared=75),  # its 24 h ended an hour before: late
            ],
            shipments=[
                ("never", "ZTO", "N1", 500),
                ("late", "ZTO", "L1", 500),
                ("ok_23h", "ZTO", "K1", 500),
                ("ok_24h", "ZTO", "K2", 500),
                ("late_24h1m", "ZTO", "K3", 500),
                ("ok_before", "ZTO", "B1", 500),
            ],
            events=[
                ("ZTO", "L1", 35, "pickup", "杭州"),
                ("ZTO", "K1", 28, "pickup", "杭州"),
                ("ZTO", "K2", 29, "pickup", "杭州"),
                ("ZTO", "K3", 29 + 1 / 60, "pickup", "杭州"),
                ("ZTO", "B1", 2, "pickup", "杭州"),
                ("ZTO", "X9", 100, "transit", "杭州"),  # the data's horizon: T0 + 100 h
            ],
        )
    )
    got = found(run_check(con, "SHIP001"))
    assert set(got) == {"never", "late", "late_24h1m", "due_before_horizon"}
    assert got["late"]["hours_to_pickup"] == 30
    assert got["late_24h1m"]["hours_to_pickup"] == 24.02
    assert got["never"]["first_pickup_at"] is None


def test_ship001_hours_are_whole_seconds_rounded_half_up(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("o", declared=0)],
            shipments=[("o", "ZTO", "T", 500)],
            # 181,746.7 s: DuckDB's epoch keeps the 0.7 s, Spark's drops it; both count 181,746 s
            events=[("ZTO", "T", 50.485 + 0.7 / 3600, "pickup", "杭州")],
        )
    )
    assert found(run_check(con, "SHIP001"))["o"]["hours_to_pickup"] == 50.49


def test_ship001_window_is_the_pack_parameter(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("o", declared=0)],
            shipments=[("o", "ZTO", "T", 500)],
            events=[("ZTO", "T", 30, "pickup", "杭州")],
        )
    )
    assert set(found(run_check(con, "SHIP001"))) == {"o"}
    assert (
        found(run_check(con, "SHIP001", overrides={"SHIP001": {"pickup_within_hours": 36}})) == {}
    )


def test_ship001_online_goods_without_a_parcel_owe_no_pickup(tiny_store):
    """A top-up or an e-ticket marked shipped with no shipment row reached the buyer online
    (电子商务法 Art. 51): reported low with the reason (the category is the shop's own word).
    The same goods naming a tracking number that was never picked up, a physical order with no
    shipment row, and physical goods whose category names an online word (a writing pad, a
    physical gift card: a reviewer's cases) keep the pack's severity."""
    t = tables(
        # top-up and e-ticket with no parcel: lawful; a top-up naming a waybill never picked up,
        # a SIM card sent by post and a hoodie, both with no parcel: reported
        orders=[
            order("topup", listing="l_topup", merchant="m1", declared=2),
            order("ticket", listing="l_ticket", merchant="m2", declared=3),
            order("topup_waybill", listing="l_topup", merchant="m1", declared=2),
            order("simcard", listing="l_sim", merchant="m2", declared=2),
            order("hoodie", declared=2),
            order("pad", listing="l_pad", merchant="m1", declared=2),
            order("giftcard", listing="l_card", merchant="m1", declared=2),
        ],
        shipments=[("topup_waybill", "YTO", "V1", 40)],
        events=[("ZTO", "X9", 100, "transit", "杭州")],  # the data's horizon: T0 + 100 h
    )
    t["listings"] += [
        listing("l_topup", "m1", "P1", "虚拟商品/手机充值", "联通 50 元 快充"),
        listing("l_ticket", "m2", "P2", "digital_goods/e-ticket", "Zoo day pass"),
        listing("l_sim", "m2", "P2", "通信/话费流量卡", "大流量上网卡 邮寄"),
        listing("l_pad", "m1", "P1", "办公/液晶电子书写板", "12寸 手写板"),
        listing("l_card", "m1", "P1", "礼品/实体礼品卡", "超市购物卡 实体"),
    ]
    con = tiny_store(t)
    result = run_check(con, "SHIP001")
    severity = dict(zip(result.findings.entity_id, result.findings.severity, strict=True))
    assert severity == {
        "topup": "low",
        "ticket": "low",
        "topup_waybill": "high",
        "simcard": "high",
        "hoodie": "high",
        "pad": "high",
        "giftcard": "high",
    }
    reasons = dict(zip(result.findings.entity_id, result.findings.observed, strict=True))
    assert json.loads(reasons["topup"])["severity_reason"] == ship001.ONLINE_REASON


# -- SHIP002 --------------------------------------------------------------------------------------


def test_ship002_same_number_across_merchants_but_not_across_carriers(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("a", listing="l_food"),
                order("b", listing="l_app"),  # other merchant, same ZTO number
                order("c", listing="l_app"),  # same number at another carrier: a different parcel
                order("d", listing="l_app"),  # its own parcel
            ],
            shipments=[
                ("a", "ZTO", "777", 500),
                ("b", "ZTO", "777", 500),
                ("c", "YTO", "777", 500),
                ("d", "ZTO", "778", 500),
            ],
        )
    )
    result = run_check(con, "SHIP002")
    f = result.findings
    got = {e: json.loads(o) for e, o in zip(f.entity_id, f.observed, strict=True)}
    assert set(got) == {"a", "b"}
    assert got["a"]["orders_sharing"] == 2 and got["a"]["merchants_sharing"] == 2
    sha = f.evidence_sha256[f.entity_id == "a"].iloc[0]
    doc = json.loads(result.evidence[sha])
    # b's shop is on another platform: counted, not quoted (tests/rules/logistics/test_shared.py)
    sharing = doc["rows"]["orders_sharing_parcel"]
    assert [r["order_id"] for r in sharing] == ["a"]
    assert doc["rows"]["sharing_elsewhere"] == [{"entity_id": "a", "orders": 1}]
    assert ev.freeze(doc)[0] == sha


def test_ship002_one_buyers_merged_shipment_is_low_and_says_why(tiny_store):
    """合并发货: a shop sends one buyer's orders in one parcel, each order with its number. Low,
    with the reason; the same shape with a second buyer, address or shop stays high."""

    def o(
        oid: str,
        buyer: str,
        address: str | None,
        listing: str = "l_app",
        paid: float = 0,
        declared: float | None = 10,
    ) -> dict:
        return order(oid, listing=listing, buyer=buyer, paid=paid, declared=declared) | {
            "buyer_address_id": address
        }

    con = tiny_store(
        tables(
            orders=[
                o("merged1", "b7", "A7"),
                o("merged2", "b7", "A7"),
                o("merged3", "b7", None),  # an order without an address beside them
                o("two_buyers1", "b8", "A8"),
                o("two_buyers2", "b9", "A8"),
                o("two_addresses1", "b10", "A10"),
                o("two_addresses2", "b10", "A11"),
                o("two_shops1", "b11", "A12"),
                o("two_shops2", "b11", "A12", listing="l_food"),
                o("orphan_beside", "b12", "A13"),
                # a month apart: the first order's parcel had left before the second was paid
                o("month_apart1", "b13", "A14", paid=0, declared=5),
                o("month_apart2", "b13", "A14", paid=720, declared=None),
                # one buyer's merged parcel, and one of its orders also on a parcel shared with
                # another buyer's order: that order is judged by the shared parcel
                o("both1", "b14", "A15"),
                o("both2", "b14", "A15"),
                o("other_buyer", "b15", "A16"),
                # not yet marked shipped: nothing had left before either was paid
                o("unshipped1", "b16", "A17", declared=None),
                o("unshipped2", "b16", "A17", declared=None),
                # an export without addresses: one buyer at one shop is enough
                o("no_address1", "b17", None),
                o("no_address2", "b17", None),
                # the second order paid the instant the first was marked shipped: still together
                o("paid_as_shipped1", "b18", "A18", paid=0, declared=3),
                o("paid_as_shipped2", "b18", "A18", paid=3, declared=4),
            ],
            shipments=[
                ("merged1", "ZTO", "M1", 900),
                ("merged2", "ZTO", "M1", 900),
                ("merged3", "ZTO", "M1", 900),
                ("two_buyers1", "ZTO", "B1", 500),
                ("two_buyers2", "ZTO", "B1", 500),
                ("two_addresses1", "ZTO", "D1", 500),
                ("two_addresses2", "ZTO", "D1", 500),
                ("two_shops1", "ZTO", "S1", 500),
                ("two_shops2", "ZTO", "S1", 500),
                ("orphan_beside", "ZTO", "O1", 500),
                ("not_in_the_store", "ZTO", "O1", 500),  # an order the export does not hold
                ("month_apart1", "ZTO", "T1", 500),
                ("month_apart2", "ZTO", "T1", 500),
                ("both1", "ZTO", "A100", 500),  # merged (sorts first)
                ("both2", "ZTO", "A100", 500),
                ("both1", "ZTO", "Z900", 500),  # shared with another buyer
                ("other_buyer", "ZTO", "Z900", 500),
                ("unshipped1", "ZTO", "U1", 500),
                ("unshipped2", "ZTO", "U1", 500),
                ("no_address1", "ZTO", "N1", 500),
                ("no_address2", "ZTO", "N1", 500),
                ("paid_as_shipped1", "ZTO", "P1", 500),
                ("paid_as_shipped2", "ZTO", "P1", 500),
            ],
        )
    )
    result = run_check(con, "SHIP002")
    f = result.findings.set_index("entity_id")
    low = {"merged1", "merged2", "merged3", "both2", "unshipped1", "unshipped2"}
    low |= {"no_address1", "no_address2", "paid_as_shipped1", "paid_as_shipped2"}
    assert set(f.index) == low | {
        "two_buyers1", "two_buyers2", "two_addresses1", "two_addresses2",
        "two_shops1", "two_shops2", "orphan_beside", "not_in_the_store",
        "month_apart1", "month_apart2", "both1", "other_buyer",
    }  # fmt: skip
    assert json.loads(f.loc["both1"].observed)["tracking_no"] == "Z900"
    for e, row in f.iterrows():
        observed = json.loads(row.observed)
        if e in low:
            assert row.severity == "low", e
            assert "合并发货" in observed["severity_reason"]
            assert observed["buyers_sharing"] == 1
        else:
            assert row.severity == "high", e
            assert "severity_reason" not in observed or observed["severity_reason"] is None
    # the pack may keep merged shipments high
    off = run_check(con, "SHIP002", overrides={"SHIP002": {"merged_shipments_low": False}})
    assert set(off.findings.severity) == {"high"}


def test_ship002_evidence_quotes_the_findings_use_of_a_recycled_number(tiny_store):
    """A waybill number shared by two buyers in 2023 and, recycled, by two others in 2026: each
    use is a shared parcel of its own (orders_sharing 2), and each finding's evidence quotes its
    own use's orders, not the other use's buyers and addresses (it quoted all four)."""
    year = 24 * 365
    rows = [("a23", "b1", -3 * year), ("b23", "b2", -3 * year + 5)]
    rows += [("a26", "b3", 0), ("b26", "b4", 5)]
    con = tiny_store(
        tables(
            orders=[
                order(oid, buyer=b, paid=t, declared=t + 2) | {"buyer_address_id": f"A-{b}"}
                for oid, b, t in rows
            ],
            shipments=[(oid, "STO", "R9", 150) for oid, _, _ in rows],
        )
    )
    result = run_check(con, "SHIP002")
    f = result.findings.set_index("entity_id")
    assert sorted(f.index) == ["a23", "a26", "b23", "b26"]
    for entity, use in (("a23", {"a23", "b23"}), ("b26", {"a26", "b26"})):
        assert json.loads(f.loc[entity, "observed"])["orders_sharing"] == 2
        doc = json.loads(result.evidence[f.loc[entity, "evidence_sha256"]])
        assert {r["order_id"] for r in doc["rows"]["orders_sharing_parcel"]} == use, entity


def test_ship002_a_number_the_carrier_recycled_years_later_is_two_parcels(tiny_store):
    """Carriers recycle waybill numbers: orders on one number paid more than
    recycled_after_days apart are separate uses, each judged alone. Two orders of two buyers two
    weeks apart stay high; a later use with two buyers is high on its own; a later use that is
    one buyer's merged parcel is low with the reason."""
    year = 24 * 365

    def o(oid: str, buyer: str, paid: float, address: str) -> dict:
        return order(oid, buyer=buyer, paid=paid, declared=paid + 2) | {"buyer_address_id": address}

    con = tiny_store(
        tables(
            orders=[
                o("old", "b1", -3 * year, "A1"),  # 2023, delivered then
                o("new", "b2", 0, "A2"),  # the recycled number, 2026
                o("fortnight1", "b3", -14 * 24, "A3"),
                o("fortnight2", "b4", 0, "A4"),
                o("old2", "b5", -3 * year, "A5"),
                o("reused1", "b6", 0, "A6"),  # the later use carries two buyers' orders
                o("reused2", "b7", 5, "A7"),
                o("old3", "b8", -3 * year, "A8"),
                o("merged1", "b9", 0, "A9"),  # the later use is one buyer's merged parcel
                o("merged2", "b9", 1, "A9"),
                # exactly recycled_after_days (180) apart: still one use; an hour more: two
                o("half_year1", "b10", -180 * 24, "A10"),
                o("half_year2", "b11", 0, "A11"),
                o("past_half_year1", "b12", -180 * 24 - 1, "A12"),
                o("past_half_year2", "b13", 0, "A13"),
            ],
            shipments=[
                ("old", "STO", "R1", 150),
                ("new", "STO", "R1", 160),
                ("fortnight1", "STO", "R2", 150),
                ("fortnight2", "STO", "R2", 150),
                ("old2", "STO", "R3", 150),
                ("reused1", "STO", "R3", 150),
                ("reused2", "STO", "R3", 150),
                ("old3", "STO", "R4", 150),
                ("merged1", "STO", "R4", 300),
                ("merged2", "STO", "R4", 300),
                ("half_year1", "STO", "R5", 150),
                ("half_year2", "STO", "R5", 150),
                ("past_half_year1", "STO", "R6", 150),
                ("past_half_year2", "STO", "R6", 150),
            ],
        )
    )
    f = run_check(con, "SHIP002").findings.set_index("entity_id")
    assert set(f.index) == {
        "fortnight1", "fortnight2", "reused1", "reused2", "merged1", "merged2",
        "half_year1", "half_year2",
    }  # fmt: skip
    assert json.loads(f.loc["half_year1"].observed)["orders_sharing"] == 2
    for e in ("fortnight1", "fortnight2", "reused1", "reused2", "half_year1", "half_year2"):
        assert f.loc[e].severity == "high", e
    assert json.loads(f.loc["reused1"].observed)["orders_sharing"] == 2  # its use alone
    for e in ("merged1", "merged2"):
        assert f.loc[e].severity == "low", e
        assert "合并发货" in json.loads(f.loc[e].observed)["severity_reason"]
    # the pack's recycled_after_days: at 10 days the fortnight's two orders are two uses too
    short = run_check(con, "SHIP002", overrides={"SHIP002": {"recycled_after_days": 10}})
    assert set(short.findings.entity_id) == {
        "reused1", "reused2", "merged1", "merged2",
    }  # fmt: skip


# -- SHIP003 --------------------------------------------------------------------------------------


def test_ship003_promise_default_and_undispatched(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("late_promise", promised=24),  # picked up at 30 h
                order("inside_promise", promised=72),  # late-ish at 60 h but inside its promise
                order("late_default", promised=None),  # no promise: 48 h default, picked up at 50 h
                order("ok_default", promised=None),  # picked up at 47 h
                order("never", promised=24, declared=None, status="paid"),  # nothing by the horizon
                order("never_cancelled", promised=24, declared=None, status="cancelled"),
                order("declared_only", promised=24, declared=10),  # SHIP001's case, not SHIP003's
                order("at_promise", promised=24),  # picked up at the promised instant: on time
                order("at_default", promised=None),  # no promise, picked up at 48 h: on time
                order("never_refunded", promised=24, declared=None, status="refunded"),
                # never picked up, but its promise runs past the data's horizon: not late yet
                order("not_yet_due", promised=250, declared=None, status="paid"),
            ],
            shipments=[
                ("late_promise", "ZTO", "A", 500),
                ("inside_promise", "ZTO", "B", 500),
                ("late_default", "ZTO", "C", 500),
                ("ok_default", "ZTO", "D", 500),
                ("at_promise", "ZTO", "E", 500),
                ("at_default", "ZTO", "F", 500),
            ],
            events=[
                ("ZTO", "E", 24, "pickup", "杭州"),
                ("ZTO", "F", 48, "pickup", "杭州"),
                ("ZTO", "A", 30, "pickup", "杭州"),
                ("ZTO", "B", 60, "pickup", "杭州"),
                ("ZTO", "C", 50, "pickup", "杭州"),
                ("ZTO", "D", 47, "pickup", "杭州"),
                ("ZTO", "Z", 200, "transit", "杭州"),
            ],
        )
    )
    got = found(run_check(con, "SHIP003"))
    assert set(got) == {"late_promise", "late_default", "never"}
    assert got["late_promise"]["hours_late"] == 6
    assert got["late_default"]["hours_late"] == 2
    assert got["never"]["hours_late"] == 176  # measured to the data's horizon (200 h)
    assert got["never"]["first_pickup_at"] is None
    # grace_minutes is slack after either deadline: 5 h forgives 2 h late, not 6 h
    graced = found(run_check(con, "SHIP003", overrides={"SHIP003": {"grace_minutes": 300}}))
    assert set(graced) == {"late_promise", "never"}
    result = run_check(con, "SHIP003")
    expected = dict(zip(result.findings.entity_id, result.findings.expected, strict=True))
    assert json.loads(expected["late_default"])["deadline_source"] == "paid_at + 48h"
    # the US pack's default when nothing is stated is the FTC rule's 30 days
    assert set(found(run_check(con, "SHIP003", "us"))) == {"late_promise", "never"}


# -- SHIP004 --------------------------------------------------------------------------------------


def test_ship004_each_signal_and_the_honest_cases(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("before_pay", paid=10, city="上海"),
                order("before_decl", paid=0, declared=40, city="上海"),
                order("wrong_city", city="上海"),
                order("too_fast", city="乌鲁木齐"),
                order("fast_but_real", city="北京"),  # 上海→北京 1,068 km in 4 h: an air parcel
                order("batch_click", paid=0, declared=20, city="上海"),  # pickup 18 h before click
                order("same_minute_local", city="上海"),  # 上海→苏州 84 km: under min_leg_km
                order("no_city", city=None),
                # a scan 3 minutes before payment: inside payment_tolerance_minutes (5)
                order("pay_clock", paid=10, city="上海"),
                # placed, then paid 10 h later (a bank slip): a handover in between is a process
                # issue, low; a scan before the order was placed stays high; a scan 3 minutes
                # before placement is inside clock_tolerance_minutes (5)
                order("approval_only", paid=10, city="上海") | {"placed_at": at(0)},
                order("before_placed", paid=10, city="上海") | {"placed_at": at(4)},
                order("placed_clock", paid=5, city="上海") | {"placed_at": at(5)},
            ],
            shipments=[
                ("before_pay", "SF", "1", 500),
                ("before_decl", "SF", "2", 500),
                ("wrong_city", "SF", "3", 500),
                ("too_fast", "SF", "4", 500),
                ("fast_but_real", "SF", "5", 500),
                ("batch_click", "SF", "6", 500),
                ("same_minute_local", "SF", "7", 500),
                ("no_city", "SF", "8", 500),
                ("pay_clock", "SF", "9", 500),
                ("approval_only", "SF", "10", 500),
                ("before_placed", "SF", "11", 500),
                ("placed_clock", "SF", "12", 500),
            ],
            events=[
                ("SF", "9", 10 - 3 / 60, "pickup", "杭州"),
                ("SF", "9", 30, "delivered", "上海"),
                ("SF", "10", 5, "pickup", "杭州"),
                ("SF", "10", 30, "delivered", "上海"),
                ("SF", "11", 2, "pickup", "杭州"),
                ("SF", "11", 30, "delivered", "上海"),
                ("SF", "12", 5 - 3 / 60, "pickup", "杭州"),
                ("SF", "12", 30, "delivered", "上海"),
                ("SF", "1", 2, "pickup", "杭州"),
                ("SF", "1", 20, "delivered", "上海"),
                ("SF", "2", 5, "pickup", "杭州"),
                ("SF", "2", 20, "delivered", "上海"),
                ("SF", "3", 5, "pickup", "杭州"),
                ("SF", "3", 30, "delivered", " 广州 "),
                ("SF", "4", 5, "pickup", "上海"),
                ("SF", "4", 6, "transit", "乌鲁木齐"),  # 3,268 km in one hour
                ("SF", "4", 20, "delivered", "乌鲁木齐"),
                ("SF", "5", 5, "pickup", "上海"),
                ("SF", "5", 9, "delivered", "北京"),
                ("SF", "6", 2, "pickup", "杭州"),
                ("SF", "6", 30, "delivered", "上海"),
                ("SF", "7", 5, "pickup", "苏州"),
                ("SF", "7", 5, "delivered", "上海"),
                ("SF", "8", 5, "pickup", "杭州"),
                ("SF", "8", 30, "delivered", "广州"),
            ],
        )
    )
    result = run_check(con, "SHIP004")
    got = found(result)
    assert set(got) == {
        "before_pay", "before_decl", "wrong_city", "too_fast", "approval_only", "before_placed",
    }  # fmt: skip
    severity = dict(zip(result.findings.entity_id, result.findings.severity, strict=True))
    assert severity == {e: "high" for e in got} | {"approval_only": "low"}
    assert got["approval_only"]["reasons"] == "shipped_before_payment_approval"
    assert "before payment approval" in got["approval_only"]["severity_reason"]
    assert got["before_placed"]["reasons"] == "scan_before_placement"
    assert got["before_placed"].get("severity_reason") is None
    assert got["before_pay"]["reasons"] == "scan_before_payment"
    assert got["before_decl"]["reasons"] == "scan_before_declared_shipment"
    assert got["wrong_city"]["reasons"] == "delivered_to_other_city"
    assert got["wrong_city"]["delivered_city"] == "广州"
    assert got["too_fast"]["reasons"] == "faster_than_possible"
    assert got["too_fast"]["max_speed_kmh"] > 3000
    # the pack's declared_tolerance_hours: at 12 h the batch click 18 h after pickup is early too
    strict = found(
        run_check(con, "SHIP004", overrides={"SHIP004": {"declared_tolerance_hours": 12}})
    )
    assert set(strict) == set(got) | {"batch_click"}
    assert strict["batch_click"]["reasons"] == "scan_before_declared_shipment"


def test_ship004_one_city_written_two_ways_is_the_same_city(tiny_store):
    # Chinese carriers scan "上海市" or "深圳市南山区" where the shop wrote "上海" or "深圳",
    # and an English export says "Shanghai": none is a delivery to another city
    con = tiny_store(
        tables(
            orders=[
                order("shi", city="上海"),
                order("district", city="深圳"),
                order("pinyin", city="Shanghai"),
                order("province", city="浙江省杭州市"),
                order("elsewhere", city="上海"),  # really delivered in 北京
                order("fast_shi", city="乌鲁木齐"),  # 上海市 → 乌鲁木齐市 in one hour
                # Chongqing's districts are places apart (万州 to 渝中: 230 km), and "Suzhou"
                # is 苏州 or 宿州: neither is taken for the place the parcel reached
                order("chongqing", city="重庆市万州区"),
                order("suzhou", city="Suzhou"),
                # a district without 市, a space before 市, English with "City", a curly
                # apostrophe: each one city too
                order("district_no_shi", city="上海"),
                order("shi_space", city="上海"),
                order("english_city", city="Shanghai City"),
                order("curly", city="Xi\u2019an"),
                # a county-level city is its prefecture's: 昆山 and 慈溪's 杭州湾新区 are in 苏州 and
                # 宁波; 宿迁 (not Suzhou's) and Hangzhou for Ningbo's bay area stay elsewhere
                order("county_city", city="苏州"),
                order("bay_area", city="宁波"),
                order("not_suzhou", city="苏州"),
                order("bay_not_hangzhou", city="杭州"),
            ],
            shipments=[
                ("shi", "YD", "1", 500),
                ("district", "YD", "2", 500),
                ("pinyin", "YD", "3", 500),
                ("province", "YD", "4", 500),
                ("elsewhere", "YD", "5", 500),
                ("fast_shi", "YD", "6", 500),
                ("chongqing", "YD", "7", 500),
                ("suzhou", "YD", "8", 500),
                ("district_no_shi", "YD", "9", 500),
                ("shi_space", "YD", "10", 500),
                ("english_city", "YD", "11", 500),
                ("curly", "YD", "12", 500),
                ("county_city", "YD", "13", 500),
                ("bay_area", "YD", "14", 500),
                ("not_suzhou", "YD", "15", 500),
                ("bay_not_hangzhou", "YD", "16", 500),
            ],
            events=[
                ("YD", "1", 5, "pickup", "杭州"),
                ("YD", "1", 30, "delivered", "上海市"),
                ("YD", "2", 5, "pickup", "杭州"),
                ("YD", "2", 30, "delivered", "深圳市南山区"),
                ("YD", "3", 5, "pickup", "杭州"),
                ("YD", "3", 30, "delivered", "上海"),
                ("YD", "4", 5, "pickup", "上海"),
                ("YD", "4", 30, "delivered", "杭州市西湖区"),
                ("YD", "5", 5, "pickup", "杭州"),
                ("YD", "5", 30, "delivered", "北京市朝阳区"),
                ("YD", "6", 5, "pickup", "上海市"),
                ("YD", "6", 6, "transit", "乌鲁木齐市"),
                ("YD", "6", 30, "delivered", "乌鲁木齐"),
                ("YD", "7", 5, "pickup", "重庆市渝中区"),
                ("YD", "7", 30, "delivered", "重庆市渝中区"),
                ("YD", "8", 5, "pickup", "杭州"),
                ("YD", "8", 30, "delivered", "苏州"),
                ("YD", "9", 5, "pickup", "杭州"),
                ("YD", "9", 30, "delivered", "上海浦东新区"),
                ("YD", "10", 5, "pickup", "杭州"),
                ("YD", "10", 30, "delivered", "上海 市"),
                ("YD", "11", 5, "pickup", "杭州"),
                ("YD", "11", 30, "delivered", "上海"),
                ("YD", "12", 5, "pickup", "杭州"),
                ("YD", "12", 30, "delivered", "西安"),
                ("YD", "13", 5, "pickup", "杭州"),
                ("YD", "13", 30, "delivered", "江苏省昆山市"),
                ("YD", "14", 5, "pickup", "杭州"),
                ("YD", "14", 30, "delivered", "慈溪市杭州湾新区"),
                ("YD", "15", 5, "pickup", "杭州"),
                ("YD", "15", 30, "delivered", "宿迁市"),
                ("YD", "16", 5, "pickup", "上海"),
                ("YD", "16", 30, "delivered", "杭州湾新区"),
            ],
        )
    )
    got = found(run_check(con, "SHIP004"))
    assert set(got) == {
        "elsewhere", "fast_shi", "chongqing", "suzhou", "not_suzhou", "bay_not_hangzhou",
    }  # fmt: skip
    assert got["not_suzhou"]["delivered_city"] == "宿迁"
    assert got["bay_not_hangzhou"]["delivered_city"] == "宁波"
    assert got["chongqing"]["reasons"] == got["suzhou"]["reasons"] == "delivered_to_other_city"
    assert got["elsewhere"]["reasons"] == "delivered_to_other_city"
    assert got["elsewhere"]["delivered_city"] == "北京"
    # the cities of the table are known however written: the speed check judges the hop
    assert got["fast_shi"]["reasons"] == "faster_than_possible"
    assert got["fast_shi"]["max_speed_kmh"] > 3000


def test_ship004_a_prefecture_by_its_full_name_or_its_county_level_city_is_the_same_place(
    tiny_store,
):
    # an autonomous prefecture written in full (湘西土家族苗族自治州 for 湘西), a league (锡林郭勒盟),
    # and 义乌 against its prefecture 金华 either way round: one place each. A district of
    # another city and another prefecture beside the autonomous one are still elsewhere
    rows = [
        ("xiangxi", "湘西", "湖南省湘西土家族苗族自治州"),
        ("league", "锡林郭勒", "内蒙古自治区锡林郭勒盟锡林浩特市"),
        ("yiwu_to_jinhua", "义乌", "金华市"),
        ("jinhua_to_yiwu", "浙江省金华市", "义乌市"),
        ("yiwu_to_hangzhou", "义乌", "杭州市萧山区"),
        ("xiangxi_to_huaihua", "湘西土家族苗族自治州", "怀化市"),
    ]
    con = tiny_store(
        tables(
            orders=[order(o, city=dest) for o, dest, _ in rows],
            shipments=[(o, "YD", o, 500) for o, _, _ in rows],
            events=[
                e
                for o, _, city in rows
                for e in (("YD", o, 5, "pickup", "广州"), ("YD", o, 40, "delivered", city))
            ],
        )
    )
    got = found(run_check(con, "SHIP004"))
    assert set(got) == {"yiwu_to_hangzhou", "xiangxi_to_huaihua"}
    assert got["yiwu_to_hangzhou"]["delivered_city"] == "杭州"
    assert got["xiangxi_to_huaihua"]["reasons"] == "delivered_to_other_city"


def test_ship004_a_third_delivered_city_between_two_of_one_place_is_seen(tiny_store):
    # an order to 金华 in three parcels delivered in 义乌 (金华's county-level city), 杭州 and
    # 金华: 杭州 sorts between 义乌 and 金华, so an order's lowest and highest delivered city
    # (义乌, 金华) both read as 金华 and hid it. Read as their prefecture before the min/max,
    # the order is delivered elsewhere. Three parcels in 义乌, 金华市 and 金华 are one place
    # An order to 杭州 in two parcels delivered in 杭州市 and 义乌 (金华's): the other city is the
    # highest of the two, and seen as well
    orders = [
        order("three", city="金华"),
        order("one_place", city="金华"),
        order("home_lowest", city="杭州"),
    ]
    rows = [
        ("home_lowest", "YD", "H1", "杭州市"),
        ("home_lowest", "YD", "H2", "义乌"),
        ("three", "YD", "T1", "义乌"),
        ("three", "YD", "T2", "杭州"),
        ("three", "YD", "T3", "金华"),
        ("one_place", "YD", "P1", "义乌市"),
        ("one_place", "YD", "P2", "金华市"),
        ("one_place", "YD", "P3", "金华"),
    ]
    con = tiny_store(
        tables(
            orders=orders,
            shipments=[(o, c, t, 500) for o, c, t, _ in rows],
            events=[
                e
                for _, c, t, city in rows
                for e in ((c, t, 5, "pickup", "广州"), (c, t, 40, "delivered", city))
            ],
        )
    )
    got = found(run_check(con, "SHIP004"))
    assert set(got) == {"three", "home_lowest"}
    assert got["home_lowest"]["delivered_city"] == "金华"
    assert got["home_lowest"]["reasons"] == "delivered_to_other_city"
    assert got["three"]["delivered_city"] == "杭州"
    assert got["three"]["reasons"] == "delivered_to_other_city"


def test_ship004_speed_threshold_is_the_pack_parameter(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("o", city="北京")],
            shipments=[("o", "SF", "1", 500)],
            events=[("SF", "1", 5, "pickup", "上海"), ("SF", "1", 6, "delivered", "北京")],
        )
    )
    assert set(found(run_check(con, "SHIP004"))) == {"o"}  # 1,068 km in 1 h
    assert found(run_check(con, "SHIP004", overrides={"SHIP004": {"max_speed_kmh": 1200}})) == {}


# -- SHIP005 --------------------------------------------------------------------------------------


def test_ship005_a_split_order_is_delivered_when_its_last_parcel_is(tiny_store):
    def promised(order_id: str, by: float) -> dict:
        row = order(order_id)
        row["promised_delivery_by"] = at(by)
        return row

    con = tiny_store(
        tables(
            orders=[
                promised("split_late", 72),  # 2nd parcel delivered 2 days after the promise
                promised("split_on_time", 72),
                promised("one_late", 72),
                promised("at_promise", 72),  # delivered at the promised instant: on time
            ],
            shipments=[
                ("split_late", "SF", "1", 500),
                ("split_late", "SF", "2", 500),
                ("split_on_time", "SF", "3", 500),
                ("split_on_time", "SF", "4", 500),
                ("one_late", "SF", "5", 500),
                ("at_promise", "SF", "6", 500),
            ],
            events=[
                ("SF", "1", 50, "delivered", "上海"),
                ("SF", "2", 120, "delivered", "上海"),
                ("SF", "2", 121, "delivered", "上海"),  # scanned twice: the first one counts
                ("SF", "3", 50, "delivered", "上海"),
                ("SF", "4", 70, "delivered", "上海"),
                ("SF", "5", 80, "delivered", "上海"),
                ("SF", "6", 72, "delivered", "上海"),
            ],
        )
    )
    got = found(run_check(con, "SHIP005"))
    assert set(got) == {"split_late", "one_late"}
    assert got["split_late"]["hours_late"] == 48
    assert got["split_late"]["delivered_at"].startswith(at(120).strftime("%Y-%m-%dT%H"))
    assert got["one_late"]["hours_late"] == 8
    # grace_minutes is slack after the promise: 9 h forgives 8 h late, not 48 h
    graced = found(run_check(con, "SHIP005", overrides={"SHIP005": {"grace_minutes": 540}}))
    assert set(graced) == {"split_late"}


# -- PARCEL001 ------------------------------------------------------------------------------------


def test_parcel001_scores_token_weight_missing_weight_and_direct_hops(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("token", listing="l_cos"),  # 20 g cosmetics parcel: under 50 g
                order("light_ok", listing="l_cos"),  # 60 g lipstick: fine
                order("heavy_alcohol_token", listing="l_alc"),  # 300 g 'bottle of spirits'
                order("missing_only", listing="l_app"),  # no weight, real trajectory: 0.5
                order("missing_direct", listing="l_app"),  # no weight + direct 1,900 km hop: 1.5
                order("direct_only", listing="l_app"),  # weighed, but no transit over 1,900 km: 1.0
                order("direct_short", listing="l_app"),  # 杭州→上海 165 km, no transit: fine
                order("at_minimum", listing="l_cos"),  # 50 g cosmetics: the minimum, not under
                # no weight at a carrier that records none: no signal, alone or beside a hop
                order("unweighed", listing="l_app"),
                order("unweighed_direct", listing="l_app"),
            ],
            shipments=[
                ("token", "ZTO", "1", 20),
                ("light_ok", "ZTO", "2", 60),
                ("heavy_alcohol_token", "ZTO", "3", 300),
                ("missing_only", "ZTO", "4", None),
                ("missing_direct", "ZTO", "5", None),
                ("direct_only", "ZTO", "6", 600),
                ("direct_short", "ZTO", "7", 600),
                ("at_minimum", "ZTO", "8", 50),
                ("unweighed", "OLX", "9", None),
                ("unweighed_direct", "OLX", "10", None),
            ],
            events=[
                ("ZTO", "4", 5, "pickup", "义乌"),
                ("ZTO", "4", 15, "transit", "上海"),
                ("ZTO", "4", 40, "delivered", "哈尔滨"),
                ("ZTO", "5", 5, "pickup", "义乌"),
                ("ZTO", "5", 38, "out_for_delivery", "哈尔滨"),  # not a hub on the way
                ("ZTO", "5", 40, "delivered", "哈尔滨"),
                ("ZTO", "6", 5, "pickup", "义乌"),
                ("ZTO", "6", 40, "delivered", "哈尔滨"),
                ("ZTO", "7", 5, "pickup", "杭州"),
                ("ZTO", "7", 12, "delivered", "上海"),
                ("OLX", "9", 5, "pickup", "义乌"),
                ("OLX", "9", 15, "transit", "上海"),
                ("OLX", "9", 40, "delivered", "哈尔滨"),
                ("OLX", "10", 5, "pickup", "义乌"),
                ("OLX", "10", 40, "delivered", "哈尔滨"),
            ],
        )
    )
    # a missing weight is not a token weight: alone (a complete trajectory) it is not enough,
    # not even in cn, where carriers weigh every parcel (a blank field in an export is no weight)
    got = found(run_check(con, "PARCEL001"))
    assert set(got) == {
        "token", "heavy_alcohol_token", "missing_direct", "direct_only", "unweighed_direct",
    }  # fmt: skip
    assert set(
        found(run_check(con, "PARCEL001", overrides={"PARCEL001": {"weight_missing": 1.0}}))
    ) == {
        "token", "heavy_alcohol_token", "missing_only", "missing_direct", "direct_only",
        "unweighed_direct",
    }  # fmt: skip
    # OLX weighs none of its parcels: its missing weights are no signal (weighed_share_min)
    assert got["unweighed_direct"]["score"] == 1
    assert got["unweighed_direct"]["missing_weight"] is False
    # the pack's no_transit_min_km: at 100 km the 165 km hop with no transit is long too
    near = found(run_check(con, "PARCEL001", overrides={"PARCEL001": {"no_transit_min_km": 100}}))
    assert set(near) == set(got) | {"direct_short"}
    assert got["token"] | {"direct_km": None} == {
        "score": 1,
        "weight_grams": 20,
        "token_weight": True,
        "missing_weight": False,
        "direct_km": None,
        "no_transit": False,
    }
    assert got["missing_direct"]["score"] == 1.5
    assert got["direct_only"]["direct_km"] > 1500
    # a stricter threshold keeps only the two-signal parcel
    assert set(
        found(
            run_check(
                con, "PARCEL001", overrides={"PARCEL001": {"weight_missing": 0.5, "threshold": 1.5}}
            )
        )
    ) == {"missing_direct"}
    assert set(found(run_check(con, "PARCEL001", "us", {"PARCEL001": {"threshold": 1.5}}))) == {
        "missing_direct"
    }


def _journey(carrier: str, no: str, origin: str, destination: str, start: float = 5):
    """A complete journey: pickup, a transit scan at each end, delivery 43 h later."""
    return [
        (carrier, no, start, "pickup", origin),
        (carrier, no, start + 8, "transit", origin),
        (carrier, no, start + 37, "transit", destination),
        (carrier, no, start + 43, "delivered", destination),
    ]


def _severities(result) -> dict[str, tuple[str, str | None]]:
    f = result.findings
    return {
        e: (s, json.loads(o).get("severity_reason"))
        for e, s, o in zip(f.entity_id, f.severity, f.observed, strict=True)
    }


def test_parcel001_a_voided_label_of_a_cancelled_order_sent_nothing(tiny_store):
    # a label printed at weight 0, the order cancelled before dispatch: no shipment happened.
    # Declared shipped, or scanned, the same 0 g label is an empty parcel
    con = tiny_store(
        tables(
            orders=[
                order("voided", status="cancelled"),
                order("declared", status="cancelled", declared=2),
                order("scanned", status="cancelled"),
                order("shipped_unscanned", status="shipped", declared=2),
            ],
            shipments=[
                ("voided", "ZTO", "1", 0),
                ("declared", "ZTO", "2", 0),
                ("scanned", "ZTO", "3", 0),
                ("shipped_unscanned", "ZTO", "4", 0),
            ],
            events=[("ZTO", "3", 5, "pickup", "揭阳"), ("ZTO", "3", 5.1, "delivered", "揭阳")],
        )
    )
    got = _severities(run_check(con, "PARCEL001"))
    assert set(got) == {"declared", "scanned", "shipped_unscanned"}
    assert all(s == "high" for s, _ in got.values())


def test_parcel001_a_light_parcel_beside_a_heavy_one_is_low_and_says_why(tiny_store):
    # a 3.2 kg appliance plus the paper invoice at 20 g, mailed apart: low with the reason.
    # The same 20 g alone, or beside a parcel as light, stays high; so does a light parcel beside
    # a heavy one that hopped 1,900 km with no transit scan
    con = tiny_store(
        tables(
            orders=[
                order("invoice", listing="l_app"),
                order("alone", listing="l_app"),
                order("two_light", listing="l_app"),
                order("beside_direct", listing="l_app"),
            ],
            shipments=[
                ("invoice", "JD", "1", 3200),
                ("invoice", "EMS", "2", 20),
                ("alone", "EMS", "3", 20),
                ("two_light", "EMS", "4", 20),
                ("two_light", "EMS", "5", 25),
                ("beside_direct", "JD", "6", 3200),
                ("beside_direct", "EMS", "7", 20),
            ],
            events=[
                *_journey("JD", "1", "苏州", "广州"),
                # the light parcels each in one city (no complete journey, no long hop)
                *[e for n in "23457" for e in _journey("EMS", n, "广州", "广州", 30)],
                ("JD", "6", 5, "pickup", "义乌"),
                ("JD", "6", 40, "delivered", "哈尔滨"),
            ],
        )
    )
    got = _severities(run_check(con, "PARCEL001"))
    assert set(got) == {"invoice", "alone", "two_light", "beside_direct"}
    assert got["invoice"][0] == "low"
    assert "beside a parcel of real weight" in got["invoice"][1]
    assert got["alone"] == ("high", None)
    assert got["two_light"] == ("high", None)
    assert got["beside_direct"] == ("high", None)


def test_parcel001_light_goods_with_a_complete_journey_are_low_and_say_why(tiny_store):
    # a 20 g SIM card: pickup 广州, transit 广州 and 北京, delivered 北京 43 h later: light goods,
    # low with the reason. The same 20 g picked up and 'delivered' with no transit scan, or in
    # one city, or in 40 minutes, a 1 g parcel (lighter than its own envelope), and a 20 g
    # parcel of a category whose minimum the pack names (apparel, 100 g) on a complete journey
    # stay high
    t = tables(
        orders=[
            order("sim", listing="l_sim", merchant="m1"),
            order("no_transit", listing="l_sim", merchant="m1"),
            order("one_city", listing="l_sim", merchant="m1"),
            order("fast", listing="l_sim", merchant="m1"),
            order("one_gram", listing="l_sim", merchant="m1"),
            order("jacket", listing="l_app"),
        ],
        shipments=[
            ("sim", "EMS", "1", 20),
            ("no_transit", "EMS", "2", 20),
            ("one_city", "EMS", "3", 20),
            ("fast", "EMS", "4", 20),
            ("one_gram", "YD", "5", 1),
            ("jacket", "EMS", "6", 20),
        ],
        events=[
            *_journey("EMS", "1", "广州", "北京"),
            ("EMS", "2", 5, "pickup", "广州"),
            ("EMS", "2", 48, "delivered", "北京"),
            *_journey("EMS", "3", "广州", "广州"),
            ("EMS", "4", 5, "pickup", "广州"),
            ("EMS", "4", 5.2, "transit", "广州"),
            ("EMS", "4", 5.5, "transit", "北京"),
            ("EMS", "4", 5.7, "delivered", "北京"),
            *_journey("YD", "5", "揭阳", "南京"),
            *_journey("EMS", "6", "广州", "北京"),
        ],
    )
    t["listings"].append(listing("l_sim", "m1", "P1", "通信/号卡", "联通 流量卡 手机卡"))
    got = _severities(run_check(tiny_store(t), "PARCEL001"))
    assert set(got) == {"sim", "no_transit", "one_city", "fast", "one_gram", "jacket"}
    assert got["sim"][0] == "low" and "light goods" in got["sim"][1]
    for other in ("no_transit", "one_city", "fast", "one_gram", "jacket"):
        assert got[other] == ("high", None), other


def _parcels_by_category(
    parcels: list[tuple[str, str, int]], categories: list[tuple[str, str]]
) -> dict:
    """Tables of shop m1's orders (order id, listing, parcel grams), each in an EMS parcel of its
    own (numbered from 1) on a complete journey from 广州 to 北京, and its listings with their
    category paths (also their titles)."""
    t = tables(
        orders=[order(oid, listing=lid, merchant="m1") for oid, lid, _ in parcels],
        shipments=[(oid, "EMS", str(n), grams) for n, (oid, _, grams) in enumerate(parcels, 1)],
        events=[
            e for n in range(1, len(parcels) + 1) for e in _journey("EMS", str(n), "广州", "北京")
        ],
    )
    for lid, category in categories:
        t["listings"].append(listing(lid, "m1", "P1", category, category))
    return t


def test_parcel001_reads_a_chinese_category_path_as_the_packs_category(tiny_store):
    # a blind set's s-066: a 30 g parcel for a 4 L rice cooker (家电/电饭煲) had been read under
    # the 30 g default and was not a token weight. In cn, goods named as appliances and furniture
    # (电饭煲, 电压力锅, 沙发) are home goods (150 g): the rice cooker at 30 g is flagged high even
    # on a complete journey (a named category: no light-goods lowering). Light goods under the
    # same roots are not: a rice cooker's sealing ring (电饭煲配件/密封圈), a fridge magnet
    # (家居/冰箱贴), a thermometer under 家用电器/个护健康 (the roots are not mapped: a reviewer
    # listed thirty such leaves), nor the rice cooker at 2.8 kg; the eu pack maps no Chinese words
    t = _parcels_by_category(
        [
            ("cooker", "l_cooker", 30),
            ("cooker_heavy", "l_cooker", 2800),
            ("cooker_path", "l_cooker2", 60),
            ("sofa", "l_sofa", 100),
            ("ring", "l_ring", 40),
            ("magnet", "l_magnet", 40),
            ("thermometer", "l_thermo", 60),
        ],
        [
            ("l_cooker", "家电/电饭煲"),
            ("l_cooker2", "家用电器/厨房电器/电压力锅"),
            ("l_sofa", "家具/客厅家具/沙发"),
            ("l_ring", "家电/电饭煲配件/密封圈"),
            ("l_magnet", "家居/冰箱贴"),
            ("l_thermo", "家用电器/个护健康/体温计"),
        ],
    )
    con = tiny_store(t)
    result = run_check(con, "PARCEL001")
    got = _severities(result)
    assert set(got) == {"cooker", "cooker_path", "sofa"}
    assert all(got[k] == ("high", None) for k in got), got
    expected = {
        e: json.loads(x)["min_weight_grams"]
        for e, x in zip(result.findings.entity_id, result.findings.expected, strict=True)
    }
    assert expected == {"cooker": 150, "cooker_path": 150, "sofa": 150}
    assert not set(found(run_check(con, "PARCEL001", "eu")))


def test_parcel001_small_appliances_have_a_floor_of_their_own(tiny_store):
    # left mapped to nothing in session 35 (their leaves hold pocket and floor sizes): a fan, a
    # humidifier and a shaver are small appliances in cn (50 g). A fan at 35 g is a token weight;
    # at 120 g it is not; a shaver's blade heads (剃须刀/刀头) and a humidifier's essential oil
    # (加湿器/香薰精油) at 40 g are parts and consumables, under the 30 g default; eu maps no word.
    # A path naming words of two keys (空调: home, 150 g; 电风扇: small appliance) takes the lower
    # minimum: an air-cooler fan at 100 g is no token weight
    t = _parcels_by_category(
        [
            ("fan", "l_fan", 35),
            ("fan_ok", "l_fan", 120),
            ("humid", "l_humid", 45),
            ("heads", "l_heads", 40),
            ("oil", "l_oil", 40),
            ("cooler", "l_cooler", 100),
        ],
        [
            ("l_fan", "生活电器/电风扇"),
            ("l_humid", "家用电器/生活电器/加湿器"),
            ("l_heads", "个护健康/剃须刀/刀头"),
            ("l_oil", "生活电器/加湿器/香薰精油"),
            ("l_cooler", "生活电器/空调扇/电风扇"),
        ],
    )
    con = tiny_store(t)
    result = run_check(con, "PARCEL001")
    got = _severities(result)
    assert got == {"fan": ("high", None), "humid": ("high", None)}
    assert {json.loads(x)["min_weight_grams"] for x in result.findings.expected} == {50}
    assert not set(found(run_check(con, "PARCEL001", "eu")))


def test_parcel001_a_direct_hop_from_putian_is_a_long_hop(tiny_store):
    # 莆田 → 兰州 (about 1,900 km) in two days with a plausible 900 g and nothing between: no
    # transit over a long hop. A same-city rider (pickup, delivered 40 min later) stays unreported
    con = tiny_store(
        tables(
            orders=[order("putian", listing="l_app"), order("rider", listing="l_app")],
            shipments=[("putian", "STO", "1", 900), ("rider", "DADA", "2", 500)],
            events=[
                ("STO", "1", 5, "pickup", "莆田市"),
                ("STO", "1", 46, "delivered", "兰州"),
                ("DADA", "2", 5, "pickup", "莆田"),
                ("DADA", "2", 5.67, "delivered", "莆田"),
            ],
        )
    )
    got = found(run_check(con, "PARCEL001"))
    assert set(got) == {"putian"}
    assert got["putian"]["no_transit"] is True and got["putian"]["direct_km"] > 1500


def test_parcel001_knows_a_direct_hop_however_its_cities_are_written(tiny_store):
    # 义乌 → 哈尔滨 (1,900 km) with no scan between, as a carrier writes the places: the hop is
    # as long as when both are written as the city table does (it was unknown: no signal)
    con = tiny_store(
        tables(
            orders=[order("bare", listing="l_app"), order("written", listing="l_app")],
            shipments=[("bare", "ZTO", "1", 600), ("written", "ZTO", "2", 600)],
            events=[
                ("ZTO", "1", 5, "pickup", "义乌"),
                ("ZTO", "1", 40, "delivered", "哈尔滨"),
                ("ZTO", "2", 5, "pickup", "浙江省义乌市"),
                ("ZTO", "2", 40, "delivered", "黑龙江省哈尔滨市南岗区"),
            ],
        )
    )
    got = found(run_check(con, "PARCEL001"))
    assert set(got) == {"bare", "written"}
    assert got["written"]["direct_km"] == got["bare"]["direct_km"] > 1500
    assert got["written"]["no_transit"] is True


def test_order_evidence_holds_the_order_its_parcel_and_its_scans(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("o", declared=0)],
            shipments=[("o", "ZTO", "T", 500)],
            events=[("ZTO", "T", 40, "pickup", "杭州"), ("ZTO", "T", 50, "delivered", "上海")],
        )
    )
    result = run_check(con, "SHIP001")
    doc = json.loads(result.evidence[result.findings.evidence_sha256.iloc[0]])
    rows = doc["rows"]
    assert [r["order_id"] for r in rows["order"]] == ["o"]
    assert [r["tracking_no"] for r in rows["shipments"]] == ["T"]
    assert sorted(r["event_type"] for r in rows["tracking_events"]) == ["delivered", "pickup"]
    assert doc["rows"]["order"][0]["declared_shipped_at"] == "2026-11-11T00:00:00Z"


def test_parcel001_reads_every_parcel_of_an_order_any_one_parcel_of_which_may_score(tiny_store):
    """The orders that may score are picked by single parcels (one light or unweighed, one with
    a long direct trajectory); their weights are then read over all their parcels."""
    con = tiny_store(
        tables(
            orders=[
                order("light_and_direct", listing="l_app"),  # 20 g + a heavy direct parcel
                order("heavy_pair", listing="l_app"),  # 600 g direct + 700 g honest
                order("missing_and_heavy", listing="l_app"),  # no weight + 600 g honest
                order("heavy_honest", listing="l_app"),  # 600 g + 700 g, transit: fine
            ],
            shipments=[
                ("light_and_direct", "ZTO", "1", 20),
                ("light_and_direct", "ZTO", "2", 600),
                ("heavy_pair", "ZTO", "3", 600),
                ("heavy_pair", "ZTO", "4", 700),
                ("missing_and_heavy", "ZTO", "5", None),
                ("missing_and_heavy", "ZTO", "6", 600),
                ("heavy_honest", "ZTO", "7", 600),
                ("heavy_honest", "ZTO", "8", 700),
            ],
            events=[
                *[(("ZTO", n, 5, "pickup", "义乌")) for n in "12345678"],
                ("ZTO", "2", 40, "delivered", "哈尔滨"),  # no transit, 1,900 km
                ("ZTO", "3", 40, "delivered", "哈尔滨"),
                *[(("ZTO", n, 15, "transit", "上海")) for n in "145678"],
                *[(("ZTO", n, 40, "delivered", "哈尔滨")) for n in "145678"],
            ],
        )
    )
    # a missing weight scoring alone (weight_missing 1.0), to see whose weights are read
    got = found(run_check(con, "PARCEL001", overrides={"PARCEL001": {"weight_missing": 1.0}}))
    assert set(got) == {"light_and_direct", "heavy_pair", "missing_and_heavy"}
    assert got["light_and_direct"]["weight_grams"] == 20
    assert got["light_and_direct"]["score"] == 2  # token weight and the direct parcel
    assert got["heavy_pair"]["weight_grams"] == 600  # the lighter of its two, neither light
    assert got["heavy_pair"]["no_transit"] and got["heavy_pair"]["score"] == 1
    assert got["missing_and_heavy"]["weight_grams"] == 600  # the weighed one's
    assert got["missing_and_heavy"]["missing_weight"] and not got["missing_and_heavy"]["no_transit"]


@pytest.mark.parametrize("part_rows", ["", "1"])
def test_parcel001_quotes_a_listing_title_with_its_number_masked(
    tiny_store, monkeypatch, part_rows
):
    """A shop's title carrying its mobile number: the engine masks the free-text columns a check
    names (Check.masked_evidence) as it pulls the evidence, in one part or several."""
    monkeypatch.setenv("PROMOGUARD_EVIDENCE_PART_ROWS", part_rows)
    t = tables(
        orders=[order("token", listing="l_cos"), order("token2", listing="l_cos")],
        shipments=[("token", "ZTO", "1", 20), ("token2", "ZTO", "2", 20)],
    )
    for row in t["listings"]:
        if row["listing_id"] == "l_cos":
            row["title"] = "面霜 咨询13912349876"
    result = run_check(tiny_store(t), "PARCEL001")
    assert set(result.findings.entity_id) == {"token", "token2"}
    for sha in result.findings.evidence_sha256:
        doc = json.loads(result.evidence[sha])
        assert "13912349876" not in result.evidence[sha]
        assert doc["rows"]["listing"][0]["title"] == "面霜 咨询[PHONE ****9876]"
