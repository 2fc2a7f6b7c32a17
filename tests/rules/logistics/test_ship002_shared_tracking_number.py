"""SHIP002's evidence within a scan (read from the found orders' rows) equals its evidence read
from the whole tables."""

from __future__ import annotations

import pyarrow as pa

from promoguard.engine import backends
from promoguard.engine.backends import duckdb_tables
from promoguard.engine.base import ScanContext
from promoguard.engine.cache import scan_cache
from promoguard.engine.packs import load_pack
from promoguard.engine.registry import get
from promoguard.engine.run import _found_rows

from .helpers import order, tables


def _evidence(t, check, found: pa.Table, params) -> dict[str, list[dict]]:
    ctx = ScanContext(pack="cn", engine="duckdb", timezone="Asia/Shanghai")
    view = backends.register_arrow(t.backend, "_f_ship002_test", found)
    try:
        out = {}
        for name, expr in check.evidence(t, view, params, ctx).items():
            rows = t.to_arrow(expr).to_pylist()
            out[name] = sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))
        return out
    finally:
        backends.unregister(t.backend, "_f_ship002_test")


def test_evidence_in_a_scan_equals_the_whole_tables(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("a", listing="l_food"),
                order("b", listing="l_app", buyer="b2"),
                order("two", listing="l_app"),  # on two shared parcels: one finding
                order("c", listing="l_app"),
                order("own", listing="l_app"),  # not shared: not found
                order("other_check", listing="l_app", declared=0),  # SHIP001's only
            ],
            shipments=[
                ("a", "ZTO", "777", 500),
                ("b", "ZTO", "777", 500),
                ("two", "ZTO", "777", 500),
                ("two", "SF", "9", 500),
                ("c", "SF", "9", 500),
                ("ghost", "SF", "9", 500),  # a shipment of an order the store does not hold
                ("own", "ZTO", "778", 500),
                ("other_check", "YTO", "1", 500),
            ],
        )
    )
    pack = load_pack("cn")
    ship002, ship001 = get("SHIP002"), get("SHIP001")
    params = pack.parameters_for(ship002)
    ctx = ScanContext(pack="cn", engine="duckdb", timezone=pack.timezone)
    with duckdb_tables(con) as t:
        found = _found_rows(ship002, t, params, ctx)
        assert sorted(found.column("entity_id").to_pylist()) == ["a", "b", "c", "ghost", "two"]
        plain = _evidence(t, ship002, found, params)
        with scan_cache(t) as cache:
            cache.found["SHIP002"] = ("order", found)
            cache.found["SHIP001"] = (
                "order",
                _found_rows(ship001, t, pack.parameters_for(ship001), ctx),
            )
            scanned = _evidence(t, ship002, found, params)
    assert scanned == plain
    sharing = [r for r in plain["orders_sharing_parcel"] if r["entity_id"] == "c"]
    assert sorted(r["order_id"] for r in sharing) == ["c", "ghost", "two"]
    assert [r["merchant_id"] for r in sharing if r["order_id"] == "ghost"] == [None]
