"""The small season with a complete `cn` scan, for the report's tests (read it, do not write)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def scanned_season(season_store, tmp_path_factory) -> tuple[Path, str]:
    from promoguard import engine

    path = tmp_path_factory.mktemp("report-store") / "store.duckdb"
    shutil.copy(season_store, path)
    return path, engine.scan(path, "cn").scan_id  # sealed by the scan itself
