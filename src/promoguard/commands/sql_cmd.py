"""`promoguard sql --store FILE "SELECT ..."`: a read-only query of the store, no client needed."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import duckdb
import typer
from rich import box
from rich.markup import escape
from rich.table import Table as RichTable

from promoguard.commands._common import emit_json, fail, stdout, user_errors


def _open(store: Path) -> duckdb.DuckDBPyConnection:
    if not store.exists():
        fail(f"no store at {store}; run `promoguard ingest` first")
    if store.is_dir():
        return _open_lake(store)
    try:
        con = duckdb.connect(str(store), read_only=True)
    except duckdb.Error as exc:
        fail(f"cannot open the store {store}: {str(exc).splitlines()[0]}")
    # read-only all the way: no writing files (COPY ... TO), reading other files, extensions or
    # attaching other databases; and the query cannot switch these back on
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _open_lake(root: Path) -> duckdb.DuckDBPyConnection:
    """A Parquet lake: its views (an in-memory database over the lake's files), allowed to read
    the lake's folder and nothing else. The views' database is not read-only, so the query itself
    is held to one SELECT (a COPY ... TO inside the lake would write to it)."""
    from promoguard import lake
    from promoguard import store as store_mod

    if not lake.is_lake(root):
        fail(f"--store {root} is a folder, not a DuckDB store file (nor a lake: no manifest)")
    try:
        con = store_mod.connect(root, read_only=True)
    except Exception as exc:  # noqa: BLE001 - one line, whatever the lake's fault
        fail(f"cannot open the lake {root}: {str(exc).splitlines()[0]}")
    con.execute("SET allowed_directories = [?]", [str(root.resolve()) + "/"])
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _only_select(con: duckdb.DuckDBPyConnection, query: str) -> None:
    try:
        kinds = [st.type for st in con.extract_statements(query)]
    except duckdb.Error as exc:
        fail(f"query failed: {' '.join(str(exc).split())}")
    if len(kinds) != 1 or kinds[0] != duckdb.StatementType.SELECT:
        fail("on a lake, `promoguard sql` runs one SELECT (SHOW and DESCRIBE too), nothing else")


@user_errors
def sql(
    query: str = typer.Argument(..., help='The query, e.g. "SELECT * FROM findings LIMIT 5".'),
    store: Path = typer.Option(..., "--store", help="The DuckDB store or Parquet lake."),
    limit: int = typer.Option(
        100, "--limit", help="Rows printed in the table (0: all); --csv and --json print all."
    ),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV (with a header) on stdout."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Run one read-only SQL query on the store (DuckDB dialect) and print the rows.

    The canonical tables, quarantine, ingest_log, scans, findings and evidence are there under
    their own names. Nothing can be written: the store is opened read-only.
    """
    con = _open(store)
    try:
        if store.is_dir():
            _only_select(con, query)
        try:
            cur = con.execute(query)
        except duckdb.Error as exc:
            fail(f"query failed: {' '.join(str(exc).split())}")
        if cur.description is None:
            fail("the statement returned no rows (only queries are run here)")
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    if as_json:
        emit_json({"columns": columns, "rows": [list(r) for r in rows], "count": len(rows)})
        return
    if as_csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        return
    shown = rows if not limit else rows[:limit]
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for c in columns:
        grid.add_column(escape(str(c)), overflow="fold")
    for r in shown:
        grid.add_row(*(escape("" if v is None else str(v)) for v in r))
    stdout.print(grid)
    more = (
        f" ({len(shown)} shown; --limit 0 for all, --csv or --json)"
        if len(shown) < len(rows)
        else ""
    )
    stdout.print(f"{len(rows)} row(s){more}")
