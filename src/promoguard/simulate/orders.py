"""Honest orders: a daily rhythm, the 11-11 spike, and the offered price of the day."""

from __future__ import annotations

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate.prices import PricePlan
from promoguard.simulate.world import World

ORDER_FIELDS = ("listing", "buyer", "qty", "paid", "device", "address", "tag")


def concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def paid_times(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A paid_at on each Beijing day following the hour-of-day curve (11-11 has a midnight rush)."""
    hours = rng.choice(24, size=len(days), p=cal.HOUR_WEIGHTS)
    d11 = days == cal.D11_DAY
    hours[d11] = rng.choice(24, size=int(d11.sum()), p=cal.D11_HOUR_WEIGHTS)
    return cal.T0 + days * cal.DAY + hours * cal.HOUR + rng.integers(0, cal.HOUR, len(days))


def pick_device(rng: np.random.Generator, w: World, buyer: np.ndarray) -> np.ndarray:
    dev = w.buyer_device[buyer].copy()
    second = w.buyer_device2[buyer]
    use2 = (second >= 0) & (rng.random(len(buyer)) < 0.3)
    dev[use2] = second[use2]
    return dev


def honest_orders(
    rng: np.random.Generator, w: World, plan: PricePlan, n_honest_buyers: int
) -> dict[str, np.ndarray]:
    nd = cal.N_ORDER_DAYS
    season = cal.season_demand()
    active = np.arange(nd)[None, :] >= plan.start_day[:, None]
    P = plan.P[:, :nd]
    base = plan.P[:, [cal.LOOKBACK_DAYS[0] - 10]].astype(float)
    elasticity = (P / base) ** -1.5  # cheaper days sell more
    lam = w.listing_demand[:, None] * season[None, :] * active * elasticity
    counts = rng.poisson(lam)
    listing, day = np.nonzero(counts)
    reps = counts[listing, day]
    listing = np.repeat(listing, reps)
    day = np.repeat(day, reps)
    n = len(listing)
    p = w.buyer_weight[:n_honest_buyers] / w.buyer_weight[:n_honest_buyers].sum()
    buyer = rng.choice(n_honest_buyers, size=n, p=p)
    # heavy loyal buyers (hard negative): 1 per 15 merchants, 10-20 orders at one merchant
    lm = w.listing_merchant[listing]
    merchants, per = np.unique(lm, return_counts=True)
    big = merchants[per >= 40]
    n_loyal = max(2, len(w.merchant_id) // 15)
    for m in rng.choice(big, size=min(n_loyal, len(big)), replace=False) if len(big) else []:
        rows = np.flatnonzero(lm == m)
        take = rng.choice(rows, size=min(len(rows) // 3, int(rng.integers(10, 21))), replace=False)
        buyer[take] = rng.integers(n_honest_buyers)
    qty = np.where(rng.random(n) < 0.85, 1, rng.integers(2, 4, n))
    paid = paid_times(rng, day)
    o = {
        "listing": listing.astype(np.int64),
        "buyer": buyer.astype(np.int64),
        "qty": qty.astype(np.int64),
        "paid": paid.astype(np.int64),
        "device": pick_device(rng, w, buyer),
        "address": w.buyer_address[buyer],
        "tag": np.zeros(n, dtype=np.int64),
    }
    return o
