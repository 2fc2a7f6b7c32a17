"""`promoguard evidence …`: signing keys, signed evidence bundles, offline verification."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from promoguard.commands._common import console, emit_json, fail, user_errors
from promoguard.safety import terminal_safe

app = typer.Typer(
    help="Signed evidence bundles (Ed25519), verifiable offline.", no_args_is_help=True
)


def _say(text: str) -> None:
    """Print a line that may quote untrusted text (file names in a bundle): shown, not run."""
    console.print(terminal_safe(text), markup=False, highlight=False)


DB_HELP = "Case database URL (default: $PROMOGUARD_DB, else sqlite:///promoguard.db)."


@app.command("keygen")
@user_errors
def keygen(
    out: Path = typer.Option(
        ..., "--out", help="Folder for bureau.key (owner-only) and bureau.pub."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Make the bureau's Ed25519 signing key pair (never overwrites a key)."""
    from promoguard.cases.bundle import keygen as make

    key, pub = make(out)
    if as_json:
        emit_json({"private_key": str(key), "public_key": str(pub)})
    else:
        _say(f"private key {key} (owner-only: keep it safe), public key {pub}")


@app.command("export")
@user_errors
def export(
    case_id: str = typer.Argument(..., help="The case id."),
    out: Path = typer.Option(..., "--out", help="The bundle to write (.zip)."),
    key: Path | None = typer.Option(
        None, "--key", help="Signing key (default: $PROMOGUARD_KEY, else ./bureau.key)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    actor: str | None = typer.Option(None, "--actor", help="Who exports, for the audit trail."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Write a case's findings, evidence, notice and attachments as a signed zip."""
    from promoguard.cases import CaseService

    if out.suffix.lower() != ".zip":
        fail(f"--out must end in .zip, not {out.suffix or '(none)'}")
    key_path = key or Path(os.environ.get("PROMOGUARD_KEY") or "bureau.key")
    result = CaseService(db, actor=actor, create=False).export_bundle(case_id, out, key_path)
    if as_json:
        emit_json(result)
    else:
        _say(f"{result['files']} files of case {case_id} signed into {out}")


@app.command("verify")
@user_errors
def verify(
    bundle: Path = typer.Argument(..., help="The bundle (.zip)."),
    pubkey: Path | None = typer.Option(
        None, "--pubkey", help="The bureau's public key (else the key the bundle carries)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Check every digest and the signature offline; exit 1 naming what was altered."""
    from promoguard.cases.bundle import verify as check

    report = check(bundle, pubkey)
    if as_json:
        emit_json(report.to_dict())
    if not as_json:
        for problem in report.problems:
            _say(f"  {problem}")
    if not report.ok:
        fail(f"bundle {bundle} does not verify: {report.problems[0]}")
    if not as_json:
        note = "" if pubkey else " (against the key it carries: pass --pubkey to know who signed)"
        _say(f"bundle {bundle} verifies: {report.files} files, signature valid{note}")
