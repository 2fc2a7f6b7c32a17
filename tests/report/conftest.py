"""The small season with a complete `cn` scan, for the report's tests (read it, do not write)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def scanned_season(season_store, tmp_path_factory) -> tuple[Path, str]:
    from promoguard import engine
    from promoguard.store import seal_store_scan

    path = tmp_path_factory.mktemp("report-store") / "store.duckdb"
    shutil.copy(season_store, path)
    scan_id = engine.scan(path, "cn").scan_id
    seal_store_scan(path, scan_id)  # as `promoguard scan` does: the report then verifies
    return path, scan_id
