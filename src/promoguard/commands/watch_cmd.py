"""`promoguard watch INBOX --store S`: ingest and scan each complete batch that lands in INBOX."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.markup import escape

from promoguard.commands._common import console, emit_json, fail, stdout, user_errors
from promoguard.errors import StoreBusy, interrupted
from promoguard.safety import terminal_safe


@user_errors
def watch(
    inbox: Path = typer.Argument(..., help="Inbox folder: one sub-folder per batch, with _READY."),
    store: str = typer.Option(
        ..., "--store", help="The store batches go into: a DuckDB file or a lake folder."
    ),
    pack: str = typer.Option("cn", "--pack", help="Rule pack: cn, eu, uk, us or a pack folder."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone for timestamps without an offset."),
    watchlist: Path | None = typer.Option(
        None, "--watchlist", help="CSV of watched merchants/listings: their new findings first."
    ),
    cases: str | None = typer.Option(
        None,
        "--cases",
        help="Case database (a SQLite file or a URL): new findings open or join cases, "
        "resolved ones are noted on theirs.",
    ),
    checks: str | None = typer.Option(
        None, "--checks", help="Codes or prefixes, comma-separated (PRICE001,SHIP). Default: all."
    ),
    engine_name: str = typer.Option("duckdb", "--engine", help="duckdb or spark."),
    spark_master: str | None = typer.Option(
        None,
        "--spark-master",
        help="Spark master URL (with --engine spark; default local[*]).",
    ),
    interval: float = typer.Option(60.0, "--interval", help="Seconds between looks at INBOX."),
    once: bool = typer.Option(False, "--once", help="Handle what is waiting, then stop (cron)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per pass on stdout."),
) -> None:
    """Ingest each complete batch in INBOX (a folder with a _READY file), scan what it changed
    against the previous scan, and move it to INBOX/done or INBOX/failed (with a one-line
    .error). A stopped run resumes where it stopped; no batch is ingested twice. When the store
    fails (unreadable, a full disk) the batch stays in INBOX/processing and the command stops
    with exit code 1. A DuckDB store another process holds open is waited for (said once on
    stderr, tried again every --interval); with --once it stops the run like any other."""
    from promoguard.watch import StoreProblem, Watcher

    if interval <= 0:
        fail("--interval must be a positive number of seconds")

    def log(msg: str) -> None:
        # one line each, however long (a log file is grepped by line), never wrapped at a width
        console.print(escape(terminal_safe(msg)), soft_wrap=True)

    w = Watcher(
        inbox,
        store,
        pack=pack,
        tz=tz,
        watchlist=watchlist,
        cases_db=cases,
        engine=engine_name,
        spark_master=spark_master,
        checks=checks,
        log=log,
    )

    def show(outcomes: list, error: str | None = None, waiting: str | None = None) -> None:
        if as_json:
            obj = {"inbox": str(inbox), "batches": [o.to_dict() for o in outcomes]}
            obj.update({k: v for k, v in (("error", error), ("waiting", waiting)) if v})
            emit_json(obj)
            return
        for o in outcomes:
            stdout.print(escape(terminal_safe(o.line())), soft_wrap=True)  # a line per batch
            for a in o.alerts[:5] if o.status == "done" else []:
                mark = "watched " if a.get("watched") else ""
                stdout.print(
                    escape(
                        terminal_safe(
                            f"  {mark}{a['severity']} {a['check_code']} "
                            f"{a['entity_type']} {a['entity_id']}"
                        )
                    ),
                    soft_wrap=True,
                )

    pending = False
    waiting = False  # the store is held by another process: said once per wait
    working = False  # a pass is under way (an interrupt then leaves a batch in processing/)
    try:
        while True:
            if waiting:
                try:  # not a pass that would read, or scan, only to fail at its write
                    w.probe_store()
                except StoreBusy as exc:
                    show([], waiting=_reason(exc))
                    time.sleep(interval)
                    continue
                log("the store is free again")
                waiting = False
            try:
                working = True
                outcomes = w.run_once()
            except StoreProblem as exc:
                if not exc.busy or once:
                    # what the pass finished, then the one line saying why it stopped
                    show(exc.outcomes, _reason(exc))
                    raise
                # another process holds the DuckDB file (an analyst's scan, a duckdb shell):
                # the store is fine, so the loop waits for it rather than leaving the inbox
                # unwatched until someone restarts it; the batch stays where it is
                working = False
                show(exc.outcomes, waiting=exc.reason)
                log(f"waiting for the store, trying again every {interval:g} s: {exc.reason}")
                waiting = True
                time.sleep(interval)
                continue
            working = False
            pending = any(o.status == "pending" for o in outcomes)
            show(outcomes)
            if once:
                break
            time.sleep(interval)
    except BaseException as exc:
        if not interrupted(exc):
            raise
        if working:  # Ctrl-C mid-pass: not a clean end, though nothing is lost
            console.print(
                f"stopped during a pass: what it took stays in {inbox / 'processing'} and the "
                "next run takes it up where it stopped",
                soft_wrap=True,
            )
            raise typer.Exit(130) from None
        console.print("stopped")
    if pending:
        raise typer.Exit(1)


def _reason(exc: BaseException) -> str:
    """An error's message on one line, as --json and the log carry it."""
    return " ".join(str(exc).split())
