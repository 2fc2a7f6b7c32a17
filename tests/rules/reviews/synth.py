"""A small hand-made world for the review checks: honest reviews plus planted cases, each with
its honest look-alike (short generic praise, one buyer repeating herself)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from tests.rules.brushing.synth import T0, World

PHRASES_A = [
    "质量不错",
    "物流很快",
    "包装完好",
    "颜色好看",
    "尺码合适",
    "性价比高",
    "客服耐心",
    "做工精细",
]
PHRASES_B = ["会回购的", "推荐购买", "家人很喜欢", "比实体店便宜", "用了一周再来评价", "值得入手"]
DUP_TEXT = "宝贝收到了质量超级好跟描述的一模一样物流超快包装也很用心已经推荐给朋友了五星好评"
DUP_BUYERS = [f"DUP{i}" for i in range(5)]
BURST_LISTING = "L-M025"
BURST_BUYERS = [f"SP{i:02d}" for i in range(12)]


def review_world(seed: int = 5) -> World:
    """Honest reviews with varied wording, a near-duplicate cluster, short generic reviews, one
    buyer repeating herself, and a listing hit by a burst of five-star reviews."""
    rng = np.random.default_rng(seed)
    w = World(merchants=[f"M{i:03d}" for i in range(40)])
    n = 0

    def review(buyer, merchant, at, rating, text, delivered=None):
        nonlocal n
        oid = w.order(
            buyer, merchant, at - dt.timedelta(days=3), delivered_at=delivered, confirmed_at=None
        )
        w.reviews.append(
            {
                "review_id": f"RV{n:05d}",
                "listing_id": f"L-{merchant}",
                "buyer_id": buyer,
                "order_id": oid,
                "rating": rating,
                "created_at": at,
                "text": text,
            }
        )
        n += 1

    for i in range(500):
        b = f"B{i:04d}"
        m = f"M{rng.integers(0, 40):03d}"
        at = T0 + dt.timedelta(days=int(rng.integers(0, 20)), minutes=int(rng.integers(0, 1440)))
        parts = list(rng.choice(PHRASES_A, size=2, replace=False)) + [rng.choice(PHRASES_B)]
        text = "，".join(parts) + f"，第{i}次写评价" if i % 3 == 0 else "，".join(parts)
        rating = int(rng.choice([3, 4, 5, 5, 5]))
        review(b, m, at, rating, text, delivered=at - dt.timedelta(days=int(rng.integers(1, 5))))
        if i % 50 == 0:  # a few buyers write a second review elsewhere
            review(b, f"M{(int(m[1:]) + 1) % 40:03d}", at + dt.timedelta(days=2), 4, "还可以吧")
    for i in range(30):  # short generic reviews from many buyers
        review(
            f"G{i:03d}",
            f"M{i % 40:03d}",
            T0 + dt.timedelta(days=i % 20, hours=5),
            5,
            ["好评", "good", "不错", "好评！"][i % 4],
        )
    for i, b in enumerate(DUP_BUYERS):  # near-duplicates: one character changed each
        text = DUP_TEXT[:i] + "！" + DUP_TEXT[i + 1 :] if i else DUP_TEXT
        review(b, f"M{3 + i:03d}", T0 + dt.timedelta(days=4 + i, hours=2), 5, text)
    for k in range(2):  # one buyer repeating her own long review is not a cross-buyer cluster
        review(
            "SELF0",
            f"M{10 + k:03d}",
            T0 + dt.timedelta(days=6 + 3 * k),
            4,
            "这是我自己写的评价，两次买了同一款颜色不同的，都很满意，做工扎实，下次活动还会再来买",
        )
    burst_at = T0 + dt.timedelta(days=12, hours=20)
    for i, b in enumerate(BURST_BUYERS):
        at = burst_at + dt.timedelta(minutes=5 * i)
        review(
            b,
            "M025",
            at,
            5,
            f"{PHRASES_A[i % 8]}，{PHRASES_B[i % 6]}，赞{i}",
            delivered=at - dt.timedelta(minutes=30),
        )
    return w
