"""Licences: honest ones for every licensed category a merchant sells, and the LIC001 injection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from promoguard.simulate import calendar as cal
from promoguard.simulate.inject_pricing import NA
from promoguard.simulate.world import CATEGORIES, LICENCE_TYPE, LICENSED, World


def build_licences(rng: np.random.Generator, w: World, rate: float) -> pd.DataFrame:
    """Columns m (merchant index), type, vf, vt (NA = open), scope (None = all categories).

    Honest: valid from before registration, open-ended or ending 2027-06-30 or 2026-12-31 (after
    the season), scope empty or listing the category. LIC001 (``rate`` of the merchants needing a
    licence, on their first licensed category): no licence, expired mid-season, a scope that
    misses the category, or valid only from mid-season.
    """
    lic_rows = []
    needs: dict[int, set[int]] = {}
    for li in np.flatnonzero(LICENSED[w.listing_category]):
        needs.setdefault(int(w.listing_merchant[li]), set()).add(int(w.listing_category[li]))
    lic_m = np.array(sorted(needs), dtype=np.int64)
    bad_m = set(lic_m[rng.random(len(lic_m)) < rate].tolist())
    for mm in lic_m:
        for c in sorted(needs[int(mm)]):
            vf = int(w.merchant_registered[mm]) - int(rng.integers(30, 400)) * cal.DAY
            vt = [NA, cal.utc("2027-06-30T16:00:00"), cal.utc("2026-12-31T16:00:00")][
                int(rng.integers(3))
            ]
            scope = None if rng.random() < 0.5 else ";".join(sorted({CATEGORIES[c].name, "food"}))
            if int(mm) in bad_m and c == min(needs[int(mm)]):
                mode = int(rng.integers(4))
                if mode == 0:
                    continue  # no licence at all
                if mode == 1:
                    vt = cal.T0 + int(rng.integers(15, 45)) * cal.DAY  # expired before later sales
                elif mode == 2:
                    scope = "toys" if CATEGORIES[c].name != "toys" else "home"  # scope misses it
                else:
                    vf = cal.T0 + int(rng.integers(30, 60)) * cal.DAY  # obtained mid-season
            lic_rows.append((int(mm), str(LICENCE_TYPE[c]), vf, vt, scope))
    return pd.DataFrame(lic_rows, columns=["m", "type", "vf", "vt", "scope"])
