"""The ``promoguard`` command line: one Typer app assembled from ``promoguard.commands``.

Every command has ``--help``, exits non-zero with one line on stderr when it fails, and with
``--json`` prints exactly one JSON object on stdout (human output goes to stderr).
"""

from __future__ import annotations

import typer

from promoguard import __version__
from promoguard.commands import (
    audit_cmd,
    cases_cmd,
    checks_cmd,
    demo_cmd,
    evaluate_cmd,
    evidence_cmd,
    ingest_cmd,
    mask_cmd,
    report_cmd,
    scan_cmd,
    serve_cmd,
    simulate_cmd,
    tables_cmd,
    train_reviews_cmd,
    users_cmd,
    verify_cmd,
)

app = typer.Typer(
    name="promoguard",
    help="Watch online shopping promotions for unlawful practices: simulate, ingest, scan, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"promoguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """PromoGuard: fake discounts, coupon traps, false delivery, brushing, false publicity."""


app.command("ingest")(ingest_cmd.ingest)
app.command("simulate")(simulate_cmd.simulate)
app.command("evaluate")(evaluate_cmd.evaluate)
app.command("scan")(scan_cmd.scan)
app.command("tables")(tables_cmd.tables)
app.command("checks")(checks_cmd.checks)
app.command("explain")(checks_cmd.explain)
app.command("report")(report_cmd.report)
app.command("mask")(mask_cmd.mask)
app.command("train-reviews")(train_reviews_cmd.train_reviews)
app.command("demo")(demo_cmd.demo)
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(evidence_cmd.app, name="evidence")
app.command("verify")(verify_cmd.verify)
app.command("serve")(serve_cmd.serve)
app.add_typer(users_cmd.app, name="users")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
