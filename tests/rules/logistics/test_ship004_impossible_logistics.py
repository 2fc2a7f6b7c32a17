"""SHIP004's fastest hops: the hash-partitioned pass gives the rows of the definition.

The pass orders each parcel hash's scans by time alone; parcels whose hash is shared with another
parcel, or whose scans share an instant, must be recomputed from their own scans. These cases are
built to go wrong if either recomputation were missing.
"""

from __future__ import annotations

import pytest

from promoguard.engine.backends import duckdb_tables
from promoguard.engine.cache import scan_cache
from promoguard.rules.logistics import ship004_impossible_logistics as ship004

from .helpers import order, tables

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


def _store(tiny_store):
    orders = [order(o) for o in ("a", "t", "za", "b", "c")]
    shipments = [
        ("a", "SF", "A", 500),
        ("t", "SF", "T", 500),
        ("za", "ZTO", "A", 500),
        ("b", "YTO", "B", 500),
        ("c", "JD", "C", 500),
    ]
    return tiny_store(tables(orders=orders, shipments=shipments, events=EVENTS))


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
def test_fastest_legs_equal_the_definition(tiny_store, monkeypatch, parcel_hash, in_scan):
    con = _store(tiny_store)
    monkeypatch.setattr(ship004, "_parcel_hash", parcel_hash)
    with duckdb_tables(con) as t:
        expected = _rows(t, ship004._fastest_legs_exact(t.tracking_events, 100.0))
        if in_scan:
            with scan_cache(t):
                got = _rows(t, ship004._fastest_legs(t, 100.0))
        else:
            got = _rows(t, ship004._fastest_legs_expr(t, 100.0))
    assert got == expected
    speeds = {(c, n): v for c, n, v in expected}
    assert speeds[("SF", "T")] == 1067.4
    assert ("ZTO", "A") not in speeds  # one city only
    assert speeds[("YTO", "B")] > 60_000  # 上海 → 北京 within a minute counts as one minute
    assert set(speeds) == {("SF", "A"), ("SF", "T"), ("YTO", "B")}


def test_the_pass_by_hash_marks_tied_and_shared_parcels_for_recomputation(tiny_store):
    """Which parcels the hash pass cannot order by time alone: those are recomputed."""
    con = _store(tiny_store)
    with duckdb_tables(con) as t:
        h = ship004._parcel_hash
        hashes = t.to_arrow(
            t.tracking_events.select("tracking_no", h=h(t.tracking_events.tracking_no)).distinct()
        ).to_pylist()
        by_hash = t.to_arrow(ship004._fastest_by_hash(t, 100.0)).to_pylist()
    of = {r["tracking_no"]: r["h"] for r in hashes}
    tied = {r["g_h"] for r in by_hash if r["tie"]}
    assert tied == {of["T"]}
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
    with spark_tables(con, "local[2]") as t:
        got = _rows(t, ship004._fastest_legs(t, 100.0))
    assert got == expected
    assert ("SF", "T") in {(c, n) for c, n, _ in got}
