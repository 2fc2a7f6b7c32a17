"""Benchmark validated ingest of N price observations: PromoGuard against a plain pandas baseline.

    .venv/bin/python benchmarks/ingest.py --rows 10000000        # the figure in the docs
    .venv/bin/python benchmarks/ingest.py --rows 100000          # a quick run
    .venv/bin/python benchmarks/ingest.py --engines promoguard --keep
    .venv/bin/python benchmarks/ingest.py --rows 10000000 --engines promoguard --repeat 5
    .venv/bin/python benchmarks/ingest.py --rows 2000000 --engines promoguard --unclosed-quote
    .venv/bin/python benchmarks/ingest.py --rows 2000 --engines promoguard,promoguard-cse \\
        --times 20 --repeat 3                                        # a small file's planning

The CSV is generated with DuckDB in a few seconds: realistic export quirks on a share of rows
(``"¥1,299.00"`` with a thousands separator, naive timestamps among ``+08:00`` ones) and ``--bad``
(default 1%) bad rows (negative price, 3 decimal places, not a number, not a timestamp). Each
engine loads the same file into a fresh DuckDB store, in its own spawned process, so its peak
memory is its own (see ``_common.measure``). Both must agree on how many rows they stored and
quarantined.

``--unclosed-quote`` puts one never-closed quote on line 6 (a damaged export): DuckDB's strict
reader refuses it, and ingest reads the file again line by line (``ingest/recover.py``). That
measures the recovery path; a clean file never takes it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cpu_seconds, measure_full, print_table  # noqa: E402

DEFAULT_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "promoguard-bench" / "ingest"
KEY = ["listing_id", "observed_at", "channel"]


def generate(path: Path, rows: int, bad: float) -> None:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    bad_per_10k = round(bad * 10_000)
    con = duckdb.connect()
    con.execute(
        f"""COPY (
        SELECT
          'L' || lpad((i % 100000)::VARCHAR, 6, '0') AS listing_id,
          CASE WHEN bad AND kind = 3 THEN 'not a time'
               WHEN i % 10 = 0 THEN strftime(t, '%Y-%m-%d %H:%M:%S')
               ELSE strftime(t, '%Y-%m-%dT%H:%M:%S') || '+08:00' END AS observed_at,
          CASE WHEN bad AND kind = 0 THEN '-5.00'
               WHEN bad AND kind = 1 THEN '12.345'
               WHEN bad AND kind = 2 THEN 'n/a'
               WHEN i % 20 = 1 THEN '¥' || format('{{:,.2f}}', p)
               ELSE format('{{:.2f}}', p) END AS price,
          format('{{:.2f}}', p * 1.25) AS reference_price,
          '原价' AS reference_label,
          '20' AS claimed_discount_pct,
          CASE i % 3 WHEN 0 THEN 'detail' WHEN 1 THEN 'search' ELSE 'live' END AS channel
        FROM (
          SELECT i, TIMESTAMP '2026-10-01' + to_seconds(i) AS t,
            ((i * 37) % 500000) / 100.0 + 1 AS p,
            (i * 7919) % 10000 < {bad_per_10k} AS bad,
            (i // 7) % 4 AS kind
          FROM range({rows}) r(i)
        )) TO '{path}' (HEADER, DELIMITER ',')"""
    )
    con.close()


def damage(path: Path) -> Path:
    """A copy of the CSV with a never-closed quote on line 6, beside it (its own folder)."""
    out = path.parent.parent / f"{path.parent.name}-unclosed" / path.name
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as src, out.open("wb") as dst:
        for number, line in enumerate(src, start=1):
            if number == 6:
                dst.write(b'L999999,"never closed\n')
            dst.write(line)
    return out


def run_promoguard(csv: str, store_path: str) -> dict[str, int]:
    """The real thing: ``ingest_dir`` on a folder holding the CSV, into a new store file."""
    from promoguard.ingest import ingest_dir

    report = ingest_dir(Path(csv).parent, Path(store_path))
    counts = report.tables["price_observations"]
    return {"read": counts.read, "stored": counts.stored, "quarantined": counts.quarantined}


def run_promoguard_cse(csv: str, store_path: str) -> dict[str, int]:
    """The baseline of planning: every file's stage query planned with DuckDB's
    common-subexpression pass, as ingest planned every file before it left that pass out for
    small ones (``load.planned_for``)."""
    from promoguard.ingest import load

    load._small = lambda source: False
    return run_promoguard(csv, store_path)


def run_times(name: str, times: int, csv: str, store_path: str) -> dict[str, float]:
    """Engine ``name`` run ``times`` times in one process, each into a new store, after one
    untimed run (imports, first connection): what ingest costs a file itself, not the
    process's start."""
    run = ENGINES[name]
    counts = run(csv, f"{store_path}.warm")
    cpu, start = cpu_seconds(), time.perf_counter()
    for i in range(times):
        run(csv, f"{store_path}.{i}")
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    for p in Path(store_path).parent.glob(f"{Path(store_path).name}.*"):
        p.unlink()
    return counts | {"ms_per_file": 1000 * seconds / times, "cpu_ms_per_file": 1000 * cpu / times}


def run_pandas(csv: str, store_path: str) -> dict[str, int]:
    """A straightforward pandas pipeline with the same rules, writing the same store tables."""
    import pandas as pd

    from promoguard import store

    full_width = str.maketrans("０１２３４５６７８９．，＋－：／\u3000", "0123456789.,+-:/ ")
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    reason = pd.Series(pd.NA, index=df.index, dtype="string")

    def text(col: str) -> pd.Series:
        s = df[col].str.strip()
        wide = ~s.str.isascii()
        if wide.any():
            s[wide] = s[wide].str.translate(full_width)
        return s

    def money(col: str, required: bool) -> pd.Series:
        s = text(col).str.replace(
            r"^([+-]?)\s*(?:US\$|[¥￥$€£]|RMB|CNY|USD|EUR|GBP)\s*", r"\1", regex=True
        )
        empty = s == ""
        shaped = s.str.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")
        value = pd.to_numeric(s.where(shaped).str.replace(",", ""), errors="coerce")
        bad = (~empty & (~shaped | (value < 0))) | (empty & required)
        reason[bad & reason.isna()] = f"{col}: bad amount"
        return value.round(2)

    listing = text("listing_id")
    reason[(listing == "") & reason.isna()] = "listing_id: required value is empty"
    observed = pd.to_datetime(text("observed_at"), format="ISO8601", utc=True, errors="coerce")
    reason[observed.isna() & reason.isna()] = "observed_at: not an ISO 8601 timestamp"
    price = money("price", True)
    reference = money("reference_price", False)
    pct = pd.to_numeric(text("claimed_discount_pct").replace("", None), errors="coerce")
    channel = text("channel").replace("", None)
    out = pd.DataFrame(
        {
            "listing_id": listing,
            "observed_at": observed,
            "price": price,
            "reference_price": reference,
            "reference_label": df["reference_label"].replace("", None),
            "claimed_discount_pct": pct,
            "channel": channel,
            "final_price_claim": money("final_price_claim", False)
            if "final_price_claim" in df
            else None,
        }
    )
    good = reason.isna()
    dup = good & out[good].duplicated(subset=KEY, keep="first").reindex(out.index, fill_value=False)
    reason[dup] = "duplicate key"
    good = reason.isna()
    stored = out[good]  # noqa: F841 -- read by DuckDB (replacement scan)
    refused = pd.DataFrame(  # noqa: F841 -- read by DuckDB (replacement scan)
        {"line": (df.index[~good] + 2).astype("int64"), "reason": reason[~good].astype(str)}
    )
    con = store.connect(store_path)
    con.execute("BEGIN TRANSACTION")
    con.execute("INSERT INTO price_observations SELECT * FROM stored")
    con.execute(
        "INSERT INTO quarantine SELECT 'pandas', 'price_observations', 'csv', line, NULL, "
        "reason, NULL FROM refused"
    )
    con.execute("COMMIT")
    con.close()
    return {"read": len(df), "stored": int(good.sum()), "quarantined": int((~good).sum())}


ENGINES = {
    "promoguard": run_promoguard,
    "promoguard-cse": run_promoguard_cse,
    "pandas": run_pandas,
}


def _run_once(name: str, run: int, csv: Path, args: argparse.Namespace) -> dict[str, object]:
    store_path = args.dir / f"{name}-{args.rows}.duckdb"
    for p in (store_path, Path(f"{store_path}.wal")):
        p.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    print(f"running {name} (run {run}, load {load:.1f}) ...", file=sys.stderr)
    run_engine = ENGINES[name] if args.times == 1 else partial(run_times, name, args.times)
    m = measure_full(run_engine, str(csv), str(store_path))
    counts = m.result
    if not args.keep:
        for p in (store_path, Path(f"{store_path}.wal")):
            p.unlink(missing_ok=True)
    per_file = {k: round(counts[k], 1) for k in ("ms_per_file", "cpu_ms_per_file") if k in counts}
    return {
        "engine": name,
        "run": run,
        **per_file,
        "load_1m": round(load, 1),
        "rows": counts["read"],
        "stored": counts["stored"],
        "quarantined": counts["quarantined"],
        "seconds": m.seconds,
        "rows_per_s": counts["read"] / m.seconds,
        "cpu_s": m.cpu_seconds,
        "rows_per_cpu_s": counts["read"] / m.cpu_seconds,
        "peak_rss_mb": m.peak_rss_bytes / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.01, help="share of bad rows (0.01 = 1%%)")
    parser.add_argument("--engines", default="promoguard,pandas")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--keep", action="store_true", help="keep the CSV and the stores")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each engine N times (wall time swings with load)"
    )
    parser.add_argument(
        "--times",
        type=int,
        default=1,
        help="ingest the file N times in one process after an untimed one, and print the time "
        "per file: a small file's fixed cost (e.g. --rows 2000 --engines promoguard,promoguard-cse)",
    )
    parser.add_argument(
        "--unclosed-quote",
        action="store_true",
        help="one never-closed quote on line 6: measures the line-recovery path",
    )
    args = parser.parse_args()

    folder = args.dir / f"rows-{args.rows}"
    csv = folder / "price_observations.csv"
    if not csv.exists():
        print(f"generating {args.rows:,} rows -> {csv}", file=sys.stderr)
        generate(csv, args.rows, args.bad)
    if args.unclosed_quote:
        csv = damage(csv)
    size_mb = csv.stat().st_size / 2**20
    results = []
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    for name in args.engines.split(","):
        for run in range(1, args.repeat + 1):
            results.append(_run_once(name, run, csv, args))
    load = os.getloadavg()[0]
    print(
        f"\n{args.rows:,} price observations, CSV {size_mb:,.0f} MiB, {os.cpu_count()} cores, "
        f"load average {load_before:.1f} at the start, {load:.1f} at the end"
    )
    print_table(results)
    if len({(r["stored"], r["quarantined"]) for r in results}) > 1:
        print("WARNING: engines disagree on stored/quarantined counts", file=sys.stderr)
    if not args.keep:
        csv.unlink()


if __name__ == "__main__":
    main()
