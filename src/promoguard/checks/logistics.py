"""Logistics checks: false delivery (虚假发货), shared tracking numbers, late dispatch, impossible
trajectories and empty parcels (空包).

All five are relational Ibis, so the same code runs on DuckDB and Spark. They read an order's
shipments (``order_id -> (carrier, tracking_no)``) and the carrier's scans of those parcels. A
parcel is keyed on ``(carrier, tracking_no)``: the same number at two carriers is two parcels.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from promoguard import geo
from promoguard.checks.base import (
    Check,
    CheckDoc,
    Parameter,
    ScanContext,
    Tables,
    first_rows,
    half_up_ratio,
)
from promoguard.checks.registry import register
from promoguard.checks.relations import (
    found_entities,
    norm_city,
    order_scan_summary,
    parcel_scan_summary,
    shared,
)

#: the evidence of one finding stays bounded (a tracking number shared by thousands of orders)
MAX_EVIDENCE_ROWS = 200
UNDISPATCHED_EXEMPT = ("cancelled", "refunded")


# -- shared building blocks ----------------------------------------------------------------------


def _epoch_whole_seconds(at: ir.TimestampValue) -> ir.IntegerValue:
    # DuckDB's epoch keeps the fraction of a second, Spark's drops it: floor on both, as int64
    return at.epoch_seconds().cast("float64").floor().cast("int64")


def _seconds_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds from ``earlier`` to ``later``, the same on every engine."""
    return _epoch_whole_seconds(later) - _epoch_whole_seconds(earlier)


def _hours(seconds: ir.IntegerValue) -> ir.NumericValue:
    """Whole seconds as hours to two decimals, rounded half up in integers so every engine
    prints the same figure (a float ``.round(2)`` of 50.485 h differs between engines)."""
    return half_up_ratio(seconds, 3600, 100) / 100


def _orders_with_platform(tables: Tables) -> ir.Table:
    """Orders with the platform of their merchant (orders carry no platform of their own)."""
    o, m = tables.orders, tables.merchants
    plat = m.select(m_id=m.merchant_id, platform_id=m.platform_id).distinct(on="m_id", keep="first")
    j = o.left_join(plat, o.merchant_id == plat.m_id)
    return j.drop("m_id")


def _order_scans(tables: Tables) -> ir.Table:
    """One row per (order, carrier scan) of the order's parcels."""
    s, e = tables.shipments, tables.tracking_events
    j = s.join(e, [s.carrier == e.carrier, s.tracking_no == e.tracking_no])
    return j.select(
        order_id=s.order_id,
        carrier=s.carrier,
        tracking_no=s.tracking_no,
        event_at=e.event_at,
        event_type=e.event_type,
        city=e.city,
    )


def _first_pickup(tables: Tables) -> ir.Table:
    """order_id -> the first carrier pickup of any of its parcels (the real dispatch); null when
    its parcels were scanned but never picked up, no row when they were never scanned."""
    per = order_scan_summary(tables)  # shared with SHIP003/SHIP004 within a scan
    return per.select(p_order_id=per.s_order_id, first_pickup_at=per.first_pickup_at)


def data_horizon(tables: Tables) -> dt.datetime | None:
    """The latest instant the data knows of (last scan or last declared shipment).

    A parcel declared shipped an hour before the export ends has not had its chance to be picked
    up yet; measuring "no pickup" against this horizon keeps such orders out of the findings.
    """
    e, o = tables.tracking_events, tables.orders
    last_scan = tables.to_arrow(e.aggregate(t=e.event_at.max())).column("t")[0].as_py()
    last_order = tables.to_arrow(
        o.aggregate(t=ibis.greatest(o.paid_at.max(), o.declared_shipped_at.max()))
    )
    last = last_order.column("t")[0].as_py()
    known = [t for t in (last_scan, last) if t is not None]
    if not known:
        return None
    horizon = max(t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in known)
    return horizon.astimezone(dt.UTC)


def _horizon_literal(tables: Tables, params: dict[str, Any]) -> ir.TimestampScalar:
    """The instant "now" for the data: the ``as_of`` parameter if set, else the data horizon."""
    as_of = params.get("as_of")
    if as_of:
        when = dt.datetime.fromisoformat(str(as_of).replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    else:
        when = data_horizon(tables) or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return ibis.literal(when.astimezone(dt.UTC), type="timestamp('UTC')")


def _pair_distances() -> ir.Table:
    return ibis.memtable(geo.pair_distances())


def _found_orders_rows(tables: Tables, code: str | None) -> tuple[ir.Table, ir.Table, ir.Table]:
    """(orders, shipments, scans) to read a found order's evidence from.

    Within a scan whose finders have all run, these are only the rows of the orders *any* check
    found (and their parcels' scans), taken from the big tables in one pass and shared by every
    check's evidence; otherwise (or for a check whose rows the scan does not know) the whole
    tables. The evidence rows are the same either way: a found order's rows are all in there.
    """
    o, s, e = tables.orders, tables.shipments, tables.tracking_events
    founds = found_entities(tables, "order")
    if not founds or code not in founds:
        return o, s, e
    ids = sorted({i for rows in founds.values() for i in rows.column("entity_id").to_pylist()})
    f = ibis.memtable(pa.table({"u_order_id": pa.array(ids, pa.string())}))

    def orders() -> ir.Table:
        return o.semi_join(f, o.order_id == f.u_order_id)

    def shipments() -> ir.Table:
        return s.semi_join(f, s.order_id == f.u_order_id)

    def scans() -> ir.Table:
        fs = shared(tables, ("found_order_shipments",), shipments)
        parcels = fs.select(u_carrier=fs.carrier, u_tracking_no=fs.tracking_no).distinct()
        return e.semi_join(
            parcels, [e.carrier == parcels.u_carrier, e.tracking_no == parcels.u_tracking_no]
        )

    return (
        shared(tables, ("found_orders",), orders),
        shared(tables, ("found_order_shipments",), shipments),
        shared(tables, ("found_order_scans",), scans),
    )


def order_evidence(tables: Tables, found: ir.Table, code: str | None = None) -> dict[str, ir.Table]:
    """The order, its shipments and its parcels' carrier scans, for each found order.

    ``code``: the check whose found rows ``found`` holds; within a scan its evidence reads the
    rows shared by all checks' found orders instead of the whole tables.
    """
    o, s, e = _found_orders_rows(tables, code)
    f = found.select(f_id=found.entity_id)
    order = f.join(o, f.f_id == o.order_id).select(
        entity_id=f.f_id,
        order_id=o.order_id,
        listing_id=o.listing_id,
        merchant_id=o.merchant_id,
        status=o.status,
        paid_at=o.paid_at,
        promised_dispatch_by=o.promised_dispatch_by,
        declared_shipped_at=o.declared_shipped_at,
        confirmed_at=o.confirmed_at,
        ship_to_city=o.ship_to_city,
    )
    ship = f.join(s, f.f_id == s.order_id).select(
        entity_id=f.f_id,
        order_id=s.order_id,
        carrier=s.carrier,
        tracking_no=s.tracking_no,
        weight_grams=s.weight_grams,
    )
    scans = ship.join(e, [ship.carrier == e.carrier, ship.tracking_no == e.tracking_no]).select(
        entity_id=ship.entity_id,
        carrier=e.carrier,
        tracking_no=e.tracking_no,
        event_at=e.event_at,
        event_type=e.event_type,
        city=e.city,
    )
    scans = first_rows(
        scans,
        scans.entity_id,
        [scans.event_at, scans.carrier, scans.tracking_no, scans.event_type],
        MAX_EVIDENCE_ROWS,
    )
    return {"order": order, "shipments": ship, "tracking_events": scans}


class _OrderCheck(Check):
    family = "logistics"
    entity_type = "order"
    reads = ("orders", "merchants", "shipments", "tracking_events")

    def evidence(
        self, tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> dict[str, ir.Table]:
        return order_evidence(tables, found, self.code)


AS_OF = Parameter(
    "as_of",
    None,
    "the instant the data is judged at (ISO 8601); empty: the latest scan or declared shipment "
    "in the data",
    basis="policy",
)


# -- SHIP001 --------------------------------------------------------------------------------------


@register
class DeclaredShippedWithoutPickup(_OrderCheck):
    code = "SHIP001"
    name = "shipped-without-pickup"
    title = "Marked shipped, but no carrier pickup within the allowed time"
    severity = "high"
    parameters = (
        Parameter(
            "pickup_within_hours",
            24,
            "hours after the declared shipment by which the carrier must have scanned a pickup",
            basis="policy",
            unit="h",
        ),
        AS_OF,
    )
    doc = CheckDoc(
        what=(
            "Flags orders the merchant marked as shipped (`declared_shipped_at`) whose parcels got "
            "no carrier `pickup` scan within `pickup_within_hours` of that declaration, either "
            "never (judged at the data horizon, so a shipment declared just before the export is "
            "not flagged) or only later."
        ),
        why=(
            "To ship (发货) means handing the goods to the carrier, which starts a real trajectory. "
            "Declaring shipment without doing so is false information to the buyer about "
            "performance of the contract (E-Commerce Law Art. 17, 20) and games the platform's "
            "dispatch-time rules; platforms' rules treat it as 虚假发货."
        ),
        example=(
            "Paid 11-11 00:05, marked shipped 11-11 09:00; the carrier's first scan is a pickup "
            "on 11-13 15:00 (54 h later), or there is no scan at all."
        ),
    )
    observed_columns = ("declared_shipped_at", "first_pickup_at", "hours_to_pickup")
    expected_columns = ("pickup_within_hours",)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        hours = int(params["pickup_within_hours"])
        horizon = _horizon_literal(tables, params)
        o = _orders_with_platform(tables)
        o = o.filter(o.declared_shipped_at.notnull())
        pk = _first_pickup(tables)
        j = o.left_join(pk, o.order_id == pk.p_order_id)
        deadline = j.declared_shipped_at + ibis.interval(hours=hours)
        late = ibis.or_(
            j.first_pickup_at.isnull() & (deadline < horizon),
            j.first_pickup_at > deadline,
        )
        j = j.filter(late)
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            declared_shipped_at=j.declared_shipped_at,
            first_pickup_at=j.first_pickup_at,
            hours_to_pickup=_hours(_seconds_between(j.first_pickup_at, j.declared_shipped_at)),
            pickup_within_hours=ibis.literal(hours),
        )


# -- SHIP002 --------------------------------------------------------------------------------------


def _shared_parcels(tables: Tables) -> ir.Table:
    """(carrier, tracking_no) used by more than one order, with how many orders and merchants."""
    s, o = tables.shipments, tables.orders
    # cheap first pass: only numbers with several shipment rows can be shared
    n = s.group_by(n_carrier=s.carrier, n_tracking_no=s.tracking_no).aggregate(rows=s.count())
    n = n.filter(n.rows > 1)
    s = s.join(n, [s.carrier == n.n_carrier, s.tracking_no == n.n_tracking_no])
    so = s.left_join(o, s.order_id == o.order_id).select(
        carrier=s.carrier, tracking_no=s.tracking_no, order_id=s.order_id, merchant_id=o.merchant_id
    )
    g = so.group_by(["carrier", "tracking_no"]).aggregate(
        orders_sharing=so.order_id.nunique(), merchants_sharing=so.merchant_id.nunique()
    )
    return g.filter(g.orders_sharing > 1)


@register
class SharedTrackingNumber(_OrderCheck):
    code = "SHIP002"
    name = "shared-tracking-number"
    title = "One tracking number used for several orders"
    severity = "high"
    parameters = ()
    doc = CheckDoc(
        what=(
            "Flags every order whose parcel (carrier + tracking number) is also the parcel of "
            "another order, at the same merchant or another. The same number at two different "
            "carriers is two parcels and is not flagged. The evidence lists all orders sharing it."
        ),
        why=(
            "One real parcel cannot carry several unrelated orders to several buyers: reusing a "
            "tracking number (often bought from 空包 sellers) fakes shipment and delivery, a false "
            "statement about performance (E-Commerce Law Art. 17, 20) and, on brushed orders, "
            "fabricated transactions (Anti-Unfair Competition Law, revised 2025)."
        ),
        example="Orders o1 (merchant A) and o2 (merchant B) both ship on ZTO 7300012345.",
    )
    observed_columns = ("carrier", "tracking_no", "orders_sharing", "merchants_sharing")
    expected_columns = ("orders_per_parcel",)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        shared = _shared_parcels(tables)
        s = tables.shipments
        hit = s.join(shared, [s.carrier == shared.carrier, s.tracking_no == shared.tracking_no])
        hit = hit.select(
            order_id=s.order_id,
            carrier=s.carrier,
            tracking_no=s.tracking_no,
            orders_sharing=shared.orders_sharing,
            merchants_sharing=shared.merchants_sharing,
        )
        # an order with two shared parcels is one finding: keep its first parcel by key
        hit = first_rows(hit, hit.order_id, [hit.carrier, hit.tracking_no])
        o = _orders_with_platform(tables)
        j = hit.left_join(o, hit.order_id == o.order_id)
        return j.select(
            entity_id=hit.order_id,
            merchant_id=o.merchant_id,
            platform_id=o.platform_id,
            carrier=hit.carrier,
            tracking_no=hit.tracking_no,
            orders_sharing=hit.orders_sharing,
            merchants_sharing=hit.merchants_sharing,
            orders_per_parcel=ibis.literal(1),
        )

    def evidence(
        self, tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> dict[str, ir.Table]:
        ev = order_evidence(tables, found, self.code)
        s, o = tables.shipments, tables.orders
        f = found.select(f_id=found.entity_id, f_carrier=found.carrier, f_no=found.tracking_no)
        others = f.join(s, [f.f_carrier == s.carrier, f.f_no == s.tracking_no])
        others = others.left_join(o, others.order_id == o.order_id).select(
            entity_id=others.f_id,
            carrier=others.carrier,
            tracking_no=others.tracking_no,
            order_id=others.order_id,
            merchant_id=o.merchant_id,
            buyer_id=o.buyer_id,
            paid_at=o.paid_at,
            ship_to_city=o.ship_to_city,
        )
        ev["orders_sharing_parcel"] = first_rows(
            others, others.entity_id, [others.order_id], MAX_EVIDENCE_ROWS
        )
        return ev


# -- SHIP003 --------------------------------------------------------------------------------------


@register
class LateDispatch(_OrderCheck):
    code = "SHIP003"
    name = "late-dispatch"
    title = "Dispatched after the promised dispatch time"
    severity = "medium"
    parameters = (
        Parameter(
            "default_dispatch_hours",
            48,
            "dispatch time from payment when the order records no promise",
            basis="policy",
            unit="h",
        ),
        Parameter(
            "grace_minutes",
            0,
            "slack after the promise before a dispatch counts as late",
            basis="policy",
            unit="min",
        ),
        AS_OF,
    )
    doc = CheckDoc(
        what=(
            "Flags orders whose first carrier pickup came after `promised_dispatch_by` (plus "
            "`grace_minutes`), or, when no promise is recorded, later than "
            "`default_dispatch_hours` after payment. An order never picked up, never declared "
            "shipped and not cancelled or refunded is late once its deadline has passed at the "
            "data horizon. (An order declared shipped with no pickup is SHIP001's finding.)"
        ),
        why=(
            "The seller must deliver in the manner and time promised or agreed "
            "(E-Commerce Law Art. 20, Civil Code Art. 509/511); a promised dispatch time shown at "
            "sale is a term of the contract, and missing it is a breach the platform must record."
        ),
        example=(
            "Promised dispatch by 11-12 23:59; the carrier's first pickup is 11-14 10:00. A parcel "
            "picked up 11-12 22:00, late in the window but inside the promise, is fine."
        ),
    )
    observed_columns = ("first_pickup_at", "hours_late")
    expected_columns = ("dispatch_deadline", "deadline_source")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        default_h = int(params["default_dispatch_hours"])
        grace = int(params["grace_minutes"])
        horizon = _horizon_literal(tables, params)
        o = _orders_with_platform(tables)
        pk = _first_pickup(tables)
        j = o.left_join(pk, o.order_id == pk.p_order_id)
        deadline = j.promised_dispatch_by.coalesce(j.paid_at + ibis.interval(hours=default_h))
        j = j.mutate(
            dispatch_deadline=deadline,
            deadline_source=ibis.cases(
                (j.promised_dispatch_by.notnull(), "promised_dispatch_by"),
                else_=f"paid_at + {default_h}h",
            ),
        )
        limit = j.dispatch_deadline + ibis.interval(minutes=grace)
        undispatched = (
            j.first_pickup_at.isnull()
            & j.declared_shipped_at.isnull()
            & ~j.status.isin(UNDISPATCHED_EXEMPT)
            & (limit < horizon)
        )
        j = j.filter((j.first_pickup_at > limit) | undispatched)
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            first_pickup_at=j.first_pickup_at,
            hours_late=_hours(
                _seconds_between(j.first_pickup_at.coalesce(horizon), j.dispatch_deadline)
            ),
            dispatch_deadline=j.dispatch_deadline,
            deadline_source=j.deadline_source,
        )


# -- SHIP004 --------------------------------------------------------------------------------------


def _fastest_legs(tables: Tables, min_leg_km: float) -> ir.Table:
    """Per parcel with a counted leg (``v_carrier``, ``v_tracking_no``): ``max_speed_kmh``, the
    fastest hop between consecutive scans in known cities at least ``min_leg_km`` apart."""

    def build() -> ir.Table:
        return _fastest_legs_expr(tables, min_leg_km)

    # read twice by SHIP004 (which orders are too fast; the top speed of each flagged order)
    return shared(tables, ("fastest_legs", float(min_leg_km)), build)


def _fastest_legs_expr(tables: Tables, min_leg_km: float) -> ir.Table:
    e = tables.tracking_events
    e = e.filter(e.city.notnull()).select(
        "carrier", "tracking_no", "event_at", "event_type", city_n=norm_city(e.city)
    )
    e = e.filter(e.city_n.notnull())
    w = ibis.window(
        group_by=[e.carrier, e.tracking_no], order_by=[e.event_at, e.event_type, e.city_n]
    )
    legs = e.mutate(prev_city=e.city_n.lag().over(w), prev_at=e.event_at.lag().over(w))
    legs = legs.filter(legs.prev_city.notnull() & (legs.prev_city != legs.city_n))
    d = _pair_distances()
    legs = legs.join(d, [legs.prev_city == d.from_city, legs.city_n == d.to_city])
    legs = legs.filter(legs.distance_km >= min_leg_km)
    # a hop scanned in the same minute counts as one minute: the speed stays finite
    secs = ibis.greatest(_seconds_between(legs.event_at, legs.prev_at), 60)
    # tenths of km per hour from exact integers (tenths of km, seconds), rounded half up
    tenths_kmh = half_up_ratio(legs.distance_dkm * 3600, secs, 1)
    legs = legs.mutate(speed_kmh=tenths_kmh / 10)
    return legs.group_by(v_carrier=legs.carrier, v_tracking_no=legs.tracking_no).aggregate(
        max_speed_kmh=legs.speed_kmh.max()
    )


def _top_speed_by_order(tables: Tables, fast: ir.Table, orders: ir.Table) -> ir.Table:
    """``f_order_id, max_speed_kmh``: the fastest counted leg of any parcel of ``orders``
    (a table with ``order_id``), for the orders that have one."""
    s = tables.shipments
    s = s.semi_join(orders, s.order_id == orders.order_id)
    j = s.join(fast, [s.carrier == fast.v_carrier, s.tracking_no == fast.v_tracking_no])
    return j.group_by(f_order_id=j.order_id).aggregate(max_speed_kmh=j.max_speed_kmh.max())


@register
class ImpossibleLogistics(_OrderCheck):
    code = "SHIP004"
    name = "impossible-logistics"
    title = "Impossible logistics: scans before payment or shipment, wrong city, or too fast"
    severity = "high"
    parameters = (
        Parameter(
            "payment_tolerance_minutes",
            5,
            "a scan this much before payment is still accepted (clock differences)",
            basis="policy",
            unit="min",
        ),
        Parameter(
            "declared_tolerance_hours",
            24,
            "a scan this long before the declared shipment is still accepted (merchants often "
            "mark orders shipped in a batch after the carrier has collected)",
            basis="policy",
            unit="h",
        ),
        Parameter(
            "max_speed_kmh",
            800,
            "fastest credible average speed between two consecutive scans in different cities",
            basis="policy",
            unit="km/h",
        ),
        Parameter(
            "min_leg_km",
            100,
            "hops shorter than this are ignored for speed (city centres are approximate)",
            basis="policy",
            unit="km",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags orders whose parcels' carrier scans cannot be true: a scan earlier than the "
            "payment (beyond `payment_tolerance_minutes`), a scan more than "
            "`declared_tolerance_hours` before the merchant's declared shipment, a `delivered` "
            "scan in a city other than the order's `ship_to_city`, or two consecutive scans in "
            "cities further apart than `max_speed_kmh` allows in the time between them (cities "
            "from the project's coordinate table; unknown cities are not judged). `reasons` "
            "lists which signals fired."
        ),
        why=(
            "A trajectory that starts before the goods were bought, ends in another city or "
            "moves faster than an aircraft is fabricated or recycled from another parcel: false "
            "information about delivery (E-Commerce Law Art. 17, 20) and a fake proof of "
            "performance used to pass platform dispatch checks."
        ),
        example=(
            "Paid 11-11 10:00 in 成都; carrier shows pickup 11-09 in 义乌 and delivery in 哈尔滨; or "
            "a pickup in 上海 at 10:00 and a transit scan in 乌鲁木齐 at 11:00 (3,268 km in 1 h)."
        ),
    )
    observed_columns = (
        "reasons",
        "first_scan_at",
        "paid_at",
        "declared_shipped_at",
        "delivered_city",
        "ship_to_city",
        "max_speed_kmh",
    )
    expected_columns = ("max_speed_kmh_allowed",)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        pay_tol = int(params["payment_tolerance_minutes"])
        decl_tol = int(params["declared_tolerance_hours"])
        vmax = float(params["max_speed_kmh"])
        o = _orders_with_platform(tables)
        # the scans summarised per order once per scan (shared with SHIP001/003, PARCEL001)
        per = order_scan_summary(tables)
        j = o.join(per, o.order_id == per.s_order_id)
        # the speed test: which orders have a parcel with a leg over vmax (a few), not every
        # order's top speed; the top speed is looked up for the flagged orders only
        fast = _fastest_legs(tables, float(params["min_leg_km"]))
        s = tables.shipments
        too_fast_parcels = fast.filter(fast.max_speed_kmh > vmax)
        too_fast_orders = (
            s.semi_join(
                too_fast_parcels,
                [
                    s.carrier == too_fast_parcels.v_carrier,
                    s.tracking_no == too_fast_parcels.v_tracking_no,
                ],
            )
            .select(t_order_id=s.order_id)
            .distinct()
        )
        j = j.left_join(too_fast_orders, j.order_id == too_fast_orders.t_order_id)
        # every delivered city equals ship_to_city exactly when the lowest and highest both do
        dest = norm_city(j.ship_to_city)
        lo, hi = j.lo_delivered_city, j.hi_delivered_city
        j = j.mutate(
            wrong_city=ibis.cases(
                (dest.notnull() & lo.notnull() & (lo != dest), lo),
                (dest.notnull() & hi.notnull() & (hi != dest), hi),
                else_=ibis.null("string"),
            )
        )

        def before_pay(t: ir.Table) -> ir.BooleanValue:
            return t.first_scan_at < t.paid_at - ibis.interval(minutes=pay_tol)

        def before_decl(t: ir.Table) -> ir.BooleanValue:
            return t.declared_shipped_at.notnull() & (
                t.first_scan_at < t.declared_shipped_at - ibis.interval(hours=decl_tol)
            )

        # flagged orders first (booleans), the reasons text only for them
        j = j.filter(
            before_pay(j) | before_decl(j) | j.wrong_city.notnull() | j.t_order_id.notnull()
        )
        top = _top_speed_by_order(tables, fast, j.select("order_id"))
        j = j.left_join(top, j.order_id == top.f_order_id)
        wrong_city = j.wrong_city.notnull()
        too_fast = j.max_speed_kmh.notnull() & (j.max_speed_kmh > vmax)

        def flag(cond: ir.BooleanValue, label: str) -> ir.StringValue:
            return ibis.cases((cond, label + ";"), else_="")

        reasons = (
            flag(before_pay(j), "scan_before_payment")
            + flag(before_decl(j), "scan_before_declared_shipment")
            + flag(wrong_city, "delivered_to_other_city")
            + flag(too_fast, "faster_than_possible")
        )
        j = j.mutate(_reasons=reasons)
        j = j.filter(j._reasons != "")
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            reasons=j._reasons.re_replace(";$", ""),
            first_scan_at=j.first_scan_at,
            paid_at=j.paid_at,
            declared_shipped_at=j.declared_shipped_at,
            delivered_city=j.wrong_city,
            ship_to_city=j.ship_to_city,
            max_speed_kmh=j.max_speed_kmh,
            max_speed_kmh_allowed=ibis.literal(vmax),
        )


# -- PARCEL001 ------------------------------------------------------------------------------------


def _category_minimum(category: ir.StringValue, minimums: dict[str, Any], default: int):
    pairs = [(category == str(k), int(v)) for k, v in sorted(minimums.items())]
    if not pairs:
        return ibis.literal(default)
    return ibis.cases(*pairs, else_=default)


def _direct_hops(tables: Tables) -> ir.Table:
    """Per order: the longest pickup-to-delivered distance of a parcel with no scan in between."""
    # out_for_delivery happens in the destination city: only a transit scan is a hub on the way
    n = parcel_scan_summary(tables)  # shared with SHIP001/003/004 within a scan
    n = n.filter(n.n_transit == 0)
    # cities are looked up only for the few parcels with no transit scan at all
    e = tables.tracking_events
    e = e.join(n, [e.carrier == n.carrier, e.tracking_no == n.tracking_no])
    g = e.group_by(carrier=e.carrier, tracking_no=e.tracking_no).aggregate(
        pickup_raw=ibis.cases((e.event_type == "pickup", e.city), else_=ibis.null("string")).min(),
        delivered_raw=ibis.cases(
            (e.event_type == "delivered", e.city), else_=ibis.null("string")
        ).min(),
    )
    g = g.mutate(pickup_city=norm_city(g.pickup_raw), delivered_city=norm_city(g.delivered_raw))
    g = g.filter(g.pickup_city.notnull() & g.delivered_city.notnull())
    d = _pair_distances()
    g = g.join(d, [g.pickup_city == d.from_city, g.delivered_city == d.to_city])
    s = tables.shipments
    j = s.join(g, [s.carrier == g.carrier, s.tracking_no == g.tracking_no])
    return j.group_by(h_order_id=s.order_id).aggregate(direct_km=j.distance_km.max())


@register
class EmptyParcel(_OrderCheck):
    code = "PARCEL001"
    name = "empty-parcel"
    title = "Empty parcel: missing or token weight, or a long trajectory with no transit scan"
    severity = "high"
    reads = ("orders", "merchants", "listings", "shipments", "tracking_events")
    parameters = (
        Parameter(
            "min_weight_grams",
            {},
            "per listing category: a parcel lighter than this cannot hold one item (token weight)",
            basis="policy",
            unit="g",
        ),
        Parameter(
            "default_min_weight_grams",
            30,
            "the token-weight threshold for categories not in `min_weight_grams`",
            basis="policy",
            unit="g",
        ),
        Parameter(
            "no_transit_min_km",
            300,
            "a pickup and delivery further apart than this with no transit scan is not a real journey",
            basis="policy",
            unit="km",
        ),
        Parameter(
            "weighed_share_min",
            0.5,
            "a missing weight is a signal only at a carrier that weighs at least this share of its "
            "parcels in the data (a source that records no weights says nothing about one parcel)",
            basis="policy",
        ),
        Parameter("weight_token", 1.0, "score of a token weight", basis="policy"),
        Parameter(
            "weight_missing", 0.5, "score of a parcel with no recorded weight", basis="policy"
        ),
        Parameter("weight_no_transit", 1.0, "score of a long trajectory with no transit scan"),
        Parameter("threshold", 1.0, "score from which an order is flagged", basis="policy"),
    )
    doc = CheckDoc(
        what=(
            "Scores each shipped order's parcels: a weight under the category's token minimum "
            "(`weight_token`), no weight recorded at a carrier that records weights for at least "
            "`weighed_share_min` of its parcels (`weight_missing`), a pickup and a delivery at "
            "least `no_transit_min_km` apart with no transit scan between them "
            "(`weight_no_transit`). Flags the order when the score reaches `threshold`; "
            "`observed` shows the score and each part. By default a missing weight alone is not "
            "enough (many exports omit weights) but joined with a direct long hop it is."
        ),
        why=(
            "An empty parcel (空包) sent to make a fake or brushed order look delivered fabricates "
            "transactions and delivery records: false commercial publicity through fake sales "
            "(Anti-Unfair Competition Law, revised 2025; E-Commerce Law Art. 17) and a "
            "false proof of performance."
        ),
        example=(
            "A cosmetics order whose parcel weighs 8 g, or a 1,900 km 义乌→哈尔滨 parcel with a "
            "pickup and a delivery 20 hours later and nothing in between."
        ),
    )
    observed_columns = (
        "score",
        "weight_grams",
        "token_weight",
        "missing_weight",
        "direct_km",
        "no_transit",
    )
    expected_columns = ("min_weight_grams", "threshold")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        s, ls = tables.shipments, tables.listings
        o = _orders_with_platform(tables)
        cat = ls.select(c_listing_id=ls.listing_id, category=ls.category).distinct(
            on="c_listing_id", keep="first"
        )
        # a missing weight counts only at a carrier that records weights: a source that records
        # none (Olist) says nothing about any one parcel
        per_carrier = s.group_by(k_carrier=s.carrier).aggregate(
            n_parcels=s.count(), n_weighed=s.weight_grams.notnull().sum()
        )
        weighs = per_carrier.filter(
            per_carrier.n_weighed >= per_carrier.n_parcels * float(params["weighed_share_min"])
        ).select("k_carrier")
        s = s.left_join(weighs, s.carrier == weighs.k_carrier)
        w = s.group_by(w_order_id=s.order_id).aggregate(
            weight_grams=s.weight_grams.min(),
            n_missing=(s.weight_grams.isnull() & s.k_carrier.notnull()).sum(),
        )
        minimums = params["min_weight_grams"] or {}
        default_minimum = int(params["default_min_weight_grams"])
        hops = _direct_hops(tables)
        if float(params["threshold"]) > 0:
            # an order with none of the three signals scores 0 and cannot reach a positive
            # threshold: only orders that may have one meet the 5M orders and listings
            heaviest_minimum = max([default_minimum, *(int(v) for v in minimums.values())])
            w = w.left_join(hops, w.w_order_id == hops.h_order_id)
            w = w.filter(
                (w.weight_grams < heaviest_minimum)
                | (w.n_missing > 0)
                | (w.direct_km > float(params["no_transit_min_km"]))
            )
            w = w.drop("h_order_id", "direct_km")
        j = o.join(w, o.order_id == w.w_order_id)  # only orders with a parcel
        j = j.left_join(cat, j.listing_id == cat.c_listing_id)
        j = j.left_join(hops, j.order_id == hops.h_order_id)
        minimum = _category_minimum(j.category, minimums, default_minimum)
        token = j.weight_grams.notnull() & (j.weight_grams < minimum)
        missing = j.n_missing > 0
        no_transit = j.direct_km.notnull() & (j.direct_km > float(params["no_transit_min_km"]))
        score = (
            ibis.cases((token, float(params["weight_token"])), else_=0.0)
            + ibis.cases((missing, float(params["weight_missing"])), else_=0.0)
            + ibis.cases((no_transit, float(params["weight_no_transit"])), else_=0.0)
        )  # sums of the same floats in the same order: identical on every engine
        j = j.mutate(
            score=score,
            token_weight=token,
            missing_weight=missing,
            no_transit=no_transit,
            min_weight_grams=minimum,
        )
        j = j.filter(j.score >= float(params["threshold"]))
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            score=j.score,
            weight_grams=j.weight_grams,
            token_weight=j.token_weight,
            missing_weight=j.missing_weight,
            direct_km=j.direct_km,
            no_transit=j.no_transit,
            min_weight_grams=j.min_weight_grams,
            threshold=ibis.literal(float(params["threshold"])),
        )

    def evidence(
        self, tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> dict[str, ir.Table]:
        ev = order_evidence(tables, found, self.code)
        o, ls = tables.orders, tables.listings
        f = found.select(f_id=found.entity_id)
        ev["listing"] = (
            f.join(o, f.f_id == o.order_id)
            .join(ls, o.listing_id == ls.listing_id)
            .select(
                entity_id=f.f_id, listing_id=ls.listing_id, category=ls.category, title=ls.title
            )
        )
        return ev
