"""Pricing checks PRICE001–005: fake reference prices, false discount percentages, raise-then-cut,
cheaper prices on search/home than on the detail page, and unlabelled manufacturer prices.

All five are relational (Ibis), so they run unchanged on DuckDB and Spark. The expensive part, the
legal prior price, is computed only for (listing, promotion) pairs that show a reference price
during a promotion, over the look-back window before that promotion: the observations and orders
are cut down to those windows FIRST, never windowed over the whole history.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.checks.base import (
    Check,
    CheckDoc,
    Parameter,
    ScanContext,
    Tables,
    cents,
    first_rows,
    half_up_ratio,
)
from promoguard.checks.registry import register

MONEY = "decimal(18,2)"
DETAIL = "detail"
MSRP_LABELS = ("厂商建议零售价", "建议零售价", "厂家建议零售价", "MSRP", "RRP", "SRP", "UVP", "PVC")
PRIOR_RULES = ("lowest_transacted", "lowest_offered", "established_offered")

# -- shared parameters -----------------------------------------------------------------------------

PRIOR_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "prior_rule",
        "lowest_transacted",
        "How the legal prior price is found: lowest_transacted (cn: lowest transacted price in "
        "the look-back, else the last transaction, else offered prices), lowest_offered (eu: "
        "lowest price applied in the look-back) or established_offered (us/uk: the highest "
        "price openly offered on at least min_days_offered days of the look-back).",
        basis="law",
    ),
    Parameter(
        "lookback_days", 7, "Days before the promotion the prior price is taken from", "law", "days"
    ),
    Parameter(
        "progressive",
        False,
        "Progressive reductions: when the price only fell during the look-back, measure the prior "
        "price from before the first reduction (Directive 98/6/EC Art. 6a(5)).",
        basis="law",
    ),
    Parameter(
        "min_days_offered",
        28,
        "established_offered: days a price must have been openly offered to count as a former "
        "price ('a reasonably substantial period').",
        unit="days",
    ),
    Parameter(
        "exclude_statuses",
        ["cancelled"],
        "Order statuses that are not transactions (a cancelled order was never a sale).",
    ),
    Parameter(
        "msrp_labels",
        list(MSRP_LABELS),
        "Reference labels that say the reference is a manufacturer's suggested price; such "
        "comparisons are governed by PRICE005, not by the prior-price rule.",
    ),
)


def _money(value: Any) -> ir.Scalar:
    return ibis.literal(Decimal(str(value)), type=MONEY)


def _labels_lower(labels: list[str]) -> list[str]:
    return sorted({str(x).strip().lower() for x in labels})


def _is_msrp_label(label: ir.StringValue, labels: list[str]) -> ir.BooleanValue:
    return label.strip().lower().isin(_labels_lower(labels)).fill_null(False)


def promotion_references(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """Per (listing, promotion): the highest ordinary reference price shown during the promotion.

    References labelled as a manufacturer's price are left out: a comparison that says it is
    with the manufacturer's price follows its own rule (明码标价 Art. 16 ¶3, PRICE005; under 98/6/EC
    it is not a price reduction at all). An UNLABELLED reference that happens to equal the MSRP
    is an ordinary reference and must respect the prior price too.
    """
    po = tables.price_observations
    ls = tables.listings
    pr = tables.promotions
    obs = po.filter(po.reference_price.notnull())
    j = obs.join(ls, obs.listing_id == ls.listing_id).join(
        pr,
        [
            ls.platform_id == pr.platform_id,
            obs.observed_at >= pr.starts_at,
            obs.observed_at < pr.ends_at,
        ],
    )
    j = j.filter(
        ~_is_msrp_label(j.reference_label, params["msrp_labels"]),
        j.reference_price > j.price,  # it is presented as a reduction
    )
    return j.group_by(
        listing_id=j.listing_id,
        merchant_id=j.merchant_id,
        platform_id=j.platform_id,
        promotion_id=j.promotion_id,
        starts_at=j.starts_at,
    ).aggregate(
        reference_price=j.reference_price.max(),
        min_price=j.price.min(),
        max_claimed_pct=j.claimed_discount_pct.max(),
    )


def _drop_right(t: ir.Table) -> ir.Table:
    """Drop the duplicate key columns an outer join keeps as ``<name>_right``."""
    extra = [c for c in t.columns if c.endswith("_right")]
    return t.drop(*extra) if extra else t


PAIR = ["listing_id", "promotion_id"]


def _left(a: ir.Table, b: ir.Table, keys: list[str]) -> ir.Table:
    return _drop_right(a.left_join(b, keys))


def _window_rows(rows: ir.Table, time_col: str, pairs: ir.Table, days: int) -> ir.Table:
    """Rows of ``rows`` (keyed by listing_id) inside [starts_at - days, starts_at) of each pair."""
    t = rows[time_col]
    j = pairs.join(
        rows,
        [
            pairs.listing_id == rows.listing_id,
            t >= pairs.starts_at - ibis.interval(days=days),
            t < pairs.starts_at,
        ],
    )
    return j


def _detail_prices(tables: Tables) -> ir.Table:
    po = tables.price_observations
    return po.filter(po.channel.fill_null(DETAIL) == DETAIL).select(
        "listing_id", "observed_at", "price"
    )


def _lowest_transacted(tables: Tables, pairs: ir.Table, params: dict[str, Any]) -> ir.Table:
    """cn: lowest transacted price in the look-back; else the last sale before; else offered."""
    days = int(params["lookback_days"])
    o = tables.orders
    sales = o.filter(~o.status.isin(list(params["exclude_statuses"]))).select(
        "listing_id", "paid_at", "unit_price"
    )
    keys = pairs.select("listing_id", "promotion_id", "starts_at")
    in_window = (
        _window_rows(sales, "paid_at", keys, days)
        .group_by("listing_id", "promotion_id")
        .aggregate(tx_low=lambda t: t.unit_price.min())
    )
    # the last sale before the promotion (the lowest price among sales at that same instant);
    # two aggregations rather than a window over every sale: much cheaper on big order tables
    before = keys.join(sales, [keys.listing_id == sales.listing_id, sales.paid_at < keys.starts_at])
    last_at = before.group_by("listing_id", "promotion_id").aggregate(
        last_at=lambda t: t.paid_at.max()
    )
    at_last = last_at.join(
        sales,
        [last_at.listing_id == sales.listing_id, sales.paid_at == last_at.last_at],
    )
    last = at_last.group_by("listing_id", "promotion_id").aggregate(
        last_tx=lambda t: t.unit_price.min()
    )
    # offered prices only matter for a listing that never sold: scan the observations for those
    # pairs alone, not for every pair
    any_sale = sales.select("listing_id").distinct()
    unsold = keys.anti_join(any_sale, "listing_id")
    offered = (
        _window_rows(_detail_prices(tables), "observed_at", unsold, days)
        .group_by("listing_id", "promotion_id")
        .aggregate(offered_low=lambda t: t.price.min())
    )
    any_sale = any_sale.mutate(has_sales=ibis.literal(True))
    j = _left(pairs, in_window, PAIR)
    j = _left(j, last, PAIR)
    j = _left(j, any_sale, ["listing_id"])
    j = _left(j, offered, PAIR)
    no_sales = j.has_sales.isnull()
    return j.mutate(
        legal_prior_price=ibis.cases(
            (j.tx_low.notnull(), j.tx_low),
            (j.last_tx.notnull(), j.last_tx),
            (no_sales, j.offered_low),
            else_=ibis.null(MONEY),
        ).cast(MONEY),
        prior_price_source=ibis.cases(
            (j.tx_low.notnull(), "transactions"),
            (j.last_tx.notnull(), "last_transaction"),
            (no_sales & j.offered_low.notnull(), "offered"),
            else_=ibis.null("string"),
        ),
    ).drop("tx_low", "last_tx", "has_sales", "offered_low")


def _lowest_offered(tables: Tables, pairs: ir.Table, params: dict[str, Any]) -> ir.Table:
    """eu: lowest price applied in the look-back (its time on sale when shorter); progressive
    reductions measured from before the first reduction."""
    days = int(params["lookback_days"])
    keys = pairs.select("listing_id", "promotion_id", "starts_at")
    win = _window_rows(_detail_prices(tables), "observed_at", keys, days)
    low = win.group_by("listing_id", "promotion_id").aggregate(window_low=lambda t: t.price.min())
    j = _left(pairs, low, PAIR)
    if not params["progressive"]:
        return j.mutate(
            legal_prior_price=j.window_low.cast(MONEY),
            prior_price_source=ibis.ifelse(j.window_low.notnull(), "offered", ibis.null("string")),
        ).drop("window_low")
    w = ibis.window(group_by=[win.listing_id, win.promotion_id], order_by=[win.observed_at])
    steps = win.mutate(prev=win.price.lag().over(w))
    moves = steps.group_by("listing_id", "promotion_id").aggregate(
        rises=lambda t: (t.price > t.prev).fill_null(False).cast("int64").sum(),
        first_cut_at=lambda t: t.observed_at.min(where=t.price < t.prev),
    )
    prog = moves.filter(moves.rises == 0, moves.first_cut_at.notnull())
    cut_keys = prog.select("listing_id", "promotion_id", starts_at=prog.first_cut_at)
    before_cut = (
        _window_rows(_detail_prices(tables), "observed_at", cut_keys, days)
        .group_by("listing_id", "promotion_id")
        .aggregate(pre_cut_low=lambda t: t.price.min())
    )
    j = _left(j, before_cut, PAIR)
    return j.mutate(
        legal_prior_price=j.pre_cut_low.fill_null(j.window_low).cast(MONEY),
        prior_price_source=ibis.cases(
            (j.pre_cut_low.notnull(), "offered_before_first_reduction"),
            (j.window_low.notnull(), "offered"),
            else_=ibis.null("string"),
        ),
    ).drop("window_low", "pre_cut_low")


def _established_offered(tables: Tables, pairs: ir.Table, params: dict[str, Any]) -> ir.Table:
    """us/uk: the highest price openly offered on at least ``min_days_offered`` days of the
    look-back; when no price was offered that long, the lowest price offered (nothing higher was
    ever established)."""
    days = int(params["lookback_days"])
    keys = pairs.select("listing_id", "promotion_id", "starts_at")
    win = _window_rows(_detail_prices(tables), "observed_at", keys, days)
    per_price = win.group_by("listing_id", "promotion_id", "price").aggregate(
        days_offered=lambda t: t.observed_at.date().nunique()
    )
    est = (
        per_price.filter(per_price.days_offered >= int(params["min_days_offered"]))
        .group_by("listing_id", "promotion_id")
        .aggregate(established=lambda t: t.price.max())
    )
    low = per_price.group_by("listing_id", "promotion_id").aggregate(
        window_low=lambda t: t.price.min()
    )
    j = _left(_left(pairs, est, PAIR), low, PAIR)
    return j.mutate(
        legal_prior_price=j.established.fill_null(j.window_low).cast(MONEY),
        prior_price_source=ibis.cases(
            (j.established.notnull(), "established_offered"),
            (j.window_low.notnull(), "offered_not_established"),
            else_=ibis.null("string"),
        ),
    ).drop("established", "window_low")


def legal_prior_prices(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """(listing, promotion) pairs with a reference price and their legal prior price."""
    rule = params["prior_rule"]
    pairs = promotion_references(tables, params)
    if rule == "lowest_transacted":
        out = _lowest_transacted(tables, pairs, params)
    elif rule == "lowest_offered":
        out = _lowest_offered(tables, pairs, params)
    elif rule == "established_offered":
        out = _established_offered(tables, pairs, params)
    else:
        from promoguard.errors import CheckError

        raise CheckError(f"prior_rule must be one of {', '.join(PRIOR_RULES)}, not {rule!r}")
    return out.filter(out.legal_prior_price.notnull())


def _one_per_listing(t: ir.Table, worst: ir.Value) -> ir.Table:
    """Keep each listing's worst row (ties: the earliest promotion id) so findings are stable."""
    return first_rows(t, [t.entity_id], [ibis.desc(worst), t.promotion_id])


def _promotion_series(
    tables: Tables, found: ir.Table, days_before: int, channels: tuple[str, ...] | None = None
) -> ir.Table:
    """The listing's observed prices from ``days_before`` before the promotion to its end."""
    po = tables.price_observations
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    fp = f.join(pr, f.promotion_id == pr.promotion_id).select(
        "entity_id", "promotion_id", "starts_at", "ends_at"
    )
    j = fp.join(
        po,
        [
            fp.entity_id == po.listing_id,
            po.observed_at >= fp.starts_at - ibis.interval(days=days_before),
            po.observed_at < fp.ends_at,
        ],
    )
    if channels:
        j = j.filter(j.channel.isin(list(channels)))
    return j.select(
        "entity_id",
        "observed_at",
        "channel",
        "price",
        "reference_price",
        "reference_label",
        "claimed_discount_pct",
    )


def _promotion_row(tables: Tables, found: ir.Table) -> ir.Table:
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    return f.join(pr, f.promotion_id == pr.promotion_id).select(
        "entity_id", "promotion_id", "name", "starts_at", "ends_at", "announced_at"
    )


def _orders_used(tables: Tables, found: ir.Table, days: int) -> ir.Table:
    """The listing's orders in the look-back before the promotion (what the prior price rests on)."""
    o = tables.orders
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    fp = f.join(pr, f.promotion_id == pr.promotion_id).select("entity_id", "starts_at")
    j = fp.join(
        o,
        [
            fp.entity_id == o.listing_id,
            o.paid_at >= fp.starts_at - ibis.interval(days=days),
            o.paid_at < fp.starts_at,
        ],
    )
    return j.select("entity_id", "order_id", "paid_at", "unit_price", "quantity", "status")


def _last_order(tables: Tables, found: ir.Table) -> ir.Table:
    o = tables.orders
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    fp = f.join(pr, f.promotion_id == pr.promotion_id).select("entity_id", "starts_at")
    j = fp.join(o, [fp.entity_id == o.listing_id, o.paid_at < fp.starts_at])
    last = first_rows(j, [j.entity_id], [ibis.desc(j.paid_at), j.unit_price, j.order_id])
    return last.select("entity_id", "order_id", "paid_at", "unit_price", "quantity", "status")


def _prior_evidence(tables: Tables, found: ir.Table, params: dict[str, Any]) -> dict[str, ir.Table]:
    days = int(params["lookback_days"])
    ev = {
        "promotion": _promotion_row(tables, found),
        "price_series": _promotion_series(tables, found, days),
        "legal_prior_price": found.select(
            "entity_id", "promotion_id", "legal_prior_price", "prior_price_source"
        ),
    }
    if params["prior_rule"] == "lowest_transacted":
        ev["orders_used"] = _orders_used(tables, found, days)
        ev["last_order_before"] = _last_order(tables, found)
    return ev


# -- PRICE001 --------------------------------------------------------------------------------------


@register
class ReferenceAbovePriorPrice(Check):
    code = "PRICE001"
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
            "listing with no sales at all — the lowest offered price; eu: the lowest price "
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

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        t = legal_prior_prices(tables, params)
        t = t.filter(t.reference_price > t.legal_prior_price + _money(params["tolerance"]))
        t = t.select(
            entity_id=t.listing_id,
            merchant_id=t.merchant_id,
            platform_id=t.platform_id,
            promotion_id=t.promotion_id,
            reference_price=t.reference_price,
            legal_prior_price=t.legal_prior_price,
            prior_price_source=t.prior_price_source,
        )
        return _one_per_listing(t, t.reference_price - t.legal_prior_price)

    def evidence(self, tables, found, params, ctx):
        return _prior_evidence(tables, found, params)


# -- PRICE002 --------------------------------------------------------------------------------------


@register
class DiscountNotFromPriorPrice(Check):
    code = "PRICE002"
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
            "During a promotion, compares each advertised discount percentage with the discount "
            "actually given off the legal prior price, 100 × (1 − price / prior), and flags the "
            "listing when the claim is larger by more than the tolerance."
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

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        prior = legal_prior_prices(tables, params).select(
            "listing_id",
            "merchant_id",
            "platform_id",
            "promotion_id",
            "starts_at",
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
            gap=t.gap,
        )
        return _one_per_listing(t, t.gap.abs()).drop("gap")

    def evidence(self, tables, found, params, ctx):
        return _prior_evidence(tables, found, params)


# -- PRICE003 --------------------------------------------------------------------------------------


_cents = cents
_half_up_ratio = half_up_ratio


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
            "min_rise in the season and the promotion price is not really below the ordinary level."
        ),
        why=(
            "Raising a price shortly before a sale so that the 'discount' brings it back to where "
            "it was is a false discount (先提价后打折): the buyer is told of a saving that does not "
            "exist. It is price fraud in China and a misleading action elsewhere."
        ),
        example=(
            "Sold at ¥100 through September, raised to ¥130 on 10-15, offered on 11-11 at ¥99 "
            "'24% off ¥130'."
        ),
    )
    observed_columns = ("raised_level", "promotion_price", "promotion_id")
    expected_columns = ("ordinary_level", "rise")
    reads = ("price_observations", "listings", "promotions")

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
        promo = promo.filter(
            (promo.reference_price > promo.price) | (promo.claimed_discount_pct > 0)
        )
        shown = promo.select(
            "listing_id", "merchant_id", "platform_id", "promotion_id", "starts_at", "ends_at"
        ).distinct()
        # the promotion price is what the detail page charges (a lower search price is PRICE004)
        during = shown.join(
            detail,
            [
                shown.listing_id == detail.listing_id,
                detail.observed_at >= shown.starts_at,
                detail.observed_at < shown.ends_at,
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
        baseline = _median_twice_cents(
            _window_rows(detail, "observed_at", base_keys, base_days), "ordinary"
        )
        j = pairs.join(raised, ["listing_id", "promotion_id"]).join(
            baseline, ["listing_id", "promotion_id"]
        )
        j = j.filter(j.ordinary_n >= int(params["min_baseline_observations"]), j.ordinary2 > 0)
        # compared in integers (basis points of twice-cents) so no engine rounds differently
        rise_bp = round(float(params["min_rise"]) * 10_000)
        cut_bp = round(float(params["min_real_cut"]) * 10_000)
        j = j.filter(
            j.raised2 * 10_000 >= j.ordinary2 * (10_000 + rise_bp),
            _cents(j.promotion_price) * 2 * 10_000 >= j.ordinary2 * (10_000 - cut_bp),
        )
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


# -- PRICE004 --------------------------------------------------------------------------------------


@register
class CheaperOutsideDetailPage(Check):
    code = "PRICE004"
    name = "cheaper-on-search-than-detail"
    title = "Search or home page shows a lower price than the detail page at the same time"
    family = "pricing"
    entity_type = "listing"
    severity = "medium"
    parameters = (
        Parameter(
            "channels",
            ["search", "home"],
            "Channels that are the home page or another prominent position",
            basis="law",
        ),
        Parameter(
            "max_gap_minutes",
            30,
            "A detail observation within this many minutes counts as 'the same time'; every "
            "detail observation in that span must be higher, so a price change between the two "
            "sightings is not mistaken for a lure.",
            unit="minutes",
        ),
        Parameter(
            "tolerance",
            0.0,
            "Amount the prominent price may be below the detail price",
            unit="currency",
        ),
    )
    doc = CheckDoc(
        what=(
            "Pairs each search/home observation of a listing with the detail-page observations "
            "of the same listing within max_gap_minutes, and flags the listing when the prominent "
            "price is below every detail price seen in that span."
        ),
        why=(
            "Showing a lower price on the home page or search results than on the detail page "
            "lures buyers with a price they cannot get (明码标价和禁止价格欺诈规定 Art. 20(1)); "
            "elsewhere a misleading price indication / bait pricing."
        ),
        example="Search results show ¥199 at 20:00; the detail page at 20:05 says ¥239.",
    )
    observed_columns = ("prominent_price", "channel", "observed_at")
    expected_columns = ("detail_price",)
    reads = ("price_observations", "listings")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        po = tables.price_observations
        gap = int(params["max_gap_minutes"])
        prom = po.filter(po.channel.isin(list(params["channels"]))).select(
            "listing_id", "observed_at", "channel", prominent_price=po.price
        )
        det = _detail_prices(tables).rename(
            d_listing="listing_id", d_at="observed_at", d_price="price"
        )
        j = prom.join(
            det,
            [
                prom.listing_id == det.d_listing,
                det.d_at >= prom.observed_at - ibis.interval(minutes=gap),
                det.d_at <= prom.observed_at + ibis.interval(minutes=gap),
            ],
        )
        per_obs = j.group_by("listing_id", "observed_at", "channel", "prominent_price").aggregate(
            detail_price=lambda t: t.d_price.min()
        )
        hits = per_obs.filter(
            per_obs.prominent_price < per_obs.detail_price - _money(params["tolerance"])
        )
        ls = tables.listings
        h = hits.join(ls, hits.listing_id == ls.listing_id)
        t = h.select(
            entity_id=h.listing_id,
            merchant_id=h.merchant_id,
            platform_id=h.platform_id,
            prominent_price=h.prominent_price,
            channel=h.channel,
            observed_at=h.observed_at,
            detail_price=h.detail_price,
        )
        worst_gap = ibis.desc(t.detail_price - t.prominent_price)
        return first_rows(t, [t.entity_id], [worst_gap, t.observed_at, t.channel])

    def evidence(self, tables, found, params, ctx):
        po = tables.price_observations
        gap = int(params["max_gap_minutes"])
        f = found.select("entity_id", at="observed_at")
        j = f.join(
            po,
            [
                f.entity_id == po.listing_id,
                po.observed_at >= f.at - ibis.interval(minutes=gap),
                po.observed_at <= f.at + ibis.interval(minutes=gap),
            ],
        )
        return {"observations": j.select("entity_id", "observed_at", "channel", "price")}


# -- PRICE005 --------------------------------------------------------------------------------------


@register
class UnlabelledManufacturerPrice(Check):
    code = "PRICE005"
    name = "unlabelled-manufacturer-price"
    title = "Comparison with the manufacturer's suggested price not labelled as one"
    family = "pricing"
    entity_type = "listing"
    severity = "medium"
    parameters = (
        Parameter(
            "msrp_labels",
            list(MSRP_LABELS),
            "Reference labels that say the reference is a manufacturer's suggested price "
            "(compared case-insensitively, spaces trimmed)",
            basis="law",
        ),
        Parameter(
            "tolerance",
            0.0,
            "How far the reference may be from the MSRP and still be it",
            unit="currency",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags a listing whose struck-through reference price equals its manufacturer's "
            "suggested retail price (listings.msrp) while the reference label is not an MSRP "
            "label (e.g. 原价, was, or no label)."
        ),
        why=(
            "A comparison with the manufacturer's suggested price must say so (明码标价和禁止价格"
            "欺诈规定 Art. 16 ¶3); passing the MSRP off as the seller's own former price makes "
            "buyers believe in a reduction that never happened."
        ),
        example="Listing MSRP ¥399; the page shows ¥299 with '原价 ¥399'.",
    )
    observed_columns = ("reference_price", "reference_label", "observed_at")
    expected_columns = ("msrp",)
    reads = ("price_observations", "listings")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        po = tables.price_observations
        ls = tables.listings.filter(lambda t: t.msrp.notnull())
        j = po.filter(po.reference_price.notnull()).join(ls, po.listing_id == ls.listing_id)
        tol = _money(params["tolerance"])
        j = j.filter(
            (j.reference_price - j.msrp).abs() <= tol,
            ~_is_msrp_label(j.reference_label, params["msrp_labels"]),
        )
        t = j.select(
            entity_id=j.listing_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            reference_price=j.reference_price,
            reference_label=j.reference_label,
            observed_at=j.observed_at,
            msrp=j.msrp,
            channel=j.channel,
        )
        first = first_rows(t, [t.entity_id], [t.observed_at, t.channel.fill_null("")])
        return first.drop("channel")

    def evidence(self, tables, found, params, ctx):
        po = tables.price_observations
        ls = tables.listings
        f = found.select("entity_id")
        obs = f.join(po, [f.entity_id == po.listing_id, po.reference_price.notnull()])
        lst = f.join(ls, f.entity_id == ls.listing_id)
        # bounded: the labelled observations of one listing over a season are a few hundred rows
        return {
            "listing": lst.select("entity_id", "title", "msrp", "currency"),
            "reference_observations": obs.select(
                "entity_id", "observed_at", "channel", "price", "reference_price", "reference_label"
            ),
        }
