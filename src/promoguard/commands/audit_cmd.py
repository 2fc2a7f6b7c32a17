"""`promoguard audit …`: verify the case database's audit trail; export and check its head."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from promoguard.commands._common import console, emit_json, fail, user_errors
from promoguard.safety import terminal_safe

app = typer.Typer(
    help="The audit trail of the case database (table audit_events).", no_args_is_help=True
)


def _say(text: str) -> None:
    """Print a line that may quote untrusted text (file names in a bundle): shown, not run."""
    console.print(terminal_safe(text), markup=False, highlight=False)


DB_HELP = "Case database URL (default: $PROMOGUARD_DB, else sqlite:///promoguard.db)."


@app.command("verify")
@user_errors
def verify(
    head: Path | None = typer.Option(
        None, "--head", help="Also check against a chain head exported earlier (`audit head`)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Re-compute the hash chain; exit 1 naming the first changed, inserted or deleted event."""
    from promoguard.cases import CaseService

    expected = None
    if head is not None:
        try:
            expected = json.loads(head.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"cannot read the chain head {head}: {exc}")
    report = CaseService(db, create=False).audit_verify(expected)
    if as_json:
        emit_json(report.to_dict())
    if not report.ok:
        fail(f"audit trail does not verify: {report.problem}")
    if not as_json:
        against = f" and holds the head exported in {head}" if head else ""
        _say(
            f"audit trail verifies: {report.events} events, head #{report.head_seq} "
            f"{report.head_hash}{against}"
        )


@app.command("head")
@user_errors
def export_head(
    out: Path | None = typer.Option(None, "--out", help="Write the head here (JSON); else stdout."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Export the chain head (last event's number and hash) to keep outside the database."""
    from promoguard.cases import CaseService

    if out is not None:
        from promoguard.safety import refuse_overwrite

        refuse_overwrite(out)  # never over a database (`--out cases.db` was the trail itself)
    head = CaseService(db, create=False).audit_head()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(head, indent=1) + "\n", encoding="utf-8")
    if as_json or out is None:
        emit_json({**head, "out": str(out) if out else None})
    else:
        _say(f"chain head #{head['seq']} {head['hash']} written to {out}")
