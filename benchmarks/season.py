"""Benchmark a whole season: ingest and the full `cn` scan at city scale, with each check's time,
CPU seconds and peak memory, and pandas baselines of the heaviest checks in the same run.

    flock /tmp/promoguard-heavy.lock .venv/bin/python benchmarks/season.py
    .venv/bin/python benchmarks/season.py --reuse --steps scan --memory-limit 4GB
    .venv/bin/python benchmarks/season.py --season /tmp/s --scale small   # a quick run
    .venv/bin/python benchmarks/season.py --store S.duckdb --steps scan --scan-threads 1

The season is simulated once (``simulate --scale city --seed 7``) unless one exists: ``--season``,
else /work/city/season when /work/city/DONE marks it finished, else ``WORK/season``. Then, each in
a freshly spawned process (benchmarks/_common.py) so that its peak RSS is its own:

- ``ingest``: the season into a DuckDB store (and into a Parquet lake with ``--lake``);
- ``scan``: every check of the `cn` pack through the engine, evidence and frozen documents
  included (not saved, so the store stays as it is for the next run), optionally under a DuckDB
  ``memory_limit`` (DuckDB spills what does not fit) and on ``--scan-threads`` threads (the
  engine's default: two); ``--lake`` scans the lake too;
- ``baselines``: straightforward pandas versions of SHIP004 and SHIP001 (benchmarks/logistics.py)
  and PARCEL001 on the whole store, and datasketch MinHash LSH beside REVIEW001's own clustering
  on a subsample of reviews (pure-Python hashing of 1.8M reviews would take an hour); each
  pandas result is compared with the engine's findings.

Heavy: the city scan needs several GB and minutes of CPU; run it under the heavy lock.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import host_speed, measure_full, print_table  # noqa: E402

CITY = Path("/work/city")
WORK = Path(os.environ.get("TMPDIR", "/tmp")) / "promoguard-bench" / "season"


def simulate(out: str, scale: str, seed: int) -> dict:
    from promoguard.simulate import generate

    return generate(scale, seed, Path(out))


def ingest_duckdb(src: str, store: str) -> dict:
    from promoguard.ingest import ingest_dir

    for p in (Path(store), Path(f"{store}.wal")):
        p.unlink(missing_ok=True)
    report = ingest_dir(src, store)
    return {"rows": report.totals.stored, "quarantined": report.totals.quarantined}


def ingest_lake(src: str, root: str) -> dict:
    import shutil

    from promoguard import lake

    shutil.rmtree(root, ignore_errors=True)
    Path(root).mkdir(parents=True)
    report = lake.ingest(src, root)
    return {"rows": report.totals.stored, "quarantined": report.totals.quarantined}


def scan(store: str, memory_limit: str | None, threads: int | None, spill: str) -> dict:
    """The full cn pack through the engine, as `promoguard scan` runs it, without saving."""
    import datetime as dt

    from promoguard import lake
    from promoguard import store as store_mod
    from promoguard.engine.backends import duckdb_tables
    from promoguard.engine.packs import load_pack
    from promoguard.engine.run import choose_checks, run_checks

    con = lake.connect(store) if Path(store).is_dir() else store_mod.connect(store, read_only=True)
    if memory_limit:
        store_mod.set_memory_limit(con, memory_limit)
        con.execute(f"SET temp_directory = '{spill}'")  # not beside a store we only read
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    pack = load_pack("cn")
    when = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with duckdb_tables(con) as tables:
        result = run_checks(
            tables,
            choose_checks(pack, None),
            pack,
            engine="duckdb",
            scan_id="bench",
            detected_at=when,
        )
    con.close()
    # what `promoguard scan` reads of them: counts, and the heavy checks' entities for the
    # pandas baselines (the findings stay in Arrow and Parquet; no pandas frame of them all)
    f = result.findings_arrow(["check_code", "entity_id"]).to_pandas()
    heavy = ("SHIP001", "SHIP004", "PARCEL001")
    return {
        "findings": result.finding_count,
        "per_check_s": {r.code: round(r.seconds, 2) for r in result.runs},
        "parts_s": {r.code: {k: round(v, 2) for k, v in r.parts.items()} for r in result.runs},
        "found": {c: int(n) for c, n in f.groupby("check_code").size().items()},
        "entities": {c: sorted(f.entity_id[f.check_code == c]) for c in heavy},
    }


def pandas_ship(store: str) -> dict:
    from logistics import run_pandas

    return run_pandas(store)


def pandas_parcel(store: str) -> dict:
    """PARCEL001 in pandas: token weight, missing weight at a weighing carrier, direct long hop."""
    import duckdb
    import numpy as np
    import pandas as pd

    from promoguard import geo
    from promoguard.engine import registry
    from promoguard.engine.packs import load_pack

    p = load_pack("cn").parameters_for(registry.get("PARCEL001"))
    con = duckdb.connect(store, read_only=True)
    orders = con.sql("SELECT order_id, listing_id FROM orders").df()
    cats = con.sql("SELECT listing_id, category FROM listings").df()
    ships = con.sql("SELECT order_id, carrier, tracking_no, weight_grams FROM shipments").df()
    events = con.sql("SELECT carrier, tracking_no, event_type, city FROM tracking_events").df()
    con.close()
    per_carrier = ships.groupby("carrier").weight_grams.agg(["size", "count"])
    weighs = set(
        per_carrier.index[per_carrier["count"] >= per_carrier["size"] * p["weighed_share_min"]]
    )
    ships["missing"] = ships.weight_grams.isna() & ships.carrier.isin(weighs)
    w = ships.groupby("order_id").agg(weight=("weight_grams", "min"), n_missing=("missing", "sum"))
    # direct hops: parcels with no transit scan, pickup city -> delivered city
    transit = events[events.event_type == "transit"][["carrier", "tracking_no"]].drop_duplicates()
    e = events.merge(transit, how="left", indicator=True, on=["carrier", "tracking_no"])
    e = e[e._merge == "left_only"]
    norm = lambda s: s.str.strip().str.lower()  # noqa: E731
    pick = e[e.event_type == "pickup"].groupby(["carrier", "tracking_no"]).city.min()
    dlv = e[e.event_type == "delivered"].groupby(["carrier", "tracking_no"]).city.min()
    g = pd.concat([pick.rename("a"), dlv.rename("b")], axis=1).dropna()
    coords = geo.coordinates()
    a = np.array([coords.get(c, (np.nan, np.nan)) for c in norm(g.a)])
    b = np.array([coords.get(c, (np.nan, np.nan)) for c in norm(g.b)])
    la1, lo1, la2, lo2 = (np.radians(x) for x in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    g["km"] = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    hops = ships.merge(g.reset_index(), on=["carrier", "tracking_no"]).groupby("order_id").km.max()
    j = orders.merge(w, left_on="order_id", right_index=True).merge(
        cats, on="listing_id", how="left"
    )
    j["km"] = j.order_id.map(hops)
    minimum = j.category.map(p["min_weight_grams"] or {}).fillna(p["default_min_weight_grams"])
    score = (
        np.where(j.weight.notna() & (j.weight < minimum), p["weight_token"], 0.0)
        + np.where(j.n_missing > 0, p["weight_missing"], 0.0)
        + np.where(j.km.notna() & (j.km > p["no_transit_min_km"]), p["weight_no_transit"], 0.0)
    )
    return {"PARCEL001": sorted(j.order_id[score >= p["threshold"]])}


def review_lsh(store: str, limit: int) -> dict:
    from brushing import datasketch_lsh, numpy_lsh

    out = {}
    for name, fn in (("datasketch", datasketch_lsh), ("ours", numpy_lsh)):
        t = time.perf_counter()
        out[name] = {**fn(store, limit), "seconds": round(time.perf_counter() - t, 1)}
    return out


#: the timestamp that puts a row in a day's batch (shipments go with their order)
STAMP = {
    "price_observations": "observed_at",
    "orders": "paid_at",
    "tracking_events": "event_at",
    "reviews": "created_at",
    "texts": "created_at",
}


def split_last_day(season: str, out: str) -> dict:
    """The season as two exports: everything before its last day, and the last day's rows."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    src, dst = Path(season), Path(out)
    fmt = "parquet" if (src / "orders.parquet").exists() else "csv"
    read = "read_parquet" if fmt == "parquet" else "read_csv"
    files = {f.stem: f for f in src.glob(f"*.{fmt}") if f.stem != "ground_truth"}
    last = con.execute(
        f"SELECT date_trunc('day', max(CAST(paid_at AS TIMESTAMPTZ))) FROM {read}('{files['orders']}')"
    ).fetchone()[0]
    cut = f"TIMESTAMPTZ '{last.isoformat()}'"
    counts = {}
    for b in ("before", "day"):
        (dst / b).mkdir(parents=True, exist_ok=True)
    for table, f in files.items():
        rel = f"{read}('{f}')"
        if table in STAMP:
            later = f"CAST({STAMP[table]} AS TIMESTAMPTZ) >= {cut}"
        elif table == "shipments":
            later = (
                f"order_id IN (SELECT order_id FROM {read}('{files['orders']}') "
                f"WHERE CAST(paid_at AS TIMESTAMPTZ) >= {cut})"
            )
        else:
            later = "false"
        for b, cond in (("before", f"NOT ({later})"), ("day", later)):
            con.execute(f"COPY (SELECT * FROM {rel} WHERE {cond}) TO '{dst / b / f.name}'")
        counts[table] = con.execute(f"SELECT count(*) FROM {rel} WHERE {later}").fetchone()[0]
    return {"cut": str(last), "day_rows": counts}


def lake_ingest_into(src: str, root: str) -> dict:
    from promoguard import lake

    report = lake.ingest(src, root)
    return {"rows": report.totals.stored}


def lake_full_scan(root: str, save: bool) -> dict:
    from promoguard import lake

    r = lake.scan(root, "cn", save=save)
    return {"findings": len(r.findings), "scan_id": r.scan_id}


def lake_since_scan(root: str) -> dict:
    from promoguard import incremental

    r, info = incremental.scan_since(root, "cn", "last", save=False)
    return {"findings": len(r.findings), **info}


def _row(step: str, m, **extra) -> dict:
    return {
        "step": step,
        "seconds": round(m.seconds, 1),
        "cpu_seconds": round(m.cpu_seconds, 1),
        "peak_rss_mb": round(m.peak_rss_bytes / 2**20),
        **extra,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--season", type=Path, help="a simulated season folder to use")
    ap.add_argument("--scale", default="city", help="simulate this scale when there is none")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=WORK, help="where the stores are written")
    ap.add_argument(
        "--store", type=Path, help="scan this existing DuckDB store (read only) instead of WORK's"
    )
    ap.add_argument("--steps", default="ingest,scan,baselines")
    ap.add_argument("--reuse", action="store_true", help="keep an existing store (skip ingest)")
    ap.add_argument("--lake", action="store_true", help="also ingest into and scan a lake")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit for the scan, e.g. 4GB")
    ap.add_argument("--threads", type=int, help="DuckDB threads for the scan")
    ap.add_argument(
        "--scan-threads",
        type=int,
        help="threads the engine runs checks on (PROMOGUARD_SCAN_THREADS; 1: one after another)",
    )
    ap.add_argument("--review-sample", type=int, default=100_000)
    args = ap.parse_args()
    steps = set(args.steps.split(","))
    args.work.mkdir(parents=True, exist_ok=True)
    store, root = args.store or args.work / "season.duckdb", args.work / "lake"
    if args.store:
        args.reuse = True
    rows: list[dict] = []
    # the host's speed beside the figures (a target in seconds reads differently on a host 1.8 times
    # slower per core); measured first, while nothing of the benchmark runs yet
    print(json.dumps({"host_speed": host_speed()}), flush=True)

    def timed(step: str, fn, *fn_args, **extra):
        load = os.getloadavg()[0]  # the machine is shared: wall time swings with its load
        m = measure_full(fn, *fn_args)
        rows.append(_row(step, m, load_1min=f"{load:.1f}-{os.getloadavg()[0]:.1f}", **extra))
        print_table(rows[-1:], file=sys.stderr)
        return m.result

    season = args.season
    if season is None:
        season = CITY / "season" if (CITY / "DONE").exists() else args.work / "season"
    ingesting = "ingest" in steps and not (args.reuse and store.exists())
    # only ingest and the increment read the season's files: a scan of an existing store
    # (--store S --steps scan) does not simulate one first (a city season: ~2 min, 4 GB)
    if ingesting or "increment" in steps:
        if not (season / "orders.parquet").exists() and not (season / "orders.csv").exists():
            timed("simulate", simulate, str(season), args.scale, args.seed)
        print(f"season: {season}", file=sys.stderr)

    if ingesting:
        timed("ingest duckdb", ingest_duckdb, str(season), str(store))
        if args.lake:
            timed("ingest lake", ingest_lake, str(season), str(root))
    results = {}
    if "scan" in steps:
        label = f"scan cn duckdb{' limit ' + args.memory_limit if args.memory_limit else ''}"
        if args.scan_threads:  # the spawned process reads it from its environment
            os.environ["PROMOGUARD_SCAN_THREADS"] = str(args.scan_threads)
            label += f" on {args.scan_threads} thread(s)"
        spill = str(args.work / "spill")
        results["scan"] = timed(label, scan, str(store), args.memory_limit, args.threads, spill)
        if args.lake and root.exists():
            results["lake"] = timed(
                label.replace("duckdb", "lake"),
                scan,
                str(root),
                args.memory_limit,
                args.threads,
                spill,
            )
    if "increment" in steps:
        # a one-day increment: the season without its last day, scanned; then the last day
        # ingested and scanned incrementally and, beside it, in full (neither saved)
        import shutil

        inc = args.work / "increment"
        shutil.rmtree(inc, ignore_errors=True)
        split = timed("split off the last day", split_last_day, str(season), str(inc))
        print(f"last day: {split}", file=sys.stderr)
        lk = str(inc / "lake")
        timed("lake ingest, season before the day", lake_ingest_into, str(inc / "before"), lk)
        timed("lake scan cn, before the day (saved)", lake_full_scan, lk, True)
        timed("lake ingest, the day", lake_ingest_into, str(inc / "day"), lk)
        results["full_after"] = timed(
            "lake scan cn, full, after the day", lake_full_scan, lk, False
        )
        results["since"] = timed("lake scan cn --since last", lake_since_scan, lk)
    if "baselines" in steps:
        results["ship"] = timed("pandas SHIP001+SHIP004", pandas_ship, str(store))
        results["parcel"] = timed("pandas PARCEL001", pandas_parcel, str(store))
        results["lsh"] = timed(
            f"REVIEW001 LSH, {args.review_sample:,} reviews",
            review_lsh,
            str(store),
            args.review_sample,
        )
    print_table(rows)
    if "scan" in results:
        s = results["scan"]
        print(json.dumps({"findings": s["findings"], "per_check_s": s["per_check_s"]}))
        slowest = sorted(s["per_check_s"].items(), key=lambda kv: -kv[1])[:8]
        print("slowest checks: " + ", ".join(f"{c} {t:.1f} s" for c, t in slowest))
        # where each check's seconds went: its finder, its evidence queries, freezing
        print("check       find  evidence  freeze   (seconds)")
        for code, parts in sorted(s["parts_s"].items(), key=lambda kv: -sum(kv[1].values())):
            print(
                f"{code:<10}{parts.get('find', 0):>6.1f}{parts.get('evidence', 0):>10.1f}"
                f"{parts.get('freeze', 0):>8.1f}"
            )
        if "lake" in results:
            print(f"lake scan finds the same: {results['lake']['found'] == s['found']}")
        for key, codes in (("ship", ("SHIP001", "SHIP004")), ("parcel", ("PARCEL001",))):
            for code in codes if key in results else ():
                ours, theirs = set(s["entities"][code]), set(results[key][code])
                print(
                    f"{code}: engine {len(ours):,}, pandas {len(theirs):,}, "
                    f"both {len(ours & theirs):,}"
                )
    if "since" in results:
        same = results["since"]["findings"] == results["full_after"]["findings"]
        print(f"increment: {json.dumps(results['since'])}; same count as full: {same}")
    if "lsh" in results:
        print(f"REVIEW001 subsample: {json.dumps(results['lsh'])}")


if __name__ == "__main__":
    main()
