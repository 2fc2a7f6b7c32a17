"""What ingest costs a small file of each table: CPU seconds per ingest of the first ``--rows``
rows of each table file of a simulated season, planned as ingest plans them now against the
baseline that plans every file with DuckDB's common-subexpression pass (``load.planned_for``).

    .venv/bin/python benchmarks/ingest_small.py                 # 300 rows a table, best of 3
    .venv/bin/python benchmarks/ingest_small.py --rows 2000 --repeat 5

A day's export from a platform, an analyst's sample and most test fixtures are such files: their
ingest is the fixed cost of planning the validation query, not the rows. The two ways alternate
in one process (after one untimed ingest each), each into a new in-memory store; the stored and
quarantined rows must be the same both ways.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import cpu_seconds, print_table  # noqa: E402


def _counts(report) -> tuple[int, int]:
    (counts,) = report.tables.values()
    return counts.stored, counts.quarantined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=300, help="rows of each table file")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best of each is shown")
    parser.add_argument("--times", type=int, default=4, help="ingests per round")
    args = parser.parse_args()

    from promoguard import store
    from promoguard.ingest import ingest_dir, load
    from promoguard.simulate import generate

    planned = load._small
    ways = {"as planned now": planned, "baseline (CSE always)": lambda source: False}
    work = Path(tempfile.mkdtemp(prefix="promoguard-ingest-small-"))
    generate("small", 3, work / "season", shrink=0.2)
    rows = []
    print(f"load average {os.getloadavg()[0]:.1f} at the start", file=sys.stderr)
    for path in sorted((work / "season").glob("*.csv")):
        if path.name.startswith("ground_truth"):
            continue
        folder = work / path.stem
        folder.mkdir()
        with path.open(encoding="utf-8") as src:
            head = [line for _, line in zip(range(args.rows + 1), src, strict=False)]
        (folder / path.name).write_text("".join(head), encoding="utf-8")
        best: dict[str, float] = {}
        counts = set()
        for _ in range(args.repeat):
            for way, small in ways.items():
                load._small = small
                con = store.connect(":memory:")
                ingest_dir(folder, con)  # untimed: the first ingest of this table
                con.close()
                cpu = cpu_seconds()
                for _ in range(args.times):
                    con = store.connect(":memory:")
                    counts.add(_counts(ingest_dir(folder, con)))
                    con.close()
                per = (cpu_seconds() - cpu) / args.times
                best[way] = min(best.get(way, per), per)
        load._small = planned
        if len(counts) != 1:
            raise SystemExit(f"{path.name}: the two ways stored different rows: {counts}")
        now, base = best["as planned now"], best["baseline (CSE always)"]
        rows.append(
            {
                "table": path.stem,
                "rows": len(head) - 1,
                "cpu_ms_now": round(1000 * now, 1),
                "cpu_ms_baseline": round(1000 * base, 1),
                "saved": f"{1 - now / base:+.0%}",
            }
        )
    now = sum(r["cpu_ms_now"] for r in rows)
    base = sum(r["cpu_ms_baseline"] for r in rows)
    rows.append(
        {
            "table": "all",
            "rows": sum(r["rows"] for r in rows),
            "cpu_ms_now": round(now, 1),
            "cpu_ms_baseline": round(base, 1),
            "saved": f"{1 - now / base:+.0%}",
        }
    )
    print(
        f"CPU ms per ingest of one small file, best of {args.repeat} x {args.times}, {time.ctime()}"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
