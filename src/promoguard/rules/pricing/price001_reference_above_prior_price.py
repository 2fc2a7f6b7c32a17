"""PRICE001 reference-above-prior-price: Reference ('was') price above the legal prior price."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from promoguard.engine.base import ChartLevel, Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.rules.pricing._shared import (
    PRIOR_PARAMETERS,
    _money,
    _one_per_listing,
    _prior_evidence,
    legal_prior_prices,
    levels,
    touched_by_windows,
)


@register
class ReferenceAbovePriorPrice(Check):
    code = "PRICE001"
    depends_on = "merchant_delta"
    name = "reference-above-prior-price"
    title = "Reference ('was') price above the legal prior price"
    family = "pricing"
    entity_type = "listing"
    severity = "high"
    parameters = (
        *PRIOR_PARAMETERS,
        Parameter(
            "tolerance",
            0.01,
            "Amount by which the reference may exceed the prior price (displayed prices are "
            "rounded to the smallest currency unit).",
            unit="currency",
        ),
    )
    doc = CheckDoc(
        what=(
            "For each listing showing a struck-through reference price during a promotion, finds "
            "the legal prior price for the jurisdiction (cn: the lowest transacted price in the 7 "
            "days before the promotion, else the last transaction before it, else — for a "
            "listing with no sale before the promotion — the lowest offered price; eu: the lowest price "
            "applied in the 30 days before; us/uk: the price openly offered for a substantial "
            "period) and flags the listing when the reference is above it."
        ),
        why=(
            "A reference price is a claim about the past. Showing a 'was' price the goods were not "
            "sold (cn) or offered (eu/us/uk) at in the period the law names makes the discount "
            "fictitious: a false price comparison, i.e. price fraud / a misleading action."
        ),
        example=(
            "Sold at ¥79 all week before Double 11, shown on 11-11 as ¥59 with 原价 ¥129: the "
            "reference ¥129 is above the legal prior price ¥79."
        ),
    )
    observed_columns = ("reference_price", "promotion_id")
    expected_columns = ("legal_prior_price", "prior_price_source")
    reads = ("price_observations", "listings", "promotions", "orders")
    requires = ("price_observations", "promotions")

    # -- report ---------------------------------------------------------------------------------
    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        """How far the reference sits above the legal prior price, as a fraction of it."""
        return float(observed["reference_price"]) / float(expected["legal_prior_price"]) - 1

    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        return levels(
            ("reference", observed.get("reference_price"), "claimed"),
            ("legal prior price", expected.get("legal_prior_price"), "lawful"),
        )

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: the merchants whose findings new rows may change (the promotion windows:
        ``_shared.touched_by_windows``)."""
        return touched_by_windows(season, new, params, sales=True)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        t = legal_prior_prices(tables, params, ctx.timezone)
        t = t.filter(t.reference_price > t.legal_prior_price + _money(params["tolerance"]))
        t = t.select(
            entity_id=t.listing_id,
            merchant_id=t.merchant_id,
            platform_id=t.platform_id,
            promotion_id=t.promotion_id,
            reference_price=t.reference_price,
            legal_prior_price=t.legal_prior_price,
            prior_price_source=t.prior_price_source,
            window_start=t.window_start,
        )
        return _one_per_listing(t, t.reference_price - t.legal_prior_price)

    def evidence(self, tables, found, params, ctx):
        return _prior_evidence(tables, found, params)
