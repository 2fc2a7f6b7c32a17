"""`promoguard checks` (the registry as a table, JSON or Markdown) and `promoguard explain CODE`."""

from __future__ import annotations

import json

import typer
from rich.markdown import Markdown
from rich.table import Table as RichTable

from promoguard.commands._common import console, emit_json, user_errors
from promoguard.engine import docs, registry
from promoguard.engine.packs import load_pack


@user_errors
def checks(
    pack: str | None = typer.Option(
        None, "--pack", help="Only the checks this pack enables (cn, eu, uk, us or a folder)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    markdown: bool = typer.Option(
        False, "--markdown", help="Print docs/checks.md: every rule page for every pack."
    ),
) -> None:
    """List the registered checks: code, name, family, severity and title."""
    if markdown:
        typer.echo(docs.render_markdown(), nl=False)
        return
    chosen = registry.all_checks()
    the_pack = load_pack(pack) if pack else None
    if the_pack is not None:
        enabled = set(the_pack.enabled_codes())
        chosen = [c for c in chosen if c.code in enabled]
    rows = [
        {
            "code": c.code,
            "name": c.name,
            "family": c.family,
            "entity_type": c.entity_type,
            "severity": the_pack.severity_for(c) if the_pack else c.severity,
            "title": c.title,
        }
        for c in chosen
    ]
    if as_json:
        emit_json({"checks": rows, "pack": the_pack.name if the_pack else None})
        return
    title = f"Checks enabled in pack {the_pack.name}" if the_pack else "Registered checks"
    grid = RichTable(title=title)
    for col in ("code", "name", "family", "severity"):
        grid.add_column(col, no_wrap=True)
    grid.add_column("title")
    for r in rows:
        grid.add_row(r["code"], r["name"], r["family"], r["severity"], r["title"])
    console.print(grid)


@user_errors
def explain(
    code: str = typer.Argument(..., help="A check code, e.g. PRICE001."),
    pack: str | None = typer.Option(
        None, "--pack", help="Show only this pack's legal basis and values (default: every pack)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Print a check's rule page: what, why, legal basis per jurisdiction, example, parameters."""
    check = registry.get(code)
    packs = [load_pack(pack)] if pack else docs._packs()
    if as_json:
        emit_json(json.loads(json.dumps(docs.check_record(check, packs), default=str)))
        return
    text = docs.render_check_markdown(check, packs, level=1)
    console.print(Markdown(text))
