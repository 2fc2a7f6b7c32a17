"""`promoguard report`: one self-contained HTML file of a scan's findings."""

from __future__ import annotations

from pathlib import Path

import typer

from promoguard.commands._common import console, emit_json, user_errors


@user_errors
def report(
    store: Path = typer.Option(..., "--store", help="The DuckDB store that holds the scan."),
    out: Path = typer.Option(Path("report.html"), "--out", help="Where to write the HTML."),
    scan_id: str | None = typer.Option(None, "--scan", help="Scan id (default: the latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Write an HTML report (opens offline: inline CSS and SVG, no scripts) of a scan."""
    from promoguard.report import build_report
    from promoguard.safety import refuse_overwrite

    refuse_overwrite(out, ("store", store))
    with console.status("writing the report"):
        path = build_report(store, out, scan_id)
    if as_json:
        emit_json({"report": str(path), "bytes": path.stat().st_size, "scan_id": scan_id})
        return
    console.print(f"report written to {path}")
