"""Relations that several checks derive from the canonical tables, written once.

Each function returns an Ibis expression, so it runs on every engine like the checks that use it.

Within one scan (``run_checks``) a relation several checks need is computed once and kept in the
engine (:func:`shared`: a DuckDB temporary table, dropped when the scan ends), so e.g. the 20M
carrier scans are summarised per parcel once for SHIP001, SHIP003, SHIP004 and PARCEL001 instead
of four times. Spark, and a check's ``find`` called outside a scan, get the plain expression; the
rows are the same either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from promoguard.engine.backends import epoch_seconds
from promoguard.engine.cache import shared

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from promoguard.engine.base import Tables

# -- carrier scans ----------------------------------------------------------------------------------


def norm_city(value: ir.StringValue) -> ir.StringValue:
    """The engine-side twin of geo.normalise_city (trim, lower; blank is null)."""
    v = value.strip().lower()
    return ibis.cases((v == "", ibis.null("string")), else_=v)


def parcel_scan_summary(tables: Tables) -> ir.Table:
    """One row per scanned parcel ``(carrier, tracking_no)``, from one pass over the scans:

    - ``first_scan_at``, ``first_pickup_at``, ``first_delivered_at``: its earliest scan, earliest
      ``pickup`` scan, earliest ``delivered`` scan;
    - ``lo_delivered_city``, ``hi_delivered_city``: lowest and highest normalised city of its
      ``delivered`` scans (all equal a city exactly when both do);
    - ``n_transit``: how many ``transit`` scans.

    (Every string aggregate over the 20M scans costs about a CPU second: keep only what is read
    for most parcels here; a check that needs more for a few parcels looks those up.)
    """

    def build() -> ir.Table:
        e = tables.tracking_events
        pickup = e.event_type == "pickup"
        delivered = e.event_type == "delivered"
        city = norm_city(e.city)
        # FILTER (WHERE ...) rather than min(CASE ...): DuckDB skips the other 15M rows sooner
        return e.group_by(["carrier", "tracking_no"]).aggregate(
            first_scan_at=e.event_at.min(),
            first_pickup_at=e.event_at.min(where=pickup),
            first_delivered_at=e.event_at.min(where=delivered),
            lo_delivered_city=city.min(where=delivered),
            hi_delivered_city=city.max(where=delivered),
            n_transit=(e.event_type == "transit").sum(),
        )

    return shared(tables, ("parcel_scan_summary",), build)


def _order_scan_rows(tables: Tables) -> ir.Table:
    """The rows of :func:`order_scan_summary`, as an expression of its own (not kept)."""
    p, s = parcel_scan_summary(tables), tables.shipments
    j = s.join(p, [s.carrier == p.carrier, s.tracking_no == p.tracking_no])
    return j.group_by(s_order_id=j.order_id).aggregate(
        first_scan_at=j.first_scan_at.min(),
        first_pickup_at=j.first_pickup_at.min(),
        first_delivered_at=j.first_delivered_at.min(),
        lo_delivered_city=j.lo_delivered_city.min(),
        hi_delivered_city=j.hi_delivered_city.max(),
    )


def order_scan_summary(tables: Tables) -> ir.Table:
    """One row per order with at least one scanned parcel: ``s_order_id``, ``first_scan_at``,
    ``first_pickup_at`` (null when no parcel was picked up), ``first_delivered_at`` (null when
    none was delivered), ``lo_delivered_city``, ``hi_delivered_city`` over all its parcels.

    (The logistics checks read these beside each order's own columns from
    :func:`orders_with_scans`.)"""
    return shared(tables, ("order_scan_summary",), lambda: _order_scan_rows(tables))


#: the columns of an order :func:`orders_with_scans` carries (what the SHIP checks read)
ORDER_COLUMNS = (
    "order_id",
    "merchant_id",
    "status",
    "paid_at",
    "placed_at",
    "promised_dispatch_by",
    "declared_shipped_at",
    "promised_delivery_by",
    "ship_to_city",
)
#: the columns of :func:`order_scan_summary` it adds (null for an order with no scanned parcel)
SCAN_COLUMNS = (
    "first_scan_at",
    "first_pickup_at",
    "first_delivered_at",
    "lo_delivered_city",
    "hi_delivered_city",
)


def orders_with_platform(tables: Tables) -> ir.Table:
    """Orders with the platform of their merchant (orders carry no platform of their own; a
    merchant listed twice is taken once, so an order stays one row)."""
    o, m = tables.orders, tables.merchants
    plat = m.select(m_id=m.merchant_id, platform_id=m.platform_id).distinct(on="m_id", keep="first")
    j = o.left_join(plat, o.merchant_id == plat.m_id)
    return j.drop("m_id")


def orders_with_scans(tables: Tables) -> ir.Table:
    """Every order once (``order_id`` is the orders' key), with its merchant's ``platform_id``,
    its :data:`ORDER_COLUMNS`, its :func:`order_scan_summary` columns (:data:`SCAN_COLUMNS`,
    null when none of its parcels was scanned) and ``scanned``: whether one was (whether the
    summary has a row for it).

    Shared within a scan: SHIP001, SHIP003, SHIP004 and SHIP005 each joined the 5.7M city orders
    to the 5.5M-row summary (and to the merchants) on their own, 1-1.5 CPU s a join; this is
    the one join, and the summary's grouping goes straight into it instead of into a table of
    its own. An order's row is the same as such a join gives it: the summary has at most one
    row per order, and the merchants are taken once each.
    """

    def build() -> ir.Table:
        o = orders_with_platform(tables).select(*ORDER_COLUMNS, "platform_id")
        per = _order_scan_rows(tables)
        j = o.left_join(per, o.order_id == per.s_order_id)
        return j.select(
            *ORDER_COLUMNS, "platform_id", *SCAN_COLUMNS, scanned=j.s_order_id.notnull()
        )

    return shared(tables, ("orders_with_scans",), build)


def order_first_delivery(tables: Tables) -> ir.Table:
    """``s_order_id, first_delivered_at``: one row per order with a ``delivered`` scan of any of
    its parcels, and the earliest such scan (the rows of :func:`order_scan_summary` whose
    ``first_delivered_at`` is not null, and those two columns).

    Within a scan that builds :func:`orders_with_scans` (the SHIP checks share it), read from
    it: the same rows for every order among the orders (a shipment of an order that is not
    among them has no row there; each caller joins the orders, so none reads one). Without them (BRUSH003 and REVIEW003 on their own, or in the season-wide part of an
    incremental scan), the summary would be built for these two columns alone: a pass over every
    carrier scan with its string aggregates, then a join and aggregate per order, written out
    twice (some 10 s at city scale); here instead the ``delivered`` scans alone are joined to
    the shipments and their earliest kept per order (shared too: some 2.5 s). The rows are the
    same either way: the earliest over an order's parcels of each parcel's earliest delivered
    scan is the earliest delivered scan over all of them, and an order without one has no row.
    """
    if _in_scan(tables, ("orders_with_scans",)):
        # every order once (its key), with the summary's columns: an order whose first
        # delivery is known has a summary row, and a summary row whose order is not among the
        # orders (a shipment of no order) is read by nobody (each reader joins the orders)
        per = orders_with_scans(tables)
        per = per.filter(per.first_delivered_at.notnull())
        return per.select(s_order_id=per.order_id, first_delivered_at=per.first_delivered_at)
    if _in_scan(tables, ("order_scan_summary",)):
        per = order_scan_summary(tables)
        per = per.filter(per.first_delivered_at.notnull())
        return per.select("s_order_id", "first_delivered_at")

    def build() -> ir.Table:
        e, s = tables.tracking_events, tables.shipments
        e = e.filter(e.event_type == "delivered")
        j = s.join(e, [s.carrier == e.carrier, s.tracking_no == e.tracking_no])
        return j.group_by(s_order_id=j.order_id).aggregate(first_delivered_at=j.event_at.min())

    return shared(tables, ("order_first_delivery",), build)


def _in_scan(tables: Tables, key: tuple[str, ...]) -> bool:
    """Whether the scan has built, or is building, the shared relation ``key``."""
    cache = tables.scan
    if cache is None:
        return False
    with cache.lock:
        return key in cache.relations


def first_delivery_by_order(tables: Tables) -> ir.Table:
    """``order_id, delivered_s``: the earliest carrier ``delivered`` scan of any of the order's
    parcels, in whole epoch seconds (whole seconds round the same way on every engine).

    Read from :func:`order_first_delivery` (within a full scan: :func:`orders_with_scans`, the
    one pass over the carrier scans that SHIP001/003/004/005 share), not from a pass of its own:
    BRUSH003 and REVIEW003 each re-read the 29M city-scale scans for it. Flooring is monotonic,
    so the floor of the earliest instant is the earliest floor.
    """
    per = order_first_delivery(tables)
    return per.select(order_id=per.s_order_id, delivered_s=epoch_seconds(per.first_delivered_at))
