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


@njit(cache=True, nogil=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]`` for n <= 128 (one block, no halving)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    whole = n - (n % 8)
    while i < whole:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``a[lo:lo + n].sum()`` as numpy adds a contiguous float64 array: its pairwise summation
    (eight running sums over blocks of at most 128; longer runs cut in halves at a multiple of
    eight, the two sums added). The peel's densities start from this total; tests hold it equal
    to numpy's on thousands of arrays. The halving is walked with a stack of its own, not by
    recursion (a recursive function does not load back from numba's cache)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    # frames of the halving: start, length, state (0 new, 1 left half pending, 2 right half
    # pending), the left half's sum; 64 levels halve any length an int64 holds
    f_lo = np.empty(64, np.int64)
    f_n = np.empty(64, np.int64)
    f_state = np.zeros(64, np.int64)
    f_left = np.zeros(64, np.float64)
    depth = 0
    f_lo[0], f_n[0] = lo, n
    value = 0.0
    have = False  # value is the sum of the frame just popped
    while True:
        if have:
            if depth < 0:
                return value
            half = f_n[depth] // 2
            half -= half % 8
            if f_state[depth] == 1:
                f_left[depth] = value
                f_state[depth] = 2
                have = False
                depth += 1
                f_lo[depth] = f_lo[depth - 1] + half
                f_n[depth] = f_n[depth - 1] - half
                f_state[depth] = 0
            else:
                value = f_left[depth] + value
                depth -= 1
            continue
        size = f_n[depth]
        if size <= 128:
            value = _block_sum(a, f_lo[depth], size)
            have = True
            depth -= 1
            continue
        half = size // 2
        half -= half % 8
        f_state[depth] = 1
        depth += 1
        f_lo[depth] = f_lo[depth - 1]
        f_n[depth] = half
        f_state[depth] = 0


@njit(cache=True, nogil=True)
def _prune(
    n_nodes: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, min_degree: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``fraudar.prune_below`` on edge arrays: each node's degree is its edges' weights added in
    edge order from 0.0 (``bincount``'s sums), the rounds repeat until every edge stays."""
    while src.shape[0] > 0:
        deg = np.zeros(n_nodes, np.float64)
        for i in range(src.shape[0]):
            deg[src[i]] += w[i]
        for i in range(dst.shape[0]):
            deg[dst[i]] += w[i]
        keep = np.empty(src.shape[0], np.bool_)
        n_keep = 0
        for i in range(src.shape[0]):
            keep[i] = deg[src[i]] >= min_degree and deg[dst[i]] >= min_degree
            if keep[i]:
                n_keep += 1
        if n_keep == src.shape[0]:
            break
        src, dst, w = src[keep], dst[keep], w[keep]
    return src, dst, w


@njit(cache=True, nogil=True)
def peel_parts(
    n_buyers: int,
    n_merchants: int,
    buyer: np.ndarray,
    merchant: np.ndarray,
    weight: np.ndarray,
    order: np.ndarray,
    cuts: np.ndarray,
    min_density: float,
    max_blocks: int,
) -> np.ndarray:
    """``rings.fraudar_blocks``' loop over the connected parts, whole: each part (the edges
    ``order[cuts[k]:cuts[k + 1]]``, in that order) numbered compactly as ``fraudar.compact`` does
    (its buyers, then its shops, each in ascending index: the same ties), peeled up to
    ``max_blocks`` times, each peel's buyers set aside and the rest pruned below ``min_density``.
    Returns the peeled flags over every node (buyers, then shops). Between the peels the Python
    loop spent more time in numpy's calls (compact, subgraph, prune, sum) than in the peels."""
    peeled = np.zeros(n_buyers + n_merchants, np.bool_)
    local_b = np.full(n_buyers, -1, np.int64)
    local_m = np.full(n_merchants, -1, np.int64)
    for k in range(cuts.shape[0] - 1):
        idx = order[cuts[k] : cuts[k + 1]]
        bs = np.unique(buyer[idx])
        ms = np.unique(merchant[idx])
        nb = bs.shape[0]
        n_local = nb + ms.shape[0]
        for i in range(nb):
            local_b[bs[i]] = i
        for i in range(ms.shape[0]):
            local_m[ms[i]] = nb + i
        to_global = np.empty(n_local, np.int64)
        to_global[:nb] = bs
        to_global[nb:] = n_buyers + ms
        m = idx.shape[0]
        src = np.empty(m, np.int64)
        dst = np.empty(m, np.int64)
        w = np.empty(m, np.float64)
        for i in range(m):
            src[i] = local_b[buyer[idx[i]]]
            dst[i] = local_m[merchant[idx[i]]]
            w[i] = weight[idx[i]]
        for _ in range(max_blocks):
            if w.shape[0] == 0:
                break
            nodes, _best = peel_graph(n_local, src, dst, w, pairwise_sum(w, 0, w.shape[0]))
            if nodes.shape[0] == 0:
                break
            gone = np.zeros(n_local, np.bool_)
            for v in nodes:
                gone[v] = True
                peeled[to_global[v]] = True
            keep = np.empty(src.shape[0], np.bool_)
            for i in range(src.shape[0]):
                keep[i] = not gone[src[i]]
            src, dst, w = _prune(n_local, src[keep], dst[keep], w[keep], min_density)
    return peeled
