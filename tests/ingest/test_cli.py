"""The `promoguard ingest` contract: --json is one object on stdout; errors are one line, exit 1.

The command is mounted on its own Typer app so these tests exercise exactly ingest_cmd.ingest.
"""

from __future__ import annotations

import json

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from promoguard import lake
from promoguard.commands.ingest_cmd import ingest
from promoguard.errors import IngestError
from promoguard.ingest import ingest_dir

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


def test_human_summary_goes_to_stdout(tmp_path):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\nP1,dup\n")
    result = runner.invoke(app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    # the table is the result (stdout, so `> file` keeps it); progress bars are stderr's
    assert "platforms" in result.stdout
    assert "platforms" not in result.stderr
    # its row holds the counts under their headings (read 2 differs from stored 1, so a column
    # shown under another's heading is seen)
    cells = [ln.replace("│", " ").replace("┃", " ").split() for ln in result.stdout.splitlines()]
    heading = next(c for c in cells if c[:1] == ["table"])
    row = next(c for c in cells if c[:1] == ["platforms"])
    assert dict(zip(heading, row, strict=True)) == {
        "table": "platforms",
        "read": "2",
        "stored": "1",
        "unchanged": "0",
        "quarantined": "1",
        "orphans": "0",
    }


def test_missing_required_column_is_one_line_exit_1(tmp_path):
    write(tmp_path / "in", "orders.csv", "order_id\nO1\n")
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s"), "--json"]
    )
    assert result.exit_code == 1
    assert "orders.csv: missing" in json.loads(result.stdout)["error"]
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


@pytest.mark.parametrize(
    ("store", "where"),
    [
        ("in/x.duckdb", "is inside the source folder"),
        ("in/orders.parquet", "is inside the source folder"),  # would be read as a table file
        ("in/deeper/x.duckdb", "is inside the source folder"),
        ("in/lake/", "is inside the source folder"),
        ("in/", "is the source folder"),
        ("in/../in/x.duckdb", "is inside the source folder"),
        ("link/x.duckdb", "is inside the source folder"),  # the source folder by another name
    ],
)
def test_a_store_inside_the_source_folder_is_refused_before_anything_is_made(
    tmp_path, monkeypatch, store, where
):
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    (tmp_path / "link").symlink_to(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in (tmp_path / "in").iterdir())
    result = runner.invoke(app, ["ingest", "in", "--store", store, "--json"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and where in lines[0], lines
    assert where in json.loads(result.stdout)["error"]
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == before  # nothing created


def test_a_lake_holding_the_source_folder_is_refused(tmp_path, monkeypatch):
    write(tmp_path / "lake" / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", "lake/in", "--store", "lake/"])
    assert result.exit_code == 1
    assert "the source folder lake/in is inside the lake lake" in result.stderr
    assert sorted(p.name for p in (tmp_path / "lake").iterdir()) == ["in"]  # no lock, no manifest


def test_the_api_refuses_a_store_inside_the_source_folder_too(tmp_path):
    folder = write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n").parent
    with pytest.raises(IngestError, match="is inside the source folder"):
        ingest_dir(folder, folder / "s.duckdb")
    with pytest.raises(IngestError, match="is inside the source folder"):
        lake.ingest(folder, folder / "lake")
    assert sorted(p.name for p in folder.iterdir()) == ["platforms.csv"]
    # a store beside the folder is fine
    assert ingest_dir(folder, tmp_path / "s.duckdb").tables["platforms"].stored == 1


@pytest.mark.parametrize(
    ("source", "store"),
    [("in", "loop/x.duckdb"), ("in", "loop/"), ("loop", "x.duckdb"), ("loop", "lake/")],
)
def test_a_symlink_loop_on_either_side_is_a_one_line_error(tmp_path, monkeypatch, source, store):
    # Path.resolve raises on a symlink loop: the check that the store is outside the source
    # ended the command in a traceback before the folder or store was even looked at.
    write(tmp_path / "in", "platforms.csv", "platform_id,name\nP1,a\n")
    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ingest", source, "--store", store])
    assert result.exit_code == 1
    assert not isinstance(result.exception, RuntimeError), result.exception
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_very_long_extra_column_name_is_cut_on_the_terminal_and_whole_in_json(tmp_path):
    # a header cell may be any length (a misread file's first line is one name): the terminal
    # line names it cut, with its length; --json keeps it whole
    long_name = "x" * 100_000
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "platforms.csv").write_text(f"platform_id,name,{long_name},note\nP1,n,1,2\n")
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())
    assert f"extra columns ignored: {'x' * 60}… (100,000 characters), note" in shown
    assert len(result.stdout) < 2_000
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "t.duckdb"), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0]["extra_columns"] == [long_name, "note"]


def test_a_refused_file_is_one_line_on_stderr_and_nothing_else(tmp_path):
    # the progress bar (a terminal's) left a blank line on stderr before the error's one line
    write(tmp_path / "in", "merchants.csv", "platform_id\nP1\n")
    result = CliRunner().invoke(
        app, ["ingest", str(tmp_path / "in"), "--store", str(tmp_path / "s.duckdb")]
    )
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("promoguard: error: merchants.csv: missing required column")
