"""Every logistics check's evidence within a scan (read from the rows of the orders all checks
found) equals its evidence read from the whole tables."""

from __future__ import annotations

import pytest

from promoguard.engine import backends
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.base import ScanContext
from promoguard.engine.cache import scan_cache
from promoguard.engine.packs import load_pack
from promoguard.engine.registry import get
from promoguard.engine.run import _found_rows

from .helpers import order, tables

CODES = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "SHIP005", "PARCEL001")


def _store(tiny_store):
    rows = tables(
        orders=[
            order("a", listing="l_food", declared=0),
            order("b", listing="l_app", buyer="b2", declared=1),
            order("two", listing="l_app", promised=1),
            order("c", listing="l_cos", paid=10, city="北京"),
            order("own", listing="l_app"),
        ],
        shipments=[
            ("a", "ZTO", "777", 500),
            ("b", "ZTO", "777", 500),
            ("two", "ZTO", "777", 500),
            ("two", "SF", "9", 500),
            ("c", "SF", "9", 10),
            ("ghost", "SF", "9", 500),  # a shipment of an order the store does not hold
            ("own", "ZTO", "778", 500),
        ],
        events=[
            ("ZTO", "777", 30, "pickup", "杭州"),
            ("ZTO", "777", 31, "transit", "乌鲁木齐"),
            ("ZTO", "777", 60, "delivered", "上海"),
            ("SF", "9", 2, "pickup", "上海"),
            ("SF", "9", 90, "delivered", "广州"),
            ("ZTO", "778", 1, "pickup", "杭州"),
            ("ZTO", "778", 20, "delivered", "上海"),
        ],
    )
    for o in rows["orders"]:
        if o["order_id"] == "c":
            o["promised_delivery_by"] = o["paid_at"]
    return tiny_store(rows)


def _evidence(t, check, found, params, ctx) -> dict[str, list[tuple]]:
    view = backends.register_arrow(t.backend, "_f_logistics_test", found)
    try:
        return {
            name: sorted(tuple(str(v) for v in r.values()) for r in t.to_arrow(expr).to_pylist())
            for name, expr in check.evidence(t, view, params, ctx).items()
        }
    finally:
        backends.unregister(t.backend, "_f_logistics_test")


@pytest.mark.parametrize("code", CODES)
def test_evidence_in_a_scan_equals_the_whole_tables(tiny_store, code):
    con = _store(tiny_store)
    pack = load_pack("cn")
    ctx = ScanContext(pack="cn", engine="duckdb", timezone=pack.timezone)
    with duckdb_tables(con) as t:
        found = {c: _found_rows(get(c), t, pack.parameters_for(get(c)), ctx) for c in CODES}
        check, params = get(code), pack.parameters_for(get(code))
        assert found[code].num_rows, f"{code} finds nothing here: the test would be vacuous"
        plain = _evidence(t, check, found[code], params, ctx)
        with scan_cache(t) as cache:
            for c, rows in found.items():
                cache.found[c] = ("order", rows)
            scanned = _evidence(t, check, found[code], params, ctx)
    assert scanned == plain
    assert all(plain.values()), plain  # every evidence table has rows for some finding


def test_ship002_evidence_lists_the_parcels_orders_on_the_findings_platform(tiny_store):
    """Order c (shop m1, platform P1) shares SF 9 with order two (m2, P2) and with an order the
    store does not hold: P1's evidence quotes c alone and counts the two others, which a P1
    viewer may not read; order two's quotes two and counts c and the unknown one; the orders on
    ZTO 777 (a on P1, b and two on P2) likewise; a parcel shared within one platform is quoted
    whole (test_ship002_same_number_across_merchants_but_not_across_carriers)."""
    con = _store(tiny_store)
    pack = load_pack("cn")
    ctx = ScanContext(pack="cn", engine="duckdb", timezone=pack.timezone)
    check = get("SHIP002")
    with duckdb_tables(con) as t:
        found = _found_rows(check, t, pack.parameters_for(check), ctx)
        assert sorted(found.column("entity_id").to_pylist()) == ["a", "b", "c", "ghost", "two"]
        with scan_cache(t) as cache:
            cache.found["SHIP002"] = ("order", found)
            ev = _evidence(t, check, found, pack.parameters_for(check), ctx)
    # entity, carrier, tracking_no, order_id, merchant_id, ...
    quoted: dict[tuple[str, str], list[str]] = {}
    for r in ev["orders_sharing_parcel"]:
        quoted.setdefault((r[0], r[1]), []).append(r[3])
    assert {k: sorted(v) for k, v in quoted.items()} == {
        ("a", "ZTO"): ["a"],
        ("b", "ZTO"): ["b", "two"],
        ("c", "SF"): ["c"],
        ("ghost", "SF"): ["ghost"],  # (its platform unknown, as its finding's: quoted alike)
        ("two", "SF"): ["two"],  # (its first parcel by carrier: SF 9, shared with c and ghost)
    }
    # (entity_id, orders on another platform or on none the store knows)
    elsewhere = [("a", "2"), ("b", "1"), ("c", "2"), ("ghost", "2"), ("two", "2")]
    assert ev["sharing_elsewhere"] == elsewhere


def test_the_carrier_weighing_fold_equals_a_build_on_all_rows():
    """PARCEL001's kept per-carrier counts: folded from a copy on the base rows and the rows
    added (a carrier's first parcel, an unweighed parcel at a carrier that weighed, a carrier
    with no new parcel) they equal a build on all rows, types included."""
    import duckdb
    import ibis

    from promoguard.engine.base import Tables
    from promoguard.rules.logistics.parcel001_empty_parcel import (
        _weighing_of,
        fold_carrier_weighing,
    )

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE s (order_id VARCHAR, carrier VARCHAR NOT NULL, tracking_no VARCHAR, "
        "weight_grams INTEGER, new BOOLEAN)"
    )
    con.execute(
        "INSERT INTO s VALUES ('o1','SF','A',10,false), ('o1','SF','B',NULL,false), "
        "('o2','YTO','C',NULL,false), ('o3','ZTO','D',400,false), "
        "('n1','SF','E',NULL,true), ('n2','JD','F',200,true), ('n3','YTO','G',NULL,true)"
    )
    for name, where in (("base", "NOT new"), ("added", "new"), ("every", "true")):
        con.execute(f"CREATE VIEW {name}_shipments AS SELECT * EXCLUDE (new) FROM s WHERE {where}")
    backend = ibis.duckdb.from_connection(con)
    base, added, every = (
        Tables(backend, {"shipments": f"{n}_shipments"}) for n in ("base", "added", "every")
    )
    con.execute(f"CREATE TABLE prev AS {backend.compile(_weighing_of(base.shipments))}")
    folded = fold_carrier_weighing(backend.table("prev"), every, added)
    got = con.sql(f"SELECT * FROM ({backend.compile(folded)}) ORDER BY k_carrier").fetchall()
    want = con.sql(
        f"SELECT * FROM ({backend.compile(_weighing_of(every.shipments))}) ORDER BY k_carrier"
    ).fetchall()
    assert got == want == [("JD", 1, 1), ("SF", 3, 1), ("YTO", 2, 0), ("ZTO", 1, 1)]
