"""Within one scan the logistics checks share derived relations (per-parcel and per-order scan
summaries, the fastest legs, the found orders' rows for evidence). Run together they must give
exactly what each gives alone: the same finding ids, observed values and evidence hashes."""

from __future__ import annotations

import json

import pytest
from tests.rules.logistics.helpers import found, order, tables
from tests.support import run_check

from promoguard.engine import registry
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.packs import load_pack

ORDER_CHECKS = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "PARCEL001")


@pytest.fixture
def con(tiny_store):
    return tiny_store(
        tables(
            orders=[
                order("late_pickup", declared=5, promised=10),  # SHIP001 and SHIP003
                order("never_picked", declared=5),  # SHIP001; its parcel has a transit scan only
                order("before_pay", paid=10, city="上海"),  # SHIP004: scanned before payment
                order("too_fast", city="乌鲁木齐"),  # SHIP004: 上海→乌鲁木齐 in one hour
                order("shared_a", city="上海"),  # SHIP002 with shared_b
                order("shared_b", city="上海", listing="l_cos"),
                order("token", listing="l_cos", city="上海"),  # PARCEL001: 20 g cosmetics
                order("direct_hop", city="哈尔滨"),  # PARCEL001: 义乌→哈尔滨, no transit, no weight
                order("honest", city="上海"),
            ],
            shipments=[
                ("late_pickup", "SF", "1", 500),
                ("never_picked", "SF", "2", 500),
                ("before_pay", "SF", "3", 500),
                ("too_fast", "SF", "4", 500),
                ("shared_a", "YTO", "5", 500),
                ("shared_b", "YTO", "5", 500),
                ("token", "ZTO", "6", 20),
                ("direct_hop", "ZTO", "7", None),
                ("honest", "ZTO", "8", 500),
                ("honest", "ZTO", "9", 700),  # two parcels: its summary is over both
            ],
            events=[
                ("SF", "1", 40, "pickup", "杭州"),
                ("SF", "1", 50, "delivered", "上海"),
                ("SF", "2", 20, "transit", "杭州"),
                ("SF", "3", 2, "pickup", "杭州"),
                ("SF", "3", 6, "transit", "杭州"),
                ("SF", "3", 20, "delivered", "上海"),
                ("SF", "4", 5, "pickup", "上海"),
                ("SF", "4", 6, "transit", "乌鲁木齐"),
                ("SF", "4", 20, "delivered", "乌鲁木齐"),
                ("YTO", "5", 2, "pickup", "杭州"),
                ("YTO", "5", 10, "transit", "杭州"),
                ("YTO", "5", 20, "delivered", "上海"),
                ("ZTO", "6", 2, "pickup", "杭州"),
                ("ZTO", "6", 10, "transit", "杭州"),
                ("ZTO", "6", 20, "delivered", "上海"),
                ("ZTO", "7", 2, "pickup", "义乌"),
                ("ZTO", "7", 30, "delivered", "哈尔滨"),
                ("ZTO", "8", 2, "pickup", "杭州"),
                ("ZTO", "8", 10, "transit", "杭州"),
                ("ZTO", "8", 20, "delivered", "上海"),
                ("ZTO", "9", 3, "pickup", "杭州"),
                ("ZTO", "9", 11, "transit", "杭州"),
                ("ZTO", "9", 21, "delivered", "上海"),
            ],
        )
    )


def _by_entity(result):
    f = result.findings
    return {
        (c, e): (i, o, h)
        for c, e, i, o, h in zip(
            f.check_code, f.entity_id, f.finding_id, f.observed, f.evidence_sha256, strict=True
        )
    }


def test_checks_together_give_what_each_gives_alone(con):
    together = run_check(con, (*ORDER_CHECKS, "LIC001"))
    rows = _by_entity(together)
    alone = {}
    for code in (*ORDER_CHECKS, "LIC001"):
        alone.update(_by_entity(run_check(con, code)))
    assert rows == alone
    flagged = {code: {e for c, e in rows if c == code} for code in ORDER_CHECKS}
    assert flagged["SHIP001"] == {"late_pickup", "never_picked"}
    assert flagged["SHIP002"] == {"shared_a", "shared_b"}
    assert {"before_pay", "too_fast"} <= flagged["SHIP004"]
    assert {"token", "direct_hop"} <= flagged["PARCEL001"]
    for code in ORDER_CHECKS:
        assert "honest" not in flagged[code]
    # the evidence documents really hold the scans (read from the shared found-order rows)
    sha = rows[("SHIP004", "too_fast")][2]
    scans = json.loads(together.evidence[sha])["rows"]["tracking_events"]
    assert [s["city"] for s in scans] == ["上海", "乌鲁木齐", "乌鲁木齐"]


def test_shared_relations_are_dropped_when_the_scan_ends(con, monkeypatch):
    # the shared relations live in an in-memory database attached for the scan (not in temp):
    # the scan made some, and neither they nor the database are left when it ends
    from promoguard.engine import backends

    made: list[str] = []
    real_drop = backends.drop_temporaries

    def drop(backend, names, database=None):
        made.extend(names)
        return real_drop(backend, names, database)

    monkeypatch.setattr(backends, "drop_temporaries", drop)
    databases = con.sql("SELECT database_name FROM duckdb_databases() ORDER BY 1").fetchall()
    run_check(con, ORDER_CHECKS)
    assert made  # the scan did share relations
    left = con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert left == []
    assert con.sql("SELECT database_name FROM duckdb_databases() ORDER BY 1").fetchall() == (
        databases
    )
    assert (
        con.sql(
            "SELECT database_name, table_name FROM duckdb_tables()"
            " WHERE regexp_full_match(table_name, 'kept_[0-9a-f]{24}')"
            " OR database_name LIKE '_promoguard_scan_%'"
        ).fetchall()
        == []
    )


def test_ship004_top_speed_of_an_order_flagged_for_another_reason(con):
    # before_pay's parcel has a real 杭州→上海 leg (165 km in 14 h): its top speed is observed
    # even though only the too-fast orders are looked for among all parcels' legs
    got = found(run_check(con, "SHIP004"))
    assert got["before_pay"]["reasons"] == "scan_before_payment"
    assert got["before_pay"]["max_speed_kmh"] == pytest.approx(11.8, abs=0.05)
    assert got["too_fast"]["reasons"] == "faster_than_possible"
    assert got["too_fast"]["max_speed_kmh"] > 3000


def test_parcel001_threshold_zero_flags_every_order_with_a_parcel(con):
    # with a threshold of 0 an order with no signal is flagged too: no pre-filter may drop it
    got = found(run_check(con, "PARCEL001", overrides={"PARCEL001": {"threshold": 0}}))
    assert set(got) == {
        "late_pickup",
        "never_picked",
        "before_pay",
        "too_fast",
        "shared_a",
        "shared_b",
        "token",
        "direct_hop",
        "honest",
    }
    assert got["honest"]["score"] == 0


def test_evidence_from_the_shared_rows_equals_evidence_from_the_whole_tables(con):
    from promoguard.engine import run
    from promoguard.engine.base import ScanContext
    from promoguard.engine.cache import scan_cache

    pack = load_pack("cn")
    ctx = ScanContext(pack="cn", engine="duckdb")
    for code in ORDER_CHECKS:
        check = registry.get(code)
        params = pack.parameters_for(check)
        with duckdb_tables(con) as tables:
            found_rows = run._found_rows(check, tables, params, ctx)
            direct = run._evidence_rows(check, tables, found_rows, params, ctx)
            with scan_cache(tables) as cache:
                cache.found[code] = ("order", found_rows)
                shared = run._evidence_rows(check, tables, found_rows, params, ctx)
                assert cache.temp_tables  # the shared rows were read
        assert direct and shared == direct, code


def _first_deliveries(tables, expr):
    rows = tables.to_arrow(expr).to_pylist()
    return sorted((r["s_order_id"], r["first_delivered_at"]) for r in rows)


def test_order_first_delivery_equals_the_order_summarys_in_and_out_of_a_full_scan(con, monkeypatch):
    # BRUSH003 and REVIEW003 read each order's earliest delivered scan. Beside the SHIP checks
    # it comes from the scan's order summary; alone (an incremental scan's season-wide part),
    # from one pass over the delivered scans, which must give the same rows: "honest" has two
    # parcels (the earliest of the two), shared_a/shared_b one parcel between them (a row
    # each), never_picked a parcel with a transit scan only (no row)
    from promoguard.engine.cache import scan_cache
    from promoguard.rules._relations import (
        order_first_delivery,
        order_scan_summary,
        orders_with_scans,
    )

    con.execute(
        "INSERT INTO tracking_events VALUES ('ZTO', '9', TIMESTAMPTZ '2026-11-11 21:30:00+00',"
        " 'delivered', '上海'), ('SF', 'unknown', TIMESTAMPTZ '2026-11-11 01:00:00+00',"
        " 'delivered', '上海')"
    )  # a parcel delivered twice (the earliest counts); a scan of a parcel no order shipped
    with duckdb_tables(con) as tables:
        summary = order_scan_summary(tables)
        want = _first_deliveries(
            tables,
            summary.filter(summary.first_delivered_at.notnull()).select(
                "s_order_id", "first_delivered_at"
            ),
        )
        assert dict(want)["honest"].hour == 20  # parcel 8, before parcel 9's 21:00 and 21:30
        assert "never_picked" not in dict(want) and {"shared_a", "shared_b"} <= set(dict(want))
        # outside a scan, and inside one without the SHIP checks: its own pass
        assert _first_deliveries(tables, order_first_delivery(tables)) == want
        with scan_cache(tables) as cache:
            assert _first_deliveries(tables, order_first_delivery(tables)) == want
            assert set(cache.relations) == {("order_first_delivery", "v1")}
        # inside a scan that builds the order summary: read from it, no pass of its own (kept
        # as a relation of its own all the same: an incremental scan folds the saved copy)
        import promoguard.rules._relations as relations

        def no_pass(*a):
            raise AssertionError("a pass over the delivered scans of its own")

        with scan_cache(tables) as cache, monkeypatch.context() as m:
            m.setattr(relations, "_first_delivered", no_pass)
            order_scan_summary(tables)
            assert _first_deliveries(tables, order_first_delivery(tables)) == want
            assert ("order_first_delivery", "v1") in cache.relations
        # inside a scan whose SHIP checks build every order with its summary: read from that
        # (the same rows for the orders; a shipment of no order has no row there), no pass
        con.execute("INSERT INTO shipments VALUES ('no_such_order', 'ZTO', '9', 100)")
        orders = {r["order_id"] for r in tables.to_arrow(tables.orders).to_pylist()}
        want = _first_deliveries(
            tables,
            summary.filter(summary.first_delivered_at.notnull()).select(
                "s_order_id", "first_delivered_at"
            ),
        )
        assert "no_such_order" in dict(want) and "no_such_order" not in orders
        with scan_cache(tables) as cache, monkeypatch.context() as m:
            m.setattr(relations, "_first_delivered", no_pass)
            rows = orders_with_scans(tables)
            assert tables.to_arrow(rows).num_rows == len(orders)  # every order once
            assert _first_deliveries(tables, order_first_delivery(tables)) == [
                w for w in want if w[0] in orders
            ]
            assert ("order_scan_summary",) not in cache.relations  # grouped into it, not kept


def test_brush003_and_review003_alone_give_what_they_give_beside_the_ship_checks(con):
    together = _by_entity(run_check(con, ("SHIP001", "SHIP004", "BRUSH003", "REVIEW003")))
    alone = _by_entity(run_check(con, ("BRUSH003", "REVIEW003")))
    assert alone == {k: v for k, v in together.items() if k[0] in ("BRUSH003", "REVIEW003")}
