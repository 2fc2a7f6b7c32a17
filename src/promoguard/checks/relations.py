"""Relations that several checks derive from the canonical tables, written once.

Each function returns an Ibis expression, so it runs on every engine like the checks that use it.

Within one scan (``run_checks``) a relation several checks need is computed once and kept in the
engine (:func:`shared`: a DuckDB temporary table, dropped when the scan ends), so e.g. the 20M
carrier scans are summarised per parcel once for SHIP001, SHIP003, SHIP004 and PARCEL001 instead
of four times. Spark, and a check's ``find`` called outside a scan, get the plain expression; the
rows are the same either way.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from promoguard.checks.base import Tables


# -- the per-scan cache ---------------------------------------------------------------------------


@dataclass
class ScanCache:
    """What one scan keeps in the engine: shared relations, and every check's found rows."""

    relations: dict[Hashable, ir.Table] = field(default_factory=dict)
    #: DuckDB temporary tables holding the relations, dropped when the scan ends
    temp_tables: list[str] = field(default_factory=list)
    #: check code -> (entity type, found rows); filled by the engine once all finders have run
    found: dict[str, tuple[str, pa.Table]] = field(default_factory=dict)


# keyed on the Tables object of the scan: a scan never sees another scan's relations
_CACHES: weakref.WeakKeyDictionary[Tables, ScanCache] = weakref.WeakKeyDictionary()


@contextmanager
def scan_cache(tables: Tables) -> Iterator[ScanCache]:
    """Keep shared relations for the duration of one scan, then drop them from the engine."""
    cache = ScanCache()
    _CACHES[tables] = cache
    try:
        yield cache
    finally:
        _CACHES.pop(tables, None)
        for name in cache.temp_tables:
            tables.backend.con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')
        cache.relations.clear()
        cache.found.clear()


def shared(tables: Tables, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
    """``build()``, computed once per scan and kept in the engine; outside a scan, ``build()``.

    ``key`` names the relation and every parameter it depends on.
    """
    cache = _CACHES.get(tables)
    if cache is None:
        return build()
    if key not in cache.relations:
        cache.relations[key] = _materialise(tables, build(), cache)
    return cache.relations[key]


def _materialise(tables: Tables, expr: ir.Table, cache: ScanCache) -> ir.Table:
    """On DuckDB, the rows of ``expr`` in a temporary table; elsewhere ``expr`` itself.

    Spark recomputes the expression where it is used (same rows, same findings); Ibis's own
    ``Table.cache()`` cannot be released with this sqlglot (its DROP statement comes out empty),
    and the public ``create_table(temp=True)`` creates the table from Ibis's schema first, whose
    NOT NULL marks are wrong after outer joins (it fails on a NULL ``first_pickup_at``). Hence
    the private hook: a change in Ibis 12.x that breaks it fails the logistics tests loudly.
    """
    backend = tables.backend
    if backend.name != "duckdb":
        return expr
    name = f"_promoguard_shared_{uuid.uuid4().hex[:12]}"
    backend._run_pre_execute_hooks(expr)  # registers the memtables the SQL names
    sql = backend.compile(expr)
    backend.con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
    cache.temp_tables.append(name)
    return backend.table(name)


def found_entities(tables: Tables, entity_type: str) -> Mapping[str, pa.Table] | None:
    """Within a scan whose finders have all run: check code -> found rows of checks finding
    ``entity_type``; else None."""
    cache = _CACHES.get(tables)
    if cache is None or not cache.found:
        return None
    out: dict[str, pa.Table] = {}
    for code, (etype, rows) in cache.found.items():
        if "entity_type" in rows.column_names:  # a check that finds several kinds of entity
            kinds = rows.column("entity_type").to_pylist()
            # as the engine reads it: a blank entity_type is the check's own
            keep = [i for i, k in enumerate(kinds) if (k or etype) == entity_type]
            out[code] = rows.take(pa.array(keep, pa.int64()))
        elif etype == entity_type:
            out[code] = rows
    return out


# -- carrier scans ----------------------------------------------------------------------------------


def norm_city(value: ir.StringValue) -> ir.StringValue:
    """The engine-side twin of geo.normalise_city (trim, lower; blank is null)."""
    v = value.strip().lower()
    return ibis.cases((v == "", ibis.null("string")), else_=v)


def parcel_scan_summary(tables: Tables) -> ir.Table:
    """One row per scanned parcel ``(carrier, tracking_no)``, from one pass over the scans:

    - ``first_scan_at``, ``first_pickup_at``: its earliest scan, earliest ``pickup`` scan;
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
            lo_delivered_city=city.min(where=delivered),
            hi_delivered_city=city.max(where=delivered),
            n_transit=(e.event_type == "transit").sum(),
        )

    return shared(tables, ("parcel_scan_summary",), build)


def order_scan_summary(tables: Tables) -> ir.Table:
    """One row per order with at least one scanned parcel: ``s_order_id``, ``first_scan_at``,
    ``first_pickup_at`` (null when no parcel was picked up), ``lo_delivered_city``,
    ``hi_delivered_city`` over all its parcels."""

    def build() -> ir.Table:
        p, s = parcel_scan_summary(tables), tables.shipments
        j = s.join(p, [s.carrier == p.carrier, s.tracking_no == p.tracking_no])
        return j.group_by(s_order_id=j.order_id).aggregate(
            first_scan_at=j.first_scan_at.min(),
            first_pickup_at=j.first_pickup_at.min(),
            lo_delivered_city=j.lo_delivered_city.min(),
            hi_delivered_city=j.hi_delivered_city.max(),
        )

    return shared(tables, ("order_scan_summary",), build)


def first_delivery_by_order(tables: Tables) -> ir.Table:
    """``order_id, delivered_s``: the earliest carrier ``delivered`` scan of any of the order's
    parcels, in whole epoch seconds (whole seconds round the same way on every engine)."""
    s = tables.shipments
    ev = tables.tracking_events
    delivered = ev.filter(ev.event_type == "delivered")
    per_parcel = delivered.group_by(["carrier", "tracking_no"]).aggregate(
        parcel_s=delivered.event_at.epoch_seconds().cast("int64").min()
    )
    return (
        s.join(per_parcel, ["carrier", "tracking_no"])
        .group_by("order_id")
        .aggregate(delivered_s=per_parcel.parcel_s.min())
    )
