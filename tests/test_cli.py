"""The CLI contract: --help everywhere, --version, one-line errors with a non-zero exit."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from promoguard import __version__
from promoguard.cli import app

runner = CliRunner()
COMMANDS = [
    "ingest",
    "simulate",
    "evaluate",
    "scan",
    "checks",
    "explain",
    "report",
    "demo",
    "tables",
    "mask",
    "train-reviews",
    "watch",
]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"promoguard {__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


#: the command groups, each with its own subcommands
GROUPS = ["cases", "audit", "evidence", "users", "scans", "findings", "quarantine"]
#: every command of the CLI contract beside COMMANDS (which are run above)
MORE_COMMANDS = ["verify", "serve", "sql"]


def _commands(command, path=()):
    """Every command and group under ``command`` as its argument path."""
    if path:
        yield list(path)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_group_and_subcommand_has_help():
    import typer

    root = typer.main.get_command(app)
    assert sorted(root.commands) == sorted(COMMANDS + GROUPS + MORE_COMMANDS)
    paths = list(_commands(root))
    for group in GROUPS:  # a group lists subcommands, each with its own help
        assert any(p[0] == group and len(p) == 2 for p in paths), group
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: " in result.output and " ".join(path) in result.output, path


def test_module_entry_point_runs():
    out = subprocess.run(
        [sys.executable, "-m", "promoguard", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and __version__ in out.stdout


def test_tables_json_is_one_object_naming_every_table():
    import json

    from promoguard.model import TABLE_NAMES

    result = runner.invoke(app, ["tables", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tables"]] == list(TABLE_NAMES)
