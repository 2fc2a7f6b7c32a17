"""Price observations with the Double-11 display (reference price, label, claimed %) and the
pricing injections PRICE001/002/004/005 (PRICE003 is planned in prices.py before orders exist).

The honest display is computed from the transacted prices: the reference price equals the legal
prior price (lowest ``orders.unit_price`` paid in the 7 days before the promotion starts, else the
last transaction before it), and the claimed % is computed from it.
"""

from __future__ import annotations

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate.prices import PricePlan, to_dime

NA = np.iinfo(np.int64).min
PRIOR_LABELS = np.array(["原价", "划线价", "日常价", "was"], dtype=object)
MSRP_LABELS = np.array(["厂商建议零售价", "建议零售价", "MSRP", "RRP"], dtype=object)
MSRP_LABEL_SET = frozenset(
    ["MSRP", "厂商建议零售价", "建议零售价", "RRP", "manufacturer's suggested retail price"]
)
DETAIL_SECOND = 10 * cal.HOUR  # detail page crawled daily at 10:00 Beijing (02:00Z)
D11_EXTRA_SECOND = 20 * cal.HOUR  # and on 11-11 again at 20:00 Beijing (12:00Z)


def legal_prior(
    n_listings: int, listing: np.ndarray, paid: np.ndarray, unit: np.ndarray
) -> np.ndarray:
    """Lowest unit price paid in [start - 7 d, start) per listing; else the last one before start."""
    prior = np.full(n_listings, NA, dtype=np.int64)
    lo = cal.D11_START - 7 * cal.DAY
    win = (paid >= lo) & (paid < cal.D11_START)
    mins = np.full(n_listings, np.iinfo(np.int64).max)
    np.minimum.at(mins, listing[win], unit[win])
    has = mins < np.iinfo(np.int64).max
    before = np.flatnonzero(paid < lo)
    if len(before):
        order = before[np.lexsort((unit[before], -paid[before], listing[before]))]
        first = order[np.r_[True, listing[order][1:] != listing[order][:-1]]]
        prior[listing[first]] = unit[first]  # latest paid (lowest price on a tie)
    prior[has] = mins[has]
    return prior


def msrp_for(rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    """40% of listings know an MSRP, always 15-60% above the regular price."""
    msrp = (np.ceil(base * rng.uniform(1.15, 1.6, len(base)) / 100) * 100).astype(np.int64)
    return np.where(rng.random(len(base)) < 0.4, msrp, NA)


def observations(
    rng: np.random.Generator,
    plan: PricePlan,
    prior: np.ndarray,
    msrp: np.ndarray,
    live_listing: np.ndarray,
    rates,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(price_observations columns, per-listing injection flags)."""
    P = plan.P
    n, nd = P.shape
    li, day = np.nonzero(np.arange(nd)[None, :] >= plan.start_day[:, None])
    t = cal.T0 + day * cal.DAY + DETAIL_SECOND
    obs_l, obs_t, obs_p, obs_c = [li], [t], [P[li, day]], [np.full(len(li), "detail", dtype=object)]
    # 11-11 evening crawl of the detail page
    x = np.arange(n)
    obs_l.append(x)
    obs_t.append(np.full(n, cal.T0 + cal.D11_DAY * cal.DAY + D11_EXTRA_SECOND))
    obs_p.append(P[:, cal.D11_DAY])
    obs_c.append(np.full(n, "detail", dtype=object))

    # search/home crawls on 30% of listings, same timestamp as the detail crawl, ~25% of days
    sh = np.flatnonzero(rng.random(n) < 0.30)
    price004 = np.zeros(n, dtype=bool)
    price004[sh[rng.random(len(sh)) < rates.price004]] = True
    sel = np.isin(li, sh) & (rng.random(len(li)) < 0.25)
    sel |= np.isin(li, sh) & (day == cal.D11_DAY)
    sl, sd = li[sel], day[sel]
    sp = P[sl, sd].copy()
    # PRICE004: on 2-5 of those days the search/home price is 5-20% below the detail price
    bad = price004[sl] & (rng.random(len(sl)) < 0.35)
    bad_any = np.zeros(n, dtype=bool)
    bad_any[sl[bad]] = True
    missing = price004 & ~bad_any
    first_of = {}
    for k, lst in enumerate(sl):
        if missing[lst] and lst not in first_of:
            first_of[lst] = k
    bad[list(first_of.values())] = True
    sp[bad] = to_dime(sp[bad] * rng.uniform(0.80, 0.95, int(bad.sum())))
    obs_l.append(sl)
    obs_t.append(cal.T0 + sd * cal.DAY + DETAIL_SECOND)
    obs_p.append(sp)
    obs_c.append(np.where(rng.random(len(sl)) < 0.7, "search", "home").astype(object))
    # hard negative: a search crawl at 00:30 on 11-11 shows the promo price, lower than the last
    # detail crawl (10:00 the day before) -- but at a different timestamp
    hn = sh[rng.random(len(sh)) < 0.5]
    obs_l.append(hn)
    obs_t.append(np.full(len(hn), cal.D11_START + 30 * cal.MINUTE))
    obs_p.append(P[hn, cal.D11_DAY])
    obs_c.append(np.full(len(hn), "search", dtype=object))
    # live-room prices (merchants that stream): same as detail, 20:00 Beijing on some days
    lv = np.flatnonzero(live_listing)
    for dd in (cal.PRESALE_FIRST_DAY, cal.PRESALE_FIRST_DAY + 5, cal.D11_DAY - 3, cal.D11_DAY):
        ok = lv[plan.start_day[lv] <= dd]
        obs_l.append(ok)
        obs_t.append(np.full(len(ok), cal.T0 + dd * cal.DAY + D11_EXTRA_SECOND))
        obs_p.append(P[ok, dd])
        obs_c.append(np.full(len(ok), "live", dtype=object))

    L = np.concatenate(obs_l)
    T = np.concatenate(obs_t)
    Pr = np.concatenate(obs_p)
    C = np.concatenate(obs_c)
    ref = np.full(len(L), NA, dtype=np.int64)
    label = np.full(len(L), None, dtype=object)
    claimed = np.full(len(L), NA, dtype=np.int64)  # hundredths of a percent point

    # the Double-11 display, per listing
    promo = P[:, cal.D11_DAY]
    show = plan.in_promo & (prior != NA) & (prior > promo)
    u = rng.random(n)
    has_msrp = msrp != NA
    msrp_mode = show & has_msrp & (rng.random(n) < 0.5)
    p005 = msrp_mode & (rng.random(n) < rates.price005)
    cand = show & ~msrp_mode & ~plan.price003
    p001 = cand & (u < rates.price001)
    p002 = cand & ~p001 & (u < rates.price001 + rates.price002)
    l_ref = np.where(show, prior, NA)
    l_ref[p001] = to_dime(prior[p001] * rng.uniform(1.15, 1.6, int(p001.sum())))
    l_ref[msrp_mode] = msrp[msrp_mode]
    l_label = PRIOR_LABELS[rng.choice(len(PRIOR_LABELS), n, p=[0.55, 0.2, 0.1, 0.15])]
    l_label[msrp_mode & ~p005] = MSRP_LABELS[
        rng.integers(0, len(MSRP_LABELS), int((msrp_mode & ~p005).sum()))
    ]
    true_pct = np.where(show, (1 - promo / np.where(show, l_ref, 1)) * 100, 0)
    l_claim = np.where(show & (rng.random(n) < 0.6), np.round(true_pct) * 100, NA).astype(np.int64)
    l_claim[msrp_mode & ~p005] = NA  # an MSRP comparison states no "discount"
    l_claim[p005] = np.where(rng.random(int(p005.sum())) < 0.5, np.round(true_pct[p005]) * 100, NA)
    # PRICE002: honest reference, claimed % inflated by 3-20 points
    l_claim[p002] = (
        np.minimum(np.round(true_pct[p002] + rng.uniform(3, 20, int(p002.sum()))), 95) * 100
    ).astype(np.int64)
    d11 = (
        (T >= cal.D11_START) & (T < cal.D11_END) & np.isin(C, ["detail", "search", "home", "live"])
    )
    d11 &= show[L]
    ref[d11] = l_ref[L[d11]]
    label[d11] = l_label[L[d11]]
    # the claimed % is shown beside the detail/live price; a search/home tile shows the
    # reference only (so a PRICE004 bait price does not also make a wrong claimed %)
    on_page = d11 & np.isin(C, ["detail", "live"])
    claimed[on_page] = l_claim[L[on_page]]

    order = np.lexsort((C, T, L))
    cols = {
        "listing": L[order],
        "observed_at": T[order],
        "price": Pr[order],
        "reference_price": ref[order],
        "reference_label": label[order],
        "claimed_discount_pct": claimed[order],
        "channel": C[order],
    }
    flags = {
        "show": show,
        "msrp_mode": msrp_mode,
        "p001": p001,
        "p002": p002,
        "p005": p005,
        "p004": price004,
        "search_home": np.isin(np.arange(n), sh),
    }
    return cols, flags
