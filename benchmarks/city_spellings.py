"""Benchmark the logistics checks on cities written as shops and carriers write them (上海市,
上海市高新区, 浙江省杭州市, Shanghai) beside the same store with every city written as the city
table does (上海), in the same run: what normalising the spellings costs, and that it finds the
same orders.

    .venv/bin/python benchmarks/city_spellings.py                    # 5M orders, 20M scans
    .venv/bin/python benchmarks/city_spellings.py --orders 500000    # a quick run
    .venv/bin/python benchmarks/city_spellings.py --reuse            # keep both stores

The bare store is benchmarks/logistics.py's synthetic one (one parcel and four carrier scans per
order, real Chinese cities, one order in 500 of each kind breaking a rule). The written store is
a copy of it with each city rewritten per row: a third of the scans as the table writes it, a
third with 市, a third with 市 and a district (高新区; 重庆's districts are places of their own, so
重庆 takes 重庆市 there); the orders' ship_to_city a third each as written, with 市, and with a
province before it (江南省 stands for any) or, for the cities of geo.CITY_ALIASES, in pinyin.
SHIP001-004, PARCEL001 and LIC001 run on each store in a freshly spawned process
(benchmarks/_common), per-check seconds, CPU seconds and peak memory printed beside each other;
the script exits 1 unless every check finds the same entities on both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import host_speed, measure_full, print_table  # noqa: E402
from logistics import DEFAULT_STORE, generate, run_duckdb  # noqa: E402


def write_spellings(bare: Path, written: Path) -> None:
    """``written``: a copy of ``bare`` whose cities are spelt as shops and carriers spell them."""
    from promoguard import geo, store

    for p in (written, Path(f"{written}.wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(bare, written)
    pinyin = {city: alias for alias, city in sorted(geo.CITY_ALIASES.items(), reverse=True)}
    con = store.connect(written)
    try:
        con.execute("CREATE TEMP TABLE py (city VARCHAR, alias VARCHAR)")
        con.executemany("INSERT INTO py VALUES (?, ?)", sorted(pinyin.items()))
        wide = ", ".join(f"'{w}'" for w in geo.WIDE_MUNICIPALITIES)
        # rebuilt rather than updated in place: an UPDATE of 20M rows is a delete and an insert
        con.execute(
            f"""CREATE TABLE _te AS SELECT carrier, tracking_no, event_at, event_type,
            CASE hash(tracking_no || event_type) % 3
                WHEN 0 THEN city
                WHEN 1 THEN city || '市'
                ELSE CASE WHEN city IN ({wide}) THEN city || '市' ELSE city || '市高新区' END
            END AS city
            FROM tracking_events"""
        )
        con.execute("DELETE FROM tracking_events")
        con.execute("INSERT INTO tracking_events BY NAME SELECT * FROM _te")
        con.execute("DROP TABLE _te")
        con.execute(
            """UPDATE orders SET ship_to_city = CASE hash(order_id) % 3
                WHEN 0 THEN ship_to_city
                WHEN 1 THEN ship_to_city || '市'
                ELSE coalesce(
                    (SELECT upper(alias[1]) || alias[2:] FROM py WHERE py.city = orders.ship_to_city),
                    '江南省' || ship_to_city || '市')
            END"""
        )
        con.execute("CHECKPOINT")
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=5_000_000)
    ap.add_argument("--store", type=Path, default=DEFAULT_STORE, help="the bare store")
    ap.add_argument("--reuse", action="store_true", help="use existing stores as they are")
    args = ap.parse_args()
    written = args.store.with_name(args.store.stem + "-written.duckdb")
    if not (args.reuse and args.store.exists()):
        print(f"generated {generate(args.store, args.orders)}", file=sys.stderr)
    if not (args.reuse and written.exists()):
        write_spellings(args.store, written)
    print(json.dumps({"host_speed": host_speed()}))
    rows, found = [], {}
    for name, path in (("bare", args.store), ("written", written), ("bare again", args.store)):
        load = os.getloadavg()[0]
        m = measure_full(run_duckdb, str(path))
        per = m.result["per_check_s"]
        found[name] = m.result
        rows.append(
            {
                "store": name,
                "seconds": round(m.seconds, 1),
                "cpu_seconds": round(m.cpu_seconds, 1),
                "peak_rss_mb": round(m.peak_rss_bytes / 2**20),
                **{c: per.get(c, 0.0) for c in ("SHIP004", "PARCEL001", "SHIP001")},
                "load": round(load, 1),
            }
        )
    print_table(rows)
    same = all(found["bare"][k] == found["written"][k] for k in ("found", "SHIP001", "SHIP004"))
    print(f"findings per check: {found['bare']['found']} (bare), {found['written']['found']}")
    print(f"the same entities on both stores: {same}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
