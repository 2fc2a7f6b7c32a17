"""A store built from the hand-made review world in synth.py, once per module."""

from __future__ import annotations

import pytest
from tests.support import make_store

from .synth import review_world


@pytest.fixture(scope="module")
def review_con(tmp_path_factory):
    con = make_store(tmp_path_factory.mktemp("rev") / "s.duckdb", review_world().tables())
    yield con
    con.close()
