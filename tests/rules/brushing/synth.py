"""A small hand-made world for the brushing checks: honest traffic plus planted cases.

Each planted case has its honest look-alike beside it (a loyal repeat buyer, a household sharing an
address, a hugely popular merchant), so the tests can assert both what is found and what is not.
"""

from __future__ import annotations

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
REVIEW_COLUMNS = ["review_id", "listing_id", "buyer_id", "order_id", "rating", "created_at", "text"]


@dataclass
class World:
    orders: list[dict] = field(default_factory=list)
    merchants: list[str] = field(default_factory=list)
    shipments: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    reviews: list[dict] = field(default_factory=list)
    #: a merchant's platform when it is not "tmall"
    platform_of: dict[str, str] = field(default_factory=dict)

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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The world's rows per table (for ``tests.support.make_store`` / ``tiny_store``)."""
        platforms = [self.platform_of.get(m, "tmall") for m in self.merchants]
        return {
            "merchants": pd.DataFrame(
                {
                    "merchant_id": self.merchants,
                    "platform_id": platforms,
                    "name": self.merchants,
                }
            ),
            "listings": pd.DataFrame(
                {
                    "listing_id": [f"L-{m}" for m in self.merchants],
                    "merchant_id": self.merchants,
                    "platform_id": platforms,
                    "title": self.merchants,
                    "category": ["food"] * len(self.merchants),
                    "currency": ["CNY"] * len(self.merchants),
                }
            ),
            "orders": pd.DataFrame(self.orders, columns=ORDER_COLUMNS),
            "shipments": pd.DataFrame(self.shipments),
            "tracking_events": pd.DataFrame(self.events),
            "reviews": pd.DataFrame(self.reviews, columns=REVIEW_COLUMNS),
        }


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
