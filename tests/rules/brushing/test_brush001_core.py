"""BRUSH001's engine-side pieces: the prune rounds only shrink what leaves the engine (any number
of rounds gives the same blocks), and the median shop degree from the engine's histogram is
numpy's median."""

from __future__ import annotations

import ibis
import numpy as np
import pytest
from tests.support import run_check

from promoguard.engine.base import Tables
from promoguard.rules.brushing import brush001_dense_buyer_merchant_block as b1


def test_prune_rounds_change_what_is_pulled_not_what_is_found(brushing_con, monkeypatch):
    tables = Tables(ibis.duckdb.from_connection(brushing_con))
    params = b1.DenseBuyerMerchantBlock().parameter_defaults()
    rep, _ = b1._repeat_edges(tables)
    every = tables.to_arrow(rep).num_rows
    found, pulled = [], []
    for rounds in (0, 1, 3, 12):
        monkeypatch.setattr(b1, "PRUNE_ROUNDS", rounds)
        pulled.append(b1._core_edges(tables, params)[0].num_rows)
        result = run_check(brushing_con, "BRUSH001")
        found.append(
            list(zip(result.findings.finding_id, result.findings.evidence_sha256, strict=True))
        )
    assert pulled[0] == every and pulled[-1] < every  # the rounds do shrink the pull
    assert all(f == found[0] for f in found) and found[0]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 101, 1000])
def test_median_degree_from_the_histogram_is_numpys(n):
    tables = Tables(ibis.duckdb.connect())
    degrees = np.random.default_rng(n).integers(1, 30, size=n)
    got = b1._median_degree(tables, ibis.memtable({"deg": degrees}))
    assert got == float(np.median(degrees))
