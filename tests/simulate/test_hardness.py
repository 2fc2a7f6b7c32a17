"""The simulator's hard negatives trip naive checks.

benchmarks/naive_baselines.py scores one deliberately naive rule per check code against the
ground season_truth (docs/simulator-hardness.md). Here, on the session's seed-7 season, the codes whose
hard negatives are designed to catch a naive rule must keep doing so: the naive rule still finds
most violations (so the rule is not simply broken) but loses precision, and its false positives
are the documented honest look-alikes. If the simulator stops generating a hard negative, these
tests fail. Only codes measured well below 0.95 on seeds 7, 11 and 23 are asserted.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from promoguard.text.identifiers import id_check_char

from .naive_support import false_positives, nb

# (code, variant): highest naive precision allowed, lowest naive recall required. The bounds sit
# well clear of what seeds 7, 11 and 23 measured (docs/simulator-hardness.md).
HARD = {
    ("TEXT001", "a"): (0.5, 0.6),
    ("TEXT005", "a"): (0.5, 0.1),
    ("SHIP003", "a"): (0.8, 0.95),
    ("BRUSH002", "a"): (0.3, 0.3),
    ("PRICE003", "a"): (0.6, 0.95),
    ("PRICE001", "a"): (0.8, 0.95),
    ("PRICE004", "a"): (0.7, 0.95),
    ("LIC001", "c"): (0.8, 0.95),
    ("TEXT003", "a"): (0.6, 0.4),
    ("TEXT006", "a"): (0.5, 0.6),
}


@pytest.fixture(scope="module")
def naive(season_con) -> pd.DataFrame:
    rules = [r for r in nb.NAIVE_RULES if (r.code, r.variant) in HARD]
    return nb.naive_findings(season_con, rules)


@pytest.mark.parametrize(("code", "variant"), sorted(HARD), ids=lambda v: str(v))
def test_naive_rule_loses_precision(naive, season_truth, code, variant):
    found = naive[(naive["check_code"] == code) & (naive["variant"] == variant)]
    precision, recall = nb.score(found, season_truth, code)
    max_p, min_r = HARD[(code, variant)]
    assert precision is not None and precision < max_p, (code, precision)
    assert recall >= min_r, f"{code}: the naive rule itself misses too much ({recall:.2f})"


def test_text001_false_positives_are_honest_superlative_lookalikes(season_con, naive, season_truth):
    fp = false_positives(naive, season_truth, "TEXT001", "a")
    texts = (
        season_con.sql("SELECT text_id, content FROM texts").df().set_index("text_id")["content"]
    )
    honest = ("最近", "第一次", "首先", "最后提醒", "第一天")
    share = sum(any(h in texts[t] for h in honest) for t in fp) / len(fp)
    assert share > 0.9, share


def _id_check_ok(ident: str) -> bool:
    """GB 11643 check digit of an 18-character resident ID (the text engine's own rule)."""
    return id_check_char(ident[:17]) == ident[17].upper()


def test_text005_false_positives_fail_the_id_checksum(season_con, naive, season_truth):
    fp = false_positives(naive, season_truth, "TEXT005", "a")
    texts = (
        season_con.sql("SELECT text_id, content FROM texts").df().set_index("text_id")["content"]
    )
    assert fp
    for text_id in fp:
        ids = re.findall(r"(?<!\d)\d{17}[\dXx](?!\d)", texts[text_id])
        assert ids and not any(_id_check_ok(i) for i in ids), texts[text_id]


def test_ship003_false_positives_were_dispatched_inside_their_promise(
    season_con, naive, season_truth
):
    fp = false_positives(naive, season_truth, "SHIP003", "a")
    late = season_con.sql(
        """SELECT s.order_id, min(e.event_at) <= max(o.promised_dispatch_by) AS inside
           FROM shipments s JOIN tracking_events e
             ON e.carrier = s.carrier AND e.tracking_no = s.tracking_no AND e.event_type = 'pickup'
           JOIN orders o ON o.order_id = s.order_id GROUP BY s.order_id"""
    ).df()
    inside = late[late["order_id"].isin(fp)]["inside"]
    assert len(inside) == len(fp) > 0 and inside.all()


def test_brush002_false_positives_are_households_without_a_shared_device(
    season_con, naive, season_truth
):
    fp = false_positives(naive, season_truth, "BRUSH002", "a")
    devices = season_con.sql("SELECT DISTINCT buyer_id, buyer_device_id FROM orders").df()
    shared = devices.groupby("buyer_device_id")["buyer_id"].nunique()
    shared_devices = set(shared[shared > 1].index)
    households = [g for g in fp if 2 <= len(g.split("|")) <= 4]
    assert len(households) > 0.9 * len(fp)
    ring_buyers = set(devices[devices["buyer_device_id"].isin(shared_devices)]["buyer_id"])
    assert not any(set(g.split("|")) & ring_buyers for g in households)


def test_lic001_false_positives_hold_multi_category_scopes(season_con, naive, season_truth):
    fp = false_positives(naive, season_truth, "LIC001", "c")
    scopes = season_con.sql("SELECT merchant_id, scope FROM licences WHERE scope LIKE '%;%'").df()
    assert fp and fp <= set(scopes["merchant_id"])
