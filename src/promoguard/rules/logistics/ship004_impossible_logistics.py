"""SHIP004 impossible-logistics: Impossible logistics: scans before payment or shipment, wrong city, or too fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from promoguard import geo
from promoguard.engine import backends
from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.cache import shared
from promoguard.engine.exact import half_up_ratio
from promoguard.engine.registry import register
from promoguard.rules._relations import (
    city_spellings,
    graded,
    norm_city,
    orders_with_scans,
    parcel_scan_summary,
    with_city,
)
from promoguard.rules.logistics._shared import (
    _epoch_us,
    _OrderCheck,
    _pair_distances,
    _seconds_between,
    instant_before,
)


def _fastest_legs(tables: Tables, min_leg_km: float) -> ir.Table:
    """Per parcel with a counted leg (``v_carrier``, ``v_tracking_no``): ``max_speed_kmh``, the
    fastest hop between consecutive scans in known cities at least ``min_leg_km`` apart.

    SHIP004 reads only parts of it (:func:`_too_fast_parcels`, :func:`_top_speed_by_order`);
    the tests check those against this whole."""

    def build() -> ir.Table:
        return _fastest_legs_expr(tables, min_leg_km)

    return shared(tables, ("fastest_legs", float(min_leg_km)), build)


def _parcel_hash(tracking_no: ir.StringValue) -> ir.IntegerValue:
    """A number per parcel to partition its scans by: sorting 29M scans by one integer is about
    half the CPU of sorting them by two strings. Not unique (the same number at two carriers,
    a hash collision): parcels sharing one are recomputed by :func:`_fastest_legs_exact`."""
    return tracking_no.hash()


def _scans_in_known_cities(e: ir.Table, spellings: ir.Table | None) -> ir.Table:
    """The scans with a city, ``city_n`` the city as the distance table names it (through the
    season's ``spellings``: :func:`city_spellings`)."""
    e = e.filter(e.city.notnull()).select(
        "carrier", "tracking_no", "event_at", "event_type", "city"
    )
    e = with_city(e, "city", "city_n", spellings).drop("city")
    return e.filter(e.city_n.notnull())


def _leg_speed(legs: ir.Table) -> ir.NumericValue:
    """km/h of a hop from ``prev_at`` to ``event_at`` over ``distance_dkm``, to a tenth."""
    # a hop scanned in the same minute counts as one minute: the speed stays finite
    secs = ibis.greatest(_seconds_between(legs.event_at, legs.prev_at), 60)
    # tenths of km per hour from exact integers (tenths of km, seconds), rounded half up
    return half_up_ratio(legs.distance_dkm * 3600, secs, 1) / 10


def _fastest_legs_exact(
    e: ir.Table, min_leg_km: float, spellings: ir.Table | None = None
) -> ir.Table:
    """:func:`_fastest_legs` of the scans ``e``, by definition: each parcel's scans in the order
    (time, event type, city), each scan's hop from the one before it."""
    e = _scans_in_known_cities(e, spellings)
    w = ibis.window(
        group_by=[e.carrier, e.tracking_no], order_by=[e.event_at, e.event_type, e.city_n]
    )
    legs = e.mutate(prev_city=e.city_n.lag().over(w), prev_at=e.event_at.lag().over(w))
    legs = legs.filter(legs.prev_city.notnull() & (legs.prev_city != legs.city_n))
    d = _pair_distances()
    legs = legs.join(d, [legs.prev_city == d.from_city, legs.city_n == d.to_city])
    legs = legs.filter(legs.distance_km >= min_leg_km)
    legs = legs.mutate(speed_kmh=_leg_speed(legs))
    return legs.group_by(v_carrier=legs.carrier, v_tracking_no=legs.tracking_no).aggregate(
        max_speed_kmh=legs.speed_kmh.max()
    )


def _fastest_by_hash(tables: Tables, min_leg_km: float) -> ir.Table:
    """``g_h, max_speed_kmh, tie`` per :func:`_parcel_hash` of the scans in known cities: the
    fastest counted hop between scans consecutive in time within the hash, and whether two of
    its scans share an instant (then time alone does not order them).

    On DuckDB, one compiled pass over the scans in storage order when that is where they lie
    together (:func:`_fastest_by_hash_streamed`); else, and on Spark, a window."""
    if not backends.is_spark(tables.backend):
        streamed = _fastest_by_hash_streamed(tables, min_leg_km)
        if streamed is not None:
            return streamed
    return _fastest_by_hash_window(tables, min_leg_km)


def _fastest_by_hash_window(tables: Tables, min_leg_km: float) -> ir.Table:
    """:func:`_fastest_by_hash` by a window over the scans of each hash, ordered by time."""
    e = _scans_in_known_cities(tables.tracking_events, city_spellings(tables))
    e = e.select(h=_parcel_hash(e.tracking_no), event_at=e.event_at, city_n=e.city_n)
    w = ibis.window(group_by=e.h, order_by=e.event_at)
    legs = e.mutate(prev_city=e.city_n.lag().over(w), prev_at=e.event_at.lag().over(w))
    moved = legs.prev_city.notnull() & (legs.prev_city != legs.city_n)
    legs = legs.filter(moved | (legs.prev_at == legs.event_at))
    d = _pair_distances()
    legs = legs.left_join(d, [legs.prev_city == d.from_city, legs.city_n == d.to_city])
    counted = (legs.prev_city != legs.city_n) & (legs.distance_km >= min_leg_km)
    return legs.group_by(g_h=legs.h).aggregate(
        max_speed_kmh=_leg_speed(legs).max(where=counted),
        tie=(legs.prev_at == legs.event_at).fill_null(False).any(),
    )


#: rows per record batch of the streamed pass (what it holds of the scans at a time)
STREAM_BATCH_ROWS = 1 << 20
#: the streamed pass gives up for the window when more of its hashes than this share (and more
#: than STREAM_DIRTY_FLOOR) need the exact recomputation (scans not stored together, e.g. a lake
#: partitioned by day): the window is then cheaper than recomputing most parcels one by one
STREAM_MAX_DIRTY_SHARE = 0.02
STREAM_DIRTY_FLOOR = 10_000
#: ... judged first after this many scans, so a hopeless pass stops early
STREAM_EARLY_ROWS = 4 << 20


def _fastest_by_hash_streamed(tables: Tables, min_leg_km: float) -> ir.Table | None:
    """:func:`_fastest_by_hash` from one compiled pass over the scans in the order the engine
    stores them (:mod:`._hops_jit`), reading them a record batch at a time: no sort of the
    scans. A hash whose scans are not one run in strictly increasing time comes out tied (so
    it is recomputed exactly); only hashes with a counted hop or a tie are listed, as by the
    window. None when too many hashes would be recomputed (then the window is cheaper)."""
    from promoguard.rules.logistics._hops_jit import runs_pass

    dist = geo.pair_distances()
    cities = sorted(set(dist["from_city"]) | set(dist["to_city"]))
    code = {city: i for i, city in enumerate(cities)}
    other = len(cities)  # any other city: in the sequence, never in a counted hop
    dkm = np.zeros((other + 1, other + 1), np.int64)
    counted = np.zeros((other + 1, other + 1), np.bool_)
    for a, b, km, tenths in zip(
        dist["from_city"], dist["to_city"], dist["distance_km"], dist["distance_dkm"], strict=True
    ):
        dkm[code[a], code[b]] = tenths
        counted[code[a], code[b]] = a != b and km >= min_leg_km
    e = tables.tracking_events
    # (a scan without an instant, were there one, sorts last in the window: its hop has no
    # speed and no hop follows it, so leaving it out changes nothing)
    e = e.filter(e.city.notnull() & e.event_at.notnull())
    # the city as stored: its code is looked up per distinct spelling (_CityCodes), not
    # normalised and looked up in SQL per scan (norm_city's TRIM/LOWER, which DuckDB worked out
    # three times a row, and a list lookup: ~0.7 CPU us a scan, most of the pass's cost)
    rows = e.select(h=_parcel_hash(e.tracking_no).cast("int64"), t=_epoch_us(e.event_at), c=e.city)
    codes = _CityCodes(code, other)
    state = np.zeros(5, np.int64)
    speed_state = np.full(1, np.nan)
    run_h: list[np.ndarray] = []  # every run's hash (a hash in two runs is not together)
    fast_h: list[np.ndarray] = []  # runs that are not bad and have a counted hop
    fast_v: list[np.ndarray] = []
    bad_h: list[np.ndarray] = []
    seen, judged = 0, False
    with backends.record_batches(tables.backend, rows, STREAM_BATCH_ROWS) as batches:
        for batch in batches:
            n = batch.num_rows
            h, t, c = (
                batch.column(0).to_numpy(),
                batch.column(1).to_numpy(),
                codes.of(batch.column(2)),
            )
            known = c >= 0  # (a blank city: no scan in a known city, as the SQL form drops it)
            if not known.all():
                h, t, c = h[known], t[known], c[known]
            out_h, out_v = np.empty(n + 1, np.int64), np.empty(n + 1)
            out_bad = np.empty(n + 1, np.int8)
            k = runs_pass(
                h,
                t,
                c,
                dkm,
                counted,
                state,
                speed_state,
                out_h,
                out_v,
                out_bad,
            )
            _keep_runs(out_h[:k], out_v[:k], out_bad[:k], run_h, fast_h, fast_v, bad_h)
            seen += n
            if not judged and seen >= STREAM_EARLY_ROWS:
                judged = True
                if _too_dirty(run_h, bad_h):
                    return None
    if state[0] == 1:  # the last run
        last = np.array([state[1]], np.int64)
        _keep_runs(
            last, speed_state.copy(), state[4:5].astype(np.int8), run_h, fast_h, fast_v, bad_h
        )
    all_h = np.sort(np.concatenate(run_h)) if run_h else np.empty(0, np.int64)
    split = np.unique(all_h[1:][all_h[1:] == all_h[:-1]])
    dirty = np.union1d(split, np.concatenate(bad_h)) if bad_h else split
    if len(dirty) > max(STREAM_DIRTY_FLOOR, STREAM_MAX_DIRTY_SHARE * len(all_h)):
        return None
    del all_h, run_h
    g_h = np.concatenate(fast_h) if fast_h else np.empty(0, np.int64)
    speed = np.concatenate(fast_v) if fast_v else np.empty(0)
    clean = ~np.isin(g_h, dirty)
    out = pa.table(
        {
            "g_h": pa.array(np.concatenate([g_h[clean], dirty]), pa.int64()),
            "max_speed_kmh": pa.array(
                np.concatenate([speed[clean], np.full(len(dirty), np.nan)]),
                pa.float64(),
                from_pandas=True,  # NaN: no speed (the dirty hashes)
            ),
            "tie": pa.array(
                np.concatenate([np.zeros(clean.sum(), np.bool_), np.ones(len(dirty), np.bool_)])
            ),
        }
    )
    return ibis.memtable(out)


class _CityCodes:
    """The streamed pass's city code of each stored spelling of a city: the place in the
    pass's list of ``norm_city`` of it (:func:`_scans_in_known_cities`), ``other`` for a city
    not in the list, -1 for one ``norm_city`` makes null (blank: the scan is left out).

    A season spells its cities in a few hundred ways, so each batch's column is dictionary
    encoded and only spellings not seen before are normalised: by the same compiled
    ``norm_city`` SQL, in a DuckDB of their own (the store's connection is streaming the scans),
    then ``geo.normalise_city`` as :func:`city_spellings` does, so a code is the one the SQL
    form gives, byte for byte."""

    def __init__(self, code: dict[str, int], other: int) -> None:
        self._code, self._other = code, other
        self._seen: dict[str, int] = {}
        raw = ibis.table({"city": "string"}, name="_pg_cities")
        self._sql = str(ibis.to_sql(raw.select(raw.city, n=norm_city(raw.city)), dialect="duckdb"))

    def of(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The codes (int16) of a column of stored cities (no nulls: the pass filtered them)."""
        encoded = pc.dictionary_encode(column)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        spellings = encoded.dictionary.to_pylist()
        new = [v for v in spellings if v not in self._seen]
        if new:
            self._learn(new)
        lookup = np.array([self._seen[v] for v in spellings], np.int16)
        return lookup[encoded.indices.to_numpy(zero_copy_only=False)]

    def _learn(self, spellings: list[str]) -> None:
        import duckdb

        con = duckdb.connect()
        try:
            con.register("_pg_cities", pa.table({"city": pa.array(spellings, pa.string())}))
            for raw, form in con.sql(self._sql).fetchall():
                city = geo.normalise_city(form) if form is not None else None
                self._seen[raw] = -1 if city is None else self._code.get(city, self._other)
        finally:
            con.close()


def _keep_runs(
    h: np.ndarray,
    speed: np.ndarray,
    bad: np.ndarray,
    run_h: list[np.ndarray],
    fast_h: list[np.ndarray],
    fast_v: list[np.ndarray],
    bad_h: list[np.ndarray],
) -> None:
    run_h.append(h.copy())
    fast = (bad == 0) & ~np.isnan(speed)
    fast_h.append(h[fast])
    fast_v.append(speed[fast])
    if bad.any():
        bad_h.append(h[bad != 0])


def _too_dirty(run_h: list[np.ndarray], bad_h: list[np.ndarray]) -> bool:
    """Whether, of the runs so far, too many have a hash in another run too, or are bad."""
    all_h = np.sort(np.concatenate(run_h)) if run_h else np.empty(0, np.int64)
    n_dirty = int((all_h[1:] == all_h[:-1]).sum()) + sum(len(b) for b in bad_h)
    return n_dirty > max(STREAM_DIRTY_FLOOR, STREAM_MAX_DIRTY_SHARE * len(all_h))


def _by_hash(tables: Tables, min_leg_km: float) -> ir.Table:
    """:func:`_fastest_by_hash`, one pass over the scans per scan (shared)."""
    return shared(
        tables,
        ("fastest_legs_by_hash", float(min_leg_km)),
        lambda: _fastest_by_hash(tables, min_leg_km),
    )


def _hashes_of_several_parcels(tables: Tables) -> ir.Table:
    """``c_h``: the :func:`_parcel_hash` values two or more scanned parcels share (usually a few:
    the same number at two carriers, a collision). Shared within a scan."""

    def build() -> ir.Table:
        p = parcel_scan_summary(tables)  # every scanned parcel once (shared within a scan)
        ph = p.select(p_h=_parcel_hash(p.tracking_no))
        n = ph.group_by(c_h=ph.p_h).aggregate(n=ph.count())
        return n.filter(n.n > 1).select("c_h")

    return shared(tables, ("parcel_hashes_of_several",), build)


_LEGS_SCHEMA = pa.schema(
    [("v_carrier", pa.string()), ("v_tracking_no", pa.string()), ("max_speed_kmh", pa.float64())]
)


@dataclass(frozen=True)
class _Speeds:
    """:func:`_fastest_legs` in two parts, to read for the parcels that matter only (all of it
    is 5M parcel keys at city scale: 3.6 CPU s to join and keep, for a few hundred thousand read).

    ``clean``: ``g_h, max_speed_kmh``, hashes of one scanned parcel each whose scans the pass by
    hash ordered by time alone (no two at one instant), with a counted hop: that hop is the
    parcel's fastest. ``dirty``: ``v_carrier, v_tracking_no, max_speed_kmh``, the rows of the
    parcels the pass cannot order so (a hash shared with another scanned parcel, two scans at
    one instant), recomputed by the definition from their own scans: usually none or a few.
    """

    clean: ir.Table
    dirty: ir.Table


def _speeds(tables: Tables, min_leg_km: float) -> _Speeds:
    """The parts of :func:`_fastest_legs`, each built once (kept within a scan; outside one,
    build them once and hand them on: the pass over the scans is not cheap)."""
    by_hash, several = _by_hash(tables, min_leg_km), _hashes_of_several_parcels(tables)
    clean = by_hash.filter(~by_hash.tie & by_hash.max_speed_kmh.notnull())
    clean = clean.anti_join(several, clean.g_h == several.c_h).select("g_h", "max_speed_kmh")

    def dirty() -> ir.Table:
        ph = _scanned_parcels(tables)
        ph = ph.mutate(p_h=_parcel_hash(ph.p_tracking_no))
        tied = by_hash.filter(by_hash.tie).select(d_h=by_hash.g_h.cast("int64"))
        dirty_h = tied.union(several.select(d_h=several.c_h.cast("int64")), distinct=True)
        dirty = ph.semi_join(dirty_h, ph.p_h == dirty_h.d_h).select("p_carrier", "p_tracking_no")
        # usually none on DuckDB (a 64-bit hash, scans at distinct instants): no second pass then
        dirty_rows = tables.to_arrow(dirty)
        if not dirty_rows.num_rows:
            return ibis.memtable(_LEGS_SCHEMA.empty_table())
        todo = ibis.memtable(dirty_rows)
        e = tables.tracking_events
        e = e.semi_join(todo, [e.carrier == todo.p_carrier, e.tracking_no == todo.p_tracking_no])
        return _fastest_legs_exact(e, min_leg_km, city_spellings(tables))

    return _Speeds(clean, shared(tables, ("fastest_legs_dirty", float(min_leg_km)), dirty))


def _scanned_parcels(tables: Tables) -> ir.Table:
    """``p_carrier, p_tracking_no``: every scanned parcel once."""
    p = parcel_scan_summary(tables)  # shared within a scan
    return p.select(p_carrier=p.carrier, p_tracking_no=p.tracking_no)


def _legs_of(speeds: _Speeds, parcels: ir.Table) -> ir.Table:
    """:func:`_fastest_legs` rows of ``parcels`` (``p_carrier, p_tracking_no``: scanned parcels,
    each once), without joining every scanned parcel to its hash's speed.

    A clean hash is one scanned parcel's, so the parcel of ``parcels`` with that hash is that
    parcel (a parcel never scanned may share its number, and so its hash, with one that was:
    hence scanned parcels only); the others' rows are among the dirty ones.
    """
    clean, dirty = speeds.clean, speeds.dirty
    ph = parcels.mutate(p_h=_parcel_hash(parcels.p_tracking_no))
    fast = clean.join(ph, clean.g_h == ph.p_h).select(
        v_carrier=ph.p_carrier, v_tracking_no=ph.p_tracking_no, max_speed_kmh=clean.max_speed_kmh
    )
    dirty = dirty.semi_join(
        parcels,
        [dirty.v_carrier == parcels.p_carrier, dirty.v_tracking_no == parcels.p_tracking_no],
    )
    return fast.union(dirty)


def _fastest_legs_expr(tables: Tables, min_leg_km: float) -> ir.Table:
    """:func:`_fastest_legs_exact` of all scans, the same rows for less CPU.

    The scans are ordered per parcel hash by time alone. For a hash that is one parcel's whose
    scans all have distinct instants, that is the parcel's order (time, event type, city)
    exactly. The few other parcels (a hash shared with another parcel, two scans at one
    instant) are recomputed by definition from their own scans.
    """
    return _legs_of(_speeds(tables, min_leg_km), _scanned_parcels(tables))


def _too_fast_parcels(tables: Tables, speeds: _Speeds, vmax: float) -> ir.Table:
    """The rows of :func:`_fastest_legs` faster than ``vmax`` (a few): the clean hashes over
    ``vmax`` first, then their parcels."""
    clean = speeds.clean.filter(speeds.clean.max_speed_kmh > vmax)
    ph = _scanned_parcels(tables)
    ph = ph.mutate(p_h=_parcel_hash(ph.p_tracking_no))
    fast = ph.join(clean, ph.p_h == clean.g_h).select(
        v_carrier=ph.p_carrier, v_tracking_no=ph.p_tracking_no, max_speed_kmh=clean.max_speed_kmh
    )
    return fast.union(speeds.dirty.filter(speeds.dirty.max_speed_kmh > vmax))


def _top_speed_by_order(tables: Tables, speeds: _Speeds, orders: ir.Table) -> ir.Table:
    """``f_order_id, max_speed_kmh``: the fastest counted leg of any parcel of ``orders``
    (a table with ``order_id``), for the orders that have one: :func:`_fastest_legs` of their
    scanned parcels only."""
    s = tables.shipments
    s = s.semi_join(orders, s.order_id == orders.order_id)
    p = _scanned_parcels(tables)
    p = p.semi_join(s, [p.p_carrier == s.carrier, p.p_tracking_no == s.tracking_no])
    legs = _legs_of(speeds, p)
    j = s.join(legs, [s.carrier == legs.v_carrier, s.tracking_no == legs.v_tracking_no])
    return j.group_by(f_order_id=j.order_id).aggregate(max_speed_kmh=j.max_speed_kmh.max())


@register
class ImpossibleLogistics(_OrderCheck):
    code = "SHIP004"
    requires = ("orders", "tracking_events")
    depends_on = "order"
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
            "clock_tolerance_minutes",
            5,
            "a scan this much before the order was placed is still accepted: carrier scanners "
            "round to the minute and their clocks are not the platform's",
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
            "order was placed (`placed_at`, beyond `clock_tolerance_minutes`; without a "
            "placement time, earlier than the payment beyond `payment_tolerance_minutes`), a "
            "scan more than "
            "`declared_tolerance_hours` before the merchant's declared shipment, a `delivered` "
            "scan in a city other than the order's `ship_to_city`, or two consecutive scans in "
            "cities further apart than `max_speed_kmh` allows in the time between them (cities "
            "from the project's coordinate table; unknown cities are not judged). A city is "
            "compared as the table names it however shop and carrier write it: 上海市, "
            "深圳市南山区, 浙江省杭州市 and Shanghai are 上海, 深圳, 杭州 and 上海 (a district of "
            "重庆 stays a place of its own; Suzhou and Fuzhou, each two cities, are not taken "
            "for either); an autonomous prefecture written in full or with 州 after its short "
            "name is its short name (恩施土家族苗族自治州 and 恩施州 are 恩施), and a county-level "
            "city is its prefecture, in either "
            "direction (昆山 is 苏州, 义乌 delivered in 金华 is home). `reasons` "
            "lists which signals fired. A handover after the order was placed but before its "
            "payment was approved (Olist approves bank-slip payments hours or days later) is "
            "reported at low severity as 'shipped before payment approval', not as fabricated."
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
        "placed_at",
    )
    expected_columns = (
        "max_speed_kmh_allowed",
        "clock_tolerance_minutes",
        "payment_tolerance_minutes",
    )

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        pay_tol = int(params["payment_tolerance_minutes"])
        decl_tol = int(params["declared_tolerance_hours"])
        vmax = float(params["max_speed_kmh"])
        # every order with its scans summarised, once per scan (shared with SHIP001/003/005):
        # the orders with a scanned parcel
        j = orders_with_scans(tables)
        j = j.filter(j.scanned)
        # the speed test: which orders have a parcel with a leg over vmax (a few), not every
        # order's top speed; the top speed is looked up for the flagged orders only
        speeds = _speeds(tables, float(params["min_leg_km"]))  # once: read twice below
        s = tables.shipments
        too_fast_parcels = _too_fast_parcels(tables, speeds, vmax)
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
        j = with_city(j, "ship_to_city", "_pg_dest", city_spellings(tables))
        # ... or lies in the same prefecture (义乌 in 金华: geo.same_prefecture; the lowest and
        # highest delivered city are already read so, before their min/max: parcel_scan_summary)
        dest = j._pg_dest
        lo, hi = j.lo_delivered_city, j.hi_delivered_city
        d, lo_p, hi_p = (geo.same_prefecture(c) for c in (dest, lo, hi))
        j = j.mutate(
            wrong_city=ibis.cases(
                (dest.notnull() & lo.notnull() & (lo_p != d), lo),
                (dest.notnull() & hi.notnull() & (hi_p != d), hi),
                else_=ibis.null("string"),
            )
        )

        clock_tol = int(params.get("clock_tolerance_minutes", 5))

        def before_pay(t: ir.Table) -> ir.BooleanValue:
            return instant_before(tables, t.first_scan_at, t.paid_at, minutes=-pay_tol)

        def before_placement(t: ir.Table) -> ir.BooleanValue:
            return t.placed_at.notnull() & instant_before(
                tables, t.first_scan_at, t.placed_at, minutes=-clock_tol
            )

        # a payment approved hours after the order was placed (a bank slip, a manual review):
        # a handover in between is a process issue, not fabricated logistics. Without a
        # placement time the payment is the only purchase time there is.
        def before_approval_only(t: ir.Table) -> ir.BooleanValue:
            return before_pay(t) & t.placed_at.notnull() & ~before_placement(t)

        def before_decl(t: ir.Table) -> ir.BooleanValue:
            return t.declared_shipped_at.notnull() & instant_before(
                tables, t.first_scan_at, t.declared_shipped_at, hours=-decl_tol
            )

        # flagged orders first (booleans), the reasons text only for them
        j = j.filter(
            before_pay(j)
            | before_placement(j)
            | before_decl(j)
            | j.wrong_city.notnull()
            | j.t_order_id.notnull()
        )
        top = _top_speed_by_order(tables, speeds, j.select("order_id"))
        j = j.left_join(top, j.order_id == top.f_order_id)
        wrong_city = j.wrong_city.notnull()
        too_fast = j.max_speed_kmh.notnull() & (j.max_speed_kmh > vmax)

        def flag(cond: ir.BooleanValue, label: str) -> ir.StringValue:
            return ibis.cases((cond, label + ";"), else_="")

        reasons = (
            flag(before_placement(j), "scan_before_placement")
            + flag(before_pay(j) & j.placed_at.isnull(), "scan_before_payment")
            + flag(before_approval_only(j), "shipped_before_payment_approval")
            + flag(before_decl(j), "scan_before_declared_shipment")
            + flag(wrong_city, "delivered_to_other_city")
            + flag(too_fast, "faster_than_possible")
        )
        j = j.mutate(_reasons=reasons)
        j = j.filter(j._reasons != "")
        only_approval = j._reasons == "shipped_before_payment_approval;"
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
            placed_at=j.placed_at,
            max_speed_kmh_allowed=ibis.literal(vmax),
            clock_tolerance_minutes=ibis.literal(clock_tol),
            payment_tolerance_minutes=ibis.literal(pay_tol),
            **graded(
                only_approval,
                "shipped before payment approval: the carrier took the parcel after the "
                "order was placed but before its payment was approved, a process issue "
                "rather than fabricated logistics",
            ),
        )
