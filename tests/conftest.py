"""Fixtures shared by every test area: the small simulated season, simulated and ingested once."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

#: ../shared beside the repository; PROMOGUARD_SHARED points elsewhere (a worktree kept one level
#: deeper than the clone, where ../shared is not the shared folder)
SHARED = Path(os.environ.get("PROMOGUARD_SHARED") or Path(__file__).resolve().parents[2] / "shared")
SEASON_SEED = 7


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data sets sit beside the project, not in it)")
    return path


def _cli(*args: str) -> dict:
    from promoguard.cli import app

    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"promoguard {' '.join(args)} failed: {result.output}"
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def season_dir(tmp_path_factory) -> Path:
    """The `small` Double-11 season (seed 7) with its ground_truth.csv."""
    out = tmp_path_factory.mktemp("season")
    _cli("simulate", "--scale", "small", "--seed", str(SEASON_SEED), "--out", str(out))
    return out


@pytest.fixture(scope="session")
def season_store(season_dir, tmp_path_factory) -> Path:
    """The small season ingested into a DuckDB store (read it; copy it before writing to it)."""
    path = tmp_path_factory.mktemp("store") / "season.duckdb"
    _cli("ingest", str(season_dir), "--store", str(path))
    return path


@pytest.fixture
def season_store_copy(season_store, tmp_path) -> Path:
    """A private copy of the season store that a test may write to (findings, cases)."""
    path = tmp_path / "season.duckdb"
    shutil.copy(season_store, path)
    return path


def java_available() -> bool:
    return shutil.which("java") is not None


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite the per-rule snapshots (tests/rules/snapshots/) from this run",
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked ``spark`` need Java: the one place that skips them when it is absent."""
    if java_available():
        return
    skip = pytest.mark.skip(reason="Spark needs Java (scripts/setup.sh installs it)")
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(skip)
