"""The `promoguard ingest` contract: --json is one object on stdout; errors are one line, exit 1.

The command is mounted on its own Typer app so these tests exercise exactly ingest_cmd.ingest.
"""

from __future__ import annotations

import json

import duckdb
import typer
from typer.testing import CliRunner

from promoguard.commands.ingest_cmd import ingest

from ._helpers import write

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command("ingest")(ingest)


@app.command("noop")
def _noop() -> None:
    """Keeps Typer from collapsing the app into a single command."""


runner = CliRunner()


def test_json_is_one_object_with_counts_per_table(tmp_path):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\nP1,dup\n")
    write(tmp_path / "in", "notes.md", "not a table")
    store = tmp_path / "s.duckdb"
    result = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # exactly one JSON document, nothing else on stdout
    assert data["tables"]["platforms"] == {
        "read": 2,
        "stored": 1,
        "quarantined": 1,
        "orphans": 0,
        "unchanged": 0,
    }
    assert data["ignored"] == ["notes.md"]
    assert duckdb.connect(str(store)).execute("SELECT count(*) FROM platforms").fetchone()[0] == 1


def test_human_summary_goes_to_stderr(tmp_path):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    result = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "platforms" in result.stderr


def test_missing_required_column_is_one_line_exit_1(tmp_path):
    write(tmp_path / "in", "orders.csv", "order_id\nO1\n")
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s"), "--json"]
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promoguard: error: orders.csv: missing")


def test_bad_options_are_one_line_errors(tmp_path):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    for extra, message in (
        (["--tz", "Nowhere/Land"], "unknown time zone"),
        (["--encoding", "nope-42"], "unknown encoding"),
        (["--adapter", "no_such_adapter"], "unknown adapter"),
    ):
        result = runner.invoke(
            app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s"), *extra]
        )
        assert result.exit_code == 1, extra
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "in").mkdir()
    result = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "no canonical table file" in result.stderr


def test_help():
    result = runner.invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0
    for option in ("--store", "--tz", "--encoding", "--adapter", "--json"):
        assert option in result.output


def test_store_that_cannot_be_opened_is_a_one_line_error(tmp_path):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    not_a_db = write(tmp_path, "store.duckdb", b"this is not a duckdb file at all" * 100)
    result = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--store", str(not_a_db)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "is not a PromoGuard store (not a DuckDB database file)" in result.stderr
