"""SHIP004's fastest hops in one compiled pass over the scans as the engine stores them.

A carrier's scans of one parcel are usually stored together and in time order (they arrive
that way). Read in storage order, each scan's hop is then from the row before it, with no sort
of 29M rows; the pass only has to notice where that is not so. It reads the scans in record
batches (``h``: the parcel hash, ``t``: epoch microseconds, ``c``: a city code) and ends a *run*
wherever the hash changes. Per run it gives the fastest counted hop and whether the run is
*bad*: a scan not later than the one before it (two at one instant, or out of time order).

A hash whose rows form exactly one run that is not bad has its scans together and in strictly
increasing time, so the hops of the run are the hops of the definition (time order; the event
type and city break ties only, and there are none). Every other hash (two runs, a bad run) is
given to the exact recomputation, like a hash two parcels share. Which rows come first is the
engine's business: the result is the same in any order, only the number of hashes recomputed
changes.

Every float operation is the SQL form's, in the same order (the same IEEE doubles; numba keeps
IEEE semantics unless told ``fastmath``, which it is not), so the speeds are equal to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def runs_pass(
    h: np.ndarray,
    t: np.ndarray,
    c: np.ndarray,
    dkm: np.ndarray,
    counted: np.ndarray,
    state: np.ndarray,
    speed_state: np.ndarray,
    out_h: np.ndarray,
    out_speed: np.ndarray,
    out_bad: np.ndarray,
) -> int:
    """One batch of the pass; writes the runs it ends to ``out_*`` and returns how many.

    ``dkm[a, b]``: tenths of km from city code ``a`` to ``b``; ``counted[a, b]``: whether a hop
    between them counts (known cities, different, at least the minimum leg apart). ``state``
    (int64: open run?, its hash, last time, last city, bad?) and ``speed_state`` (its fastest hop,
    NaN for none) carry the open run from one batch to the next.
    """
    n = 0
    is_open, last_h, last_t, last_c, bad = state[0], state[1], state[2], state[3], state[4]
    best = speed_state[0]
    for i in range(h.shape[0]):
        hi, ti, ci = h[i], t[i], c[i]
        if is_open == 1 and hi == last_h:
            if ti <= last_t:
                bad = 1
            elif counted[last_c, ci]:
                # epoch_seconds: whole seconds, floored; a hop within a minute counts as one
                secs = ti // 1_000_000 - last_t // 1_000_000
                if secs < 60:
                    secs = 60
                # half_up_ratio(dkm * 3600, secs, 1) / 10: a double quotient of integers, floored
                num = dkm[last_c, ci] * 3600 * 2 + secs
                kmh = np.floor(float(num) / float(secs * 2))
                speed = float(np.int64(kmh)) / 10.0
                if np.isnan(best) or speed > best:
                    best = speed
        else:
            if is_open == 1:
                out_h[n], out_speed[n], out_bad[n] = last_h, best, bad
                n += 1
            is_open, bad, best = 1, 0, np.nan
        last_h, last_t, last_c = hi, ti, ci
    state[0], state[1], state[2], state[3], state[4] = is_open, last_h, last_t, last_c, bad
    speed_state[0] = best
    return n
