"""The simulated small season, generated once for this folder's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from promoguard.simulate import generate

SEED = 11


@pytest.fixture(scope="session")
def small_season(tmp_path_factory) -> tuple[Path, dict]:
    """The full `small` scale (CSV) and its summary."""
    out = tmp_path_factory.mktemp("sim_small")
    return out, generate("small", SEED, out)
