"""The finer scopes of an incremental scan (``depends_on``: order, order_horizon, order_parcels,
text), each on a store built by hand where a narrower scope would miss a finding: the increment
equals a full re-scan with the rule's declaration, and differs from it with the narrower one
(so the equivalence is not vacuous)."""

from __future__ import annotations

import shutil

import pytest
from tests.rules.logistics.helpers import order, tables
from tests.support import listing, make_store, write_rows

from promoguard import engine, incremental, store
from promoguard.engine import registry

COLUMNS = ["check_code", "finding_id", "observed", "expected", "evidence_sha256", "severity"]


def _rows(result):
    f = result.findings.sort_values(["check_code", "finding_id"])[COLUMNS]
    return [tuple(r) for r in f.itertuples(index=False)]


def _increment(tmp_path, day1, day2, checks, name="s"):
    """Day 1 stored and scanned (saved), day 2's rows appended: (full re-scan, increment, info)."""
    path = tmp_path / f"{name}.duckdb"
    make_store(path, day1).close()
    engine.scan(path, "cn", checks=checks)
    con = store.connect(path)
    write_rows(con, day2)
    con.close()
    full_path = tmp_path / f"{name}-full.duckdb"
    shutil.copy(path, full_path)
    full = engine.scan(full_path, "cn", checks=checks, save=False)
    inc, info = incremental.scan_since(path, "cn", "last", checks=checks, save=False)
    return full, inc, info


@pytest.fixture(autouse=True)
def _tiny(monkeypatch):
    # a tiny store: scoped whatever share of it the new rows reach (a real one falls back to a
    # whole-store run above SCOPE_SHARE)
    monkeypatch.setattr(incremental, "SCOPE_SHARE", 1.0)


@pytest.fixture
def declared(monkeypatch):
    """Declare a rule's scope for one test (the narrower, wrong one, to show it is caught)."""

    def declare(code, scope):
        monkeypatch.setattr(type(registry.get(code)), "depends_on", scope)

    return declare


# -- order_horizon: SHIP001/SHIP003 judge an order without a pickup against the data horizon ----


def _horizon_days():
    day1 = tables(
        orders=[
            order("open", declared=10),  # declared shipped, never picked up: due at 10 + 24 h
            order("stuck", promised=5, declared=None, status="paid"),  # late since 5 h: SHIP003
            order("fine", declared=2),
        ],
        shipments=[("fine", "ZTO", "F1", 500)],
        events=[("ZTO", "F1", 3, "pickup", "杭州"), ("ZTO", "F1", 20, "transit", "上海")],
    )
    # day 2: one new order, paid four days later; it moves the horizon from 20 h to 100 h, which
    # makes "open" late (SHIP001) and "stuck" later (SHIP003's hours_late), neither touched
    day2 = {
        "orders": [order("new", paid=100, declared=100.5)],
        "shipments": [{"order_id": "new", "carrier": "ZTO", "tracking_no": "N1"}],
    }
    return day1, day2


def test_an_open_order_flips_when_the_horizon_moves(tmp_path):
    day1, day2 = _horizon_days()
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    assert info["rechecked_local"] == ["SHIP001", "SHIP003"]
    assert info["scopes"]["order"]["full_because"] is None
    got = {(c, e) for c, e in zip(full.findings.check_code, full.findings.entity_id, strict=True)}
    assert ("SHIP001", "open") in got and ("SHIP003", "stuck") in got
    assert _rows(inc) == _rows(full)


def test_scoping_the_horizon_checks_by_order_alone_would_miss_it(tmp_path, declared):
    day1, day2 = _horizon_days()
    declared("SHIP001", "order")
    declared("SHIP003", "order")
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    assert info["rechecked_local"] == ["SHIP001", "SHIP003"]
    assert _rows(inc) != _rows(full)


def test_when_the_horizon_stays_only_touched_orders_are_rechecked(tmp_path):
    day1, _ = _horizon_days()
    # a new order inside the season's span: the horizon (20 h) stays, "open" stays in time
    day2 = {"orders": [order("new", paid=1, declared=1.5)]}
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    # the new order and the order holding the horizon, not every order without a pickup
    assert info["scopes"]["order"]["keys"] == 2
    assert _rows(inc) == _rows(full)


# -- order_parcels: SHIP002 reads every order sharing a parcel -----------------------------------


def _parcel_days():
    day1 = tables(
        orders=[order("a", listing="l_food"), order("b", listing="l_app")],
        shipments=[("a", "ZTO", "777", 500), ("b", "ZTO", "778", 500)],
    )
    # day 2: a new order on a's parcel: a becomes a SHIP002 finding without a row of its own
    day2 = {
        "orders": [order("c", listing="l_app")],
        "shipments": [{"order_id": "c", "carrier": "ZTO", "tracking_no": "777"}],
    }
    return day1, day2


def test_a_new_order_on_an_old_parcel_is_found_on_both(tmp_path):
    day1, day2 = _parcel_days()
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP002,SHIP004")
    assert set(info["rechecked_local"]) == {"SHIP002", "SHIP004"}
    assert set(full.findings.entity_id) == {"a", "c"}
    assert _rows(inc) == _rows(full)


def test_scoping_shared_parcels_by_order_alone_would_miss_it(tmp_path, declared):
    day1, day2 = _parcel_days()
    declared("SHIP002", "order")
    full, inc, _ = _increment(tmp_path, day1, day2, "SHIP002")
    assert _rows(inc) != _rows(full)


# -- text: a text's finding reads its listing (the category) ------------------------------------

MEDICAL = (
    "电子理疗仪，用于缓解疼痛，辅助治疗颈椎病"  # a disease claim: allowed on medical goods only
)


def _text_days():
    day1 = {
        "platforms": [{"platform_id": "P1", "name": "Mall"}],
        "merchants": [{"merchant_id": "m1", "platform_id": "P1", "name": "Shop"}],
        "listings": [listing("l1", "m1", "P1", "food")],
        "texts": [
            # its listing is not in the store yet (an orphan is stored, and counted as one)
            {
                "text_id": "t_orphan",
                "kind": "listing_description",
                "merchant_id": "m1",
                "listing_id": "l9",
                "created_at": order("x")["paid_at"],
                "content": MEDICAL,
            },
            {
                "text_id": "t_food",
                "kind": "listing_description",
                "merchant_id": "m1",
                "listing_id": "l1",
                "created_at": order("x")["paid_at"],
                "content": "新鲜蜂蜜",
            },
        ],
    }
    # day 2: the orphan's listing arrives, a medical device: its text's finding is resolved
    day2 = {"listings": [listing("l9", "m1", "P1", "medical_device")]}
    return day1, day2


def test_a_listing_arriving_later_rechecks_its_texts(tmp_path):
    day1, day2 = _text_days()
    full, inc, info = _increment(tmp_path, day1, day2, "TEXT002")
    assert info["rechecked_local"] == ["TEXT002"] and info["scopes"]["text"]["keys"] == 1
    assert len(full.findings) == 0  # day 1 found t_orphan (no listing, no exemption)
    assert info["carried"] == 0
    assert _rows(inc) == _rows(full)


def test_tracing_texts_only_from_new_texts_would_miss_it(tmp_path, monkeypatch):
    day1, day2 = _text_days()
    narrower = dict(incremental._TEXTS_OF)
    narrower["listings"] = "SELECT 'text' AS entity_type, NULL AS entity_id FROM {new} n"
    monkeypatch.setattr(incremental, "_TEXTS_OF", narrower)
    full, inc, info = _increment(tmp_path, day1, day2, "TEXT002")
    assert info["rechecked_local"] == ["TEXT002"] and info["scopes"]["text"]["keys"] == 0
    assert _rows(inc) != _rows(full)


# -- unchanged: a check none of whose tables got a row is carried whole ------------------------


def test_every_check_reads_only_the_tables_it_declares(season_store, tmp_path):
    """What lets an increment carry a check whose tables got no row (and scope the others by the
    tables they read): ``Check.reads`` is complete. Each check on the small season, with every
    table it does not declare emptied, finds exactly what it finds on the whole season."""
    from promoguard import lake

    full = engine.scan(season_store, "cn", save=False)
    by_reads: dict[tuple[str, ...], list[str]] = {}
    for code in full.coverage:
        by_reads.setdefault(tuple(sorted(registry.get(code).reads)), []).append(code)
    assert all(reads for reads in by_reads), "a check declares no tables"
    wrong = []
    for i, (reads, codes) in enumerate(sorted(by_reads.items())):
        path = tmp_path / f"r{i}.duckdb"
        shutil.copy(season_store, path)
        con = store.connect(path)
        for table in lake.TABLE_NAMES:
            if table not in reads:
                con.execute(f'DELETE FROM "{table}"')
        con.close()
        alone = engine.scan(path, "cn", checks=",".join(codes), save=False)
        for code in codes:
            a = full.findings[full.findings.check_code == code]
            b = alone.findings[alone.findings.check_code == code]
            if sorted(zip(a.finding_id, a.evidence_sha256, strict=True)) != sorted(
                zip(b.finding_id, b.evidence_sha256, strict=True)
            ):
                wrong.append(f"{code} reads more than {reads}")
    assert not wrong, wrong
    assert len(full.findings) > 1000


# -- order_statistic: PARCEL001 reads which carriers weigh (a share over all their parcels) -----


def _parcel_share_days(new_weights):
    day1 = tables(
        orders=[order("mixed", listing="l_cos"), order("c1", listing="l_app")],
        # SF weighs 2 of its 3 parcels: a missing weight there is a signal (0.5 on top of the
        # token weight's score)
        shipments=[("mixed", "SF", "A", 10), ("mixed", "SF", "B", None), ("c1", "SF", "C", 500)],
    )
    day2 = {
        "orders": [order(f"n{i}", listing="l_app") for i in range(len(new_weights))],
        "shipments": [
            {"order_id": f"n{i}", "carrier": "SF", "tracking_no": f"N{i}", "weight_grams": w}
            for i, w in enumerate(new_weights)
        ],
    }
    return day1, day2


def test_a_changed_carrier_share_rechecks_every_order(tmp_path):
    # three unweighed parcels more: SF weighs 2 of 6, a missing weight stops counting, and the
    # untouched order "mixed" scores 1.0 instead of 1.5
    day1, day2 = _parcel_share_days([None, None, None])
    full, inc, info = _increment(tmp_path, day1, day2, "PARCEL001")
    assert "PARCEL001 changed" in info["scopes"]["order_statistic"]["full_because"]
    assert info["rerun_season"] == ["PARCEL001"]
    assert '"missing_weight":false' in full.findings.observed.iloc[0]
    assert _rows(inc) == _rows(full)


def test_an_unchanged_carrier_share_rechecks_the_new_orders_only(tmp_path):
    day1, day2 = _parcel_share_days([400])  # SF weighs 3 of 4: the same carriers weigh
    full, inc, info = _increment(tmp_path, day1, day2, "PARCEL001")
    assert info["rechecked_local"] == ["PARCEL001"] and info["carried"] == 1
    assert info["scopes"]["order_statistic"]["keys"] == 1
    assert _rows(inc) == _rows(full)


def test_scoping_the_carrier_share_check_by_order_alone_would_miss_it(tmp_path, declared):
    day1, day2 = _parcel_share_days([None, None, None])
    declared("PARCEL001", "order")
    full, inc, _ = _increment(tmp_path, day1, day2, "PARCEL001")
    assert _rows(inc) != _rows(full)
