"""`promoguard verify`: re-hash every finding and evidence document of a store; name what differs."""

from __future__ import annotations

from pathlib import Path

import typer

from promoguard import store as store_mod
from promoguard.commands._common import console, emit_json, user_errors
from promoguard.safety import terminal_safe


@user_errors
def verify(
    store: Path = typer.Option(..., "--store", help="The DuckDB store to check."),
    scan_id: str | None = typer.Option(None, "--scan", help="Only this scan (default: all)."),
    expect: str | None = typer.Option(
        None, "--expect", help="The scan seal kept outside the store (printed by `scan`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Check that no finding, evidence document or scan was changed, removed or added.

    Exits 0 when everything verifies, 1 when anything does not (each one is named on stdout).
    """
    from promoguard import integrity

    with store_mod.open_store(store, read_only=True) as con:
        result = integrity.verify(con, scan_id, expect)
    if as_json:
        emit_json(result.to_dict())
        if not result.ok:  # a script reads stdout; a person or a log still gets the one line
            first = terminal_safe(str(result.problems[0])) if result.problems else ""
            console.print(
                f"promoguard: the store does not verify: {len(result.problems)} problem(s)"
                + (f", the first: {first}" if first else ""),
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    else:
        for problem in result.problems:
            typer.echo(terminal_safe(str(problem)))
        state = "verifies" if result.ok else f"DOES NOT VERIFY: {len(result.problems)} problem(s)"
        console.print(
            f"{result.scans} scan(s), {result.findings} finding(s), {result.evidence} evidence "
            f"document(s): {state}"
        )
    if not result.ok:
        raise typer.Exit(1)
