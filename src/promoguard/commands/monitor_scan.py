"""`scan --since` / `scan --watchlist`: the daily monitoring loop's scan and what changed."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table as RichTable

from promoguard import engine, incremental, lake, monitor
from promoguard import store as store_mod
from promoguard.commands._common import console, emit_json, stdout
from promoguard.safety import make_private, terminal_safe, write_csv

ALERTS_SHOWN = 20


def ran_otherwise_text(since: str, changed: dict[str, list[str]]) -> str:
    """One line naming the checks the scan since ran otherwise (``info["changed"]``), grouped by
    what differs: those ran on the whole store, none of their findings carried."""
    by_why: dict[str, list[str]] = {}
    for code, why in changed.items():
        by_why.setdefault(", ".join(why), []).append(code)
    parts = [
        f"{', '.join(codes) if len(codes) <= 5 else f'{len(codes)} checks'} ({why})"
        for why, codes in by_why.items()
    ]
    return f"run on the whole store, not carried from {since}: " + "; ".join(parts)


def monitor_scan(
    store: Path,
    pack: str,
    engine_name: str,
    spark_master: str | None,
    checks: str | None,
    out: Path | None,
    as_json: bool,
    since: str | None,
    watchlist: Path | None,
) -> None:
    watch = monitor.read_watchlist(watchlist) if watchlist is not None else None
    info = None
    if since is not None:
        result, info = incremental.scan_since(
            store, pack, since, checks=checks, engine=engine_name, spark_master=spark_master
        )
    else:
        result = (lake.scan if lake.is_lake(store) else engine.scan)(
            store, pack, engine=engine_name, checks=checks, spark_master=spark_master
        )
    written = None
    if out is not None:  # as `scan` writes them: formula-safe CSV cells, owner-only files
        if out.suffix.lower() == ".csv":
            written = str(write_csv(result.findings, out))
        else:
            written = str(make_private(engine.write_findings(result.findings, out)))
    con = store_mod.connect(store, read_only=True)
    try:
        if watch is None:  # no file given: the store's own watchlist table, if it keeps one
            watch = monitor.store_watchlist(con)
        delta = monitor.delta(
            con, result.scan_id, previous=info["since"] if info else None, watch=watch
        )
    finally:
        con.close()
    summary = result.summary()
    summary.update(
        store=str(store),
        out=written,
        seal=result.seal,
        incremental=info,
        changes=monitor.summary(delta),
    )
    # every new finding, the watched ones first (delta's order: watched, then by severity)
    alerts = delta[delta.change == "new"]
    if as_json:
        summary["alerts"] = alerts.head(ALERTS_SHOWN)[
            ["check_code", "severity", "entity_type", "entity_id", "merchant_id", "watched"]
        ].to_dict(orient="records")
        emit_json(summary)
        return
    c = summary["changes"]
    # the summary is the command's answer: stdout; the seal and file notes are diagnostics
    stdout.print(
        f"{escape(result.scan_id)}: {len(result.findings)} findings; "
        f"{c['new']} new, {c['still']} still present, {c['resolved']} resolved"
        + (
            f"; {c['new_watched']} new on the watchlist ({c['new_watched_high']} high)"
            if watch
            else ""
        )
    )
    if info:
        scoped = [
            f"{s['keys']:,} {group}(s) re-checked"
            for group, s in info.get("scopes", {}).items()
            if s["full_because"] is None and s["keys"] is not None
        ]
        stdout.print(
            f"since {escape(info['since'])}: {info['batches']} batch(es); "
            + (
                f"{', '.join(scoped)}, {info['carried']:,} finding(s) carried; "
                if info["rechecked_local"]
                else f"scoped checks on the whole store ({escape(info['full_because'] or '')}); "
            )
            + f"{len(info['rerun_season'])} check(s) re-run on the whole store"
        )
        if info.get("changed"):
            stdout.print(escape(ran_otherwise_text(info["since"], info["changed"])))
    grid = RichTable(title="new findings" + (" (watched first)" if watch else ""))
    for col in ("check", "severity", "entity", "merchant", "watched"):
        grid.add_column(col)
    for r in alerts.head(ALERTS_SHOWN).itertuples():
        grid.add_row(
            r.check_code,
            r.severity,
            escape(terminal_safe(f"{r.entity_type} {r.entity_id}")),
            escape(terminal_safe(r.merchant_id or "")),
            "yes" if r.watched else "",
        )
    stdout.print(grid)
    if written:
        console.print(f"findings written to {escape(written)}")
