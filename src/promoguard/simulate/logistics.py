"""Fulfilment: dispatch promises, declared shipment, carrier pickup, tracking trajectories through
hub cities with a speed model, delivery and confirmation.

Honest trajectories: pickup in the merchant's city; for destinations >= 300 km away a transit scan
at the origin's regional hub, at the destination's hub (when different) and in the destination
city; then out_for_delivery and delivered in ``ship_to_city``. Legs run at 60-65 km/h by road
plus 2-8 h of sorting; hub-to-hub legs over 800 km with SF/JD fly at 600 km/h plus >= 3 h of
handling, so no honest pair of consecutive scans is faster than ~600 km/h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate import geo

NA = np.iinfo(np.int64).min  # the writer's empty timestamp

CARRIERS = np.array(["SF", "JD", "YTO", "ZTO", "STO", "YUNDA"])
CARRIER_PREFIX = np.array(["SF1", "JDV0", "YT8", "7", "77", "43"])
FAST = np.array([True, True, False, False, False, False])
H = cal.HOUR
#: Event type codes (indices into promoguard.model.EVENT_TYPES).
PICKUP, TRANSIT, OUT_FOR_DELIVERY, DELIVERED = 0, 1, 2, 3


@dataclass
class Modes:
    """Per-order injected logistics behaviour (bool arrays over orders), see inject_logistics."""

    ship001_late: np.ndarray
    ship001_none: np.ndarray
    ship003: np.ndarray
    ship004_early: np.ndarray
    ship004_city: np.ndarray
    ship004_teleport: np.ndarray
    parcel_weight: np.ndarray
    parcel_direct: np.ndarray
    dup_owner: np.ndarray  # index of the order whose tracking number this order reuses, or -1


def dispatch_limits(paid: np.ndarray, promise_null: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(promised_dispatch_by or -1, effective limit): 72 h during the pre-sale and 11-11, else 48 h.
    With no promise the pack default (paid_at + 48 h) is the limit."""
    day = cal.day_of(paid)
    busy = ((day >= cal.PRESALE_FIRST_DAY) & (day <= cal.PRESALE_LAST_DAY)) | (
        (day >= cal.D11_DAY) & (day <= cal.D11_DAY + 1)
    )
    promise = paid + np.where(busy, 72 * H, 48 * H)
    effective = np.where(promise_null, paid + 48 * H, promise)
    return np.where(promise_null, -1, promise), effective


def dispatch_times(
    rng: np.random.Generator, paid: np.ndarray, limit: np.ndarray, m: Modes
) -> tuple[np.ndarray, np.ndarray]:
    """(declared_shipped_at, first pickup) for every order."""
    n = len(paid)
    room = limit - paid - 15 * cal.MINUTE
    delay = np.clip(rng.lognormal(np.log(14 * H), 0.6, n), 0.5 * H, room)
    late_honest = rng.random(n) < 0.04  # hard negative: dispatched just inside the promise
    delay[late_honest] = room[late_honest] - rng.integers(0, 3 * H, int(late_honest.sum()))
    pickup = paid + delay.astype(np.int64)
    declared = np.maximum(paid + 5 * cal.MINUTE, pickup - rng.integers(5 * cal.MINUTE, 4 * H, n))
    # SHIP001: declared shipped soon after payment, carrier pickup more than 24 h later
    i = m.ship001_late
    declared[i] = paid[i] + rng.integers(30 * cal.MINUTE, 3 * H, int(i.sum()))
    pickup[i] = declared[i] + rng.integers(26 * H, 60 * H, int(i.sum()))
    # SHIP003: picked up (and declared) after the limit
    i = m.ship003
    pickup[i] = limit[i] + rng.integers(2 * H, 40 * H, int(i.sum()))
    declared[i] = pickup[i] - rng.integers(10 * cal.MINUTE, 4 * H, int(i.sum()))
    # SHIP004: the carrier scanned a pre-printed label before the buyer paid
    i = m.ship004_early
    pickup[i] = paid[i] - rng.integers(2 * H, 20 * H, int(i.sum()))
    return declared, pickup


def tracking_numbers(shard: int, carrier: np.ndarray, start: int, n: int) -> np.ndarray:
    """Unique per data set: a bijective scramble (odd multiplier, not a multiple of 5) mod 10^12."""
    key = shard * 10_000_000 + start + np.arange(n, dtype=np.int64)
    num = (key * 982_451_653 + 7_654_321) % 10**12
    digits = np.char.zfill(num.astype(str), 12)
    return np.char.add(CARRIER_PREFIX[carrier], digits)


def trajectories(
    rng: np.random.Generator,
    origin: np.ndarray,
    dest: np.ndarray,
    t0: np.ndarray,
    fast: np.ndarray,
    teleport: np.ndarray,
    direct: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Events of n parcels: (parcel index, event_at, event_type, city index), plus delivered_at."""
    n = len(origin)
    idx = np.arange(n)
    out_p, out_t, out_e, out_c = [], [], [], []

    def emit(mask: np.ndarray, t: np.ndarray, etype: int, city: np.ndarray) -> None:
        out_p.append(idx[mask])
        out_t.append(t[mask])
        out_e.append(np.full(int(mask.sum()), etype, dtype=np.int8))
        out_c.append(city[mask])

    def hours(lo: float, hi: float) -> np.ndarray:
        return (rng.uniform(lo, hi, n) * H).astype(np.int64)

    all_ = np.ones(n, dtype=bool)
    emit(all_, t0, PICKUP, origin)
    t = t0.copy()
    cur = origin.copy()
    # SHIP004 teleport: a transit scan > 1500 km away 15-40 minutes after pickup
    far_city = np.array(
        [
            int(np.argmax(geo.distance_km(np.full(len(geo.CITIES), c), np.arange(len(geo.CITIES)))))
            for c in range(len(geo.CITIES))
        ]
    )
    tp = teleport
    t = np.where(tp, t + (rng.uniform(15, 40, n) * 60).astype(np.int64), t)
    emit(tp, t, TRANSIT, far_city[origin])
    cur = np.where(tp, far_city[origin], cur)

    d = geo.distance_km(origin, dest)
    far = (d >= 300) & ~direct
    near = ~far & ~direct
    # near: an optional sorting scan in the origin city
    scan = near & (rng.random(n) < 0.5)
    t = np.where(scan, t + hours(1, 4), t)
    emit(scan, t, TRANSIT, origin)
    # far: origin hub, destination hub, destination city
    hub1, hub2 = geo.HUB_OF[origin], geo.HUB_OF[dest]
    t = np.where(far, t + (geo.distance_km(cur, hub1) / 60 * H).astype(np.int64) + hours(2, 6), t)
    emit(far, t, TRANSIT, hub1)
    two = far & (hub2 != hub1)
    dd = geo.distance_km(hub1, hub2)
    speed = np.where(fast & (dd > 800), 600.0, 65.0)
    t = np.where(two, t + (dd / speed * H).astype(np.int64) + hours(3, 8), t)
    emit(two, t, TRANSIT, hub2)
    last = far & (dest != hub2)
    t = np.where(last, t + (geo.distance_km(hub2, dest) / 60 * H).astype(np.int64) + hours(2, 5), t)
    emit(last, t, TRANSIT, dest)
    # near/direct: the road leg to the destination
    road = near | direct
    t = np.where(road, t + (d / 60 * H).astype(np.int64) + hours(2, 6), t)
    t = t + hours(1, 10)
    emit(all_, t, OUT_FOR_DELIVERY, dest)
    t = t + hours(0.5, 6)
    emit(all_, t, DELIVERED, dest)
    return (
        np.concatenate(out_p),
        np.concatenate(out_t),
        np.concatenate(out_e),
        np.concatenate(out_c),
        t,
    )


def weights(
    rng: np.random.Generator, median_g: np.ndarray, min_g: np.ndarray, qty: np.ndarray
) -> np.ndarray:
    w = median_g * qty * rng.lognormal(0, 0.35, len(qty))
    return np.maximum(w, 1.5 * min_g).astype(np.int64)


SHIP005_RATE = 0.01  # of delivered orders that showed a delivery date: delivered after it
PROMISE_SHOWN = 0.6  # orders whose page showed a promised delivery date (预计送达)


def delivery_promises(
    rng: np.random.Generator, paid: np.ndarray, delivered: np.ndarray, eligible: np.ndarray
) -> np.ndarray:
    """``promised_delivery_by`` per order (NA when none was shown): the end of a Beijing day.

    An honest promise is the day of the actual delivery or one to three days later (a quarter
    on the very day: delivered hours before the promise ends, the hard negative of SHIP005);
    an order never delivered was promised five days after payment. About ``SHIP005_RATE`` of the
    eligible delivered orders were promised one to three days before they arrived (SHIP005).
    Drawn from its own stream, so the rest of the season does not change."""
    n = len(paid)
    shown = rng.random(n) < PROMISE_SHOWN
    has_d = delivered != NA
    d_day = np.where(has_d, (delivered - cal.T0) // cal.DAY, (paid - cal.T0) // cal.DAY + 5)
    slack = np.where(rng.random(n) < 0.25, 0, rng.integers(1, 4, n))
    late = shown & has_d & eligible & (rng.random(n) < SHIP005_RATE)
    day = np.where(late, d_day - rng.integers(1, 4, n), d_day + np.where(has_d, slack, 0))
    end_of_day = cal.T0 + (day + 1) * cal.DAY - 1
    return np.where(shown, end_of_day, NA).astype(np.int64)
