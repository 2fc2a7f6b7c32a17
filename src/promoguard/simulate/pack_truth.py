"""Ground truth for the eu, uk and us packs (``ground_truth_<pack>.csv`` beside ``ground_truth.csv``).

The packs' rules differ, so one truth cannot score them all: the eu prior price is the lowest price
*offered* in the 30 days before a reduction (progressive reductions measured from before the first
cut), the uk/us one the highest price *established* (offered on 28+ days) in 90 days, where cn takes
the lowest *transacted* price of 7 days; eu/uk/us give a merchant with no promised dispatch time
30 days, not 48 hours; a missing parcel weight alone is not an empty parcel there; each names its
own licensed categories; TEXT004 (off-platform lures) is a cn rule only.

The rules are read from the packs themselves (their parameters), and each pack's truth is computed
from the generated tables with that rule, like the cn labels in ``labels.py``: independent numpy
code, not the checks' Ibis code. Codes whose rule is the same in every pack share cn's labels.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from promoguard.simulate import calendar as cal
from promoguard.simulate.inject_pricing import NA

PACKS = ("eu", "uk", "us")
#: codes labelled here per pack; every other code copies cn's rows when the pack enables it
PER_PACK = ("PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005", "LIC001")
LOGISTICS = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "PARCEL001")


@functools.lru_cache(maxsize=8)
def pack_rules(pack: str) -> tuple[frozenset[str], dict[str, dict[str, Any]]]:
    """(enabled codes, parameters per code) of a built-in pack."""
    from promoguard.engine import registry
    from promoguard.engine.packs import load_pack

    p = load_pack(pack)
    enabled = frozenset(p.enabled_codes())
    params = {}
    for code in enabled:
        try:
            params[code] = p.parameters_for(registry.get(code))
        except Exception:  # noqa: BLE001 - a rule not registered here has no truth of its own
            continue
    return enabled, params


def offered_prior(
    n_listings: int, obs: dict[str, np.ndarray], params: dict[str, Any]
) -> np.ndarray:
    """The legal prior price per listing (cents, NA when none) for the offered-price rules."""
    rule = params["prior_rule"]
    days = int(params["lookback_days"])
    detail = np.array([c in (None, "detail") for c in obs["channel"]], dtype=bool)
    df = pd.DataFrame(
        {"l": obs["listing"][detail], "t": obs["observed_at"][detail], "p": obs["price"][detail]}
    )
    start = cal.D11_START
    win = df[(df.t >= start - days * cal.DAY) & (df.t < start)]
    prior = np.full(n_listings, NA, dtype=np.int64)
    if win.empty:
        return prior
    low = win.groupby("l").p.min()
    if rule == "lowest_offered":
        prior[low.index.to_numpy()] = low.to_numpy()
        if params.get("progressive"):
            w = win.sort_values(["l", "t"], kind="stable")
            prev = w.groupby("l").p.shift()
            rises = (w.p > prev).groupby(w.l).sum()
            cut_t = w.t.where(w.p < prev).groupby(w.l).min()
            prog = cut_t[(rises.reindex(cut_t.index) == 0) & cut_t.notna()]
            if len(prog):
                cuts = pd.DataFrame({"l": prog.index, "cut": prog.to_numpy().astype(np.int64)})
                j = df.merge(cuts, on="l")
                j = j[(j.t >= j.cut - days * cal.DAY) & (j.t < j.cut)]
                pre = j.groupby("l").p.min()
                prior[pre.index.to_numpy()] = pre.to_numpy()
        return prior
    if rule == "established_offered":
        w = win.assign(d=win.t // cal.DAY)
        per_price = w.groupby(["l", "p"]).d.nunique().reset_index()
        est = per_price[per_price.d >= int(params["min_days_offered"])].groupby("l").p.max()
        prior[low.index.to_numpy()] = low.to_numpy()
        prior[est.index.to_numpy()] = est.to_numpy()
        return prior
    raise ValueError(f"no offered-price labeller for prior_rule {rule!r}")


def parcel_weights(params: dict[str, Any]) -> tuple[float, float, float, float]:
    """(missing, token, no-transit weights, threshold) of PARCEL001."""
    return (
        float(params.get("weight_missing", 1)),
        float(params.get("weight_token", 1)),
        float(params.get("weight_no_transit", 1)),
        float(params.get("threshold", 1)),
    )


def licence_map(
    params: dict[str, Any], category_names: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(licensed?, licence type) per category from LIC001's category -> licence maps."""
    mapping = {
        **(params.get("category_licences") or {}),
        **(params.get("policy_category_licences") or {}),
    }
    licensed = np.array([str(c) in mapping for c in category_names], dtype=bool)
    types = np.array([mapping.get(str(c), "") for c in category_names], dtype=object)
    return licensed, types


def label_packs(
    cn_truth: list[tuple[str, str, str]],
    *,
    n_listings: int,
    listing_ids: np.ndarray,
    merchant_ids: np.ndarray,
    order_ids: np.ndarray,
    obs: dict[str, np.ndarray],
    msrp: np.ndarray,
    pricing: Callable[..., dict[str, np.ndarray]],
    plan_P: np.ndarray,
    start_day: np.ndarray,
    logistics: Callable[[dict[str, Any]], dict[str, np.ndarray]],
    licences: Callable[[np.ndarray, np.ndarray], np.ndarray],
    category_names: np.ndarray,
) -> dict[str, list[tuple[str, str, str]]]:
    """Truth rows per pack. ``logistics(params_by_code)`` and ``licences(licensed, types)`` run
    the shard's labellers with a pack's parameters."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for pack in PACKS:
        enabled, params = pack_rules(pack)
        rows: list[tuple[str, str, str]] = [
            r for r in cn_truth if r[0] in enabled and r[0] not in PER_PACK + LOGISTICS
        ]
        if "PRICE001" in params:
            prior = offered_prior(n_listings, obs, params["PRICE001"])
            for code, flag in pricing(n_listings, prior, obs, msrp, plan_P, start_day).items():
                if code in enabled:
                    rows += [(code, "listing", x) for x in listing_ids[flag]]
        for code, flag in logistics(params).items():
            if code in enabled:
                rows += [(code, "order", x) for x in order_ids[flag]]
        if "LIC001" in params:
            licensed, types = licence_map(params["LIC001"], category_names)
            rows += [("LIC001", "merchant", x) for x in merchant_ids[licences(licensed, types)]]
        out[pack] = rows
    return out
