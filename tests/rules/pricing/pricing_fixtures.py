"""A tiny hand-made store for the pricing checks: one platform, a Double-11 promotion, listings
with daily detail prices, promotion-day references and orders, written as plain INSERTs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb

from promoguard import store

UTC = dt.UTC
#: Double 11 in Beijing time: 2026-11-11 00:00+08 .. 2026-11-12 00:00+08
PROMO_START = dt.datetime(2026, 11, 10, 16, tzinfo=UTC)
PROMO_END = PROMO_START + dt.timedelta(days=1)


def day(n: int, hour: int = 4) -> dt.datetime:
    """``n`` days relative to the promotion start (negative: before), at ``hour`` hours in."""
    return PROMO_START + dt.timedelta(days=n, hours=hour)


class Season:
    """Builds one store; each ``listing`` call adds a listing with its own history."""

    def __init__(self, path: Path | str) -> None:
        self.con: duckdb.DuckDBPyConnection = store.connect(path)
        self.path = path
        self.con.execute("INSERT INTO platforms VALUES ('tm', 'Tmall')")
        self.con.execute("INSERT INTO merchants VALUES ('m1', 'tm', 'Shop', NULL)")
        self.con.execute(
            "INSERT INTO promotions VALUES ('d11', 'tm', 'Double 11', ?, ?, ?)",
            [PROMO_START, PROMO_END, PROMO_START - dt.timedelta(days=20)],
        )
        self._order = 0

    def listing(self, lid: str, *, msrp: str | None = None, title: str = "item") -> None:
        self.con.execute(
            "INSERT INTO listings VALUES (?, 'm1', 'tm', ?, 'electronics', 'CNY', ?)",
            [lid, title, Decimal(msrp) if msrp else None],
        )

    def prices(self, lid: str, first: int, last: int, price: str, channel: str = "detail") -> None:
        """A detail price each day from ``first`` to ``last`` (days relative to the promotion)."""
        for d in range(first, last + 1):
            self.obs(lid, day(d), price, channel=channel)

    def obs(
        self,
        lid: str,
        at: dt.datetime,
        price: str,
        *,
        ref: str | None = None,
        label: str | None = None,
        pct: str | None = None,
        channel: str = "detail",
    ) -> None:
        self.con.execute(
            "INSERT INTO price_observations (listing_id, observed_at, price, reference_price, "
            "reference_label, claimed_discount_pct, channel) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                lid,
                at,
                Decimal(price),
                Decimal(ref) if ref else None,
                label,
                Decimal(pct) if pct else None,
                channel,
            ],
        )

    def order(self, lid: str, at: dt.datetime, price: str, status: str = "confirmed") -> None:
        self._order += 1
        self.con.execute(
            "INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, "
            "unit_price, paid_at, status) VALUES (?, ?, 'm1', 'b1', 1, ?, ?, ?)",
            [f"o{self._order}", lid, Decimal(price), at, status],
        )

    def close(self) -> None:
        self.con.close()
