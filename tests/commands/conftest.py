"""A store with two scans: a complete `cn` scan, then a newer partial `eu` scan of PRICE only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def two_scans(season_scanned, tmp_path_factory) -> tuple[Path, str, str]:
    """(store, complete cn scan id, newer partial eu scan id); read it, copy before writing.

    A copy of the root conftest's scanned season (its cn scan made once per test process) with
    the eu scan added."""
    from promoguard import engine

    scanned, full = season_scanned
    path = tmp_path_factory.mktemp("two-scans") / "store.duckdb"
    shutil.copy(scanned, path)
    partial = engine.scan(path, "eu", checks="PRICE")
    return path, full, partial.scan_id


@pytest.fixture
def two_scans_copy(two_scans, tmp_path) -> tuple[Path, str, str]:
    path, full, partial = two_scans
    copy = tmp_path / "store.duckdb"
    shutil.copy(path, copy)
    return copy, full, partial
