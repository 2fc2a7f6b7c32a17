"""The Ibis coupon arithmetic (rules/coupons/_shared.py) says exactly what coupon_math says."""

from __future__ import annotations

import random

import ibis
import pandas as pd

from promoguard.coupon_math import Terms, discount
from promoguard.rules.coupons._shared import discount_cents


def test_discount_cents_matches_the_reference_on_random_terms():
    rng = random.Random(15)
    rows = []
    for _ in range(2000):
        face = rng.choice([None, rng.randrange(1, 20_000)])
        pct = None if face is not None else rng.choice([None, rng.randrange(1, 10_000)])
        rows.append(
            {
                "face_c": face,
                "pct_h": pct,
                "thr_c": rng.choice([None, rng.randrange(0, 100_000)]),
                "max_c": rng.choice([None, rng.randrange(0, 10_000)]),
                "per_buyer_cap": rng.choice([None, 0, 1, 3]),
                "basket": rng.randrange(0, 200_000),
            }
        )
    df = pd.DataFrame(rows).astype("Int64")
    t = ibis.memtable(df)
    got = ibis.duckdb.connect().execute(t.select(off=discount_cents(t, t.basket))).off.tolist()
    want = [
        discount(
            Terms(
                "c",
                face_value=r["face_c"],
                percent_off=r["pct_h"],
                threshold=r["thr_c"],
                max_discount=r["max_c"],
                per_buyer_cap=r["per_buyer_cap"],
            ),
            r["basket"],
        )
        for r in rows
    ]
    assert got == want
