"""Stores built from the hand-made worlds in synth.py, and a helper that runs checks on them."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import run_check

from promoguard import store

from .synth import brushing_world, review_world

WHEN = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


def run(con, codes: str, pack: str = "cn", overrides: dict | None = None):
    """Run the named checks on a store connection under a pack, optionally overriding parameters."""
    return run_check(con, codes, pack, overrides, detected_at=WHEN)


@pytest.fixture(scope="module")
def brushing_con(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("brush") / "s.duckdb")
    brushing_world().write(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def review_con(tmp_path_factory):
    con = store.connect(tmp_path_factory.mktemp("rev") / "s.duckdb")
    review_world().write(con)
    yield con
    con.close()
