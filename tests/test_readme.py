"""The README's tour works as written (documentation that is tested)."""

import json
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from promoguard.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def tour_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- tour:.*?-->\s*```console\n(.*?)```", text, re.S)
    assert block, "README has no tour block"
    return [shlex.split(line[2:]) for line in block.group(1).splitlines() if line.startswith("$ ")]


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    text = README.read_text(encoding="utf-8")
    assert "bash scripts/demo.sh" in text and "bash scripts/test.sh" in text
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci


def test_tour_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = tour_commands()
    assert commands and all(c[0] == "promoguard" for c in commands)
    runner = CliRunner()
    for argv in commands:
        result = runner.invoke(app, argv[1:])
        assert result.exit_code == 0, f"{' '.join(argv)}: {result.output}"
    assert (tmp_path / "report.html").stat().st_size > 1000
    scored = runner.invoke(
        app,
        [
            "evaluate",
            "--findings",
            "findings.parquet",
            "--truth",
            "season/ground_truth.csv",
            "--json",
        ],
    )
    assert json.loads(scored.stdout)["micro"]["precision"] > 0.9
