"""`promoguard demo`: the whole loop in one command; with --json, one object on stdout."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from promoguard.cli import app


def test_demo_json_prints_one_object_and_its_steps_on_stderr(tmp_path):
    """The steps' lines ("→ simulate …", "done in 3.2 s") went to stdout before the object, so a
    script's json.load of `demo --json` failed."""
    result = CliRunner().invoke(
        app, ["demo", "--out", str(tmp_path / "d"), "--seed", "5", "--json"]
    )
    assert result.exit_code == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["cases_opened"] > 0 and (tmp_path / "d" / "report.html").exists()
    assert "→ simulate a Double-11 season" in result.stderr
    assert "done in" in result.stderr
