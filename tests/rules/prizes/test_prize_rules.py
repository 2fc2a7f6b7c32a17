"""PRIZE001-003 on cases built by hand from 规范促销行为暂行规定 Arts. 13 and 17 (one store, one scan)."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import run_check

from promoguard.engine.packs import load_pack
from promoguard.model import PRIZE_DISCLOSURE_ITEMS

from ..coupons.builder import Book, Found, at


@pytest.fixture(scope="module")
def found(tmp_path_factory) -> Found:
    b = Book(tmp_path_factory.mktemp("prizes") / "prizes.duckdb")
    # PRIZE001: the cap is per prize and per winner, never the pool
    b.game("G1-OK-AT-CAP", top="50000.00")
    b.award("G1-OK-AT-CAP", "B1", "50000.00")
    b.game("G1-OVER", top="50000.01")
    b.game("G1-ONE-BIG", top="50000.00")
    b.award("G1-ONE-BIG", "B2", "60000.00")  # one prize above the cap, whatever was published
    b.game("G1-SUMMED", top="20000.00")
    for _ in range(3):
        b.award("G1-SUMMED", "B3", "20000.00")  # one winner: 60,000 in all
    b.game("G1-OK-SMALL", top="8888.00")
    for _ in range(5):
        b.award("G1-OK-SMALL", "B4", "8888.00")  # 44,440 for B4
    for k in range(20):
        b.award("G1-OK-SMALL", f"X{k}", "8888.00")  # a pool of 222,200 across winners
    # another currency counts at a floor rate (a blind set's cases, session 32): US$10,000 is
    # ¥60,000 at 6.0; ¥500,000 is ¥20,000 at 0.04; a currency with no rate is not judged
    b.game("G1-DOLLARS", top="10000.00", currency="usd")
    b.game("G1-OK-YEN", top="500000", currency="JPY")
    b.game("G1-OK-NO-RATE", top="90000000", currency="KRW")
    # one winner's awards at one moment add up (one ticket, Art. 17), across moments only as a
    # lead: low, with the reason; the same instant written in two offsets is one moment
    b.game("G1-MOMENT", top="30000.00")
    b.award(
        "G1-MOMENT", "B5", "30000.00", when=dt.datetime.fromisoformat("2026-11-11T12:00:00+08:00")
    )
    b.award(
        "G1-MOMENT", "B5", "30000.00", when=dt.datetime.fromisoformat("2026-11-11T04:00:00+00:00")
    )
    # two winners: A over the cap at one moment (the law's case: high, and named), B with more
    # across separate draws
    b.game("G1-BOTH", top="30000.00")
    noon = dt.datetime.fromisoformat("2026-11-11T12:00:00+08:00")
    b.award("G1-BOTH", "BA", "30000.00", when=noon)
    b.award("G1-BOTH", "BA", "25000.00", when=noon)
    for day in range(3):
        b.award("G1-BOTH", "BB", "30000.00", when=noon + dt.timedelta(days=day))
    b.game("G1-DRAWS", top="30000.00")
    b.award(
        "G1-DRAWS", "B6", "30000.00", when=dt.datetime.fromisoformat("2026-11-11T12:00:00+08:00")
    )
    b.award(
        "G1-DRAWS", "B6", "30000.00", when=dt.datetime.fromisoformat("2026-11-11T12:00:00+00:00")
    )
    # PRIZE002: every item, in any order, case or separator, is complete
    items = [x.upper() if i % 2 else f" {x} " for i, x in enumerate(PRIZE_DISCLOSURE_ITEMS)]
    b.game("G2-OK-ALL", top=100, items="；".join(items[::-1]))
    no_odds = [i for i in PRIZE_DISCLOSURE_ITEMS if i != "number_or_probability"]
    b.game("G2-NO-ODDS", top=100, items=";".join(no_odds))
    b.game("G2-NOTHING", top=100, items="")
    # every item, but announced only after it started (a blind set's case, session 32); with no
    # announcement time recorded, judged on the items alone
    every = ";".join(PRIZE_DISCLOSURE_ITEMS)
    b.game("G2-LATE", top=100, items=every, announced=at(-3))
    b.game("G2-OK-UNANNOUNCED", top=100, items=every, unannounced=True)
    b.game("G2-OK-AT-START", top=100, items=every, announced=at(-5))  # starts_at is at(-5)
    # PRIZE003: changed after the announcement, not in the buyers' favour
    b.game("G3-WORSE", top=100, announced=at(-10), changed=at(-2), favours=False)
    b.game("G3-UNKNOWN", top=100, announced=at(-10), changed=at(-2), favours=None)
    b.game("G3-OK-BETTER", top=100, announced=at(-10), changed=at(-2), favours=True)
    b.game("G3-OK-DRAFT", top=100, announced=at(-10), changed=at(-11), favours=False)
    # the rules as announced are not a change after it
    b.game("G3-OK-AT-ANNOUNCEMENT", top=100, announced=at(-10), changed=at(-10), favours=False)
    # no announcement recorded: fixed from the start (at(-5)), so a change after it is one
    b.game("G3-UNANNOUNCED", top=100, changed=at(-2), favours=False, unannounced=True)
    return Found(run_check(b.con, "PRIZE001,PRIZE002,PRIZE003").findings)


def test_prize001_top_prize_or_one_winners_total_over_the_cap(found):
    assert found.flagged("PRIZE001", "G1") == {
        "G1-OVER", "G1-ONE-BIG", "G1-SUMMED", "G1-DOLLARS", "G1-MOMENT", "G1-DRAWS", "G1-BOTH",
    }  # fmt: skip
    summed = found.observed("PRIZE001", "G1-SUMMED")
    assert summed["largest_winner_total"] == 60000 and summed["winner"] == "B3"
    assert summed["largest_same_moment_total"] == 60000
    assert summed["largest_award"] == 20000  # the largest single award, not the winner's total
    assert found.expected("PRIZE001", "G1-OVER")["cap"] == 50000
    assert found.expected("PRIZE001", "G1-DOLLARS")["floor_rate"] == 6


def test_prize001_a_winners_separate_draws_are_low_with_the_reason(found):
    f = found.findings.set_index(["check_code", "entity_id"])
    assert f.loc[("PRIZE001", "G1-MOMENT"), "severity"] == "high"
    assert f.loc[("PRIZE001", "G1-SUMMED"), "severity"] == "high"
    assert f.loc[("PRIZE001", "G1-DRAWS"), "severity"] == "low"
    draws = found.observed("PRIZE001", "G1-DRAWS")
    assert draws["largest_same_moment_total"] == 30000 and draws["largest_winner_total"] == 60000
    assert "separate draws" in draws["severity_reason"]
    both = found.observed("PRIZE001", "G1-BOTH")
    assert f.loc[("PRIZE001", "G1-BOTH"), "severity"] == "high"
    assert both["same_moment_winner"] == "BA" and both["largest_same_moment_total"] == 55000
    assert both["winner"] == "BB" and both["largest_winner_total"] == 90000


def test_prize002_missing_disclosures(found):
    assert found.flagged("PRIZE002") == {"G2-NO-ODDS", "G2-NOTHING", "G2-LATE"}
    assert found.observed("PRIZE002", "G2-LATE")["missing_items"] == "published_before_start;"
    missing = found.observed("PRIZE002", "G2-NO-ODDS")["missing_items"]
    assert missing == "number_or_probability;"


def test_prize003_rules_changed_after_launch(found):
    assert found.flagged("PRIZE003") == {"G3-WORSE", "G3-UNKNOWN", "G3-UNANNOUNCED"}


@pytest.mark.parametrize("pack", ["eu", "uk", "us"])
def test_no_prize_cap_outside_china(pack):
    rule = load_pack(pack).rules["PRIZE001"]
    assert not rule.enabled
