"""The compiled greedy peel (numba) against its Python form: the same removal order, prefix and
density to the bit, on graphs full of ties (equal weights, equal degrees) where only the
(degree, node) order decides."""

from __future__ import annotations

import numpy as np
import pytest

from promoguard.graph import fraudar

jit = pytest.importorskip("promoguard.graph._peel_jit", reason="numba is not installed")


def _graph(seed: int) -> fraudar.BipartiteGraph:
    rng = np.random.default_rng(seed)
    n_b, n_m = int(rng.integers(2, 60)), int(rng.integers(1, 15))
    n = int(rng.integers(1, 4 * (n_b + n_m)))
    key = np.unique(rng.integers(0, n_b, n) * n_m + rng.integers(0, n_m, n))
    b, m = key // n_m, key % n_m
    if seed % 3 == 0:  # equal weights: ties everywhere
        w = np.full(len(key), 0.5)
    elif seed % 3 == 1:  # a handful of weights: sums meet again after different paths
        w = rng.choice([0.1, 0.2, 0.3, 1 / 3], size=len(key))
    else:
        w = fraudar.camouflage_weights(m, rng.integers(1, 6, len(key)), n_m)
    return fraudar.BipartiteGraph.build(n_b, n_m, b, m, w, np.ones(len(key), dtype=np.int64))


@pytest.mark.parametrize("seed", range(60))
def test_compiled_peel_is_the_python_peel_to_the_bit(seed):
    g = _graph(seed)
    live = np.unique(np.concatenate([g.src(), g.dst()]))
    start, other, wt = fraudar.adjacency(g)
    deg = fraudar.node_degrees(g)
    want = fraudar.peel_order_py(start, other, wt, deg.copy(), live, float(g.weight.sum()))
    got = jit.peel_order(start, other, wt, deg.copy(), live, float(g.weight.sum()))
    assert got[0].tolist() == want[0].tolist()
    assert got[1] == want[1]


def test_greedy_peel_is_the_same_with_and_without_the_compiled_loop(monkeypatch):
    assert fraudar._peel_order.__wrapped__() is jit.peel_order  # the scan does use it
    g = _graph(4)
    fast = fraudar.greedy_peel(g)
    monkeypatch.setattr(fraudar, "_peel_order", lambda: fraudar.peel_order_py)
    slow = fraudar.greedy_peel(g)
    assert fast.nodes.tolist() == slow.nodes.tolist() and fast.density == slow.density


@pytest.mark.parametrize("seed", range(60))
def test_whole_compiled_peel_is_the_python_steps_to_the_bit(seed, monkeypatch):
    # the compiled peel with its own degrees and adjacency (one call per peel) against numpy's
    # steps around the Python loop: the same kept nodes and density, to the bit. A subgraph
    # keeps the part's numbering, so nodes without an edge (set aside) must stay out of it
    g = _graph(seed)
    if seed % 2:
        g = g.subgraph(g.buyer % 3 != 0)
    assert fraudar._peel_graph() is jit.peel_graph  # the scan does use it
    got = fraudar.greedy_peel(g)
    monkeypatch.setattr(fraudar, "_peel_graph", lambda: None)
    monkeypatch.setattr(fraudar, "_peel_order", lambda: fraudar.peel_order_py)
    want = fraudar.greedy_peel(g)
    assert got.nodes.dtype == want.nodes.dtype
    assert got.nodes.tolist() == want.nodes.tolist()
    assert got.density == want.density


def test_whole_compiled_peel_keeps_set_aside_nodes_out_of_a_weightless_part(monkeypatch):
    # the random graphs above never tell: a node without an edge has degree 0 and goes first, so
    # it is never kept while some weight is left. A part of one-order pairs weighs 0 (log 1): every
    # prefix is as dense, the peel runs to its last node, and that must be one with an edge (the
    # set-aside buyer 1 and shop 3 numbered around it)
    g = fraudar.BipartiteGraph.build(2, 2, [0, 1], [0, 1], [0.0, 0.7], [1, 2])
    g = g.subgraph(np.array([True, False]))
    got = fraudar.greedy_peel(g)
    monkeypatch.setattr(fraudar, "_peel_graph", lambda: None)
    monkeypatch.setattr(fraudar, "_peel_order", lambda: fraudar.peel_order_py)
    want = fraudar.greedy_peel(g)
    assert got.nodes.tolist() == want.nodes.tolist() == [2]
    assert got.density == want.density == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_compiled_pairwise_sum_is_numpys_sum_to_the_bit(seed):
    # the whole-part peel starts each peel from the weights' total as numpy adds them (pairwise,
    # blocks of 128, halves at multiples of 8): lengths around every cut, values of mixed size
    rng = np.random.default_rng(seed)
    sizes = [*range(0, 300), 1000, 1031, 4096, 8191, 8192, 8193, 20011, 65537]
    for n in sizes:
        a = rng.random(n + 7) * 10.0 ** rng.integers(-6, 9, n + 7)
        a = a[rng.random(n + 7) < 0.9][:n]  # a fancy-indexed copy, as a subgraph's weights
        assert jit.pairwise_sum(a, 0, len(a)) == float(a.sum()), n
    # and on a sum where the order of additions shows: 1e16 swallows a 1 added to it alone
    a = np.array([1e16] + [1.0] * 200, dtype=np.float64)
    assert jit.pairwise_sum(a, 0, len(a)) == float(a.sum()) != sum(a.tolist())
