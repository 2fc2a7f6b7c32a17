"""Reviews of delivered orders, with REVIEW001 (near-duplicates), REVIEW002 (reward offered) and
REVIEW003 (spam bursts from fresh accounts) injected."""

from __future__ import annotations

import numpy as np

from promoguard.simulate import calendar as cal
from promoguard.simulate import inject_content as ic
from promoguard.simulate import texts as tx
from promoguard.simulate.inject_brushing import TAG_REVIEW003

NA = np.iinfo(np.int64).min


def build_reviews(
    rng: np.random.Generator,
    order_listing: np.ndarray,
    order_buyer: np.ndarray,
    order_tag: np.ndarray,
    delivered_at: np.ndarray,
    listing_quality: np.ndarray,
    listing_merchant: np.ndarray,
    listing_category: np.ndarray,
    listing_noun: np.ndarray,
    rates,
) -> tuple[dict[str, np.ndarray], list[tuple[str, str, int]]]:
    """Review columns (order index in ``order``) and truth as (code, 'review', row index)."""
    n = len(order_listing)
    delivered = delivered_at != NA
    spam = delivered & (order_tag == TAG_REVIEW003)
    # brushing orders (tags 1-3) carry no reviews, so REVIEW003 labels stay unambiguous
    honest = delivered & (order_tag == 0) & (rng.random(n) < 0.38)
    rows = np.flatnonzero(honest | spam)
    is_spam = spam[rows]
    li = order_listing[rows]
    q = listing_quality[li]
    # honest ratings around the listing's quality; spam: 5 stars on poor listings, 1 on good ones
    rating = np.clip(np.round(rng.normal(q, 0.8)), 1, 5).astype(np.int64)
    rating[is_spam] = np.where(q[is_spam] < 3.8, 5, 1)
    gap = rng.lognormal(np.log(2.5 * cal.DAY), 0.8, len(rows)).astype(np.int64)
    quick = rng.random(len(rows)) < 0.05  # hard negative: honest buyers reviewing within an hour
    gap[quick] = rng.integers(10 * cal.MINUTE, cal.HOUR, int(quick.sum()))
    gap[is_spam] = rng.integers(5 * cal.MINUTE, 50 * cal.MINUTE, int(is_spam.sum()))
    created = delivered_at[rows] + gap
    keep = created < cal.DATA_CUT
    rows, is_spam, li, rating, created = (
        rows[keep],
        is_spam[keep],
        li[keep],
        rating[keep],
        created[keep],
    )
    m = len(rows)
    lang = np.where(rng.random(m) < 0.85, "zh", "en")
    has_text = rng.random(m) < 0.65
    text = np.full(m, None, dtype=object)
    # texts are drawn from a bank of composed reviews (per language and tone): fast at any scale
    for lg in ("zh", "en"):
        for bad in (False, True):
            rows_k = np.flatnonzero(has_text & (lang == lg) & ((rating <= 2) == bad))
            if len(rows_k) == 0:
                continue
            bank = np.array(
                [tx.review_text(rng, lg, bad) for _ in range(min(len(rows_k), 1500))], dtype=object
            )
            text[rows_k] = bank[rng.integers(0, len(bank), len(rows_k))]
    truth: list[tuple[str, str, int]] = [
        ("REVIEW003", "review", int(i)) for i in np.flatnonzero(is_spam)
    ]

    # REVIEW001: groups of 5-12 reviews by different buyers of one merchant share a template
    merchant = listing_merchant[li]
    buyer = order_buyer[rows]
    n_groups = max(1, round(rates.review001_groups * n))
    cand_m = np.unique(merchant[~is_spam])
    for mm in rng.choice(cand_m, size=min(n_groups, len(cand_m)), replace=False):
        idx = np.flatnonzero((merchant == mm) & ~is_spam)
        _, first = np.unique(buyer[idx], return_index=True)
        idx = idx[np.sort(first)]
        if len(idx) < 5:
            continue
        k = int(min(len(idx), rng.integers(5, 13)))
        pick = rng.choice(idx, size=k, replace=False)
        lg = str(lang[pick[0]])
        noun = tx.noun(int(listing_category[li[pick[0]]]), int(listing_noun[li[pick[0]]]), lg)
        for i, t in zip(pick, ic.review001_group(rng, lg, noun, k), strict=True):
            text[i] = t
            lang[i] = lg
            rating[i] = 5
            truth.append(("REVIEW001", "review", int(i)))
    r001 = {i for c, _, i in truth if c == "REVIEW001"}
    # REVIEW002: the buyer reports the reward ("商家说五星好评返5元")
    for i in np.flatnonzero(rng.random(m) < rates.review002):
        if int(i) in r001:
            continue
        p, _codes = ic.phrase(rng, "REVIEW002", str(lang[i]))
        lead = f"商家说{p}，" if lang[i] == "zh" else f"The seller said: {p}. "
        text[i] = lead + (text[i] or "")
        truth.append(("REVIEW002", "review", int(i)))
    cols = {
        "order": rows,
        "listing": li,
        "buyer": buyer,
        "rating": rating,
        "created_at": created,
        "text": text,
    }
    return cols, truth
