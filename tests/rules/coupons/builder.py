"""A hand-made store for the coupon and prize rules: one platform, a merchant per case, rows taken
from the law's own examples (never from the simulator)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
from tests.support import listing, make_store, write_rows

UTC = dt.UTC
#: 11-11 00:00 Beijing
D11 = dt.datetime(2026, 11, 10, 16, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return D11 + dt.timedelta(days=days, hours=hours)


def money(x: str | int | float | None) -> Decimal | None:
    return None if x is None else Decimal(str(x))


class Book:
    """One store; each call adds rows (through ``tests.support.write_rows``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con = make_store(path, {"platforms": [{"platform_id": "P1", "name": "Shop platform"}]})
        self._n = 0
        self._merchants: set[str] = set()
        self._listing_merchant: dict[str, str] = {}
        self._platforms: set[str] = set()

    def _add(self, table: str, **row) -> None:
        write_rows(self.con, {table: [row]})

    def shop(self, mid: str) -> str:
        """A merchant of its own per case: a merchant's coupons apply to all its listings."""
        if mid not in self._merchants:
            self._add("merchants", merchant_id=mid, platform_id="P1", name="Shop")
            self._merchants.add(mid)
        return mid

    def platform(self, pid: str) -> str:
        """A second platform (P1 is the store's own)."""
        if pid != "P1" and pid not in self._platforms:
            self._add("platforms", platform_id=pid, name="Other platform")
            self._platforms.add(pid)
        return pid

    def listing(
        self, lid: str, merchant: str, category: str = "electronics", *, platform: str = "P1"
    ) -> str:
        """A listing of ``merchant``'s (a shop of P1), on ``platform`` as its row says."""
        self.shop(merchant)
        self.platform(platform)
        write_rows(self.con, {"listings": [listing(lid, merchant, platform, category)]})
        self._listing_merchant[lid] = merchant
        return lid

    def coupon(
        self,
        cid: str,
        merchant: str,
        *,
        kind: str = "threshold",
        announced: dt.datetime | None = None,
        valid_from: dt.datetime | None = None,
        valid_to: dt.datetime | None = None,
        unannounced: bool = False,
    ) -> str:
        self.shop(merchant)
        self._add(
            "coupons",
            coupon_id=cid,
            platform_id="P1",
            merchant_id=merchant,
            kind=kind,
            announced_at=None if unannounced else announced or at(-10),
            valid_from=valid_from or at(-3),
            valid_to=valid_to or at(2),
        )
        return cid

    def platform_coupon(self, cid: str, *, kind: str = "red_envelope", platform: str = "P1") -> str:
        """A coupon the platform issues (a 红包 usable at every shop of it): no merchant."""
        self.platform(platform)
        self._add(
            "coupons",
            coupon_id=cid,
            platform_id=platform,
            merchant_id=None,
            kind=kind,
            announced_at=at(-10),
            valid_from=at(-3),
            valid_to=at(2),
        )
        return cid

    def terms(
        self,
        cid: str,
        source: str,
        effective: dt.datetime,
        *,
        face=None,
        pct=None,
        threshold=None,
        max_discount=None,
        scope: str | None = "all",
        stackable: bool | None = True,
        cap: int | None = None,
        valid_to: dt.datetime | None = None,
        disclosure: str | None = None,
        text: str | None = None,
    ) -> None:
        if source == "displayed" and disclosure is None:
            disclosure = "prominent"
        self._add(
            "coupon_terms",
            coupon_id=cid,
            effective_at=effective,
            source=source,
            face_value=money(face),
            percent_off=money(pct),
            threshold_amount=money(threshold),
            max_discount=money(max_discount),
            scope=scope,
            stackable=stackable,
            per_buyer_cap=cap,
            valid_to=valid_to,
            disclosure=disclosure,
            shown_text=text,
        )

    def both(self, cid: str, effective: dt.datetime, **terms) -> None:
        """The same terms displayed and applied from ``effective`` on."""
        self.terms(cid, "displayed", effective, **terms)
        terms.pop("disclosure", None)
        terms.pop("text", None)
        self.terms(cid, "applied", effective, **terms)

    def observe(self, lid: str, when: dt.datetime, price, claim=None, qty: int | None = None):
        self._add(
            "price_observations",
            listing_id=lid,
            observed_at=when,
            price=money(price),
            channel="detail",
            final_price_claim=money(claim),
            final_price_qty=qty,
        )

    def order(
        self,
        lid: str,
        unit,
        qty: int,
        paid: dt.datetime,
        placed=None,
        buyer: str = "B1",
        status: str = "paid",
        discount_total=None,
    ) -> str:
        self._n += 1
        oid = f"O{self._n}"
        self._add(
            "orders",
            order_id=oid,
            listing_id=lid,
            merchant_id=self._listing_merchant[lid],
            buyer_id=buyer,
            quantity=qty,
            unit_price=money(unit),
            paid_at=paid,
            placed_at=placed,
            status=status,
            discount_total=money(discount_total),
        )
        return oid

    def redeem(self, oid: str, cid: str, amount) -> None:
        self._add("coupon_redemptions", order_id=oid, coupon_id=cid, discount_amount=money(amount))

    def game(
        self,
        gid: str,
        *,
        top,
        kind: str = "lottery",
        currency: str = "CNY",
        items: str | None = None,
        changed: dt.datetime | None = None,
        favours: bool | None = None,
        announced: dt.datetime | None = None,
        unannounced: bool = False,
    ) -> str:
        from promoguard.model import PRIZE_DISCLOSURE_ITEMS

        self._add(
            "prize_promotions",
            prize_promotion_id=gid,
            platform_id="P1",
            merchant_id=None,
            name="game",
            kind=kind,
            announced_at=None if unannounced else announced if announced is not None else at(-10),
            starts_at=at(-5),
            ends_at=at(1),
            currency=currency,
            top_prize_value=money(top),
            disclosed_items=";".join(PRIZE_DISCLOSURE_ITEMS) if items is None else items,
            rules_changed_at=changed,
            change_favours_buyer=favours,
        )
        return gid

    def award(self, gid: str, buyer: str, value, when: dt.datetime | None = None) -> None:
        self._n += 1
        self._add(
            "prize_awards",
            award_id=f"A{self._n}",
            prize_promotion_id=gid,
            buyer_id=buyer,
            prize_value=money(value),
            awarded_at=when if when is not None else at(-1),
        )


class Found:
    """The findings of one scan, looked up by code and entity."""

    def __init__(self, findings: pd.DataFrame) -> None:
        self.findings = findings

    def flagged(self, code: str, prefix: str = "") -> set[str]:
        f = self.findings[self.findings.check_code == code]
        return {e for e in f.entity_id if e.startswith(prefix)}

    def observed(self, code: str, entity: str) -> dict:
        return json.loads(self._row(code, entity).observed)

    def expected(self, code: str, entity: str) -> dict:
        return json.loads(self._row(code, entity).expected)

    def _row(self, code: str, entity: str):
        f = self.findings[(self.findings.check_code == code) & (self.findings.entity_id == entity)]
        assert len(f) == 1, f"{code} {entity}: {len(f)} findings"
        return f.iloc[0]
