"""Brushing injections: buyer rings (BRUSH001), linked accounts (BRUSH002), order velocity
(BRUSH003), and the fresh accounts behind spam review bursts (REVIEW003's orders).

Injected buyers come from the shard's reserved accounts (never used by honest orders), so a
ring's members, devices and addresses are exactly the ring; the one exception is BRUSH001, where
half the rings reuse a few real accounts (honest buyers living alone, with their own history).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate.orders import paid_times, pick_device
from promoguard.simulate.prices import PricePlan
from promoguard.simulate.world import World

TAG_BRUSH001, TAG_BRUSH002, TAG_BRUSH003, TAG_REVIEW003 = 1, 2, 3, 4
RING_REUSE_P = 0.5  # BRUSH001 rings that reuse real accounts with an honest history


@dataclass
class BrushingPlan:
    orders: dict[str, np.ndarray]
    truth: list[tuple[str, str, str]]
    brush003_merchants: np.ndarray
    review003_listings: list[int] = field(default_factory=list)


class _Accounts:
    """Hands out reserved buyer indices in order."""

    def __init__(self, first: int, end: int) -> None:
        self.next, self.end = first, end

    def take(self, k: int) -> np.ndarray:
        if self.next + k > self.end:
            raise RuntimeError("simulator ran out of reserved accounts; raise the reserve")
        out = np.arange(self.next, self.next + k)
        self.next += k
        return out


def _listing_of(
    rng: np.random.Generator,
    by_merchant: list[np.ndarray],
    plan: PricePlan,
    merchant: int,
    day: int,
) -> int:
    """A listing of the merchant on sale that day (any of its listings if none is yet)."""
    rows = by_merchant[merchant]
    live = rows[plan.start_day[rows] <= day]
    return int(rng.choice(live if len(live) else rows))


def inject_brushing(
    rng: np.random.Generator,
    w: World,
    plan: PricePlan,
    n_honest: int,
    rates,
    honest_listing_counts: np.ndarray,
) -> BrushingPlan:
    acc = _Accounts(n_honest, len(w.buyer_id))
    m = len(w.merchant_id)
    others = np.setdiff1d(np.arange(m), [w.popular_merchant])
    pop_p = w.merchant_popularity / w.merchant_popularity.sum()
    order = np.argsort(w.listing_merchant, kind="stable")
    by_merchant = np.split(order, np.cumsum(np.bincount(w.listing_merchant, minlength=m))[:-1])
    order = np.argsort(w.listing_merchant, kind="stable")
    by_merchant = np.split(order, np.cumsum(np.bincount(w.listing_merchant, minlength=m))[:-1])
    rows: dict[str, list[int]] = {"listing": [], "buyer": [], "paid": [], "tag": []}
    truth: list[tuple[str, str, str]] = []

    def add(listing: int, buyer: int, paid: int, tag: int) -> None:
        rows["listing"].append(listing)
        rows["buyer"].append(buyer)
        rows["paid"].append(paid)
        rows["tag"].append(tag)

    # paid_at offsets within a day, drawn in bulk (one draw per injected order is slow)
    offsets = paid_times(rng, np.zeros(200_000, dtype=np.int64)) - cal.T0
    cursor = iter(range(len(offsets)))

    popular_draws = iter(rng.choice(m, size=200_000, p=pop_p).tolist())

    def popular_merchant() -> int:
        return next(popular_draws)

    def one_paid(day: int) -> int:
        return cal.T0 + day * cal.DAY + int(offsets[next(cursor) % len(offsets)])

    # real accounts a ring may reuse: honest buyers living alone (a household's shared address
    # would link the ring to its family, which is BRUSH002's business)
    addr_use = np.bincount(w.buyer_address[:n_honest])
    solo = np.flatnonzero(addr_use[w.buyer_address[:n_honest]] == 1)

    # BRUSH001: dense rings, camouflaged by purchases at popular merchants; half the rings reuse
    # 2..half of their accounts from real, older accounts with an honest history (bought or
    # borrowed accounts), so "fresh accounts only" is no shortcut
    used_targets = np.zeros(0, dtype=np.int64)
    for _ in range(max(1, round(rates.brush001_rings * m))):
        ring = acc.take(int(rng.integers(6, 13)))
        if rng.random() < RING_REUSE_P and len(solo) > len(ring):
            k = int(rng.integers(2, len(ring) // 2 + 1))
            ring[:k] = rng.choice(solo, size=k, replace=False)
            solo = np.setdiff1d(solo, ring[:k])
        # rings work disjoint sets of shops, so each labelled ring is one block
        free = np.setdiff1d(others, used_targets)
        targets = rng.choice(
            free if len(free) >= 3 else others, size=int(rng.integers(2, 4)), replace=False
        )
        used_targets = np.union1d(used_targets, targets)
        for b in ring:
            for t in targets:
                for day in rng.choice(
                    cal.N_ORDER_DAYS, size=int(rng.integers(2, 5)), replace=False
                ):
                    add(
                        _listing_of(rng, by_merchant, plan, int(t), int(day)),
                        int(b),
                        one_paid(int(day)),
                        TAG_BRUSH001,
                    )
            for _k in range(int(rng.integers(2, 5))):
                day = int(rng.integers(cal.N_ORDER_DAYS))
                mm = w.popular_merchant if rng.random() < 0.5 else popular_merchant()
                add(_listing_of(rng, by_merchant, plan, mm, day), int(b), one_paid(day), 0)
        truth.append(("BRUSH001", "buyer_group", "|".join(sorted(w.buyer_id[ring]))))

    # BRUSH002: accounts sharing one device (and half the rings one address), ordering together
    for _ in range(max(1, round(rates.brush002_rings * m))):
        ring = acc.take(int(rng.integers(3, 7)))
        w.buyer_device[ring] = w.buyer_device[ring[0]]
        w.buyer_device2[ring] = -1
        if rng.random() < 0.5:
            w.buyer_address[ring] = w.buyer_address[ring[0]]
        target = int(rng.choice(others))
        days = rng.choice(
            np.arange(3, cal.N_ORDER_DAYS), size=int(rng.integers(3, 6)), replace=False
        )
        for occasion, day in enumerate(days):
            t0 = one_paid(int(day))
            # every member joins the first occasion, so the ring is exactly its component
            who = (
                ring
                if len(ring) <= 3 or occasion == 0
                else rng.choice(ring, size=int(rng.integers(3, len(ring) + 1)), replace=False)
            )
            for b in who:
                add(
                    _listing_of(rng, by_merchant, plan, target, int(day)),
                    int(b),
                    t0 + int(rng.integers(0, 100 * cal.MINUTE)),
                    TAG_BRUSH002,
                )
        for b in ring:
            for _k in range(int(rng.integers(0, 3))):
                day = int(rng.integers(cal.N_ORDER_DAYS))
                add(
                    _listing_of(rng, by_merchant, plan, popular_merchant(), day),
                    int(b),
                    one_paid(day),
                    0,
                )
        truth.append(("BRUSH002", "buyer_group", "|".join(sorted(w.buyer_id[ring]))))

    # BRUSH003: night bursts of several orders per account within an hour
    b3 = rng.choice(others, size=max(1, round(rates.brush003 * m)), replace=False)
    for mm in b3:
        for day in rng.choice(
            np.arange(5, cal.N_ORDER_DAYS), size=int(rng.integers(3, 7)), replace=False
        ):
            t0 = cal.T0 + int(day) * cal.DAY + 2 * cal.HOUR + int(rng.integers(0, 2 * cal.HOUR))
            for b in acc.take(int(rng.integers(2, 5))):
                for _k in range(int(rng.integers(3, 6))):
                    add(
                        _listing_of(rng, by_merchant, plan, int(mm), int(day)),
                        int(b),
                        t0 + int(rng.integers(0, 55 * cal.MINUTE)),
                        TAG_BRUSH003,
                    )
        truth.append(("BRUSH003", "merchant", str(w.merchant_id[mm])))

    # REVIEW003: a burst of fresh accounts buying one listing on one day (reviews come later)
    eligible = np.flatnonzero(honest_listing_counts >= 10)
    r3 = rng.choice(
        eligible,
        size=min(len(eligible), max(1, round(rates.review003_bursts * len(w.listing_id)))),
        replace=False,
    )
    for li in r3:
        day = int(rng.integers(max(10, plan.start_day[li]), cal.N_ORDER_DAYS - 5))
        t0 = one_paid(day)
        for b in acc.take(int(rng.integers(6, 13))):
            add(int(li), int(b), t0 + int(rng.integers(0, 8 * cal.HOUR)), TAG_REVIEW003)

    listing = np.array(rows["listing"], dtype=np.int64)
    buyer = np.array(rows["buyer"], dtype=np.int64)
    n = len(listing)
    orders = {
        "listing": listing,
        "buyer": buyer,
        "qty": np.ones(n, dtype=np.int64),
        "paid": np.array(rows["paid"], dtype=np.int64),
        "device": pick_device(rng, w, buyer),
        "address": w.buyer_address[buyer],
        "tag": np.array(rows["tag"], dtype=np.int64),
    }
    return BrushingPlan(orders, truth, w.merchant_id[b3], [int(x) for x in r3])


def reserve_size(n_merchants: int, n_listings: int) -> int:
    """Enough reserved accounts for the injections above at any rate the config allows."""
    return 12 * n_merchants + 13 * n_listings // 8 + 200
