"""SHIP001 shipped-without-pickup: Marked shipped, but no carrier pickup within the allowed time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.rules._relations import city_spellings, orders_with_scans, with_city
from promoguard.rules.logistics._shared import (
    AS_OF,
    _horizon_literal,
    _hours,
    _OrderCheck,
    _seconds_between,
    instant_before,
    instant_literal,
    judged_at_fixed_instant,
)

#: the severity_reason of an order :func:`_handed_over_without_pickup_event` names
HANDED_OVER_REASON = (
    "no pickup scan, but the carrier had the parcel in time: its first scan is a transit scan "
    "after the payment and within the pickup window, in a city other than the buyer's, and the "
    "parcel then moved on to another city, signed for (if at all) in the order's ship-to city; "
    "carriers' handheld collections and outlet drop-offs often leave no pickup event in an "
    "export, so only the pickup event is missing"
)

#: scans that continue a parcel's trajectory in the carrier's network after its first one
_TRAJECTORY = ("transit", "out_for_delivery", "delivered")


def _handed_over_without_pickup_event(tables: Tables, late: ir.Table, hours: int) -> ir.Table:
    """``h_order_id``: the orders among ``late`` (SHIP001's found rows, with ``order_id``,
    ``paid_at``, ``declared_shipped_at``, ``first_pickup_at``, ``ship_to_city``) that have no
    pickup scan but a parcel the carrier plainly had in time: its first scan is a ``transit``
    scan (no scan of another kind at that instant), at or after the payment, not after
    ``declared_shipped_at + hours``, in one known city that is not the order's ship-to city; a
    later ``transit``, ``out_for_delivery`` or ``delivered`` scan of the parcel is in another
    known city; and each of its ``delivered`` scans with a city is in the order's ship-to city
    (cities compared as :func:`with_city` names them; a null city is never another city, and an
    order with no ship-to city is not lowered).

    Why so narrow: a handheld collection or an outlet drop-off leaves no pickup event, and the
    parcel's next scan is the origin hub's transit scan, followed by the rest of the trip. A
    first scan of another kind is not that: an ``exception`` alone is no handover, and a first
    ``delivered`` or ``out_for_delivery`` scan is a sign-for with no trajectory, the classic
    fabricated record. A scan before the payment is another parcel's (a recycled number:
    SHIP004 reports it too), and a lone transit scan is no trajectory yet. ``out_for_delivery``
    is not accepted as a first scan: it is the last mile, and a parcel first seen there never
    moved through the network from the merchant.

    Why the cities: "a later scan" alone took any scan at any place and gap, so a fabricated
    record (a transit scan, then a sign-for in the same city a second later, or two transit
    scans in one city) was lowered. A parcel handed over moves: its next scans are in other
    cities. A first scan in the buyer's own city is no origin-side scan: a number bought from a
    local parcel looks the same (a same-city order keeps the pack's severity, as before this
    exemption). And a parcel signed for in another city than the order's is another order's
    parcel, its number borrowed while in flight: the carrier did not have THIS order's goods.

    Only the order's own row, shipments and their parcels' scans are read (incremental's
    ``order_horizon`` re-checks an order whose rows change), and only for the orders without a
    pickup (a few): the scans are looked up for those parcels alone."""
    # (the order's earliest scan bounds its parcels' first ones: orders scanned only after the
    # window, or never, the usual 虚假发货 shape, need no look-up)
    c = late.filter(
        late.first_pickup_at.isnull()
        & late.paid_at.notnull()
        & late.first_scan_at.notnull()
        & ~instant_before(tables, late.declared_shipped_at, late.first_scan_at, hours=-hours)
    )
    spellings = city_spellings(tables)
    c = with_city(c, "ship_to_city", "c_ship_to", spellings)
    # (no ship-to city: where the parcel was delivered cannot be checked, so nothing is lowered)
    c = c.filter(c.c_ship_to.notnull()).select(
        c_order_id=c.order_id,
        c_paid_at=c.paid_at,
        c_declared=c.declared_shipped_at,
        c_ship_to=c.c_ship_to,
    )
    s, e = tables.shipments, tables.tracking_events
    ps = c.join(s, c.c_order_id == s.order_id)
    ps = ps.select(
        "c_order_id",
        "c_paid_at",
        "c_declared",
        "c_ship_to",
        p_carrier=ps.carrier,
        p_no=ps.tracking_no,
    )
    j = ps.join(e, [ps.p_carrier == e.carrier, ps.p_no == e.tracking_no])
    j = j.select(
        "c_order_id",
        "c_paid_at",
        "c_declared",
        "c_ship_to",
        "p_carrier",
        "p_no",
        e_at=j.event_at,
        e_kind=j.event_type,
        e_city=j.city,
    )
    # the cities of the candidates' scans alone (a few rows), as geo.CITIES names them
    j = with_city(j, "e_city", "e_c", spellings)
    keys = ["c_order_id", "c_paid_at", "c_declared", "c_ship_to", "p_carrier", "p_no"]
    kind, city = j.e_kind, j.e_c
    first = j.group_by(keys).aggregate(
        first_at=j.e_at.min(),
        # the first scan of any kind but transit (an unknown kind counts as another kind)
        first_other_at=j.e_at.min(where=(kind != "transit").fill_null(True)),
    )
    j = j.join(first, keys)
    at_first = j.e_at == j.first_at
    later = kind.isin(_TRAJECTORY).fill_null(False) & (j.e_at > j.first_at)
    delivered = (kind == "delivered").fill_null(False)
    per = j.group_by([*keys, "first_at", "first_other_at"]).aggregate(
        # the known cities of its first scans (one city when both are the same)
        lo_first_city=city.min(where=at_first),
        hi_first_city=city.max(where=at_first),
        # the known cities of its later trajectory scans
        lo_later_city=city.min(where=later),
        hi_later_city=city.max(where=later),
        # the known cities of its sign-fors
        lo_delivered_city=city.min(where=delivered),
        hi_delivered_city=city.max(where=delivered),
    )
    first_is_transit = per.first_other_at.isnull() | (per.first_other_at > per.first_at)
    after_payment = per.first_at >= per.c_paid_at
    in_window = ~instant_before(tables, per.c_declared, per.first_at, hours=-hours)
    # one known first city, not the buyer's own (an origin-side scan, not a local number)
    origin = per.lo_first_city
    from_origin = (per.hi_first_city == origin) & (origin != per.c_ship_to)
    # the parcel moved on: a later trajectory scan in a known city other than the first one
    # (null min/max: no such city, and the comparison is null, i.e. not lowered)
    moved = (per.lo_later_city != origin) | (per.hi_later_city != origin)
    # and every known sign-for is in the order's ship-to city (none yet is fine)
    to_buyer = per.lo_delivered_city.isnull() | (
        (per.lo_delivered_city == per.c_ship_to) & (per.hi_delivered_city == per.c_ship_to)
    )
    ok = (first_is_transit & after_payment & in_window & from_origin & moved & to_buyer).fill_null(
        False
    )
    return per.filter(ok).select(h_order_id=per.c_order_id).distinct()


@register
class DeclaredShippedWithoutPickup(_OrderCheck):
    code = "SHIP001"
    # incremental: its order's rows; the data horizon only while no parcel of it was picked up,
    # and then only across its deadline (horizon_orders)
    depends_on = "order_horizon"
    requires = ("orders.declared_shipped_at",)
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
            "not flagged) or only later. Carriers' handheld collections and drop-offs at an "
            "outlet often leave no `pickup` event in an export: an order with no `pickup` scan "
            "is reported at low severity, with that reason, when one of its parcels' first "
            "carrier scan is a `transit` scan (nothing else at that instant) at or after the "
            "payment and within `pickup_within_hours` of the declared shipment (or before it), "
            "in a known city other than the order's `ship_to_city`, a later `transit`, "
            "`out_for_delivery` or `delivered` scan of that parcel is in another known city, and "
            "every `delivered` scan of it with a city is in the order's `ship_to_city`. A parcel "
            "first seen at an `exception`, `out_for_delivery` or `delivered` scan (a sign-for "
            "with no trajectory), scanned before the payment (a recycled number), scanned first "
            "after the window or in the buyer's own city, never scanned in another city after "
            "it, or signed for elsewhere than the order's city (a borrowed number), and an order "
            "without `ship_to_city`, keep the pack's severity."
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
        # every order with its first pickup (shared with SHIP003/004/005 within a scan)
        j = orders_with_scans(tables)
        j = j.filter(j.declared_shipped_at.notnull())
        # deadline = declared_shipped_at + hours, compared without ICU's interval arithmetic
        late = ibis.or_(
            j.first_pickup_at.isnull()
            & instant_before(tables, j.declared_shipped_at, horizon, hours=-hours),
            instant_before(tables, j.declared_shipped_at, j.first_pickup_at, hours=-hours),
        )
        j = j.filter(late)
        handed = _handed_over_without_pickup_event(tables, j, hours)
        j = j.left_join(handed, j.order_id == handed.h_order_id)
        lowered = j.h_order_id.notnull()
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            declared_shipped_at=j.declared_shipped_at,
            first_pickup_at=j.first_pickup_at,
            hours_to_pickup=_hours(_seconds_between(j.first_pickup_at, j.declared_shipped_at)),
            pickup_within_hours=ibis.literal(hours),
            severity=ibis.cases((lowered, "low"), else_=ibis.null("string")),
            severity_reason=ibis.cases((lowered, HANDED_OVER_REASON), else_=ibis.null("string")),
        )

    def horizon_orders(
        self, tables: Tables, params: dict[str, Any], before: dt.datetime, now: dt.datetime
    ) -> ir.Table:
        """The orders (``order_id``) whose finding may change when the data horizon moves from
        ``before`` to ``now`` (``before <= now``: rows only ever grow the season) and none of
        their own rows changes (an incremental scan re-checks those anyway).

        Such an order keeps its first pickup. With one, the verdict and every column compare
        against the pickup, never the horizon. Without one, it is flagged exactly when
        ``declared_shipped_at + pickup_within_hours`` is before the horizon, and the finding
        quotes no horizon (``first_pickup_at`` and ``hours_to_pickup`` are null): the finding
        changes only where that deadline is at or after ``before`` and before ``now`` — this
        same predicate of :meth:`find` at the two instants. Those orders, picked up or not (a
        superset: the pickup is not looked up), from the orders alone. At ``as_of`` the horizon
        is not read: none."""
        o = tables.orders
        if judged_at_fixed_instant(params):
            return o.filter(ibis.literal(False)).select("order_id")
        hours = int(params["pickup_within_hours"])

        def due_before(at: dt.datetime) -> ir.BooleanValue:
            return instant_before(tables, o.declared_shipped_at, instant_literal(at), hours=-hours)

        flips = o.declared_shipped_at.notnull() & due_before(now) & ~due_before(before)
        return o.filter(flips).select("order_id")
