"""The finer scopes of an incremental scan (``depends_on``: order, order_horizon, order_parcels,
text), each on a store built by hand where a narrower scope would miss a finding: the increment
equals a full re-scan with the rule's declaration, and differs from it with the narrower one
(so the equivalence is not vacuous)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest
from tests.rules.logistics.helpers import at, order, tables
from tests.support import listing, make_store, write_rows

from promoguard import engine, incremental, store
from promoguard.engine import registry
from promoguard.rules._relations import SHIPMENT_SHARED_HASHES

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


class _OldRows:
    """A season whose previous scan saw the rows marked ``old`` (``season.old_rows``)."""

    def old_rows(self, table):
        return f"(SELECT * FROM _all_{table} WHERE old)"


@pytest.mark.parametrize(
    ("scans", "paid", "declared", "before"),
    [
        # the previous horizon a day before this one: a scan's (found within the window) ...
        ([(50, True), (70, False)], [(10, True), (72, False)], [(None, True)], 50),
        # ... an order's declared shipment, the other columns of old rows all earlier
        ([(5, True), (70, False)], [(10, True)], [(49, True), (71, False)], 49),
        # ... or a payment, an old scan in the window too, and no old declared shipment
        ([(45, True), (70, False)], [(49, True), (60, False)], [(None, True), (None, False)], 49),
        # no scan at all
        ([], [(49, True), (60, False)], [(None, False)], 49),
        # a fortnight before: no old row in the window, every row read
        ([(20, True), (400, False)], [(10, True)], [(None, True)], 20),
        # this horizon late (400 h: the window from 232 h): several old scans in the window
        # and one before it, an old payment in it and one before (the latest is taken, not
        # the window's first, whichever column holds it)
        (
            [(100, True), (250, True), (300, True), (400, False)],
            [(10, True), (270, True)],
            [(None, True)],
            300,
        ),
        # ... two old declared shipments in the window, the old scans and payments before it
        (
            [(100, True), (400, False)],
            [(50, True), (60, True)],
            [(300, True), (380, True), (20, True)],
            380,
        ),
        # ... two old payments in the window, the old scan before it
        ([(100, True), (400, False)], [(260, True), (390, True)], [(None, True)], 390),
    ],
)
def test_the_previous_horizon_is_the_old_rows_latest(scans, paid, declared, before):
    """``_horizon`` of the rows the previous scan saw, looked for near this scan's horizon first
    (hours after day 1's midnight): the latest scan, payment or declared shipment of the old
    rows, the same as reading them all, in or out of the window."""
    import duckdb

    def hours(h):
        return None if h is None else at(h)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE _all_tracking_events (event_at TIMESTAMPTZ, old BOOLEAN)")
    con.execute(
        "CREATE TABLE _all_orders (paid_at TIMESTAMPTZ, declared_shipped_at TIMESTAMPTZ, "
        "old BOOLEAN)"
    )
    for h, o in scans:
        con.execute("INSERT INTO _all_tracking_events VALUES (?, ?)", [at(h), o])
    rows = [(hours(p), None, o) for p, o in paid] + [(None, hours(d), o) for d, o in declared]
    con.executemany("INSERT INTO _all_orders VALUES (?, ?, ?)", rows)
    now = incremental._horizon(con)
    assert incremental._horizon(con, _OldRows(), now) == at(before)
    assert incremental._horizon(con, _OldRows()) == at(before)


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


def _moving_horizon_days():
    """Day 1's horizon is 20 h (F1's transit scan); day 2's new order moves it to 30.5 h."""
    day1 = tables(
        orders=[
            order("open", declared=5),  # due 29 h: in time at 20 h, late at 30.5 h (SHIP001)
            order("overdue", declared=-10),  # due 14 h: a SHIP001 finding at both horizons
            order("future", declared=10),  # due 34 h: in time at both
            order("stuck", promised=5, declared=None, status="paid"),  # SHIP003 at both, later
            order("lapsing", promised=25, declared=None, status="paid"),  # due 25 h: SHIP003 now
            order("dropped", promised=5, declared=None, status="cancelled"),  # exempt
            order("fine", paid=-6, declared=-5),  # picked up in time (due 19 h)
        ],
        shipments=[("fine", "ZTO", "F1", 500), ("overdue", "ZTO", "V1", 500)],
        events=[("ZTO", "F1", 3, "pickup", "杭州"), ("ZTO", "F1", 20, "transit", "上海")],
    )
    day2 = {
        "orders": [order("new", paid=30, declared=30.5)],
        "shipments": [{"order_id": "new", "carrier": "ZTO", "tracking_no": "N1"}],
    }
    return day1, day2


@pytest.fixture
def rechecked(monkeypatch):
    """The order keys of each scoped order plan, as the plan took them."""
    seen: list[set] = []
    take = incremental._Plan.take_keys

    def spy(self, total, of):
        if of == "orders":
            seen.append(
                {r[0] for r in self.con.execute("SELECT entity_id FROM _pg_keys").fetchall()}
            )
        return take(self, total, of)

    monkeypatch.setattr(incremental._Plan, "take_keys", spy)
    return seen


def test_a_moving_horizon_rechecks_only_the_orders_whose_finding_it_can_change(tmp_path, rechecked):
    day1, day2 = _moving_horizon_days()
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    got = {(c, e) for c, e in zip(full.findings.check_code, full.findings.entity_id, strict=True)}
    assert {("SHIP001", "open"), ("SHIP001", "overdue")} <= got
    assert {("SHIP003", "stuck"), ("SHIP003", "lapsing")} <= got
    # the new order (it holds the horizon), "open" (its deadline passed between the horizons),
    # "stuck" and "lapsing" (late at the new horizon: SHIP003 quotes it); not "overdue" (late
    # before and after, quoting no horizon), "future", the exempt or the picked-up orders
    assert rechecked == [{"new", "open", "stuck", "lapsing"}]
    assert _rows(inc) == _rows(full)


def test_a_rule_naming_no_horizon_orders_rechecks_every_order_without_a_pickup(
    tmp_path, rechecked, monkeypatch
):
    day1, day2 = _moving_horizon_days()
    monkeypatch.delattr(type(registry.get("SHIP003")), "horizon_orders")
    full, inc, _ = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    no_pickup = {"new", "open", "overdue", "future", "stuck", "lapsing", "dropped"}
    assert rechecked == [no_pickup]
    assert _rows(inc) == _rows(full)


def test_naming_only_the_orders_whose_deadline_passed_would_miss_the_later_lateness(
    tmp_path, monkeypatch
):
    # SHIP003 with SHIP001's kind of window (the deadline passed between the two horizons):
    # "stuck" was late already and keeps its old hours_late; the full re-scan's is later
    day1, day2 = _moving_horizon_days()
    check = type(registry.get("SHIP003"))
    narrow = check.horizon_orders

    def newly_late(self, tables, params, before, now):
        was = narrow(self, tables, params, before, before)
        got = narrow(self, tables, params, before, now)
        return got.anti_join(was, "order_id")

    monkeypatch.setattr(check, "horizon_orders", newly_late)
    full, inc, _ = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    stale = set(_rows(inc)) - set(_rows(full))
    assert {r[0] for r in stale} == {"SHIP003"}


def test_naming_no_order_for_the_pickup_deadline_would_miss_it(tmp_path, monkeypatch):
    day1, day2 = _moving_horizon_days()
    check = type(registry.get("SHIP001"))
    monkeypatch.setattr(
        check,
        "horizon_orders",
        lambda self, tables, params, before, now: tables.orders.filter(False).select("order_id"),
    )
    full, inc, _ = _increment(tmp_path, day1, day2, "SHIP001,SHIP003")
    missed = {e for c, e, *_ in set(_rows(full)) - set(_rows(inc))}
    assert missed  # "open" is late at the new horizon: only a re-check finds it
    assert _rows(inc) != _rows(full)


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


def test_a_shared_parcel_links_orders_through_every_parcel_of_theirs(tmp_path, rechecked):
    # day 1: e has its own parcel 779 and one it shares with f (780); g has 777 at another
    # carrier (the same number, another parcel: no link, though the number's hash is a's).
    # Day 2's c lands on a's parcel: a and c are re-checked, and their rows' neighbours read
    day1 = tables(
        orders=[order(o, listing="l_app") for o in ("a", "e", "f", "g")],
        shipments=[
            ("a", "ZTO", "777", 500),
            ("e", "ZTO", "779", 500),
            ("e", "ZTO", "780", 500),
            ("f", "ZTO", "780", 500),
            ("g", "SF", "777", 500),
        ],
    )
    day2 = {
        "orders": [order("c", listing="l_app"), order("h", listing="l_app")],
        "shipments": [
            {"order_id": "c", "carrier": "ZTO", "tracking_no": "777"},
            # h joins e on 779: e (and so f, its other parcel's order, read whole) re-checked
            {"order_id": "h", "carrier": "ZTO", "tracking_no": "779"},
        ],
    }
    full, inc, _ = _increment(tmp_path, day1, day2, "SHIP002")
    assert rechecked == [{"a", "c", "e", "h"}]
    assert set(full.findings.entity_id) == {"a", "c", "e", "f", "h"}
    assert _rows(inc) == _rows(full)


def test_the_order_statistic_check_scoped_with_the_order_checks_equals_a_full_rescan(tmp_path):
    # PARCEL001 runs in the order group's scoped run: on its keys, the touched order and the one
    # sharing its parcel (SHIP002's neighbour), each held whole, with the season's carrier counts
    day1, day2 = _parcel_days()
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP002,SHIP004,PARCEL001")
    assert set(info["rechecked_local"]) == {"SHIP002", "SHIP004", "PARCEL001"}
    assert info["scopes"]["order"]["keys"] == 2 and "order_statistic" not in info["scopes"]
    assert _rows(inc) == _rows(full)


def test_a_moved_statistic_runs_its_check_whole_and_the_order_checks_scoped(tmp_path):
    day1, day2 = _parcel_share_days([None, None, None])  # SF stops weighing
    full, inc, info = _increment(tmp_path, day1, day2, "SHIP004,PARCEL001")
    assert "PARCEL001 changed" in info["scopes"]["order"]["whole_because"]
    assert info["rerun_season"] == ["PARCEL001"] and info["rechecked_local"] == ["SHIP004"]
    assert info["scopes"]["order"]["checks"] == ["SHIP004"]
    assert '"missing_weight":false' in full.findings.observed.iloc[0]
    assert _rows(inc) == _rows(full)


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


def test_every_check_reads_only_the_tables_it_declares(season_store, season_scan, tmp_path):
    """What lets an increment carry a check whose tables got no row (and scope the others by the
    tables they read): ``Check.reads`` is complete. Each check on the small season, with every
    table it does not declare emptied, finds exactly what it finds on the whole season."""
    from promoguard import lake

    full = season_scan.result  # the whole season's cn scan
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
    assert "PARCEL001 changed" in info["scopes"]["order"]["full_because"]
    assert info["rerun_season"] == ["PARCEL001"]
    assert '"missing_weight":false' in full.findings.observed.iloc[0]
    assert _rows(inc) == _rows(full)


def test_an_unchanged_carrier_share_rechecks_the_new_orders_only(tmp_path):
    day1, day2 = _parcel_share_days([400])  # SF weighs 3 of 4: the same carriers weigh
    full, inc, info = _increment(tmp_path, day1, day2, "PARCEL001")
    assert info["rechecked_local"] == ["PARCEL001"] and info["carried"] == 1
    assert info["scopes"]["order"]["keys"] == 1
    assert _rows(inc) == _rows(full)


def test_scoping_the_carrier_share_check_by_order_alone_would_miss_it(tmp_path, declared):
    day1, day2 = _parcel_share_days([None, None, None])
    declared("PARCEL001", "order")
    full, inc, _ = _increment(tmp_path, day1, day2, "PARCEL001")
    assert _rows(inc) != _rows(full)


def test_a_scoped_run_reads_the_seasons_carrier_share_not_its_orders(tmp_path):
    # n0's three SF parcels: one token weight, two unweighed. SF weighs 3 of 6 over the season
    # (the same carriers weigh: scoped), but 1 of n0's own 3: the scoped run, whose shipments
    # are n0's alone, must be handed the season's counts for n0's missing weights to count
    day1, _ = _parcel_share_days([])
    day2 = {
        "orders": [order("n0", listing="l_app")],
        "shipments": [
            {"order_id": "n0", "carrier": "SF", "tracking_no": t, "weight_grams": w}
            for t, w in (("N0", 10), ("N1", None), ("N2", None))
        ],
    }
    full, inc, info = _increment(tmp_path, day1, day2, "PARCEL001")
    assert info["rechecked_local"] == ["PARCEL001"]
    assert info["scopes"]["order"]["keys"] == 1
    n0 = full.findings[full.findings.entity_id == "n0"].observed.iloc[0]
    assert '"missing_weight":true' in n0
    assert _rows(inc) == _rows(full)


def test_a_scoped_run_counting_its_own_shipments_would_miss_it(tmp_path, monkeypatch):
    # the same, with the scoped run handed nothing: it counts SF's share over n0's parcels alone
    # (1 of 3) and n0's missing weights stop counting
    day1, _ = _parcel_share_days([])
    day2 = {
        "orders": [order("n0", listing="l_app")],
        "shipments": [
            {"order_id": "n0", "carrier": "SF", "tracking_no": t, "weight_grams": w}
            for t, w in (("N0", 10), ("N1", None), ("N2", None))
        ],
    }
    monkeypatch.setattr(incremental, "_given", lambda *args: None)
    full, inc, _ = _increment(tmp_path, day1, day2, "PARCEL001")
    assert _rows(inc) != _rows(full)


def test_the_carrier_counts_fold_with_the_new_shipments(tmp_path):
    # whole-store PARCEL001 (its statistic changed) folds the counts the scan since kept
    day1, day2 = _parcel_share_days([None, None, None])
    full, inc, info = _increment(tmp_path, day1, day2, "PARCEL001")
    assert any("parcel001_carrier_weighing" in k for k in info["kept"]["folded"])
    assert _rows(inc) == _rows(full)


def _no_old_rows(monkeypatch):
    """The carrier share may not be grouped on the rows the scan since saw: it is read from the
    copy that scan kept."""

    def refuse(self, table):
        raise AssertionError(f"the old rows of {table} were read")

    monkeypatch.setattr(incremental._FileSeason, "old_rows", refuse)


@pytest.mark.parametrize("weights", [[None, None, None], [400]])
def test_the_carrier_share_is_compared_on_the_kept_copy_and_its_fold(
    tmp_path, monkeypatch, weights
):
    # the scan since kept the per-carrier counts: the share before is read from that copy, the
    # share now from it folded with the day's shipments (no shipment of the season grouped), and
    # the increment still equals a full re-scan whether the share moved (SF weighs 2 of 6) or not
    _no_old_rows(monkeypatch)
    day1, day2 = _parcel_share_days(weights)
    full, inc, info = _increment(tmp_path, day1, day2, "PARCEL001")
    moved = info["scopes"]["order"]["full_because"] or ""
    assert ("PARCEL001 changed" in moved) == (weights != [400])
    assert _rows(inc) == _rows(full)


def test_the_carrier_share_before_is_the_kept_copys(tmp_path):
    # a copy saying SF weighed 2 of 5 parcels (under half) where the rows say 2 of 3: folded
    # with the day's weighed parcel, 3 of 6 (half: weighs), so the share "moved" although on
    # the rows it did not (2 of 3, 3 of 4) and PARCEL001 runs whole: the copy is what is read
    day1, day2 = _parcel_share_days([400])
    path = tmp_path / "s.duckdb"
    make_store(path, day1).close()
    engine.scan(path, "cn", checks="PARCEL001")
    con = store.connect(path)
    write_rows(con, day2)
    (table,) = con.execute(
        "SELECT table_name FROM kept_relations WHERE relation_key LIKE '%parcel001_carrier%'"
    ).fetchone()
    con.execute(f"UPDATE {table} SET n_parcels = 5")
    con.close()
    _, info = incremental.scan_since(path, "cn", "last", checks="PARCEL001", save=False)
    assert "PARCEL001 changed" in info["scopes"]["order"]["full_because"]


def test_a_saved_increment_keeps_the_seasons_carrier_counts_and_nothing_scoped(tmp_path):
    # PARCEL001 scoped (its share did not move) and the increment saved: it keeps the season's
    # per-carrier counts for the next day (what a full scan keeps), and no relation built on the
    # scoped tables; the next day folds that copy and equals a full re-scan
    from promoguard.rules.logistics.parcel001_empty_parcel import CARRIER_WEIGHING

    day1, day2 = _parcel_share_days([400])
    path = tmp_path / "s.duckdb"
    make_store(path, day1).close()
    engine.scan(path, "cn", checks="PARCEL001")
    con = store.connect(path)
    write_rows(con, day2)
    con.close()
    inc, info = incremental.scan_since(path, "cn", "last", checks="PARCEL001")
    assert info["rechecked_local"] == ["PARCEL001"]
    con = store.connect(path)
    kept = con.execute(
        "SELECT relation_key, table_name FROM kept_relations WHERE scan_id = ?", [inc.scan_id]
    ).fetchall()
    assert [k for k, _ in kept] == [repr(CARRIER_WEIGHING)]
    assert con.execute(f"SELECT * FROM {kept[0][1]}").fetchall() == [("SF", 4, 3)]
    # day 3: three unweighed SF parcels more (3 of 7): the share moves, read from that copy
    write_rows(
        con,
        {
            "orders": [order(f"d{i}", listing="l_app") for i in range(3)],
            "shipments": [
                {"order_id": f"d{i}", "carrier": "SF", "tracking_no": f"D{i}"} for i in range(3)
            ],
        },
    )
    con.close()
    full_path = tmp_path / "full.duckdb"
    shutil.copy(path, full_path)
    full = engine.scan(full_path, "cn", checks="PARCEL001", save=False)
    again, info = incremental.scan_since(path, "cn", "last", checks="PARCEL001", save=False)
    assert "PARCEL001 changed" in info["scopes"]["order"]["full_because"]
    assert _rows(again) == _rows(full)


# -- merchant_delta: the rules name the merchants the new rows can change -------------------------
#
# Two merchants on two platforms, one listing each, a Double-11 promotion on both. Before it, a
# detail price of 100 each day; on 11-11, 80 shown against a reference of 150. l1 never sold
# (cn's prior price falls back to the lowest price offered, 100), l2 sold at 100 three days
# before: both are PRICE001 findings.

D11 = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)


def _at(days: float, minutes: int = 0) -> dt.datetime:
    return D11 + dt.timedelta(days=days, hours=4, minutes=minutes)


def _obs(lid, days, price, *, ref=None, channel="detail", minutes=0):
    return {
        "listing_id": lid,
        "observed_at": _at(days, minutes),
        "price": Decimal(price),
        "reference_price": None if ref is None else Decimal(ref),
        "channel": channel,
    }


def _sale(oid, lid, days, price="100"):
    return {
        "order_id": oid,
        "listing_id": lid,
        "merchant_id": {"l1": "m1", "l2": "m2"}[lid],
        "buyer_id": "b1",
        "quantity": 1,
        "unit_price": Decimal(price),
        "paid_at": _at(days),
        "status": "confirmed",
    }


def _price_season():
    return {
        "platforms": [{"platform_id": p, "name": p} for p in ("P1", "P2")],
        "merchants": [
            {"merchant_id": "m1", "platform_id": "P1", "name": "One"},
            {"merchant_id": "m2", "platform_id": "P2", "name": "Two"},
        ],
        "listings": [listing("l1", "m1", "P1"), listing("l2", "m2", "P2")],
        "promotions": [
            {
                "promotion_id": f"d11-{p}",
                "platform_id": p,
                "name": "Double 11",
                "starts_at": D11,
                "ends_at": D11 + dt.timedelta(days=1),
            }
            for p in ("P1", "P2")
        ],
        "price_observations": [
            *[_obs(lid, d, "100") for lid in ("l1", "l2") for d in range(-10, 0)],
            _obs("l1", 0, "80", ref="150"),
            _obs("l2", 0, "80", ref="150"),
        ],
        "orders": [_sale("s1", "l2", -3)],
    }


def _entities(result, code):
    f = result.findings
    return set(f[f.check_code == code].entity_id)


def test_a_first_sale_after_every_promotion_changes_no_price_finding(tmp_path):
    # l1's first sale comes after the promotions ended: no prior transaction of any promotion
    # (cn's offered-price fallback is for a listing with no sale before the promotion), so l1 is
    # still judged on its offered price and no merchant is named
    day2 = {"orders": [_sale("late", "l1", 5)]}
    full, inc, info = _increment(tmp_path, _price_season(), day2, "PRICE001,PRICE002,PRICE003")
    # (PRICE003 reads no orders: carried whole)
    assert info["untouched"] == ["PRICE001", "PRICE002"] and info["unchanged"] == ["PRICE003"]
    assert info["scopes"]["merchant_delta"]["keys"] == 0
    assert _entities(full, "PRICE001") == {"l1", "l2"}
    assert _rows(inc) == _rows(full)


def test_rows_after_every_promotion_change_no_price_finding(tmp_path):
    # observations, a reference and a sale of l2 (which sold before) after the promotions ended
    day2 = {
        "price_observations": [_obs("l1", 5, "70", ref="200"), _obs("l2", 6, "60", ref="300")],
        "orders": [_sale("late", "l2", 5, "50")],
    }
    full, inc, info = _increment(tmp_path, _price_season(), day2, "PRICE001,PRICE002,PRICE003")
    # no merchant named: the three are carried whole, none is run
    assert info["untouched"] == ["PRICE001", "PRICE002", "PRICE003"]
    assert info["rechecked_local"] == info["rerun_season"] == []
    assert info["carried"] == len(full.findings) == 2
    assert _rows(inc) == _rows(full)


def test_a_late_row_inside_a_window_rechecks_its_merchant(tmp_path, monkeypatch):
    # a sale of l2 in the look-back, sent late: its prior price drops from 100 to 60
    day2 = {"orders": [_sale("late", "l2", -2, "60")]}
    full, inc, info = _increment(tmp_path, _price_season(), day2, "PRICE001")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    got = full.findings.set_index("entity_id")
    assert '"legal_prior_price":"60.00"' in got.loc["l2", "expected"].replace(" ", "")
    assert _rows(inc) == _rows(full)
    # a scope that took only new listings rows as reaching a merchant would carry the old one
    monkeypatch.setattr(
        type(registry.get("PRICE001")),
        "touched_merchants",
        lambda self, season, new, params: [new.listings.select("merchant_id")],
    )
    _, narrow, _ = _increment(tmp_path, _price_season(), day2, "PRICE001", name="narrow")
    assert _rows(narrow) != _rows(full)


def _lure_season():
    s = _price_season()
    # l1 and l2 on search at 90 while their detail pages say 100 ten minutes later: PRICE004
    s["price_observations"] += [
        _obs(lid, 3, price, channel=channel, minutes=m)
        for lid in ("l1", "l2")
        for price, channel, m in (("90", "search", 0), ("100", "detail", 10))
    ]
    return s


def test_a_late_detail_price_near_a_search_sighting_rechecks_its_listing(tmp_path, monkeypatch):
    # day 2: l1's detail price at 85 five minutes after the sighting (the lure is gone), and a
    # price of l2 far from any sighting of it (changes nothing: l2's finding is carried)
    day2 = {"price_observations": [_obs("l1", 3, "85", minutes=5), _obs("l2", 4, "10")]}
    full, inc, info = _increment(tmp_path, _lure_season(), day2, "PRICE004")
    assert info["scopes"]["listing_delta"]["keys"] == 1
    assert info["rechecked_local"] == ["PRICE004"]
    assert _entities(full, "PRICE004") == {"l2"}
    assert _rows(inc) == _rows(full)

    # tracing only new search/home sightings would keep the lure
    def sightings_only(self, season, new, params):
        n = new.price_observations
        return [n.filter(n.channel.isin(list(params["channels"]))).select("listing_id")]

    monkeypatch.setattr(type(registry.get("PRICE004")), "touched_listings", sightings_only)
    _, narrow, _ = _increment(tmp_path, _lure_season(), day2, "PRICE004", name="narrow")
    assert _entities(narrow, "PRICE004") == {"l1", "l2"}


def test_a_listing_scope_holds_each_listing_whole_not_only_its_new_rows(tmp_path, monkeypatch):
    # day 2: a search sighting of l1 at 70 beside its old detail price of 100 (a new lure,
    # deeper than the old one): the finding reads the listing's old rows as well as the new
    day2 = {"price_observations": [_obs("l1", 3, "70", channel="search", minutes=2)]}
    full, inc, info = _increment(tmp_path, _lure_season(), day2, "PRICE004")
    assert info["scopes"]["listing_delta"]["keys"] == 1
    assert _entities(full, "PRICE004") == {"l1", "l2"}
    assert _rows(inc) == _rows(full)

    # a scope of the new rows alone (no detail price to compare with) would lose l1's finding
    narrow_rows = dict(incremental._LISTING_ROWS_SQL)
    narrow_rows["price_observations"] = (
        "_pg_new_price_observations t SEMI JOIN _pg_listing_keys k USING (listing_id)"
    )
    monkeypatch.setattr(incremental, "_LISTING_ROWS_SQL", narrow_rows)
    _, narrow, _ = _increment(tmp_path, _lure_season(), day2, "PRICE004", name="narrow")
    assert _entities(narrow, "PRICE004") == {"l2"}


def test_a_listing_row_arriving_later_rechecks_its_listing(tmp_path, monkeypatch):
    # day 1: l3's lure (search 90, detail 100 ten minutes later) is observed before the platform
    # sends l3's listings row; day 2 brings the row, and no new price of it
    day1 = _lure_season()
    day1["price_observations"] += [
        _obs("l3", 3, price, channel=channel, minutes=m)
        for price, channel, m in (("90", "search", 0), ("100", "detail", 10))
    ]
    day2 = {"listings": [listing("l3", "m1", "P1")]}
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE004")
    assert info["scopes"]["listing_delta"]["keys"] == 1
    assert _entities(full, "PRICE004") == {"l1", "l2", "l3"}
    assert _rows(inc) == _rows(full)

    # a scope traced from new prices only would never find l3
    def prices_only(self, season, new, params):
        return traced(self, season, new, params)[1:]  # without new.listings

    traced = type(registry.get("PRICE004")).touched_listings
    monkeypatch.setattr(type(registry.get("PRICE004")), "touched_listings", prices_only)
    _, narrow, _ = _increment(tmp_path, day1, day2, "PRICE004", name="narrow")
    assert _entities(narrow, "PRICE004") == {"l1", "l2"}


def test_new_rows_no_listing_rule_names_carry_its_findings_as_they_were(tmp_path):
    # day 2: a detail price of l2 a day after its sighting: no listing is named, and the
    # group's scoped run is on no listing at all
    day2 = {"price_observations": [_obs("l2", 4, "10")]}
    full, inc, info = _increment(tmp_path, _lure_season(), day2, "PRICE004")
    assert info["scopes"]["listing_delta"]["keys"] == 0
    assert _entities(full, "PRICE004") == {"l1", "l2"}
    assert _rows(inc) == _rows(full)


def test_a_new_unlicensed_sale_rechecks_its_merchant_only(tmp_path, monkeypatch):
    day1 = tables(orders=[order("o1", listing="l_food", paid=50)])  # food without a licence
    # day 2: another such sale of m1, and a sale of m2 in apparel, which needs no licence
    day2 = {"orders": [order("o2", listing="l_food", paid=60), order("o3", paid=60)]}
    full, inc, info = _increment(tmp_path, day1, day2, "LIC001")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert '"unlicensed_orders":2' in full.findings.observed.iloc[0].replace(" ", "")
    assert _rows(inc) == _rows(full)
    monkeypatch.setattr(
        type(registry.get("LIC001")),
        "touched_merchants",
        lambda self, season, new, params: [new.licences.select("merchant_id")],
    )
    _, narrow, _ = _increment(tmp_path, day1, day2, "LIC001", name="narrow")
    assert _rows(narrow) != _rows(full)


def _coupon_season():
    """m1 sells l1 (food) with its coupon C1, 50 off from 300; two orders of 2 x 160, O1
    redeemed C1 with nothing taken off (COUPON004), O2 redeemed nothing (yet)."""
    s = tables()

    def sale(oid):
        return {**order(oid, listing="l_food", paid=1), "quantity": 2, "unit_price": "160.00"}

    s["orders"] = [sale("O1"), sale("O2")]
    s["coupons"] = [
        {
            "coupon_id": "C1",
            "platform_id": "P1",
            "merchant_id": "m1",
            "kind": "threshold",
            "announced_at": at(-240),
            "valid_from": at(-72),
            "valid_to": at(48),
        }
    ]
    s["coupon_terms"] = [
        {
            "coupon_id": "C1",
            "effective_at": at(-240),
            "source": source,
            "face_value": Decimal(50),
            "threshold_amount": Decimal(300),
            "scope": "all",
            "stackable": True,
            "disclosure": "prominent" if source == "displayed" else None,
        }
        for source in ("displayed", "applied")
    ]
    s["coupon_redemptions"] = [{"order_id": "O1", "coupon_id": "C1", "discount_amount": Decimal(0)}]
    return s


def test_a_late_redemption_of_an_old_order_rechecks_its_merchant(tmp_path, monkeypatch):
    # day 2: O2's redemption arrives (nothing taken off either), and m2 sells without a coupon
    day2 = {
        "orders": [order("O3", paid=30)],
        "coupon_redemptions": [{"order_id": "O2", "coupon_id": "C1", "discount_amount": 0}],
    }
    full, inc, info = _increment(tmp_path, _coupon_season(), day2, "COUPON004")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert _entities(full, "COUPON004") == {"O1", "O2"}
    assert _rows(inc) == _rows(full)
    # tracing redemptions only through the new orders would miss O2
    monkeypatch.setattr(
        type(registry.get("COUPON004")),
        "touched_merchants",
        lambda self, season, new, params: [
            new.orders.semi_join(season.coupon_redemptions, "order_id").select("merchant_id")
        ],
    )
    _, narrow, _ = _increment(tmp_path, _coupon_season(), day2, "COUPON004", name="narrow")
    assert _entities(narrow, "COUPON004") == {"O1"}


def test_a_late_earlier_use_of_a_one_per_buyer_coupon_resolves_the_later_order(tmp_path):
    # C1 now one per buyer (b1 buys both orders): day 1, O2 (paid at 2) redeemed it with nothing
    # off and no earlier use: flagged. Day 2: O1's redemption (paid at 1) arrives with the ¥50
    # taken off: b1's one use came first, so nothing was due on O2 and its finding is resolved
    day1 = _coupon_season()
    day1["orders"][1]["paid_at"] = at(2)
    for terms in day1["coupon_terms"]:
        terms["per_buyer_cap"] = 1
    day1["coupon_redemptions"] = [{"order_id": "O2", "coupon_id": "C1", "discount_amount": 0}]
    day2 = {"coupon_redemptions": [{"order_id": "O1", "coupon_id": "C1", "discount_amount": 50}]}
    full, inc, info = _increment(tmp_path, day1, day2, "COUPON004")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert _entities(full, "COUPON004") == set()
    assert _rows(inc) == _rows(full)


def test_a_late_cancelled_earlier_use_of_a_one_per_buyer_coupon_leaves_the_later_order(tmp_path):
    # C1 one per buyer: day 1, b1's O2 (paid at 2) redeemed it with nothing off: flagged. Day 2:
    # b1's O1 (paid at 1) arrives, cancelled, with its redemption of ¥50: a cancelled order was
    # never a sale and used nothing, so O2 was still owed the ¥50 (an order's status never
    # changes in a later batch: a stored order sent again with another status is refused)
    day1 = _coupon_season()
    day1["orders"] = [day1["orders"][1]]
    day1["orders"][0]["paid_at"] = at(2)
    for terms in day1["coupon_terms"]:
        terms["per_buyer_cap"] = 1
    day1["coupon_redemptions"] = [{"order_id": "O2", "coupon_id": "C1", "discount_amount": 0}]
    o1 = {**_coupon_season()["orders"][0], "status": "cancelled"}
    day2 = {
        "orders": [o1],
        "coupon_redemptions": [{"order_id": "O1", "coupon_id": "C1", "discount_amount": 50}],
    }
    full, inc, info = _increment(tmp_path, day1, day2, "COUPON004")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert _entities(full, "COUPON004") == {"O2"}
    assert _rows(inc) == _rows(full)


def test_new_coupon_terms_recheck_every_coupon_finding(tmp_path):
    # day 2: C1's displayed terms change (30 off from 300): O1's due discount changes
    terms = {**_coupon_season()["coupon_terms"][0], "effective_at": at(-200)}
    day2 = {"coupon_terms": [{**terms, "face_value": Decimal(30)}]}
    full, inc, info = _increment(tmp_path, _coupon_season(), day2, "COUPON003,COUPON004")
    assert "COUPON003" in info["scopes"]["merchant_delta"]["full_because"]
    assert info["rerun_season"] == ["COUPON003", "COUPON004"]
    assert _rows(inc) == _rows(full)


def test_a_check_naming_most_merchants_runs_whole_the_others_stay_scoped(tmp_path, monkeypatch):
    # late detail prices of both listings inside the look-back (PRICE003 names m1 and m2: over
    # the share), and a sale of l1 (food, no licence: LIC001 names m1 only)
    monkeypatch.setattr(incremental, "SCOPE_SHARE", 0.5)
    day2 = {
        "price_observations": [
            _obs("l1", -1, "130", minutes=30),
            _obs("l2", -1, "130", minutes=30),
        ],
        "orders": [_sale("late", "l1", 5)],
    }
    full, inc, info = _increment(tmp_path, _price_season(), day2, "LIC001,PRICE003")
    assert info["rechecked_local"] == ["LIC001"] and info["rerun_season"] == ["PRICE003"]
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert info["scopes"]["merchant_delta"]["full_because"] is None
    assert "PRICE003" in info["scopes"]["merchant_delta"]["whole_because"]
    assert _entities(full, "LIC001") == {"m1", "m2"}
    assert _rows(inc) == _rows(full)


def test_a_first_sale_of_a_listing_that_never_claimed_a_reduction_names_no_merchant(tmp_path):
    # l3 (m1) never showed a reference price above its price: it has no (listing, promotion)
    # pair, so no PRICE001/002 finding, whether it ever sold or not; its first sale, after the
    # promotions, names no merchant
    day1 = _price_season()
    day1["listings"].append(listing("l3", "m1", "P1"))
    day1["price_observations"] += [_obs("l3", d, "100") for d in range(-10, 2)]
    day2 = {"orders": [{**_sale("late", "l1", 5), "order_id": "l3-first", "listing_id": "l3"}]}
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE001,PRICE002")
    assert info["untouched"] == ["PRICE001", "PRICE002"]
    assert info["scopes"]["merchant_delta"]["keys"] == 0
    assert _entities(full, "PRICE001") == {"l1", "l2"}
    assert _rows(inc) == _rows(full)


def test_new_prices_near_a_sighting_with_no_dearer_detail_price_name_no_listing(tmp_path):
    # day 2: l1 on search at 100 with its detail page at 100 five minutes later: a sighting near
    # a new row, but no detail price above it, so no lure before or after: nothing is re-checked
    day2 = {
        "price_observations": [
            _obs("l1", 5, "100", channel="search"),
            _obs("l1", 5, "100", minutes=5),
        ]
    }
    full, inc, info = _increment(tmp_path, _lure_season(), day2, "PRICE004")
    assert info["scopes"]["listing_delta"]["keys"] == 0
    assert _entities(full, "PRICE004") == {"l1", "l2"}
    assert _rows(inc) == _rows(full)


def test_a_new_row_beside_a_lure_changes_its_evidence_and_rechecks_it(tmp_path, monkeypatch):
    # day 2: a search sighting of l1 at 120, three minutes after its lure (search 90, detail 100
    # ten minutes later): no lure itself, but inside the lure's window, so in its evidence
    day2 = {"price_observations": [_obs("l1", 3, "120", channel="search", minutes=3)]}
    full, inc, info = _increment(tmp_path, _lure_season(), day2, "PRICE004")
    assert info["scopes"]["listing_delta"]["keys"] == 1
    assert _rows(inc) == _rows(full)

    # tracing only the new sightings that are lures themselves would carry the old evidence
    def new_lures_only(self, season, new, params):
        n, po = new.price_observations, season.price_observations
        det = po.filter(po.channel == "detail")
        hit = n.filter(n.channel.isin(list(params["channels"]))).join(
            det,
            [n.listing_id == det.listing_id, n.price < det.price],
        )
        return [new.listings.select("listing_id"), hit.select("listing_id")]

    monkeypatch.setattr(type(registry.get("PRICE004")), "touched_listings", new_lures_only)
    _, narrow, info = _increment(tmp_path, _lure_season(), day2, "PRICE004", name="narrow")
    assert info["scopes"]["listing_delta"]["keys"] == 0
    assert _entities(narrow, "PRICE004") == _entities(full, "PRICE004") == {"l1", "l2"}
    assert _rows(narrow) != _rows(full)


# -- merchant scopes closed under order-listing links ----------------------------------------
#
# An order names its merchant and its listing, and the listing may be another shop's. A merchant
# scope holds its merchants' own rows, and the merchants their orders and listings link to as
# context (``linked_merchants``): without them, an order of m2 on m1's listing had no category
# (LIC001) nor platform (COUPON004) in m2's scope, and a listing's sales by another shop were
# missing from its prior price (PRICE001/002).


@pytest.fixture
def unlinked(monkeypatch):
    """A merchant scope of the keys' own rows only (as before the scope was closed)."""
    monkeypatch.setattr(incremental, "linked_merchants", lambda con, merchants, reads: merchants)


def _cross_sale_days():
    """Day 1: m1 sells l_food (food, which needs a licence m1 lacks). Day 2: m2 sells on m1's
    l_food (an order of m2's on another shop's listing), unlicensed too."""
    day1 = tables(orders=[order("o1", listing="l_food", paid=50)])
    day2 = {"orders": [order("o2", listing="l_food", merchant="m2", paid=60)]}
    return day1, day2


def test_an_order_on_another_shops_listing_is_judged_with_that_listing(tmp_path):
    day1, day2 = _cross_sale_days()
    full, inc, info = _increment(tmp_path, day1, day2, "LIC001")
    # m2 re-checked, with m1 (whose listing its order is) copied as context only
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert info["scopes"]["merchant_delta"]["context"] == 1
    assert _entities(full, "LIC001") == _entities(inc, "LIC001") == {"m1", "m2"}
    # m1's finding (its one order) is carried, not m1's partial re-run's
    assert info["carried"] == 1
    assert _rows(inc) == _rows(full)


def test_without_the_other_shops_listing_the_order_is_missed(tmp_path, unlinked):
    day1, day2 = _cross_sale_days()
    full, inc, info = _increment(tmp_path, day1, day2, "LIC001")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert _entities(inc, "LIC001") == {"m1"}  # o2 has no category in m2's own rows
    assert _rows(inc) != _rows(full)


def _cross_redemption_day():
    """Day 2 of the coupon season: m2 sells 2 x 160 on m1's l_food (O3) and redeems m1's C1
    on it, nothing taken off (COUPON004, O3 m2's order)."""
    o3 = {**order("O3", listing="l_food", merchant="m2", paid=2), "quantity": 2}
    return {
        "orders": [{**o3, "unit_price": "160.00"}],
        "coupon_redemptions": [{"order_id": "O3", "coupon_id": "C1", "discount_amount": 0}],
    }


def test_a_redemption_on_another_shops_listing_is_judged(tmp_path):
    full, inc, info = _increment(tmp_path, _coupon_season(), _cross_redemption_day(), "COUPON004")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert info["scopes"]["merchant_delta"]["context"] == 1
    assert _entities(full, "COUPON004") == _entities(inc, "COUPON004") == {"O1", "O3"}
    assert _rows(inc) == _rows(full)


def test_without_the_other_shops_listing_the_redemption_is_missed(tmp_path, unlinked):
    full, inc, _ = _increment(tmp_path, _coupon_season(), _cross_redemption_day(), "COUPON004")
    assert _entities(inc, "COUPON004") == {"O1"}
    assert _rows(inc) != _rows(full)


def _two_shops_season():
    """The price season with l2's day-0 price claimed as 30% off (PRICE002: from its prior
    price of 100 it is 20%)."""
    s = _price_season()
    s["price_observations"][-1]["claimed_discount_pct"] = Decimal("30")
    return s


#: day 2: m1 sells on m2's l2 at 60 inside l2's look-back, sent late: l2 has orders of two shops,
#: and its prior price drops from 100 (m2's sale) to 60 (m1's)
TWO_SHOPS_DAY = {"orders": [{**_sale("late", "l2", -2, "60"), "merchant_id": "m1"}]}


def test_a_listing_sold_by_two_shops_reads_both_shops_sales(tmp_path):
    full, inc, info = _increment(tmp_path, _two_shops_season(), TWO_SHOPS_DAY, "PRICE001,PRICE002")
    # l2's merchant m2 re-checked (the rules name a listing's merchants), m1 as context
    assert info["rechecked_local"] == ["PRICE001", "PRICE002"]
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert info["scopes"]["merchant_delta"]["context"] == 1
    assert _entities(full, "PRICE001") == {"l1", "l2"} and _entities(full, "PRICE002") == {"l2"}
    got = full.findings.set_index(["check_code", "entity_id"]).expected
    for code in ("PRICE001", "PRICE002"):
        assert '"legal_prior_price":"60.00"' in got[(code, "l2")].replace(" ", "")
    assert _rows(inc) == _rows(full)


def test_without_the_other_shops_sales_the_prior_price_is_stale(tmp_path, unlinked):
    full, inc, _ = _increment(tmp_path, _two_shops_season(), TWO_SHOPS_DAY, "PRICE001,PRICE002")
    got = inc.findings.set_index(["check_code", "entity_id"]).expected
    for code in ("PRICE001", "PRICE002"):  # m1's sale of l2 is not in m2's own rows
        assert '"legal_prior_price":"100.00"' in got[(code, "l2")].replace(" ", "")
    assert _rows(inc) != _rows(full)


def test_the_linked_merchants_are_those_the_orders_and_listings_name():
    """``linked_merchants`` by hand: the keys, the merchants of their orders' listings and of
    other rows of their listings, and of the orders on their listings; nothing further (not the
    other orders on another shop's listing they ordered on), and nothing through a table the
    checks do not read."""
    import duckdb
    import pandas as pd

    con = duckdb.connect()
    con.execute("CREATE TABLE _all_listings (listing_id VARCHAR, merchant_id VARCHAR)")
    con.execute(
        "INSERT INTO _all_listings VALUES ('la', 'A'), ('lb', 'B'), ('lc', 'C'), ('lc', 'E'), "
        "('ld', 'D'), ('lz', 'Z')"
    )
    con.execute("CREATE TABLE _all_orders (listing_id VARCHAR, merchant_id VARCHAR)")
    # A and F order on B's lb; D orders on A's la; C's lc has a row under E too; Z is apart;
    # an order of no merchant on la links none
    con.execute(
        "INSERT INTO _all_orders VALUES ('lb', 'A'), ('lb', 'F'), ('la', 'D'), ('lz', 'Z'), "
        "('la', NULL), ('ld', 'D')"
    )

    def linked(keys, reads):
        frame = pd.DataFrame({"merchant_id": pd.Series(keys, dtype=object)})
        got = incremental.linked_merchants(con, frame, reads)
        return set(got.merchant_id)

    every = {"orders", "listings"}
    assert linked(["A"], every) == {"A", "B", "D"}
    assert linked(["B"], every) == {"A", "B", "F"}  # the orders on B's listing
    assert linked(["C"], every) == {"C", "E"}
    assert linked(["F", "Z"], every) == {"B", "F", "Z"}
    assert linked(["A"], {"listings"}) == {"A"}  # no orders read: only rows of one listing
    assert linked(["C"], {"listings"}) == {"C", "E"}
    assert linked(["A"], {"orders", "licences"}) == {"A"}  # no listings read: nothing links
    assert linked([], every) == set()


def test_context_merchants_findings_are_dropped_from_the_scoped_run():
    """``_Plan.keep`` of a merchant scope keeps the keys' findings only: a context merchant's,
    and one of no merchant, are carried from the scan since instead."""
    import pandas as pd
    import pyarrow as pa

    plan = incremental._Plan(None, "merchant_delta", [])
    plan.keys = pd.DataFrame({"merchant_id": ["m2"]})
    found = pa.table(
        {"finding_id": ["a", "b", "c"], "merchant_id": pa.array(["m1", "m2", None], pa.string())}
    )
    assert plan.keep(found).column("finding_id").to_pylist() == ["b"]


def test_every_check_reads_only_the_columns_it_declares(season_store, season_scan, tmp_path):
    """What lets a scoped copy hold only some columns: a check's ``reads_columns`` is complete.
    Each check declaring them, on the small season with every other column of the tables it
    reads set to NULL (but the keys a scoped copy keeps), finds exactly what it finds on the
    whole season."""
    from promoguard import lake

    declaring = sorted(
        c.code for c in registry.all_checks() if getattr(c, "reads_columns", None) is not None
    )
    assert {"LIC001", "PRICE004"} <= set(declaring)
    full = season_scan.result  # the whole season's cn scan (each check below compared alone)
    wrong = []
    for code in declaring:
        check = registry.get(code)
        path = tmp_path / f"{code}.duckdb"
        shutil.copy(season_store, path)
        con = store.connect(path)
        for table in lake.TABLE_NAMES:
            if table not in check.reads:
                continue
            keep = set(check.reads_columns[table]) | set(incremental._KEY_COLUMNS)
            cols = con.execute(f'DESCRIBE "{table}"').fetchall()
            select = ", ".join(
                f'"{c}"' if c in keep else f'NULL::{t} AS "{c}"' for c, t, *_ in cols
            )
            # rebuilt (its NOT NULL columns would refuse an UPDATE to NULL)
            con.execute(f'CREATE TABLE "_blank" AS SELECT {select} FROM "{table}"')
            con.execute(f'DROP TABLE "{table}"')
            con.execute(f'ALTER TABLE "_blank" RENAME TO "{table}"')
        con.close()
        alone = engine.scan(path, "cn", checks=code, save=False)
        a = full.findings[full.findings.check_code == code]
        b = alone.findings[alone.findings.check_code == code]
        assert len(a) > 10, code  # the small season exercises it
        if sorted(zip(a.finding_id, a.observed, a.expected, a.evidence_sha256, strict=True)) != (
            sorted(zip(b.finding_id, b.observed, b.expected, b.evidence_sha256, strict=True))
        ):
            wrong.append(f"{code} reads more than {check.reads_columns}")
    assert not wrong, wrong


def test_a_scoped_copy_holds_the_declared_columns_and_null_for_the_rest():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE _all_orders (order_id VARCHAR, paid_at TIMESTAMPTZ, buyer_id TEXT)")
    lic, price = registry.get("LIC001"), registry.get("PRICE001")
    got = incremental._copied_columns(con, "orders", [lic])
    assert got == '"t"."order_id", "t"."paid_at", CAST(NULL AS VARCHAR) AS "buyer_id"'
    # one check reading the table without saying which columns: the copy holds them all
    assert getattr(price, "reads_columns", None) is None
    assert incremental._copied_columns(con, "orders", [lic, price]) == "t.*"
    # a check that does not read the table does not widen it
    assert incremental._copied_columns(con, "orders", [lic, registry.get("PRICE004")]) == got


def test_the_order_copies_let_their_season_go():
    # _COPIES holds each scan's order copies under its season as a weak key: the copies must
    # not refer to the season, or every scan_since in a watch loop would keep its own for ever
    import gc

    from promoguard import incremental as inc

    season = inc._FileSeason.__new__(inc._FileSeason)
    copies = inc._order_copies(season)
    assert copies.is_file and season in inc._COPIES
    del season
    gc.collect()
    assert copies not in list(inc._COPIES.values())


def test_a_store_made_before_a_table_existed_reads_it_as_empty(tmp_path):
    # all_views reads the schema only for a table the file lacks: that table must still come
    # out empty with the store's own columns, and the file's other tables as they are
    from promoguard import incremental as inc
    from promoguard import lake, store

    path = tmp_path / "old.duckdb"
    con = store.connect(path)
    con.execute("INSERT INTO platforms (platform_id, name) VALUES ('p1', 'Tmall')")
    con.execute("DROP TABLE reviews")
    con.close()
    views = inc._FileSeason(path, None).all_views()
    try:
        want = list(store.table_schema()["reviews"])
        got = views.execute('DESCRIBE "_all_reviews"').fetchall()
        assert [(r[0], r[1]) for r in got] == want
        assert views.execute('SELECT count(*) FROM "_all_reviews"').fetchone() == (0,)
        assert views.execute('SELECT platform_id FROM "_all_platforms"').fetchall() == [("p1",)]
        for table in lake.TABLE_NAMES:  # every table is there under its _all_ name
            views.execute(f'SELECT count(*) FROM "_all_{table}"').fetchone()
    finally:
        views.close()


#: (order, carrier, number) shipment rows for the order plan's multi-parcel tests: a parcel's rows
#: far apart in storage, a parcel of three rows, one number at two carriers, rows without a number
_PARCEL_ROWS = [
    ("a", "ZTO", "777"),
    ("b", "ZTO", "100"),
    ("c", "YTO", "900"),
    ("d", "SF", "555"),
    ("e", "YTO", "900"),
    ("f", "ZTO", "101"),
    ("g", "ZTO", None),
    ("h", "ZTO", "777"),
    ("i", "ZTO", "555"),
    ("j", "YTO", "900"),
    ("k", "STO", None),
]


@pytest.mark.parametrize("with_rows", [True, False])
def test_the_multi_parcel_rows_are_the_definitions(with_rows):
    # the order plan's rows of numbers two shipment rows share, found by sorting their hashes:
    # the same rows as the SQL definition (_MULTI_PARCEL_ROWS), a parcel's rows far apart in
    # storage, a parcel of three rows, the same number at two carriers (one hash: both kept,
    # the neighbour join tells the parcels apart), two rows without a number; none when no
    # number repeats (and with no shipments at all)
    import duckdb

    rows = _PARCEL_ROWS
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE _all_shipments (order_id VARCHAR, carrier VARCHAR, tracking_no VARCHAR)"
    )
    if with_rows:
        con.executemany("INSERT INTO _all_shipments VALUES (?, ?, ?)", rows)
    incremental._multi_parcel_rows(con)
    got = sorted(con.execute("SELECT * FROM _pg_multi").fetchall(), key=repr)
    con.execute("ALTER TABLE _pg_multi RENAME TO _pg_multi_got")
    con.execute(incremental._MULTI_PARCEL_ROWS)
    assert got == sorted(con.execute("SELECT * FROM _pg_multi").fetchall(), key=repr)
    want = {"a", "h", "c", "e", "j", "d", "i", "g", "k"} if with_rows else set()
    assert {r[0] for r in got} == want


@pytest.mark.parametrize("with_rows", [True, False])
def test_one_pass_finds_the_multi_parcel_rows_and_the_shipments_of_the_new_scans(with_rows):
    # with new scans the order plan reads the multi-parcel rows and the shipments the scans'
    # numbers' hashes reach in one second pass over the shipments: the same multi-parcel rows as
    # the definition (_MULTI_PARCEL_ROWS), and the same orders traced as _ORDERS_OF's own trace:
    # a number at two carriers (one hash: only the scanned carrier's order), rows and a scan
    # without a number (a scan without one names no parcel), a parcel's rows far apart in
    # storage, a parcel scanned twice, a scan of a number no shipment has, an old scan (not new)
    import duckdb

    shipments = _PARCEL_ROWS
    scans = [  # (carrier, tracking_no, new)
        ("ZTO", "101", False),
        ("YTO", "900", False),
        ("ZTO", "555", True),
        ("ZTO", "100", True),
        ("ZTO", None, True),
        ("EMS", "999", True),
        ("ZTO", "100", True),
    ]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE _all_shipments (order_id VARCHAR, carrier VARCHAR, tracking_no VARCHAR)"
    )
    con.execute("CREATE TABLE scans (carrier VARCHAR, tracking_no VARCHAR, new BOOLEAN)")
    if with_rows:
        con.executemany("INSERT INTO _all_shipments VALUES (?, ?, ?)", shipments)
        con.executemany("INSERT INTO scans VALUES (?, ?, ?)", scans)
    new = "(SELECT carrier, tracking_no FROM scans WHERE new)"

    def rows(table: str) -> list:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)

    incremental._multi_parcel_rows(con, new)
    got = rows("_pg_multi")
    traced = {r[0] for r in con.execute(incremental._TRACED.format(new=new)).fetchall()}
    con.execute("DROP TABLE _pg_multi")
    con.execute(incremental._MULTI_PARCEL_ROWS)
    assert got == rows("_pg_multi")
    assert {r[0] for r in got} == (
        {"a", "h", "c", "e", "j", "d", "i", "g", "k"} if with_rows else set()
    )
    defined = incremental._ORDERS_OF["tracking_events"].format(new=new)
    assert traced == {r[0] for r in con.execute(defined).fetchall()}
    assert traced == ({"i", "b"} if with_rows else set())


#: (order, carrier, number, added since the scan) shipment rows for the fold of the hashes two
#: rows share: a number two old rows share and an added row too (a, h, n7), a number one old row
#: has and an added row too (b, n1: shared across the scan's boundary), a number at another
#: carrier across it (c, n2: one hash), an old and an added row without a number (g, n3), two
#: added rows sharing a number between them (n4, n5), an added row of its own (n6), old rows
#: of their own (d, e)
_FOLDED_ROWS = [
    ("a", "ZTO", "777", False),
    ("b", "ZTO", "100", False),
    ("c", "YTO", "300", False),
    ("g", "ZTO", None, False),
    ("d", "ZTO", "555", False),
    ("h", "ZTO", "777", False),
    ("e", "ZTO", "556", False),
    ("n1", "ZTO", "100", True),
    ("n2", "SF", "300", True),
    ("n3", "STO", None, True),
    ("n4", "YTO", "888", True),
    ("n5", "YTO", "888", True),
    ("n6", "ZTO", "999", True),
    ("n7", "ZTO", "777", True),
]


@pytest.mark.parametrize("added", [True, False])
@pytest.mark.parametrize("scanned", [True, False])
def test_the_shared_number_hashes_fold_with_the_added_shipments(added, scanned):
    # the order plan folds the hashes two shipment rows share from the scan since's copy (the
    # definition on its rows) and the rows added since: the same hashes as the definition on
    # every row now, the same multi-parcel rows (_MULTI_PARCEL_ROWS) and the same orders traced
    # from the new scans; with no added row, the copy itself
    import duckdb

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE ships (order_id VARCHAR, carrier VARCHAR, tracking_no VARCHAR, new BOOLEAN)"
    )
    rows = [r for r in _FOLDED_ROWS if added or not r[3]]
    con.executemany("INSERT INTO ships VALUES (?, ?, ?, ?)", rows)
    con.execute("CREATE VIEW _all_shipments AS SELECT order_id, carrier, tracking_no FROM ships")
    shared = "SELECT hash(tracking_no) AS h FROM {t} GROUP BY h HAVING count(*) > 1"
    con.execute("CREATE TABLE before AS " + shared.format(t="ships WHERE NOT new"))
    con.execute(
        "CREATE TABLE scans AS SELECT * FROM (VALUES ('ZTO', '100'), ('ZTO', '555'), "
        "('YTO', '888'), ('EMS', '404')) v(carrier, tracking_no)"
    )
    new = "(SELECT order_id, carrier, tracking_no FROM ships WHERE new)" if added else None
    scans = "(SELECT * FROM scans)" if scanned else None

    def got(query: str) -> list:
        return sorted(con.execute(query).fetchall(), key=repr)

    incremental._multi_parcel_rows(con, scans, "before", new)
    twice = got("SELECT h FROM _pg_twice")
    multi = got("SELECT * FROM _pg_multi")
    assert twice == got(shared.format(t="_all_shipments"))
    con.execute("DROP TABLE _pg_multi")
    con.execute(incremental._MULTI_PARCEL_ROWS)
    assert multi == got("SELECT * FROM _pg_multi")
    want = {"a", "h", "b", "n1", "c", "n2", "g", "n3", "n4", "n5", "n7"} if added else {"a", "h"}
    assert {r[0] for r in multi} == want
    if not added:
        assert twice == got("SELECT h FROM before")
    if scanned:
        traced = {r[0] for r in got(incremental._TRACED.format(new=scans))}
        defined = incremental._ORDERS_OF["tracking_events"].format(new=scans)
        assert traced == {r[0] for r in got(defined)}
        assert traced == ({"b", "n1", "d", "n4", "n5"} if added else {"b", "d"})


def _shared_number_days():
    """Day 1: a and b share ZTO 777, e has 500 alone; day 2: c, on a number of its own; day 3:
    d on e's number (one old row: shared across the scan's boundary: e is d's neighbour only
    through that hash), a scan of c's parcel, and a second parcel of a's (a re-checked, b read as
    its neighbour through 777, whose hash only the kept copy holds: no row of the day has it)."""
    day1 = tables(
        orders=[order(o, listing="l_app") for o in ("a", "b", "e")],
        shipments=[("a", "ZTO", "777", 500), ("b", "ZTO", "777", 500), ("e", "ZTO", "500", 500)],
    )
    day2 = {
        "orders": [order("c", listing="l_app")],
        "shipments": [{"order_id": "c", "carrier": "ZTO", "tracking_no": "600"}],
    }
    day3 = {
        "orders": [order("d", listing="l_app")],
        "shipments": [
            {"order_id": "d", "carrier": "ZTO", "tracking_no": "500"},
            {"order_id": "a", "carrier": "ZTO", "tracking_no": "901"},
        ],
        "tracking_events": [
            {
                "carrier": "ZTO",
                "tracking_no": "600",
                "event_at": at(30),
                "event_type": "pickup",
                "city": "上海",
            }
        ],
    }
    return day1, day2, day3


def _kept_of(con, scan_id):
    """The kept relations scan ``scan_id`` saved: key text -> table."""
    rows = con.execute(
        "SELECT relation_key, table_name FROM kept_relations WHERE scan_id = ?", [scan_id]
    ).fetchall()
    return dict(rows)


def _saved_then_appended(tmp_path, checks):
    """Day 1 scanned in full (saved), day 2 by a saved ``scan --since``, day 3 appended: the
    store, and that increment's kept relations (key text -> table)."""
    day1, day2, day3 = _shared_number_days()
    path = tmp_path / "s.duckdb"
    make_store(path, day1).close()
    engine.scan(path, "cn", checks=checks)
    con = store.connect(path)
    write_rows(con, day2)
    con.close()
    inc, _ = incremental.scan_since(path, "cn", "last", checks=checks)
    con = store.connect(path)
    kept = _kept_of(con, inc.scan_id)
    write_rows(con, day3)
    con.close()
    return path, kept


def _rescanned(monkeypatch, tmp_path, path, checks):
    """(what each call of the order plan's multi-parcel rows folded from, a full re-scan of a
    copy of ``path``, the unsaved increment since the last scan and its info)."""
    folded_from = []
    multi = incremental._multi_parcel_rows

    def spy(con, scans=None, before=None, added=None):
        folded_from.append(before)
        multi(con, scans, before, added)

    monkeypatch.setattr(incremental, "_multi_parcel_rows", spy)
    full_path = tmp_path / "full.duckdb"
    shutil.copy(path, full_path)
    full = engine.scan(full_path, "cn", checks=checks, save=False)
    inc, info = incremental.scan_since(path, "cn", "last", checks=checks, save=False)
    return folded_from, full, inc, info


def _folds_the_copy_as_a_full_rescan_finds(monkeypatch, tmp_path, path, checks, copy):
    """Day 3's increment folds the multi-parcel rows from the store's ``copy`` (a table name),
    re-checks the order checks by order, and finds what a full re-scan finds: d on e's number,
    and a second parcel of a's (a and its neighbour b re-checked)."""
    folded_from, full, inc, info = _rescanned(monkeypatch, tmp_path, path, checks)
    assert len(folded_from) == 1 and copy in folded_from[0]  # the store's copy
    assert {"SHIP002", "SHIP004"} <= set(info["rechecked_local"])
    assert set(full.findings[full.findings.check_code == "SHIP002"].entity_id) == {
        "a",
        "b",
        "d",
        "e",
    }
    assert _rows(inc) == _rows(full)


@pytest.mark.parametrize("checks", ["SHIP002,SHIP004", "SHIP002,SHIP004,PARCEL001"])
def test_a_saved_increment_keeps_the_shared_number_hashes_and_the_next_folds_them(
    tmp_path, monkeypatch, checks
):
    # the first increment after a full scan folds the hashes two shipment rows share from
    # SHIP002's copy, and (saved) keeps them, beside PARCEL001's counts when it is in the group
    # (not SHIP002's own: its scoped run holds the scope's rows alone); the
    # next day folds that copy with its shipments and equals a full re-scan: d on e's number,
    # and a second parcel of a's (a and its neighbour b re-checked)
    path, kept = _saved_then_appended(tmp_path, checks)
    text = repr(incremental.SHARED_NUMBER_HASHES)
    assert text in kept
    assert len(kept) == (2 if "PARCEL001" in checks else 1)
    con = store.connect(path)
    assert con.execute(f"SELECT h FROM {kept[text]}").fetchall() == [
        con.execute("SELECT hash('777')").fetchone()
    ]
    con.close()
    _folds_the_copy_as_a_full_rescan_finds(monkeypatch, tmp_path, path, checks, kept[text])


def _full_then_appended(tmp_path, checks):
    """Day 1 scanned in full (saved), day 3 appended (d on e's number, a second parcel of a's,
    a scan of a number no shipment has): the store, and the full scan's kept relations."""
    day1, _, day3 = _shared_number_days()
    path = tmp_path / "s.duckdb"
    make_store(path, day1).close()
    base = engine.scan(path, "cn", checks=checks)
    con = store.connect(path)
    kept = _kept_of(con, base.scan_id)
    write_rows(con, day3)
    con.close()
    return path, kept


def test_the_first_increment_after_a_full_scan_folds_the_hashes_ship002_kept(tmp_path, monkeypatch):
    # a saved full scan keeps SHIP002's hashes of the numbers two shipment rows have (as
    # Ibis's signed integers); the first increment after it folds them, read back as the
    # plan's own, instead of sorting every hash of the season, and equals a full re-scan
    path, kept = _full_then_appended(tmp_path, "SHIP002,SHIP004")
    text = repr(SHIPMENT_SHARED_HASHES)
    assert text in kept and repr(incremental.SHARED_NUMBER_HASHES) not in kept
    con = store.connect(path)
    (h,) = [h for t, h in incremental._shared_number_copies() if t == text]
    assert con.execute(f"SELECT {h} FROM {kept[text]}").fetchall() == [
        con.execute("SELECT hash('777')").fetchone()
    ]
    con.close()
    _folds_the_copy_as_a_full_rescan_finds(
        monkeypatch, tmp_path, path, "SHIP002,SHIP004", kept[text]
    )


@pytest.mark.parametrize("after", ["an increment", "a full scan"])
def test_the_shared_number_hashes_are_read_from_the_kept_copy(tmp_path, after):
    # the fold reads the copy the scan since kept (the order plan's after an increment,
    # SHIP002's after a full scan), not the season: the copy without a and b's hash (777), and
    # a's parcel of day 3 no longer reaches b (a is then judged without its neighbour: not the
    # full re-scan's finding)
    if after == "an increment":
        path, kept = _saved_then_appended(tmp_path, "SHIP002,SHIP004")
        key = incremental.SHARED_NUMBER_HASHES
    else:
        path, kept = _full_then_appended(tmp_path, "SHIP002,SHIP004")
        key = SHIPMENT_SHARED_HASHES
    con = store.connect(path)
    con.execute(f"DELETE FROM {kept[repr(key)]}")
    con.close()
    full_path = tmp_path / "full.duckdb"
    shutil.copy(path, full_path)
    full = engine.scan(full_path, "cn", checks="SHIP002,SHIP004", save=False)
    inc, _ = incremental.scan_since(path, "cn", "last", checks="SHIP002,SHIP004", save=False)
    assert _rows(inc) != _rows(full)


def test_an_unsaved_increment_keeps_no_shared_number_hashes(tmp_path):
    # save=False writes nothing for the store (the scoped run is handed no kept state for it)
    day1, day2, _ = _shared_number_days()
    path = tmp_path / "s.duckdb"
    make_store(path, day1).close()
    engine.scan(path, "cn", checks="SHIP002")
    con = store.connect(path)
    write_rows(con, day2)
    con.close()
    inc, _ = incremental.scan_since(path, "cn", "last", checks="SHIP002", save=False)
    assert inc.kept == []


# -- a platform coupon's per-buyer cap is counted across the platform's shops (COUPON004) --------
#
# Shops mA, mB, mD of platform P1, a ¥100 listing each, and a platform ¥20 红包 one per buyer.
# A use at one shop changes what is due at another: the rule names those shops, and a scope
# copies the other shops' orders its findings read (``context_orders``).


def _shops_season():
    """b1's order at mB (placed at 2) redeemed the 红包 with nothing off: no earlier use, flagged.
    b1's order at mA, placed at 1, is stored without its redemption (it comes late). b2 used the
    红包 at mD (at 1) and got nothing at mB (at 3): nothing due, b2's one use was at mD."""

    def sale(oid, shop, buyer, hours):
        return {
            "order_id": oid,
            "listing_id": f"l{shop}",
            "merchant_id": f"m{shop}",
            "buyer_id": buyer,
            "quantity": 1,
            "unit_price": Decimal(100),
            "paid_at": at(hours),
            "status": "paid",
        }

    def use(oid, amount):
        return {"order_id": oid, "coupon_id": "PLAT", "discount_amount": Decimal(amount)}

    return {
        "platforms": [{"platform_id": "P1", "name": "Mall"}],
        "merchants": [
            {"merchant_id": f"m{s}", "platform_id": "P1", "name": s} for s in ("A", "B", "D")
        ],
        "listings": [listing(f"l{s}", f"m{s}", "P1") for s in ("A", "B", "D")],
        "orders": [
            sale("OA", "A", "b1", 1),
            sale("OB", "B", "b1", 2),
            sale("OD", "D", "b2", 1),
            sale("OB2", "B", "b2", 3),
        ],
        "coupons": [
            {
                "coupon_id": "PLAT",
                "platform_id": "P1",
                "merchant_id": None,
                "kind": "red_envelope",
                "announced_at": at(-240),
                "valid_from": at(-72),
                "valid_to": at(48),
            }
        ],
        "coupon_terms": [
            {
                "coupon_id": "PLAT",
                "effective_at": at(-240),
                "source": source,
                "face_value": Decimal(20),
                "scope": "all",
                "stackable": True,
                "per_buyer_cap": 1,
                "disclosure": "prominent" if source == "displayed" else None,
            }
            for source in ("displayed", "applied")
        ],
        "coupon_redemptions": [use("OB", 0), use("OD", 20), use("OB2", 0)],
    }


#: day 2: OA's redemption arrives late: b1 used the 红包 at mA (at 1) before mB's order (at 2)
LATE_USE_AT_A = {
    "coupon_redemptions": [{"order_id": "OA", "coupon_id": "PLAT", "discount_amount": 20}]
}


def test_a_late_platform_coupon_use_at_one_shop_resolves_anothers_finding(tmp_path, monkeypatch):
    full, inc, info = _increment(tmp_path, _shops_season(), LATE_USE_AT_A, "COUPON004")
    # mA (the new redemption's order) and mB (b1's later order of the coupon) re-checked, mD's
    # order copied as context for b2's order at mB
    assert info["scopes"]["merchant_delta"]["keys"] == 2
    assert _entities(full, "COUPON004") == set()
    assert _rows(inc) == _rows(full)
    # the merchants as named before (the new redemption's order's only) carry OB's finding
    monkeypatch.setattr(
        type(registry.get("COUPON004")),
        "touched_merchants",
        lambda self, season, new, params: [
            season.orders.semi_join(new.coupon_redemptions, "order_id").select("merchant_id")
        ],
    )
    _, narrow, _ = _increment(tmp_path, _shops_season(), LATE_USE_AT_A, "COUPON004", name="n")
    assert _entities(narrow, "COUPON004") == {"OB"}
    assert _rows(narrow) != _rows(full)


def test_a_rechecked_shop_reads_its_buyers_platform_coupon_uses_at_other_shops(
    tmp_path, monkeypatch
):
    # day 2: b3 buys at mB without a coupon: mB re-checked alone. b2's order there (OB2) is due
    # nothing only with b2's use at mD, which is no key's and no linked merchant's row
    day2 = {
        "orders": [
            {**_shops_season()["orders"][1], "order_id": "OB3", "buyer_id": "b3", "paid_at": at(5)}
        ],
        "coupon_redemptions": [{"order_id": "OB3", "coupon_id": "PLAT", "discount_amount": 20}],
    }
    full, inc, info = _increment(tmp_path, _shops_season(), day2, "COUPON004")
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert _entities(full, "COUPON004") == {"OB"}
    assert _rows(inc) == _rows(full)
    # without the context orders, mB's copy lacks OD: OB2 is owed the ¥20 there
    monkeypatch.delattr(type(registry.get("COUPON004")), "context_orders")
    _, narrow, _ = _increment(tmp_path, _shops_season(), day2, "COUPON004", name="n")
    assert _entities(narrow, "COUPON004") == {"OB", "OB2"}
    assert _rows(narrow) != _rows(full)


def test_a_late_platform_coupon_use_at_the_same_instant_resolves_anothers_finding(tmp_path):
    """b1's cart checked out at mA (OZ) and mB (OB) at one instant; the 红包 went to OZ, whose
    redemption comes late. OZ took it (OB's order id sorts first): OB at mB owes nothing, and
    the increment re-checks mB (b1's order of the coupon at the same instant as the new use)."""
    day1 = _shops_season()
    day1["orders"][0] = {**day1["orders"][0], "order_id": "OZ", "paid_at": at(2)}
    day2 = {"coupon_redemptions": [{"order_id": "OZ", "coupon_id": "PLAT", "discount_amount": 20}]}
    full, inc, info = _increment(tmp_path, day1, day2, "COUPON004")
    assert info["scopes"]["merchant_delta"]["keys"] == 2
    assert _entities(full, "COUPON004") == set()
    assert _rows(inc) == _rows(full)


# -- PRICE005: another shop's MSRP label on a listing of the same title ---------------------------
# m1 (the brand) labels 3999 as the MSRP on fs; m2 (a reseller) strikes 3999 through as 原价 on
# rs, of the same title, and sold rs at 3999 in the week before (its own former price: lawful).


def _resale_season():
    def sale(oid, days, price):
        return {
            "order_id": oid,
            "listing_id": "rs",
            "merchant_id": "m2",
            "buyer_id": "b1",
            "quantity": 1,
            "unit_price": Decimal(price),
            "paid_at": _at(days),
            "status": "confirmed",
        }

    season = {
        "platforms": [{"platform_id": "P1", "name": "P1"}],
        "merchants": [
            {"merchant_id": m, "platform_id": "P1", "name": m} for m in ("m1", "m2", "m3")
        ],
        "listings": [
            listing("fs", "m1", "P1", title="云鲸 J5 扫拖机器人"),
            listing("rs", "m2", "P1", title="云鲸 J5 扫拖机器人"),
            listing("x3", "m3", "P1", title="其他"),
        ],
        "promotions": [
            {
                "promotion_id": "d11",
                "platform_id": "P1",
                "name": "Double 11",
                "starts_at": D11,
                "ends_at": D11 + dt.timedelta(days=1),
            }
        ],
        "price_observations": [
            {**_obs("fs", -8, "3599", ref="3999"), "reference_label": "厂商指导价"},
            {**_obs("rs", 0, "2999", ref="3999"), "reference_label": "原价"},
        ],
        "orders": [sale("s1", -3, "3999")],
    }
    # day 2: a late sale of rs at 3299 inside its week: its former price falls below 3999
    return season, {"orders": [sale("late", -2, "3299")]}


@pytest.fixture
def no_title_context(monkeypatch):
    """A merchant scope without other shops' listings of its titles (as before they were
    context)."""
    monkeypatch.setattr(incremental, "_context_listings", lambda *a: None)


def test_another_shops_msrp_label_is_read_in_the_resellers_scope(tmp_path):
    day1, day2 = _resale_season()
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE005")
    # rs's shop re-checked for its new sale, the brand's listing of the title copied as context
    # (with its label), not the brand's shop
    assert info["scopes"]["merchant_delta"]["keys"] == 1
    assert info["scopes"]["merchant_delta"]["context"] == 0
    assert info["scopes"]["merchant_delta"]["context_listings"] == 1
    assert _entities(full, "PRICE005") == {"rs"}
    assert '"msrp_source":"other_shop_label"' in full.findings.expected.iloc[0].replace(" ", "")
    assert _rows(inc) == _rows(full)


def test_without_the_same_title_shops_the_resellers_finding_is_missed(tmp_path, no_title_context):
    day1, day2 = _resale_season()
    full, inc, _ = _increment(tmp_path, day1, day2, "PRICE005")
    assert _entities(inc, "PRICE005") == set()  # m1's label is not in m2's own rows
    assert _rows(inc) != _rows(full)


def test_a_late_msrp_label_rechecks_every_shop_of_the_title(tmp_path, monkeypatch):
    day1, _ = _resale_season()
    day1["orders"][0]["unit_price"] = Decimal("3299")  # rs's former price: 3299
    label = day1["price_observations"].pop(0)  # the brand's label comes on day 2
    full, inc, info = _increment(tmp_path, day1, {"price_observations": [label]}, "PRICE005")
    assert _entities(full, "PRICE005") == {"rs"}
    assert info["scopes"]["merchant_delta"]["keys"] == 2  # m1 (its row) and m2 (its title)
    assert _rows(inc) == _rows(full)
    # naming only the shop of the new row would carry rs's old verdict (none)
    monkeypatch.setattr(
        type(registry.get("PRICE005")),
        "touched_merchants",
        lambda self, season, new, params: [
            season.listings.semi_join(new.price_observations, "listing_id").select("merchant_id")
        ],
    )
    _, narrow, _ = _increment(
        tmp_path, day1, {"price_observations": [label]}, "PRICE005", name="narrow"
    )
    assert _rows(narrow) != _rows(full)


def _crowded(day1, n, shop="m3"):
    """``day1`` with ``n`` more listings of the title, of shop ``shop``."""
    day1["listings"] += [listing(f"c{i}", shop, "P1", title="云鲸 J5 扫拖机器人") for i in range(n)]
    return day1


def test_a_new_listing_taking_a_title_over_the_cap_rechecks_its_shops(tmp_path):
    # 50 listings of the title (fs, rs and 48 of m3's): rs is found on the brand's label. A 51st
    # listing of m3's comes: no shop's label counts for the others, rs's finding goes
    from promoguard.rules.pricing.price005_unlabelled_manufacturer_price import (
        MAX_SAME_TITLE_ON_PLATFORM as CAP,
    )

    day1, _ = _resale_season()
    day1["orders"][0]["unit_price"] = Decimal("3299")  # rs's former price: 3299
    day1 = _crowded(day1, CAP - 2)
    day2 = {"listings": [listing("late", "m3", "P1", title="云鲸 J5 扫拖机器人")]}
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE005")
    assert _entities(full, "PRICE005") == set()
    assert info["scopes"]["merchant_delta"]["keys"] == 3  # every shop of the title
    assert _rows(inc) == _rows(full)
    # a title over the cap before the day names no shop for a new listing of it
    day1, _ = _resale_season()
    day1 = _crowded(day1, CAP)
    day2 = {"listings": [listing("late", "m3", "P1", title="云鲸 J5 扫拖机器人")]}
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE005", name="over")
    assert info["scopes"]["merchant_delta"]["keys"] == 1  # m3 alone: its new listing row
    assert _rows(inc) == _rows(full)


def test_the_scoped_copy_counts_a_titles_listings_as_the_season_does(tmp_path, no_title_context):
    # the title is on 51 listings (over the cap): the brand's label counts for no one. Day 2 a
    # late sale of rs (m2) and a new listing of the brand's (m1) make both shops keys: without
    # the other listings of the title a scoped copy holds two of them and reads the brand's
    # label as rs's MSRP
    day1, day2 = _resale_season()
    day1 = _crowded(day1, 49)
    day2["listings"] = [listing("new1", "m1", "P1", title="其他商品")]
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE005")
    assert _entities(full, "PRICE005") == set()
    assert info["scopes"]["merchant_delta"]["keys"] == 2
    assert _entities(inc, "PRICE005") == {"rs"}  # without the context listings: wrong
    assert _rows(inc) != _rows(full)


def test_with_the_titles_listings_the_scoped_copy_counts_right(tmp_path):
    day1, day2 = _resale_season()
    day1 = _crowded(day1, 49)
    day2["listings"] = [listing("new1", "m1", "P1", title="其他商品")]
    full, inc, info = _increment(tmp_path, day1, day2, "PRICE005,LIC001")
    assert info["scopes"]["merchant_delta"]["context_listings"] == 49
    assert _rows(inc) == _rows(full)


def test_a_generic_title_keeps_the_merchant_checks_scoped(tmp_path, monkeypatch):
    # 30 shops sell a listing titled 纸巾; a new sale at one of them before its 原价 re-checks that
    # shop only
    # (its title's other listings are copied as rows, not their 29 shops), LIC001 beside it
    monkeypatch.setattr(incremental, "SCOPE_SHARE", 0.5)
    shops = [f"g{i}" for i in range(30)]
    day1 = {
        "platforms": [{"platform_id": "P1", "name": "P1"}],
        "merchants": [{"merchant_id": m, "platform_id": "P1", "name": m} for m in shops],
        "listings": [listing(f"l{m}", m, "P1", title="纸巾") for m in shops],
        "promotions": _resale_season()[0]["promotions"],
        "price_observations": [{**_obs("lg1", 0, "9", ref="12"), "reference_label": "原价"}],
        "orders": [],
    }
    sale = {
        "order_id": "s1",
        "listing_id": "lg1",
        "merchant_id": "g1",
        "buyer_id": "b1",
        "quantity": 1,
        "unit_price": Decimal("9"),
        "paid_at": _at(-2),
        "status": "confirmed",
    }
    full, inc, info = _increment(tmp_path, day1, {"orders": [sale]}, "PRICE005,LIC001")
    scope = info["scopes"]["merchant_delta"]
    assert scope["keys"] == 1 and scope["context"] == 0 and scope["context_listings"] == 29
    assert set(info["rechecked_local"]) == {"PRICE005", "LIC001"}
    assert _rows(inc) == _rows(full)
