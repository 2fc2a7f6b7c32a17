"""Stores built from the hand-made brushing world in synth.py, once per module."""

from __future__ import annotations

import pytest
from tests.support import make_store

from .synth import brushing_world


@pytest.fixture(scope="module")
def brushing_con(tmp_path_factory):
    con = make_store(tmp_path_factory.mktemp("brush") / "s.duckdb", brushing_world().tables())
    yield con
    con.close()
