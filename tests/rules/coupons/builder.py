"""A hand-made store for the coupon and prize rules: one platform, one merchant, written as plain
INSERTs from the law's own examples (never from the simulator)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

from promoguard import engine, store

UTC = dt.UTC
#: 11-11 00:00 Beijing
D11 = dt.datetime(2026, 11, 10, 16, tzinfo=UTC)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return D11 + dt.timedelta(days=days, hours=hours)


def money(x: str | int | float | None) -> Decimal | None:
    return None if x is None else Decimal(str(x))


class Book:
    """One store; each call adds rows. ``scan(code)`` runs one rule and returns its findings."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.con = store.connect(path)
        self.con.execute("INSERT INTO platforms VALUES ('P1', 'Shop platform')")
        self._n = 0
        self._merchants: set[str] = set()
        self._listing_merchant: dict[str, str] = {}

    def shop(self, mid: str) -> str:
        """A merchant of its own per case: a merchant's coupons apply to all its listings."""
        if mid not in self._merchants:
            self.con.execute("INSERT INTO merchants VALUES (?, 'P1', 'Shop', NULL)", [mid])
            self._merchants.add(mid)
        return mid

    def listing(self, lid: str, merchant: str, category: str = "electronics") -> str:
        self.shop(merchant)
        self.con.execute(
            "INSERT INTO listings (listing_id, merchant_id, platform_id, title, category, currency) "
            "VALUES (?, ?, 'P1', 't', ?, 'CNY')",
            [lid, merchant, category],
        )
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
    ) -> str:
        self.shop(merchant)
        self.con.execute(
            "INSERT INTO coupons VALUES (?, 'P1', ?, ?, ?, ?, ?)",
            [
                cid,
                merchant,
                kind,
                announced or at(-10),
                valid_from or at(-3),
                valid_to or at(2),
            ],
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
        self.con.execute(
            "INSERT INTO coupon_terms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                cid,
                effective,
                source,
                money(face),
                money(pct),
                money(threshold),
                money(max_discount),
                scope,
                stackable,
                cap,
                valid_to,
                disclosure,
                text,
            ],
        )

    def both(self, cid: str, effective: dt.datetime, **terms) -> None:
        """The same terms displayed and applied from ``effective`` on."""
        self.terms(cid, "displayed", effective, **terms)
        terms.pop("disclosure", None)
        terms.pop("text", None)
        self.terms(cid, "applied", effective, **terms)

    def observe(self, lid: str, when: dt.datetime, price, claim=None, qty: int | None = None):
        self.con.execute(
            "INSERT INTO price_observations (listing_id, observed_at, price, channel, "
            "final_price_claim, final_price_qty) VALUES (?, ?, ?, 'detail', ?, ?)",
            [lid, when, money(price), money(claim), qty],
        )

    def order(self, lid: str, unit, qty: int, paid: dt.datetime, placed=None) -> str:
        self._n += 1
        oid = f"O{self._n}"
        self.con.execute(
            "INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, "
            "unit_price, paid_at, placed_at, status) VALUES (?, ?, ?, 'B1', ?, ?, ?, ?, 'paid')",
            [oid, lid, self._listing_merchant[lid], qty, money(unit), paid, placed],
        )
        return oid

    def redeem(self, oid: str, cid: str, amount) -> None:
        self.con.execute(
            "INSERT INTO coupon_redemptions VALUES (?, ?, ?)", [oid, cid, money(amount)]
        )

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
    ) -> str:
        from promoguard.model import PRIZE_DISCLOSURE_ITEMS

        self.con.execute(
            "INSERT INTO prize_promotions VALUES (?, 'P1', NULL, 'game', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                gid,
                kind,
                announced if announced is not None else at(-10),
                at(-5),
                at(1),
                currency,
                money(top),
                ";".join(PRIZE_DISCLOSURE_ITEMS) if items is None else items,
                changed,
                favours,
            ],
        )
        return gid

    def award(self, gid: str, buyer: str, value) -> None:
        self._n += 1
        self.con.execute(
            "INSERT INTO prize_awards VALUES (?, ?, ?, ?, ?)",
            [f"A{self._n}", gid, buyer, money(value), at(-1)],
        )

    def scan(self, codes: str, pack: str = "cn", engine_name: str = "duckdb") -> pd.DataFrame:
        """Run the rules (one scan: a scan costs seconds) and close the store."""
        self.con.close()
        return engine.scan(self.path, pack, checks=codes, save=False, engine=engine_name).findings


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
