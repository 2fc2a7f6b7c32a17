"""benchmarks/city_spellings.py's written store: the same season with its cities spelt as shops
and carriers spell them, which the logistics checks must read as the same cities."""

from __future__ import annotations

import duckdb
from tests.support import load_benchmark

bench = load_benchmark("city_spellings.py", "city_spellings_bench")


def test_the_written_store_spells_the_cities_otherwise_and_the_checks_find_the_same(tmp_path):
    bare, written = tmp_path / "bare.duckdb", tmp_path / "written.duckdb"
    bench.generate(bare, 3000)
    bench.write_spellings(bare, written)
    spellings = {}
    for name, path in (("bare", bare), ("written", written)):
        con = duckdb.connect(str(path), read_only=True)
        spellings[name] = (
            {c for (c,) in con.execute("SELECT DISTINCT city FROM tracking_events").fetchall()},
            {c for (c,) in con.execute("SELECT DISTINCT ship_to_city FROM orders").fetchall()},
        )
        con.close()
    # every way of writing a city the benchmark means to time is there
    scans, dests = spellings["written"]
    assert {"上海", "上海市", "上海市高新区", "重庆市"} <= scans
    assert "重庆市高新区" not in scans  # a district of 重庆 is a place of its own
    assert {"上海", "上海市", "Shanghai"} <= dests and any(d.startswith("江南省") for d in dests)
    assert len(scans) > 2 * len(spellings["bare"][0])
    got = {name: bench.run_duckdb(str(path)) for name, path in (("bare", bare), ("w", written))}
    assert got["bare"]["found"] == got["w"]["found"]
    assert got["bare"]["SHIP004"] == got["w"]["SHIP004"] and got["bare"]["SHIP004"]
