"""The hard negatives added for BRUSH003, TEXT004 and REVIEW002 trip the naive rules.

Same idea as test_hardness.py (whose bounds stay as they were): on the session's seed-7 season
the naive rule of benchmarks/naive_baselines.py keeps its recall but loses precision, and its
false positives are the documented honest look-alikes (docs/simulator.md). Measured on seeds 7,
11 and 23: BRUSH003 (b) P 0.17-0.18, TEXT004 P 0.15-0.22, REVIEW002 P 0.57-0.65.
"""

from __future__ import annotations

import pandas as pd
import pytest

from .naive_support import false_positives, nb

# (code, variant): highest naive precision allowed, lowest naive recall required
HARD = {
    ("BRUSH003", "b"): (0.4, 0.95),
    ("TEXT004", "a"): (0.5, 0.05),
    ("REVIEW002", "a"): (0.8, 0.4),
}


@pytest.fixture(scope="module")
def naive(season_con) -> pd.DataFrame:
    return nb.naive_findings(season_con, [r for r in nb.NAIVE_RULES if (r.code, r.variant) in HARD])


@pytest.mark.parametrize(("code", "variant"), sorted(HARD), ids=lambda v: str(v))
def test_naive_rule_loses_precision(naive, season_truth, code, variant):
    found = naive[(naive["check_code"] == code) & (naive["variant"] == variant)]
    precision, recall = nb.score(found, season_truth, code)
    max_p, min_r = HARD[(code, variant)]
    assert precision is not None and precision < max_p, (code, precision)
    assert recall >= min_r, f"{code}: the naive rule itself misses too much ({recall:.2f})"


def test_brush003_false_positives_are_honest_split_orders_on_11_11(season_con, naive, season_truth):
    """Each honest shop the naive rule flags had its 3+ orders per buyer-hour on Beijing 11-11."""
    fp = false_positives(naive, season_truth, "BRUSH003", "b")
    rapid = season_con.sql(
        """SELECT merchant_id, bool_and(day = DATE '2026-11-11') AS only_d11 FROM (
             SELECT merchant_id, buyer_id, date_trunc('hour', paid_at) AS h,
                    CAST(paid_at + INTERVAL 8 HOUR AS DATE) AS day, count(*) AS n
             FROM orders WHERE status <> 'cancelled' GROUP BY ALL HAVING n >= 3)
           GROUP BY merchant_id"""
    ).df()
    assert len(fp) > 20
    assert rapid[rapid["merchant_id"].isin(fp)]["only_d11"].all()


def test_text004_false_positives_are_platform_payment_and_music_mentions(
    season_con, naive, season_truth
):
    fp = false_positives(naive, season_truth, "TEXT004", "a")
    texts = (
        season_con.sql("SELECT text_id, content FROM texts").df().set_index("text_id")["content"]
    )
    honest = ("微信支付", "微信付款", "QQ音乐")
    assert fp and all(any(h in texts[t] for h in honest) for t in fp)
