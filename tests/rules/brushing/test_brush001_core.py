"""BRUSH001's engine-side pieces: the prune rounds only shrink what leaves the engine (any number
of rounds gives the same blocks), and the median shop degree from the engine's histogram is
numpy's median."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pytest
from tests.support import run_check

from promoguard.engine.base import Tables
from promoguard.rules.brushing import brush001_dense_buyer_merchant_block as b1

from .synth import T0, World


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


def _ring_and_ladder() -> World:
    """A ring (six buyers x two shops, four orders each) and a ladder the prune eats from both
    ends one rung per round: 150 shops in a chain b0-m0-b1-m1-..., two orders per rung, each
    shop crowded by 40 one-off buyers so that a rung weighs ln 2 / ln 47 = 0.18: a node with
    two rungs (0.36) passes min_density 0.2, an end with one does not, and its neighbour then
    has one. Each round removes two rungs of ~300 edges: under the early-stop share."""
    shops = [f"L{i:03d}" for i in range(150)]
    w = World(merchants=["M010", "M011", *shops])
    at = T0
    for b in range(6):
        for m in ("M010", "M011"):
            for k in range(4):
                w.order(f"R{b:02d}", m, at + dt.timedelta(hours=k))
    for i, shop in enumerate(shops):
        for buyer in (f"C{i:03d}", f"C{i + 1:03d}"):
            for k in range(2):
                w.order(buyer, shop, at + dt.timedelta(days=k))
        for j in range(40):
            w.order(f"X{i:03d}-{j:02d}", shop, at)
    return w


def test_rounds_stopped_early_on_a_slow_cascade_find_what_the_full_prune_finds(
    tiny_store, monkeypatch
):
    con = tiny_store(_ring_and_ladder().tables())
    tables = Tables(ibis.duckdb.from_connection(con))
    params = b1.DenseBuyerMerchantBlock().parameter_defaults()
    runs = {}
    for name, rounds, share in (("early", 12, b1.PRUNE_STOP_SHARE), ("full", 1000, 0.0)):
        monkeypatch.setattr(b1, "PRUNE_ROUNDS", rounds)
        monkeypatch.setattr(b1, "PRUNE_STOP_SHARE", share)
        core = b1._core_edges(tables, params)[0]
        result = run_check(con, "BRUSH001")
        runs[name] = (core, result.findings)
    early, full = runs["early"], runs["full"]
    # the full prune in the engine eats the whole ladder; the early stop leaves most of it
    assert set(full[0].column("buyer").to_pylist()) == {f"R{b:02d}" for b in range(6)}
    assert early[0].num_rows > full[0].num_rows + 250
    # ... and the arrays finish it: the same findings, byte for byte
    cols = ["finding_id", "severity", "evidence_sha256", "observed"]
    assert early[1][cols].equals(full[1][cols])
    assert list(full[1].entity_id) == ["|".join(f"R{b:02d}" for b in range(6))]
