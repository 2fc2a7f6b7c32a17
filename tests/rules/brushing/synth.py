"""A small hand-made world for the brushing and review checks: honest traffic plus planted cases.

Each planted case has its honest look-alike beside it (a loyal repeat buyer, a household sharing an
address, a hugely popular merchant), so the tests can assert both what is found and what is not.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ORDER_COLUMNS = [
    "order_id",
    "listing_id",
    "merchant_id",
    "buyer_id",
    "quantity",
    "unit_price",
    "paid_at",
    "confirmed_at",
    "status",
    "buyer_device_id",
    "buyer_address_id",
]


@dataclass
class World:
    orders: list[dict] = field(default_factory=list)
    merchants: list[str] = field(default_factory=list)
    shipments: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)

    def order(
        self,
        buyer: str,
        merchant: str,
        at: dt.datetime,
        *,
        device: str | None = None,
        address: str | None = None,
        confirmed_at: dt.datetime | None = None,
        delivered_at: dt.datetime | None = None,
    ) -> str:
        oid = f"O{len(self.orders):06d}"
        device = device or f"DV-{buyer}"
        address = address or f"AD-{buyer}"
        self.orders.append(
            {
                "order_id": oid,
                "listing_id": f"L-{merchant}",
                "merchant_id": merchant,
                "buyer_id": buyer,
                "quantity": 1,
                "unit_price": "59.00",
                "paid_at": at,
                "confirmed_at": confirmed_at,
                "status": "confirmed" if confirmed_at else "paid",
                "buyer_device_id": device,
                "buyer_address_id": address,
            }
        )
        if delivered_at is not None:
            self.shipments.append({"order_id": oid, "carrier": "SF", "tracking_no": f"T{oid}"})
            self.events.append(
                {
                    "carrier": "SF",
                    "tracking_no": f"T{oid}",
                    "event_at": delivered_at,
                    "event_type": "delivered",
                }
            )
        return oid

    def write(self, con) -> None:
        con.register(
            "_m",
            pd.DataFrame(
                {
                    "merchant_id": self.merchants,
                    "platform_id": ["tmall"] * len(self.merchants),
                    "name": self.merchants,
                }
            ),
        )
        con.execute("INSERT INTO merchants (merchant_id, platform_id, name) SELECT * FROM _m")
        con.execute(
            "INSERT INTO listings (listing_id, merchant_id, platform_id, title, category, currency) "
            "SELECT 'L-' || merchant_id, merchant_id, platform_id, name, 'food', 'CNY' FROM _m"
        )
        con.register("_o", pd.DataFrame(self.orders, columns=ORDER_COLUMNS))
        con.execute(
            f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) SELECT {', '.join(ORDER_COLUMNS)} "
            "FROM _o"
        )
        if self.shipments:
            con.register("_s", pd.DataFrame(self.shipments))
            con.execute("INSERT INTO shipments (order_id, carrier, tracking_no) SELECT * FROM _s")
            con.register("_e", pd.DataFrame(self.events))
            con.execute(
                "INSERT INTO tracking_events (carrier, tracking_no, event_at, event_type) "
                "SELECT * FROM _e"
            )
        if self.reviews:
            cols = [
                "review_id",
                "listing_id",
                "buyer_id",
                "order_id",
                "rating",
                "created_at",
                "text",
            ]
            con.register("_r", pd.DataFrame(self.reviews, columns=cols))
            con.execute(f"INSERT INTO reviews ({', '.join(cols)}) SELECT * FROM _r")
        for name in ("_m", "_o", "_s", "_e", "_r"):
            with contextlib.suppress(Exception):  # not every view was registered
                con.unregister(name)


RING = [f"R{i:02d}" for i in range(6)]
RING_MERCHANTS = ["M010", "M011"]
LOYAL = "LOYAL0"
HOUSEHOLD = ["H0", "H1", "H2"]
LINKED = ["D0", "D1", "D2", "D3"]
LINKED_MERCHANT = "M020"
FAST_MERCHANT = "M030"
POPULAR = "M000"


def brushing_world(
    seed: int = 3, *, ring: bool = True, linked: bool = True, fast: bool = True
) -> World:
    rng = np.random.default_rng(seed)
    w = World(merchants=[f"M{i:03d}" for i in range(40)])
    honest = [f"B{i:04d}" for i in range(600)]
    weights = np.ones(40)
    weights[0] = 30.0  # the hugely popular merchant
    weights /= weights.sum()
    for b in honest:
        for _ in range(rng.integers(1, 4)):
            m = w.merchants[rng.choice(40, p=weights)]
            at = T0 + dt.timedelta(minutes=int(rng.integers(0, 20 * 24 * 60)))
            delivered = at + dt.timedelta(days=2)
            w.order(
                b,
                m,
                at,
                delivered_at=delivered,
                confirmed_at=delivered + dt.timedelta(hours=int(rng.integers(6, 120))),
            )
    # a heavy honest buyer of the popular merchant and repeat buyers everywhere
    for k in range(12):
        w.order("HEAVY0", POPULAR, T0 + dt.timedelta(hours=30 * k))
    # loyal repeat buyer: many orders from one shop over weeks
    for k in range(15):
        w.order(LOYAL, "M012", T0 + dt.timedelta(days=k, hours=3))
    # household: three people at one address, each buying from different shops
    for i, b in enumerate(HOUSEHOLD):
        for k in range(4):
            w.order(
                b, f"M{1 + 5 * i + k:03d}", T0 + dt.timedelta(days=2 * k + i), address="AD-HOME"
            )
    if ring:
        for i, b in enumerate(RING):
            for m in RING_MERCHANTS:
                for k in range(3 + (i % 2)):
                    w.order(b, m, T0 + dt.timedelta(days=5, hours=7 * k + i))
            w.order(b, POPULAR, T0 + dt.timedelta(days=9, hours=i))  # camouflage
    if linked:
        for i, b in enumerate(LINKED):
            w.order(
                b,
                LINKED_MERCHANT,
                T0 + dt.timedelta(days=8, minutes=40 * i),
                device="DV-SHARED" if i % 2 else f"DV-{b}",
                address="AD-DROP" if i < 3 else "AD-D3",
            )
        # D3 is linked through the shared device (D1, D3 share DV-SHARED; D0..D2 share AD-DROP)
    if fast:
        for h in range(6):
            for i in range(4):
                b = f"F{i}"
                for k in range(3):
                    at = T0 + dt.timedelta(days=h, hours=2, minutes=10 * k + i)
                    delivered = at + dt.timedelta(days=1)
                    w.order(
                        b,
                        FAST_MERCHANT,
                        at,
                        delivered_at=delivered,
                        confirmed_at=delivered + dt.timedelta(minutes=2),
                    )
    return w


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
