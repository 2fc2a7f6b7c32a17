"""SHIP004's fastest hops: the hash-partitioned pass gives the rows of the definition.

The pass orders each parcel hash's scans by time alone; parcels whose hash is shared with another
parcel, or whose scans share an instant, must be recomputed from their own scans. These cases are
built to go wrong if either recomputation were missing.
"""

from __future__ import annotations

import random

import ibis
import pytest
from tests import spark_env

from promoguard import geo
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.cache import scan_cache
from promoguard.rules.logistics import ship004_impossible_logistics as ship004

from .helpers import order, tables

order_row = order

EVENTS = [
    # an honest parcel: 上海 → 南京 → 北京 over a day
    ("SF", "A", 0, "pickup", "上海"),
    ("SF", "A", 10, "transit", "南京"),
    ("SF", "A", 24, "delivered", "北京"),
    # two scans at one instant, 85 km apart (no counted hop between them): the event type orders
    # them ("delivered" < "transit"), so the fastest hop is 北京 → 上海 (1,067.4 km in 1 h), not
    # 北京 → 苏州 (1,028.4 km)
    ("SF", "T", 0, "pickup", "北京"),
    ("SF", "T", 1, "transit", "苏州"),
    ("SF", "T", 1, "delivered", "上海"),
    ("SF", "T", 5, "out_for_delivery", "杭州"),
    # the same number at another carrier is another parcel: no hop between the two
    ("ZTO", "A", 1, "pickup", "广州"),
    ("ZTO", "A", 50, "delivered", "广州"),
    # a blank and an unknown city, and a hop scanned in the same minute
    ("YTO", "B", 0, "pickup", "杭州"),
    ("YTO", "B", 2, "transit", " "),
    ("YTO", "B", 3, "transit", "某个小镇"),
    ("YTO", "B", 3.001, "transit", "上海"),
    ("YTO", "B", 3.002, "delivered", "北京"),
    ("JD", "C", 5, "pickup", None),
    ("JD", "C", 6, "delivered", "北京"),
]


#: (order, carrier, tracking number, weight) of the parcels EVENTS scans
SHIPMENTS = [
    ("a", "SF", "A", 500),
    ("t", "SF", "T", 500),
    ("za", "ZTO", "A", 500),
    ("b", "YTO", "B", 500),
    ("c", "JD", "C", 500),
]


def _store(tiny_store):
    orders = [order(o) for o in ("a", "t", "za", "b", "c")]
    return tiny_store(tables(orders=orders, shipments=SHIPMENTS, events=EVENTS))


def _rows(t, expr) -> list[tuple]:
    got = t.to_arrow(expr).to_pylist()
    return sorted((r["v_carrier"], r["v_tracking_no"], r["max_speed_kmh"]) for r in got)


@pytest.mark.parametrize(
    "parcel_hash",
    [
        ship004._parcel_hash,  # the real one: the tie and the number at two carriers
        lambda tracking_no: tracking_no.length(),  # every parcel's hash shared
        lambda tracking_no: (tracking_no == "T").cast("int64"),  # T alone, the rest shared
    ],
    ids=["hash", "all-shared", "tie-alone"],
)
@pytest.mark.parametrize("in_scan", [False, True], ids=["plain", "in-scan"])
@pytest.mark.parametrize("by", ["stream", "window", "stream-in-batches-of-2"])
def test_fastest_legs_equal_the_definition(tiny_store, monkeypatch, parcel_hash, in_scan, by):
    con = _store(tiny_store)
    monkeypatch.setattr(ship004, "_parcel_hash", parcel_hash)
    streamed = _count_streamed(monkeypatch, by)
    with duckdb_tables(con) as t:
        expected = _rows(t, ship004._fastest_legs_exact(t.tracking_events, 100.0))
        if in_scan:
            with scan_cache(t):
                got = _rows(t, ship004._fastest_legs(t, 100.0))
        else:
            got = _rows(t, ship004._fastest_legs_expr(t, 100.0))
    assert got == expected
    assert streamed == ([] if by == "window" else [True])
    speeds = {(c, n): v for c, n, v in expected}
    assert speeds[("SF", "T")] == 1067.4
    assert ("ZTO", "A") not in speeds  # one city only
    assert speeds[("YTO", "B")] > 60_000  # 上海 → 北京 within a minute counts as one minute
    assert set(speeds) == {("SF", "A"), ("SF", "T"), ("YTO", "B")}


@pytest.mark.parametrize(
    "parcel_hash",
    [
        ship004._parcel_hash,
        lambda tracking_no: tracking_no.length(),  # every parcel's hash shared
        lambda tracking_no: (tracking_no == "B").cast("int64"),  # B alone, the rest shared
    ],
    ids=["hash", "all-shared", "b-alone"],
)
@pytest.mark.parametrize("in_scan", [False, True], ids=["plain", "in-scan"])
@pytest.mark.parametrize("by", ["stream", "window"])
def test_the_parts_ship004_reads_equal_the_definition(
    tiny_store, monkeypatch, parcel_hash, in_scan, by
):
    """Which parcels are too fast, and the top speed of some orders, read from the speeds by
    hash for those parcels alone: the rows of the definition. YUNDA B is never scanned and
    shares its number (so its hash) with YTO B, the fastest parcel: its order has no speed."""
    orders = [order(o) for o in ("a", "t", "za", "b", "c", "yb")]
    shipments = [
        *SHIPMENTS,
        ("yb", "YUNDA", "B", 500),
        ("yb", "SF", "A", 500),  # and the honest SF A
    ]
    con = tiny_store(tables(orders=orders, shipments=shipments, events=EVENTS))
    monkeypatch.setattr(ship004, "_parcel_hash", parcel_hash)
    streamed = _count_streamed(monkeypatch, by)
    with duckdb_tables(con) as t:
        exact = t.to_arrow(ship004._fastest_legs_exact(t.tracking_events, 100.0)).to_pylist()
        speed = {(r["v_carrier"], r["v_tracking_no"]): r["max_speed_kmh"] for r in exact}

        def check() -> tuple[dict, dict]:
            speeds = ship004._speeds(t, 100.0)
            fast = {}
            # at a speed exactly: SF T's (recomputed, tied) and YTO B's (from the pass, but for
            # all-shared): a parcel exactly at the limit is not over it
            for vmax in (0.0, 1000.0, 1067.4, 60_000.0, speed[("YTO", "B")]):
                rows = t.to_arrow(ship004._too_fast_parcels(t, speeds, vmax)).to_pylist()
                fast[vmax] = sorted((r["v_carrier"], r["v_tracking_no"]) for r in rows)
            some = ibis.memtable({"order_id": ["t", "b", "c", "yb"]})
            rows = t.to_arrow(ship004._top_speed_by_order(t, speeds, some)).to_pylist()
            return fast, {r["f_order_id"]: r["max_speed_kmh"] for r in rows}

        if in_scan:
            with scan_cache(t):
                fast, top = check()
        else:
            fast, top = check()
    for vmax, got in fast.items():
        assert got == sorted(k for k, v in speed.items() if v > vmax)
    assert fast[1000.0] == [("SF", "T"), ("YTO", "B")]
    assert fast[speed[("YTO", "B")]] == []
    assert top == {"t": speed[("SF", "T")], "b": speed[("YTO", "B")], "yb": speed[("SF", "A")]}
    assert streamed == ([] if by == "window" else [True])


def _count_streamed(monkeypatch, by: str) -> list[bool]:
    """Make SHIP004 take the streamed pass or the window (``by``); the list says, per call of
    the streamed pass, whether it gave rows (it is filled as the check runs)."""
    calls: list[bool] = []
    real = ship004._fastest_by_hash_streamed
    if by == "window":
        monkeypatch.setattr(ship004, "_fastest_by_hash_streamed", lambda *a: None)
        return calls
    if by.startswith("stream-in-batches-of-"):
        monkeypatch.setattr(ship004, "STREAM_BATCH_ROWS", int(by.rsplit("-", 1)[1]))

    def spy(*args):
        out = real(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(ship004, "_fastest_by_hash_streamed", spy)
    return calls


def _many_parcels(seed: int, n: int = 60) -> list[tuple]:
    """Scans of ``n`` parcels in known (and one unknown) cities, each parcel's in time order."""
    rnd = random.Random(seed)
    cities = sorted(set(geo.pair_distances()["from_city"]))[:12] + ["某个小镇"]
    kinds = ["pickup", "transit", "out_for_delivery", "delivered"]
    events = []
    for p in range(n):
        hours = 0.0
        for _ in range(rnd.randint(1, 7)):
            # a few minutes to a day apart: some hops too fast, some not
            hours += rnd.choice([0.01, 0.05, 0.5, 2.0, 11.0, 30.0])
            events.append(("SF", f"P{p}", hours, rnd.choice(kinds), rnd.choice(cities)))
    return events


def _store_of(tiny_store, events: list[tuple]):
    """A store of ``events`` in the order given, each parcel one order shipped with SF."""
    parcels = sorted({n for _, n, *_ in events})
    return tiny_store(
        tables(
            orders=[order_row(p) for p in parcels],
            shipments=[(p, "SF", p, 500) for p in parcels],
            events=events,
        )
    )


@pytest.mark.parametrize(
    "order",
    ["together", "shuffled", "reversed", "interleaved"],
)
@pytest.mark.parametrize("batch_rows", [1 << 20, 1, 7])
def test_the_streamed_pass_equals_the_definition_in_any_storage_order(
    tiny_store, monkeypatch, order, batch_rows
):
    """The pass reads the scans as stored: a parcel whose scans are not together and in time
    order is recomputed, never read as consecutive hops."""
    events = _many_parcels(7)
    if order == "shuffled":
        random.Random(1).shuffle(events)
    elif order == "reversed":
        events = events[::-1]
    elif order == "interleaved":  # every parcel split in two runs, each in time order
        events = events[::2] + events[1::2]
    parcels = sorted({n for _, n, *_ in events})
    con = _store_of(tiny_store, events)
    monkeypatch.setattr(ship004, "STREAM_BATCH_ROWS", batch_rows)
    monkeypatch.setattr(ship004, "STREAM_DIRTY_FLOOR", 10_000)
    with duckdb_tables(con) as t:
        expected = _rows(t, ship004._fastest_legs_exact(t.tracking_events, 100.0))
        streamed = ship004._fastest_by_hash_streamed(t, 100.0)
        assert streamed is not None
        by_hash = t.to_arrow(streamed).to_pylist()
        got = _rows(t, ship004._fastest_legs_expr(t, 100.0))
    assert got == expected
    assert len(expected) > 20  # enough parcels with a counted hop to mean something
    tied = sum(r["tie"] for r in by_hash)
    if order == "together":
        assert tied == 0  # all read from the stream, none recomputed
    else:
        assert tied >= len(parcels) // 2  # split or out of time order: recomputed


def test_the_streamed_pass_gives_way_to_the_window_when_most_parcels_are_split(
    tiny_store, monkeypatch
):
    events = _many_parcels(3)
    events = events[::2] + events[1::2]
    con = _store_of(tiny_store, events)
    monkeypatch.setattr(ship004, "STREAM_DIRTY_FLOOR", 0)
    with duckdb_tables(con) as t:
        expected = _rows(t, ship004._fastest_legs_exact(t.tracking_events, 100.0))
        assert ship004._fastest_by_hash_streamed(t, 100.0) is None
        monkeypatch.setattr(ship004, "STREAM_EARLY_ROWS", 5)  # judged after the first batch
        monkeypatch.setattr(ship004, "STREAM_BATCH_ROWS", 5)
        assert ship004._fastest_by_hash_streamed(t, 100.0) is None
        # judged early once the second halves have begun (split parcels seen): the pass gives
        # way there, without reading the rest of the scans
        early = len(events) // 2 + 20
        monkeypatch.setattr(ship004, "STREAM_EARLY_ROWS", early)
        batches: list[int] = []
        keep = ship004._keep_runs
        monkeypatch.setattr(ship004, "_keep_runs", lambda *a: batches.append(1) or keep(*a))
        assert ship004._fastest_by_hash_streamed(t, 100.0) is None
        assert len(batches) == -(-early // 5) < len(events) // 5
        got = _rows(t, ship004._fastest_legs_expr(t, 100.0))
    assert got == expected


@pytest.mark.parametrize("by", ["window", "stream"])
def test_the_pass_by_hash_marks_tied_and_shared_parcels_for_recomputation(tiny_store, by):
    """Which parcels the hash pass cannot order by time alone: those are recomputed."""
    con = _store(tiny_store)
    by_hash_of = {
        "window": ship004._fastest_by_hash_window,
        "stream": ship004._fastest_by_hash_streamed,
    }[by]
    with duckdb_tables(con) as t:
        h = ship004._parcel_hash
        hashes = t.to_arrow(
            t.tracking_events.select("tracking_no", h=h(t.tracking_events.tracking_no)).distinct()
        ).to_pylist()
        by_hash = t.to_arrow(by_hash_of(t, 100.0)).to_pylist()
    of = {r["tracking_no"]: r["h"] for r in hashes}
    tied = {r["g_h"] for r in by_hash if r["tie"]}
    # the stream also sees A's scans in two runs (SF A, then SF T, then ZTO A, as stored)
    assert tied == ({of["T"]} if by == "window" else {of["T"], of["A"]})
    # SF A and ZTO A share a hash: their scans are one partition, told apart only by recomputing
    assert of["A"] in {r["g_h"] for r in by_hash}


@pytest.mark.spark
@pytest.mark.slow  # one Spark session
def test_fastest_legs_on_spark_equal_the_definition(tiny_store):
    """On Spark the hash is 32 bits and the recomputation a union of two plans: same rows."""
    from promoguard.engine.backends import spark_tables

    con = _store(tiny_store)
    with duckdb_tables(con) as t:
        expected = _rows(t, ship004._fastest_legs_exact(t.tracking_events, 100.0))
    with spark_tables(con, spark_env.MASTER) as t:
        got = _rows(t, ship004._fastest_legs(t, 100.0))
    assert got == expected
    assert ("SF", "T") in {(c, n) for c, n, _ in got}


@pytest.mark.parametrize("batch_rows", [1 << 20, 2])
def test_the_streamed_pass_reads_each_spelling_of_a_city_as_normalised(
    tiny_store, monkeypatch, batch_rows
):
    """The pass codes a city per stored spelling: padded, capitalised, 市/district/province or
    pinyin spellings are the city (geo.normalise_city), a blank one is no scan at all (its neighbours make the hop), an unknown one
    is a city that counts no hop; as the definition reads them."""
    events = [
        # "Sao Paulo " then " RIO DE JANEIRO" 30 minutes later: ~360 km, too fast
        ("SF", "S", 0, "pickup", "Sao Paulo "),
        ("SF", "S", 0.5, "transit", " RIO DE JANEIRO"),
        # a blank city between 上海 and 北京: the hop is 上海 → 北京 (1,067 km in 2 h)
        ("SF", "B", 0, "pickup", "上海"),
        ("SF", "B", 1, "transit", "  "),
        ("SF", "B", 2, "delivered", " 北京"),
        # an unknown town between them: two hops, neither counted
        ("SF", "U", 0, "pickup", "上海"),
        ("SF", "U", 1, "transit", "Nowhere"),
        ("SF", "U", 2, "delivered", "北京"),
        # the same hop as carriers write it: 上海市 → (an ideographic space) → 北京市朝阳区, and
        # in pinyin; an unknown 市 town between them still counts no hop
        ("SF", "X", 0, "pickup", "上海市"),
        ("SF", "X", 1, "transit", "\u3000"),
        ("SF", "X", 2, "delivered", "北京市朝阳区"),
        ("SF", "P", 0, "pickup", "Shanghai"),
        ("SF", "P", 2, "delivered", "BEIJING"),
        ("SF", "V", 0, "pickup", "上海市"),
        ("SF", "V", 1, "transit", "某某市"),
        ("SF", "V", 2, "delivered", "北京市"),
    ]
    con = _store_of(tiny_store, events)
    monkeypatch.setattr(ship004, "STREAM_BATCH_ROWS", batch_rows)
    with duckdb_tables(con) as t:
        spellings = ship004.city_spellings(t)
        expected = _rows(t, ship004._fastest_legs_exact(t.tracking_events, 100.0, spellings))
        streamed = ship004._fastest_by_hash_streamed(t, 100.0)
        assert streamed is not None
        assert not any(r["tie"] for r in t.to_arrow(streamed).to_pylist())  # all from the pass
        got = _rows(t, ship004._fastest_legs_expr(t, 100.0))
    assert got == expected
    speeds = {n: v for _, n, v in expected}
    assert set(speeds) == {"S", "B", "X", "P"}
    assert speeds["S"] > 600 and 500 < speeds["B"] < 600
    assert speeds["X"] == speeds["P"] == speeds["B"]
