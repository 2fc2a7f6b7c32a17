"""PRICE002 discount-not-from-prior-price: Claimed discount % not computed from the legal prior price."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from promoguard.engine.base import ChartLevel, Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.rules.pricing._shared import (
    PRIOR_PARAMETERS,
    _cents,
    _half_up_ratio,
    _one_per_listing,
    _prior_evidence,
    legal_prior_prices,
    levels,
    number,
    touched_by_windows,
)


@register
class DiscountNotFromPriorPrice(Check):
    code = "PRICE002"
    depends_on = "merchant_delta"
    name = "discount-not-from-prior-price"
    title = "Claimed discount % not computed from the legal prior price"
    family = "pricing"
    entity_type = "listing"
    severity = "medium"
    parameters = (
        *PRIOR_PARAMETERS,
        Parameter(
            "tolerance_pct",
            1.0,
            "Percentage points by which the claimed discount may exceed the real one "
            "(rounding of an advertised percentage).",
            unit="percentage points",
        ),
        Parameter(
            "flag_understated",
            False,
            "Also flag a claim SMALLER than the real discount by more than the tolerance. Off: "
            "a deeper real cut than announced favours the buyer (明码标价和禁止价格欺诈规定 "
            "Art. 21 excludes it from price fraud).",
            basis="law",
        ),
    )
    doc = CheckDoc(
        what=(
            "During a promotion, compares each advertised discount percentage (with a "
            "struck-through price beside it or alone) with the discount actually given off the "
            "legal prior price, 100 × (1 − price / prior), and flags the listing when the claim "
            "is larger by more than the tolerance."
        ),
        why=(
            "The advertised percentage is itself a price comparison: it must be computed from the "
            "price the law takes as the prior price (cn: the 7-day lowest transacted price; eu: "
            "the 30-day lowest price — CJEU C-330/23 Aldi Süd). A larger claimed cut overstates "
            "the saving. A claim smaller than the real cut favours the buyer and is not flagged."
        ),
        example=(
            "Prior price ¥100, promotion price ¥80 (a real 20% cut) advertised as '-35%': the "
            "claim exceeds the real discount by 15 points."
        ),
    )
    observed_columns = ("claimed_discount_pct", "price", "promotion_id")
    expected_columns = ("actual_discount_pct", "legal_prior_price", "prior_price_source")
    reads = ("price_observations", "listings", "promotions", "orders")
    requires = ("price_observations", "promotions")

    # -- report ---------------------------------------------------------------------------------
    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        """Claimed minus actual discount, as a fraction."""
        claimed, actual = observed["claimed_discount_pct"], expected["actual_discount_pct"]
        return (float(claimed) - float(actual)) / 100

    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        claimed, price = number(observed.get("claimed_discount_pct")), number(observed.get("price"))
        implied = (
            price / (1 - claimed / 100) if claimed is not None and price and claimed < 100 else None
        )
        return levels(
            ("base implied by the claim", implied, "claimed"),
            ("legal prior price", expected.get("legal_prior_price"), "lawful"),
        )

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: the merchants whose findings new rows may change (the promotion windows,
        where the claims are read too: ``_shared.touched_by_windows``)."""
        return touched_by_windows(season, new, params, sales=True)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        # every claimed percentage, a struck-through price beside it or not
        prior = legal_prior_prices(tables, params, ctx.timezone, claims=True).select(
            "listing_id",
            "merchant_id",
            "platform_id",
            "promotion_id",
            "starts_at",
            "window_start",
            "legal_prior_price",
            "prior_price_source",
        )
        po = tables.price_observations
        pr = tables.promotions
        claims = po.filter(po.claimed_discount_pct.notnull(), po.claimed_discount_pct > 0)
        j = prior.join(pr.select("promotion_id", "ends_at"), "promotion_id").join(
            claims,
            [
                prior.listing_id == claims.listing_id,
                claims.observed_at >= prior.starts_at,
                claims.observed_at < pr.ends_at,
            ],
        )
        # in hundredths of a percentage point, as integers, so both engines agree exactly
        prior_c = _cents(j.legal_prior_price)
        actual_bp = _half_up_ratio(prior_c - _cents(j.price), prior_c, 10_000)
        claimed_bp = _cents(j.claimed_discount_pct)
        t = j.mutate(actual_discount_pct=actual_bp / 100, gap=claimed_bp - actual_bp)
        tol = round(float(params["tolerance_pct"]) * 100)
        off = (t.gap > tol) | (t.gap < -tol) if params["flag_understated"] else t.gap > tol
        t = t.filter(off)
        t = t.select(
            entity_id=t.listing_id,
            merchant_id=t.merchant_id,
            platform_id=t.platform_id,
            promotion_id=t.promotion_id,
            claimed_discount_pct=t.claimed_discount_pct,
            price=t.price,
            actual_discount_pct=t.actual_discount_pct,
            legal_prior_price=t.legal_prior_price,
            prior_price_source=t.prior_price_source,
            window_start=t.window_start,
            gap=t.gap,
        )
        return _one_per_listing(t, t.gap.abs()).drop("gap")

    def evidence(self, tables, found, params, ctx):
        return _prior_evidence(tables, found, params)
