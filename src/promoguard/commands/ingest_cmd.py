"""`promoguard ingest DIR --store FILE`: validate a folder of table files and load it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from promoguard import lake
from promoguard.commands._common import emit_json, stdout, user_errors
from promoguard.ingest import IngestReport, ingest_dir
from promoguard.safety import terminal_safe


def _shown(text: str) -> str:
    """An untrusted name (a file name, a header) fit for the terminal and free of rich markup."""
    return escape(terminal_safe(text))


#: the longest extra column name shown whole on the terminal (a header may be any length: a
#: misread file's first line is one name; ``--json`` gives the names whole)
NAME_SHOWN = 80


def _short(name: str) -> str:
    """``name`` as shown among the extra columns: cut, and said how long, past NAME_SHOWN."""
    if len(name) <= NAME_SHOWN:
        return name
    return f"{name[: NAME_SHOWN - 20]}… ({len(name):,} characters)"


def _summary(report: IngestReport) -> RichTable:
    grid = RichTable(title=f"ingest {report.ingest_id}", title_justify="left")
    for name in ("table", "read", "stored", "unchanged", "quarantined", "orphans"):
        grid.add_column(name, justify="left" if name == "table" else "right")
    for name, c in report.tables.items():
        grid.add_row(
            name, *(str(v) for v in (c.read, c.stored, c.unchanged, c.quarantined, c.orphans))
        )
    t = report.totals
    grid.add_row(
        "[bold]total[/bold]",
        *(str(v) for v in (t.read, t.stored, t.unchanged, t.quarantined, t.orphans)),
    )
    return grid


@user_errors
def ingest(
    src: Path = typer.Argument(..., help="Folder holding table files (orders.csv, ...)."),
    store: str = typer.Option(
        ...,
        "--store",
        help="DuckDB store file (created if missing), or a Parquet lake: an existing folder "
        "or a new one written with a trailing '/'.",
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone for timestamps without an offset."),
    encoding: str = typer.Option(
        None, "--encoding", help="Encoding of CSV/JSONL files (default: detect; e.g. gb18030)."
    ),
    adapter: str = typer.Option(
        None,
        "--adapter",
        help="Convert another export format first (olist: the Olist public export).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Validate every canonical table file in SRC, store good rows, quarantine bad ones.

    All or nothing: a file missing a required column (or any other failure) leaves the store
    unchanged. Rows read = rows stored + rows quarantined.
    """
    if lake.is_lake(store):
        report = lake.ingest(
            src, store, tz=tz, encoding=encoding, adapter=adapter, progress=not as_json
        )
    else:
        report = ingest_dir(
            src, Path(store), tz=tz, encoding=encoding, adapter=adapter, progress=not as_json
        )
    if as_json:
        emit_json(report.to_dict())
        return
    stdout.print(_summary(report))
    for f in report.files:
        if f.extra_columns:
            more = [f"and {f.extra_columns_more} more"] if f.extra_columns_more else []
            extra = _shown(", ".join([*map(_short, f.extra_columns), *more]))
            stdout.print(f"{_shown(f.file)}: extra columns ignored: {extra}")
        for note in f.notes:
            stdout.print(f"{_shown(f.file)}: {_shown(note)}")
        if f.encoding not in ("utf-8", "parquet"):
            stdout.print(f"{_shown(f.file)}: read as {_shown(f.encoding)}")
    if report.ignored:
        stdout.print(f"ignored (not a table file): {_shown(', '.join(report.ignored))}")
    if report.totals.quarantined:
        where = f"WHERE ingest_id = '{report.ingest_id}'"  # a uuid we made
        stdout.print(f"{report.totals.quarantined} row(s) quarantined: see quarantine {where}")
