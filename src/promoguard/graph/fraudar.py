"""FRAUDAR-style dense-block detection on a bipartite buyer-merchant graph, on numpy arrays.

Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage" (KDD 2016): the suspicious
block maximises g(S) = f(S) / |S|, the total weight of edges inside S over the number of nodes in
S. Greedily peeling the node of least weighted degree and keeping the best prefix finds a block
within a factor 2 of the optimum in O(E log V). Edges into a merchant are weighted
1 / log(deg(merchant) + c): buying from a merchant that thousands of honest buyers use says little,
so a ring cannot hide behind (camouflage) or be imitated by traffic to popular merchants.

Scale: a node of the densest block has weighted degree inside it at least g(S) (otherwise dropping
it would raise g), so every node whose degree falls below the smallest density we would accept can
be removed first, repeatedly, as vectorised passes. On order graphs that prune removes nearly all
one-off buyers before the heap ever sees them.
"""

from __future__ import annotations

import functools
import heapq
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BipartiteGraph:
    """Aggregated edges: one per (buyer, merchant) pair, with its weight and order count.

    Buyers are nodes 0..n_buyers-1 and merchants n_buyers..n_buyers+n_merchants-1 in ``node``
    numbering; ``buyer`` and ``merchant`` hold each edge's side-local index.
    """

    n_buyers: int
    n_merchants: int
    buyer: np.ndarray  # int64, per edge
    merchant: np.ndarray  # int64, per edge
    weight: np.ndarray  # float64, per edge
    orders: np.ndarray  # int64, orders on the edge
    eid: np.ndarray  # int64, the edge's index in the graph it was cut from (first: 0..E-1)

    @property
    def n_nodes(self) -> int:
        return self.n_buyers + self.n_merchants

    def src(self) -> np.ndarray:
        return self.buyer

    def dst(self) -> np.ndarray:
        return self.merchant + self.n_buyers

    @classmethod
    def build(
        cls,
        n_buyers: int,
        n_merchants: int,
        buyer: np.ndarray,
        merchant: np.ndarray,
        weight: np.ndarray,
        orders: np.ndarray,
    ) -> BipartiteGraph:
        return cls(
            n_buyers,
            n_merchants,
            np.asarray(buyer, dtype=np.int64),
            np.asarray(merchant, dtype=np.int64),
            np.asarray(weight, dtype=np.float64),
            np.asarray(orders, dtype=np.int64),
            np.arange(len(buyer), dtype=np.int64),
        )

    def subgraph(self, keep_edge: np.ndarray) -> BipartiteGraph:
        return BipartiteGraph(
            self.n_buyers,
            self.n_merchants,
            self.buyer[keep_edge],
            self.merchant[keep_edge],
            self.weight[keep_edge],
            self.orders[keep_edge],
            self.eid[keep_edge],
        )


def camouflage_weights(
    merchant: np.ndarray, orders: np.ndarray, n_merchants: int, c: float = 5.0
) -> np.ndarray:
    """FRAUDAR's column weights times a repeat factor: ``log(orders) / log(deg(merchant) + c)``.

    deg is the merchant's number of distinct buyers. ``log(orders)`` makes a single purchase weigh
    nothing and repeated orders on one pair (what brushing rings place) weigh sub-linearly more,
    so honest buyers who shop around do not form dense blocks however many shops they visit.
    """
    degree = np.bincount(merchant, minlength=n_merchants)
    return column_weights(orders, degree[merchant], c)


def column_weights(orders: np.ndarray, merchant_degree: np.ndarray, c: float = 5.0) -> np.ndarray:
    """``log(orders) / log(deg + c)`` per edge, given each edge's merchant degree."""
    return np.log(np.asarray(orders, dtype=np.float64)) / np.log(
        np.asarray(merchant_degree, dtype=np.float64) + c
    )


def node_degrees(g: BipartiteGraph) -> np.ndarray:
    deg = np.zeros(g.n_nodes, dtype=np.float64)
    deg += np.bincount(g.src(), weights=g.weight, minlength=g.n_nodes)
    deg += np.bincount(g.dst(), weights=g.weight, minlength=g.n_nodes)
    return deg


def prune_below(g: BipartiteGraph, min_degree: float) -> BipartiteGraph:
    """Remove, repeatedly, every node whose weighted degree is below ``min_degree``.

    Safe for any block of density >= min_degree: each of its nodes keeps degree >= that density.
    """
    while len(g.weight):
        deg = node_degrees(g)
        keep = (deg[g.src()] >= min_degree) & (deg[g.dst()] >= min_degree)
        if keep.all():
            break
        g = g.subgraph(keep)
    return g


@dataclass(frozen=True)
class Peel:
    """The result of one greedy peel: the best block's nodes and its density g(S)."""

    nodes: np.ndarray  # node numbers (buyers < n_buyers <= merchants), ascending
    density: float


def greedy_peel(g: BipartiteGraph) -> Peel:
    """FRAUDAR's greedy peeling with a lazy binary heap: O(E log V).

    Ties are broken by node number, so with nodes numbered in id order the result does not depend
    on how the edges were ordered.
    """
    src, dst, w = g.src(), g.dst(), g.weight
    whole = _peel_graph()
    if whole is not None and len(w):
        nodes, best = whole(g.n_nodes, src, dst, w, float(w.sum()))
        return Peel(nodes, best)
    present = np.zeros(g.n_nodes, dtype=bool)
    present[src] = True
    present[dst] = True
    live = np.flatnonzero(present)
    if len(live) == 0:
        return Peel(np.zeros(0, dtype=np.int64), 0.0)
    start, other, wt = adjacency(g)
    removal, best = _peel_order()(start, other, wt, node_degrees(g), live, float(w.sum()))
    gone = np.zeros(g.n_nodes, dtype=bool)
    gone[removal] = True
    nodes = live[~gone[live]]
    return Peel(nodes, best)


def adjacency(g: BipartiteGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR adjacency over both endpoints: node v's neighbours are ``other[start[v]:start[v+1]]``
    with edge weights ``wt[...]``, in edge order."""
    src, dst, w = g.src(), g.dst(), g.weight
    ends = np.concatenate([src, dst])
    other = np.concatenate([dst, src])
    wt = np.concatenate([w, w])
    order = np.argsort(ends, kind="stable")
    ends, other, wt = ends[order], other[order], wt[order]
    start = np.searchsorted(ends, np.arange(g.n_nodes + 1))
    return start, other, wt


def peel_order_py(
    start: np.ndarray,
    other: np.ndarray,
    wt: np.ndarray,
    deg: np.ndarray,
    live: np.ndarray,
    total: float,
) -> tuple[np.ndarray, float]:
    """The peel itself over a CSR adjacency (``start``, ``other``, ``wt``): (the nodes removed
    before the densest prefix, in removal order; its density). Compiled in ``_peel_jit``; this
    Python form is what that must equal, and what runs where numba is not installed."""
    n_left = len(live)
    removed = bytearray(len(deg))  # a Python sequence: indexing it is far cheaper than numpy's
    deg_l = deg.tolist()
    heap = list(zip(deg[live].tolist(), live.tolist(), strict=True))
    heapq.heapify(heap)
    best, best_step = total / n_left, 0
    # ">= with a tolerance": on equal density prefer the smaller block (later in the peel)
    bar = best * (1 - 1e-12)
    removal: list[int] = []
    other_l, wt_l, start_l = other.tolist(), wt.tolist(), start.tolist()
    while heap and n_left > 1:
        d, v = heapq.heappop(heap)
        if removed[v] or d != deg_l[v]:
            continue  # stale entry
        removed[v] = 1
        removal.append(v)
        n_left -= 1
        total -= d
        for i in range(start_l[v], start_l[v + 1]):
            u = other_l[i]
            if not removed[u]:
                deg_l[u] -= wt_l[i]
                heapq.heappush(heap, (deg_l[u], u))
        score = max(total, 0.0) / n_left
        if score >= bar:
            best, best_step = score, len(removal)
            bar = best * (1 - 1e-12)
    return np.asarray(removal[:best_step], dtype=np.int64), best


@functools.cache
def _peel_order() -> Callable[..., tuple[np.ndarray, float]]:
    """The compiled peel when numba is there (imported on first use: a scan without BRUSH001
    pays nothing), else the Python one; PROMOGUARD_NO_JIT=1 forces the Python one."""
    if os.environ.get("PROMOGUARD_NO_JIT") == "1":
        return peel_order_py
    try:
        from promoguard.graph._peel_jit import peel_order
    except ImportError:  # pragma: no cover - numba is a dependency; an old venv may lack it
        return peel_order_py
    return peel_order


@functools.cache
def _peel_graph() -> Callable[..., tuple[np.ndarray, float]] | None:
    """The compiled peel with its adjacency and degrees (``_peel_jit.peel_graph``), or None where
    the Python steps run (no numba, or PROMOGUARD_NO_JIT=1)."""
    if _peel_order() is peel_order_py:
        return None
    from promoguard.graph._peel_jit import peel_graph

    return peel_graph


def compact(g: BipartiteGraph) -> tuple[BipartiteGraph, np.ndarray, np.ndarray]:
    """The same graph numbered 0..k-1 over the buyers and merchants it actually has.

    Returns (compact graph, global buyer index per local buyer, global merchant index per local
    merchant). Relabelling keeps the order of ids, so ties break the same way.
    """
    buyers, b = np.unique(g.buyer, return_inverse=True)
    merchants, m = np.unique(g.merchant, return_inverse=True)
    small = BipartiteGraph(len(buyers), len(merchants), b, m, g.weight, g.orders, g.eid)
    return small, buyers, merchants


def component_order(g: BipartiteGraph) -> tuple[np.ndarray, np.ndarray]:
    """(the edges grouped by connected part, in order of the part's smallest node and in edge
    order within a part; where each part starts, and the end): part k is
    ``order[cuts[k]:cuts[k + 1]]``."""
    from promoguard.graph.components import component_labels

    if not len(g.weight):
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    labels = component_labels(g.n_nodes, g.src(), g.dst())[g.src()]
    order = np.argsort(labels, kind="stable")
    inner = np.flatnonzero(np.diff(labels[order])) + 1
    return order, np.concatenate([[0], inner, [len(order)]]).astype(np.int64)


@functools.cache
def _peel_parts() -> Callable[..., np.ndarray] | None:
    """``_peel_jit.peel_parts`` (every part's peels in one compiled call), or None where the
    Python steps run (no numba, or PROMOGUARD_NO_JIT=1)."""
    if _peel_order() is peel_order_py:
        return None
    from promoguard.graph._peel_jit import peel_parts

    return peel_parts
