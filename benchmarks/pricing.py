"""Benchmark PRICE001 (cn rule: lowest transacted price in the 7 days before the promotion) at
10M price observations on DuckDB, on Spark, and in a straightforward pandas baseline; check the
three give identical findings.

    .venv/bin/python benchmarks/pricing.py                       # 100k listings x 100 days
    .venv/bin/python benchmarks/pricing.py --listings 10000      # a quick 1M run
    .venv/bin/python benchmarks/pricing.py --engines duckdb,pandas

Each engine runs in its own subprocess so its peak memory (ru_maxrss) is its own; the Spark
figure includes the JVM (a child of that subprocess). The synthetic store is generated with
DuckDB SQL in a few seconds: every listing has one detail observation per day, a 10% coupon on
some days, orders on some of the 20 days before Double 11, and on 11-11 a reference price that
is honest (the 7-day lowest sale) for most listings and inflated by 30% for every 10th.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_STORE = Path(os.environ.get("TMPDIR", "/tmp")) / "promoguard-bench" / "pricing.duckdb"
PROMO_DAY = 93
REPEAT = int(
    os.environ.get("BENCH_REPEAT", "3")
)  # the promotion starts at the beginning of day 93 (of 0..days-1)


def generate(path: Path, listings: int, days: int) -> dict[str, int]:
    from promoguard import store

    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    con = store.connect(path)
    t0 = "TIMESTAMPTZ '2026-08-09 16:00:00+00'"  # day 0 (Beijing midnight)
    con.execute("INSERT INTO platforms VALUES ('P1', 'Bench Mall')")
    con.execute(
        "INSERT INTO merchants SELECT 'M' || lpad(i::VARCHAR, 5, '0'), 'P1', 'shop ' || i, NULL "
        "FROM range(1000) t(i)"
    )
    con.execute(
        f"""INSERT INTO promotions VALUES ('D11', 'P1', 'Double 11',
        {t0} + INTERVAL {PROMO_DAY} DAY, {t0} + INTERVAL {PROMO_DAY + 1} DAY, NULL)"""
    )
    con.execute(
        f"""INSERT INTO listings SELECT 'L' || lpad(i::VARCHAR, 7, '0'),
        'M' || lpad((i % 1000)::VARCHAR, 5, '0'), 'P1', 'item ' || i, 'electronics', 'CNY', NULL
        FROM range({listings}) t(i)"""
    )
    # the daily detail price: base, 10% off on coupon days, 20% off on the promotion day
    con.execute(
        f"""CREATE TEMP TABLE daily AS
        SELECT i, d,
          CAST(CASE
            WHEN d = {PROMO_DAY} THEN base * 0.8
            WHEN hash(i, d) % 13 = 0 THEN base * 0.9
            ELSE base END AS DECIMAL(18,2)) AS price,
          base
        FROM (SELECT i, CAST(20 + hash(i) % 2000 AS DECIMAL(18,2)) AS base
              FROM range({listings}) t(i)) l, range({days}) r(d)"""
    )
    # orders on some of the 20 days before the promotion (none for every 50th listing)
    con.execute(
        f"""INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity,
          unit_price, paid_at, status)
        SELECT 'O' || i || '-' || d, 'L' || lpad(i::VARCHAR, 7, '0'),
          'M' || lpad((i % 1000)::VARCHAR, 5, '0'), 'B' || (hash(i, d) % 100000), 1, price,
          {t0} + INTERVAL (d) DAY + INTERVAL 5 HOUR,
          CASE WHEN hash(d, i) % 40 = 0 THEN 'cancelled' ELSE 'confirmed' END
        FROM daily
        WHERE d BETWEEN {PROMO_DAY - 20} AND {PROMO_DAY - 1} AND i % 50 <> 0
          AND hash(i, d, 7) % 3 = 0"""
    )
    # the honest reference: the lowest non-cancelled sale in the 7 days before, else the last
    # sale, else the lowest offered price in the 7 days; every 10th listing inflates it by 30%
    con.execute(
        f"""CREATE TEMP TABLE honest AS
        WITH s AS (
          SELECT listing_id, unit_price, paid_at FROM orders WHERE status <> 'cancelled'),
        w AS (SELECT listing_id, min(unit_price) p FROM s
              WHERE paid_at >= {t0} + INTERVAL {PROMO_DAY - 7} DAY GROUP BY 1),
        lastat AS (SELECT listing_id, max(paid_at) last_at FROM s GROUP BY 1),
        lastp AS (SELECT s.listing_id, min(unit_price) p FROM s JOIN lastat USING (listing_id)
                  WHERE s.paid_at = lastat.last_at GROUP BY 1),
        offered AS (SELECT 'L' || lpad(i::VARCHAR, 7, '0') listing_id, min(price) p FROM daily
                  WHERE d BETWEEN {PROMO_DAY - 7} AND {PROMO_DAY - 1} GROUP BY 1)
        SELECT o.listing_id, coalesce(w.p, lastp.p, o.p) AS prior
        FROM offered o LEFT JOIN w USING (listing_id) LEFT JOIN lastp USING (listing_id)"""
    )
    con.execute(
        f"""INSERT INTO price_observations
        SELECT 'L' || lpad(i::VARCHAR, 7, '0') AS lid,
          {t0} + INTERVAL (d) DAY + INTERVAL 2 HOUR, price,
          CASE WHEN d = {PROMO_DAY} THEN
            CASE WHEN i % 10 = 0 THEN CAST(h.prior * 1.3 AS DECIMAL(18,2)) ELSE h.prior END END,
          CASE WHEN d = {PROMO_DAY} THEN '原价' END, NULL, 'detail', NULL, NULL
        FROM daily JOIN honest h ON h.listing_id = 'L' || lpad(i::VARCHAR, 7, '0')
        ORDER BY lid, d"""
    )
    counts = store.table_counts(con)
    con.close()
    return counts


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _finding_key(rows) -> list[tuple[str, str, str, str]]:
    return sorted(
        (
            str(r["entity_id"]),
            f"{r['reference_price']:.2f}",
            f"{r['legal_prior_price']:.2f}",
            str(r["prior_price_source"]),
        )
        for r in rows
    )


def run_engine(path: Path, engine: str) -> dict:
    """PRICE001's finder on one engine; the seconds exclude session start and data export."""
    from promoguard import store
    from promoguard.engine import registry
    from promoguard.engine.backends import duckdb_tables, spark_tables
    from promoguard.engine.base import ScanContext
    from promoguard.engine.packs import load_pack

    check = registry.get("PRICE001")
    params = load_pack("cn").parameters_for(check)
    con = store.connect(path, read_only=True)
    setup = time.perf_counter()
    cm = duckdb_tables(con) if engine == "duckdb" else spark_tables(con, "local[2]")
    with cm as tables:
        ready = time.perf_counter()
        best, best_cpu = float("inf"), float("nan")
        # best of a few on DuckDB (the machine is shared); Spark once, it takes minutes
        for _ in range(REPEAT if engine == "duckdb" else 1):
            t, c = time.perf_counter(), _cpu()
            expr = check.find(tables, params, ScanContext("cn", engine))
            found = tables.to_arrow(expr)
            if time.perf_counter() - t < best:
                best, best_cpu = time.perf_counter() - t, _cpu() - c
    con.close()
    return {
        "seconds": best,
        # CPU seconds of this process (DuckDB's threads included; Spark's JVM is not)
        "cpu_seconds": best_cpu if engine == "duckdb" else None,
        "setup_seconds": ready - setup,
        "findings": _finding_key(found.to_pylist()),
    }


def run_pandas(path: Path) -> dict:
    """The same rule written the obvious way in pandas (the baseline)."""
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone='UTC'")
    load = time.perf_counter()
    po = con.execute("SELECT * FROM price_observations").df()
    orders = con.execute("SELECT listing_id, paid_at, unit_price, status FROM orders").df()
    listings = con.execute("SELECT listing_id, merchant_id, platform_id FROM listings").df()
    promos = con.execute(
        "SELECT promotion_id, platform_id, starts_at, ends_at FROM promotions"
    ).df()
    con.close()
    start, cpu = time.perf_counter(), _cpu()
    po = po.merge(listings, on="listing_id")
    shown = po[po.reference_price.notna() & (po.reference_price > po.price)].merge(
        promos, on="platform_id"
    )
    shown = shown[(shown.observed_at >= shown.starts_at) & (shown.observed_at < shown.ends_at)]
    pairs = shown.groupby(["listing_id", "promotion_id", "starts_at"], as_index=False).agg(
        reference_price=("reference_price", "max")
    )
    sales = orders[orders.status != "cancelled"].merge(pairs, on="listing_id")
    before = sales[sales.paid_at < sales.starts_at]
    week = before[before.paid_at >= before.starts_at - pd.Timedelta(days=7)]
    tx = week.groupby(["listing_id", "promotion_id"]).unit_price.min().rename("tx")
    last_at = before.groupby(["listing_id", "promotion_id"]).paid_at.transform("max")
    last = (
        before[before.paid_at == last_at].groupby(["listing_id", "promotion_id"]).unit_price.min()
    )
    has_sales = set(orders[orders.status != "cancelled"].listing_id)
    det = po[po.channel.fillna("detail") == "detail"].merge(pairs, on="listing_id")
    det = det[
        (det.observed_at < det.starts_at)
        & (det.observed_at >= det.starts_at - pd.Timedelta(days=7))
    ]
    offered = det.groupby(["listing_id", "promotion_id"]).price.min()
    p = pairs.set_index(["listing_id", "promotion_id"])
    p["tx"], p["last"], p["offered"] = tx, last, offered
    no_sales = ~p.index.get_level_values(0).isin(has_sales)
    p["prior"] = p.tx.where(p.tx.notna(), p["last"])
    p.loc[no_sales & p.prior.isna(), "prior"] = p.offered
    p["source"] = "transactions"
    p.loc[p.tx.isna(), "source"] = "last_transaction"
    p.loc[p.tx.isna() & p["last"].isna(), "source"] = "offered"
    hit = p[p.prior.notna()]
    # compare in whole cents: reference above prior by more than the 0.01 tolerance
    ref_c = (hit.reference_price.astype(float) * 100).round().astype("int64")
    prior_c = (hit.prior.astype(float) * 100).round().astype("int64")
    hit = hit[ref_c > prior_c + 1]
    hit = (
        hit.reset_index().sort_values(["listing_id", "promotion_id"]).drop_duplicates("listing_id")
    )
    done = time.perf_counter()
    rows = [
        {
            "entity_id": r.listing_id,
            "reference_price": r.reference_price,
            "legal_prior_price": r.prior,
            "prior_price_source": r.source,
        }
        for r in hit.itertuples()
    ]
    return {
        "seconds": done - start,
        "cpu_seconds": _cpu() - cpu,
        "setup_seconds": start - load,
        "findings": _finding_key(rows),
    }


def _child(path: Path, engine: str) -> None:
    result = run_pandas(path) if engine == "pandas" else run_engine(path, engine)
    result["peak_rss_mb_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_rss_mb_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sys.stdout.write(json.dumps(result) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--store", type=Path, default=DEFAULT_STORE)
    ap.add_argument("--engines", default="duckdb,spark,pandas")
    ap.add_argument("--reuse", action="store_true", help="Keep an existing store of that size.")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.store, args.child)
        return
    if args.days <= PROMO_DAY:
        ap.error(f"--days must be more than {PROMO_DAY} (the promotion is on day {PROMO_DAY})")
    if not (args.reuse and args.store.exists()):
        t = time.perf_counter()
        counts = generate(args.store, args.listings, args.days)
        print(
            f"generated {counts['price_observations']:,} observations, "
            f"{counts['orders']:,} orders in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
    import duckdb

    with duckdb.connect(str(args.store), read_only=True) as con:
        n_obs = con.execute("SELECT count(*) FROM price_observations").fetchone()[0]
    results = {}
    for engine in args.engines.split(","):
        proc = subprocess.run(
            [sys.executable, __file__, "--store", str(args.store), "--child", engine],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode:
            print(f"{engine} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            sys.exit(1)
        results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
    load = os.getloadavg()
    print(
        f"PRICE001 on {n_obs:,} price observations (load average {load[0]:.1f} on "
        f"{os.cpu_count()} cores)"
    )
    print(
        f"{'engine':8} {'seconds':>8} {'obs/s':>14} {'cpu s':>7} {'obs/cpu-s':>14} "
        f"{'setup s':>8} {'peak MB':>8} findings"
    )
    for engine, r in results.items():
        peak = (
            max(r["peak_rss_mb_self"], r["peak_rss_mb_children"])
            if engine == "spark"
            else r["peak_rss_mb_self"]
        )
        cpu = r.get("cpu_seconds")
        cpu_txt = f"{cpu:7.2f} {n_obs / cpu:14,.0f}" if cpu else f"{'n/a':>7} {'n/a':>14}"
        print(
            f"{engine:8} {r['seconds']:8.2f} {n_obs / r['seconds']:14,.0f} {cpu_txt} "
            f"{r['setup_seconds']:8.1f} {peak:8.0f} {len(r['findings'])}"
        )
    first = next(iter(results.values()))["findings"]
    same = all(r["findings"] == first for r in results.values())
    print("identical findings on every engine:", same)
    if not same:
        sys.exit(2)


if __name__ == "__main__":
    main()
