"""PRICE003 raise-then-cut: Price raised before a promotion, then 'discounted' from the raised level."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import ChartLevel, Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules.pricing._shared import (
    DETAIL,
    PAIR,
    _cents,
    _detail_prices,
    _half_up_ratio,
    _left,
    _one_per_listing,
    _promotion_row,
    _promotion_series,
    _window_rows,
    levels,
    on_detail,
    touched_by_windows,
)


def _median_twice_cents(rows: ir.Table, name: str) -> ir.Table:
    """Per (listing, promotion): twice the median price in cents, exactly (the two middle values
    added: no interpolation in floating point, so DuckDB and Spark agree to the cent)."""
    cents = rows.mutate(_c=_cents(rows.price))
    w = ibis.window(group_by=[cents.listing_id, cents.promotion_id], order_by=[cents._c])
    ranked = cents.mutate(
        _rn=ibis.row_number().over(w),
        _n=cents._c.count().over(ibis.window(group_by=[cents.listing_id, cents.promotion_id])),
    )
    lo = ((ranked._n - 1) / 2).floor().cast("int64")
    hi = (ranked._n / 2).floor().cast("int64")
    middle = ranked._rn.cases((lo, ranked._c), else_=0) + ranked._rn.cases((hi, ranked._c), else_=0)
    return ranked.group_by("listing_id", "promotion_id").aggregate(
        **{f"{name}2": middle.sum(), f"{name}_n": ranked._c.count()}
    )


@register
class RaiseThenCut(Check):
    code = "PRICE003"
    depends_on = "merchant_delta"
    name = "raise-then-cut"
    title = "Price raised before a promotion, then 'discounted' from the raised level"
    family = "pricing"
    entity_type = "listing"
    severity = "high"
    parameters = (
        Parameter(
            "raised_days",
            7,
            "Days just before the promotion whose median price is the level the 'discount' is "
            "taken from.",
            unit="days",
        ),
        Parameter(
            "lookback_days",
            30,
            "The season before the promotion in which a rise counts. 30 days covers a Double-11 "
            "pre-sale, which opens about three weeks before 11-11.",
            unit="days",
        ),
        Parameter(
            "baseline_days",
            30,
            "Days before the look-back whose median price is the ordinary level.",
            unit="days",
        ),
        Parameter(
            "min_rise", 0.10, "Smallest rise over the ordinary level that counts", unit="ratio"
        ),
        Parameter(
            "min_real_cut",
            0.05,
            "A promotion price at least this far below the ordinary level is a real discount "
            "despite the rise, and is not flagged.",
            unit="ratio",
        ),
        Parameter(
            "min_baseline_observations",
            14,
            "Detail observations the ordinary level needs; listings with a shorter history are "
            "not judged (a new listing has no ordinary level).",
        ),
    )
    doc = CheckDoc(
        what=(
            "For each listing discounted during a promotion, compares the median detail price in "
            "the days just before the promotion with its ordinary (median) level in the weeks "
            "before the look-back season. Flags the listing when the price was raised by at least "
            "min_rise in the season (above both the ordinary level and the lowest price in force "
            "in the season before those days: the price as the season opened or any lower one "
            "after it; a rise made before the look-back and held through it does not count) and "
            "the promotion price is not really below the ordinary level."
        ),
        why=(
            "Raising a price shortly before a sale so that the 'discount' brings it back to where "
            "it was is a false discount (先提价后打折): the buyer is told of a saving that does not "
            "exist. A 到手价 (price after coupons) shown in the promotion counts as the marked "
            "promotion price: coupons taken off a raised price are no saving either. It is price fraud in China and a misleading action elsewhere."
        ),
        example=(
            "Sold at ¥100 through September, raised to ¥130 on 10-15, offered on 11-11 at ¥99 "
            "'24% off ¥130'."
        ),
    )
    observed_columns = ("raised_level", "promotion_price", "promotion_id")
    expected_columns = ("ordinary_level", "rise")
    reads = ("price_observations", "listings", "promotions")
    requires = ("price_observations", "promotions")

    # -- report ---------------------------------------------------------------------------------
    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        """The rise before the promotion, as a fraction of the ordinary level."""
        return float(expected["rise"])

    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        return levels(
            ("raised level", observed.get("raised_level"), "claimed"),
            ("ordinary level", expected.get("ordinary_level"), "lawful"),
        )

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: the merchants whose findings new rows may change: observations that may
        fall in a promotion, its raised days or its baseline (``_shared.touched_by_windows``)."""
        return touched_by_windows(season, new, params, sales=False)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        po = tables.price_observations
        ls = tables.listings
        pr = tables.promotions
        detail = _detail_prices(tables)
        # the discounted promotion observations (on any channel) per listing and promotion
        promo = po.join(ls, po.listing_id == ls.listing_id).join(
            pr,
            [
                ls.platform_id == pr.platform_id,
                po.observed_at >= pr.starts_at,
                po.observed_at < pr.ends_at,
            ],
        )
        # a 到手价 (coupon-inclusive price) below the price advertises a cut just as a struck-through
        # reference or a claimed percentage does
        promo = promo.filter(
            (promo.reference_price > promo.price)
            | (promo.claimed_discount_pct > 0)
            | (promo.final_price_claim < promo.price)
        )
        shown = promo.select(
            "listing_id", "merchant_id", "platform_id", "promotion_id", "starts_at", "ends_at"
        ).distinct()
        # the promotion price is what the detail page charges (a lower search price is PRICE004),
        # or the 到手价 it advertises beside it when lower: the coupon-inclusive price is then the
        # marked promotion price (coupons taken off a raised price are no real cut either)
        marked = po.filter(on_detail(po))
        marked = marked.select(
            "listing_id",
            "observed_at",
            price=ibis.least(marked.price, marked.final_price_claim.coalesce(marked.price)),
        )
        during = shown.join(
            marked,
            [
                shown.listing_id == marked.listing_id,
                marked.observed_at >= shown.starts_at,
                marked.observed_at < shown.ends_at,
            ],
        )
        pairs = during.group_by(
            "listing_id", "merchant_id", "platform_id", "promotion_id", "starts_at"
        ).aggregate(promotion_price=lambda t: t.price.min())
        keys = pairs.select("listing_id", "promotion_id", "starts_at")
        raised_days = int(params["raised_days"])
        look = int(params["lookback_days"])
        base_days = int(params["baseline_days"])
        raised = _median_twice_cents(
            _window_rows(detail, "observed_at", keys, raised_days), "raised"
        )
        base_keys = keys.mutate(starts_at=keys.starts_at - ibis.interval(days=look))
        base_rows = _window_rows(detail, "observed_at", base_keys, base_days)
        baseline = _median_twice_cents(base_rows, "ordinary")
        j = pairs.join(raised, ["listing_id", "promotion_id"]).join(
            baseline, ["listing_id", "promotion_id"]
        )
        j = j.filter(j.ordinary_n >= int(params["min_baseline_observations"]), j.ordinary2 > 0)
        # compared in integers (basis points of twice-cents) so no engine rounds differently
        rise_bp = round(float(params["min_rise"]) * 10_000)
        cut_bp = round(float(params["min_real_cut"]) * 10_000)
        j = j.filter(
            j.raised2 * 10_000 >= j.ordinary2 * (10_000 + rise_bp),
            # (a price exactly min_real_cut below the ordinary level is "at least this far
            # below": a real discount, not flagged)
            _cents(j.promotion_price) * 2 * 10_000 > j.ordinary2 * (10_000 - cut_bp),
        )
        # the level a rise inside the look-back is measured from: the lowest price in force in it
        # before the raised days, i.e. the price in force as it opened (the baseline's last
        # detail price: the baseline's observations end where the look-back begins) or any lower
        # one set after that. A rise counts only inside the look-back: the median of the baseline
        # straddles a rise made in it (100 for 15 days, then 130 from 45 days before: median 115),
        # which read as a rise 'in the season' though the price had been 130 since before it
        # opened. The opening price alone is not enough: a rise undone inside the season (130 as
        # it opened, back to 100 from 28 days before, 130 again from 10 days before) or a one-day
        # high as the baseline closed hid a rise made inside the season. Computed only for the
        # pairs the other conditions keep (a few thousand of the season's pairs: the same
        # findings, without a pass over every listing's baseline and season)
        cand = j.select(*PAIR)
        cand_rows = base_rows.semi_join(cand, PAIR)
        opening = first_rows(
            cand_rows,
            [cand_rows.listing_id, cand_rows.promotion_id],
            [ibis.desc(cand_rows.observed_at), cand_rows.price],
        ).select("listing_id", "promotion_id", opening_c=_cents(cand_rows.price))
        cand_keys = keys.semi_join(cand, PAIR)
        before_raised = cand_keys.mutate(
            starts_at=cand_keys.starts_at - ibis.interval(days=raised_days)
        )
        season_rows = _window_rows(detail, "observed_at", before_raised, max(look - raised_days, 0))
        season_low = season_rows.group_by("listing_id", "promotion_id").aggregate(
            season_low_c=lambda t: _cents(t.price).min()
        )
        opening = _left(opening, season_low, PAIR)
        opening = opening.select(
            "listing_id",
            "promotion_id",
            rise_from_c=ibis.least(
                opening.opening_c, opening.season_low_c.fill_null(opening.opening_c)
            ),
        )
        j = j.join(opening, PAIR)
        j = j.filter(j.raised2 * 10_000 >= j.rise_from_c * 2 * (10_000 + rise_bp))
        t = j.select(
            entity_id=j.listing_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            promotion_id=j.promotion_id,
            raised_level=j.raised2 / 200,
            promotion_price=j.promotion_price,
            ordinary_level=j.ordinary2 / 200,
            rise=_half_up_ratio(j.raised2 - j.ordinary2, j.ordinary2, 10_000) / 10_000,
        )
        return _one_per_listing(t, t.rise)

    def evidence(self, tables, found, params, ctx):
        days = int(params["lookback_days"]) + int(params["baseline_days"])
        return {
            "promotion": _promotion_row(tables, found),
            "price_series": _promotion_series(tables, found, days, (DETAIL,)),
        }
