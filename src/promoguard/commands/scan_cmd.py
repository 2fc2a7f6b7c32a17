"""`promoguard scan`: run a pack's checks on a store, keep the findings, write them out."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table as RichTable

from promoguard import engine, exports, lake
from promoguard.commands._common import (
    console,
    emit_json,
    fail,
    progress_bar,
    stdout,
    user_errors,
    writable_file,
)
from promoguard.safety import refuse_overwrite


@user_errors
def scan(
    store: Path = typer.Option(
        ..., "--store", help="The store written by `ingest`: a DuckDB file or a lake folder."
    ),
    pack: str = typer.Option(..., "--pack", help="Rule pack: cn, eu, uk, us or a pack folder."),
    engine_name: str = typer.Option("duckdb", "--engine", help="duckdb or spark."),
    spark_master: str | None = typer.Option(
        None,
        "--spark-master",
        help="Spark master URL (with --engine spark; default local[*]).",
    ),
    checks: str | None = typer.Option(
        None, "--checks", help="Codes or prefixes, comma-separated (PRICE001,SHIP). Default: all."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Also write the findings here: .parquet, .csv (UTF-8 with BOM, for Excel), .jsonl "
        "or .xlsx (observed/expected one column per field).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    since: str | None = typer.Option(
        None,
        "--since",
        help="Re-check only what the rows ingested since this scan (a scan id, or 'last') can "
        "change; report new, still-present and resolved findings (a lake or a DuckDB file).",
    ),
    watchlist: Path | None = typer.Option(
        None, "--watchlist", help="CSV of watched merchants/listings: their new findings first."
    ),
) -> None:
    """Scan a store with a rule pack; findings go into the store (and to --out)."""
    if out is not None and out.suffix.lower() not in exports.FORMATS:
        fail(f"--out must end in {', '.join(exports.FORMATS)}, not {out.suffix or '(none)'}")
    if out is not None:
        refuse_overwrite(out, ("store", store), ("pack", Path(pack)))
        # before the scan, not after: a scan saved and then an --out it cannot write made a
        # script that retried pile up scans
        writable_file(out)
    if since is not None or watchlist is not None:
        from promoguard.commands.monitor_scan import monitor_scan

        monitor_scan(store, pack, engine_name, spark_master, checks, out, as_json, since, watchlist)
        return
    with progress_bar(enabled=not as_json) as progress:
        result = (lake.scan if lake.is_lake(store) else engine.scan)(
            store,
            pack,
            engine=engine_name,
            checks=checks,
            spark_master=spark_master,
            progress=progress,
        )
    seal = result.seal  # sealed in the scan's own transaction (a lake: in its batch)
    written = None
    if out is not None:
        # owner-only, formula-safe cells (findings quote merchants' names and texts)
        about = {"scan_id": result.scan_id, "pack": result.pack, "engine": result.engine}
        written = str(exports.write_findings(result.findings, out, scan=about))
    summary = result.summary()
    summary["store"] = str(store)
    summary["out"] = written
    summary["seal"] = seal
    if as_json:
        emit_json(summary)
        return
    grid = RichTable(title=f"{result.scan_id} — pack {result.pack} on {result.engine}")
    for col in ("check", "findings", "seconds", "checked"):
        grid.add_column(col, justify="left" if col in ("check", "checked") else "right")
    for run in result.runs:
        cover = result.coverage.get(run.code)
        skipped = bool(cover) and cover.get("status") == "skipped"
        # "not checked" is not "0 findings": a check without its data found nothing because it
        # could not look
        grid.add_row(
            run.code,
            "—" if skipped else str(run.findings),
            f"{run.seconds:.2f}",
            engine.coverage_text(cover),
        )
    grid.add_row("total", str(result.finding_count), "", "")
    stdout.print(grid)
    skipped = result.summary()["not_checked"]
    if skipped:
        stdout.print(
            f"{len(skipped)} check(s) not checked for want of data: "
            + "; ".join(f"{c} {engine.coverage_text(result.coverage[c])}" for c in skipped)
        )
    if written:
        stdout.print(f"findings written to {written}")
    console.print(f"scan seal {seal} (keep it: `promoguard verify --expect` checks against it)")
