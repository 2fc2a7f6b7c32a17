"""PRICE001–005 on the small simulated season under cn: precision and recall of at least 0.95
against the simulator's ground truth, per code.

One documented disagreement with the simulator: it labels PRICE002 in both directions, so a
search page that shows a LOWER price than the detail page (a PRICE004 lure) makes the detail
page's honest percentage look "understated" there. An understated discount gives the buyer a
greater advantage than announced, which 明码标价和禁止价格欺诈规定 Art. 21 excludes from price
fraud; PRICE002 therefore flags overstated claims only. Such listings — honest reference, the
claim right on the detail page — are taken out of the PRICE002 truth here, and there may be only
a handful of them, so the adjustment cannot hide a regression.

A second one: the simulator labels PRICE005 on listings it also raised before the promotion
(PRICE003) whose raised sales put the listing's own former price at or above the MSRP it shows
as 原价. PRICE005 does not report a reference that is the listing's own former price (明码标价和
禁止价格欺诈规定 Art. 16 ¶2; docs/exemptions.md); PRICE003 reports the raise. Such listings,
with a sale at or above their MSRP in the 7 days before a promotion, also in the PRICE003 truth,
are taken out of the PRICE005 truth, at most a tenth of it.
"""

from __future__ import annotations

import pandas as pd
import pytest
from tests.support import run_check

from promoguard import store as store_mod

CODES = ["PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005"]
TARGET = 0.95
MAX_EXEMPT_SHARE = 0.10


@pytest.fixture(scope="module")
def scored(season_store, season_dir):
    result = run_check(season_store, "PRICE")
    truth = pd.read_csv(season_dir / "ground_truth.csv")
    with store_mod.open_store(season_store, read_only=True) as con:
        honest_on_detail = _claims_honest_on_the_detail_page(con)
        sold_at_msrp = _sold_at_or_above_msrp_before_the_promotion(con)
    return result.findings, truth, (honest_on_detail, sold_at_msrp)


def _sold_at_or_above_msrp_before_the_promotion(con) -> set[str]:
    """Listings with a sale (not cancelled) at or above their MSRP in the 7 days before one of
    their platform's promotions began."""
    rows = con.execute(
        """
        SELECT DISTINCT l.listing_id
        FROM listings l
        JOIN orders o USING (listing_id)
        JOIN promotions p ON p.platform_id = l.platform_id
        WHERE l.msrp IS NOT NULL AND o.status <> 'cancelled' AND o.paid_at < p.starts_at
          AND o.paid_at >= p.starts_at - INTERVAL 7 DAY AND o.unit_price >= l.msrp
        """
    ).fetchall()
    return {r[0] for r in rows}


def _claims_honest_on_the_detail_page(con) -> set[str]:
    """Listings whose every promotion-time claim on the detail page matches its reference."""
    rows = con.execute(
        """
        SELECT o.listing_id
        FROM price_observations o
        JOIN listings l USING (listing_id)
        JOIN promotions p ON p.platform_id = l.platform_id
          AND o.observed_at >= p.starts_at AND o.observed_at < p.ends_at
        WHERE o.channel = 'detail' AND o.claimed_discount_pct IS NOT NULL
          AND o.reference_price > 0
        GROUP BY o.listing_id
        HAVING max(abs(CAST(o.claimed_discount_pct AS DOUBLE)
                   - (1 - CAST(o.price AS DOUBLE) / CAST(o.reference_price AS DOUBLE)) * 100))
               <= 1.0
        """
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("code", CODES)
def test_precision_and_recall_per_code(scored, code):
    findings, truth, (honest_on_detail, sold_at_msrp) = scored
    listing_truth = truth[truth.entity_type == "listing"]
    t = set(listing_truth[listing_truth.check_code == code].entity_id)
    assert t, f"the season has no {code} ground truth"
    if code == "PRICE002":
        inflated = set(listing_truth[listing_truth.check_code == "PRICE001"].entity_id)
        exempt = (t & honest_on_detail) - inflated
        assert len(exempt) <= MAX_EXEMPT_SHARE * len(t), (
            f"{len(exempt)} of {len(t)} PRICE002 truth listings look understated-only"
        )
        t -= exempt
    if code == "PRICE005":
        raised = set(listing_truth[listing_truth.check_code == "PRICE003"].entity_id)
        exempt = t & raised & sold_at_msrp
        assert len(exempt) <= MAX_EXEMPT_SHARE * len(t), (
            f"{len(exempt)} of {len(t)} PRICE005 truth listings read as their own former price"
        )
        t -= exempt
    f = set(findings[findings.check_code == code].entity_id)
    tp = len(t & f)
    precision, recall = tp / max(len(f), 1), tp / len(t)
    assert precision >= TARGET and recall >= TARGET, (
        f"{code}: precision {precision:.3f}, recall {recall:.3f}; "
        f"false positives {sorted(f - t)[:10]}, missed {sorted(t - f)[:10]}"
    )
