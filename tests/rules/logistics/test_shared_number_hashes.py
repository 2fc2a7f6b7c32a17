"""The hashes of the tracking numbers two or more shipment rows have (SHIP002's first pass, kept
from a saved scan to the next): folded with the rows added since, they must be exactly what
building them on the whole season gives."""

from __future__ import annotations

import ibis
import pytest
from tests.support import make_store, write_rows

from promoguard.engine import cache as cache_mod
from promoguard.engine.base import Tables
from promoguard.engine.cache import scan_cache
from promoguard.rules import _relations


def _ship(order_id: str, number: str | None, carrier: str = "ZTO") -> dict:
    return {"order_id": order_id, "carrier": carrier, "tracking_no": number}


#: the base: 777 on two rows (shared), 500 and 600 on one each
BASE = [_ship("a", "777"), _ship("b", "777"), _ship("e", "500"), _ship("f", "600")]
#: the day: 500 gets a second row (shared across the mark: one old row, one new), 888 two new
#: rows, 999 one, 777 a third (another carrier's: the hash is the number's alone); 600 stays
#: alone
DAY = [
    _ship("d", "500"),
    _ship("h", "888"),
    _ship("i", "888"),
    _ship("j", "999"),
    _ship("k", "777", carrier="SF"),
]


def _hashes(con, *numbers: str) -> set[int]:
    """The numbers' hashes as Ibis gives them on DuckDB (the bits of ``hash`` as a BIGINT)."""
    sql = "SELECT CAST(CAST(hash(?::VARCHAR) AS BIT) AS BIGINT)"
    return {con.execute(sql, [n]).fetchall()[0][0] for n in numbers}


def _relation(tables: Tables, previous=None, new: Tables | None = None) -> set[int]:
    """The relation in a scan: built, or (``previous``, a copy) folded with ``new``."""
    got = {}
    real = cache_mod.shared

    def shared(tables, key, build, fold=None):
        make = build
        if previous is not None and key == _relations.SHIPMENT_SHARED_HASHES:
            make = lambda: fold(previous, tables, new)  # noqa: E731
        out = real(tables, key, make)
        got[key] = out
        return out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_relations, "shared", shared)
        with scan_cache(tables):
            t = _relations.shared_number_hashes(tables)
            rows = tables.to_arrow(t)
    assert rows.column_names == ["h"]
    values = rows.column("h").to_pylist()
    assert len(values) == len(set(values))  # each hash once
    assert _relations.SHIPMENT_SHARED_HASHES in got
    return set(values)


@pytest.mark.parametrize("day", [DAY, [], DAY[:1]])
def test_the_fold_gives_what_the_season_built_whole_gives(tmp_path, day):
    con = make_store(tmp_path / "s.duckdb", {"shipments": BASE})
    try:
        mark = con.execute("SELECT count(*) FROM shipments").fetchall()[0][0]
        if day:
            write_rows(con, {"shipments": day})
        con.execute(f"CREATE VIEW base_s AS SELECT * FROM shipments WHERE rowid < {mark}")
        con.execute(f"CREATE VIEW new_s AS SELECT * FROM shipments WHERE rowid >= {mark}")
        backend = ibis.duckdb.from_connection(con)
        before = _relation(Tables(backend, {"shipments": "base_s"}))
        assert before == _hashes(con, "777")
        con.execute("CREATE TABLE _copy (h BIGINT)")
        con.executemany("INSERT INTO _copy VALUES (?)", [[h] for h in before])
        season = Tables(backend)
        folded = _relation(season, backend.table("_copy"), Tables(backend, {"shipments": "new_s"}))
        built = _relation(season)
        assert folded == built
        want = {"777"} | ({"500", "888"} if len(day) > 1 else {"500"} if day else set())
        assert built == _hashes(con, *want)
    finally:
        con.close()
