"""BRUSH001's engine-side pieces: the prune rounds only shrink what leaves the engine (any number
of rounds gives the same blocks), and the median shop degree from the engine's histogram is
numpy's median."""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest
from tests.support import run_check

from promoguard.engine.base import ScanContext, Tables
from promoguard.graph import rings
from promoguard.rules.brushing import brush001_dense_buyer_merchant_block as b1

from .synth import T0, World


def test_prune_rounds_change_what_is_pulled_not_what_is_found(brushing_con, monkeypatch):
    tables = Tables(ibis.duckdb.from_connection(brushing_con))
    params = b1.DenseBuyerMerchantBlock().parameter_defaults()
    rep, _ = b1._repeat_edges(tables)
    every = tables.to_arrow(rep).num_rows
    found, pulled = [], []
    # Spark's rounds, on DuckDB (which by default hands every repeat edge to the arrays)
    for rounds, in_duckdb in ((0, True), (1, True), (3, True), (12, False), (12, True)):
        monkeypatch.setattr(b1, "PRUNE_ROUNDS", rounds)
        monkeypatch.setattr(b1, "PRUNE_IN_DUCKDB", in_duckdb)
        pulled.append(b1._core_edges(tables, params)[0].num_rows)
        result = run_check(brushing_con, "BRUSH001")
        found.append(
            list(zip(result.findings.finding_id, result.findings.evidence_sha256, strict=True))
        )
    # the rounds do shrink the pull; without them DuckDB pulls every repeat edge
    assert pulled[0] == pulled[3] == every and pulled[-1] < every
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
    monkeypatch.setattr(b1, "PRUNE_IN_DUCKDB", True)
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


def _buying_groups_one_block_at_a_time(tables, blocks, params, ctx):
    """The form _buying_groups had before it was vectorised: each order's neighbours walked."""
    limit = float(params.get("max_shared_occasion_share", 1.0))
    window = int(float(params.get("session_minutes", 30)) * 60)
    min_days = int(params.get("min_group_days", 3))
    min_weeks = int(params.get("min_group_weeks", 4))
    o = tables.orders
    o = o.filter(o.status != "cancelled")
    offset = b1.utc_offset_hours(ctx.timezone) * 3600
    pulled = tables.to_arrow(
        o.select("buyer_id", "merchant_id", t=b1.epoch_seconds(o.paid_at))
    ).to_pydict()
    by_buyer: dict[str, list[tuple[str, int]]] = {}
    for b, m, t in zip(pulled["buyer_id"], pulled["merchant_id"], pulled["t"], strict=True):
        by_buyer.setdefault(b, []).append((m, int(t)))
    groups = {}
    for index, blk in enumerate(blocks):
        shops = set(blk.merchants)
        visits = sorted((m, t, b) for b in blk.buyers for m, t in by_buyer.get(b, []) if m in shops)
        shared_days: set[int] = set()
        n_shared = 0
        for i, (m, t, b) in enumerate(visits):
            near = False
            for j in (i - 1, i + 1):
                k, step = j, (-1 if j < i else 1)
                while (
                    0 <= k < len(visits) and visits[k][0] == m and abs(visits[k][1] - t) <= window
                ):
                    if visits[k][2] != b:
                        near = True
                        break
                    k += step
                if near:
                    break
            if near:
                n_shared += 1
                shared_days.add((t + offset) // 86400)
        weeks = {(d + 3) // 7 for d in shared_days}
        if (
            visits
            and n_shared / len(visits) > limit
            and len(shared_days) >= min_days
            and len(weeks) >= min_weeks
        ):
            first, last = min(shared_days), max(shared_days)
            groups[index] = (
                f"looks like a recurring buying group (拼单): {n_shared} of its {len(visits)} "
                f"orders at these shops were placed within {window // 60} min of another "
                f"member's, in sittings on {len(shared_days)} days across {len(weeks)} weeks "
                f"({b1._day(first)} to {b1._day(last)}); lowered, not dropped: a ring's burst "
                "lasts days"
            )
    return groups


SITTINGS = [0, 10, 30, 40, 70, 600, 610, 1000]


@pytest.mark.parametrize("seed", range(12))
def test_buying_groups_for_all_blocks_at_once_equal_one_block_at_a_time(seed):
    """Blocks of 2-5 buyers over 1-3 shops; orders on a coarse clock (ties, exact window
    edges), repeated orders by one buyer, orders at other shops, some buyers in no block."""
    rng = np.random.default_rng(seed)
    buyers = [f"B{i:03d}" for i in range(40)]
    shops = [f"S{i:02d}" for i in range(6)]
    rows = []
    for _ in range(1500):
        rows.append(
            {
                "buyer_id": buyers[rng.integers(len(buyers))],
                "merchant_id": shops[rng.integers(len(shops))],
                # a few times of day over four weeks: orders exactly 0, 10, 30 or 40 min apart
                "paid_at": T0
                + dt.timedelta(days=int(rng.integers(0, 28)), minutes=int(rng.choice(SITTINGS))),
                "status": "cancelled" if rng.random() < 0.05 else "paid",
            }
        )
    con = duckdb.connect()
    con.register("o", pd.DataFrame(rows))
    con.execute("CREATE TABLE orders AS SELECT * FROM o")
    tables = Tables(ibis.duckdb.from_connection(con))
    order = rng.permutation(len(buyers))
    blocks, at = [], 0
    while at < 30:
        k = int(rng.integers(2, 6))
        members = sorted(buyers[i] for i in order[at : at + k])
        mine = sorted(rng.choice(shops, size=int(rng.integers(1, 4)), replace=False).tolist())
        blocks.append(rings.Block(members, mine, {}, 0, 0, 0.0, 0, 0))
        at += k
    params = {
        "max_shared_occasion_share": float(rng.choice([0.0, 0.2, 0.5])),
        "session_minutes": int(rng.choice([10, 30, 40])),
        "min_group_days": int(rng.integers(1, 4)),
        "min_group_weeks": int(rng.integers(1, 5)),
    }
    ctx = ScanContext(pack="cn", engine="duckdb", timezone="Asia/Shanghai")
    want = _buying_groups_one_block_at_a_time(tables, blocks, params, ctx)
    assert b1._buying_groups(tables, blocks, params, ctx) == want
    if seed == 2:
        assert want and len(want) < len(blocks)  # some blocks are groups, some are not
