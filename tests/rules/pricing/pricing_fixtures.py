"""A tiny hand-made store for the pricing checks: one platform, a Double-11 promotion, listings
with daily detail prices, promotion-day references and orders (rows written by
``tests.support``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
from tests.support import listing, make_store, write_rows

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
        self.path = path
        self.con: duckdb.DuckDBPyConnection = make_store(
            path,
            {
                "platforms": [{"platform_id": "tm", "name": "Tmall"}],
                "merchants": [{"merchant_id": "m1", "platform_id": "tm", "name": "Shop"}],
                "promotions": [
                    {
                        "promotion_id": "d11",
                        "platform_id": "tm",
                        "name": "Double 11",
                        "starts_at": PROMO_START,
                        "ends_at": PROMO_END,
                        "announced_at": PROMO_START - dt.timedelta(days=20),
                    }
                ],
            },
        )
        self._order = 0

    def _add(self, table: str, **row) -> None:
        write_rows(self.con, {table: [row]})

    def shop(self, mid: str, platform: str = "tm") -> None:
        """Another shop (on another platform, made here, when ``platform`` is not tm)."""
        if platform != "tm":
            self._add("platforms", platform_id=platform, name=platform)
        self._add("merchants", merchant_id=mid, platform_id=platform, name=mid)

    def listing(
        self,
        lid: str,
        *,
        msrp: str | None = None,
        title: str = "item",
        shop: str = "m1",
        platform: str = "tm",
        currency: str = "CNY",
    ) -> None:
        self._add(
            "listings",
            **listing(
                lid,
                shop,
                platform,
                "electronics",
                title,
                msrp=Decimal(msrp) if msrp else None,
                currency=currency,
            ),
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
        claim: str | None = None,
    ) -> None:
        self._add(
            "price_observations",
            listing_id=lid,
            observed_at=at,
            price=Decimal(price),
            reference_price=Decimal(ref) if ref else None,
            reference_label=label,
            claimed_discount_pct=Decimal(pct) if pct else None,
            channel=channel,
            final_price_claim=Decimal(claim) if claim else None,
        )

    def order(
        self,
        lid: str,
        at: dt.datetime,
        price: str,
        status: str = "confirmed",
        shop: str = "m1",
    ) -> None:
        self._order += 1
        self._add(
            "orders",
            order_id=f"o{self._order}",
            listing_id=lid,
            merchant_id=shop,
            buyer_id="b1",
            quantity=1,
            unit_price=Decimal(price),
            paid_at=at,
            status=status,
        )

    def close(self) -> None:
        self.con.close()
