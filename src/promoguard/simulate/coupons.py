"""Coupons, red envelopes and prize games: COUPON001-004, PRIZE001-003 and their hard negatives.

Everything here draws from its own random streams (``coupon_rng``), never from the shard's: the
rest of the season (prices, orders, parcels, reviews, texts) is byte-for-byte what it was before
coupons existed, so the other codes' scores do not move. The only columns this adds to existing
tables are new ones: ``orders.placed_at`` / ``discount_total`` and
``price_observations.final_price_claim`` / ``final_price_qty``.

Labels are computed from the generated tables with the documented rules (``label_*``), like the
pricing and logistics labels: a collateral violation is labelled too, and nothing unlabelled
breaks a rule.

Programmes:

- each platform runs three coupons over the Double-11 window (跨店满减 满300减50, a ¥20 red
  envelope over ¥199, a 9折 capped at ¥30 that does not stack); P2 raises its 满300减50 threshold
  to 400 after launch (COUPON002, the issue's own example);
- 60% of merchants issue one to three coupons of their own (满减, red envelope, percent, 无门槛);
- 35% of the listings with coupons show a 到手价 on the 11-11 detail page;
- orders placed in a coupon's window use the best combination of coupons they can;
- each shard runs eight prize games per platform and one for half of its merchants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from promoguard import model
from promoguard.coupon_math import Terms, cheapest, discount
from promoguard.simulate import calendar as cal
from promoguard.simulate.world import CATEGORY_NAMES, PLATFORMS, World

NA = np.iinfo(np.int64).min
#: spawn-key tag of the coupon streams: distinct from every shard's (shard,) key
STREAM = 15_015

CAP_CENTS = 5_000_000  # ¥50,000: 规范促销行为暂行规定 Art. 17
COUPON_FROM = cal.D11_START - 3 * cal.DAY  # coupons open three days before 11-11
COUPON_TO = cal.D11_END + cal.DAY  # and close a day after
ANNOUNCED = COUPON_FROM - 5 * cal.DAY
CHANGE_AT = cal.D11_START - 2 * cal.DAY  # mid-event changes happen here
TERM_COLUMNS = [c.name for c in model.table("coupon_terms").columns]


def coupon_rng(seed: int, shard: int | None) -> np.random.Generator:
    """The coupon stream of a shard (``None``: the platform programme, shared by all shards)."""
    key = (STREAM,) if shard is None else (shard, STREAM)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclass
class Coupon:
    coupon_id: str
    platform_id: str
    merchant_id: str | None
    kind: str
    announced_at: int
    valid_from: int
    valid_to: int
    # versions: (effective_at, source, Terms, valid_to or NA, disclosure, shown_text)
    versions: list[tuple[int, str, Terms, int, str | None, str | None]]
    truth: tuple[str, ...] = ()


def _yuan(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


def _text(kind: str, t: Terms) -> str:
    if kind == "percent":
        cap = f" 最高减{_yuan(t.max_discount)}元" if t.max_discount else ""
        return f"{(10_000 - (t.percent_off or 0)) / 1000:g}折{cap}"
    if t.threshold:
        if kind == "red_envelope":
            return f"¥{_yuan(t.face_value or 0)}红包 满{_yuan(t.threshold)}可用"
        return f"满{_yuan(t.threshold)}减{_yuan(t.face_value or 0)}"
    return f"无门槛立减¥{_yuan(t.face_value or 0)}"


def _honest(c: Coupon, t: Terms, at: int) -> None:
    text = _text(c.kind, t)
    c.versions += [(at, "displayed", t, NA, "prominent", text), (at, "applied", t, NA, None, None)]


def platform_coupons(seed: int) -> list[Coupon]:
    """Three coupons per platform; P2's 满300减50 is raised to 满400减50 after launch."""
    rng = coupon_rng(seed, None)
    out = []
    for p, _name in PLATFORMS:
        specs = [
            ("threshold", Terms(f"{p}-CP01", face_value=5000, threshold=30000, stackable=True)),
            (
                "red_envelope",
                Terms(f"{p}-CP02", 2000, threshold=19900, stackable=True, per_buyer_cap=1),
            ),
            (
                "percent",
                Terms(f"{p}-CP03", percent_off=1000, max_discount=3000, stackable=False),
            ),
        ]
        for kind, t in specs:
            start = COUPON_FROM - int(rng.integers(0, 3)) * cal.DAY
            c = Coupon(t.coupon_id, p, None, kind, ANNOUNCED, start, COUPON_TO, [])
            _honest(c, t, ANNOUNCED)
            if p == "P2" and kind == "threshold":
                worse = Terms(t.coupon_id, 5000, threshold=40000, stackable=True)
                _honest(c, worse, CHANGE_AT)
                c.truth = ("COUPON002",)
            out.append(c)
    return out


def _merchant_coupons(rng: np.random.Generator, w: World, P: np.ndarray) -> list[Coupon]:
    """60% of merchants: one to three coupons sized to their typical price; then the injections."""
    M = len(w.merchant_id)
    typical = np.zeros(M, dtype=np.int64)
    d11 = P[:, cal.D11_DAY]
    for m in range(M):
        mine = d11[w.listing_merchant == m]
        typical[m] = int(np.median(mine)) if len(mine) else 10000
    out: list[Coupon] = []
    k = 0
    for m in np.flatnonzero(rng.random(M) < 0.60):
        for _ in range(int(rng.integers(1, 4))):
            kind = str(
                rng.choice(
                    ["threshold", "red_envelope", "percent", "cash"], p=[0.4, 0.25, 0.2, 0.15]
                )
            )
            base = int(typical[m])
            scope = "all" if rng.random() < 0.7 else str(CATEGORY_NAMES[w.merchant_category[m]])
            if kind == "threshold":
                thr = max(1000, int(round(base * rng.uniform(1.2, 2.2) / 1000)) * 1000)
                face = max(100, int(round(thr * rng.uniform(0.06, 0.15) / 100)) * 100)
                t = Terms("", face_value=face, threshold=thr, scope=scope, stackable=True)
            elif kind == "red_envelope":
                thr = max(500, int(round(base * rng.uniform(0.6, 1.3) / 100)) * 100 - 100)
                face = max(100, int(round(thr * rng.uniform(0.04, 0.12) / 100)) * 100)
                t = Terms("", face, threshold=thr, scope=scope, stackable=True, per_buyer_cap=1)
            elif kind == "percent":
                pct = int(rng.choice([500, 1000, 1500]))
                cap = max(500, int(round(base * pct / 10_000 * rng.uniform(0.5, 1.5) / 100)) * 100)
                t = Terms("", percent_off=pct, max_discount=cap, scope=scope, stackable=False)
            else:
                face = max(100, int(round(base * rng.uniform(0.02, 0.06) / 100)) * 100)
                t = Terms("", face_value=face, scope=scope, stackable=True, per_buyer_cap=1)
            cid = f"{w.merchant_id[m]}-C{k:02d}"
            k += 1
            t = Terms(
                cid,
                t.face_value,
                t.percent_off,
                t.threshold,
                t.max_discount,
                t.scope,
                t.stackable,
                t.per_buyer_cap,
            )
            start = COUPON_FROM - int(rng.integers(0, 4)) * cal.DAY
            announced = start - int(rng.integers(2, 6)) * cal.DAY
            out.append(
                Coupon(
                    cid,
                    f"P{w.merchant_platform[m] + 1}",
                    str(w.merchant_id[m]),
                    kind,
                    announced,
                    start,
                    COUPON_TO,
                    [],
                )
            )
            out[-1].versions.append(("_terms", t))  # type: ignore[arg-type]
    return out


def _finish(rng: np.random.Generator, coupons: list[Coupon]) -> None:
    """Turn each merchant coupon's drawn terms into versions: honest, injected or hard negative."""
    u = rng.random(len(coupons))
    for c, x in zip(coupons, u, strict=True):
        t = c.versions.pop()[1]  # type: ignore[index]
        at = c.announced_at
        if x < 0.15:  # COUPON001: the checkout enforces a condition the buyer was not shown
            _coupon001(rng, c, t)
        elif x < 0.30:  # COUPON002: the published terms worsen after launch
            _honest(c, t, at)
            _coupon002(rng, c, t)
        elif x < 0.37:  # hard negative: the threshold is in a tooltip that was on the page
            _honest(c, t, at)
            if t.threshold:
                v = c.versions[0]
                short = f"¥{_yuan(t.face_value or 0)}" if t.face_value else _text(c.kind, t)
                c.versions[0] = (
                    v[0],
                    v[1],
                    v[2],
                    v[3],
                    "prominent",
                    f"{short} ⓘ(满{_yuan(t.threshold)}可用)",
                )
        elif x < 0.44:  # hard negative: the terms change in the buyer's favour
            _honest(c, t, at)
            better = _better(rng, c, t)
            _honest(c, better, CHANGE_AT)
        elif x < 0.49:  # hard negative: drafts changed before the coupon was announced
            draft = Terms(
                t.coupon_id,
                (t.face_value or 0) + 500 if t.face_value else None,
                t.percent_off,
                t.threshold,
                t.max_discount,
                t.scope,
                t.stackable,
                t.per_buyer_cap,
            )
            _honest(c, draft, at - 2 * cal.DAY)
            _honest(c, t, at)
        else:
            _honest(c, t, at)


def _coupon001(rng: np.random.Generator, c: Coupon, t: Terms) -> None:
    at = c.announced_at
    mode = int(rng.integers(0, 5))
    shown = t
    applied = t
    disclosure = "prominent"
    valid_to_applied = NA
    if mode == 0 or (mode in (1, 4) and not t.threshold):
        # "¥20 red envelope": the threshold appears only at checkout
        thr = t.threshold or max(1000, (t.face_value or 1000) * 10)
        shown = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            None,
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
        applied = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            thr,
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    elif mode == 1:  # the threshold is shown, in fine print only
        disclosure = "fine_print"
    elif mode == 2:  # shown for every category, the checkout limits it to one
        shown = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            t.threshold,
            t.max_discount,
            "all",
            t.stackable,
            t.per_buyer_cap,
        )
        narrow = "food" if t.scope in ("all", None) else t.scope
        applied = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            t.threshold,
            t.max_discount,
            narrow,
            t.stackable,
            t.per_buyer_cap,
        )
    elif mode == 3:  # the checkout ends it a day before the date shown
        valid_to_applied = c.valid_to - cal.DAY
    text = _text(c.kind, shown)
    c.versions += [
        (at, "displayed", shown, NA, disclosure, text),
        (at, "applied", applied, valid_to_applied, None, None),
    ]
    if mode == 4 and t.threshold:  # the checkout raises the threshold later; the page does not
        raised = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            t.threshold + max(1000, t.threshold // 3),
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
        c.versions.append((CHANGE_AT, "applied", raised, NA, None, None))
    c.truth = ("COUPON001",)


def _coupon002(rng: np.random.Generator, c: Coupon, t: Terms) -> None:
    mode = int(rng.integers(0, 4))
    if mode == 0 and t.threshold:  # 满300减50 becomes 满400减50
        worse = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            t.threshold + max(1000, t.threshold // 3),
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    elif mode == 1 and t.face_value:
        worse = Terms(
            t.coupon_id,
            max(100, t.face_value // 2),
            t.percent_off,
            t.threshold,
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    elif mode == 2 and t.stackable:
        worse = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            t.threshold,
            t.max_discount,
            t.scope,
            False,
            t.per_buyer_cap,
        )
    elif t.percent_off:
        worse = Terms(
            t.coupon_id,
            t.face_value,
            max(100, t.percent_off // 2),
            t.threshold,
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    else:  # the cap on uses drops to one... or the coupon now needs a threshold
        if t.threshold is None:
            worse = Terms(
                t.coupon_id,
                t.face_value,
                t.percent_off,
                max(1000, (t.face_value or 100) * 10),
                t.max_discount,
                t.scope,
                t.stackable,
                t.per_buyer_cap,
            )
        else:
            worse = Terms(
                t.coupon_id,
                t.face_value,
                t.percent_off,
                t.threshold * 2,
                t.max_discount,
                t.scope,
                t.stackable,
                t.per_buyer_cap,
            )
    if worse == t:  # e.g. a ¥1 face value cannot be halved: raise the threshold instead
        base = t.threshold if t.threshold is not None else 0
        worse = Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            base + 1000,
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    _honest(c, worse, CHANGE_AT)
    c.truth = ("COUPON002",)


def _better(rng: np.random.Generator, c: Coupon, t: Terms) -> Terms:
    if t.threshold and rng.random() < 0.5:
        return Terms(
            t.coupon_id,
            t.face_value,
            t.percent_off,
            max(100, t.threshold - max(1000, t.threshold // 4)),
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    if t.face_value:
        return Terms(
            t.coupon_id,
            t.face_value + 500,
            t.percent_off,
            t.threshold,
            t.max_discount,
            t.scope,
            t.stackable,
            t.per_buyer_cap,
        )
    return Terms(
        t.coupon_id,
        t.face_value,
        t.percent_off,
        t.threshold,
        (t.max_discount or 0) + 1000,
        "all",
        True,
        t.per_buyer_cap,
    )


# -- the terms in force at a moment ------------------------------------------------------------------


def _in_force(c: Coupon, source: str, at: int) -> tuple[Terms, int] | None:
    """(terms, valid_to of that version or NA) of ``source`` in force at ``at``."""
    best = None
    for v in c.versions:
        if v[1] == source and v[0] <= at and (best is None or v[0] >= best[0]):
            best = v
    return None if best is None else (best[2], best[3])


def _valid(c: Coupon, version: tuple[Terms, int] | None, at: int) -> bool:
    if version is None or not (c.valid_from <= at <= c.valid_to):
        return False
    return version[1] == NA or at <= version[1]


def usable(coupons: list[Coupon], source: str, at: int, category: str) -> list[Terms]:
    """Terms of ``source`` in force and valid at ``at`` that cover ``category``."""
    out = []
    for c in coupons:
        v = _in_force(c, source, at)
        if _valid(c, v, at) and v[0].covers(category):
            out.append(v[0])
    return out


def attainable(coupons: list[Coupon], at: int, category: str) -> list[Terms]:
    """What the checkout grants at ``at``: the applied terms (the displayed ones if none applied)."""
    out = []
    for c in coupons:
        v = _in_force(c, "applied", at) or _in_force(c, "displayed", at)
        if _valid(c, v, at) and v[0].covers(category):
            out.append(v[0])
    return out


# -- the shard's coupon and prize tables --------------------------------------------------------------


@dataclass
class CouponOutput:
    tables: dict[str, dict[str, np.ndarray]]
    truth: list[tuple[str, str, str]]
    placed_at: np.ndarray
    discount_total: np.ndarray
    final_price_claim: np.ndarray  # per observation, NA = none
    final_price_qty: np.ndarray


def coupon_tables(coupons: list[Coupon]) -> dict[str, dict[str, np.ndarray]]:
    cols = {
        "coupon_id": [c.coupon_id for c in coupons],
        "platform_id": [c.platform_id for c in coupons],
        "merchant_id": [c.merchant_id for c in coupons],
        "kind": [c.kind for c in coupons],
        "announced_at": [c.announced_at for c in coupons],
        "valid_from": [c.valid_from for c in coupons],
        "valid_to": [c.valid_to for c in coupons],
    }
    rows = []
    for c in coupons:
        for at, source, t, vt, disclosure, text in sorted(c.versions, key=lambda v: (v[0], v[1])):
            rows.append(
                (
                    c.coupon_id,
                    at,
                    source,
                    NA if t.face_value is None else t.face_value,
                    NA if t.percent_off is None else t.percent_off,
                    NA if t.threshold is None else t.threshold,
                    NA if t.max_discount is None else t.max_discount,
                    t.scope,
                    t.stackable,
                    NA if t.per_buyer_cap is None else t.per_buyer_cap,
                    vt,
                    disclosure,
                    text,
                )
            )
    terms = {name: [r[i] for r in rows] for i, name in enumerate(TERM_COLUMNS)}

    def arr(values, ints: bool) -> np.ndarray:
        return np.array(values, dtype=np.int64) if ints else np.array(values, dtype=object)

    ints = {
        "announced_at",
        "valid_from",
        "valid_to",
        "effective_at",
        "face_value",
        "percent_off",
        "threshold_amount",
        "max_discount",
        "per_buyer_cap",
    }
    return {
        "coupons": {k: arr(v, k in ints) for k, v in cols.items()},
        "coupon_terms": {k: arr(v, k in ints) for k, v in terms.items()},
    }


def _by_owner(coupons: list[Coupon]) -> tuple[dict[str, list[Coupon]], dict[str, list[Coupon]]]:
    by_m: dict[str, list[Coupon]] = {}
    by_p: dict[str, list[Coupon]] = {}
    for c in coupons:
        (
            by_m.setdefault(c.merchant_id, [])
            if c.merchant_id
            else by_p.setdefault(c.platform_id, [])
        ).append(c)
    return by_m, by_p


def _agreed_equals_granted(c: Coupon, at: int, basket: int, category: str) -> bool:
    """Whether the displayed and the applied terms give the same discount at ``at`` (an honest
    buyer only ever redeems such coupons; the mismatches are COUPON001's, not COUPON004's)."""
    d = _in_force(c, "displayed", at)
    a = _in_force(c, "applied", at) or d
    dd = discount(d[0], basket, category) if _valid(c, d, at) else 0
    aa = discount(a[0], basket, category) if _valid(c, a, at) else 0
    return dd == aa


def build(
    seed: int,
    shard: int,
    w: World,
    P: np.ndarray,
    orders: dict[str, np.ndarray],
    obs: dict[str, np.ndarray],
) -> CouponOutput:
    """The shard's coupons, redemptions, 到手价 claims and prize games, with their labels.

    ``orders``: listing, paid, qty, unit (cents), buyer, honest (bool), order_id;
    ``obs``: listing, observed_at, price, channel (the price observations, in file order).
    """
    rng = coupon_rng(seed, shard)
    mine = _merchant_coupons(rng, w, P)
    _finish(rng, mine)
    every = platform_coupons(seed) + mine
    by_m, by_p = _by_owner(every)
    m_ids = w.merchant_id
    l_platform = np.array(
        [f"P{p + 1}" for p in w.merchant_platform[w.listing_merchant]], dtype=object
    )
    l_merchant = m_ids[w.listing_merchant]
    l_cat = CATEGORY_NAMES[w.listing_category]

    def coupons_of(li: int) -> list[Coupon]:
        return by_p.get(l_platform[li], []) + by_m.get(l_merchant[li], [])

    # -- orders: placed_at, redemptions --------------------------------------------------------------
    paid = orders["paid"]
    n = len(paid)
    placed = paid - rng.integers(10, 30 * cal.MINUTE, n)
    red_o: list[int] = []
    red_c: list[str] = []
    red_a: list[int] = []
    window = np.flatnonzero(
        orders["honest"] & (paid >= COUPON_FROM - 3 * cal.DAY) & (paid <= COUPON_TO + cal.HOUR)
    )
    u = rng.random((len(window), 3))
    for k, i in enumerate(window.tolist()):
        li = int(orders["listing"][i])
        cat = str(l_cat[li])
        basket = int(orders["unit"][i]) * int(orders["qty"][i])
        mine_c = coupons_of(li)
        # hard negative: placed a little before a coupon opened, paid after: nothing was due
        early = [c for c in mine_c if c.valid_from <= paid[i] < c.valid_from + cal.HOUR]
        if early and u[k, 0] < 0.5:
            c = early[0]
            placed[i] = c.valid_from - int(rng.integers(60, 1200))
            red_o.append(i), red_c.append(c.coupon_id), red_a.append(0)
            continue
        if u[k, 1] >= 0.5:
            # hard negative: a buyer picks a coupon whose threshold the basket does not reach
            if u[k, 2] < 0.04:
                for c in mine_c:
                    v = _in_force(c, "displayed", int(placed[i]))
                    if (
                        _valid(c, v, int(placed[i]))
                        and v[0].covers(cat)
                        and v[0].threshold
                        and basket < v[0].threshold
                    ):
                        red_o.append(i), red_c.append(c.coupon_id), red_a.append(0)
                        break
            continue
        at = int(placed[i])
        cands = [
            _in_force(c, "displayed", at)[0]
            for c in mine_c
            if _valid(c, _in_force(c, "displayed", at), at)
            and _agreed_equals_granted(c, at, basket, cat)
        ]
        best = cheapest(int(orders["unit"][i]), int(orders["qty"][i]), cands, cat)
        if not best.coupons:
            continue
        used = list(best.coupons)
        if u[k, 2] < 0.04:  # COUPON004: one coupon not applied, or applied short
            j = int(rng.integers(len(used)))
            cid, amount = used[j]
            used[j] = (cid, 0 if rng.random() < 0.6 or amount < 2 else amount // 2)
        for cid, amount in used:
            red_o.append(i), red_c.append(cid), red_a.append(amount)
    red_o_arr = np.array(red_o, dtype=np.int64)
    red_a_arr = np.array(red_a, dtype=np.int64)
    discount_total = np.full(n, NA, dtype=np.int64)
    if len(red_o_arr):
        sums = np.bincount(red_o_arr, weights=red_a_arr, minlength=n).astype(np.int64)
        has = np.zeros(n, dtype=bool)
        has[red_o_arr] = True
        discount_total[has] = sums[has]

    # -- 到手价 claims on the 11-11 detail page ------------------------------------------------------------
    L, T, price, ch = obs["listing"], obs["observed_at"], obs["price"], obs["channel"]
    claim = np.full(len(L), NA, dtype=np.int64)
    qty = np.full(len(L), NA, dtype=np.int64)
    rows = np.flatnonzero((T >= cal.D11_START) & (T < cal.D11_END) & (ch == "detail"))
    listings = np.unique(L[rows])
    pick = listings[rng.random(len(listings)) < 0.35]
    modes = dict(zip(pick.tolist(), rng.random(len(pick)).tolist(), strict=True))
    for r in rows.tolist():
        li = int(L[r])
        if li not in modes:
            continue
        x = modes[li]
        at, p, cat = int(T[r]), int(price[r]), str(l_cat[li])
        got = attainable(coupons_of(li), at, cat)
        one = cheapest(p, 1, got, cat)
        if x < 0.20:  # COUPON003: thresholds and stacking ignored, or an expired coupon counted
            naive = p - sum(
                t.face_value if t.face_value is not None else p * (t.percent_off or 0) // 10_000
                for t in got
            )
            c = naive if 0 < naive < one.total - 100 else one.total - max(100, p * 8 // 100)
            claim[r] = max(1, c)
        elif x < 0.32:  # hard negative: reachable only with the stated basket
            for q in (2, 3):
                b = cheapest(p, q, got, cat)
                per = -(-b.total // q)
                if per < one.total:
                    claim[r], qty[r] = per, q
                    break
        elif one.saving > 0:
            claim[r] = one.total
    truth: list[tuple[str, str, str]] = []
    for c in mine:
        truth += [(code, "coupon", c.coupon_id) for code in c.truth]
    prize_tables, prize_truth = _prizes(rng, w, shard)
    tables = coupon_tables(mine)
    tables["coupon_redemptions"] = {
        "order_id": orders["order_id"][red_o_arr] if len(red_o_arr) else np.array([], dtype=object),
        "coupon_id": np.array(red_c, dtype=object),
        "discount_amount": red_a_arr,
    }
    tables.update(prize_tables)
    out = CouponOutput(tables, truth + prize_truth, placed, discount_total, claim, qty)
    out.truth += label_coupon003(every, w, obs, claim, qty)
    out.truth += label_coupon004(every, w, orders, placed, red_o_arr, red_c, red_a_arr)
    return out


# -- labels: the documented rules, run on what was generated -----------------------------------------


def label_coupon003(every, w, obs, claim, qty) -> list[tuple[str, str, str]]:
    by_m, by_p = _by_owner(every)
    l_platform = [f"P{p + 1}" for p in w.merchant_platform[w.listing_merchant]]
    l_merchant = w.merchant_id[w.listing_merchant]
    l_cat = CATEGORY_NAMES[w.listing_category]
    flagged = set()
    for r in np.flatnonzero(claim != NA).tolist():
        li = int(obs["listing"][r])
        cs = by_p.get(l_platform[li], []) + by_m.get(l_merchant[li], [])
        q = 1 if qty[r] == NA else int(qty[r])
        at, cat = int(obs["observed_at"][r]), str(l_cat[li])
        best = cheapest(int(obs["price"][r]), q, attainable(cs, at, cat), cat)
        if int(claim[r]) * q + 1 < best.total:
            flagged.add(str(w.listing_id[li]))
    return [("COUPON003", "listing", x) for x in sorted(flagged)]


def label_coupon004(every, w, orders, placed, red_o, red_c, red_a) -> list[tuple[str, str, str]]:
    by_id = {c.coupon_id: c for c in every}
    l_cat = CATEGORY_NAMES[w.listing_category]
    others: dict[int, int] = {}
    for i, a in zip(red_o.tolist(), red_a.tolist(), strict=True):
        others[i] = others.get(i, 0) + (a > 0)
    flagged = set()
    for i, cid, a in zip(red_o.tolist(), red_c, red_a.tolist(), strict=True):
        c = by_id[cid]
        at = int(placed[i])
        v = _in_force(c, "displayed", at)
        if not _valid(c, v, at):
            continue
        t = v[0]
        if t.stackable is False and others[i] - (a > 0) > 0:
            continue  # a coupon that does not stack, beside another that was applied
        li = int(orders["listing"][i])
        due = discount(t, int(orders["unit"][i]) * int(orders["qty"][i]), str(l_cat[li]))
        if due - a > 1:
            flagged.add(str(orders["order_id"][i]))
    return [("COUPON004", "order", x) for x in sorted(flagged)]


# -- prize games -----------------------------------------------------------------------------------------

ITEMS = model.PRIZE_DISCLOSURE_ITEMS
PRIZE_NAMES = {
    "lottery": "双11幸运大抽奖",
    "instant_win": "下单即抽 好礼立得",
    "red_envelope_game": "抽红包 试手气",
    "team_bonus": "组队瓜分亿元奖金",
}


def _prizes(rng: np.random.Generator, w: World, shard: int):
    M = len(w.merchant_id)
    owners: list[tuple[str, str | None]] = [(p, None) for p, _ in PLATFORMS for _ in range(8)]
    for m in np.flatnonzero(rng.random(M) < 0.50).tolist():
        owners.append((f"P{w.merchant_platform[m] + 1}", str(w.merchant_id[m])))
    g_rows, a_rows, truth = [], [], []
    nb = len(w.buyer_id)
    for k, (platform, merchant) in enumerate(owners):
        gid = f"G{shard:03d}{k:04d}"
        kind = str(rng.choice(list(PRIZE_NAMES)))
        starts = cal.PRESALE_START + int(rng.integers(0, 20)) * cal.DAY
        ends = starts + int(rng.integers(2, 12)) * cal.DAY
        announced = starts - int(rng.integers(1, 8)) * cal.DAY
        top = int(rng.choice([88800, 188800, 500000, 888800, 2000000, 5000000]))
        items = list(ITEMS)
        changed, favours = NA, None
        n_awards = int(rng.integers(20, 120))
        values = np.minimum(top, (rng.choice([188, 520, 888, 1888, 8800], n_awards) * 100)).astype(
            np.int64
        )
        values[0] = top
        winners = rng.integers(0, nb, n_awards)
        x = rng.random(4)
        if x[0] < 0.12:  # PRIZE001: a top prize above ¥50,000
            top = int(rng.choice([6_000_000, 8_888_800, 10_000_000]))
            values[0] = top
        elif x[0] < 0.24:  # PRIZE001: one winner's prizes add up past ¥50,000
            top = min(top, 2_000_000) if top >= 1_000_000 else 2_000_000
            values[:4] = top
            winners[:4] = winners[0]
        elif x[0] < 0.34:  # hard negative: several small prizes to one winner, under the cap
            top = 888_800
            values[:5] = top  # 5 x 8,888 = 44,440; the whole pool is far above 50,000
            values[5:] = np.minimum(values[5:], top)
            winners[:5] = winners[0]
            n_extra = 60
            values = np.concatenate([values, np.full(n_extra, top)])
            winners = np.concatenate([winners, rng.integers(0, nb, n_extra)])
        if x[1] < 0.22:  # PRIZE002: missing disclosures
            drop = rng.choice(len(items), int(rng.integers(1, 6)), replace=False)
            items = [it for j, it in enumerate(items) if j not in set(drop.tolist())]
            disclosed = None if rng.random() < 0.2 else ";".join(items)
        elif x[1] < 0.34:  # hard negative: every item, in another order, case and spacing
            items = [it.upper() if j % 3 == 0 else f" {it} " for j, it in enumerate(items)]
            rng.shuffle(items)
            disclosed = "；".join(items[:8]) + ";" + ";".join(items[8:])
        else:
            disclosed = ";".join(items)
        if x[2] < 0.22:  # PRIZE003: rules changed after launch, not in the buyer's favour
            changed = starts + int(rng.integers(1, 3)) * cal.DAY // 2
            favours = False if rng.random() < 0.7 else None
        elif x[2] < 0.32:  # hard negative: a change in the buyers' favour
            changed, favours = starts + cal.DAY // 2, True
        elif x[2] < 0.38:  # hard negative: a change before the game was announced
            changed, favours = announced - cal.DAY, False
        g_rows.append(
            (
                gid,
                platform,
                merchant,
                PRIZE_NAMES[kind],
                kind,
                announced,
                starts,
                ends,
                "CNY",
                top,
                disclosed,
                changed,
                favours,
            )
        )
        at = starts + rng.integers(0, max(1, ends - starts), len(values))
        for j in range(len(values)):
            a_rows.append((f"A{gid[1:]}{j:04d}", gid, int(winners[j]), int(values[j]), int(at[j])))
    games = pd.DataFrame(g_rows, columns=[c.name for c in model.table("prize_promotions").columns])
    awards = pd.DataFrame(
        a_rows, columns=["award_id", "prize_promotion_id", "buyer", "prize_value", "awarded_at"]
    )
    truth += label_prizes(games, awards)
    ints = {"announced_at", "starts_at", "ends_at", "top_prize_value", "rules_changed_at"}

    def obj(values) -> np.ndarray:
        return np.array(
            [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values],
            dtype=object,
        )

    g_cols = {
        c: (games[c].to_numpy(dtype=np.int64) if c in ints else obj(games[c]))
        for c in games.columns
    }
    a_cols = {
        "award_id": awards.award_id.to_numpy(dtype=object),
        "prize_promotion_id": awards.prize_promotion_id.to_numpy(dtype=object),
        "buyer_id": w.buyer_id[awards.buyer.to_numpy()].astype(object),
        "prize_value": awards.prize_value.to_numpy(dtype=np.int64),
        "awarded_at": awards.awarded_at.to_numpy(dtype=np.int64),
    }
    return {"prize_promotions": g_cols, "prize_awards": a_cols}, truth


def label_prizes(games: pd.DataFrame, awards: pd.DataFrame) -> list[tuple[str, str, str]]:
    out = []
    per_winner = awards.groupby(["prize_promotion_id", "buyer"]).prize_value.sum()
    worst = per_winner.groupby(level=0).max()
    biggest = awards.groupby("prize_promotion_id").prize_value.max()
    for g in games.itertuples(index=False):
        gid = g.prize_promotion_id
        if (
            g.top_prize_value > CAP_CENTS
            or worst.get(gid, 0) > CAP_CENTS
            or biggest.get(gid, 0) > CAP_CENTS
        ):
            out.append(("PRIZE001", "prize_promotion", gid))
        shown = set()
        if isinstance(g.disclosed_items, str):
            shown = {x.strip().lower() for x in g.disclosed_items.replace("；", ";").split(";")}
        if not set(ITEMS) <= shown:
            out.append(("PRIZE002", "prize_promotion", gid))
        after = g.announced_at if g.announced_at != NA else g.starts_at
        if (
            g.rules_changed_at != NA
            and g.rules_changed_at > after
            and g.change_favours_buyer is not True
        ):
            out.append(("PRIZE003", "prize_promotion", gid))
    return out
