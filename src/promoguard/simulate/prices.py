"""Price schedules (one price per listing per Beijing day) and the honest variants around them.

The schedule ``P[listing, day]`` (integer cents) is what the detail page offers all day; orders pay
exactly it. Variants below are the honest behaviours (each a hard negative for PRICE003) and the
raise-then-cut injection (PRICE003), which has to be decided before orders are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promoguard.simulate import calendar as cal


def to_dime(cents: np.ndarray) -> np.ndarray:
    """Round to 10 fen (derived prices: discounts, raises)."""
    return (np.round(np.asarray(cents, dtype=float) / 10.0) * 10).astype(np.int64)


@dataclass
class PricePlan:
    P: np.ndarray  # (listings, N_PRICE_DAYS) cents
    start_day: np.ndarray  # first day the listing is on sale (new listings start late)
    in_promo: np.ndarray  # bool: takes part in Double 11 with a discount
    variant: np.ndarray  # str label of the honest/injected schedule variant (for docs/tests)
    price003: np.ndarray  # bool: raise-then-cut injected


def plan_prices(rng: np.random.Generator, base: np.ndarray, rate003: float) -> PricePlan:
    n = len(base)
    days = cal.N_PRICE_DAYS
    P = np.repeat(base[:, None], days, axis=1).astype(np.int64)
    variant = np.full(n, "constant", dtype=object)
    u = rng.random(n)
    # exclusive variants by slices of one uniform draw
    cuts = np.cumsum([rate003, 0.08, 0.10, 0.06, 0.05, 0.08])
    is003 = u < cuts[0]
    early = (u >= cuts[0]) & (u < cuts[1])
    progressive = (u >= cuts[1]) & (u < cuts[2])
    modest = (u >= cuts[2]) & (u < cuts[3])
    deep = (u >= cuts[3]) & (u < cuts[4])
    new = (u >= cuts[4]) & (u < cuts[5])
    start = np.zeros(n, dtype=np.int64)
    d_idx = np.arange(days)[None, :]

    # early rise (hard negative): a 10-30% rise on Beijing 09-06..09-10, before the baseline window
    i = np.flatnonzero(early)
    r = rng.integers(1, 6, len(i))
    low = to_dime(base[i] / rng.uniform(1.10, 1.30, len(i)))
    P[i] = np.where(d_idx < r[:, None], low[:, None], P[i])
    variant[i] = "early_rise"
    # progressive reductions (hard negative): -5% from mid October, -10% from early November
    i = np.flatnonzero(progressive)
    a = rng.integers(40, 51, len(i))
    b = rng.integers(55, 63, len(i))
    P[i] = np.where(d_idx >= a[:, None], to_dime(base[i] * 0.95)[:, None], P[i])
    P[i] = np.where(d_idx >= b[:, None], to_dime(base[i] * 0.90)[:, None], P[i])
    variant[i] = "progressive"
    # modest rise inside the look-back (hard negative): +3..8%
    i = np.flatnonzero(modest)
    a = rng.integers(40, 59, len(i))
    P[i] = np.where(
        d_idx >= a[:, None], to_dime(base[i] * rng.uniform(1.03, 1.08, len(i)))[:, None], P[i]
    )
    variant[i] = "modest_rise"
    # rise then a genuinely deep cut (hard negative): +12..20%, promo price far below the old level
    i = np.flatnonzero(deep)
    a = rng.integers(40, 56, len(i))
    P[i] = np.where(
        d_idx >= a[:, None], to_dime(base[i] * rng.uniform(1.12, 1.20, len(i)))[:, None], P[i]
    )
    variant[i] = "rise_then_deep_cut"
    # new listings (hard negative): short history starting 2026-10-27 .. 2026-11-05
    i = np.flatnonzero(new)
    start[i] = rng.integers(52, 62, len(i))
    variant[i] = "new_listing"
    # PRICE003 injection: +15..40% in the look-back window, then a "discount" back to about the base
    i = np.flatnonzero(is003)
    a = rng.integers(38, 59, len(i))
    P[i] = np.where(
        d_idx >= a[:, None], to_dime(base[i] * rng.uniform(1.15, 1.40, len(i)))[:, None], P[i]
    )
    variant[i] = "raise_then_cut"

    # one-day coupons on 1-3 random days (any honest listing, 15%), never on 11-11
    plain = ~is003
    i = np.flatnonzero(plain & (rng.random(n) < 0.15))
    for k in range(3):
        day = rng.integers(0, cal.D11_DAY, len(i))
        keep = rng.random(len(i)) < (1.0 if k == 0 else 0.4)
        rows, cols = i[keep], day[keep]
        P[rows, cols] = to_dime(P[rows, cols] * 0.9)
    # pre-sale discounts (25% of honest listings): -5..10% on Beijing 10-21..10-31
    i = np.flatnonzero(plain & (rng.random(n) < 0.25))
    f = rng.uniform(0.90, 0.95, len(i))
    sl = slice(cal.PRESALE_FIRST_DAY, cal.PRESALE_LAST_DAY + 1)
    P[i, sl] = to_dime(P[i, sl] * f[:, None])

    # Double 11: 80% take part; the honest discount is 10-50% off the level of the day before
    in_promo = rng.random(n) < 0.8
    in_promo |= is003
    before = P[:, cal.D11_DAY - 1]
    promo = to_dime(before * (1 - rng.uniform(0.10, 0.50, n)))
    i = np.flatnonzero(deep)
    promo[i] = to_dime(base[i] * rng.uniform(0.60, 0.80, len(i)))
    i = np.flatnonzero(is003)
    promo[i] = to_dime(base[i] * rng.uniform(0.97, 1.05, len(i)))
    P[:, cal.D11_DAY] = np.where(in_promo, promo, before)
    # afterwards back to the pre-promotion level
    P[:, cal.D11_DAY + 1 :] = before[:, None]
    P = np.maximum(P, 100)
    return PricePlan(P, start, in_promo, variant, is003)
