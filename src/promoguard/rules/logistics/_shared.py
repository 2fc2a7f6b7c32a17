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
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from promoguard import geo
from promoguard.engine import backends
from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, Parameter, ScanContext, Tables
from promoguard.engine.cache import found_entities, shared
from promoguard.engine.exact import first_rows, half_up_ratio
from promoguard.model import TABLES_BY_NAME
from promoguard.rules._relations import ORDER_COLUMNS

#: the evidence of one finding stays bounded (a tracking number shared by thousands of orders)
MAX_EVIDENCE_ROWS = 200


# -- shared building blocks ----------------------------------------------------------------------


def _seconds_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds from ``earlier`` to ``later``, the same on every engine."""
    return epoch_seconds(later) - epoch_seconds(earlier)


@ibis.udf.scalar.builtin(name="epoch_us")
def _epoch_us(at) -> idt.int64:  # noqa: ANN001 - any timestamp; DuckDB's own function
    """Microseconds since the epoch of an instant (DuckDB)."""


def instant_before(
    tables: Tables,
    earlier: ir.TimestampValue,
    later: ir.TimestampValue,
    *,
    hours: int = 0,
    minutes: int = 0,
) -> ir.BooleanValue:
    """``earlier < later + hours + minutes`` for instants (a negative shift: a tolerance before
    ``later``); null when either is null, like the comparison itself.

    On DuckDB compared in microseconds since the epoch: ``TIMESTAMPTZ ± INTERVAL`` runs through
    ICU's calendar (1.4 CPU s for SHIP004's three tolerances over 5.5M city orders), and shifting
    an instant by whole hours or minutes (no calendar days or months) is adding their
    microseconds, so the answer is the same. Spark keeps the interval form.
    """
    if not backends.is_spark(tables.backend):
        shift_us = (hours * 3600 + minutes * 60) * 1_000_000
        return _epoch_us(earlier) < _epoch_us(later) + shift_us
    bound = later
    for n, unit in ((hours, "hours"), (minutes, "minutes")):
        if n > 0:
            bound = bound + ibis.interval(**{unit: n})
        elif n < 0:
            bound = bound - ibis.interval(**{unit: -n})
    return earlier < bound


def _hours(seconds: ir.IntegerValue) -> ir.NumericValue:
    """Whole seconds as hours to two decimals, rounded half up in integers so every engine
    prints the same figure (a float ``.round(2)`` of 50.485 h differs between engines)."""
    return half_up_ratio(seconds, 3600, 100) / 100


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
    return instant_literal(when)


def instant_literal(when: dt.datetime) -> ir.TimestampScalar:
    """An instant as the literal the checks compare with (UTC), as :func:`_horizon_literal`'s."""
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return ibis.literal(when.astimezone(dt.UTC), type="timestamp('UTC')")


def judged_at_fixed_instant(params: dict[str, Any]) -> bool:
    """Whether the check judges at ``as_of`` (then the data horizon is not read at all)."""
    return bool(params.get("as_of"))


def _pair_distances() -> ir.Table:
    return ibis.memtable(geo.pair_distances())


def found_orders_rows(tables: Tables, code: str | None) -> tuple[ir.Table, ir.Table, ir.Table]:
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

    def found_ids() -> ir.Table:
        # built only when a shared relation below is (once per scan, not per check's evidence):
        # ~400k ids of seven checks at city scale, distinct in Arrow
        chunks = [c for rows in founds.values() for c in rows.column("entity_id").chunks]
        ids = pc.unique(pa.chunked_array(chunks, pa.string()))
        return ibis.memtable(pa.table({"u_order_id": ids}))

    def orders() -> ir.Table:
        f = found_ids()
        return o.semi_join(f, o.order_id == f.u_order_id)

    def shipments() -> ir.Table:
        f = found_ids()
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
    o, s, e = found_orders_rows(tables, code)
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


#: the orders' columns the logistics checks read (finders, data horizon, evidence): the
#: summarised ones, the evidence's listing, confirmation and (SHIP002) buyer. Not the quantity,
#: prices, buyer's device and address: an incremental scan's scoped copy of the ~150k orders a
#: city day touches holds NULL there (fetching all 17 columns cost ~0.65 CPU s, these ~0.5)
ORDER_CHECK_ORDER_COLUMNS = (*ORDER_COLUMNS, "listing_id", "confirmed_at", "buyer_id")
#: every column of the other tables an order check reads (they are copied whole), from the model:
#: a column added there is copied too, never silently NULL in the scoped copy
_ALL_COLUMNS = {
    t: tuple(c.name for c in TABLES_BY_NAME[t].columns)
    for t in ("merchants", "listings", "shipments", "tracking_events")
}


class _OrderCheck(Check):
    family = "logistics"
    entity_type = "order"
    reads = ("orders", "merchants", "shipments", "tracking_events")
    #: the columns of those it reads (``incremental._copied_columns``; a check reading another
    #: orders column must name it here, and tests/test_incremental_scopes.py's
    #: ``test_every_check_reads_only_the_columns_it_declares`` scans each with the rest NULL)
    reads_columns = {
        "orders": ORDER_CHECK_ORDER_COLUMNS,
        **{t: _ALL_COLUMNS[t] for t in ("merchants", "shipments", "tracking_events")},
    }

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


# -- SHIP002 --------------------------------------------------------------------------------------


# -- SHIP003 --------------------------------------------------------------------------------------


# -- SHIP004 --------------------------------------------------------------------------------------


# -- PARCEL001 ------------------------------------------------------------------------------------
