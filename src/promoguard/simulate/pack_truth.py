"""Ground truth for the eu, uk and us packs (``ground_truth_<pack>.csv`` beside ``ground_truth.csv``).

The packs' rules differ, so one truth cannot score them all: the eu prior price is the lowest price
*applied* on the 30 calendar days before a reduction (in the pack's zone, the price in force when the
period opens included; a campaign of successive announced reductions measured from before its first
one), the uk/us one the highest price *established* (applied on 28+ calendar days) in 90 days, where
cn takes the lowest *transacted* price of 7 days; eu/uk require their own list of prize disclosures
(seven items, not cn's sixteen); eu/uk/us give a merchant with no promised dispatch time
30 days, not 48 hours; a missing parcel weight alone is not an empty parcel there; each names its
own licensed categories; TEXT004 (off-platform lures) is a cn rule only.

The rules are read from the packs themselves (their parameters), and each pack's truth is computed
from the generated tables with that rule, like the cn labels in ``labels.py``: independent numpy
code, not the checks' Ibis code. Codes whose rule is the same in every pack share cn's labels.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from promoguard.simulate import calendar as cal
from promoguard.simulate.inject_pricing import NA

PACKS = ("eu", "uk", "us")
#: codes labelled here per pack; every other code copies cn's rows when the pack enables it
PER_PACK = ("PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005", "LIC001", "PRIZE002")
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


def window_start(start: int, days: int, tz: str) -> int:
    """Local midnight ``days`` calendar days before the local date of ``start`` (epoch seconds).

    The law counts days ("a period of not less than 30 days"), and a day is a day on the
    jurisdiction's calendar: across a change of clocks it is 23 or 25 hours long, not 24."""
    zone = ZoneInfo(tz)
    local = dt.datetime.fromtimestamp(int(start), zone)
    first = dt.datetime.combine(local.date() - dt.timedelta(days=days), dt.time(0), tzinfo=zone)
    return int(first.timestamp())


def day_bounds(start: int, days: int, tz: str) -> np.ndarray:
    """Epoch seconds of the local midnights of the ``days`` calendar days before the local date of
    ``start`` and of that date itself, then ``start``: day k is [bounds[k], bounds[k + 1])."""
    zone = ZoneInfo(tz)
    d0 = dt.datetime.fromtimestamp(int(start), zone).date()
    mids = [
        int(dt.datetime.combine(d0 - dt.timedelta(days=k), dt.time(0), tzinfo=zone).timestamp())
        for k in range(days, -1, -1)
    ]
    return np.array([*mids, int(start)], dtype=np.int64)


def _segments(df: pd.DataFrame) -> pd.DataFrame:
    """Each detail observation as the span its price was applied: from it to the listing's next
    observation (open-ended for the last). A price set before a window and still in force when the
    window opens was applied in the window, though no observation falls inside it."""
    d = df.sort_values(["l", "t", "p"], kind="stable").reset_index(drop=True)
    nxt = d.groupby("l").t.shift(-1)
    # the last price is in force until further notice (2**62 s: far beyond any period)
    return d.assign(e=nxt.fillna(2**62).astype(np.int64))


def _applied_low(seg: pd.DataFrame, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """Per listing (index of ``lo``/``hi``): the lowest price applied at some moment of [lo, hi)."""
    j = seg.merge(pd.DataFrame({"lo": lo, "hi": hi}), left_on="l", right_index=True)
    j = j[(j.t < j.hi) & (j.e > j.lo)]
    return j.groupby("l").p.min()


def _announced(obs: dict[str, np.ndarray], msrp_labels: list[str]) -> np.ndarray:
    """A reduction is announced when a reference price above the price is shown that is not a
    manufacturer's price (a comparison with an RRP is not a reduction: Art. 6a does not apply)."""
    n = len(obs["price"])
    ref = obs.get("reference_price")
    if ref is None:
        return np.zeros(n, dtype=bool)
    labels = obs.get("reference_label")
    if labels is None:
        labels = np.full(n, None, dtype=object)
    rrp = {str(x).strip().lower() for x in msrp_labels}
    is_rrp = np.array([x is not None and str(x).strip().lower() in rrp for x in labels], dtype=bool)
    return (ref != NA) & (ref > obs["price"]) & ~is_rrp


@functools.lru_cache(maxsize=8)
def pack_timezone(pack: str) -> str:
    """The zone whose calendar days a pack's periods count."""
    from promoguard.engine.packs import load_pack

    return load_pack(pack).timezone or "UTC"


def offered_prior(
    n_listings: int,
    obs: dict[str, np.ndarray],
    params: dict[str, Any],
    tz: str = "UTC",
    start: int = cal.D11_START,
) -> np.ndarray:
    """The legal prior price per listing (cents, NA when none) for the offered-price rules, for a
    reduction applied from ``start``; days are calendar days in ``tz`` (the pack's zone).

    - ``lowest_offered`` (EU, Directive 98/6/EC Art. 6a(2)): the lowest price applied on any day
      of the ``lookback_days`` calendar days before the reduction, the price in force when the
      period opens included; any ordinary cut counts. With ``progressive`` (Art. 6a(5)): when
      the period's reductions are one campaign of successive *announced* reductions (every price
      from the first announced one on shows its reference, none rises) that the promotion price
      continues, the prior price is the one of the period before the campaign's first reduction.
    - ``established_offered`` (UK/US guidance): the highest price applied on at least
      ``min_days_offered`` calendar days of the period; when none was, the lowest applied.
    """
    rule = params["prior_rule"]
    days = int(params["lookback_days"])
    channel = obs["channel"]
    detail = np.array([c in (None, "detail") for c in channel], dtype=bool)
    announced = _announced(obs, params.get("msrp_labels") or [])
    df = pd.DataFrame(
        {
            "l": obs["listing"][detail],
            "t": obs["observed_at"][detail].astype(np.int64),
            "p": obs["price"][detail].astype(np.int64),
            "a": announced[detail],
        }
    )
    prior = np.full(n_listings, NA, dtype=np.int64)
    df = df[df.t < start]
    if df.empty:
        return prior
    seg = _segments(df)
    listings = pd.Index(np.unique(seg.l.to_numpy()))
    if rule == "lowest_offered":
        ws = window_start(start, days, tz)
        low = _applied_low(seg, pd.Series(ws, index=listings), pd.Series(start, index=listings))
        prior[low.index.to_numpy()] = low.to_numpy()
        if params.get("progressive"):
            pre = _progressive(seg, obs, announced, ws, start, days, tz)
            prior[pre.index.to_numpy()] = pre.to_numpy()
        return prior
    if rule == "established_offered":
        bounds = day_bounds(start, days, tz)
        s = seg[(seg.t < start) & (seg.e > bounds[0])]
        first = np.clip(np.searchsorted(bounds, s.t.to_numpy(), "right") - 1, 0, days)
        last = np.clip(np.searchsorted(bounds, s.e.to_numpy(), "left") - 1, -1, days)
        n = np.maximum(last - first + 1, 0)
        day = np.repeat(first, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
        per = pd.DataFrame({"l": np.repeat(s.l.to_numpy(), n), "p": np.repeat(s.p.to_numpy(), n)})
        per["d"] = day
        per_price = per.groupby(["l", "p"]).d.nunique().reset_index()
        low = per_price.groupby("l").p.min()
        est = per_price[per_price.d >= int(params["min_days_offered"])].groupby("l").p.max()
        prior[low.index.to_numpy()] = low.to_numpy()
        prior[est.index.to_numpy()] = est.to_numpy()
        return prior
    raise ValueError(f"no offered-price labeller for prior_rule {rule!r}")


def _progressive(
    seg: pd.DataFrame,
    obs: dict[str, np.ndarray],
    announced: np.ndarray,
    ws: int,
    start: int,
    days: int,
    tz: str,
) -> pd.Series:
    """listing -> the prior price before its campaign's first reduction, for the listings whose
    period before ``start`` is one campaign of successive announced reductions that the
    promotion price continues (Directive 98/6/EC Art. 6a(5))."""
    win = seg[(seg.t >= ws) & (seg.t < start)]
    firsts = win[win.a].groupby("l").t.min()
    if firsts.empty:
        return pd.Series(dtype=np.int64)
    tail = win.merge(firsts.rename("first"), left_on="l", right_index=True)
    tail = tail[tail.t >= tail["first"]].sort_values(["l", "t"], kind="stable")
    rises = (tail.p > tail.groupby("l").p.shift()).groupby(tail.l).sum()
    unannounced = (~tail.a).groupby(tail.l).sum()
    last_t = tail.groupby("l").t.transform("max")
    last_price = tail[tail.t == last_t].groupby("l").p.min()
    # the promotion price: the lowest price shown with an announced reduction in the promotion
    at = obs["observed_at"] - start
    in_promo = (at >= 0) & (at < cal.DAY) & announced
    promo = pd.Series(obs["price"][in_promo]).groupby(obs["listing"][in_promo]).min()
    ok = firsts.index[
        (rises.reindex(firsts.index) == 0).to_numpy()
        & (unannounced.reindex(firsts.index) == 0).to_numpy()
        & (promo.reindex(firsts.index) <= last_price.reindex(firsts.index)).to_numpy()
    ]
    if not len(ok):
        return pd.Series(dtype=np.int64)
    lo = pd.Series([window_start(int(firsts[x]), days, tz) for x in ok], index=ok)
    return _applied_low(seg, lo, firsts[ok])


def prize_disclosure_labels(games: dict[str, np.ndarray], required_items: list[str]) -> list[str]:
    """Prize promotions that do not publish every item the pack requires (an item list read
    without case or spaces, ';' or '；' between items, in any order; nothing published misses all)."""
    required = {str(x).strip().lower() for x in required_items}
    out = []
    for gid, disclosed in zip(games["prize_promotion_id"], games["disclosed_items"], strict=True):
        shown: set[str] = set()
        if isinstance(disclosed, str):
            shown = {"".join(x.split()).lower() for x in disclosed.replace("；", ";").split(";")}
        if not required <= shown:
            out.append(str(gid))
    return out


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
    prize_promotions: dict[str, np.ndarray] | None = None,
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
            prior = offered_prior(n_listings, obs, params["PRICE001"], pack_timezone(pack))
            for code, flag in pricing(n_listings, prior, obs, msrp, plan_P, start_day).items():
                if code in enabled:
                    rows += [(code, "listing", x) for x in listing_ids[flag]]
        for code, flag in logistics(params).items():
            if code in enabled:
                rows += [(code, "order", x) for x in order_ids[flag]]
        if "LIC001" in params:
            licensed, types = licence_map(params["LIC001"], category_names)
            rows += [("LIC001", "merchant", x) for x in merchant_ids[licences(licensed, types)]]
        if "PRIZE002" in params and prize_promotions is not None:
            required = params["PRIZE002"]["required_items"]
            rows += [
                ("PRIZE002", "prize_promotion", g)
                for g in prize_disclosure_labels(prize_promotions, required)
            ]
        out[pack] = rows
    return out
