"""Opening cases from a scan: time, CPU and memory, beside the floor of reading the scan.

    flock /tmp/promoguard-heavy.lock .venv/bin/python benchmarks/cases_open.py \\
        --store /work/city/city.duckdb                      # the city-scale season's full cn scan
    .venv/bin/python benchmarks/cases_open.py --store promo.duckdb --db postgresql://…

What is timed: ``CaseService.open_from_scan`` into a fresh, empty case database (SQLite in a
temporary folder unless ``--db`` names one): reading the scan's findings, consumer harm and
evidence from the store, grouping, scoring, writing cases, findings, evidence documents and one
audit event per case. The baseline, in the same run, is the floor any importer pays: reading the
same findings and evidence documents out of the store and nothing else. Each runs in a fresh
process (``_common.measure_full``), so peak memory is its own. Then it prints the top of the queue.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import measure_full, print_table  # noqa: E402


def read_floor(store: str, scan_id: str | None) -> dict:
    from promoguard.cases import source

    info = source.scan_info(store, scan_id)
    df = source.findings(store, info.scan_id)
    docs = sum(len(batch) for batch in source.evidence(store, info.scan_id))
    return {"findings": len(df), "documents": docs}


def open_cases(store: str, scan_id: str | None, db: str) -> dict:
    from promoguard.cases import CaseService

    svc = CaseService(db, actor="benchmark")
    result = svc.open_from_scan(store, scan_id=scan_id).to_dict()
    return {k: v for k, v in result.items() if not k.endswith("_ids")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--scan", default=None)
    ap.add_argument("--db", default=None, help="Case database URL (default: a fresh SQLite file).")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="cases-bench-")
    db = args.db or f"sqlite:///{tmp}/cases.db"
    floor = measure_full(read_floor, args.store, args.scan)
    opened = measure_full(open_cases, args.store, args.scan, db)
    n = opened.result["findings_added"]
    rows = [
        {
            "what": "read findings + evidence (floor)",
            "seconds": floor.seconds,
            "cpu_s": floor.cpu_seconds,
            "peak_rss_mb": floor.peak_rss_bytes / 2**20,
            "findings/s": floor.result["findings"] / floor.seconds,
        },
        {
            "what": "cases open (promoguard)",
            "seconds": opened.seconds,
            "cpu_s": opened.cpu_seconds,
            "peak_rss_mb": opened.peak_rss_bytes / 2**20,
            "findings/s": n / opened.seconds,
        },
    ]
    print_table(rows)
    print(json.dumps({"floor": floor.result, "open": opened.result}, indent=1))
    if args.db is None:
        size = Path(tmp, "cases.db").stat().st_size
        print(f"case database: {size / 2**20:,.0f} MiB")

    from promoguard.cases import CaseService

    svc = CaseService(db, actor="benchmark")
    cases = svc.list_cases()
    print("priorities:", dict(sorted(collections.Counter(c["priority"] for c in cases).items())))
    top = []
    for c in cases[: args.top]:
        s = c["score"]
        top.append(
            {
                "case": c["case_id"],
                "P": c["priority"],
                "score": c["risk_score"],
                "platform": c["platform_id"],
                "merchant": c["merchant_id"],
                "findings": c["findings"],
                "families": ",".join(s["families"]),
                "orders": s["orders_affected"],
                "amount": s["amount_affected"],
            }
        )
    print_table(top)


if __name__ == "__main__":
    main()
