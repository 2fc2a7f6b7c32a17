"""A store with two scans: a complete `cn` scan, then a newer partial `eu` scan of PRICE only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def two_scans(season_store, tmp_path_factory) -> tuple[Path, str, str]:
    """(store, complete cn scan id, newer partial eu scan id); read it, copy before writing."""
    from promoguard import engine

    path = tmp_path_factory.mktemp("two-scans") / "store.duckdb"
    shutil.copy(season_store, path)
    full = engine.scan(path, "cn")
    partial = engine.scan(path, "eu", checks="PRICE")
    return path, full.scan_id, partial.scan_id


@pytest.fixture
def two_scans_copy(two_scans, tmp_path) -> tuple[Path, str, str]:
    path, full, partial = two_scans
    copy = tmp_path / "store.duckdb"
    shutil.copy(path, copy)
    return copy, full, partial
