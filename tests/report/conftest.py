"""The small season with a complete `cn` scan, for the report's tests (read it, do not write)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def scanned_season(season_scanned) -> tuple[Path, str]:
    return season_scanned  # the root conftest's one scan of the season, sealed by the scan
