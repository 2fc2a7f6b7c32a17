"""`promoguard tables`: the canonical tables, their columns, types and keys."""

from __future__ import annotations

import typer
from rich.table import Table as RichTable

from promoguard import model_docs
from promoguard.commands._common import emit_json, stdout
from promoguard.model import TABLES


def tables(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the reference page (Markdown)."),
) -> None:
    """List the canonical tables: columns, types, keys and which columns are required."""
    if as_json:
        emit_json(model_docs.as_dict())
        return
    if markdown:
        typer.echo(model_docs.render_markdown(), nl=False)
        return
    grid = RichTable(title="Canonical tables", show_lines=False)
    for col in ("table", "key", "required columns", "optional columns"):
        grid.add_column(col)
    for t in TABLES:
        optional = [c.name for c in t.columns if c.nullable]
        grid.add_row(t.name, ", ".join(t.key), ", ".join(t.required), ", ".join(optional))
    stdout.print(grid)
