"""COUPON004 coupon-not-honoured: the coupon's conditions were met, its discount not (fully) applied."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import Check, CheckDoc, ScanContext, Tables
from promoguard.engine.exact import cents, first_rows
from promoguard.engine.registry import register
from promoguard.rules._relations import graded
from promoguard.rules.coupons._shared import (
    TOLERANCE,
    coupons_added,
    covers,
    discount_cents,
    in_force,
    tolerance_cents,
)

#: Order statuses whose redemptions are no use of a per-buyer-capped coupon: a cancelled order was
#: never a sale (the pricing rules' ``exclude_statuses`` say the same) and a platform hands the
#: coupon back on cancellation, so it does not spend the buyer's turn. A refunded order's use
#: counts (policy: a sale was made and the coupon taken off it; whether a refund returns the
#: coupon is each platform's own term, which the data does not record).
NOT_A_USE = ("cancelled",)

#: Why a redemption its log shows honoured in full is reported low when only the order's
#: discount_total (0.00) says nothing was taken off: the buyer may have paid in full, or the
#: export may leave discount_total at 0.00 (a column a platform does not fill reads as a refusal
#: of every coupon). A total above 0 but below the log keeps the pack's severity (docs/exemptions.md)
ZERO_TOTAL_REASON = (
    "the coupon's redemption records its discount in full and only the order's discount_total "
    "(0.00) shows nothing taken off: either checkout did not take it off, or the export does not "
    "fill discount_total; the order's charge is to be checked"
)

#: Why a refunded order whose export shows nothing taken off for its coupons is reported low
#: (docs/exemptions.md): an export may show a refunded order's discount reversed with the refund
#: (the redemption at 0.00, or the order's discount_total at 0.00), and the buyer then lost
#: nothing. A refunded order that shows a short non-zero amount was not reversed: the pack's
#: severity. (Its use of a capped coupon still counts: ``NOT_A_USE``.)
REFUNDED_REASON = (
    "the order was refunded and its export shows nothing taken off for its coupons: a refund "
    "can reverse the discount in an export (the buyer then lost nothing), so the refund is to "
    "be checked"
)


#: At most this many of a finding's earlier uses of a capped coupon are quoted in its evidence
#: (``earlier_uses``, the first by the cap's count): a due order has fewer than its cap of them,
#: and caps are small; an order flagged on another coupon may carry one used hundreds of times.
MAX_EVIDENCE_USES = 50


def redemptions_due(tables: Tables, orders: ir.Table | None = None) -> ir.Table:
    """Each redemption with what the coupon's displayed terms in force when the order was placed
    (placed_at, else paid_at) say it should have taken off (0 where its conditions were not met).

    A per-buyer cap (``per_buyer_cap``) is a stated condition: once the buyer has used the coupon
    that many times, nothing more is due on a later order. A use is an earlier redemption of the
    same coupon by the same buyer that took something off or was due to (one the seller shorted
    used the buyer's turn: that order is flagged itself), earlier by placed time, then (orders of
    one instant, a cart checked out at once) the one it took more off, then order id, and not
    cancelled (``NOT_A_USE``: a refunded one counts). Where the turns are counted is the
    coupon's own: a platform coupon (``merchant_id`` empty, a 红包 the platform issues) is one per
    buyer on the platform that issued it (the coupon's ``platform_id``), so every use of it by
    the buyer counts, at any shop, whatever platform the order's listing row names; a merchant
    coupon's uses are counted on that merchant's orders (``cap_scope``).

    ``orders`` (a table with ``f_order``): only the redemptions of these orders. A row depends on
    its own order's redemptions and on its buyer's earlier orders (at the same merchant, or at
    any shop for a platform coupon), so the redemptions of every order of the found
    orders' buyers are read, and the found orders' rows kept: the same rows as all redemptions
    cut down afterwards; evidence cuts the million redemptions down before the terms are looked
    up, not after.
    """
    t = _counted(tables, orders)
    t = t.drop("_use", "uncapped_c", "cap_scope")
    if orders is not None:
        t = t.semi_join(orders, t.order_id == orders.f_order)
    return t


def _counted(tables: Tables, orders: ir.Table | None = None, positions: bool = False) -> ir.Table:
    """:func:`redemptions_due`'s rows before they are cut to ``orders``, with the cap's counting
    columns: ``_use`` (1: a use of the coupon), ``cap_scope`` (where its turns are counted),
    ``uncapped_c`` and, with ``positions``, ``_pos``: the row's place in its buyer's count of
    the coupon (null for a coupon without a cap), so that a row's counted uses are the rows of
    its (``cap_scope``, buyer, coupon) with ``_use`` 1 and a smaller ``_pos``: its
    ``used_before`` of them (the evidence quotes them)."""
    r = tables.coupon_redemptions
    o = tables.orders
    if orders is not None:
        found = o.semi_join(orders, o.order_id == orders.f_order).select(k_buyer=o.buyer_id)
        kin = o.semi_join(found, o.buyer_id == found.k_buyer).select(k_order=o.order_id)
        kin = kin.union(orders.select(k_order=orders.f_order))
        r = r.semi_join(kin, r.order_id == kin.k_order)
    ls = tables.listings
    cp = tables.coupons
    # per order: how many of its redemptions took something off, and what they say it took off
    # together (a null is counted by neither)
    positive = r.group_by(p_order=r.order_id).aggregate(
        n_pos=ibis.cases((r.discount_amount > 0, 1), else_=ibis.null("int64")).count(),
        logged_c=cents(r.discount_amount.sum()),
    )
    j = (
        r.join(o, "order_id")
        .join(
            ls.select("listing_id", "category", "platform_id", listing_merchant=ls.merchant_id),
            "listing_id",
        )
        .join(
            cp.select(
                "coupon_id",
                "valid_from",
                "valid_to",
                coupon_merchant=cp.merchant_id,
                coupon_platform=cp.platform_id,
            ),
            "coupon_id",
        )
    )
    j = j.left_join(positive, j.order_id == positive.p_order)
    j = j.select(
        "order_id",
        "coupon_id",
        "merchant_id",
        "buyer_id",
        "platform_id",
        "category",
        "discount_amount",
        "status",
        "valid_from",
        "valid_to",
        "coupon_merchant",
        "listing_merchant",
        "discount_total",
        placed=j.placed_at.coalesce(j.paid_at),
        basket_c=cents(j.unit_price) * j.quantity,
        applied_c=cents(j.discount_amount),
        # what the buyer got for it: the order's discount_total (its coupons and reductions)
        # caps what its redemptions took off, and where it is below their sum the difference
        # was not taken off (``excess_c``; :func:`with_given` charges it to the redemptions)
        excess_c=ibis.cases(
            (
                j.discount_total.notnull() & (j.logged_c > cents(j.discount_total)),
                j.logged_c - cents(j.discount_total),
            ),
            else_=0,
        ),
        # what the order's export shows its coupons took off together (a refund reversing the
        # discount shows 0 here)
        taken_c=ibis.cases(
            (cents(j.discount_total) < j.logged_c, cents(j.discount_total)), else_=j.logged_c
        ),
        others=j.n_pos.coalesce(0) - (j.discount_amount > 0).cast("int64"),
        # where the buyer's turns are counted: a platform coupon's on the platform that issued
        # it (the coupon's platform, whose terms the cap is: every use of the coupon by the buyer
        # counts, whatever platform the order's listing row names), a merchant coupon's at the
        # merchant
        cap_scope=ibis.cases(
            (j.coupon_merchant.isnull(), j.coupon_platform), else_=j.merchant_id
        ).cast("string"),
    )
    t = in_force(tables, j, ["order_id", "coupon_id"], "placed", ("displayed",))
    t = _announced_end(tables, t, j)
    valid = (
        (t.valid_from <= t.placed)
        # the end the displayed terms in force announced to buyers (a shop extending its coupon,
        # or shortening it, before the order), else the coupon's own
        & (t.placed <= t.terms_valid_to.coalesce(t.valid_to))
        # a shop's coupon (店铺券) applies in its own shop only (the order's, or the one whose
        # listing it is: an order of another shop on its listing is its goods), a platform's in
        # every shop
        & (
            t.coupon_merchant.isnull()
            | (t.coupon_merchant == t.merchant_id)
            | (t.coupon_merchant == t.listing_merchant)
        )
        & covers(t.scope, t.category)
        # a coupon that does not stack is not due beside another coupon that was applied
        & ~((t.stackable == False) & (t.others > 0)).fill_null(False)  # noqa: E712
    )
    t = t.mutate(uncapped_c=ibis.cases((valid, discount_cents(t, t.basket_c)), else_=0))
    # the buyer's uses of this coupon before this redemption, at this merchant or, for a platform
    # coupon, on this platform (integers, a window ordered to a key: the same on every engine)
    use = (
        t.buyer_id.notnull()
        & ~t.status.isin(list(NOT_A_USE)).fill_null(False)
        & ((t.applied_c > 0) | (t.uncapped_c > 0))
    ).cast("int64")
    t = t.mutate(_use=use)
    # the window sorts only the redemptions of capped coupons: an uncapped one's count is never
    # read (the same rows; sorting every redemption cost the full scan seconds)
    capped = t.filter(t.per_buyer_cap.notnull())
    # Orders placed at the same instant (one cart checked out at several shops, or several lines
    # of one shop) are ordered by what they got off, most first, before the order id: the
    # coupon went to the order it was applied to, so that order used the turn and the others of
    # the instant are due nothing (ordering by id alone flagged whichever sorted first). A
    # partial application counts too: the coupon was taken on that order, its shortfall is that
    # order's own finding, and the order beside it that got nothing owes nothing. Where none got
    # anything, the order id still decides which was refused: one of them is.
    count_by = [capped.cap_scope, capped.buyer_id, capped.coupon_id]
    count_order = [capped.placed, ibis.desc(capped.applied_c), capped.order_id]
    w = ibis.cumulative_window(group_by=count_by, order_by=count_order)
    # (a count of the uses, not a sum of the 0/1s: a sum of BIGINT is a HUGEINT in DuckDB, which
    # the evidence would quote as text and Spark as a number)
    capped = capped.mutate(
        used_before=(capped._use.nullif(0).count().over(w) - capped._use).coalesce(0)
    )
    free = t.filter(t.per_buyer_cap.isnull()).mutate(used_before=ibis.literal(0, "int64"))
    if positions:
        # the running count's row order (its partition and keys, no frame: a ranking takes none):
        # the rows a row's count counted are exactly those of its partition of smaller position
        at = ibis.window(group_by=count_by, order_by=count_order)
        capped = capped.mutate(_pos=ibis.row_number().over(at).cast("int64"))
        free = free.mutate(_pos=ibis.literal(None, "int64"))
    t = capped.union(free.select(*capped.columns))
    within_cap = t.buyer_id.isnull() | t.per_buyer_cap.isnull() | (t.used_before < t.per_buyer_cap)
    return t.mutate(due_c=ibis.cases((within_cap, t.uncapped_c), else_=0).cast("int64"))


def _announced_end(tables: Tables, t: ir.Table, moments: ir.Table) -> ir.Table:
    """``t`` with ``terms_valid_to``: the end the latest displayed version effective by the order
    that states one announced (a version raising the face value after an extension, silent on
    the end, keeps the extension), else none. The orders' keys are read from ``moments`` (the
    rows ``t`` was made of: unique on order and coupon), not from ``t``: DuckDB computed ``t``,
    the terms in force, once more for them (0.6 s at city scale)."""
    tv = tables.coupon_terms
    tv = tv.filter((tv.source == "displayed") & tv.valid_to.notnull())
    k = moments.select(k_order="order_id", k_coupon="coupon_id", k_placed="placed")
    j = k.join(tv, [k.k_coupon == tv.coupon_id, tv.effective_at <= k.k_placed])
    last = first_rows(
        j, [j.k_order, j.k_coupon], [ibis.desc(j.effective_at), ibis.desc(j.valid_to)]
    ).select("k_order", "k_coupon", announced_to="valid_to")
    t = t.left_join(last, [t.order_id == last.k_order, t.coupon_id == last.k_coupon])
    t = t.drop(*[c for c in t.columns if c in ("k_order", "k_coupon") or c.endswith("_right")])
    return t.mutate(terms_valid_to=t.announced_to).drop("announced_to")


def _grades(t: ir.Table) -> dict[str, ir.Value]:
    """A found row's severity and reason: low for a refunded order showing nothing taken off
    (``REFUNDED_REASON``), or for a redemption logged in full against a discount_total of 0.00
    (``ZERO_TOTAL_REASON``); the pack's severity otherwise."""
    refunded = (t.status == "refunded") & (t.taken_c == 0)
    zero_total = (cents(t.discount_total) == 0) & (t.applied_c >= t.due_c)
    return graded(refunded, REFUNDED_REASON, "low", (zero_total, ZERO_TOTAL_REASON))


def with_given(t: ir.Table) -> ir.Table:
    """``t`` (:func:`redemptions_due`) with ``given_c``: the cents each redemption took off. The
    order's ``excess_c`` (what its redemptions together claim beyond its discount_total) was not
    taken off; it is charged first to what redemptions claim beyond their due (a coupon logged
    at 20 that was due nothing: the buyer lost nothing by it), and what is left to the
    redemptions in coupon order, each at most what it kept (the smaller of its amount and its
    due). Charged to every redemption whole, a stacked pair logged 20 + 20 against a total of
    20 read short on both, and a pair of one due and one not read the due one short (a
    reviewer's cases, session 34). A null amount stays null.

    Integers and windows over a key (the order, its coupon ids): the same on every engine."""
    applied, due = t.applied_c, t.due_c
    beyond = ibis.cases((applied > due, applied - due), else_=0)
    kept = ibis.cases((applied > due, due), else_=applied)
    order = ibis.window(group_by=t.order_id)
    upto = ibis.cumulative_window(group_by=t.order_id, order_by=[t.coupon_id, applied, due])
    t = t.mutate(
        _left=t.excess_c - beyond.sum().over(order).cast("int64"),
        _before=kept.coalesce(0).sum().over(upto).cast("int64") - kept.coalesce(0),
        _kept=kept,
    )
    rest = t._left - t._before
    charge = ibis.cases((rest <= 0, 0), (rest >= t._kept, t._kept), else_=rest)
    return t.mutate(given_c=(t._kept - charge).cast("int64")).drop("_left", "_before", "_kept")


def earlier_uses(t: ir.Table, orders: ir.Table) -> ir.Table:
    """For each redemption of a capped coupon on ``orders`` (``f_order``), the buyer's earlier
    uses of the coupon that its ``used_before`` counted (``t``: :func:`_counted` with
    ``positions``), the first ``MAX_EVIDENCE_USES`` by the count's order per order and coupon."""
    mine = t.filter(t.per_buyer_cap.notnull()).semi_join(orders, t.order_id == orders.f_order)
    mine = mine.select(
        entity_id=mine.order_id,
        m_scope=mine.cap_scope,
        m_buyer=mine.buyer_id,
        m_coupon=mine.coupon_id,
        m_pos=mine._pos,
    )
    uses = t.filter(t.per_buyer_cap.notnull() & (t._use == 1))
    e = mine.join(
        uses,
        [
            mine.m_scope == uses.cap_scope,
            mine.m_buyer == uses.buyer_id,
            mine.m_coupon == uses.coupon_id,
            uses._pos < mine.m_pos,
        ],
    )
    e = e.select(
        "entity_id",
        coupon_id=e.m_coupon,
        order_id=e.order_id,
        merchant_id=e.merchant_id,
        placed_at=e.placed,
        discount_amount=e.discount_amount,
        _order=e._pos,
    )
    # per order and coupon: another capped coupon of the order, used more often, must not
    # crowd out the uses of the one the finding is about
    e = first_rows(e, [e.entity_id, e.coupon_id], [e._order], MAX_EVIDENCE_USES)
    return e.drop("_order")


def _platform_uses(tables: Tables, r: ir.Table | None = None) -> ir.Table:
    """The redemptions of platform coupons with a per-buyer cap in some version of their terms,
    with their order's buyer, merchant and placed time (placed_at, else paid_at): the rows whose
    uses are counted across shops (incremental scoping only; a superset of the uses). ``r``:
    rows of the redemptions to take them from (else all of them)."""
    o, cp, ct = tables.orders, tables.coupons, tables.coupon_terms
    r = tables.coupon_redemptions if r is None else r
    capped = ct.filter(ct.per_buyer_cap.notnull()).select("coupon_id").distinct()
    platform = cp.filter(cp.merchant_id.isnull()).select("coupon_id").semi_join(capped, "coupon_id")
    r = r.semi_join(platform, "coupon_id").select("order_id", "coupon_id")
    o = o.filter(o.buyer_id.notnull()).select(
        "order_id", "merchant_id", "buyer_id", placed=o.placed_at.coalesce(o.paid_at)
    )
    return o.join(r, "order_id")


@register
class CouponNotHonoured(Check):
    code = "COUPON004"
    name = "coupon-not-honoured"
    title = "Coupon not honoured: its conditions met, the discount not applied or applied short"
    family = "coupons"
    entity_type = "order"
    severity = "high"
    parameters = (TOLERANCE,)
    doc = CheckDoc(
        what=(
            "For every coupon redeemed on an order, takes the coupon's terms as displayed when the "
            "order was placed (placed_at, else paid_at) and computes what they promise on the "
            "order's basket (unit_price × quantity): nothing when the coupon was not yet or no "
            "longer valid (until the valid_to of those displayed terms where they state one, an "
            "extension or a shortening shown to buyers, else the coupon's), a shop's coupon "
            "(merchant_id set) redeemed on an order neither of its shop nor of its shop's "
            "listing, out of scope, its threshold not met, it does not stack and another "
            "coupon was applied, or the buyer had already used it per_buyer_cap times (earlier "
            "orders by placed time, then, of orders placed at the same instant, the one it took "
            "more off, then order id, that took it off or were due to: any of the buyer's "
            "orders for a platform coupon, as its issuing platform's terms are one per buyer at "
            "every shop, at the merchant for a merchant's; a cancelled order was never a sale "
            "and used nothing, a refunded one counts as a use: policy); else its face value, or "
            "its percentage capped at max_discount. Flags the order when checkout took off less "
            "than that by more than the tolerance: what a redemption took off is its "
            "discount_amount, less its part of what the order's redemptions together claim "
            "beyond its discount_total (the coupons and reductions applied to the order) where "
            "it has one: that excess is charged first to what redemptions claim beyond their "
            "due, then to the others in coupon order. "
            "A refunded order whose export shows nothing taken off for its coupons (its "
            "redemptions or its discount_total at 0.00) is reported low with the reason: an "
            "export may show the discount reversed with the refund; one that shows a short "
            "non-zero amount keeps the pack's severity."
        ),
        why=(
            "Refusing to offset the price with a coupon, voucher or points as agreed is price "
            "fraud (明码标价和禁止价格欺诈规定 Art. 19(7)); a coupon offsets the price as its "
            "rules say (规范促销行为暂行规定 Art. 22) and a promised benefit must be delivered "
            "(Art. 6). Elsewhere it is a failure to honour the advertised price."
        ),
        example=(
            "A 满300减50 coupon redeemed on a ¥320 basket takes ¥0 off. An order placed at 19:58 "
            "for a coupon valid from 20:00 (paid at 20:01) that gets nothing is not flagged; "
            "nor is a 9折 coupon capped at ¥30 that takes ¥30 off a ¥500 basket."
        ),
    )
    observed_columns = ("coupon_id", "discount_applied", "discount_total", "placed_at")
    expected_columns = ("discount_due", "basket", "threshold_amount")
    reads = ("coupon_redemptions", "orders", "listings", "coupons", "coupon_terms")
    depends_on = "merchant_delta"
    #: 2: the redemptions show the cap and the uses counted; earlier_uses quotes them
    evidence_version = "2"

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: a finding on an order reads its redemptions, its row, its listing and the
        coupons (kept whole): new coupons or terms may change any; else the merchants of orders
        with a new redemption, of new orders with a redemption, and of new listing rows' orders.
        Such an order's use of a capped platform coupon is counted at every shop
        (``redemptions_due``): the merchants of its buyer's orders redeeming that coupon placed
        at or after it are named too (at the same instant, too: of orders placed at one instant
        the one the coupon took more off used the turn first)."""
        if coupons_added(new):
            return None
        o, r, nl = season.orders, season.coupon_redemptions, new.listings
        # (cast alike: the tables' order_id columns differ in nullability)
        changed = ibis.union(
            *(
                t.select(order_id=t.order_id.cast("string"))
                for t in (new.coupon_redemptions, new.orders, o.semi_join(nl, "listing_id"))
            ),
            distinct=True,
        )
        uses = _platform_uses(season)
        # the changed orders' uses, from their redemptions, not every use picked out after the
        # join (on a city day without redemptions: 0.17-0.2 s alone, 0.45 s beside the season
        # checks, against 0.03 s)
        rc = season.coupon_redemptions
        hit = _platform_uses(season, rc.semi_join(changed, rc.order_id == changed.order_id))
        first = hit.group_by(p_buyer=hit.buyer_id, p_coupon=hit.coupon_id).aggregate(
            p_placed=hit.placed.min()
        )
        later = uses.join(
            first,
            [
                uses.buyer_id == first.p_buyer,
                uses.coupon_id == first.p_coupon,
                (uses.placed >= first.p_placed) | first.p_placed.isnull() | uses.placed.isnull(),
            ],
        )
        return [
            o.semi_join(new.coupon_redemptions, "order_id").select("merchant_id"),
            new.orders.semi_join(r, "order_id").select("merchant_id"),
            nl.select("merchant_id"),
            o.semi_join(nl, "listing_id").select("merchant_id"),
            later.select("merchant_id"),
        ]

    def context_orders(self, season: Tables, merchants: ir.Table) -> ir.Table:
        """Incremental: the orders besides the ``merchants``' own (a table of ``merchant_id``)
        that their findings read: the orders, at any shop, of a buyer of theirs redeeming a
        capped platform coupon the buyer redeemed at one of them (its earlier uses count against
        the cap there). A scope copies these rows (and their listings) as context."""
        uses = _platform_uses(season)
        mine = uses.semi_join(merchants, uses.merchant_id == merchants.merchant_id)
        pairs = mine.select(p_buyer=mine.buyer_id, p_coupon=mine.coupon_id).distinct()
        kin = uses.semi_join(
            pairs, [uses.buyer_id == pairs.p_buyer, uses.coupon_id == pairs.p_coupon]
        )
        return kin.select("order_id").distinct()

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        t = with_given(redemptions_due(tables))
        t = t.filter(t.due_c - t.given_c > tolerance_cents(params))
        t = t.mutate(short_c=t.due_c - t.given_c)
        t = first_rows(t, [t.order_id], [ibis.desc(t.short_c), t.coupon_id])
        return t.select(
            entity_id=t.order_id,
            merchant_id=t.merchant_id,
            platform_id=t.platform_id,
            coupon_id=t.coupon_id,
            discount_applied=t.discount_amount,
            discount_total=t.discount_total,
            placed_at=t.placed,
            discount_due=t.due_c / 100,
            basket=t.basket_c / 100,
            threshold_amount=t.threshold_amount,
            **_grades(t),
        )

    def evidence(self, tables, found, params, ctx):
        # what decided each finding: its redemptions' terms and, for a capped coupon, the cap
        # and the buyer's earlier uses it counted (why the order was still within it)
        ids = found.select(f_order=found.entity_id)
        every = _counted(tables, ids, positions=True)
        t = every.semi_join(ids, every.order_id == ids.f_order)
        return {
            "redemptions": t.select(
                entity_id=t.order_id,
                coupon_id=t.coupon_id,
                discount_applied=t.discount_amount,
                discount_due=t.due_c / 100,
                terms_shown_since=t.effective_at,
                threshold_amount=t.threshold_amount,
                face_value=t.face_value,
                percent_off=t.percent_off,
                scope=t.scope,
                stackable=t.stackable,
                per_buyer_cap=t.per_buyer_cap,
                used_before=t.used_before,
            ),
            "earlier_uses": earlier_uses(every, ids),
        }

    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        # what the buyer got is at most the order's discount_total (of an order with several
        # redemptions over it, an estimate: only the order of findings reads it)
        given = float(observed.get("discount_applied") or 0)
        if observed.get("discount_total") is not None:
            given = min(given, float(observed["discount_total"]))
        return float(expected.get("discount_due", 0)) - given
