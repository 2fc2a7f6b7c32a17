"""The ``promoguard`` command line: one Typer app assembled from ``promoguard.commands``.

Every command has ``--help``, exits non-zero with one line on stderr when it fails, and with
``--json`` prints exactly one JSON object on stdout, ``{"error": ...}`` on failure. Tables and
text go to stdout, progress and diagnostics to stderr (``promoguard.commands._common``).
"""

from __future__ import annotations

import sys

import typer
from typer import core as typer_core
from typer._click.core import Context
from typer._click.exceptions import UsageError

from promoguard import __version__
from promoguard.commands import (
    audit_cmd,
    cases_cmd,
    checks_cmd,
    demo_cmd,
    evaluate_cmd,
    evidence_cmd,
    findings_cmd,
    ingest_cmd,
    mask_cmd,
    report_cmd,
    scan_cmd,
    scans_cmd,
    serve_cmd,
    simulate_cmd,
    sql_cmd,
    tables_cmd,
    train_reviews_cmd,
    users_cmd,
    verify_cmd,
    watch_cmd,
)

app = typer.Typer(
    name="promoguard",
    help="Watch online shopping promotions for unlawful practices: simulate, ingest, scan, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # plain Click help: rewrapped to the terminal, no boxes that squeeze an 80-column screen
    rich_markup_mode=None,
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
app.command("sql")(sql_cmd.sql)
app.command("watch")(watch_cmd.watch)
app.add_typer(scans_cmd.app, name="scans")
app.add_typer(findings_cmd.app, name="findings")
app.add_typer(findings_cmd.quarantine_app, name="quarantine")


def _metavar(self: typer_core.TyperArgument, ctx: Context) -> str | None:
    """Click's own style of metavar (PATH, TEXT, INTEGER) instead of Typer's ``<path>``/``<bool>``."""
    if getattr(self, "is_flag", False):
        return None
    label = typer_core._TyperParameter.display_type(self, ctx)  # e.g. "<path>"
    return label.strip("<>").upper().replace("STR", "TEXT").replace("INT", "INTEGER")


def _argument_usage(self: typer_core.TyperArgument) -> str:
    """``SRC`` (required) or ``[SRC]`` in the usage line, not Typer's ``{src}``."""
    name = (self.metavar or self.name or "").upper()
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 else "")


# Typer 0.29 shows `<bool>` beside every flag and `{src}` for arguments; the pin in pyproject keeps
# these two private hooks where they are.
typer_core.TyperOption.display_type = _metavar  # type: ignore[method-assign]
typer_core.TyperArgument.display_type = lambda self, ctx: None  # type: ignore[method-assign]
typer_core.TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]
typer_core.TyperArgument._rich_display_name = _argument_usage  # type: ignore[method-assign]


def main() -> None:
    # A usage error (a missing or unknown option) happens before any command runs: with --json it
    # is answered as every other failure, {"error": ...} on stdout, the reason on stderr.
    if "--json" not in sys.argv[1:]:
        app()
        return
    try:
        code = app(standalone_mode=False)
    except UsageError as exc:
        from promoguard.commands._common import emit_json

        line = " ".join(exc.format_message().split())
        emit_json({"error": line})
        typer.echo(f"promoguard: error: {line}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("promoguard: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
