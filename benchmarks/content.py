"""Content-check text engine throughput: 1M mixed Chinese and English texts (~100 MB).

    .venv/bin/python benchmarks/content.py                 # 1,000,000 texts
    .venv/bin/python benchmarks/content.py --texts 100000  # quicker

What is timed: every text through the rules of all seven content codes (TEXT001-006 and
REVIEW002), exactly as the checks run them (``ContentRules.prepare_many`` then each rule's ``decide`` for
each prepared text), on one core. The baseline, in the same run, is the naive approach: one compiled
regular expression per lexicon term, searched in each raw text (no normalisation, no identifiers,
so it does less work and still misses evasions). The baseline is measured on a sample and
extrapolated per byte, as the report says. Each side runs in a fresh process (``_common.measure_full``),
so peak memory is its own. The texts are generated in that process before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import measure_full, print_table  # noqa: E402

ZH = [
    "支持七天无理由退货。", "下单后48小时内发货。", "详情请咨询在线客服。", "本店商品均为正品。",
    "包装简约环保，颜色以实物为准。", "尺码请参考详情页尺码表。", "收到后请检查外包装。", "保质期见包装。",
    "亲，您的订单已经安排发货了。", "亲，快递一般三到五天送达。", "欢迎来到直播间，", "今天给大家介绍这款羽绒服，",
    "家人们看一下这个做工，", "原价299元，今天直播间199元，", "点击下方小黄车就可以下单，", "质量不错，物流很快。",
    "最近很多顾客回购。", "这是我们店第一次参加双11。", "首先感谢大家的支持。", "顶部有拉链设计……",
    "同款在唯品会也有售。", "订单号 2026111198765432。", "双11狂欢，限时优惠！", "山野坚果礼盒 家庭装 ",
]  # fmt: skip
EN = [
    "Free returns within 7 days. ", "Ships within 48 hours of payment. ", "Genuine product. ",
    "Contact customer service for details. ", "Colours may vary slightly from photos. ",
    "Welcome to the live room, ", "today we have this down jacket, ", "regular price 299 yuan, ",
    "Hi, your order has been dispatched. ", "Latest model, top zipper. ", "good quality, fast delivery. ",
]  # fmt: skip
BAD = [
    "全网最低", "最*好", "ＮＯ．１", "降血压", "另有仿真枪出售", "加微信 abcd123 领优惠", "V信：kk5678",
    "收件人电话 13812345678", "退款请打到这张卡 6222021234567890128", "好评返现", "直降500！", "最后三单！",
    "best ever", "cures eczema", "leave a 5-star review and get a refund", "only 2 left!",
]  # fmt: skip
KINDS = ["listing_title", "listing_description", "livestream", "chat", "ad"]
CATEGORIES = ["food", "cosmetics", "apparel", "electronics", "medical_device", None]


def generate(n: int, seed: int = 7) -> tuple[list[str], list[str], list[str | None]]:
    """n texts of about 100 bytes of UTF-8 each: 75% Chinese, 2% with a violation."""
    rng = random.Random(seed)
    texts, kinds, cats = [], [], []
    for _ in range(n):
        pool = ZH if rng.random() < 0.75 else EN
        parts = [
            rng.choice(pool) for _ in range(rng.randint(2, 4) if pool is ZH else rng.randint(2, 3))
        ]
        if rng.random() < 0.02:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(BAD))
        texts.append("".join(parts))
        kinds.append(rng.choice(KINDS))
        cats.append(rng.choice(CATEGORIES))
    return texts, kinds, cats


def run_engine(n: int, repeat: int = 1) -> dict[str, float]:
    """The engine over n texts, ``repeat`` times; the fastest run counts (the others measure the
    machine's noise, not the engine)."""
    from promoguard.rules.content._shared import content_rules, decide_all
    from promoguard.text.lexicon import load_terms
    from promoguard.text.rules import ContentRules

    texts, kinds, cats = generate(n)
    size = sum(len(t.encode("utf-8")) for t in texts)
    rules = ContentRules(load_terms())
    chosen = content_rules()
    runs = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        found = 0
        for text_kind, cat, prep in zip(kinds, cats, rules.prepare_many(texts), strict=True):
            if prep is not None:
                found += len(decide_all(prep, text_kind, cat, rules=chosen))
        runs.append((time.process_time() - cpu, time.perf_counter() - start))
    cpu, seconds = min(runs)
    return {
        "texts": n,
        "bytes": size,
        "seconds": seconds,
        "cpu": cpu,
        "cpu_all": [round(r[0], 2) for r in runs],
        "findings": found,
    }


def run_baseline(n: int, repeat: int = 1) -> dict[str, float]:
    from promoguard.text.lexicon import load_terms

    texts, _, _ = generate(n, seed=11)
    size = sum(len(t.encode("utf-8")) for t in texts)
    patterns = [re.compile(re.escape(t.term), re.I) for t in load_terms() if t.code != "ALLOW"]
    runs = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        found = 0
        for text in texts:
            for p in patterns:
                if p.search(text):
                    found += 1
        runs.append((time.process_time() - cpu, time.perf_counter() - start))
    cpu, seconds = min(runs)
    return {
        "texts": n,
        "bytes": size,
        "seconds": seconds,
        "cpu": cpu,
        "findings": found,
        "patterns": len(patterns),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=1_000_000)
    ap.add_argument("--baseline-sample", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per side; the fastest counts")
    args = ap.parse_args()
    em = measure_full(run_engine, args.texts, args.repeat)
    bm = measure_full(run_baseline, min(args.baseline_sample, args.texts), args.repeat)
    e, e_peak, b, b_peak = em.result, em.peak_rss_bytes, bm.result, bm.peak_rss_bytes
    mb = e["bytes"] / 1e6
    # per core = bytes over the process's own CPU seconds (wall time is shown beside it: on a
    # shared machine it also counts time spent waiting for a core)
    e_rate = mb / e["cpu"]
    b_rate = (b["bytes"] / 1e6) / b["cpu"]
    b_full = e["bytes"] / 1e6 / b_rate
    rows = [
        {
            "method": "promoguard text engine (7 codes)",
            "texts": e["texts"],
            "MB": round(mb, 1),
            "wall_s": round(e["seconds"], 2),
            "cpu_s": round(e["cpu"], 2),
            "MB/s/core": round(e_rate, 1),
            "peak_rss_MB": round(e_peak / 2**20),
        },
        {
            "method": f"regex per term ({b['patterns']} patterns), {b['texts']:,}-text sample",
            "texts": b["texts"],
            "MB": round(b["bytes"] / 1e6, 1),
            "wall_s": round(b["seconds"], 2),
            "cpu_s": round(b["cpu"], 2),
            "MB/s/core": round(b_rate, 2),
            "peak_rss_MB": round(b_peak / 2**20),
        },
    ]
    print_table(rows)
    summary = {
        "engine_mb_per_s": round(e_rate, 2),
        "baseline_mb_per_s": round(b_rate, 3),
        "speedup": round(e_rate / b_rate, 1),
        "baseline_extrapolated_cpu_seconds_for_all": round(b_full, 1),
        "engine_findings": e["findings"],
        "engine_cpu_seconds_per_run": e["cpu_all"],
        "python": sys.version.split()[0],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
