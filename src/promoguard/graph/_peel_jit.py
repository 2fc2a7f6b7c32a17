"""FRAUDAR's greedy peel compiled (numba): the same steps as ``fraudar._peel_order``, on arrays.

At city scale BRUSH001 peels some eleven thousand parts, the largest (~9,000 edges) twenty to
thirty times each as rings are set aside one after another: three million heap operations, six
CPU seconds as Python bytecode, under one compiled. The result is the same to the bit: the valid
pops of any binary heap come out in (degree, node) order whatever its layout, and every float
operation is the Python loop's, in the same order (numba keeps IEEE semantics unless told
``fastmath``, which it is not). Tests compare the two on graphs full of ties.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _sift_down(key: np.ndarray, node: np.ndarray, size: int, pos: int) -> None:
    k, v = key[pos], node[pos]
    while True:
        c = 2 * pos + 1
        if c >= size:
            break
        if c + 1 < size and (
            key[c + 1] < key[c] or (key[c + 1] == key[c] and node[c + 1] < node[c])
        ):
            c += 1
        if key[c] < k or (key[c] == k and node[c] < v):
            key[pos], node[pos] = key[c], node[c]
            pos = c
        else:
            break
    key[pos], node[pos] = k, v


@njit(cache=True, nogil=True)
def peel_order(
    start: np.ndarray,
    other: np.ndarray,
    wt: np.ndarray,
    deg: np.ndarray,
    live: np.ndarray,
    total: float,
) -> tuple[np.ndarray, float]:
    """(the nodes removed before the densest prefix, in removal order; its density).
    ``deg`` is updated in place."""
    size = live.shape[0]
    key = np.empty(size + other.shape[0] + 1, np.float64)
    node = np.empty(size + other.shape[0] + 1, np.int64)
    for i in range(size):
        key[i] = deg[live[i]]
        node[i] = live[i]
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(key, node, size, i)
    removed = np.zeros(deg.shape[0], np.bool_)
    removal = np.empty(live.shape[0], np.int64)
    n_removed = 0
    n_left = live.shape[0]
    best = total / n_left
    best_step = 0
    bar = best * (1 - 1e-12)
    while size > 0 and n_left > 1:
        d, v = key[0], node[0]
        size -= 1
        if size > 0:
            key[0], node[0] = key[size], node[size]
            _sift_down(key, node, size, 0)
        if removed[v] or d != deg[v]:
            continue  # stale entry
        removed[v] = True
        removal[n_removed] = v
        n_removed += 1
        n_left -= 1
        total -= d
        for i in range(start[v], start[v + 1]):
            u = other[i]
            if not removed[u]:
                du = deg[u] - wt[i]
                deg[u] = du
                pos = size  # push (du, u): sift up
                size += 1
                while pos > 0:
                    p = (pos - 1) // 2
                    if du < key[p] or (du == key[p] and u < node[p]):
                        key[pos], node[pos] = key[p], node[p]
                        pos = p
                    else:
                        break
                key[pos], node[pos] = du, u
        score = (0.0 if total < 0.0 else total) / n_left  # max(total, 0.0) as Python has it
        if score >= bar:
            best = score
            best_step = n_removed
            bar = best * (1 - 1e-12)
    return removal[:best_step].copy(), best


@njit(cache=True, nogil=True)
def peel_graph(
    n_nodes: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, total: float
) -> tuple[np.ndarray, float]:
    """``fraudar.greedy_peel`` whole on the edge arrays: (the densest prefix's nodes, ascending;
    its density). BRUSH001 peels some eleven thousand small parts, most of them several times:
    per peel, numpy's calls around the loop (the weighted degrees, the adjacency's stable sort,
    the live nodes, the kept nodes) cost more than the loop. Every value is the one those calls
    give: each node's degree is its edges' weights added in edge order from 0.0 (``bincount``),
    and a node's neighbours come in edge order (a stable sort of the endpoints; a node is a
    buyer, only in ``src``, or a merchant, only in ``dst``). ``total`` is the weights' sum as
    numpy takes it (pairwise), from the caller."""
    n_edges = src.shape[0]
    deg = np.zeros(n_nodes, np.float64)
    count = np.zeros(n_nodes + 1, np.int64)
    for i in range(n_edges):
        deg[src[i]] += w[i]
        count[src[i] + 1] += 1
    for i in range(n_edges):
        deg[dst[i]] += w[i]
        count[dst[i] + 1] += 1
    start = np.cumsum(count)
    fill = start[:-1].copy()
    other = np.empty(2 * n_edges, np.int64)
    wt = np.empty(2 * n_edges, np.float64)
    for i in range(n_edges):
        at = fill[src[i]]
        other[at], wt[at] = dst[i], w[i]
        fill[src[i]] = at + 1
    for i in range(n_edges):
        at = fill[dst[i]]
        other[at], wt[at] = src[i], w[i]
        fill[dst[i]] = at + 1
    n_live = 0
    for v in range(n_nodes):
        if count[v + 1] > 0:
            n_live += 1
    live = np.empty(n_live, np.int64)
    k = 0
    for v in range(n_nodes):
        if count[v + 1] > 0:
            live[k] = v
            k += 1
    removal, best = peel_order(start, other, wt, deg, live, total)
    gone = np.zeros(n_nodes, np.bool_)
    for v in removal:
        gone[v] = True
    n_kept = 0
    for v in live:
        if not gone[v]:
            n_kept += 1
    nodes = np.empty(n_kept, np.int64)
    k = 0
    for v in live:
        if not gone[v]:
            nodes[k] = v
            k += 1
    return nodes, best
