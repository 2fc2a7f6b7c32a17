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

from promoguard.engine.base import ChartLevel, Parameter, Tables
from promoguard.engine.exact import cents, first_rows, half_up_ratio

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


# -- PRICE002 --------------------------------------------------------------------------------------


# -- PRICE003 --------------------------------------------------------------------------------------


_cents = cents
_half_up_ratio = half_up_ratio


# -- PRICE004 --------------------------------------------------------------------------------------


# -- PRICE005 --------------------------------------------------------------------------------------


# -- report hooks ---------------------------------------------------------------------------------


def number(v: Any) -> float | None:
    """A finding's JSON value as a float, or None when it is not a number."""
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def levels(*lines: tuple[str, Any, str]) -> list[ChartLevel]:
    """Chart levels from ``(label, value, kind)``, leaving out values that are not numbers."""
    return [
        ChartLevel(label, v, kind)  # type: ignore[arg-type]
        for label, raw, kind in lines
        if (v := number(raw)) is not None
    ]
