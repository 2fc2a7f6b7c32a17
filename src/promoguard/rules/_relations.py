"""Relations that several checks derive from the canonical tables, written once.

Each function returns an Ibis expression, so it runs on every engine like the checks that use it.

Within one scan (``run_checks``) a relation several checks need is computed once and kept in the
engine (:func:`shared`: a DuckDB temporary table, dropped when the scan ends), so e.g. the 20M
carrier scans are summarised per parcel once for SHIP001, SHIP003, SHIP004 and PARCEL001 instead
of four times. Spark, and a check's ``find`` called outside a scan, get the plain expression; the
rows are the same either way.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis

from promoguard import geo
from promoguard.engine.backends import epoch_seconds, union_all
from promoguard.engine.cache import Appended, shared

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from promoguard.engine.base import Tables

# -- carrier scans ----------------------------------------------------------------------------------


def norm_city(value: ir.StringValue) -> ir.StringValue:
    """A city as stored, in the form :func:`city_spellings` is keyed by: trimmed and lower-cased
    (blank is null). Most seasons spell every city as ``geo.CITIES`` does, and then this is the
    city; compare through :func:`with_city`, which also brings the other spellings to it."""
    v = value.strip().lower()
    return ibis.cases((v == "", ibis.null("string")), else_=v)


def graded(
    when: ir.BooleanValue,
    reason: str,
    severity: str = "low",
    *more: tuple[ir.BooleanValue, str],
) -> dict[str, ir.Value]:
    """A found row's ``severity`` and ``severity_reason`` columns (docs/exemptions.md): ``severity``
    with ``reason`` where ``when`` holds, NULL (the pack's severity) elsewhere. ``more``: further
    ``(when, reason)`` pairs at the same severity, the first that holds giving the reason."""
    pairs = [(when, reason), *more]
    return {
        "severity": ibis.cases(*((w, severity) for w, _ in pairs), else_=ibis.null("string")),
        "severity_reason": ibis.cases(*pairs, else_=ibis.null("string")),
    }


def utc_offset_hours(zone: str) -> int:
    """The zone's offset in the season (mid-November), in whole hours: the local days, hours
    and weeks the brushing and review rules count in (a Beijing day, not one turning at 08:00
    there). Promotions are short, so one offset for the season is close enough."""
    from zoneinfo import ZoneInfo

    probe = dt.datetime(dt.datetime.now(dt.UTC).year, 11, 15, tzinfo=ZoneInfo(zone))
    offset = probe.utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 3600)


#: the key of :func:`city_spellings`: bump the version with any change to geo.normalise_city
CITY_SPELLINGS = ("city_spellings", "v7")


def city_spellings(tables: Tables) -> ir.Table | None:
    """``_pg_spelling -> _pg_city``: each :func:`norm_city` form of a city the carrier scans
    and the orders' ``ship_to_city`` hold whose :func:`promoguard.geo.normalise_city` is another
    name (``上海市``, ``深圳市南山区``, ``浙江省杭州市``, ``shanghai`` -> ``上海``, ``深圳``, ``杭州``,
    ``上海``; a blank one null); None when there is none. Shared within a scan.

    A season writes its cities in a few hundred ways at most, so they are normalised once here,
    in Python (the same function the distance table's names go through: both engines see the
    same names), and joined to the rows only when some spelling needs it. Normalising each of
    the 29M city-scale scans in SQL (regexes and an alias list) had made SHIP004 25.6 -> 36.7 s
    and PARCEL001 5.0 -> 10.3 s, for a season whose every name was already the bare city.
    """
    from promoguard import geo

    def build() -> ir.Table:
        e, o = tables.tracking_events, tables.orders
        names = union_all(
            e.select(n=norm_city(e.city)).distinct(),
            o.select(n=norm_city(o.ship_to_city)).distinct(),
        )
        names = names.filter(names.n.notnull()).distinct()
        got = tables.backend.to_pyarrow(names)["n"].to_pylist()
        # (a form only of whitespace DuckDB's trim keeps, such as U+3000, is blank: null)
        pairs = sorted((n, c) for n in got if (c := geo.normalise_city(n)) != n)
        return ibis.memtable(
            {"_pg_spelling": [n for n, _ in pairs], "_pg_city": [c for _, c in pairs]},
            schema={"_pg_spelling": "string", "_pg_city": "string"},
        )

    rel = shared(tables, CITY_SPELLINGS, build)
    return rel if tables.backend.to_pyarrow(rel.count().name("n")).as_py() else None


def with_city(t: ir.Table, column: str, out: str, spellings: ir.Table | None) -> ir.Table:
    """``t`` with ``out``: the city of its column ``column`` as geo.CITIES names it (null for a
    blank one), through the ``spellings`` of :func:`city_spellings` (None: every name is the
    city as stored, and no join is made)."""
    t = t.mutate(**{out: norm_city(t[column])})
    if spellings is None:
        return t
    j = t.left_join(spellings, t[out] == spellings._pg_spelling)
    city = ibis.cases((j._pg_spelling.notnull(), j._pg_city), else_=j[out])
    return j.mutate(**{out: city}).drop("_pg_spelling", "_pg_city")


def parcel_scan_summary(tables: Tables) -> ir.Table:
    """One row per scanned parcel ``(carrier, tracking_no)``, from one pass over the scans:

    - ``first_scan_at``, ``first_pickup_at``, ``first_delivered_at``: its earliest scan, earliest
      ``pickup`` scan, earliest ``delivered`` scan;
    - ``lo_delivered_city``, ``hi_delivered_city``: lowest and highest normalised city of its
      ``delivered`` scans, a county-level city the table holds on its own read as its
      prefecture (``geo.same_prefecture``: 义乌 is 金华), so that all equal one place exactly
      when both do (mapped after the min/max, 义乌 < 杭州 < 金华 would hide 杭州);
    - ``n_transit``: how many ``transit`` scans.

    (Every string aggregate over the 20M scans costs about a CPU second: keep only what is read
    for most parcels here; a check that needs more for a few parcels looks those up.)
    """

    def build() -> ir.Table:
        e = with_city(tables.tracking_events, "city", "_pg_c", city_spellings(tables))
        pickup = e.event_type == "pickup"
        delivered = e.event_type == "delivered"
        city = geo.same_prefecture(e._pg_c)
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
        # the order is delivered when all of it is: its last parcel's (first) delivered scan
        last_delivered_at=j.first_delivered_at.max(),
        lo_delivered_city=j.lo_delivered_city.min(),
        hi_delivered_city=j.hi_delivered_city.max(),
    )


def order_scan_summary(tables: Tables) -> ir.Table:
    """One row per order with at least one scanned parcel: ``s_order_id``, ``first_scan_at``,
    ``first_pickup_at`` (null when no parcel was picked up), ``first_delivered_at`` (null when
    none was delivered), ``last_delivered_at`` (the latest of its delivered parcels' first
    ``delivered`` scans: when the last of them arrived), ``lo_delivered_city``,
    ``hi_delivered_city`` over all its parcels.

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
    "last_delivered_at",
    "lo_delivered_city",
    "hi_delivered_city",
)


def merchant_platforms(tables: Tables) -> ir.Table:
    """Each merchant's platform: ``m_id``, ``platform_id``. A merchant listed twice (ingest
    quarantines the second row; a store written otherwise may hold both) is taken once, so a
    row joined to it stays one row, and with the smallest of its platforms: the same on every
    engine and in every rule (a finding's platform and the rows its evidence quotes)."""
    m = tables.merchants
    return m.group_by(m_id=m.merchant_id).aggregate(platform_id=m.platform_id.min())


def listing_platforms(tables: Tables) -> ir.Table:
    """Each listing's platform: ``l_id``, ``platform_id`` (a listing listed twice taken once,
    as :func:`merchant_platforms` takes a merchant)."""
    li = tables.listings
    return li.group_by(l_id=li.listing_id).aggregate(platform_id=li.platform_id.min())


def orders_with_platform(tables: Tables) -> ir.Table:
    """Orders with the platform of their merchant (orders carry no platform of their own)."""
    o, plat = tables.orders, merchant_platforms(tables)
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
    its parcels, and the earliest such scan. Exact for every order among the orders; an id of
    a shipment whose order is not among them may or may not have a row (every reader joins the
    orders, so none reads one).

    Within a scan that builds :func:`orders_with_scans` (the SHIP checks share it), read from
    it: the rows of :func:`order_scan_summary` whose ``first_delivered_at`` is not null, for
    every order among the orders. Without them (BRUSH003 and REVIEW003 on their own, or in the
    season-wide part of an incremental scan), the summary would be built for these two columns
    alone: a pass over every carrier scan with its string aggregates, then a join and aggregate
    per order, written out twice (some 10 s at city scale); here instead the ``delivered``
    scans alone are joined to the shipments and their earliest kept per order. The rows are the
    same either way: the earliest over an order's parcels of each parcel's earliest delivered
    scan is the earliest delivered scan over all of them, and an order without one has no row.

    Kept from scan to scan (:func:`fold_order_first_delivery`): an increment lowers the few
    orders its rows reach instead of joining the 29M city scans again (some 2.5 s).
    """

    def build() -> ir.Table:
        if _in_scan(tables, ("orders_with_scans",)):
            # every order once (its key), with the summary's columns: an order whose first
            # delivery is known has a summary row
            per = orders_with_scans(tables)
            per = per.filter(per.first_delivered_at.notnull())
            return per.select(s_order_id=per.order_id, first_delivered_at=per.first_delivered_at)
        if _in_scan(tables, ("order_scan_summary",)):
            per = order_scan_summary(tables)
            per = per.filter(per.first_delivered_at.notnull())
            return per.select("s_order_id", "first_delivered_at")
        e, s = tables.tracking_events, tables.shipments
        return _first_delivered(s, e.filter(e.event_type == "delivered"))

    return shared(tables, ("order_first_delivery", "v1"), build, fold=fold_order_first_delivery)


def _first_delivered(s: ir.Table, delivered: ir.Table) -> ir.Table:
    """``s_order_id, first_delivered_at`` of shipments ``s`` and ``delivered`` scans: the
    earliest of them per order of a shipment with one."""
    j = s.join(delivered, [s.carrier == delivered.carrier, s.tracking_no == delivered.tracking_no])
    return j.group_by(s_order_id=j.order_id).aggregate(first_delivered_at=j.event_at.min())


def first_delivery_changes(tables: Tables) -> ir.Table | None:
    """``order_id, old_first, new_first``: within an incremental scan that folded
    :func:`order_first_delivery`, every order whose first delivery the rows added since the
    previous scan moved (``old_first`` the previous scan's, null when it had none;
    ``new_first`` the one now); else None (it was built whole: what changed is not known).
    An order among them may be a new order (an old orphan shipment's)."""
    if not _in_scan(tables, _CHANGES):
        return None
    return shared(tables, _CHANGES, _no_changes)


_CHANGES = ("order_first_delivery_changes",)


def new_orders_first_delivery(tables: Tables) -> ir.Table | None:
    """``order_id, first_delivered_at``: within an incremental scan that folded
    :func:`order_first_delivery`, the first delivery now of every order among the rows added
    since the previous scan that has one (the same rows :func:`order_first_delivery` holds for
    them); else None. Joining the day's orders to these few instead of to every order's first
    delivery (5.35M rows at city scale) saves a probe of them per join."""
    if not _in_scan(tables, _NEW_ORDERS):
        return None
    return shared(tables, _NEW_ORDERS, _no_changes)


_NEW_ORDERS = ("order_first_delivery_new_orders",)


def _no_changes() -> ir.Table:  # pragma: no cover - only asked for once the fold made it
    raise RuntimeError("first delivery changes are made by fold_order_first_delivery only")


def fold_order_first_delivery(previous: ir.Table, tables: Tables, new: Tables) -> Appended:
    """:func:`order_first_delivery` now, from the previous scan's rows and the rows added since.

    An order's first delivery is the earliest over (shipment of it, delivered scan of that
    shipment's parcel) pairs; the pairs added since are those with a new shipment or a new
    scan (rows are only ever added), so only their orders can change, and only downwards:
    ``least(previous, earliest new pair)``. A new order may also have old shipments and scans
    (it was an orphan's order before): it is recomputed from every shipment and scan of its own.
    The new scans are joined to the shipments of their tracking numbers, and the new orders'
    shipments taken, from one pass over the shipments (:func:`_reached_shipments`); the new
    shipments' and new orders' parcels probe every delivered scan once. Every other row
    is the previous one: the changed orders' rows are taken out of the previous copy and
    their new ones added (:class:`~promoguard.engine.cache.Appended`: the scan reads a view
    over the store's copy, a saved scan changes a few rows of it, instead of copying 5.35M
    rows at city scale); what changed is found by one probe of the previous rows.

    The changed orders (old and new first delivery) are kept in the scan for
    :func:`first_delivery_changes` (BRUSH003 folds its instant confirmations from them), and
    the new orders' first deliveries for :func:`new_orders_first_delivery`.
    """
    e = tables.tracking_events
    delivered = e.filter(e.event_type == "delivered")
    # a new delivered scan, with every shipment of its parcel (the day's scans kept as a table
    # first: see added_rows; the shipments read are the few that one pass picked out)
    by_scan = _first_delivered(_reached_shipments(tables, new), _new_delivered_scans(tables, new))
    # every delivered scan of a parcel of a new shipment or of a new order's shipment
    by_ship = _first_delivered(_new_parcels(tables, new), delivered)
    cand = union_all(by_scan, by_ship)
    cand = cand.group_by("s_order_id").aggregate(m=cand.first_delivered_at.min())
    # (kept in the scan: read twice below, and it holds the day's joins)
    cand = shared(tables, ("order_first_delivery_candidates",), lambda: cand)
    # a new order's first delivery is its candidate: every shipment of it is among the new
    # parcels, so every (shipment, delivered scan) pair of it was joined above
    no = added_rows(tables, new, "orders").select("order_id").distinct()
    fresh = cand.semi_join(no, cand.s_order_id == no.order_id)
    fresh = fresh.select(order_id=fresh.s_order_id, first_delivered_at=fresh.m)
    shared(tables, _NEW_ORDERS, lambda: fresh)
    prev = previous.select(p_order_id=previous.s_order_id, old_first=previous.first_delivered_at)
    j = cand.left_join(prev, cand.s_order_id == prev.p_order_id)
    # only the orders whose first delivery moved (a later scan, or an equal one, changes none)
    j = j.filter(j.old_first.isnull() | (j.m < j.old_first))
    changed = j.select(order_id=j.s_order_id, old_first=j.old_first, new_first=j.m)
    changed = shared(tables, _CHANGES, lambda: changed)
    # appended to the previous copy (5.35M rows at city scale), not copied: its changed orders'
    # rows go (a null key matches no row, as an anti join on ``=`` gives), the new ones come
    gone = changed.filter(changed.order_id.notnull())
    return Appended(
        added=changed.select(s_order_id=changed.order_id, first_delivered_at=changed.new_first),
        removed=gone.select(s_order_id=gone.order_id),
        key=("s_order_id",),
    )


def _new_delivered_scans(tables: Tables, new: Tables) -> ir.Table:
    """``carrier, tracking_no, event_at`` of the ``delivered`` scans among the new rows, kept in
    the scan as a table of their own (:func:`added_rows`)."""

    def build() -> ir.Table:
        ne = new.tracking_events
        return ne.filter(ne.event_type == "delivered").select("carrier", "tracking_no", "event_at")

    return shared(tables, ("added_delivered_scans",), build)


def _new_parcels(tables: Tables, new: Tables) -> ir.Table:
    """``order_id, carrier, tracking_no``: the new shipments, and every shipment of a new order
    (an old orphan shipment's order may arrive later), kept in the scan as a table."""

    def build() -> ir.Table:
        s = _reached_shipments(tables, new)
        no = added_rows(tables, new, "orders").select("order_id")
        return union_all(
            new.shipments.select("order_id", "carrier", "tracking_no"),
            s.semi_join(no, "order_id").select("order_id", "carrier", "tracking_no"),
        )

    return shared(tables, ("added_parcels",), build)


def _reached_shipments(tables: Tables, new: Tables) -> ir.Table:
    """``order_id, carrier, tracking_no``: the shipments, old or new, of a new order, and those
    whose tracking number a new delivered scan has (of any carrier: the joins that read them
    match the carrier too), kept in the scan as a table: every shipment the first delivery's
    fold joins, picked out in one pass over the shipments instead of one pass for each (at city
    scale 92k of 5.6M rows; 0.55 CPU s against 0.8). Rows are picked by an ``IN`` on each key,
    which keeps what a semi join on it keeps (a null key matches nothing either way)."""

    def build() -> ir.Table:
        s = tables.shipments
        no = added_rows(tables, new, "orders")
        nd = _new_delivered_scans(tables, new)
        picked = s.order_id.isin(no.order_id) | s.tracking_no.isin(nd.tracking_no)
        return s.filter(picked).select("order_id", "carrier", "tracking_no")

    return shared(tables, ("added_reached_shipments",), build)


#: the key of :func:`shared_number_hashes` (bump the version when its rows or their hash change)
SHIPMENT_SHARED_HASHES = ("shipment_shared_number_hashes", "v1")


def shared_number_hashes(tables: Tables) -> ir.Table:
    """``h``: the hashes of ``tracking_no`` that two or more shipment rows have (the engine's
    ``hash``; an integer, so the 5.6M city rows are counted per hash, not per two strings).

    Every row of a number several shipment rows use is among the rows of these hashes (with any
    other number that shares a hash with one): SHIP002 counts only those per parcel. Kept from a
    saved scan to the next, so that the first ``scan --since`` after a full scan folds the
    order plan's multi-parcel rows from it (``incremental``: as from its own
    ``SHARED_NUMBER_HASHES``) instead of pulling and sorting every hash of the season (~1 CPU s
    of a city day). Rows are only ever added: a hash two old rows share still is, and one shared
    now but not before has an added row among its rows."""

    def count(s: ir.Table) -> ir.Table:
        hs = s.select(h=s.tracking_no.hash())
        twice = hs.group_by("h").aggregate(rows=hs.count())
        return twice.filter(twice.rows > 1).select("h")

    def build() -> ir.Table:
        return count(tables.shipments)

    def fold(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
        a = added_rows(tables, new, "shipments")
        added = a.select(h=a.tracking_no.hash()).distinct()
        s = tables.shipments
        s = s.filter(s.tracking_no.hash().isin(added.h))
        return union_all(previous.select("h"), count(s)).distinct()

    return shared(tables, SHIPMENT_SHARED_HASHES, build, fold=fold)


def added_rows(tables: Tables, new: Tables, name: str) -> ir.Table:
    """``new[name]`` (the rows of canonical table ``name`` added since the kept copies' scan),
    kept in the scan as a table of its own: what a fold joins the season's big tables with.

    ``new``'s tables are views of the store's rows past a row mark, whose size DuckDB cannot
    estimate: it built its hash joins on the other, big side (the 5.5M shipments for the day's
    156k delivered scans: 2 s instead of 0.25 at city scale). Kept as a table, its row count is
    known. (Outside a scan, on Spark: ``new[name]`` itself; folds run on DuckDB only.)"""
    return shared(tables, ("added_rows", name), lambda: new[name])


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
