"""Benchmark BRUSH001 (dense-block peeling) and REVIEW001 (MinHash LSH) at city scale on DuckDB,
with networkx and datasketch baselines on subsamples.

    .venv/bin/python benchmarks/brushing.py                          # 5M orders, 2M reviews
    .venv/bin/python benchmarks/brushing.py --orders 500000 --reviews 200000   # a quick run
    .venv/bin/python benchmarks/brushing.py --reuse                  # keep an existing store

The store is synthetic, generated with DuckDB SQL in about a minute (the simulator's city scale is
much slower): ~55,000 merchants with skewed popularity (merchant 0 hugely popular), ~2.8M buyers
with skewed activity, orders over 40 days. Planted: one ring per 5,000 orders (8 fresh accounts,
each ordering 3 times on different days from each of 2 shops, plus 2 camouflage orders at popular
shops); honest reviews composed from a bank of 60 Chinese phrases (1-8 phrases, so most long
ones are unique) and one near-duplicate group per 1,000 reviews (8 buyers, one template with word
swaps). Each run happens in a freshly spawned process (benchmarks/_common), so its peak RSS is its
own: interpreter, imports, data and work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import measure_full, print_table  # noqa: E402

DEFAULT_STORE = Path(os.environ.get("TMPDIR", "/tmp")) / "promoguard-bench" / "brushing.duckdb"
PHRASES = [
    "质量不错",
    "物流很快",
    "包装完好",
    "颜色好看",
    "尺码合适",
    "性价比高",
    "客服耐心",
    "做工精细",
    "会回购的",
    "推荐购买",
    "家人很喜欢",
    "比实体店便宜",
    "用了一周再来评价",
    "值得入手",
    "味道很好",
    "孩子很喜欢",
    "送朋友的朋友很喜欢",
    "有点小瑕疵但能接受",
    "发货有点慢",
    "和描述一致",
    "双11价格划算",
    "第二次购买了",
    "面料舒服",
    "没有异味",
    "电池很耐用",
    "声音清晰",
    "屏幕很亮",
    "安装简单",
    "说明书清楚",
    "赠品也不错",
    "快递小哥很热情",
    "下雨天也按时送到",
    "穿上很显瘦",
    "洗了不掉色",
    "保质期很新鲜",
    "分量很足",
    "甜度刚好",
    "老人用着方便",
    "操作简单",
    "充电很快",
    "尺寸比想象中大",
    "线头有点多",
    "盒子有点压坏了",
    "客服回复很及时",
    "物超所值",
    "已经推荐给同事",
    "性价比超高",
    "颜值很高",
    "做工一般般",
    "还需要再用用看",
    "总体满意",
    "包装很精美",
    "适合送礼",
    "店家很负责",
    "发错了颜色但很快换了",
    "比上次买的好",
    "用着很顺手",
    "很实用",
]
TEMPLATE = "收到货第一时间就试了{n}质量{a}包装也很用心{w}都说好强烈推荐这家店铺下次活动还会再来"
NOUNS = ("蜂蜜", "面霜", "牛仔裤", "血糖仪", "羽绒服", "牛肉干", "红酒", "连衣裙")
ADJ = ("超级好", "非常好", "特别好", "真的好", "很不错")
WHO = ("朋友", "家人", "同事", "闺蜜", "室友")


def generate(path: Path, orders: int, reviews: int) -> dict[str, int]:
    """Write the synthetic store; returns its planted counts."""
    from promoguard import store

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = store.connect(path)
    n_rings = max(1, orders // 5000)
    ring_orders = n_rings * 8 * 8
    honest = orders - ring_orders
    n_merchants = max(200, orders // 90)
    n_buyers = int(orders * 0.56)
    t0 = "TIMESTAMPTZ '2026-10-10 00:00:00+00'"
    u = "((hash(i, {salt}) % 1000000) / 1000000.0)"  # a deterministic uniform per row and salt
    con.execute(
        f"""INSERT INTO merchants (merchant_id, platform_id, name)
        SELECT 'M' || lpad(i::VARCHAR, 7, '0'), 'tmall', 'shop ' || i FROM range({n_merchants}) t(i)"""
    )
    con.execute(
        f"""INSERT INTO listings (listing_id, merchant_id, platform_id, title, category, currency)
        SELECT 'L' || lpad(i::VARCHAR, 8, '0'), 'M' || lpad((i // 3)::VARCHAR, 7, '0'), 'tmall',
               'item ' || i, 'food', 'CNY' FROM range({n_merchants * 3}) t(i)"""
    )
    # honest orders: skewed shops (merchant 0 hugely popular) and skewed buyers
    con.execute(
        f"""INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price,
            paid_at, confirmed_at, status, buyer_device_id, buyer_address_id)
        WITH r AS (
          SELECT i,
            CASE WHEN {u.format(salt=1)} < 0.03 THEN 0
                 ELSE floor({n_merchants} * pow({u.format(salt=2)}, 2.2))::BIGINT END AS m,
            floor({n_buyers} * pow({u.format(salt=3)}, 1.6))::BIGINT AS b,
            (hash(i, 4) % (40 * 86400))::BIGINT AS s,
            (hash(i, 5) % 3)::BIGINT AS k
          FROM range({honest}) t(i))
        SELECT 'O' || lpad(i::VARCHAR, 10, '0'), 'L' || lpad((3 * m + k)::VARCHAR, 8, '0'),
               'M' || lpad(m::VARCHAR, 7, '0'), 'B' || lpad(b::VARCHAR, 8, '0'), 1, 59.00,
               {t0} + to_seconds(s), {t0} + to_seconds(s + 4 * 86400), 'confirmed',
               'DV' || b, 'AD' || b
        FROM r"""
    )
    # rings: 8 fresh accounts x 2 shops x 3 orders on different days, + 2 camouflage orders each
    con.execute(
        f"""INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price,
            paid_at, confirmed_at, status, buyer_device_id, buyer_address_id)
        WITH r AS (
          SELECT i, i // 64 AS ring, (i % 64) // 8 AS member, i % 8 AS slot FROM range({ring_orders}) t(i)),
        s AS (
          SELECT i, ring, member, slot,
            CASE WHEN slot < 6 THEN 1000 + (hash(ring, slot // 3, 7) % ({n_merchants} - 1000))
                 ELSE hash(ring, member, slot, 8) % 20 END AS m,
            {n_buyers} + ring * 8 + member AS b,
            ((slot % 3) * 9 + hash(ring, member, slot, 9) % 9) * 86400 + hash(i, 10) % 86400 AS s
          FROM r)
        SELECT 'R' || lpad(i::VARCHAR, 10, '0'), 'L' || lpad((3 * m)::VARCHAR, 8, '0'),
               'M' || lpad(m::VARCHAR, 7, '0'), 'B' || lpad(b::VARCHAR, 8, '0'), 1, 59.00,
               {t0} + to_seconds(s), NULL, 'paid', 'DV' || b, 'AD' || b
        FROM s"""
    )
    phrases = "[" + ", ".join(f"'{p}'" for p in PHRASES) + "]"
    n_groups = max(1, reviews // 1000)
    dup = n_groups * 8
    # honest reviews: 1-8 phrases from the bank in a random order, on honest orders
    parts = " || '，' || ".join(
        f"CASE WHEN n > {j} THEN list_extract({phrases}, (1 + hash(md5(i::VARCHAR || ':{j}')) % {len(PHRASES)})::BIGINT) "
        f"ELSE '' END"
        for j in range(8)
    )
    con.execute(
        f"""INSERT INTO reviews (review_id, listing_id, buyer_id, order_id, rating, created_at, text)
        WITH r AS (SELECT i, 1 + hash(i, 19) % 8 AS n FROM range({reviews - dup}) t(i))
        SELECT 'V' || lpad(r.i::VARCHAR, 10, '0'), o.listing_id, o.buyer_id, o.order_id,
               (3 + hash(r.i, 18) % 3)::SMALLINT, o.paid_at + INTERVAL 5 DAY,
               rtrim({parts}, '，')
        FROM r JOIN orders o ON o.order_id = 'O' || lpad((r.i * 2)::VARCHAR, 10, '0')"""
    )
    # near-duplicate groups: one template per group, word swaps, 8 buyers of one shop
    noun = "[" + ", ".join(f"'{x}'" for x in NOUNS) + "]"
    adj = "[" + ", ".join(f"'{x}'" for x in ADJ) + "]"
    who = "[" + ", ".join(f"'{x}'" for x in WHO) + "]"
    text = TEMPLATE.replace("{n}", "' || list_extract(" + noun + ", (1 + g % 8)::BIGINT) || '")
    text = text.replace("{a}", "' || list_extract(" + adj + ", (1 + hash(i, 31) % 5)::BIGINT) || '")
    text = text.replace("{w}", "' || list_extract(" + who + ", (1 + hash(i, 32) % 5)::BIGINT) || '")
    con.execute(
        f"""INSERT INTO reviews (review_id, listing_id, buyer_id, order_id, rating, created_at, text)
        WITH r AS (SELECT i, i // 8 AS g FROM range({dup}) t(i))
        SELECT 'D' || lpad(i::VARCHAR, 10, '0'),
               'L' || lpad((3 * (5000 + g % 40000))::VARCHAR, 8, '0'),
               'BD' || lpad(i::VARCHAR, 8, '0'), NULL, 5::SMALLINT,
               {t0} + to_seconds(g * 600 + i % 8 * 60), '{text}'
        FROM r"""
    )
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("orders", "reviews", "merchants")
    }
    con.close()
    return {**counts, "rings": n_rings, "dup_groups": n_groups, "dup_reviews": dup}


def run_check(store_path: str, code: str) -> dict:
    """One check through the engine on DuckDB; returns its findings' entity ids and counts."""
    from promoguard import store
    from promoguard.engine import registry
    from promoguard.engine.backends import duckdb_tables
    from promoguard.engine.packs import load_pack
    from promoguard.engine.run import run_checks

    con = store.connect(store_path, read_only=True)
    with duckdb_tables(con) as tables:
        result = run_checks(
            tables,
            [registry.get(code)],
            load_pack("cn"),
            engine="duckdb",
            scan_id="bench",
            detected_at=dt.datetime.now(dt.UTC),
        )
    con.close()
    f = result.findings
    return {"findings": len(f), "entities": sorted(f.entity_id)}


def _ring_recall(entities: list[str], n_rings: int, n_buyers_base: int) -> float:
    found = set(entities)
    hits = 0
    for ring in range(n_rings):
        ids = [f"B{n_buyers_base + ring * 8 + j:08d}" for j in range(8)]
        hits += "|".join(ids) in found
    return hits / n_rings


def networkx_peel(store_path: str, limit: int) -> dict:
    """Baseline: FRAUDAR's greedy peel written plainly with networkx (min-degree node by scan),
    on the first ``limit`` buyer-merchant edges."""
    import math

    import duckdb
    import networkx as nx

    con = duckdb.connect(store_path, read_only=True)
    edges = con.execute(
        f"""SELECT buyer_id, merchant_id, count(*) AS n FROM orders
        GROUP BY ALL ORDER BY buyer_id, merchant_id LIMIT {int(limit)}"""
    ).fetchall()
    con.close()
    g = nx.Graph()
    deg: dict[str, int] = {}
    for _, m, _n in edges:
        deg[m] = deg.get(m, 0) + 1
    for b, m, n in edges:
        w = math.log(n) / math.log(deg[m] + 5.0)
        g.add_edge(("b", b), ("m", m), weight=w)
    total = g.size(weight="weight")
    best, best_k, order = total / g.number_of_nodes(), 0, []
    while g.number_of_nodes() > 1:
        v = min(g.nodes, key=lambda x: (g.degree(x, weight="weight"), x))
        total -= g.degree(v, weight="weight")
        g.remove_node(v)
        order.append(v)
        if total / g.number_of_nodes() >= best:
            best, best_k = total / g.number_of_nodes(), len(order)
    return {"edges": len(edges), "density": best, "removed": best_k}


def array_peel(store_path: str, limit: int) -> dict:
    """Ours on the same subsample: the array greedy peel (fraudar.greedy_peel)."""
    import duckdb
    import numpy as np

    from promoguard.graph import fraudar

    con = duckdb.connect(store_path, read_only=True)
    t = con.sql(
        f"""SELECT buyer_id, merchant_id, count(*) AS n FROM orders
        GROUP BY ALL ORDER BY buyer_id, merchant_id LIMIT {int(limit)}"""
    ).to_arrow_table()
    con.close()
    b = np.unique(t.column(0).to_numpy(zero_copy_only=False), return_inverse=True)[1]
    m_ids, m = np.unique(t.column(1).to_numpy(zero_copy_only=False), return_inverse=True)
    n = t.column(2).to_numpy()
    w = fraudar.camouflage_weights(m, n, len(m_ids))
    g = fraudar.BipartiteGraph.build(int(b.max()) + 1, len(m_ids), b, m, w, n)
    return {"edges": len(n), "density": fraudar.greedy_peel(g).density}


def datasketch_lsh(store_path: str, limit: int) -> dict:
    """Baseline: datasketch MinHash + MinHashLSH on the first ``limit`` long reviews."""
    import duckdb
    from datasketch import MinHash, MinHashLSH

    from promoguard.graph.minhash import normalise, weighted_length

    con = duckdb.connect(store_path, read_only=True)
    rows = con.execute(
        f"SELECT review_id, text FROM reviews ORDER BY review_id LIMIT {int(limit)}"
    ).fetchall()
    con.close()
    lsh = MinHashLSH(threshold=0.6, num_perm=64)
    kept = 0
    for rid, text in rows:
        t = normalise(text)
        if weighted_length(t) < 30:
            continue
        mh = MinHash(num_perm=64)
        mh.update_batch([t[i : i + 3].encode() for i in range(len(t) - 2)])
        lsh.insert(rid, mh)
        kept += 1
    return {"reviews": len(rows), "hashed": kept}


def numpy_lsh(store_path: str, limit: int) -> dict:
    """Ours on the same subsample: the REVIEW001 clustering function."""
    import duckdb

    from promoguard.engine import registry
    from promoguard.rules.reviews._shared import duplicate_clusters

    con = duckdb.connect(store_path, read_only=True)
    t = con.sql(
        f"SELECT review_id, buyer_id, text FROM reviews ORDER BY review_id LIMIT {int(limit)}"
    ).to_arrow_table()
    con.close()
    params = registry.get("REVIEW001").parameter_defaults()
    return {"reviews": t.num_rows, "in_clusters": len(duplicate_clusters(t, params))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=5_000_000)
    ap.add_argument("--reviews", type=int, default=2_000_000)
    ap.add_argument("--store", type=Path, default=DEFAULT_STORE)
    ap.add_argument("--reuse", action="store_true", help="keep an existing store")
    ap.add_argument("--baseline-edges", type=int, default=5_000)
    ap.add_argument("--baseline-reviews", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    meta_path = args.store.with_suffix(".json")
    if not (args.reuse and args.store.exists() and meta_path.exists()):
        started = time.perf_counter()
        meta = generate(args.store, args.orders, args.reviews)
        meta["generate_seconds"] = round(time.perf_counter() - started, 1)
        meta_path.write_text(json.dumps(meta))
    meta = json.loads(meta_path.read_text())
    print(f"store: {meta}", file=sys.stderr)
    base_buyers = int(args.orders * 0.56)
    rows = []
    for code in ("BRUSH001", "REVIEW001"):
        m = measure_full(run_check, str(args.store), code)
        row = {
            "what": f"{code} (promoguard, DuckDB)",
            "input": f"{meta['orders']:,} orders"
            if code == "BRUSH001"
            else f"{meta['reviews']:,} reviews",
            "seconds": m.seconds,
            "cpu_seconds": m.cpu_seconds,
            "peak_rss_mb": m.peak_rss_bytes / 2**20,
            "findings": m.result["findings"],
        }
        if code == "BRUSH001":
            row["planted_found"] = round(
                _ring_recall(m.result["entities"], meta["rings"], base_buyers), 4
            )
        else:
            planted = sum(e.startswith("D") for e in m.result["entities"])
            row["planted_found"] = round(planted / meta["dup_reviews"], 4)
            row["findings"] = f"{m.result['findings']:,} ({planted:,} planted)"
        rows.append(row)
    for label, fn, n in (
        ("greedy peel, networkx", networkx_peel, args.baseline_edges),
        ("greedy peel, ours (arrays)", array_peel, args.baseline_edges),
        ("MinHash LSH, datasketch", datasketch_lsh, args.baseline_reviews),
        ("MinHash LSH, ours (numpy)", numpy_lsh, args.baseline_reviews),
    ):
        m = measure_full(fn, str(args.store), n)
        rows.append(
            {
                "what": label,
                "input": f"{n:,} {'edges' if 'peel' in label else 'reviews'} (subsample)",
                "seconds": m.seconds,
                "cpu_seconds": m.cpu_seconds,
                "peak_rss_mb": m.peak_rss_bytes / 2**20,
                "findings": "",
                "planted_found": "",
            }
        )
    if args.json:
        print(json.dumps({"store": meta, "rows": rows}, default=str))
    else:
        print_table(rows)


if __name__ == "__main__":
    main()
