"""Rule-based labels: for the codes whose rule is exact arithmetic on the tables (pricing,
logistics, licences) the truth is computed from the generated tables with the documented rule,
so collateral violations (e.g. a shared tracking number that also delivers to the wrong city)
are labelled too and nothing unlabelled breaks a rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from promoguard.simulate import calendar as cal
from promoguard.simulate import geo
from promoguard.simulate.inject_pricing import MSRP_LABEL_SET, NA
from promoguard.simulate.logistics import DELIVERED, PICKUP, TRANSIT

SPEED_LIMIT_KMH = 900.0
PICKUP_GRACE_S = 24 * cal.HOUR
DEFAULT_DISPATCH_S = 48 * cal.HOUR
DIRECT_KM = 300.0


def pricing_labels(
    n_listings: int,
    prior: np.ndarray,
    obs: dict[str, np.ndarray],
    msrp: np.ndarray,
    P: np.ndarray,
    start_day: np.ndarray,
) -> dict[str, np.ndarray]:
    L, T = obs["listing"], obs["observed_at"]
    ref, lab, cl = obs["reference_price"], obs["reference_label"], obs["claimed_discount_pct"]
    price, ch = obs["price"], obs["channel"]
    in_d11 = (T >= cal.D11_START) & (T < cal.D11_END)
    msrp_label = np.array([x in MSRP_LABEL_SET for x in lab], dtype=bool)
    pr = prior[L]
    has_prior = pr != NA
    p001 = in_d11 & (ref != NA) & ~msrp_label & has_prior & (ref > pr + 1)
    p002 = (
        in_d11
        & (cl != NA)
        & has_prior
        # overstated claims only: a deal better than announced is not price fraud (明码标价和禁止价格
        # 欺诈规定 Art. 21, the cn pack's flag_understated: false)
        & (cl / 100.0 - (1 - price / np.where(has_prior, pr, 1)) * 100 > 1.0)
    )
    p005 = in_d11 & (ref != NA) & (msrp[L] != NA) & (ref == msrp[L]) & ~msrp_label
    out = {}
    for code, mask in (("PRICE001", p001), ("PRICE002", p002), ("PRICE005", p005)):
        flag = np.zeros(n_listings, dtype=bool)
        flag[L[mask]] = True
        out[code] = flag
    # PRICE004: a search/home observation below the detail observation at the same instant
    df = pd.DataFrame({"l": L, "t": T, "p": price, "c": ch})
    det = df[df.c == "detail"].rename(columns={"p": "pd"})[["l", "t", "pd"]]
    sh = df[df.c.isin(["search", "home"])].merge(det, on=["l", "t"])
    flag = np.zeros(n_listings, dtype=bool)
    flag[sh.l[sh.p < sh.pd].to_numpy()] = True
    out["PRICE004"] = flag
    # PRICE003: median baseline B (09-12..10-11), median level H (11-04..11-10), 11-11 price;
    # flagged when a discount is displayed, H >= 1.10 B and the promo price >= 0.95 B
    b0, b1 = cal.BASELINE_DAYS
    h0, h1 = cal.RAISED_DAYS
    B = np.median(P[:, b0 : b1 + 1], axis=1)
    Hh = np.median(P[:, h0 : h1 + 1], axis=1)
    promo = P[:, cal.D11_DAY].copy()
    shows = np.zeros(n_listings, dtype=bool)
    shows[L[in_d11 & ((ref != NA) | (cl != NA))]] = True
    # a 到手价 (coupon-inclusive price) advertised in the promotion is a marked promotion price
    claim = obs.get("final_price_claim")
    if claim is not None:
        claimed = in_d11 & (claim != NA) & (claim < price)
        shows[L[claimed]] = True
        np.minimum.at(promo, L[claimed & (ch == "detail")], claim[claimed & (ch == "detail")])
    out["PRICE003"] = shows & (start_day <= b0) & (Hh >= 1.10 * B) & (promo >= 0.95 * B)
    return out


def logistics_labels(
    orders: pd.DataFrame, shipments: pd.DataFrame, events: pd.DataFrame, weight_min: np.ndarray
) -> dict[str, np.ndarray]:
    """orders: idx, paid, promise, declared, city (ship_to index), cat; shipments: order, trk,
    weight; events: trk, t, type, city. Returns one bool array over orders per code."""
    n = len(orders)
    out = {
        c: np.zeros(n, dtype=bool)
        for c in ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "PARCEL001")
    }
    per_trk = shipments.groupby("trk")["order"].nunique()
    shared = per_trk[per_trk > 1].index
    out["SHIP002"][shipments.order[shipments.trk.isin(shared)].to_numpy()] = True
    w = shipments.weight.to_numpy()
    cat = orders.cat.to_numpy()[shipments.order.to_numpy()]
    light = (w == NA) | (w < weight_min[cat])
    out["PARCEL001"][shipments.order[light].to_numpy()] = True

    ev = events.sort_values(["trk", "t", "seq"]).reset_index(drop=True)
    # speed between consecutive scans of one parcel
    same = ev.trk.to_numpy()[1:] == ev.trk.to_numpy()[:-1]
    c0, c1 = ev.city.to_numpy()[:-1], ev.city.to_numpy()[1:]
    dt = (ev.t.to_numpy()[1:] - ev.t.to_numpy()[:-1]) / 3600.0
    dist = geo.distance_km(c0, c1)
    fast = same & (dist > 0) & ((dt <= 0) | (dist / np.where(dt > 0, dt, 1) > SPEED_LIMIT_KMH))
    fast_trk = set(ev.trk.to_numpy()[1:][fast])
    g = ev.groupby("trk")
    first_pickup = ev[ev.type == PICKUP].groupby("trk").t.min()
    first_event = g.t.min()
    deliv = ev[ev.type == DELIVERED].groupby("trk").agg(dcity=("city", "last"), dt=("t", "last"))
    pick_city = ev[ev.type == PICKUP].groupby("trk").city.first()
    n_transit = ev[ev.type == TRANSIT].groupby("trk").size()
    s = shipments[["order", "trk"]].copy()
    s["first_pickup"] = s.trk.map(first_pickup)
    s["first_event"] = s.trk.map(first_event)
    s["dcity"] = s.trk.map(deliv.dcity)
    s["pcity"] = s.trk.map(pick_city)
    s["transit"] = s.trk.map(n_transit).fillna(0)
    s["fast"] = s.trk.isin(fast_trk)
    o = orders.set_index("idx")
    s["paid"] = s.order.map(o.paid)
    s["declared"] = s.order.map(o.declared)
    s["promise"] = s.order.map(o.promise)
    s["ship_city"] = s.order.map(o.city)
    per = s.groupby("order").agg(first_pickup=("first_pickup", "min"))
    decl = orders.declared.to_numpy()
    fp = per.first_pickup.reindex(range(n)).to_numpy()
    has_decl = decl != NA
    out["SHIP001"] = has_decl & (np.isnan(fp) | (fp > decl + PICKUP_GRACE_S))
    paid = orders.paid.to_numpy()
    prom = orders.promise.to_numpy()
    limit = np.where(prom != NA, prom, paid + DEFAULT_DISPATCH_S)
    out["SHIP003"] = ~np.isnan(fp) & (fp > limit)
    bad = (
        (s.first_event < s.paid)
        | ((s.declared != NA) & (s.first_event < s.declared))
        | (s.dcity.notna() & (s.dcity != s.ship_city))
        | s.fast
    )
    out["SHIP004"][s.order[bad].to_numpy()] = True
    has_both = s.pcity.notna() & s.dcity.notna()
    pc = s.pcity.fillna(0).astype(np.int64).to_numpy()
    dc = s.dcity.fillna(0).astype(np.int64).to_numpy()
    direct = (
        has_both.to_numpy() & (s.transit.to_numpy() == 0) & (geo.distance_km(pc, dc) > DIRECT_KM)
    )
    out["PARCEL001"][s.order[direct].to_numpy()] = True
    return out


def licence_labels(
    n_merchants: int,
    sale_merchant: np.ndarray,
    sale_cat: np.ndarray,
    sale_time: np.ndarray,
    lic: pd.DataFrame,
    cat_names: np.ndarray,
    licence_type: np.ndarray,
    licensed: np.ndarray,
) -> np.ndarray:
    """LIC001: a sale in a licensed category with no licence of the mapped type valid at paid_at
    whose scope (';'-separated categories, empty = all) covers the category."""
    need = licensed[sale_cat]
    sales = pd.DataFrame({"m": sale_merchant[need], "cat": sale_cat[need], "t": sale_time[need]})
    sales["row"] = np.arange(len(sales))
    sales["type"] = licence_type[sales.cat.to_numpy()]
    sales["cname"] = cat_names[sales.cat.to_numpy()]
    # one row per (licence, covered category); an empty scope covers every category ("*")
    lic = lic.assign(cover=[sc.split(";") if isinstance(sc, str) else ["*"] for sc in lic.scope])
    lic = lic.explode("cover")
    j = sales.merge(lic, on=["m", "type"], how="left")
    scope_ok = (j.cover == "*") | (j.cover == j.cname)
    valid = j.vf.notna() & (j.vf <= j.t) & (j.vt.isna() | (j.t <= j.vt)) & scope_ok
    ok_rows = j.row[valid].unique()
    bad_m = sales.m[~sales.row.isin(ok_rows)].unique()
    flag = np.zeros(n_merchants, dtype=bool)
    flag[bad_m] = True
    return flag
