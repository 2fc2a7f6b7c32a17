"""Case tests run against SQLite and a real, throwaway PostgreSQL server (``tests/pg.py``).

Each test gets a fresh database.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.pg import new_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty case database URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return new_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cases.db'}"


@pytest.fixture(scope="session")
def scanned_store(season_store, tmp_path_factory) -> Path:
    """The small season scanned once with the full cn pack (read it; copy before writing)."""
    from promoguard.api import scan

    path = tmp_path_factory.mktemp("scanned") / "season.duckdb"
    shutil.copy(season_store, path)
    scan(path, pack="cn")
    return path
