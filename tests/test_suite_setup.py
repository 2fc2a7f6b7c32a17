"""How the suite itself runs: scripts/test.sh runs it on two pytest-xdist workers, every Spark
test in one group (tests/conftest.py); without the plugin it must still collect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_spark_tests_collect_without_the_xdist_plugin():
    """The xdist_group marker the Spark tests get is declared in pyproject.toml: under
    --strict-markers a run with -p no:xdist (or a venv made before pytest-xdist was a test
    dependency) would otherwise stop at collection with an INTERNALERROR (review 11)."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist"]
        + ["-p", "no:cacheprovider", "tests/engine/test_backends.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-600:] + run.stderr[-600:]
    assert "test_backends.py::" in run.stdout
