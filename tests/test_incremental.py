"""An incremental scan (``scan --since``) gives exactly the findings of a full re-scan, on a lake
and on a DuckDB file.

The small season is cut in two batches: the second holds the rows after 8 November of about a
third of the merchants (what a daily export adds), the first everything else. Scan after the
first, ingest the second, then scan incrementally and in full: identical findings, check by check.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from promoguard import incremental, lake, monitor
from promoguard.engine import registry

COLUMNS = ["finding_id", "observed", "expected", "evidence_sha256"]
SPLIT = "TIMESTAMPTZ '2026-11-08 00:00:00+00'"
STAMP = {
    "price_observations": "observed_at",
    "orders": "paid_at",
    "tracking_events": "event_at",
    "reviews": "created_at",
    "texts": "created_at",
}
SOME = "(SELECT merchant_id FROM merchants WHERE hash(merchant_id) % 3 = 0)"
MERCHANT = {
    "orders": "merchant_id",
    "texts": "merchant_id",
    "price_observations": "(SELECT merchant_id FROM listings l WHERE l.listing_id = x.listing_id)",
    "reviews": "(SELECT merchant_id FROM listings l WHERE l.listing_id = x.listing_id)",
    "tracking_events": (
        "(SELECT o.merchant_id FROM shipments s JOIN orders o USING (order_id) "
        "WHERE s.carrier = x.carrier AND s.tracking_no = x.tracking_no LIMIT 1)"
    ),
}


def _split(season, out):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = [f for f in season.glob("*.csv") if f.stem != "ground_truth"]
    for f in files:
        con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv('{f}', all_varchar = true)")
    for b in ("day1", "day2"):
        (out / b).mkdir()
    for f in files:
        t = f.stem
        if t in STAMP:
            later = f"CAST({STAMP[t]} AS TIMESTAMPTZ) >= {SPLIT} AND {MERCHANT[t]} IN {SOME}"
        elif t == "shipments":
            later = (
                f"order_id IN (SELECT order_id FROM orders WHERE CAST(paid_at AS TIMESTAMPTZ) "
                f">= {SPLIT} AND merchant_id IN {SOME})"
            )
        else:
            later = "false"
        for b, cond in (("day1", f"NOT ({later})"), ("day2", later)):
            con.execute(f"COPY (SELECT * FROM {t} x WHERE {cond}) TO '{out / b / f.name}' (HEADER)")
    con.close()


@pytest.fixture(scope="module")
def two_day_lake(season_dir, tmp_path_factory):
    """A lake scanned after day 1, then given day 2: (lake, first scan id, day-2 folder)."""
    work = tmp_path_factory.mktemp("incremental")
    _split(season_dir, work)
    root = work / "lake"
    lake.ingest(work / "day1", root)
    first = lake.scan(root, "cn")
    lake.ingest(work / "day2", root)
    return root, first.scan_id, work / "day2"


@pytest.fixture(scope="module")
def two_day_file(season_dir, tmp_path_factory):
    """A DuckDB file scanned after day 1, then given day 2: (store, first scan id)."""
    from promoguard import engine
    from promoguard.ingest import ingest_dir

    work = tmp_path_factory.mktemp("incremental-file")
    _split(season_dir, work)
    path = work / "season.duckdb"
    ingest_dir(work / "day1", path)
    first = engine.scan(path, "cn")
    ingest_dir(work / "day2", path)
    return path, first.scan_id


@pytest.fixture(scope="module")
def two_day_full(two_day_file):
    """A full re-scan (cn, not saved) of :func:`two_day_file`'s store after day 2: what each
    increment since the day-1 scan must equal (the scans that watch how a full scan runs make
    their own)."""
    from promoguard import engine

    # (an unsaved scan reads the store through a read-only connection: no copy needed)
    full = engine.scan(two_day_file[0], "cn", save=False)
    assert len(full.findings) > 1000  # the frame built once, here
    return full


def differences(full, inc):
    """Per check, where the two scans' findings differ (ids, observed, expected, evidence)."""
    out = []
    for code in sorted(set(full.findings.check_code) | set(inc.findings.check_code)):
        a = full.findings[full.findings.check_code == code].sort_values("finding_id")[COLUMNS]
        b = inc.findings[inc.findings.check_code == code].sort_values("finding_id")[COLUMNS]
        if not a.reset_index(drop=True).equals(b.reset_index(drop=True)):
            out.append(f"{code}: full {len(a)}, incremental {len(b)}")
    return out


def test_incremental_scan_of_a_duckdb_file_equals_a_full_rescan(
    two_day_file, two_day_full, tmp_path
):
    from promoguard import store

    path, first = two_day_file
    inc_path = tmp_path / "inc.duckdb"
    shutil.copy(path, inc_path)
    full = two_day_full
    inc, info = incremental.scan_since(inc_path, "cn", "last")
    assert info["since"] == first and info["store"] == "file" and info["batches"] == 1
    assert 0 < info["affected_merchants"] < 120
    assert info["carried"] > 0 and info["full_because"] is None
    # day 2 brings no coupons, terms or prize promotions: the checks reading only those carried
    assert {"COUPON001", "COUPON002", "PRIZE002", "PRIZE003"} <= set(info["unchanged"])
    assert set(info["rechecked_local"]) | set(info["untouched"]) == {
        c.code for c in registry.all_checks() if incremental.depends_on(c) != "season"
    } - set(info["unchanged"])
    assert not differences(full, inc), differences(full, inc)
    assert len(full.findings) > 1000
    # what ran on what: the whole store's coverage, not the re-checked merchants'
    assert inc.coverage == full.coverage
    # saved like any scan, with its own row marks: the next --since starts from it
    con = store.connect(inc_path, read_only=True)
    try:
        d = monitor.delta(con, inc.scan_id, previous=first)
        marks = dict(
            con.execute(
                "SELECT table_name, row_count FROM scan_marks WHERE scan_id = ?", [inc.scan_id]
            ).fetchall()
        )
        assert marks == store.row_marks(con)
    finally:
        con.close()
    s = monitor.summary(d)
    assert s["new"] + s["still"] == len(inc.findings) and s["still"] > 0
    # nothing ingested since: nothing to re-check, every finding carried
    again, info2 = incremental.scan_since(inc_path, "cn", "last", save=False)
    assert info2["batches"] == 0 and info2["rechecked_local"] == info2["rerun_season"] == []
    assert set(info2["unchanged"]) == set(inc.coverage) and info2["carried"] == len(inc.findings)
    assert again.coverage == full.coverage
    assert not differences(full, again)


def test_the_rechecked_merchants_are_scanned_on_every_thread(two_day_file, tmp_path, monkeypatch):
    # The scoped tables live in a private in-memory database as ordinary tables: other cursors
    # see them, so the merchant checks run on the scan's threads like a full scan (temporary
    # tables, which only their own connection sees, held an increment to one thread).
    from promoguard.engine import backends
    from promoguard.engine import run as eng

    seen = []
    real = eng.scan_threads

    def spy(tables, n):
        seen.append((n, backends.can_share_cursors(tables.backend)))
        return real(tables, n)

    monkeypatch.setattr(eng, "scan_threads", spy)
    path, _ = two_day_file
    shutil.copy(path, tmp_path / "inc.duckdb")
    _, info = incremental.scan_since(tmp_path / "inc.duckdb", "cn", "last", save=False)
    parts = [len(s["checks"]) for s in info["scopes"].values() if s["full_because"] is None]
    # (merchant_delta, listing_delta, order with PARCEL001, text)
    assert len(parts) == 4 and all((n, True) in seen for n in parts)
    assert all(shared for _, shared in seen)


def test_the_parts_hold_their_findings_for_the_combine(two_day_file, tmp_path, monkeypatch):
    """Each part of an increment hands its findings to the combine, which reads them into
    memory at once: they are held, not written to Parquet and read back, even where a full
    scan spills every table of them (``SPILL_BYTES`` 1); the findings are the full scan's."""
    from promoguard import engine
    from promoguard.engine import run as eng

    path, _ = two_day_file
    for name in ("full", "inc"):
        shutil.copy(path, tmp_path / f"{name}.duckdb")
    written: list[int] = []
    real = eng.write_parquet

    def spy(table, out, documents=False):
        if not documents:  # (findings; documents are staged as before)
            written.append(table.num_rows)
        real(table, out, documents)

    monkeypatch.setattr(eng, "write_parquet", spy)
    monkeypatch.setattr(eng.HeldFindings, "SPILL_BYTES", 1)
    full = engine.scan(tmp_path / "full.duckdb", "cn", save=False)
    assert sum(written) == len(full.findings)  # a full scan spills every check's findings
    written.clear()
    inc, info = incremental.scan_since(tmp_path / "inc.duckdb", "cn", "last", save=False)
    assert info["rechecked_local"] and info["rerun_season"]  # scoped and whole-store parts ran
    assert written == []
    assert not differences(full, inc)


def test_a_scan_without_row_marks_falls_back_to_a_full_scan(two_day_file, tmp_path):
    """A scan made before marks were kept cannot say which rows are new: all is re-checked."""
    path, first = two_day_file
    inc_path = tmp_path / "inc.duckdb"
    shutil.copy(path, inc_path)
    con = duckdb.connect(str(inc_path))
    con.execute("DELETE FROM scan_marks WHERE scan_id = ?", [first])
    con.close()
    _, info = incremental.scan_since(inc_path, "cn", first, checks="PRICE001", save=False)
    assert info["affected_merchants"] is None and info["rechecked_local"] == []
    assert "no row marks" in info["full_because"]


def test_when_most_merchants_are_touched_the_store_is_scanned_whole(
    two_day_file, tmp_path, monkeypatch
):
    from promoguard import engine

    path, _ = two_day_file
    inc_path = tmp_path / "inc.duckdb"
    shutil.copy(path, inc_path)
    monkeypatch.setattr(incremental, "SCOPE_SHARE", 0.1)
    inc, info = incremental.scan_since(inc_path, "cn", "last", checks="PRICE001", save=False)
    assert info["rechecked_local"] == [] and info["rerun_season"] == ["PRICE001"]
    assert info["affected_merchants"] > 0 and "merchants" in info["full_because"]
    full = engine.scan(inc_path, "cn", checks="PRICE001", save=False)
    assert not differences(full, inc)


def test_incremental_scan_equals_a_full_rescan(two_day_lake, tmp_path):
    root, first, _ = two_day_lake
    full_root, inc_root = tmp_path / "full", tmp_path / "inc"
    shutil.copytree(root, full_root)
    shutil.copytree(root, inc_root)
    full = lake.scan(full_root, "cn")
    inc, info = incremental.scan_since(inc_root, "cn", "last")
    assert info["since"] == first and info["batches"] == 1
    # the batch touched some merchants, not all: the merchant checks really were scoped
    assert 0 < info["affected_merchants"] < 120
    assert info["carried"] > 0
    assert set(info["rechecked_local"]) | set(info["untouched"]) == {
        c.code for c in registry.all_checks() if incremental.depends_on(c) != "season"
    } - set(info["unchanged"])
    assert not differences(full, inc), differences(full, inc)
    assert len(full.findings) > 1000
    assert inc.coverage == full.coverage
    # saved like any scan: the delta against day 1 reads from the lake
    con = lake.connect(inc_root)
    d = monitor.delta(con, inc.scan_id)
    assert set(d.change) <= {"new", "still", "resolved"}
    s = monitor.summary(d)
    assert s["new"] + s["still"] == len(inc.findings)
    assert s["still"] > 0


def test_a_check_declared_merchant_local_that_is_not_would_be_caught(
    two_day_lake, tmp_path, monkeypatch
):
    """The equivalence above is not vacuous: scoping a season-wide check changes its findings."""
    root, _, _ = two_day_lake
    full_root, inc_root = tmp_path / "full", tmp_path / "inc"
    shutil.copytree(root, full_root)
    shutil.copytree(root, inc_root)
    code = "SHIP002"  # a tracking number shared across merchants: not merchant-local
    full = lake.scan(full_root, "cn", checks=code, save=False)
    # (monkeypatch puts the rule's own declaration back; a del would leave the base's default)
    monkeypatch.setattr(type(registry.get(code)), "depends_on", "merchant")
    inc, info = incremental.scan_since(inc_root, "cn", "last", checks=code, save=False)
    assert info["rechecked_local"] == [code]
    a = set(full.findings.finding_id)
    b = set(inc.findings.finding_id)
    assert a != b


def test_new_promotions_fall_back_to_a_full_scan(two_day_lake, tmp_path):
    root, _, _ = two_day_lake
    inc_root = tmp_path / "inc"
    shutil.copytree(root, inc_root)
    extra = tmp_path / "promo"
    extra.mkdir()
    (extra / "promotions.csv").write_text(
        "promotion_id,platform_id,name,starts_at,ends_at,announced_at\n"
        "PX,P1,flash,2026-12-01T00:00:00Z,2026-12-02T00:00:00Z,\n"
    )
    lake.ingest(extra, inc_root)
    _, info = incremental.scan_since(inc_root, "cn", "last", checks="PRICE001", save=False)
    assert info["affected_merchants"] is None
    assert info["rechecked_local"] == [] and info["rerun_season"] == ["PRICE001"]


def test_since_an_unknown_scan_is_one_clear_error(two_day_lake):
    from promoguard.errors import CheckError

    root, _, _ = two_day_lake
    with pytest.raises(CheckError, match="no such scan"):
        incremental.scan_since(root, "cn", "scan-nope", save=False)


def test_cli_scan_since_reports_changes_and_watched_alerts_first(two_day_lake, tmp_path):
    import json

    from typer.testing import CliRunner

    from promoguard.cli import app

    root, _, _ = two_day_lake
    inc_root = tmp_path / "inc"
    shutil.copytree(root, inc_root)
    con = lake.connect(inc_root)
    merchant = con.execute(
        "SELECT merchant_id FROM orders ORDER BY paid_at DESC, order_id LIMIT 1"
    ).fetchone()[0]
    watch = tmp_path / "watch.csv"
    watch.write_text(f"entity_type,entity_id\nmerchant,{merchant}\n")
    res = CliRunner().invoke(
        app,
        [
            "scan",
            "--store",
            str(inc_root),
            "--pack",
            "cn",
            "--checks",
            "SHIP,PRICE",
            "--since",
            "last",
            "--watchlist",
            str(watch),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["incremental"]["batches"] == 1
    changes = out["changes"]
    assert changes["new"] + changes["still"] == out["findings"]
    alerts = out["alerts"]
    watched = [a["watched"] for a in alerts]
    assert watched == sorted(watched, reverse=True)  # watched alerts before the others


def test_cli_since_without_a_previous_scan_is_one_clear_error(season_store_copy):
    from typer.testing import CliRunner

    from promoguard.cli import app

    res = CliRunner().invoke(
        app, ["scan", "--store", str(season_store_copy), "--pack", "cn", "--since", "last"]
    )
    assert res.exit_code == 1
    assert "no scan of pack 'cn'" in res.output


def test_batches_since_a_scan_started_in_the_same_second_as_the_ingest_before_it(
    two_day_file, tmp_path
):
    """A scan's started_at cut to the second (as scans recorded it before they kept their exact
    start, and older stores hold): the day-1 ingest that ran just before it, in the same second,
    is not a batch since the scan (a quiet CI machine counted it)."""

    path, first = two_day_file
    copy = tmp_path / "same-second.duckdb"
    shutil.copy(path, copy)
    con = duckdb.connect(str(copy))
    day1_started = con.execute("SELECT min(started_at) FROM ingest_log").fetchone()[0]
    con.execute(
        "UPDATE scans SET started_at = date_trunc('second', ?::TIMESTAMPTZ) WHERE scan_id = ?",
        [day1_started, first],
    )
    con.close()
    _, info = incremental.scan_since(copy, "cn", "last")
    assert info["since"] == first and info["batches"] == 1


@pytest.mark.parametrize("max_runs", [10_000, 2])
def test_findings_are_put_in_check_order_stably(monkeypatch, max_runs):
    """The combined findings: by the checks' order, and within a check as they came (parts in
    order, rows in order), whether put in order by runs or, when the runs are many, row by row."""
    import pyarrow as pa

    from promoguard.engine.run import FINDINGS_SCHEMA

    monkeypatch.setattr(incremental, "_MAX_RUNS", max_runs)

    def table(rows):
        cols = {c: [None] * len(rows) for c in FINDINGS_SCHEMA.names}
        cols["check_code"] = [c for c, _ in rows]
        cols["finding_id"] = [f for _, f in rows]
        return pa.table(cols, schema=FINDINGS_SCHEMA)

    parts = [
        table([("B", "b1"), ("B", "b2"), ("A", "a1")]),
        table([]),
        table([("C", "c1"), ("A", "a2"), ("A", "a3"), ("B", "b3")]),
    ]
    got = incremental._in_check_order(parts, ["A", "B", "C"])
    assert got.column("finding_id").to_pylist() == ["a1", "a2", "a3", "b1", "b2", "b3", "c1"]
    assert incremental._in_check_order([], ["A"]).num_rows == 0


def test_the_season_checks_are_warmed_on_the_planning_thread(
    two_day_file, two_day_full, tmp_path, monkeypatch
):
    # scan --since warms the checks its season thread runs (Check.warm: BRUSH001's compiled
    # peel) on the thread that plans the scoped checks, before that thread's own work; a
    # warm-up that fails changes nothing (the finder loads what it needs and reports errors)
    import threading

    warmed: list[tuple[str, str]] = []

    def spy(real):
        def warm(self, params):
            warmed.append((self.code, threading.current_thread().name))
            if self.code == "BRUSH001":
                raise RuntimeError("a warm-up that fails")
            return real(self, params)

        return warm

    for check in registry.all_checks():  # (BRUSH001 and BRUSH002 have their own)
        monkeypatch.setattr(type(check), "warm", spy(type(check).warm))
    path, _ = two_day_file
    shutil.copy(path, tmp_path / "inc.duckdb")
    inc, info = incremental.scan_since(tmp_path / "inc.duckdb", "cn", "last", save=False)
    season = set(info["rerun_season"])
    assert "BRUSH001" in season and "BRUSH002" in season
    assert {code for code, _ in warmed} == season, (warmed, season)
    assert {name for _, name in warmed} == {threading.current_thread().name}
    assert not differences(two_day_full, inc), differences(two_day_full, inc)
