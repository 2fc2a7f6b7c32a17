"""`promoguard demo`: the whole pipeline on a simulated Double-11 season, end to end.

The demo drives the same commands a user would type (simulate, ingest, scan, report, evaluate), so
what it shows is exactly what the command line does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table as RichTable

from promoguard.commands._common import console, emit_json, fail, stdout, user_errors


def _step(ctx: typer.Context, label: str, args: list[str]) -> dict[str, Any]:
    """Run one promoguard command in-process with --json and return its JSON object.

    The command line is the root of the running context (the ``promoguard`` group this command
    was called from), so this module needs no import of ``cli.py``, which imports it.
    """
    command = ctx.find_root().command
    buffer = io.StringIO()
    started = time.perf_counter()
    # with --json stdout carries the one object only: the steps are diagnostics then (stderr)
    say = console if ctx.params.get("as_json") else stdout
    say.print(f"[bold]→ {label}[/bold]  promoguard {' '.join(args)}")
    try:
        with contextlib.redirect_stdout(buffer):
            command.main([*args, "--json"], prog_name="promoguard", standalone_mode=False)
    except typer.Exit as exc:
        if exc.exit_code:
            fail(f"demo step '{label}' failed (exit {exc.exit_code})")
    except typer.exceptions.TyperException as exc:
        fail(f"demo step '{label}' failed: {exc.format_message()}")
    seconds = time.perf_counter() - started
    text = buffer.getvalue().strip()
    result = json.loads(text.splitlines()[-1]) if text else {}
    say.print(f"  done in {seconds:.1f} s")
    return result


@user_errors
def demo(
    ctx: typer.Context,
    out: Path = typer.Option(
        Path("demo-output"), "--out", help="Folder for everything the demo writes."
    ),
    scale: str = typer.Option("small", "--scale", help="Simulator scale: small, medium or city."),
    seed: int = typer.Option(11, "--seed", help="Simulator seed (same seed, same season)."),
    pack: str = typer.Option("cn", "--pack", help="Rule pack to scan with."),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb or spark."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Simulate a Double-11 season, ingest it, scan it, write the report, and score the scan."""
    out.mkdir(parents=True, exist_ok=True)
    season = out / "season"
    store = out / "promoguard.duckdb"
    findings = out / "findings.parquet"
    report = out / "report.html"
    cases_db = out / "cases.db"
    notice = out / "notice.html"
    for stale in (store, Path(f"{store}.wal"), cases_db, Path(f"{cases_db}-wal")):
        stale.unlink(missing_ok=True)  # the demo always starts from a fresh store

    sim = _step(
        ctx,
        "simulate a Double-11 season",
        ["simulate", "--scale", scale, "--seed", str(seed), "--out", str(season)],
    )
    ing = _step(ctx, "ingest it into the store", ["ingest", str(season), "--store", str(store)])
    scn = _step(
        ctx,
        f"scan it with the {pack} pack on {engine}",
        ["scan", "--store", str(store), "--pack", pack, "--engine", engine, "--out", str(findings)],
    )
    rep = _step(ctx, "write the report", ["report", "--store", str(store), "--out", str(report)])
    ev = _step(
        ctx,
        "score the scan against the simulator's ground truth",
        ["evaluate", "--findings", str(findings), "--truth", str(season / "ground_truth.csv")],
    )
    db = f"sqlite:///{cases_db}"
    opened = _step(
        ctx, "open cases from the scan", ["cases", "open", "--store", str(store), "--db", db]
    )
    top = None
    if opened.get("opened_ids"):
        queue = _step(ctx, "the case queue, most urgent first", ["cases", "list", "--db", db])
        top = queue["items"][0]["case_id"]
        _step(ctx, "assign the top case", ["cases", "assign", top, "--to", "demo", "--db", db])
        deadline = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)).isoformat()
        _step(
            ctx,
            "issue its guidance notice",
            ["cases", "guide", top, "--deadline", deadline, "--out", str(notice), "--db", db],
        )
    web = _web_users(out, db, store)
    summary = {
        "out": str(out),
        "cases_db": db,
        "cases_opened": opened.get("opened", 0),
        "top_case": top,
        "notice": str(notice) if top else None,
        "season": str(season),
        "store": str(store),
        "findings_file": str(findings),
        "report": str(report),
        "simulate": sim,
        "ingest": ing,
        "scan": scn,
        "report_result": rep,
        "evaluate": ev,
        "web": web,
    }
    if as_json:
        emit_json(summary)
        return
    grid = RichTable(title="PromoGuard demo: what was written")
    grid.add_column("what")
    grid.add_column("where")
    grid.add_row("simulated season (tables + ground_truth.csv)", str(season))
    grid.add_row("store (DuckDB: SELECT * FROM findings)", str(store))
    grid.add_row("findings", str(findings))
    grid.add_row("report (open in a browser, works offline)", str(report))
    grid.add_row(f"case database ({summary['cases_opened']} cases)", db)
    if top:
        grid.add_row(f"guidance notice for the top case {top}", str(notice))
    stdout.print(grid)
    scores = RichTable(title="Scan scored against the simulator's ground truth")
    for col in ("check", "findings", "truth", "precision", "recall"):
        scores.add_column(col, justify="left" if col == "check" else "right")
    for row in [*ev.get("checks", []), {**ev.get("micro", {}), "check_code": "ALL"}]:
        if not row:
            continue
        scores.add_row(
            str(row.get("check_code")),
            str(row.get("findings", "")),
            str(row.get("truth", "")),
            _fmt(row.get("precision")),
            _fmt(row.get("recall")),
        )
    stdout.print(scores)
    stdout.print(f"Open the report: {report.resolve()}")
    logins = RichTable(title="Web application: log in with these (also in logins.txt)")
    for col in ("user", "password", "role"):
        logins.add_column(col)
    for u in web["users"]:
        role = u["role"] + (f" ({u['platform_id']})" if u.get("platform_id") else "")
        logins.add_row(u["name"], u["password"], role)
    stdout.print(logins)
    stdout.print(f"Start it: {web['serve']}   then open http://127.0.0.1:8000/")


def _web_users(out: Path, url: str, store: Path) -> dict[str, Any]:
    """One web user per role (and one officer per platform) in the demo's case database.

    The passwords are random, printed once and kept in ``logins.txt`` (readable by the owner only)
    beside the database, so a newcomer can log in to ``promoguard serve`` straight away.
    """
    import secrets

    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    started = time.perf_counter()
    console.print("[bold]→ make the web application's users[/bold]")
    svc = CaseService(url, actor="demo")
    platforms = sorted({c["platform_id"] for c in svc.list_cases() if c["platform_id"]})
    wanted = [("admin", "admin", None), ("analyst", "analyst", None), ("auditor", "auditor", None)]
    wanted += [(f"officer-{p.lower()}", "platform", p) for p in platforms[:3]]
    users = []
    for name, role, platform in wanted:
        password = secrets.token_urlsafe(9)
        svc.add_user(name, role, platform_id=platform, password_hash=hash_password(password))
        users.append({"name": name, "role": role, "platform_id": platform, "password": password})
    svc.db.dispose()
    logins = out / "logins.txt"
    logins.write_text(
        "".join(
            f"{u['name']}\t{u['password']}\t{u['role']}\t{u['platform_id'] or ''}\n" for u in users
        ),
        encoding="utf-8",
    )
    logins.chmod(0o600)
    console.print(f"  done in {time.perf_counter() - started:.1f} s")
    serve = f"promoguard serve --db {url} --store {store.resolve()}"
    return {
        "db": url,
        "users": users,
        "logins_file": str(logins),
        "serve": serve,
    }


def _fmt(value: object) -> str:
    return "-" if value is None else f"{float(value):.3f}"
