"""`promoguard simulate` on the command line: one JSON object with --json, one-line errors."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from promoguard import model
from promoguard.commands.simulate_cmd import simulate


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(simulate)
    return app


def test_json_summary_matches_the_files(tmp_path):
    out = tmp_path / "season"
    args = ["--scale", "small", "--seed", "4", "--shrink", "0.3", "--out", str(out), "--json"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["format"] == "csv" and summary["seed"] == 4
    for t in model.TABLES:
        lines = (out / f"{t.name}.csv").read_text(encoding="utf-8").count("\n")
        assert summary["rows"][t.name] == lines - 1, t.name
    truth_lines = (out / "ground_truth.csv").read_text().count("\n") - 1
    assert sum(summary["truth"].values()) == truth_lines


def test_bad_arguments_fail_with_one_line(tmp_path):
    runner = CliRunner()
    for args, needle in (
        (["--scale", "huge", "--out", str(tmp_path / "x")], "unknown scale"),
        (["--format", "xlsx", "--out", str(tmp_path / "x")], "unknown format"),
        (["--shrink", "0", "--out", str(tmp_path / "x")], "--shrink"),
    ):
        result = runner.invoke(_app(), [*args, "--json"])
        assert result.exit_code == 1, args
        assert needle in json.loads(result.stdout)["error"]
        assert needle in result.stderr and result.stderr.strip().count("\n") == 0
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = runner.invoke(_app(), ["--out", str(a_file)])
    assert result.exit_code == 1 and "not a folder" in result.stderr


def test_rates_are_configurable(tmp_path):
    runner = CliRunner()
    base = ["--scale", "small", "--seed", "4", "--shrink", "0.3", "--json"]
    low = json.loads(runner.invoke(_app(), [*base, "--out", str(tmp_path / "a")]).stdout)
    high = runner.invoke(_app(), [*base, "--out", str(tmp_path / "b"), "--rate", "price001=0.3"])
    assert high.exit_code == 0, high.output
    assert json.loads(high.stdout)["truth"]["PRICE001"] > 2 * low["truth"]["PRICE001"]
    bad = runner.invoke(_app(), [*base, "--out", str(tmp_path / "c"), "--rate", "nosuch=0.1"])
    assert bad.exit_code == 1 and "unknown rate" in bad.stderr
