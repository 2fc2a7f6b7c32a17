"""`promoguard report`: one self-contained HTML file of a scan's findings."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from promoguard.commands._common import console, emit_json, fail, stdout, user_errors


@user_errors
def report(
    store: Path = typer.Option(..., "--store", help="The DuckDB store that holds the scan."),
    out: Path = typer.Option(Path("report.html"), "--out", help="Where to write the HTML."),
    scan_id: str | None = typer.Option(
        None, "--scan", help="Scan id (default: the latest complete scan)."
    ),
    merchant: str | None = typer.Option(
        None, "--merchant", help="Only this merchant's findings (a report to hand to it)."
    ),
    lang: str = typer.Option("en", "--lang", help="Language of the report: en or zh."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Write an HTML report (opens offline: inline CSS and SVG, no scripts) of a scan."""
    from promoguard.report.build import write_report
    from promoguard.report.i18n import LANGS
    from promoguard.safety import refuse_overwrite

    if lang not in LANGS:
        fail(f"--lang takes {', '.join(LANGS)}, not {lang!r}")
    refuse_overwrite(out, ("store", store))
    if out.suffix.lower() not in (".html", ".htm"):  # as scan's --out names its format
        fail(f"--out is the report's HTML file: it ends in .html, not {out.suffix or '(nothing)'}")
    with console.status("writing the report"):
        written = write_report(store, out, scan_id, merchant=merchant, lang=lang)
    path, choice = written.path, written.choice
    if as_json:
        emit_json(
            {
                "report": str(path),
                "bytes": path.stat().st_size,
                "scan_id": choice.scan.scan_id,
                "scan": choice.scan.to_dict(),
                "chosen_because": choice.reason,
                "merchant": merchant,
                "lang": lang,
            }
        )
        return
    stdout.print(f"report of {escape(choice.describe())}")
    stdout.print(f"written to {escape(str(path))}")
