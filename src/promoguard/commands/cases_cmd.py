"""`promoguard cases …`: open cases from a scan and carry them to a verdict.

Every subcommand takes ``--db URL`` (else ``$PROMOGUARD_DB``, else ``sqlite:///promoguard.db``) and
``--actor NAME`` (else ``$PROMOGUARD_ACTOR``, else the login name), who is recorded in the audit
trail. ``--json`` prints one JSON object; a list is ``{"items": [...]}``.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table as RichTable
from rich.text import Text

from promoguard.commands._common import emit_json, stdout, user_errors
from promoguard.safety import terminal_safe

app = typer.Typer(
    help="Cases: open them from a scan, assign, guide, rectify, verify by re-scan, close.",
    no_args_is_help=True,
)

DB_HELP = "Case database URL (default: $PROMOGUARD_DB, else sqlite:///promoguard.db)."
ACTOR_HELP = "Who is acting, for the audit trail (default: $PROMOGUARD_ACTOR, else your login)."
#: how many of the cases `cases open` opened or updated it lists
OPEN_SHOWN = 20
VERSION_HELP = "Refuse if the case is no longer at this version (someone else changed it)."


def _svc(db: str | None, actor: str | None, *, create: bool = False):
    """The case service on ``--db``; only `cases open` makes a database that is not there."""
    from promoguard.cases import CaseService

    return CaseService(db, actor=actor, create=create)


def _say(text: str) -> None:
    """Print a line that may quote data (names, notes): no markup, no terminal escapes. On stdout:
    these lines are what the user asked for (diagnostics and errors go to stderr)."""
    stdout.print(terminal_safe(text), markup=False, highlight=False)


def _cell(value: object) -> Text:
    return Text(terminal_safe("" if value is None else str(value)))


def _print_case_line(c: dict) -> None:
    who = c.get("merchant_name") or c.get("merchant_id") or "(platform duties)"
    _say(
        f"{c['case_id']}  P{c['priority']}  {c['risk_score']:>5}  {c['status']:<22} "
        f"{c.get('platform_id') or '-'}  {who}  ({c['findings']} findings)"
    )


def _done(result: dict, as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    _print_case_line(result)
    extra = {
        k: result[k]
        for k in ("deadline", "assigned_to", "outcome", "notice_file", "notice_sha256")
        if result.get(k)
    }
    for k, v in extra.items():
        _say(f"  {k}: {v}")


@app.command("open")
@user_errors
def open_cases(
    store: Path = typer.Option(..., "--store", help="The store holding the scan."),
    scan_id: str | None = typer.Option(None, "--scan", help="Scan id (default: the latest)."),
    group: str = typer.Option(
        "merchant", "--group", help="merchant (one case per merchant and platform) or platform."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Open cases from a scan, or add its new findings to the cases already open."""
    svc = _svc(db, actor, create=True)
    result = svc.open_from_scan(store, scan_id=scan_id, group=group).to_dict()
    if as_json:
        emit_json(result)
        return
    _say(
        f"scan {result['scan_id']}: {result['opened']} cases opened, {result['updated']} updated, "
        f"{result['findings_added']} findings added, {result['findings_seen_again']} seen again"
    )
    # the cases this scan opened or added findings to, most urgent first (not the queue's top)
    touched = set(result["opened_ids"]) | set(result["updated_ids"])
    shown = [c for c in svc.list_cases() if c["case_id"] in touched]
    for c in shown[:OPEN_SHOWN]:
        _print_case_line(c)
    if len(shown) > OPEN_SHOWN:
        _say(f"… and {len(shown) - OPEN_SHOWN} more (promoguard cases list)")


@app.command("list")
@user_errors
def list_cases(
    status: str | None = typer.Option(None, "--status", help="Only cases in this state."),
    platform: str | None = typer.Option(None, "--platform", help="Only this platform's cases."),
    overdue: bool = typer.Option(False, "--overdue", help="Only cases past their deadline."),
    limit: int | None = typer.Option(None, "--limit", help="At most this many."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """The cases, most urgent first (priority, then risk score)."""
    items = _svc(db, None).list_cases(
        status=status, platform_id=platform, overdue=overdue, limit=limit
    )
    if as_json:
        emit_json({"items": items, "count": len(items)})
        return
    grid = RichTable(title=f"{len(items)} cases")
    for col in ("case", "prio", "score", "status", "platform", "merchant", "findings", "deadline"):
        grid.add_column(
            col,
            justify="right" if col in ("prio", "score", "findings") else "left",
            # the id is what the next command takes: never cut to "C-4C5D7…" on a narrow terminal
            no_wrap=col == "case",
            min_width=12 if col == "case" else None,
        )
    for c in items:
        deadline = c["deadline"] or ""
        if c["overdue"]:
            deadline += " OVERDUE"
        grid.add_row(
            *map(
                _cell,
                (
                    c["case_id"],
                    c["priority"],
                    f"{c['risk_score']:.1f}",
                    c["status"],
                    c["platform_id"],
                    c["merchant_name"] or c["merchant_id"] or "(platform duties)",
                    c["findings"],
                    deadline,
                ),
            )
        )
    stdout.print(grid)


@app.command("show")
@user_errors
def show(
    case_id: str = typer.Argument(..., help="The case id (C-…)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """One case: its findings, notices, rectifications, verifications and audit events."""
    case = _svc(db, None).get_case(case_id)
    if as_json:
        emit_json(case)
        return
    _print_case_line(case)
    _say(f"  score: {case['score']}")
    for k in ("assigned_to", "deadline", "closing_reason"):
        if case.get(k):
            _say(f"  {k}: {case[k]}")
    grid = RichTable(title="findings")
    for col in ("check", "entity", "severity", "seen", "verification", "evidence"):
        grid.add_column(col)
    for f in case["findings_detail"]:
        grid.add_row(
            *map(
                _cell,
                (
                    f["check_code"],
                    f"{f['entity_type']} {f['entity_id']}",
                    f["severity"],
                    f["times_seen"],
                    f["verification"],
                    f["evidence_sha256"][:16] + "…",
                ),
            )
        )
    stdout.print(grid)
    for e in case["events"]:
        _say(f"  #{e['seq']} {e['at']} {e['actor']} {e['action']}")


@app.command("assign")
@user_errors
def assign(
    case_id: str = typer.Argument(..., help="The case id."),
    to: str = typer.Option(..., "--to", help="The user to assign it to."),
    version: int | None = typer.Option(None, "--version", help=VERSION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Assign a case (an open case goes under review)."""
    _done(_svc(db, actor).assign(case_id, to, expected_version=version), as_json)


@app.command("comment")
@user_errors
def comment(
    case_id: str = typer.Argument(..., help="The case id."),
    text: str = typer.Option(..., "--text", help="The comment."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Add a comment to a case."""
    svc = _svc(db, actor)
    svc.comment(case_id, text)
    _done(svc.summary(case_id), as_json)


@app.command("guide")
@user_errors
def guide(
    case_id: str = typer.Argument(..., help="The case id."),
    deadline: str = typer.Option(..., "--deadline", help="Rectification deadline, YYYY-MM-DD."),
    out: Path | None = typer.Option(None, "--out", help="Also write the notice (.html or .pdf)."),
    bureau: str | None = typer.Option(
        None, "--bureau", help="The issuing bureau's name (default: $PROMOGUARD_BUREAU)."
    ),
    version: int | None = typer.Option(None, "--version", help=VERSION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Issue the guidance notice (Chinese and English) with a rectification deadline."""
    result = _svc(db, actor).guide(
        case_id, deadline, bureau=bureau, out=out, expected_version=version
    )
    _done(result, as_json)


@app.command("notice")
@user_errors
def notice(
    case_id: str = typer.Argument(..., help="The case id."),
    out: Path = typer.Option(..., "--out", help="Write the latest notice here (.html or .pdf)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Write the latest notice issued for a case again (as issued, HTML or PDF)."""
    from promoguard.cases import notice as notice_mod

    written = notice_mod.write(_svc(db, None).notice_html(case_id), out)
    if as_json:
        emit_json({"case_id": case_id, "out": str(written)})
    else:
        _say(f"notice written to {written}")


@app.command("rectify")
@user_errors
def rectify(
    case_id: str = typer.Argument(..., help="The case id."),
    note: str = typer.Option(..., "--note", help="What was done (free text)."),
    attach: list[Path] = typer.Option([], "--attach", help="A file to attach (repeatable)."),
    action: list[str] = typer.Option(
        [],
        "--action",
        help="Per finding: 'CHECK ENTITY_ID=what was done' (repeatable), "
        "e.g. 'PRICE001 L0042=price corrected'.",
    ),
    version: int | None = typer.Option(None, "--version", help=VERSION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Record the platform's rectification report, with attachments (kept with their SHA-256)."""
    from promoguard.errors import PromoGuardError

    actions = {}
    for a in action:
        key, sep, what = a.partition("=")
        if not sep or not key.strip() or not what.strip():
            raise PromoGuardError(f"--action is 'CHECK ENTITY_ID=what was done', not {a!r}")
        actions[key.strip()] = what.strip()
    result = _svc(db, actor).rectify(
        case_id, note, attachments=attach, actions=actions, expected_version=version
    )
    _done(result, as_json)


@app.command("verify")
@user_errors
def verify(
    case_id: str = typer.Argument(..., help="The case id."),
    store: Path = typer.Option(..., "--store", help="The store holding the re-scan."),
    scan_id: str | None = typer.Option(None, "--scan", help="Scan id (default: the latest)."),
    version: int | None = typer.Option(None, "--version", help=VERSION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Verify by re-scan: each finding still present, no longer present or not checked."""
    result = _svc(db, actor).verify(case_id, store, scan_id=scan_id, expected_version=version)
    if as_json:
        emit_json(result)
        return
    _print_case_line(result)
    _say(
        f"  scan {result['scan_id']}: {result['still_present']} still present, "
        f"{result['no_longer_present']} no longer present, {result['not_checked']} not checked "
        f"→ {result['outcome']}"
    )


@app.command("close")
@user_errors
def close(
    case_id: str = typer.Argument(..., help="The case id."),
    escalate: bool = typer.Option(
        False, "--escalate", help="Escalate to enforcement (立案) instead of closing."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required to escalate)."),
    version: int | None = typer.Option(None, "--version", help=VERSION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Close a verified case, or escalate it with a reason."""
    result = _svc(db, actor).close(
        case_id, escalate=escalate, reason=reason, expected_version=version
    )
    _done(result, as_json)


@app.command("dismiss")
@user_errors
def dismiss(
    case_id: str = typer.Argument(..., help="The case id."),
    reason: str = typer.Option(..., "--reason", help="Why the case is not pursued."),
    version: int | None = typer.Option(None, "--version", help=VERSION_HELP),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help=ACTOR_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Dismiss a case (false positive, duplicate …) with a reason."""
    _done(_svc(db, actor).dismiss(case_id, reason, expected_version=version), as_json)
