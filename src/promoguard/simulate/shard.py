"""One shard of the world, generated end to end: the unit of chunked output.

A shard is a self-contained marketplace slice (its own merchants, listings, buyers, orders...);
ids carry the shard number, so shards can be written one after another without holding the
whole data set in memory. Each shard draws from its own ``PCG64`` stream spawned from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from promoguard import model
from promoguard.simulate import calendar as cal
from promoguard.simulate import coupons, geo, labels, pack_truth
from promoguard.simulate import texts as tx
from promoguard.simulate.config import Scale
from promoguard.simulate.inject_brushing import TAG_BRUSH003, inject_brushing, reserve_size
from promoguard.simulate.inject_pricing import NA, legal_prior, msrp_for, observations
from promoguard.simulate.licences import build_licences
from promoguard.simulate.logistics import (
    CARRIERS,
    DELIVERED,
    FAST,
    Modes,
    delivery_promises,
    dispatch_limits,
    dispatch_times,
    tracking_numbers,
    trajectories,
    weights,
)
from promoguard.simulate.merchant_texts import merchant_texts
from promoguard.simulate.orders import concat, honest_orders
from promoguard.simulate.prices import plan_prices
from promoguard.simulate.world import (
    CATEGORIES,
    CATEGORY_NAMES,
    LICENCE_TYPE,
    LICENSED,
    WEIGHT_MEDIAN,
    WEIGHT_MIN,
    _ids,
    build_world,
)
from promoguard.simulate.writer import Coded

Columns = dict[str, np.ndarray]


@dataclass
class ShardOutput:
    tables: dict[str, Columns]  # canonical table -> column -> array (ints: seconds / cents / NA)
    truth: list[tuple[str, str, str]]
    #: the eu/uk/us packs' truth (their rules differ from cn's), see pack_truth.py
    pack_truth: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)


def shard_rng(seed: int, shard: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(shard,))))


def _exclusive(
    rng: np.random.Generator, eligible: np.ndarray, shares: list[float]
) -> list[np.ndarray]:
    """Split eligible rows into disjoint injected groups with the given shares."""
    u = rng.random(len(eligible))
    edges = np.cumsum([0.0, *shares])
    return [eligible & (u >= a) & (u < b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _share_tracking_numbers(
    rng: np.random.Generator, starts: np.ndarray, free: np.ndarray, merchant: np.ndarray
) -> np.ndarray:
    """SHIP002: each start order lends its tracking number to 1-3 other orders (30% of groups
    from the same merchant, the rest from anywhere). Returns the owner of each order or -1."""
    owner = np.full(len(merchant), -1)
    used = np.zeros(len(merchant), dtype=bool)
    used[starts] = True
    perm = iter(rng.permutation(free).tolist())
    by_m = free[np.lexsort((rng.random(len(free)), merchant[free]))]
    m_sorted = merchant[by_m]
    for s in starts.tolist():
        k = int(rng.integers(1, 4))
        if rng.random() < 0.3:
            lo, hi = np.searchsorted(m_sorted, [merchant[s], merchant[s] + 1])
            cand = [int(x) for x in by_m[lo:hi] if not used[x]][:k]
        else:
            cand = []
            for x in perm:
                if not used[x]:
                    cand.append(x)
                    if len(cand) == k:
                        break
        used[cand] = True
        owner[cand] = s
    return owner


def generate_shard(seed: int, shard: int, scale: Scale) -> ShardOutput:
    rng = shard_rng(seed, shard)
    rates = scale.rates
    M = scale.merchants_per_shard
    reserve = reserve_size(M, int(M * (scale.listings_per_merchant + 1)))
    w = build_world(
        rng,
        shard,
        M,
        scale.listings_per_merchant,
        scale.buyers_per_shard + reserve,
        scale.orders_per_listing_day,
    )
    nl = len(w.listing_id)
    plan = plan_prices(rng, w.listing_base_cents, rates.price003)
    honest = honest_orders(rng, w, plan, scale.buyers_per_shard)
    counts = np.bincount(honest["listing"], minlength=nl)
    bp = inject_brushing(rng, w, plan, scale.buyers_per_shard, rates, counts)
    o = concat(honest, bp.orders)
    order = np.argsort(o["paid"], kind="stable")
    o = {k: v[order] for k, v in o.items()}
    n = len(o["paid"])
    listing, paid, tag = o["listing"], o["paid"], o["tag"]
    merchant = w.listing_merchant[listing]
    cat = w.listing_category[listing]
    unit = plan.P[listing, np.clip(cal.day_of(paid), 0, cal.N_PRICE_DAYS - 1)]
    ship_city = w.address_city[o["address"]]
    origin = w.merchant_city[merchant]
    order_ids = _ids(f"O{shard:03d}", np.arange(n), 7)
    truth: list[tuple[str, str, str]] = list(bp.truth)

    # --- fulfilment and logistics -------------------------------------------------------------
    cancelled = (tag == 0) & (rng.random(n) < 0.025)
    promise, limit = dispatch_limits(paid, w.merchant_promise_null[merchant])
    eligible = (tag == 0) & ~cancelled
    r = rates
    (s001l, s001n, s003, s004e, s004c, s004t, pw, pd_, dup) = _exclusive(
        rng,
        eligible,
        [
            r.ship001 * 0.6,
            r.ship001 * 0.4,
            r.ship003,
            r.ship004 / 3,
            r.ship004 / 3,
            r.ship004 / 3,
            r.parcel001 * 0.5,
            r.parcel001 * 0.5,
            r.ship002,
        ],
    )
    far = geo.distance_km(origin, ship_city) > 350
    pd_ &= far
    dup_owner = _share_tracking_numbers(
        rng, np.flatnonzero(dup), np.flatnonzero(eligible & ~dup), merchant
    )
    modes = Modes(s001l, s001n, s003, s004e, s004c, s004t, pw, pd_, dup_owner)
    declared, pickup = dispatch_times(rng, paid, limit, modes)
    declared[cancelled] = NA
    carrier_of_m = rng.integers(0, len(CARRIERS), M)
    carrier = carrier_of_m[merchant]
    shipped = ~cancelled
    # shipments: one per shipped order, plus a second parcel for 1% (hard negative)
    s_order = np.flatnonzero(shipped)
    second = s_order[
        (tag[s_order] == 0) & (dup_owner[s_order] < 0) & (rng.random(len(s_order)) < 0.01)
    ]
    s_order = np.concatenate([s_order, second])
    s_carrier = carrier[s_order]
    s_trk = tracking_numbers(shard, s_carrier, 0, len(s_order))
    first_ship = np.full(n, -1)
    first_ship[s_order[::-1]] = np.arange(len(s_order))[::-1]
    reuse = dup_owner[s_order] >= 0
    owner_ship = first_ship[dup_owner[s_order[reuse]]]
    s_trk[reuse] = s_trk[owner_ship]
    s_carrier[reuse] = s_carrier[owner_ship]
    s_key = np.arange(len(s_order))  # integer parcel key: the shipment row owning the number
    s_key[reuse] = owner_ship
    qty = o["qty"]
    s_weight = weights(rng, WEIGHT_MEDIAN[cat[s_order]], WEIGHT_MIN[cat[s_order]], qty[s_order])
    light = pw[s_order]
    token = rng.integers(5, 46, len(s_order))
    s_weight[light] = np.where(rng.random(int(light.sum())) < 0.3, NA, token[light])
    # trajectories for parcels that move
    moving = ~reuse & ~s001n[s_order]
    mi = np.flatnonzero(moving)
    so = s_order[mi]
    dest = ship_city[so].copy()
    wrong = s004c[so]
    dest[wrong] = (dest[wrong] + rng.integers(1, len(geo.CITIES), int(wrong.sum()))) % len(
        geo.CITIES
    )
    t0 = pickup[so] + np.where(np.arange(len(so)) >= len(so) - len(second), 2 * cal.HOUR, 0)
    p_idx, e_t, e_type, e_city, delivered_at_p = trajectories(
        rng, origin[so], dest, t0, FAST[s_carrier[mi]], s004t[so], pd_[so]
    )
    keep = e_t <= cal.DATA_CUT
    ev_ship = mi[p_idx[keep]]
    ev = pd.DataFrame(
        {
            "trk": s_key[ev_ship],
            "t": e_t[keep],
            "type": e_type[keep],
            "city": e_city[keep],
            "seq": np.arange(int(keep.sum())),
        }
    )
    # delivery time per order (through the parcel whose number it carries)
    deliv_by_trk = ev[ev.type == DELIVERED].groupby("trk").t.min()
    s_deliv = pd.Series(s_key).map(deliv_by_trk).to_numpy()
    delivered_at = np.full(n, NA, dtype=np.int64)
    ok = ~np.isnan(s_deliv)
    first_rows = np.zeros(len(s_order), dtype=bool)
    first_rows[first_ship[first_ship >= 0]] = True
    sel = ok & first_rows
    delivered_at[s_order[sel]] = s_deliv[sel].astype(np.int64)
    # confirmation and status
    has_d = delivered_at != NA
    gap = np.where(rng.random(n) < 0.75, rng.lognormal(np.log(2 * cal.DAY), 0.7, n), 10 * cal.DAY)
    gap = np.where(tag == TAG_BRUSH003, rng.integers(2 * cal.MINUTE, 15 * cal.MINUTE, n), gap)
    confirmed = np.where(has_d, delivered_at + gap.astype(np.int64), NA)
    refunded = has_d & (tag == 0) & (rng.random(n) < 0.02)
    confirmed[refunded | (confirmed > cal.DATA_CUT)] = NA
    status = np.full(n, "shipped", dtype=object)
    status[has_d] = "delivered"
    status[confirmed != NA] = "confirmed"
    status[refunded] = "refunded"
    status[cancelled] = "cancelled"

    # --- promised delivery dates (SHIP005), on their own stream -------------------------------------
    drng = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(shard, 5005)))
    )
    promised_delivery = delivery_promises(drng, paid, delivered_at, (tag == 0) & ~cancelled)
    late_delivery = (
        (delivered_at != NA) & (promised_delivery != NA) & (delivered_at > promised_delivery)
    )
    truth += [("SHIP005", "order", x) for x in order_ids[late_delivery]]

    # --- prices on display, then rule-based pricing labels ---------------------------------------
    # the legal prior is the lowest TRANSACTED price (成交价格): a cancelled order never became a
    # transaction, so it does not count (as the cn pack's PRICE001 exclude_statuses says)
    sold = ~cancelled
    prior = legal_prior(nl, listing[sold], paid[sold], unit[sold])
    msrp = msrp_for(rng, w.listing_base_cents)
    live_listing = w.merchant_live[w.listing_merchant]
    obs, _flags = observations(rng, plan, prior, msrp, live_listing, rates)
    # coupons, 到手价 claims and prize games draw from their own streams (simulate/coupons.py)
    cp = coupons.build(
        seed,
        shard,
        w,
        plan.P,
        {
            "listing": listing,
            "paid": paid,
            "qty": o["qty"],
            "unit": unit,
            "honest": (tag == 0) & ~cancelled,
            "order_id": order_ids,
        },
        obs,
    )
    obs["final_price_claim"] = cp.final_price_claim
    obs["final_price_qty"] = cp.final_price_qty
    truth += cp.truth
    for code, flag in labels.pricing_labels(nl, prior, obs, msrp, plan.P, plan.start_day).items():
        truth += [(code, "listing", x) for x in w.listing_id[flag]]

    od = pd.DataFrame(
        {
            "idx": np.arange(n),
            "paid": paid,
            "promise": promise,
            "declared": declared,
            "city": ship_city,
            "cat": cat,
        }
    )
    od["promise"] = np.where(promise < 0, NA, promise)
    sd = pd.DataFrame({"order": s_order, "trk": s_key, "weight": s_weight})
    # PARCEL001's weights as the cn pack sets them (a missing weight alone is no empty parcel)
    cn_parcel = pack_truth.parcel_weights(pack_truth.pack_rules("cn")[1].get("PARCEL001", {}))
    for code, flag in labels.logistics_labels(
        od, sd, ev, WEIGHT_MIN, parcel_weights=cn_parcel
    ).items():
        truth += [(code, "order", x) for x in order_ids[flag]]

    # --- licences --------------------------------------------------------------------------------
    lic = build_licences(rng, w, rates.lic001)
    lic_df = lic.assign(vt=lic.vt.where(lic.vt != NA).astype(float), vf=lic.vf.astype(float))
    lflag = labels.licence_labels(
        M, merchant, cat, paid, lic_df, CATEGORY_NAMES, LICENCE_TYPE, LICENSED
    )
    truth += [("LIC001", "merchant", x) for x in w.merchant_id[lflag]]

    # --- reviews ---------------------------------------------------------------------------------
    quality = np.where(rng.random(nl) < 0.12, rng.uniform(2.6, 3.4, nl), rng.uniform(4.3, 4.8, nl))
    # a review follows receipt, and never precedes payment (pre-payment scans exist: SHIP004)
    received = np.where(delivered_at != NA, np.maximum(delivered_at, paid), NA)
    rv, rtruth = _reviews(rng, listing, o["buyer"], tag, received, quality, w, rates)
    review_ids = _ids(f"R{shard:03d}", np.arange(len(rv["order"])), 7)
    truth += [(c, t, str(review_ids[i])) for c, t, i in rtruth]

    # --- texts -----------------------------------------------------------------------------------
    tcols, ttruth = merchant_texts(rng, w, plan, listing, merchant, paid, shard, rates)
    truth += ttruth

    # --- assemble --------------------------------------------------------------------------------

    tables: dict[str, Columns] = {
        "merchants": {
            "merchant_id": w.merchant_id,
            "platform_id": np.array([f"P{p + 1}" for p in w.merchant_platform], dtype=object),
            "name": np.array(
                [
                    f"{tx.BRANDS[i % len(tx.BRANDS)]}{CATEGORIES[c].zh[0]}专营店 {k}"
                    for k, (i, c) in enumerate(
                        zip(rng.integers(0, 99, M), w.merchant_category, strict=True)
                    )
                ],
                dtype=object,
            ),
            "registered_at": w.merchant_registered,
        },
        "licences": {
            "licence_id": _ids(f"LC{shard:03d}", np.arange(len(lic)), 5),
            "merchant_id": w.merchant_id[lic.m.to_numpy()]
            if len(lic)
            else np.array([], dtype=object),
            "licence_type": lic.type.to_numpy(dtype=object),
            "valid_from": lic.vf.to_numpy(dtype=np.int64),
            "valid_to": lic.vt.to_numpy(dtype=np.int64),
            "scope": np.array([x if isinstance(x, str) else None for x in lic.scope], dtype=object),
        },
        "listings": {
            "listing_id": w.listing_id,
            "merchant_id": w.merchant_id[w.listing_merchant],
            "platform_id": np.array(
                [f"P{p + 1}" for p in w.merchant_platform[w.listing_merchant]], dtype=object
            ),
            "title": tcols.pop("_titles"),
            "category": CATEGORY_NAMES[w.listing_category].astype(object),
            "currency": np.full(nl, "CNY", dtype=object),
            "msrp": msrp,
        },
        "price_observations": {
            "listing_id": w.listing_id[obs["listing"]],
            **{k: v for k, v in obs.items() if k != "listing"},
        },
        "orders": {
            "order_id": order_ids,
            "listing_id": w.listing_id[listing],
            "merchant_id": w.merchant_id[merchant],
            "buyer_id": w.buyer_id[o["buyer"]],
            "quantity": qty,
            "unit_price": unit,
            "paid_at": paid,
            "promised_dispatch_by": np.where(promise < 0, NA, promise),
            "promised_delivery_by": promised_delivery,
            "declared_shipped_at": declared,
            "confirmed_at": confirmed,
            "status": status,
            "buyer_device_id": w.device_ids(o["device"]),
            "buyer_address_id": w.address_ids(o["address"]),
            "ship_to_city": Coded(ship_city, geo.CITY_NAMES),
            "placed_at": cp.placed_at,
            "discount_total": cp.discount_total,
        },
        "shipments": {
            "order_id": order_ids[s_order],
            "carrier": Coded(s_carrier, CARRIERS),
            "tracking_no": s_trk,
            "weight_grams": s_weight,
        },
        "tracking_events": _events_table(ev, s_trk, s_carrier),
        "reviews": {
            "review_id": review_ids,
            "listing_id": w.listing_id[rv["listing"]],
            "buyer_id": w.buyer_id[rv["buyer"]],
            "order_id": order_ids[rv["order"]],
            "rating": rv["rating"],
            "created_at": rv["created_at"],
            "text": rv["text"],
        },
        "texts": tcols,
        **cp.tables,
    }

    # the other packs' truth, by their own rules; no random draw, so cn's output is unchanged
    def _logistics(params: dict) -> dict:
        ship003 = params.get("SHIP003", {})
        dispatch_s = int(float(ship003.get("default_dispatch_hours", 48)) * cal.HOUR)
        weights = pack_truth.parcel_weights(params.get("PARCEL001", {}))
        return labels.logistics_labels(od, sd, ev, WEIGHT_MIN, dispatch_s, weights)

    def _licences(licensed: np.ndarray, types: np.ndarray) -> np.ndarray:
        return labels.licence_labels(
            M, merchant, cat, paid, lic_df, CATEGORY_NAMES, types, licensed
        )

    packs = pack_truth.label_packs(
        truth,
        n_listings=nl,
        listing_ids=w.listing_id,
        merchant_ids=w.merchant_id,
        order_ids=order_ids,
        obs=obs,
        msrp=msrp,
        pricing=labels.pricing_labels,
        plan_P=plan.P,
        start_day=plan.start_day,
        logistics=_logistics,
        licences=_licences,
        category_names=CATEGORY_NAMES,
        prize_promotions=cp.tables.get("prize_promotions"),
    )
    return ShardOutput(tables, truth, packs)


def _events_table(ev: pd.DataFrame, trk: np.ndarray, carrier: np.ndarray) -> Columns:
    order = np.lexsort((ev.seq.to_numpy(), ev.t.to_numpy(), ev.trk.to_numpy()))
    key = ev.trk.to_numpy()[order]
    return {
        "carrier": Coded(carrier[key], CARRIERS),
        "tracking_no": Coded(key, trk),
        "event_at": ev.t.to_numpy(dtype=np.int64)[order],
        "event_type": Coded(ev.type.to_numpy()[order], model.EVENT_TYPES),
        "city": Coded(ev.city.to_numpy()[order], geo.CITY_NAMES),
    }


def _reviews(rng, listing, buyer, tag, delivered_at, quality, w, rates):
    from promoguard.simulate.reviews import build_reviews

    return build_reviews(
        rng,
        listing,
        buyer,
        tag,
        delivered_at,
        quality,
        w.listing_merchant,
        w.listing_category,
        w.listing_noun,
        rates,
    )
