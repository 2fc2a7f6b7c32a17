"""One check at a time on a store, against a baseline tree in the same minutes: where a scan's
seconds went when one check got slower (session 35 found session 34's slowdown this way).

    python benchmarks/check_times.py --store /work/s34/inc_fin/base.duckdb \\
        --codes PRICE001,PARCEL001 --baseline /work/wt/old --repeat 2

For each code, alternating this tree and ``--baseline`` (another checkout: its ``src`` is put on
``PYTHONPATH``) in fresh processes, prints the finder alone (``find``: its rows counted) and the
check as a scan runs it (``run``: ``run_checks`` with only it, finder, evidence and freezing; the
parts as the scan reports them), with CPU seconds and peak memory, and the findings (the two
trees should agree, or say why not). The store is opened read only; nothing is written. With
``--profile DIR`` the finder's DuckDB plan and operator timings are written there as JSON (read
them with ``EXPLAIN ANALYZE`` eyes: an operator's time is summed over threads).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = r"""
import datetime as dt, json, resource, sys, time
import duckdb
from promoguard.engine import registry
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.base import ScanContext
from promoguard.engine.packs import load_pack
from promoguard.engine.run import run_checks

store, code, mode, profile = sys.argv[1:5]
con = duckdb.connect(store, read_only=True)
pack = load_pack("cn")
check = registry.get(code)
with duckdb_tables(con) as tables:
    def cpu():
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime
    c0, t0 = cpu(), time.perf_counter()
    parts = {}
    if mode == "find":
        expr = check.find(tables, pack.parameters_for(check), ScanContext("cn", "duckdb"))
        if profile:
            raw = expr._find_backend().con
            raw.execute("PRAGMA enable_profiling='json'")
            raw.execute(f"PRAGMA profiling_output='{profile}'")
        n = int(expr.count().execute())
    else:
        r = run_checks(tables, [check], pack, engine="duckdb", scan_id="bench",
                       detected_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
        n, parts = r.runs[0].findings, {k: round(v, 2) for k, v in r.runs[0].parts.items()}
    wall, used = time.perf_counter() - t0, cpu() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(json.dumps({"findings": n, "seconds": round(wall, 2), "cpu_s": round(used, 2),
                  "peak_rss_mb": peak, "parts": parts}))
"""


def _one(tree: Path, store: str, code: str, mode: str, profile: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, store, code, mode, profile],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        tail = (out.stderr.strip().splitlines() or ["?"])[-1]
        raise SystemExit(f"check_times: {code} ({mode}) failed in {tree}: {tail}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(HERE))
    from _common import print_table

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True, help="a DuckDB store (opened read only)")
    ap.add_argument("--codes", required=True, help="check codes, comma-separated")
    ap.add_argument("--baseline", required=True, help="another checkout to compare with")
    ap.add_argument("--repeat", type=int, default=1, help="rounds, each tree once per round")
    ap.add_argument("--modes", default="find,run", help="find, run, or both (default)")
    ap.add_argument("--profile", help="a folder for the finders' DuckDB profiles (JSON)")
    args = ap.parse_args()
    if not Path(args.store).is_file():
        raise SystemExit(f"check_times: no store at {args.store}")
    trees = {"this": HERE.parent, "baseline": Path(args.baseline).resolve()}
    if not (trees["baseline"] / "src" / "promoguard").is_dir():
        raise SystemExit(f"check_times: {args.baseline} holds no src/promoguard")
    rows = []
    for code in [c.strip() for c in args.codes.split(",") if c.strip()]:
        for mode in args.modes.split(","):
            for round_ in range(args.repeat):
                for name, tree in trees.items():
                    profile = ""
                    if args.profile and mode == "find":
                        Path(args.profile).mkdir(parents=True, exist_ok=True)
                        profile = str(Path(args.profile) / f"{code}-{name}-{round_}.json")
                    got = _one(tree, args.store, code, mode, profile)
                    rows.append({"check": code, "mode": mode, "tree": name, **got})
                    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    for r in rows:
        r["parts"] = " ".join(f"{k} {v}" for k, v in r["parts"].items())
    print_table(rows)


if __name__ == "__main__":
    main()
