"""The simulated small season, generated once for this folder's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from promoguard.simulate import generate

SEED = 11


@pytest.fixture(scope="session")
def small_season(tmp_path_factory) -> tuple[Path, dict]:
    """The full `small` scale (CSV) and its summary."""
    out = tmp_path_factory.mktemp("sim_small")
    return out, generate("small", SEED, out)


@pytest.fixture(scope="module")
def season_con(season_store, tmp_path_factory):
    """A read-only connection to a private copy of the session's season store (seed 7)."""
    path = tmp_path_factory.mktemp("season_ro") / "season.duckdb"
    shutil.copy(season_store, path)
    connection = duckdb.connect(str(path), read_only=True)
    connection.execute("SET TimeZone='UTC'")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def season_truth(season_dir) -> pd.DataFrame:
    """The session season's ground_truth.csv, as text."""
    return pd.read_csv(season_dir / "ground_truth.csv", dtype=str, keep_default_na=False)
