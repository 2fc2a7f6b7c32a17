"""BRUSH003 order-velocity: Order velocity: repeated orders per buyer per hour, instant confirmation, odd hours."""

from __future__ import annotations

import json
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.cache import shared
from promoguard.engine.exact import first_rows, half_up_ratio
from promoguard.engine.registry import register
from promoguard.rules._relations import (
    _in_scan,
    _no_changes,
    added_rows,
    first_delivery_by_order,
    first_delivery_changes,
    new_orders_first_delivery,
    order_first_delivery,
    union_all,
    utc_offset_hours,
)
from promoguard.rules.brushing._shared import (
    add_up,
    merchant_degree,
    repeat_pairs,
    touched_orders,
)


def _ratio(num: ir.IntegerValue, den: ir.IntegerValue) -> ir.NumericValue:
    """num / den to 4 decimals, rounded half up from integers so every engine agrees.

    A float ``.round(4)`` is not engine-independent: 38/320 = 0.11875 rounds to 0.1187 on
    DuckDB and 0.1188 on Spark.
    """
    share = half_up_ratio(num.cast("int64"), den.cast("int64"), 10_000).cast("float64") / 10_000
    return ibis.cases((den > 0, share), else_=0.0)


def _repeat_orders(tables: Tables, o: ir.Table, per_hour: int) -> ir.Table:
    """``o``'s orders that can lie in a buyer-hour of ``per_hour`` or more orders at one shop:
    those of buyer-shop pairs with that many orders in all (the scan's repeat pairs). Grouping
    only them by buyer, shop and hour gives the same rapid buyer-hours as grouping every order
    (a group per order, nearly: 5.4M at city scale), for a semi-join against some 400,000 pairs."""
    if per_hour < 2:
        return o
    rp = repeat_pairs(tables)
    rp = rp.filter(rp.orders >= per_hour)
    return o.semi_join(rp, [o.buyer_id == rp.buyer, o.merchant_id == rp.merchant])


def _hours(o: ir.Table, offset: int) -> ir.Table:
    """``o`` with each order's UTC hour and local day (whole epoch hours and days)."""
    secs = epoch_seconds(o.paid_at)
    return o.mutate(_hour=secs // 3600, _local_day=(secs + offset * 3600) // 86400)


def _rapid_of(o: ir.Table, per_hour: int) -> ir.Table:
    """The rapid buyer-hours among the orders ``o`` (with ``_hour`` and ``_local_day``)."""
    bh = o.group_by(["merchant_id", "buyer_id", "_hour"]).aggregate(
        n=o.count(),
        # one checkout of a basket of ten lines is ten order rows paid at one moment
        checkouts=o.paid_at.nunique(),
        _day=o._local_day.min(),
        first_paid_at=o.paid_at.min(),
        last_paid_at=o.paid_at.max(),
    )
    # checkouts, not order rows: a basket of three lines paid at one moment is one checkout
    return bh.filter(bh.checkouts >= per_hour)


_RAPID_COLUMNS = (
    "merchant_id",
    "buyer_id",
    "_hour",
    "n",
    "checkouts",
    "_day",
    "first_paid_at",
    "last_paid_at",
)


def _rapid_hours(tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
    """``merchant_id, buyer_id, _hour, n, _day, first_paid_at, last_paid_at``: the rapid
    buyer-hours (``n`` >= orders_per_buyer_hour non-cancelled orders by one buyer at one shop in
    one UTC hour; ``_day`` the local day of their first order, the earliest and latest payment).

    Kept within a scan (some 100,000 rows at city scale): the finder counts each shop's, and the
    evidence quotes the found shops' first ones from the same rows instead of grouping the
    repeat pairs' orders a second time. Kept from scan to scan too: a buyer-hour no new order
    falls in is what it was, and those a new order falls in are recounted from the orders of
    their buyer-shop pairs (``touched_orders``, which the pairs' folds read too).
    """
    per_hour = int(params["orders_per_buyer_hour"])
    offset = utc_offset_hours(ctx.timezone)

    def build() -> ir.Table:
        o = tables.orders
        o = o.filter(o.status != "cancelled")
        return _rapid_of(_hours(_repeat_orders(tables, o, per_hour), offset), per_hour)

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        n = added_rows(tables, new, "orders")
        n = _hours(n.filter(n.status != "cancelled"), offset)
        keys = n.select(k_merchant=n.merchant_id, k_buyer=n.buyer_id, k_hour=n._hour).distinct()
        t = _hours(touched_orders(tables, new), offset)
        t = t.semi_join(
            keys,
            [t.merchant_id == keys.k_merchant, t.buyer_id == keys.k_buyer, t._hour == keys.k_hour],
        )
        at_keys = [
            previous.merchant_id == keys.k_merchant,
            previous.buyer_id == keys.k_buyer,
            previous._hour == keys.k_hour,
        ]
        again = _rapid_of(t, per_hour).select(*_RAPID_COLUMNS)
        # the shops whose rows the fold takes out or puts back (what the evidence hook reads):
        # the previous rows at the day's keys and the rows recounted there
        left = previous.semi_join(keys, at_keys)
        shops = union_all(left.select("merchant_id"), again.select("merchant_id"))
        shared(tables, _rapid_changed_key(per_hour, offset), lambda: shops)
        kept = previous.anti_join(keys, at_keys)
        return union_all(kept.select(*_RAPID_COLUMNS), again)

    return shared(tables, ("brush003_rapid_hours", "v3", per_hour, offset), build, fold=fold)


def _rapid_changed_key(per_hour: int, offset: int) -> tuple[Any, ...]:
    return ("brush003_rapid_hours_changed", "v3", per_hour, offset)


def _rapid_changed_shops(
    tables: Tables, params: dict[str, Any], ctx: ScanContext
) -> ir.Table | None:
    """``merchant_id``: within a scan whose :func:`_rapid_hours` was folded, the shops of the
    rapid buyer-hours the fold took out or put back (those a new non-cancelled order falls in,
    before and after); else None (they were built: what changed is not known)."""
    per_hour = int(params["orders_per_buyer_hour"])
    offset = utc_offset_hours(ctx.timezone)
    _rapid_hours(tables, params, ctx)  # folds them, if it can (once per scan)
    key = _rapid_changed_key(per_hour, offset)
    if not _in_scan(tables, key):
        return None
    return shared(tables, key, _no_changes)


def _count_shop_orders(o: ir.Table, offset: int, lo: int, hi: int) -> ir.Table:
    """``merchant_id, n_orders, odd_orders``: each shop's non-cancelled orders among ``o``, and
    how many of them were paid in the local hours [lo, hi)."""
    o = o.filter(o.status != "cancelled")
    local_h = ((epoch_seconds(o.paid_at) // 3600) + offset) % 24
    is_odd = (local_h >= lo) & (local_h < hi)
    # (counts, not sums of 0/1: a sum of BIGINT is a HUGEINT in DuckDB, and these are kept)
    return o.group_by("merchant_id").aggregate(n_orders=o.count(), odd_orders=o.count(where=is_odd))


def _shop_orders(tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
    """:func:`_count_shop_orders` of every order: one pass over the orders per shop, kept from
    scan to scan (counts of appended rows add up)."""
    offset = utc_offset_hours(ctx.timezone)
    lo, hi = params["odd_hours"]

    def build() -> ir.Table:
        return _count_shop_orders(tables.orders, offset, lo, hi)

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        return add_up(
            previous, _count_shop_orders(added_rows(tables, new, "orders"), offset, lo, hi)
        )

    return shared(tables, ("brush003_shop_orders", "v1", offset, lo, hi), build, fold=fold)


#: a category of goods delivered online on payment, read after lower-casing and turning ``_``
#: and ``-`` into spaces (``mobile_top_up``, ``Gift-Cards``): whole English words, Chinese
#: words; :data:`NOT_ONLINE` takes out the physical goods named like them
ONLINE_CATEGORY = (
    r"话费|充值|流量包|点卡|游戏币|q币|礼品卡|购物卡|电子券|电子卡|兑换码|激活码|电影票|门票"
    r"|虚拟|视频会员|在线课程|电子书"
    r"|(?:^|[^a-z])(?:top ?ups?|topups?|recharge|gift ?cards?|e ?cards?|e ?tickets?|e ?vouchers?"
    r"|vouchers?|virtual goods|digital goods|game credits?|movie tickets?|mobile credit"
    r"|airtime|e ?books?|online courses?)(?:[^a-z]|$)"
)
#: ... but these: a flow meter, a SIM shipped by post, card stock and cases, ticket holders,
#: storage for game tokens, a card reader, printers, VR headsets and glasses, writing pads, a
#: physical gift card, paper tickets, albums, school bags, bookmarks, batteries and pads (a
#: reviewer's cases: 液晶电子书写板, 实体礼品卡, 纸质门票, 电影票夹, VR虚拟眼镜, 电子书包)
NOT_ONLINE = (
    r"流量计|流量卡|卡片|贺卡|卡套|卡包|卡册|读卡器|阅读器|实体|快递|门票夹|票夹|收纳|虚拟现实"
    r"|眼镜|书写板|纸质|收藏册|书包|书签|电池"
    r"|holders?|printers?|reality|headsets?|readers?|cases?|covers?|box(?:es)?|cables?"
    r"|batter(?:y|ies)|pads?|glasses"
)


def _online_category(category: ir.StringValue, online: str, not_online: str) -> ir.BooleanValue:
    """Whether a listing's category is goods delivered online on payment (a top-up, a game
    card, an e-ticket): ``online`` matches it and ``not_online`` does not (RE2 and Java both
    read these: no look-arounds)."""
    c = category.lower().re_replace(r"[_\-]+", " ")
    return c.re_search(online) & ~c.re_search(not_online)


def _online_share(tables: Tables, shops: ir.Table, params: dict[str, Any]) -> ir.Table:
    """``merchant_id, online_confirmed, online_instant``: for the shops ``shops``
    (``merchant_id``: the few over the bar), how many of their non-cancelled confirmed orders are
    of goods delivered online, and how many of those were confirmed instantly. Not kept: read
    from the season's orders for these shops in each scan, so a listing row arriving after its
    orders is read as a full re-scan reads it."""
    online_l = tables.listings.filter(
        _online_category(
            tables.listings.category, params["online_categories"], params["not_online_categories"]
        )
    )
    online_l = online_l.select(ol_listing=online_l.listing_id).distinct()
    o = tables.orders
    o = o.filter(o.status != "cancelled", o.confirmed_at.notnull())
    o = o.semi_join(shops, o.merchant_id == shops.merchant_id)
    o = o.semi_join(online_l, o.listing_id == online_l.ol_listing)
    io = _instant_orders(tables, params)
    io = io.select(io_order=io.order_id).distinct()
    o = o.left_join(io, o.order_id == io.io_order)
    return o.group_by("merchant_id").aggregate(
        online_confirmed=o.count(), online_instant=o.count(where=o.io_order.notnull())
    )


def _instant_of(o: ir.Table, delivered: ir.Table, win: tuple[int, int, int]) -> ir.Table:
    """Per shop, of the non-cancelled confirmed orders among ``o`` (their first delivery, if
    any, in ``delivered``: ``order_id, delivered_s``): how many there are, and how many were
    confirmed instantly (:func:`_is_instant`)."""
    o = o.filter(o.status != "cancelled")
    oc = o.filter(o.confirmed_at.notnull()).left_join(delivered, "order_id")
    soon = _is_instant(oc.confirmed_at, oc.paid_at, oc.delivered_s, win)
    return oc.group_by("merchant_id").aggregate(
        confirmed_orders=oc.count(), instant_confirms=oc.count(where=soon)
    )


def _window(params: dict[str, Any]) -> tuple[int, int, int]:
    """(confirm_minutes, early_confirm_hours, early_confirm_within_hours) in seconds: what
    :func:`_is_instant` reads, and what the kept relations' keys carry."""
    return (
        int(float(params["confirm_minutes"]) * 60),
        int(float(params["early_confirm_hours"]) * 3600),
        int(float(params["early_confirm_within_hours"]) * 3600),
    )


def _is_instant(
    confirmed_at: ir.TimestampValue,
    paid_at: ir.TimestampValue,
    delivered_s: ir.IntegerValue,
    win: tuple[int, int, int],
) -> ir.BooleanValue:
    """Whether an order's receipt was confirmed before it could have been received:

    - within confirm_minutes after its payment (no parcel arrives that fast: a buyer who
      confirms then has nothing in hand; a confirmation before the payment is a pay-later or
      cash-on-delivery order, not this);
    - within confirm_minutes after its first delivery scan (the old reading);
    - or early_confirm_hours or more before that scan, within early_confirm_within_hours of
      payment: confirmed while the parcel was still on its way. The margin before the scan is
      wider than a carrier's upload lag or a time zone read wrong (a scan stamped 8 hours late
      moves no honest confirmation past it), and the bound after payment leaves out a
      platform's auto-confirmation, which comes days after shipment, before a stuck parcel's
      scan.

    An order with no delivery scan is judged on its payment alone: a store without scans (or
    an export cut before the scan) must not make every confirmation instant. (SQL's logic: with
    no scan the scan tests are NULL, and NULL OR x is x.)"""
    soon, early, within = win
    confirmed = epoch_seconds(confirmed_at)
    after_pay = confirmed - epoch_seconds(paid_at)
    lag = confirmed - delivered_s
    # (a payment recorded at the confirmation of a parcel delivered before it is a pay-later
    # or cash-on-delivery order: its receipt was in hand)
    delivered_before = (lag >= 0).fill_null(False)
    return (
        ((after_pay >= 0) & (after_pay <= soon) & ~delivered_before)
        | ((lag >= 0) & (lag <= soon))
        | ((lag <= -early) & (after_pay >= 0) & (after_pay <= within))
    )


def _instant(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """``merchant_id, confirmed_orders, instant_confirms``: per shop, its non-cancelled
    confirmed orders, and how many of them were confirmed instantly (:func:`_is_instant`).

    Kept from scan to scan: an order counts by its own row and its first delivery, so the new
    orders are counted and the old orders whose first delivery the new rows moved
    (``first_delivery_changes``, made by the first delivery's own fold) are counted again
    against their old first delivery, which is taken back off.
    """
    win = _window(params)

    def build() -> ir.Table:
        return _instant_of(tables.orders, first_delivery_by_order(tables), win)

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        now = first_delivery_by_order(tables)  # folds the first delivery, if it can
        moved = first_delivery_changes(tables)
        if moved is None:  # the first delivery was built whole: what moved is not known
            return build()
        fresh = new_orders_first_delivery(tables)  # (the day's orders': not all 5.35M)
        if fresh is not None:
            now = fresh.select("order_id", delivered_s=epoch_seconds(fresh.first_delivered_at))
        plus = _instant_of(added_rows(tables, new, "orders"), now, win)
        # old orders (not among the new ones: those are counted above) whose delivery moved:
        # each was counted and stays counted (every confirmed order is); it may become instant
        # (a scan stamped after its confirmation came) or stop being so (an earlier scan came)
        j = _moved_old_orders(tables, new, moved)
        soon = _is_instant(j.confirmed_at, j.paid_at, epoch_seconds(j.new_first), win)
        # (a null old first delivery: the order was judged on its payment alone)
        was_soon = _is_instant(j.confirmed_at, j.paid_at, epoch_seconds(j.old_first), win)
        change = (
            j.group_by("merchant_id")
            .aggregate(instant_confirms=j.count(where=soon) - j.count(where=was_soon))
            .mutate(confirmed_orders=ibis.literal(0, "int64"))
        )
        return add_up(add_up(previous, plus).view(), change)

    return shared(tables, ("brush003_instant", "v4", *win), build, fold=fold)


def _moved_old_orders(tables: Tables, new: Tables, moved: ir.Table) -> ir.Table:
    """``order_id, merchant_id, buyer_id, paid_at, confirmed_at, old_first, new_first``: the
    old (not new) non-cancelled confirmed orders whose first delivery moved (``moved``: the
    first delivery's changes), kept in the scan: both instant folds read them (one probe of
    the season's orders with the day's moved ones instead of two).

    An old order whose first delivery moved from none (nearly all of them: a delivered scan
    came) was undelivered at the previous scan: its row is among :func:`_undelivered_orders`'
    previous rows, which that relation's fold picks out (some 84,000 rows, instead of a probe of
    every order). Only the orders whose first delivery moved earlier (a scan stamped before the
    first one) are looked up among the season's orders, and only when there are any."""

    def probe(m: ir.Table) -> ir.Table:
        o = tables.orders
        o = o.filter(o.status != "cancelled", o.confirmed_at.notnull())
        o = o.anti_join(added_rows(tables, new, "orders"), "order_id")
        return _with_moves(o, m)

    def build() -> ir.Table:
        _undelivered_orders(tables)  # folds it (once per scan), picking out its moved rows
        if not _in_scan(tables, _UNDELIVERED_MOVED):  # built whole: probe the season's orders
            return probe(moved)
        first = shared(tables, _UNDELIVERED_MOVED, _no_changes)
        earlier = moved.filter(moved.old_first.notnull())
        if not tables.to_arrow(earlier.count().as_table()).column(0)[0].as_py():
            return first
        return union_all(first, probe(earlier))

    return shared(tables, ("brush003_moved_old_orders", "v1"), build)


_UNDELIVERED_COLUMNS = ("order_id", "merchant_id", "buyer_id", "paid_at", "confirmed_at")
_UNDELIVERED_MOVED = ("brush003_undelivered_orders_moved", "v1")


def _with_moves(o: ir.Table, moved: ir.Table) -> ir.Table:
    """Orders ``o`` (:data:`_UNDELIVERED_COLUMNS` at least) whose first delivery moved, with
    its old and new first delivery: :func:`_moved_old_orders`' rows."""
    j = o.join(moved, o.order_id == moved.order_id)
    return j.select(
        *(o[c] for c in _UNDELIVERED_COLUMNS),
        old_first=moved.old_first,
        new_first=moved.new_first,
    )


def _undelivered_orders(tables: Tables) -> ir.Table:
    """The non-cancelled confirmed orders with no first delivery (:data:`_UNDELIVERED_COLUMNS`):
    an order's instant confirmation waits on its first delivered scan. Asked for only by a scan
    that keeps relations (:func:`_keeps_relations`), for the next one.

    Kept from scan to scan: an order's first delivery never goes back to none, so the previous
    rows stay but those whose first delivery the new rows brought (``first_delivery_changes``),
    and the new such orders with none are added. The fold also keeps in the scan the previous
    rows whose first delivery came, not of a new order, with their old (none) and new first
    delivery: :func:`_moved_old_orders`' rows for them."""

    def build() -> ir.Table:
        o = tables.orders
        o = o.filter(o.status != "cancelled", o.confirmed_at.notnull())
        d = order_first_delivery(tables)
        return o.anti_join(d, o.order_id == d.s_order_id).select(*_UNDELIVERED_COLUMNS)

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        now = order_first_delivery(tables)  # folds the first delivery, if it can
        moved = first_delivery_changes(tables)
        if moved is None:  # built whole: what moved is not known
            return build()
        n = added_rows(tables, new, "orders")
        old = previous.anti_join(n, "order_id")
        came = _with_moves(old, moved)
        shared(tables, _UNDELIVERED_MOVED, lambda: came)
        n = n.filter(n.status != "cancelled", n.confirmed_at.notnull())
        fresh = new_orders_first_delivery(tables)  # (the day's orders': not all 5.35M)
        if fresh is not None:
            now = fresh.select(s_order_id=fresh.order_id)
        n = n.anti_join(now, n.order_id == now.s_order_id)
        kept = previous.anti_join(moved, previous.order_id == moved.order_id)
        return union_all(kept.select(*_UNDELIVERED_COLUMNS), n.select(*_UNDELIVERED_COLUMNS))

    return shared(tables, ("brush003_undelivered_orders", "v1"), build, fold=fold)


def _keeps_relations(tables: Tables) -> bool:
    """Whether the scan folds kept relations or writes them for the next one (a saved scan
    or a scan ``--since`` on DuckDB), where a relation only a fold reads is worth making."""
    kept = tables.scan.kept if tables.scan is not None else None
    return kept is not None and (kept.save or kept.new is not None)


_INSTANT_COLUMNS = (
    "merchant_id",
    "order_id",
    "buyer_id",
    "paid_at",
    "delivered_at",
    "confirmed_at",
)


def _instant_rows(o: ir.Table, delivered: ir.Table, win: tuple[int, int, int]) -> ir.Table:
    """The non-cancelled orders among ``o`` confirmed instantly (:func:`_is_instant`), with
    their first delivery (``delivered``: ``order_id, delivered_at``; null when there is none)
    (:data:`_INSTANT_COLUMNS`)."""
    o = o.filter(o.status != "cancelled", o.confirmed_at.notnull())
    oc = o.left_join(delivered, "order_id")
    soon = _is_instant(oc.confirmed_at, oc.paid_at, epoch_seconds(oc.delivered_at), win)
    return oc.filter(soon).select(*_INSTANT_COLUMNS)


def _instant_orders(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """Every instantly confirmed order (:data:`_INSTANT_COLUMNS`): what the evidence quotes
    for the found shops, kept from scan to scan so an increment reads these few instead of
    joining every order to every first delivery again. The fold drops the orders whose first
    delivery moved and adds them and the new orders back as they are now."""
    win = _window(params)

    def delivered(tables: Tables) -> ir.Table:
        per = order_first_delivery(tables)
        return per.select(order_id=per.s_order_id, delivered_at=per.first_delivered_at)

    def build() -> ir.Table:
        return _instant_rows(tables.orders, delivered(tables), win)

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        now = delivered(tables)  # folds the first delivery, if it can
        moved = first_delivery_changes(tables)
        if moved is None:
            return build()
        fresh = new_orders_first_delivery(tables)  # (the day's orders': not all 5.35M)
        if fresh is not None:
            now = fresh.select("order_id", delivered_at=fresh.first_delivered_at)
        added = _instant_rows(added_rows(tables, new, "orders"), now, win)
        # the old orders whose first delivery moved, instant now (the new ones are added above)
        old = _moved_old_orders(tables, new, moved)
        old = old.filter(
            _is_instant(old.confirmed_at, old.paid_at, epoch_seconds(old.new_first), win)
        )
        again = old.select(
            merchant_id=old.merchant_id,
            order_id=old.order_id,
            buyer_id=old.buyer_id,
            paid_at=old.paid_at,
            delivered_at=old.new_first,
            confirmed_at=old.confirmed_at,
        )
        # the shops whose rows left or joined (what the evidence hook reads): the new orders'
        # instant ones, and the old orders' whose first delivery moved
        left = previous.semi_join(moved, previous.order_id == moved.order_id)
        shops = union_all(
            added.select("merchant_id"), left.select("merchant_id"), again.select("merchant_id")
        )
        shared(tables, _instant_changed_key(win), lambda: shops)
        kept = previous.anti_join(moved, previous.order_id == moved.order_id)
        return union_all(kept.select(*_INSTANT_COLUMNS), added, again)

    return shared(tables, ("brush003_instant_orders", "v4", *win), build, fold=fold)


def _instant_changed_key(win: tuple[int, int, int]) -> tuple[Any, ...]:
    return ("brush003_instant_orders_changed", "v3", *win)


def _instant_changed_shops(tables: Tables, params: dict[str, Any]) -> ir.Table | None:
    """``merchant_id``: within a scan whose :func:`_instant_orders` was folded, the shops of
    the rows the fold took out or put in: the new orders' instant ones, and the old orders'
    whose first delivery moved; else None (it was built: what changed is not known)."""
    win = _window(params)
    _instant_orders(tables, params)  # folds it, if it can (once per scan)
    key = _instant_changed_key(win)
    if not _in_scan(tables, key):
        return None
    return shared(tables, key, _no_changes)


#: why a shop carried over the bar by repeated buyer-hours of one day only is graded low
ONE_DAY_REASON = (
    "the repeated buyer-hours fall on too few local days to be a habit: a sale day's baskets "
    "split into several orders to stack per-order coupons (凑单) look the same"
)
#: why a shop of goods delivered online, carried over the bar by instant confirmations, is low
ONLINE_REASON = (
    "the instant receipts that carry the shop over the bar are of goods delivered online "
    "(top-ups, game cards, e-tickets), which reach the buyer on payment: confirming receipt at "
    "once is expected there"
)


@register
class OrderVelocity(Check):
    code = "BRUSH003"
    name = "order-velocity"
    title = "Order velocity: repeated orders per buyer per hour, instant confirmation, odd hours"
    family = "brushing"
    entity_type = "merchant"
    severity = "medium"
    parameters = (
        Parameter(
            "orders_per_buyer_hour", 3, "orders by one buyer at one shop in one hour", unit="orders"
        ),
        Parameter("min_rapid_share", 0.05, "share of the shop's orders in such buyer-hours"),
        Parameter("min_rapid_buyer_hours", 3, "fewest such buyer-hours", unit="buyer-hours"),
        Parameter(
            "min_rapid_days",
            2,
            "distinct local days with such buyer-hours (one sale day of 凑单 is honest)",
        ),
        Parameter(
            "confirm_minutes",
            10,
            "receipt confirmed this soon after payment or after the delivery scan",
            unit="min",
        ),
        Parameter(
            "early_confirm_hours",
            12,
            "receipt confirmed at least this long before the delivery scan",
            unit="h",
        ),
        Parameter(
            "early_confirm_within_hours",
            72,
            "... and within this long of payment (auto-confirmation comes days later)",
            unit="h",
        ),
        Parameter("min_instant_share", 0.05, "share of confirmed orders confirmed instantly"),
        Parameter("min_instant_orders", 5, "fewest instantly confirmed orders", unit="orders"),
        Parameter("odd_hours", [1, 5], "local hours [from, to) that count as odd"),
        Parameter("min_odd_ratio", 3.0, "shop's odd-hour share over all shops' share"),
        Parameter("min_odd_orders", 10, "fewest odd-hour orders", unit="orders"),
        Parameter("min_signals", 2, "how many of the signals must fire together"),
        Parameter(
            "heavy_orders_per_buyer_hour",
            10,
            "checkouts (distinct payment moments) by one buyer at one shop in one hour that "
            "count as a second velocity signal",
            unit="checkouts",
        ),
        Parameter(
            "online_categories",
            ONLINE_CATEGORY,
            "a listing category of goods delivered online on payment (a regular expression)",
        ),
        Parameter(
            "not_online_categories",
            NOT_ONLINE,
            "... unless it also matches this one (physical goods named like them)",
        ),
    )
    #: the evidence's instant orders now hold confirmations before delivery and within minutes
    #: of payment
    evidence_version = "2"
    doc = CheckDoc(
        what=(
            "Measures, per merchant and relative to its own traffic: the share of its orders "
            "placed in buyer-hours with several orders by one buyer; the share of its confirmed "
            "orders whose receipt was confirmed before it could have been received (within "
            "minutes after payment; within minutes after the carrier's first delivery scan; or "
            "half a day or more before that scan, within three days of payment); and its share "
            "of orders at odd local hours against the share across all merchants. Volume alone "
            "never fires: every signal is a share, and a shop is reported only when several "
            "signals fire together (by default two). Buyer-hours of ten or more checkouts each, "
            "recurring on several days, are a second signal of their own. Repeated buyer-hours "
            "on too few days still count, but a shop they carry over the bar is graded low: "
            "splitting a basket into several orders to stack per-order coupons on the sale day "
            "(凑单/拆单) looks the same. Receipts of goods delivered online (top-ups, game "
            "cards, e-tickets) confirmed at once are expected; a shop carried over the bar only "
            "by them is graded low. An order with no delivery scan is judged on its payment "
            "alone, so a store without scans does not make every confirmation instant; a "
            "confirmation before payment (cash on delivery), the platform's auto-confirmation "
            "and scans stamped hours late are not instant."
        ),
        why=(
            "Real buyers do not reorder the same shop three times an hour or confirm receipt the "
            "minute they pay or before the parcel arrives; scripted fake orders do, because "
            "nothing is shipped and the payment is released by the confirmation. Fake "
            "transactions that inflate sales "
            "are prohibited false transactions and misleading publicity."
        ),
        example=(
            "A shop with 300 orders has 40 buyer-hours with 3+ orders each (40% of its orders) and "
            "half its receipts confirmed within 4 minutes of delivery."
        ),
    )
    observed_columns = (
        "n_orders",
        "n_buyers",
        "rapid_buyer_hours",
        "rapid_days",
        "rapid_share",
        "heavy_buyer_hours",
        "instant_confirms",
        "instant_share",
        "odd_orders",
        "odd_ratio",
        "signals",
    )
    expected_columns = (
        "orders_per_buyer_hour",
        "min_rapid_share",
        "min_instant_share",
        "min_odd_ratio",
    )
    # (listings: their categories say which goods are delivered online)
    reads = ("orders", "shipments", "tracking_events", "merchants", "listings")

    # -- report ---------------------------------------------------------------------------------
    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """A table of the shops and their velocity signals."""
        from promoguard.report.i18n import tr
        from promoguard.report.sections._html import table

        v = findings
        if v.empty:
            return ""
        rows = []
        for f in v.sort_values("entity_id").itertuples():
            o = json.loads(f.observed)
            rows.append(
                [
                    f.entity_id,
                    o.get("n_orders"),
                    o.get("rapid_share"),
                    o.get("instant_share"),
                    o.get("odd_ratio"),
                    o.get("signals"),
                ]
            )
        headers = ["shop", "orders", "rapid share", "instant share", "odd-hour ratio", "signals"]
        return f"<h3>{tr('Order velocity ({n} shops)', n=len(v))}</h3>" + table(
            headers, rows, numeric=(1, 2, 3, 4)
        )

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        # one pass over the orders per shop: its orders and its odd-hour orders
        totals = _shop_orders(tables, params, ctx)
        # n_buyers: the scan's shared distinct-buyer count per shop (BRUSH001 weighs edges by it)
        deg = merchant_degree(tables)
        totals = totals.join(deg, totals.merchant_id == deg.merchant).select(
            totals.merchant_id,
            totals.n_orders,
            totals.odd_orders,
            n_buyers=deg.deg,
        )
        bh = _rapid_hours(tables, params, ctx)
        heavy = bh.checkouts >= int(params["heavy_orders_per_buyer_hour"])
        rapid = bh.group_by("merchant_id").aggregate(
            rapid_buyer_hours=bh.count(),
            rapid_orders=bh.n.sum(),
            rapid_days=bh._day.nunique(),
            heavy_buyer_hours=bh.count(where=heavy),
            heavy_days=bh._day.nunique(where=heavy),
        )
        # delivered scan vs confirmation
        inst = _instant(tables, params)
        if _keeps_relations(tables):  # (for the next scan's instant folds)
            _undelivered_orders(tables)
        m = totals.left_join(rapid, "merchant_id").select(
            totals,
            rapid.rapid_buyer_hours,
            rapid.rapid_orders,
            rapid.rapid_days,
            rapid.heavy_buyer_hours,
            rapid.heavy_days,
        )
        m = m.select(
            "merchant_id",
            "n_orders",
            "n_buyers",
            "rapid_buyer_hours",
            "rapid_orders",
            "rapid_days",
            "heavy_buyer_hours",
            "heavy_days",
            "odd_orders",
        )
        m = m.left_join(inst, "merchant_id").select(m, inst.confirmed_orders, inst.instant_confirms)
        # every shop's together (whole numbers: the sum of the shops' counts is the count), as
        # sums over the per-shop rows (one row per shop with orders, as in ``totals``): not a
        # cross join with an aggregate of ``totals``, which the SQL spelled out a second time,
        # so the engine grouped every order by shop twice
        m = m.mutate(all_odd=m.odd_orders.sum().over(), all_n=m.n_orders.sum().over())
        m = m.mutate(
            rapid_buyer_hours=m.rapid_buyer_hours.fill_null(0),
            rapid_orders=m.rapid_orders.fill_null(0),
            rapid_days=m.rapid_days.fill_null(0),
            heavy_buyer_hours=m.heavy_buyer_hours.fill_null(0),
            heavy_days=m.heavy_days.fill_null(0),
            odd_orders=m.odd_orders.fill_null(0),
            confirmed_orders=m.confirmed_orders.fill_null(0),
            instant_confirms=m.instant_confirms.fill_null(0),
        )
        m = m.mutate(
            rapid_share=_ratio(m.rapid_orders, m.n_orders),
            instant_share=_ratio(m.instant_confirms, m.confirmed_orders),
            odd_ratio=_ratio(
                m.odd_orders.cast("int64") * m.all_n.cast("int64"),
                m.n_orders.cast("int64") * m.all_odd.cast("int64"),
            ),
        )
        rapid = (m.rapid_share >= params["min_rapid_share"]) & (
            m.rapid_buyer_hours >= params["min_rapid_buyer_hours"]
        )
        velocity = rapid & (m.rapid_days >= params["min_rapid_days"])
        # on one local day only, repeated buyer-hours are what a sale day's split baskets (凑单)
        # look like too: they count, but a shop they carry over the bar is graded low
        one_day = rapid & ~velocity
        # ten or more checkouts by one buyer in one hour, hour after hour on several days, is no
        # shopper's basket (a split basket is a few checkouts, a basket of ten lines one; a
        # buyer of bulk orders large quantities): a second signal of its own, on top of the
        # velocity it is a heavy form of
        heavy = (
            velocity
            & (m.heavy_buyer_hours >= params["min_rapid_buyer_hours"])
            & (m.heavy_days >= params["min_rapid_days"])
        )
        instant = (m.instant_share >= params["min_instant_share"]) & (
            m.instant_confirms >= params["min_instant_orders"]
        )
        odd_burst = (m.odd_ratio >= params["min_odd_ratio"]) & (
            m.odd_orders >= params["min_odd_orders"]
        )
        strong = (
            velocity.cast("int64")
            + heavy.cast("int64")
            + instant.cast("int64")
            + odd_burst.cast("int64")
        )
        need = int(params["min_signals"])
        m = m.mutate(
            signals=strong + one_day.cast("int64"),
            signal_names=ibis.literal("")
            .concat(ibis.cases((velocity, "velocity "), (one_day, "velocity_one_day "), else_=""))
            .concat(ibis.cases((heavy, "heavy_velocity "), else_=""))
            .concat(ibis.cases((instant, "instant_confirm "), else_=""))
            .concat(ibis.cases((odd_burst, "odd_hours"), else_="")),
            _one_day=strong < need,
            _instant=instant,
            _others=strong - instant.cast("int64"),
        )
        m = m.filter(m.signals >= need)
        # goods delivered online (a top-up, a game card, an e-ticket) reach the buyer's account on
        # payment (电子商务法 Art. 51): their receipts confirmed at once are no sign. For the few
        # shops over the bar, the instant signal is read again without them; a shop it then
        # leaves under the bar is graded low with why, not dropped
        on = _online_share(tables, m.select("merchant_id"), params)
        m = m.left_join(on, "merchant_id").select(m, on.online_confirmed, on.online_instant)
        phys_instant = m.instant_confirms - m.online_instant.fill_null(0)
        phys_confirmed = m.confirmed_orders - m.online_confirmed.fill_null(0)
        phys = (_ratio(phys_instant, phys_confirmed) >= params["min_instant_share"]) & (
            phys_instant >= params["min_instant_orders"]
        )
        m = m.mutate(_online=m._instant & ~phys & (m._others < need))
        merchants = tables.merchants.select("merchant_id", "platform_id")
        m = m.left_join(merchants, "merchant_id").select(m, merchants.platform_id)
        return m.select(
            entity_id=m.merchant_id,
            merchant_id=m.merchant_id,
            platform_id=m.platform_id,
            n_orders=m.n_orders,
            n_buyers=m.n_buyers,
            rapid_buyer_hours=m.rapid_buyer_hours,
            rapid_days=m.rapid_days,
            rapid_share=m.rapid_share,
            heavy_buyer_hours=m.heavy_buyer_hours,
            instant_confirms=m.instant_confirms,
            instant_share=m.instant_share,
            odd_orders=m.odd_orders,
            odd_ratio=m.odd_ratio,
            signals=m.signal_names.strip(),
            severity=ibis.cases((m._one_day | m._online, "low"), else_=ibis.null("string")),
            severity_reason=ibis.cases(
                (m._one_day, ONE_DAY_REASON), (m._online, ONLINE_REASON), else_=ibis.null("string")
            ),
            orders_per_buyer_hour=ibis.literal(int(params["orders_per_buyer_hour"])),
            min_rapid_share=ibis.literal(float(params["min_rapid_share"])),
            min_instant_share=ibis.literal(float(params["min_instant_share"])),
            min_odd_ratio=ibis.literal(float(params["min_odd_ratio"])),
        )

    #: its evidence picks a finding's rows by entity_id alone (``evidence``): S's rows may go
    #: under a moved head
    evidence_rows_by_entity = True

    def evidence_touched(
        self, tables: Tables, new: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> ir.Table:
        """Kept evidence: the found shops whose evidence rows the new rows can change.

        A shop's evidence (:meth:`evidence`) is its rows of two relations, picked by
        ``entity_id`` alone: its rapid buyer-hours (:func:`_rapid_hours`) and its instantly
        confirmed orders (:func:`_instant_orders`). Both are kept from scan to scan, and each
        fold changes only the rows the new rows reach, at their shops: a buyer-hour is grouped
        from its own orders at the shop, so only the buyer-hours a new non-cancelled order
        falls in are taken out and recounted; an instant order's row is the order's own columns
        and its first delivery, so only the new orders' instant rows are added and the rows of
        old orders whose first delivery moved taken out or put back. Each fold keeps the shops
        of the rows it changed in the scan, and those are the shops named: not every shop with
        a new order (most of a day's orders fall in no rapid buyer-hour and are not yet
        delivered: at city scale some 700 of 4,700 found shops against 2,800). Every found shop
        when either relation was built whole (what changed is not known)."""
        rapid = _rapid_changed_shops(tables, params, ctx)
        instant = _instant_changed_shops(tables, params)
        f = found.select("entity_id")
        if rapid is None or instant is None:
            return f
        shops = union_all(
            rapid.select(entity_id=rapid.merchant_id), instant.select(entity_id=instant.merchant_id)
        )
        return f.semi_join(shops, "entity_id")

    def evidence(self, tables, found, params, ctx):
        # the shop's buyer-hours with repeated orders, and its instantly confirmed orders
        f = found.select("entity_id")
        # (the find step's rapid buyer-hours, kept in the scan: the found shops' ones)
        rh = _rapid_hours(tables, params, ctx)
        bh = f.join(rh, f.entity_id == rh.merchant_id).select(
            "entity_id",
            "buyer_id",
            "_hour",
            orders=rh.n,
            first_paid_at=rh.first_paid_at,
            last_paid_at=rh.last_paid_at,
        )
        rapid = first_rows(bh, bh.entity_id, [bh.first_paid_at, bh.buyer_id], 200).drop("_hour")
        # orders whose receipt was confirmed instantly (``_is_instant``: on payment, soon after
        # the earliest delivered scan of any of the order's parcels, or well before it; that
        # scan's time is null when there is none): the found shops' among every
        # such order, kept by the scan (and from scan to scan) rather than every order of the
        # found shops joined to every first delivery again
        io = _instant_orders(tables, params)
        fast = f.join(io, f.entity_id == io.merchant_id).select(
            "entity_id", "order_id", "buyer_id", "paid_at", "delivered_at", "confirmed_at"
        )
        return {
            "rapid_buyer_hours": rapid,
            "instant_confirms": first_rows(
                fast, fast.entity_id, [fast.paid_at, fast.order_id], 200
            ),
        }
