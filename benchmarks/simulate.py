"""Time `promoguard simulate` at each scale in a subprocess; record rows written and peak memory.

    .venv/bin/python benchmarks/simulate.py                    # small and medium
    .venv/bin/python benchmarks/simulate.py --scales small medium city --out /tmp/bench

Peak memory is the largest resident set of any process of the run (the main process or one
shard worker), from ``getrusage(RUSAGE_CHILDREN)`` measured in a fresh helper per scale.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def measure(scale: str, seed: int, out: Path) -> dict:
    """Run one scale (called in a fresh helper process so the rusage is this run's alone)."""
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        sys.executable,
        "-m",
        "promoguard",
        "simulate",
        "--scale",
        scale,
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--json",
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"simulate {scale} failed: {done.stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    size = sum(p.stat().st_size for p in out.iterdir())
    return {
        "scale": scale,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "bytes_on_disk": size,
        "rows": summary["rows"],
        "labels": sum(summary["truth"].values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", nargs="+", default=["small", "medium"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/promoguard-bench-simulate"))
    ap.add_argument("--keep", action="store_true", help="keep the generated folders")
    ap.add_argument("--_one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._one:
        print(json.dumps(measure(args._one, args.seed, args.out / args._one)))
        return
    results = []
    for scale in args.scales:
        helper = subprocess.run(
            [
                sys.executable,
                __file__,
                "--_one",
                scale,
                "--seed",
                str(args.seed),
                "--out",
                str(args.out),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(helper.stdout)
        results.append(r)
        rows = r["rows"]
        print(
            f"{scale:7s} {r['seconds']:7.1f} s wall  {r['cpu_seconds']:7.1f} s cpu  "
            f"peak {r['peak_rss_mb']:5d} MB  obs {rows['price_observations']:>10,}  "
            f"orders {rows['orders']:>9,}  events {rows['tracking_events']:>10,}  "
            f"reviews {rows['reviews']:>9,}  texts {rows['texts']:>9,}",
            file=sys.stderr,
        )
        if not args.keep:
            shutil.rmtree(args.out / scale, ignore_errors=True)
    print(json.dumps({"cpus": os.cpu_count(), "load_avg_1m": os.getloadavg()[0], "runs": results}))


if __name__ == "__main__":
    main()
