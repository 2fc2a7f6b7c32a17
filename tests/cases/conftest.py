"""Case tests run against SQLite and a real, throwaway PostgreSQL server (``tests/pg.py``).

Each test gets a fresh database.
"""

from __future__ import annotations

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
def scanned_store(season_scanned) -> Path:
    """The small season scanned once with the full cn pack (read it; copy before writing)."""
    return season_scanned[0]
