"""Benchmark the daily loop at city scale: a one-day increment scanned with ``scan --since`` beside
a full re-scan of the same store, in the same minutes, with CPU seconds and peak memory.

    PROMOGUARD_MEMORY_LIMIT=4GB flock /tmp/promoguard-heavy.lock .venv/bin/python benchmarks/incremental.py
    .venv/bin/python benchmarks/incremental.py --store /tmp/s/promo.duckdb --work /tmp/inc  # small

The season is split by day. The increment is **one day**: every row stamped on that day (its
orders with their parcels and coupons, and the day's scans, reviews, price observations, texts and
prize awards, of older orders too), by default the last day of orders (the UTC day of the last
payment; ``--day 2026-11-11 --tz Asia/Shanghai`` takes another, such as 11-11 itself). The base is
every row stamped before it; the rows stamped after it have not happened yet on the morning after
that day, so they are in neither (they are written to ``WORK/later`` as a batch of their own, so
nothing of the season is lost). ``--tail`` takes the increment sessions 3-9 measured instead: every
row stamped on or after the day, which at city scale is the last day's orders with some eight
days of later scans and reviews (663k scans), not one day. Steps, each in a freshly spawned
process (benchmarks/_common.py) so its peak RSS is its own:

1. ``base``: a copy of the store (default /work/city2/city.duckdb, else /work/city/city.duckdb)
   with the increment's rows (and the later ones) taken out (tables rebuilt, so row positions stay
   0..n-1), and the increment written as Parquet files, a batch the way a platform would send it;
2. ``scan base``: the base scanned with the whole ``cn`` pack, saved: the scan the increment is
   taken against (a scoped check carries that scan's findings outside what the new rows reach);
3. ``ingest day``: the increment ingested into the base, with the usual validation;
4. ``incremental``: ``scan --since`` that scan (not saved);
5. ``full re-scan``: the full ``cn`` scan of the same store (not saved);
6. with ``--saved``, ``incremental scan, saved``: step 4 saved, as the daily loop runs it, on a
   copy of the store made outside the timing (the save's own seconds printed beside it);

then the results compared: finding ids, observed, expected and evidence hashes must be equal.
Each scan step prints its process's figures (the import, the scan, and the digest the comparison
makes: ~5 s at city scale) and, as ``scan_s`` / ``scan_cpu_s``, the scan call alone; the
incremental / full ratio is taken on the scan calls, and also printed on the steps.
``--prepare`` makes steps 1-3 and stops; ``--reuse`` then runs 4-5 (6) on them as often as needed.
Kept relations (``engine.cache.shared`` with a fold, docs/kept.md) are saved by the base scan of
step 2 and folded by step 4: **a base prepared before kept relations existed, or before a rule's
fold landed, holds no copy of it** (the increment then builds it on the whole season, as before):
run ``--prepare`` again after such a change. The increment prints which keys it folded and built.
Per check seconds of both scans are printed, with how the increment ran each check: on the keys
of its scope group (merchant, merchant_delta, order, text), carried whole (none
of its tables got a row: "unchanged"; its rule names no merchant the new rows change:
"untouched"), or on the whole store (season-wide, or a group that fell back, and why).
"""

# ruff: noqa: S608  -- SQL here interpolates only our own table names, paths and timestamps
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_seconds, host_speed, measure_full, print_table  # noqa: E402

STORES = (Path("/work/city2/city.duckdb"), Path("/work/city/city.duckdb"))
WORK = Path("/tmp/promoguard-bench/incremental")

#: per table: the rows stamped at or after a moment (alias t; ``{day}`` is a SQL timestamp). The
#: increment is the rows after its start and not after its end; parcels and coupon redemptions
#: go with their order's payment
INCREMENT = {
    "orders": "t.paid_at >= {day}",
    "shipments": "t.order_id IN (SELECT order_id FROM orders WHERE paid_at >= {day})",
    "coupon_redemptions": "t.order_id IN (SELECT order_id FROM orders WHERE paid_at >= {day})",
    "tracking_events": "t.event_at >= {day}",
    "price_observations": "t.observed_at >= {day}",
    "reviews": "t.created_at >= {day}",
    "texts": "t.created_at >= {day}",
    "prize_awards": "t.awarded_at >= {day}",
}


#: per table: the rows of the merchants in _pg_m (alias t), for a one-platform increment
OF_MERCHANTS = {
    "orders": "t.merchant_id IN (SELECT merchant_id FROM _pg_m)",
    "texts": "t.merchant_id IN (SELECT merchant_id FROM _pg_m)",
    "shipments": "t.order_id IN (SELECT order_id FROM orders o SEMI JOIN _pg_m USING (merchant_id))",
    "coupon_redemptions": (
        "t.order_id IN (SELECT order_id FROM orders o SEMI JOIN _pg_m USING (merchant_id))"
    ),
    "tracking_events": (
        "(t.carrier, t.tracking_no) IN (SELECT s.carrier, s.tracking_no FROM shipments s "
        "JOIN orders o USING (order_id) SEMI JOIN _pg_m USING (merchant_id))"
    ),
    "price_observations": (
        "t.listing_id IN (SELECT listing_id FROM listings l SEMI JOIN _pg_m USING (merchant_id))"
    ),
    "reviews": (
        "t.listing_id IN (SELECT listing_id FROM listings l SEMI JOIN _pg_m USING (merchant_id))"
    ),
    "prize_awards": "false",
}


def make_base(
    source: str,
    store: str,
    batch: str,
    platform: str | None = None,
    day: str | None = None,
    tz: str = "UTC",
    tail: bool = False,
) -> dict:
    """Copy ``source`` to ``store`` without one day's rows (of one platform's merchants when
    ``platform`` is given) and without the rows stamped after that day; write the day's rows to
    ``batch`` and the later ones to ``batch``'s sibling ``later``. ``day`` is an ISO date in
    ``tz`` (default: the day of the last payment); ``tail`` makes the increment every row from
    the day on (the later rows are then part of it)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import duckdb

    later_dir = Path(batch).parent / "later"
    for p in (Path(store), Path(f"{store}.wal")):
        p.unlink(missing_ok=True)
    for d in (Path(batch), later_dir):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    shutil.copy(source, store)
    from promoguard import store as store_mod

    con = duckdb.connect(store)
    try:
        con.execute(f"SET TimeZone = '{tz}'")
        store_mod.set_memory_limit(con)  # PROMOGUARD_MEMORY_LIMIT, as every other step
        if day is None:
            start = con.execute("SELECT date_trunc('day', max(paid_at)) FROM orders").fetchone()[0]
        else:
            start = dt.datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz))
        end = start + dt.timedelta(days=1)

        def lit(moment: dt.datetime) -> str:
            return f"TIMESTAMPTZ '{moment.isoformat()}'"

        # scans and findings of the source are not the base's
        have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        for t in ("scans", "findings", "evidence", "finding_seals", "scan_seals", "scan_marks"):
            if t in have:  # a store made before some of them existed
                con.execute(f"DELETE FROM {t}")
        if "kept_relations" in have:  # the source's kept relations are not the base's either
            for (t,) in con.execute("SELECT table_name FROM kept_relations").fetchall():
                con.execute(f'DROP TABLE IF EXISTS "{t}"')
            con.execute("DELETE FROM kept_relations")
        if platform:
            con.execute(
                "CREATE TEMP TABLE _pg_m AS SELECT merchant_id FROM merchants WHERE platform_id = ?",
                [platform],
            )

        def after(table: str, moment: dt.datetime) -> str:
            # a row with no stamp is never after anything: it stays in the base
            return f"coalesce(({INCREMENT[table].format(day=lit(moment))}), false)"

        def condition(table: str) -> str:
            cond = after(table, start)
            if not tail:
                cond = f"{cond} AND NOT {after(table, end)}"
            return f"({cond}) AND {OF_MERCHANTS[table]}" if platform else cond

        def later(table: str) -> str:
            return "false" if tail else after(table, end)

        counts, later_counts = {}, {}
        # children first: their conditions read the parent (orders) before it is cut
        tables = sorted(INCREMENT, key=lambda t: t == "orders")
        for table in tables:
            for cond, folder, n in (
                (condition(table), Path(batch), counts),
                (later(table), later_dir, later_counts),
            ):
                rows = con.execute(f"SELECT count(*) FROM {table} t WHERE {cond}").fetchone()[0]
                n[table] = rows
                if rows:
                    out = folder / f"{table}.parquet"
                    con.execute(
                        f"COPY (SELECT * FROM {table} t WHERE {cond}) TO '{out}' (FORMAT parquet)"
                    )
        for table in tables:
            gone = f"({condition(table)}) OR {later(table)}"
            # rebuilt, not deleted from: row positions stay 0..n-1 (what scan --since relies on)
            con.execute(f"CREATE TABLE _keep AS SELECT * FROM {table} t WHERE NOT ({gone})")
            con.execute(f"DROP TABLE {table}")
            con.execute(f"ALTER TABLE _keep RENAME TO {table}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {
        "day": str(start),
        "end": None if tail else str(end),
        "platform": platform,
        "rows": counts,
        "later": later_counts,
    }


def reach(store: str, since: str) -> dict:
    """How much of the season the day's rows reach, on ``store`` after the day's ingest (the
    rows past the marks of scan ``since``): what a season-wide check must look at again to stay
    identical to a full re-scan, whatever it keeps. An increment costs in proportion to this,
    not to the day's own rows.

    - ``orders``: the day's share of the non-cancelled orders; the shops with one of them and
      their share of the shops, of the orders and of the repeat buyer-shop pairs (a shop's
      buyer count weighs every edge of it in BRUSH001; its order shares are BRUSH003's);
    - ``reviews``: the day's share of the reviews; the listings with one of them and the
      share of the reviews on those listings (REVIEW003 scores a review against its listing's
      mean rating and typical day)."""
    import duckdb

    con = duckdb.connect(store, read_only=True)
    try:
        con.execute("SET enable_progress_bar = false")
        marks = dict(
            con.execute(
                "SELECT table_name, row_count FROM scan_marks WHERE scan_id = ?", [since]
            ).fetchall()
        )
        con.execute(
            "CREATE TEMP TABLE _o AS SELECT rowid >= ? AS new, buyer_id, merchant_id "
            "FROM orders WHERE status <> 'cancelled'",
            [marks.get("orders", 0)],
        )
        con.execute(
            "CREATE TEMP TABLE _r AS SELECT rowid >= ? AS new, listing_id FROM reviews",
            [marks.get("reviews", 0)],
        )
        o = con.execute(
            """
            WITH shops AS (SELECT DISTINCT merchant_id FROM _o WHERE new),
            pairs AS (
              SELECT merchant_id, count(*) AS n FROM _o GROUP BY buyer_id, merchant_id
            )
            SELECT
              (SELECT count(*) FILTER (WHERE new) / count(*) FROM _o),
              (SELECT count(*) FROM shops) / (SELECT count(DISTINCT merchant_id) FROM _o),
              (SELECT count(*) FROM _o SEMI JOIN shops USING (merchant_id)) / (SELECT count(*) FROM _o),
              (SELECT count(*) FROM pairs SEMI JOIN shops USING (merchant_id) WHERE n >= 2)
                / (SELECT count(*) FROM pairs WHERE n >= 2)
            """
        ).fetchone()
        r = con.execute(
            """
            WITH lists AS (SELECT DISTINCT listing_id FROM _r WHERE new)
            SELECT
              (SELECT count(*) FILTER (WHERE new) / count(*) FROM _r),
              (SELECT count(*) FROM lists) / (SELECT count(DISTINCT listing_id) FROM _r),
              (SELECT count(*) FROM _r SEMI JOIN lists USING (listing_id)) / (SELECT count(*) FROM _r)
            """
        ).fetchone()
    finally:
        con.close()
    share = [round(float(x or 0.0), 4) for x in (*o, *r)]
    return {
        "orders": {
            "day": share[0],
            "shops": share[1],
            "orders_at_shops": share[2],
            "repeat_pairs_at_shops": share[3],
        },
        "reviews": {"day": share[4], "listings": share[5], "reviews_on_listings": share[6]},
    }


def _timed(fn, *args):
    """``(result, wall s, CPU s)`` of the scan call alone.

    The step's own figures (``measure_full``) also hold the import and the digest ``_summary``
    makes of the findings to compare the two scans: at city scale a pandas frame of 700k findings,
    a sort and 185 MB of text, about 5 s on a quiet machine, the same in both scans. That is the
    benchmark's work, not the scan's, so the ratio is taken on the scan calls (both are printed).
    """
    import time

    cpu, start = cpu_seconds(), time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start, cpu_seconds() - cpu


def scan_full(store: str, save: bool, checks: str | None = None) -> dict:
    from promoguard import engine

    result, wall, cpu = _timed(lambda: engine.scan(store, "cn", checks=checks, save=save))
    return {**_summary(result, store if not save else None), **_call(wall, cpu)}


def _call(wall: float, cpu: float) -> dict:
    return {"scan_s": round(wall, 2), "scan_cpu_s": round(cpu, 2)}


def ingest_day(batch: str, store: str) -> dict:
    from promoguard.ingest import ingest_dir

    r = ingest_dir(batch, store)
    return {"stored": r.totals.stored, "quarantined": r.totals.quarantined}


def _trace() -> None:
    """With ``--trace`` (passed to the timed process in the environment): each shared
    relation's making, timed, on stderr (``promoguard.kept``)."""
    if os.environ.get("PROMOGUARD_BENCH_TRACE"):
        import logging

        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(relativeCreated)8.0f ms  %(message)s"))
        log = logging.getLogger("promoguard.kept")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)


def scan_increment(store: str, since: str) -> dict:
    from promoguard import incremental

    _trace()

    (result, info), wall, cpu = _timed(
        lambda: incremental.scan_since(store, "cn", since, save=False)
    )
    out = {**_summary(result, store), **_call(wall, cpu)}
    out["info"] = info
    return out


def scan_increment_saved(store: str, since: str) -> dict:
    """``scan --since`` as the daily loop runs it: saved (findings, documents, seals and kept
    relations written in one transaction). ``store`` is a copy: the base stays as it was."""
    from promoguard import incremental

    (result, info), wall, cpu = _timed(
        lambda: incremental.scan_since(store, "cn", since, save=True)
    )
    out = {**_summary(result, None), **_call(wall, cpu)}
    out["save_s"] = info.get("phases", {}).get("save")
    return out


def _summary(result, store: str | None) -> dict:
    """Counts, per-check seconds and a digest of the findings (to compare two scans)."""
    import hashlib

    f = result.findings.sort_values("finding_id")
    text = "\n".join(
        f"{a}|{b}|{c}|{d}"
        for a, b, c, d in zip(f.finding_id, f.observed, f.expected, f.evidence_sha256, strict=True)
    )
    return {
        "scan_id": result.scan_id,
        "findings": len(f),
        "digest": hashlib.sha256(text.encode()).hexdigest(),
        "seconds": {r.code: round(r.seconds, 2) for r in result.runs},
        # find / evidence / freeze seconds (a check the increment carried has none)
        "parts": {
            r.code: "/".join(f"{r.parts.get(k, 0.0):.1f}" for k in ("find", "evidence", "freeze"))
            for r in result.runs
            if r.parts
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", help="the season's DuckDB store (read only; copied)")
    ap.add_argument("--work", default=str(WORK), help="where the base store and batch go")
    ap.add_argument("--reuse", action="store_true", help="keep an existing base and its scan")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument(
        "--platform", help="the increment is one platform's export of the day (its merchants only)"
    )
    ap.add_argument(
        "--prepare", action="store_true", help="make the base, its scan and the batch, then stop"
    )
    ap.add_argument(
        "--day", help="the increment's day, an ISO date in --tz (default: the last payment's)"
    )
    ap.add_argument("--tz", default="UTC", help="the time zone of the day's bounds (default UTC)")
    ap.add_argument(
        "--saved",
        action="store_true",
        help="also time the increment saved, as the daily loop runs it (on a copy of the base)",
    )
    ap.add_argument(
        "--tail",
        action="store_true",
        help="the increment is every row from the day on (sessions 3-9's), not the day alone",
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="print each shared relation's making in the increment, timed (stderr)",
    )
    args = ap.parse_args()
    if args.trace:
        os.environ["PROMOGUARD_BENCH_TRACE"] = "1"

    source = args.store or next((str(p) for p in STORES if p.exists()), None)
    if source is None:
        sys.exit("no store: give --store (e.g. a city season ingested by benchmarks/season.py)")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    store, batch, state = str(work / "base.duckdb"), str(work / "day"), work / "base.json"
    rows, figures = [], {}
    # the host's speed beside the figures (see _common.host_speed), measured before any step
    figures["host speed"] = host_speed()
    print(json.dumps({"host_speed": figures["host speed"]}), flush=True)

    def step(name: str, fn, *a):
        m = measure_full(fn, *a)
        rows.append(
            {
                "step": name,
                "seconds": round(m.seconds, 1),
                "cpu_s": round(m.cpu_seconds, 1),
                "peak_rss_mb": round(m.peak_rss_bytes / 2**20),
            }
        )
        # the scan call alone (a scan step's result says; "" for the other steps)
        call = m.result if isinstance(m.result, dict) else {}
        rows[-1].update(scan_s=call.get("scan_s", ""), scan_cpu_s=call.get("scan_cpu_s", ""))
        figures[name] = {**{k: v for k, v in rows[-1].items() if v != ""}, "result": m.result}
        print(json.dumps(figures[name] | {"result": None}), flush=True)
        return m.result

    if args.reuse and state.exists():
        base = json.loads(state.read_text())
        print(f"reusing {store} (previous scan {base['scan']['scan_id']})", flush=True)
    else:
        split = (source, store, batch, args.platform, args.day, args.tz, args.tail)
        base = {"split": step("base", make_base, *split)}
        # what --since carries from the previous scan are its scoped checks' findings; the
        # whole pack, so that a base made once serves however the checks are scoped
        base["scan"] = step("scan base (saved)", scan_full, store, True)
        step("ingest day", ingest_day, batch, store)
        state.write_text(json.dumps(base, default=str))
    if args.prepare:
        return
    since = base["scan"]["scan_id"]
    inc = step("incremental scan", scan_increment, store, since)
    full = step("full re-scan", scan_full, store, False)
    same = inc["digest"] == full["digest"] and inc["findings"] == full["findings"]
    if args.saved:
        # on a copy (made outside the timing): a saved scan changes the store, and the base
        # must stay the one the increment is taken against
        copy = work / "saved.duckdb"
        shutil.copyfile(store, copy)
        try:
            saved = step("incremental scan, saved", scan_increment_saved, str(copy), since)
        finally:
            copy.unlink(missing_ok=True)
            Path(str(copy) + ".wal").unlink(missing_ok=True)
        same = same and saved["digest"] == inc["digest"]
    print_table(rows)
    split = base["split"]
    print(
        f"day {split['day']} to {split.get('end') or 'the end (--tail)'}; increment rows "
        f"{split['rows']}; later rows (in neither scan) {split.get('later', {})}"
    )
    info = inc["info"]
    print(
        f"re-checked on their keys {len(info['rechecked_local'])} checks, carried whole "
        f"{len(info['unchanged']) + len(info.get('untouched', []))}, run on the whole store "
        f"{len(info['rerun_season'])}; carried {info['carried']} findings"
    )
    if info.get("changed"):  # a base scanned otherwise, or before scans recorded how: whole
        whys = sorted({", ".join(w) for w in info["changed"].values()})
        print(f"  run whole, not carried from the base: {len(info['changed'])} checks ({whys})")
    for group, scope in info["scopes"].items():
        how = scope["full_because"] or "scoped" + (
            f" (on the whole store: {scope['whole_because']})" if scope.get("whole_because") else ""
        )
        context = f" and {scope['context']} linked" if scope.get("context") else ""
        print(f"  {group}: {scope['keys']} keys{context} ({', '.join(scope['checks'])}): {how}")
    # wall seconds of the increment's steps outside the season-wide checks' thread (which runs
    # beside them: "waiting for the season checks" is what is left of it at the end)
    print("phases (wall s): " + ", ".join(f"{k} {v}" for k, v in info.get("phases", {}).items()))
    kept = info.get("kept", {})
    print(
        f"kept relations: folded {len(kept.get('folded', []))} {kept.get('folded', [])}, "
        f"built {len(kept.get('built', []))} {kept.get('built', [])}"
    )
    scope_of = {c: g for g, s in info["scopes"].items() for c in s["checks"]}
    print(
        f"incremental / full wall, scan calls: {inc_ratio(figures):.2f} (with the import and "
        f"the digest: {inc_ratio(figures, 'seconds'):.2f}); identical findings: {same}"
    )
    if args.saved:
        print(
            f"saved increment: {saved['scan_s']} s / {saved['scan_cpu_s']} CPU s, of which the "
            f"save {saved['save_s']} s"
        )
    per = sorted(full["seconds"], key=lambda c: -full["seconds"][c])
    print_table(
        [
            {
                "check": c,
                "full_s": full["seconds"][c],
                "incremental_s": inc["seconds"].get(c, 0.0),
                "inc_find/ev/freeze": inc.get("parts", {}).get(c, "-"),
                "scope": scope_of[c]
                if c in info["rechecked_local"]
                else "unchanged"
                if c in info["unchanged"]
                else "untouched"
                if c in info.get("untouched", ())
                else "whole store",
            }
            for c in per
        ]
    )
    figures["reach"] = reach(store, base["scan"]["scan_id"])
    o, r = figures["reach"]["orders"], figures["reach"]["reviews"]
    print(
        f"the day's reach: {o['day']:.2%} of the orders, at {o['shops']:.0%} of the shops, which "
        f"hold {o['orders_at_shops']:.0%} of the orders and {o['repeat_pairs_at_shops']:.0%} of "
        f"the repeat buyer-shop pairs; {r['day']:.2%} of the reviews, on {r['listings']:.0%} of "
        f"the listings, which hold {r['reviews_on_listings']:.0%} of the reviews"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    if not same:
        sys.exit("the incremental scan differs from the full re-scan")


def inc_ratio(figures: dict, key: str = "scan_s") -> float:
    """Incremental over full wall seconds: of the scan calls (``scan_s``), or of the steps."""
    inc, full = figures["incremental scan"], figures["full re-scan"]
    if key not in inc or key not in full:  # figures written before scan_s was recorded
        key = "seconds"
    return inc[key] / full[key]


if __name__ == "__main__":
    main()
