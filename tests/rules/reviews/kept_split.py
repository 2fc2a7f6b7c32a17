"""A store split into the rows a previous scan saw and the rows added since, as an incremental
scan sees it: three ``Tables`` on one DuckDB connection (the base rows, all rows, the new rows),
so a kept relation's fold can be held equal to its build without the scan's plumbing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from tests.support import make_store, write_rows

from promoguard.engine.base import Tables
from promoguard.engine.cache import whole
from promoguard.model import TABLES_BY_NAME


def split_store(
    path: Path, base: Mapping[str, Any], added: Mapping[str, Any]
) -> tuple[Any, Tables, Tables, Tables]:
    """(connection, base tables, all tables, new tables): ``base``'s rows first, then
    ``added``'s appended (canonical tables only grow); the new rows are those past each table's
    row count before the append, as a DuckDB file store marks them."""
    con = make_store(path, base)
    marks = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in TABLES_BY_NAME}
    write_rows(con, added)
    for t, mark in marks.items():
        con.execute(f'CREATE VIEW "_base_{t}" AS SELECT * FROM "{t}" WHERE rowid < {mark}')
        con.execute(f'CREATE VIEW "_new_{t}" AS SELECT * FROM "{t}" WHERE rowid >= {mark}')
    backend = ibis.duckdb.from_connection(con)
    return (
        con,
        Tables(backend, {t: f"_base_{t}" for t in TABLES_BY_NAME}),
        Tables(backend),
        Tables(backend, {t: f"_new_{t}" for t in TABLES_BY_NAME}),
    )


def rows(table: pa.Table) -> list[tuple]:
    """A relation's rows as a sorted list (rows are a bag: order does not matter, repeats do)."""
    return sorted(
        (tuple(r.values()) for r in table.to_pylist()),
        key=lambda r: tuple((v is None, repr(v)) for v in r),
    )


def build_and_fold(
    con: Any,
    base: Tables,
    now: Tables,
    new: Tables,
    build: Callable[[Tables], Any],
    fold: Callable[[Any, Tables, Tables], Any],
) -> tuple[pa.Table, pa.Table]:
    """(``build`` on all rows, ``fold`` of ``build`` on the base rows with the new rows): the
    previous copy is read back from a table of the store, as the next scan reads it."""
    previous = base.to_arrow(build(base))
    con.register("_kept_previous_rows", previous)
    con.execute("CREATE OR REPLACE TABLE _kept_previous AS SELECT * FROM _kept_previous_rows")
    con.unregister("_kept_previous_rows")
    previous = now.backend.table("_kept_previous")
    # (an appending fold's change, made whole as the scan's view reads it)
    folded = now.to_arrow(whole(fold(previous, now, new), previous))
    return now.to_arrow(build(now)), folded
