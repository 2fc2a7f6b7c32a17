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
    paid = _night_owls(rng, w, listing, buyer, paid, n_honest_buyers)
    listing, buyer, qty, paid = _split_orders(rng, w, plan, listing, buyer, qty, paid)
    listing, buyer, qty, paid = _office_groups(rng, w, plan, listing, buyer, qty, paid)
    n = len(listing)
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


#: Honest habits that look like BRUSH003 signals on their own (hard negatives).
NIGHT_OWL_BUYERS = 0.03  # share of honest buyers who shop at night (night shifts, insomnia)
NIGHT_OWL_ORDER_SHARE = 0.7  # of a night owl's orders, placed at 02:00-04:00 Beijing
NIGHT_SHOPS = 0.06  # share of merchants whose clientele shops at night (gaming gear, night shifts)
NIGHT_SHOP_ORDER_SHARE = (0.25, 0.45)  # of such a shop's orders, placed at 02:00-04:00 Beijing
SPLIT_SESSION_P = (0.3, 0.1)  # 11-11 orders opening a split session: 00:00-01:59 Beijing, other
SPLIT_EXTRA = (1, 4)  # extra orders per session, [lo, hi)


def _at_night(rng: np.random.Generator, paid: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Move orders to 02:00-04:00 Beijing on the SAME Beijing day (so the offered price, which
    changes only at Beijing midnight, stays the order's unit price)."""
    out = paid.copy()
    day = cal.day_of(paid[rows])
    out[rows] = cal.T0 + day * cal.DAY + 2 * cal.HOUR + rng.integers(0, 2 * cal.HOUR, len(rows))
    return out


def _night_owls(
    rng: np.random.Generator,
    w: World,
    listing: np.ndarray,
    buyer: np.ndarray,
    paid: np.ndarray,
    n_honest_buyers: int,
) -> np.ndarray:
    """Night-owl buyers, and shops whose customers mostly order at night: odd hours alone are
    honest (BRUSH003 hard negative)."""
    owl = rng.random(n_honest_buyers) < NIGHT_OWL_BUYERS
    m = len(w.merchant_id)
    night_shop = rng.random(m) < NIGHT_SHOPS
    night_shop[w.popular_merchant] = False
    shop_share = rng.uniform(*NIGHT_SHOP_ORDER_SHARE, m)
    u = rng.random(len(buyer))
    lm = w.listing_merchant[listing]
    move = (owl[buyer] & (u < NIGHT_OWL_ORDER_SHARE)) | (night_shop[lm] & (u < shop_share[lm]))
    return _at_night(rng, paid, np.flatnonzero(move))


def _split_orders(
    rng: np.random.Generator,
    w: World,
    plan: PricePlan,
    listing: np.ndarray,
    buyer: np.ndarray,
    qty: np.ndarray,
    paid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """凑单/拆单 on 11-11: a buyer places 1-3 more orders at the same shop within minutes of an
    order to stack per-order coupons, most often right after midnight when the sale opens. Every
    extra order stays inside Beijing 11-11 and buys a listing of the shop on sale that day, so it
    pays the day's offered price like any order (BRUSH003 hard negative: one buyer, several
    orders at one shop in one hour, honest)."""
    day = cal.day_of(paid)
    hour = (paid - cal.T0 - day * cal.DAY) // cal.HOUR
    d11 = np.flatnonzero(day == cal.D11_DAY)
    p = np.where(hour[d11] < 2, SPLIT_SESSION_P[0], SPLIT_SESSION_P[1])
    starts = d11[rng.random(len(d11)) < p]
    k = rng.integers(*SPLIT_EXTRA, len(starts))
    src = np.repeat(starts, k)
    # the session's orders follow each other by 1-8 minutes
    step = rng.integers(cal.MINUTE, 8 * cal.MINUTE, len(src))
    first = np.r_[0, np.cumsum(k)[:-1]]
    csum = np.cumsum(step)
    within = csum - np.repeat(csum[first] - step[first], k)
    end_of_day = cal.T0 + (cal.D11_DAY + 1) * cal.DAY - 1
    extra_paid = np.minimum(paid[src] + within, end_of_day)
    m = len(w.merchant_id)
    on_sale = plan.start_day <= cal.D11_DAY
    cand = np.flatnonzero(on_sale)
    cand = cand[np.argsort(w.listing_merchant[cand], kind="stable")]
    bounds = np.searchsorted(w.listing_merchant[cand], np.arange(m + 1))
    shop = w.listing_merchant[listing[src]]
    lo, hi = bounds[shop], bounds[shop + 1]
    pick = lo + (rng.random(len(src)) * (hi - lo)).astype(np.int64)
    extra_listing = np.where(hi > lo, cand[np.minimum(pick, len(cand) - 1)], listing[src])
    extra_qty = np.ones(len(src), dtype=qty.dtype)
    return (
        np.concatenate([listing, extra_listing]),
        np.concatenate([buyer, buyer[src]]),
        np.concatenate([qty, extra_qty]),
        np.concatenate([paid, extra_paid]),
    )


OFFICE_GROUPS = 0.04  # per merchant: colleagues or a family ordering together from 2-3 shops
OFFICE_SIZE = (4, 9)  # members, [lo, hi)
OFFICE_SESSIONS = (6, 11)  # lunch orders over the season, [lo, hi)
OFFICE_JOIN_P = 0.7  # a member joins a session


def _office_groups(
    rng: np.random.Generator,
    w: World,
    plan: PricePlan,
    listing: np.ndarray,
    buyer: np.ndarray,
    qty: np.ndarray,
    paid: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Honest groups (BRUSH001 hard negative): colleagues (or a family) who order lunch snacks
    together, again and again, from the same 2-3 shops: 6-10 sessions on different days (never
    11-11), each at one of the shops at 11:00-13:00 Beijing, ~70% of the members joining within
    30 minutes. Members are ordinary honest buyers who also shop elsewhere; the orders pay the
    day's price like any order."""
    m = len(w.merchant_id)
    n_buyers = int(buyer.max()) + 1 if len(buyer) else 0
    shops_ok = np.flatnonzero(np.bincount(w.listing_merchant, minlength=m) > 0)
    shops_ok = shops_ok[shops_ok != w.popular_merchant]
    days_ok = np.setdiff1d(np.arange(cal.N_ORDER_DAYS), [cal.D11_DAY])
    add_l, add_b, add_p = [], [], []
    for _ in range(max(2, round(OFFICE_GROUPS * m))):
        members = rng.choice(n_buyers, size=int(rng.integers(*OFFICE_SIZE)), replace=False)
        shops = rng.choice(shops_ok, size=int(rng.integers(2, 4)), replace=False)
        n_sessions = int(rng.integers(*OFFICE_SESSIONS))
        days = np.sort(rng.choice(days_ok, size=n_sessions, replace=False))
        for j, day in enumerate(days.tolist()):
            shop = int(shops[j % len(shops)])
            rows = np.flatnonzero((w.listing_merchant == shop) & (plan.start_day <= day))
            if not len(rows):
                continue
            who = members[rng.random(len(members)) < OFFICE_JOIN_P]
            t0 = cal.T0 + day * cal.DAY + 11 * cal.HOUR + int(rng.integers(0, 90 * cal.MINUTE))
            for b in who.tolist():
                add_l.append(int(rng.choice(rows)))
                add_b.append(b)
                add_p.append(t0 + int(rng.integers(0, 30 * cal.MINUTE)))
    k = len(add_l)
    return (
        np.concatenate([listing, np.array(add_l, dtype=listing.dtype)]),
        np.concatenate([buyer, np.array(add_b, dtype=buyer.dtype)]),
        np.concatenate([qty, np.ones(k, dtype=qty.dtype)]),
        np.concatenate([paid, np.array(add_p, dtype=paid.dtype)]),
    )
