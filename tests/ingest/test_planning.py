"""A small file's stage query is planned without DuckDB's common-subexpression pass
(``load.planned_for``): only how it is planned changes, never what ingest stores or refuses, and
the connection's own setting comes back."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import promoguard
from promoguard import store
from promoguard.ingest import ingest_dir, load, readers
from promoguard.model import TABLE_NAMES

from ._helpers import PRICE_HEADER, write

MESSY = Path(promoguard.__file__).parent / "examples" / "messy"
CSE = "common_subexpressions"


def _disabled(con) -> str:
    return con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]


def _source(path: Path) -> readers.SourceFile:
    (found,), _ = readers.discover(path.parent)
    return found


def test_a_small_file_is_planned_without_cse_and_the_setting_comes_back(tmp_path):
    path = write(tmp_path / "s", "price_observations.csv", PRICE_HEADER + "\n")
    con = store.connect(":memory:")
    with load.planned_for(con, _source(path)):
        assert _disabled(con) == CSE
    assert _disabled(con) == ""
    # a setting of the caller's own is kept beside it, and is what comes back
    con.execute("SET disabled_optimizers = 'join_order'")
    with load.planned_for(con, _source(path)):
        assert _disabled(con).split(",") == ["join_order", CSE]
    assert _disabled(con) == "join_order"
    # also when the staging fails
    with pytest.raises(RuntimeError), load.planned_for(con, _source(path)):
        raise RuntimeError("the stage query failed")
    assert _disabled(con) == "join_order"


def test_a_large_gzipped_or_parquet_file_keeps_the_pass(tmp_path, monkeypatch):
    text = PRICE_HEADER + "\n" + "L1,2026-11-11T00:00:00Z,9.90,,,,detail\n" * 200
    plain = write(tmp_path / "plain", "price_observations.csv", text)
    packed = write(tmp_path / "gz", "price_observations.csv.gz", gzip.compress(text.encode()))
    con = store.connect(":memory:")
    (tmp_path / "pq").mkdir()
    parquet = tmp_path / "pq" / "price_observations.parquet"
    con.execute(f"COPY (SELECT 1 AS x) TO '{parquet}' (FORMAT parquet)")
    # a Parquet file of a few bytes still keeps it: its bytes say little of its rows
    assert parquet.stat().st_size < load.SMALL_FILE_BYTES
    with load.planned_for(con, _source(parquet)):
        assert _disabled(con) == ""
    # a limit between the gzipped file's bytes and what it reads as
    monkeypatch.setattr(load, "SMALL_FILE_BYTES", packed.stat().st_size + 1)
    assert packed.stat().st_size * load.GZIP_RATIO > load.SMALL_FILE_BYTES
    assert plain.stat().st_size > load.SMALL_FILE_BYTES
    for path in (plain, packed):
        with load.planned_for(con, _source(path)):
            assert _disabled(con) == "", path.name
    monkeypatch.setattr(load, "SMALL_FILE_BYTES", plain.stat().st_size + 1)
    with load.planned_for(con, _source(plain)):
        assert _disabled(con) == CSE


def _everything(folder: Path) -> dict[str, list[tuple]]:
    con = store.connect(":memory:")
    try:
        ingest_dir(folder, con, tz="Asia/Shanghai")
        out = {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in TABLE_NAMES}
        out["quarantine"] = con.execute(
            "SELECT source_file, line_number, column_name, reason, raw FROM quarantine ORDER BY ALL"
        ).fetchall()
        return out
    finally:
        con.close()


def test_planning_changes_nothing_ingest_stores_or_refuses(monkeypatch):
    """The messy example (BOM, GBK, full-width digits, currency signs, mixed offsets, bad rows)
    stores and quarantines the same rows either way."""
    seen: list[str] = []
    real = load.planned_for

    def spy(con, source):
        seen.append(source.path.name)
        return real(con, source)

    monkeypatch.setattr(load, "planned_for", spy)
    planned = _everything(MESSY)
    assert len(seen) == 5  # every table file of the example was planned so
    assert sum(map(len, planned.values())) > 20 and planned["quarantine"]
    monkeypatch.setattr(load, "_small", lambda source: False)
    assert _everything(MESSY) == planned
