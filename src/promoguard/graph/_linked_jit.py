"""BRUSH002's per-segment walks compiled (numba): the same steps as ``linked._distinct_py`` and
``linked._windows_py``, on integer arrays.

At city scale BRUSH002 judges 620,000 orders in 496,000 (component, shop) segments: counting
each segment's distinct buyers took a hash-based ``np.unique`` over all of them, and the window
scan of the 5,544 live segments a Python loop with a set per order and ``np.isin`` per group,
some 1.4 CPU s holding the GIL. Compiled, both are single passes over the arrays that release
the GIL. Everything is whole numbers (epoch seconds, buyer numbers, counts), so the results are
the Python loops' exactly; tests compare the two.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def segment_distinct(seg_start: np.ndarray, seg_end: np.ndarray, buyer: np.ndarray, nb: int):
    """How many distinct buyers each segment ``[seg_start[k], seg_end[k])`` holds."""
    seen = np.full(nb, -1, np.int64)
    out = np.zeros(seg_start.shape[0], np.int64)
    for k in range(seg_start.shape[0]):
        for i in range(seg_start[k], seg_end[k]):
            b = buyer[i]
            if seen[b] != k:
                seen[b] = k
                out[k] += 1
    return out


@njit(cache=True, nogil=True)
def segment_windows(
    live: np.ndarray,
    seg_start: np.ndarray,
    seg_end: np.ndarray,
    paid: np.ndarray,
    buyer: np.ndarray,
    nb: int,
    window: int,
    min_buyers: float,
    offset: int,
):
    """For each live segment (orders sorted by time): whether some window of ``window`` seconds
    from one of its orders holds ``min_buyers`` distinct buyers; the first such window's start,
    the last one's end, the orders of the buyers met in such windows between the two, those
    buyers (ascending, as ``ptr``/``buyers``: group q's are ``buyers[ptr[q]:ptr[q + 1]]``), and
    the longest run of consecutive weeks in each of which such a window began (local weeks from
    Monday, ``offset`` seconds east of UTC)."""
    n_live = live.shape[0]
    found = np.zeros(n_live, np.bool_)
    start_t = np.zeros(n_live, np.int64)
    end_t = np.zeros(n_live, np.int64)
    n_orders = np.zeros(n_live, np.int64)
    weeks = np.zeros(n_live, np.int64)
    ptr = np.zeros(n_live + 1, np.int64)
    buyers = np.empty(max(paid.shape[0], 1), np.int64)
    count = np.zeros(nb, np.int64)  # each buyer's orders in the current window
    mark = np.full(nb, -1, np.int64)  # == q: met in a window of live segment q
    emitted = np.full(nb, -1, np.int64)
    n_out = 0
    for q in range(n_live):
        k = live[q]
        lo, hi = seg_start[k], seg_end[k]
        distinct = 0
        j = lo
        marked_to = lo
        have = False
        first, last = 0, 0
        week = 0
        run = 0
        for i in range(lo, hi):
            while j < hi and paid[j] - paid[i] <= window:
                if count[buyer[j]] == 0:
                    distinct += 1
                count[buyer[j]] += 1
                j += 1
            # the window is [i, j): window >= 0, so it holds order i itself
            if distinct >= min_buyers:
                # the window's week: windows begin in time order, so a new week is a change,
                # and the week after the last one carries its run on
                w = ((paid[i] + offset) // 86400 + 3) // 7
                if not have or w != week:
                    run = run + 1 if have and w == week + 1 else 1
                    if run > weeks[q]:
                        weeks[q] = run
                    week = w
                for x in range(max(i, marked_to), j):
                    mark[buyer[x]] = q
                if j > marked_to:
                    marked_to = j
                if not have:
                    first = paid[i]
                    last = paid[j - 1]
                    have = True
                elif paid[j - 1] > last:
                    last = paid[j - 1]
            count[buyer[i]] -= 1
            if count[buyer[i]] == 0:
                distinct -= 1
        ptr[q + 1] = n_out
        if not have:
            continue
        found[q] = True
        start_t[q] = first
        end_t[q] = last
        n = 0
        for x in range(lo, hi):
            b = buyer[x]
            if mark[b] == q:
                if first <= paid[x] <= last:
                    n += 1
                if emitted[b] != q:
                    emitted[b] = q
                    buyers[n_out] = b
                    n_out += 1
        n_orders[q] = n
        buyers[ptr[q] : n_out].sort()
        ptr[q + 1] = n_out
    return found, start_t, end_t, n_orders, ptr, buyers[:n_out].copy(), weeks
