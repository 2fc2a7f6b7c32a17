"""COUPON001-004 on cases built by hand from the law's own examples and the platforms' wording.

Every case has its own merchant (a merchant's coupons apply to all its listings) and its ids say
what it is; the store is built once and scanned once (a scan costs seconds)."""

from __future__ import annotations

import pytest
from tests.support import run_check

from .builder import Book, Found, at

CODES = "COUPON001,COUPON002,COUPON003,COUPON004"


def _coupon001(b: Book) -> None:
    # a "¥100 red envelope" whose threshold appears only at checkout
    b.coupon("C1-HIDDEN", "M-HIDDEN", kind="red_envelope")
    b.terms("C1-HIDDEN", "displayed", at(-10), face=100, threshold=None, text="¥100红包")
    b.terms("C1-HIDDEN", "applied", at(-10), face=100, threshold=999)
    # the threshold in a tooltip that was on the page: shown, prominent, equal to checkout's
    b.coupon("C1-OK-TOOLTIP", "M-TOOLTIP", kind="red_envelope")
    b.both("C1-OK-TOOLTIP", at(-10), face=50, threshold=300, text="¥50 ⓘ(满300可用)")
    # the threshold in fine print only
    b.coupon("C1-FINE", "M-FINE")
    b.both("C1-FINE", at(-10), face=50, threshold=300, disclosure="fine_print", text="满300减50")
    # checkout raises the threshold mid-event while the page still shows 满300减50
    b.coupon("C1-MID", "M-MID")
    b.both("C1-MID", at(-10), face=50, threshold=300, text="满300减50")
    b.terms("C1-MID", "applied", at(-1), face=50, threshold=400)
    # scope, end and stacking shown wider than checkout applies them
    b.coupon("C1-SCOPE", "M-SCOPE")
    b.terms("C1-SCOPE", "displayed", at(-10), face=20, scope="all")
    b.terms("C1-SCOPE", "applied", at(-10), face=20, scope="food")
    b.coupon("C1-ENDS", "M-ENDS", valid_to=at(2))
    b.terms("C1-ENDS", "displayed", at(-10), face=20)
    b.terms("C1-ENDS", "applied", at(-10), face=20, valid_to=at(1))
    b.coupon("C1-STACK", "M-STACK")
    b.terms("C1-STACK", "displayed", at(-10), face=20, stackable=True)
    b.terms("C1-STACK", "applied", at(-10), face=20, stackable=False)
    # a scope spelled in another case at checkout is the same scope (a blind set's case, session
    # 32); a narrower one in the same spelling is still found (C1-SCOPE, and this one)
    b.coupon("C1-OK-SCOPE-CASE", "M-SCOPE-CASE")
    b.terms("C1-OK-SCOPE-CASE", "displayed", at(-10), face=20, scope="Beauty ")
    b.terms("C1-OK-SCOPE-CASE", "applied", at(-10), face=20, scope="beauty")
    b.coupon("C1-SCOPE-NARROWER", "M-SCOPE-NARROWER")
    b.terms("C1-SCOPE-NARROWER", "displayed", at(-10), face=20, scope="Beauty")
    b.terms("C1-SCOPE-NARROWER", "applied", at(-10), face=20, scope="skincare")
    # checkout lowers a cap, a face value, a percentage or adds a cap on the discount
    b.coupon("C1-CAP", "M-CAP", kind="red_envelope")
    b.terms("C1-CAP", "displayed", at(-10), face=20)
    b.terms("C1-CAP", "applied", at(-10), face=20, cap=1)
    b.coupon("C1-FACE", "M-FACE")
    b.terms("C1-FACE", "displayed", at(-10), face=50)
    b.terms("C1-FACE", "applied", at(-10), face=30)
    b.coupon("C1-PCT", "M-PCT", kind="percent")
    b.terms("C1-PCT", "displayed", at(-10), pct=20)
    b.terms("C1-PCT", "applied", at(-10), pct=10)
    b.coupon("C1-MAX", "M-MAX", kind="percent")
    b.terms("C1-MAX", "displayed", at(-10), pct=10)
    b.terms("C1-MAX", "applied", at(-10), pct=10, max_discount=30)
    # fine print with no restricting condition to hide: a plain ¥20 off, whatever the basket
    b.coupon("C1-OK-FINE-PLAIN", "M-FINE-PLAIN")
    b.both("C1-OK-FINE-PLAIN", at(-10), face=20, disclosure="fine_print", text="立减20")
    # an honest coupon whose later change is shown and applied alike
    b.coupon("C1-OK-CHANGE", "M-CHANGE")
    b.both("C1-OK-CHANGE", at(-10), face=50, threshold=300, text="满300减50")
    b.both("C1-OK-CHANGE", at(-1), face=50, threshold=250, text="满250减50")


def _coupon002(b: Book) -> None:
    # the example: 满300减50 raised to 满400减50 mid-event
    b.coupon("C2-RAISED", "M2-RAISED", announced=at(-10))
    b.both("C2-RAISED", at(-10), face=50, threshold=300)
    b.both("C2-RAISED", at(-1), face=50, threshold=400)
    # in the buyer's favour: lower threshold, bigger discount
    b.coupon("C2-OK-LOWER", "M2-LOWER", announced=at(-10))
    b.both("C2-OK-LOWER", at(-10), face=50, threshold=300)
    b.both("C2-OK-LOWER", at(-1), face=60, threshold=250)
    # a draft changed before the announcement
    b.coupon("C2-OK-DRAFT", "M2-DRAFT", announced=at(-10))
    b.both("C2-OK-DRAFT", at(-12), face=80, threshold=300)
    b.both("C2-OK-DRAFT", at(-10), face=50, threshold=300)
    b.coupon("C2-CUT", "M2-CUT", announced=at(-10))
    b.both("C2-CUT", at(-10), face=50, threshold=300)
    b.both("C2-CUT", at(-1), face=30, threshold=300)
    b.coupon("C2-NOSTACK", "M2-NOSTACK", announced=at(-10))
    b.both("C2-NOSTACK", at(-10), face=10, stackable=True)
    b.both("C2-NOSTACK", at(-1), face=10, stackable=False)
    b.coupon("C2-SCOPE", "M2-SCOPE", announced=at(-10))
    b.both("C2-SCOPE", at(-10), face=20, scope="all")
    b.both("C2-SCOPE", at(-1), face=20, scope="food")
    b.coupon("C2-ENDS", "M2-ENDS", announced=at(-10), valid_to=at(2))
    b.both("C2-ENDS", at(-10), face=20)
    b.both("C2-ENDS", at(-1), face=20, valid_to=at(1))
    b.coupon("C2-PCT", "M2-PCT", kind="percent", announced=at(-10))
    b.both("C2-PCT", at(-10), pct=20)
    b.both("C2-PCT", at(-1), pct=10)
    # no announcement recorded: its first published version stands for it
    b.coupon("C2-UNANNOUNCED", "M2-UNANNOUNCED", unannounced=True)
    b.both("C2-UNANNOUNCED", at(-10), face=50, threshold=300)
    b.both("C2-UNANNOUNCED", at(-1), face=50, threshold=400)


def _two_coupons(b: Book, lid: str, mid: str) -> None:
    b.listing(lid, mid)
    b.coupon(f"{mid}-FULL", mid)
    b.both(f"{mid}-FULL", at(-10), face=50, threshold=300, stackable=True)
    b.coupon(f"{mid}-EIGHTY", mid, kind="percent")
    b.both(f"{mid}-EIGHTY", at(-10), pct=20, stackable=False)


def _coupon003(b: Book) -> None:
    # ¥300 with 满300减50 (stacks) and 8折 (does not): 到手价 190 = 300 - 50 - 60 is unreachable
    _two_coupons(b, "L3-STACKED", "M3-STACKED")
    b.observe("L3-STACKED", at(0, 2), 300, claim=190)
    _two_coupons(b, "L3-OK-240", "M3-240")
    b.observe("L3-OK-240", at(0, 2), 300, claim=240)
    # a fen below the cheapest is display rounding (tolerance), not an unreachable claim
    _two_coupons(b, "L3-OK-FEN", "M3-FEN")
    b.observe("L3-OK-FEN", at(0, 2), 300, claim="239.99")
    # stacking not recorded counts as stacking: 300 - 50 - 20 = 230 is reachable
    b.listing("L3-OK-UNKNOWN-STACK", "M3-UNKNOWN-STACK")
    b.coupon("C3-U-FULL", "M3-UNKNOWN-STACK")
    b.both("C3-U-FULL", at(-10), face=50, threshold=300, stackable=None)
    b.coupon("C3-U-TWENTY", "M3-UNKNOWN-STACK")
    b.both("C3-U-TWENTY", at(-10), face=20, stackable=None)
    b.observe("L3-OK-UNKNOWN-STACK", at(0, 2), 300, claim=230)
    # a platform's 红包 (no merchant) reaches its listings: ¥100 - 30 = 70 is reachable (on a
    # platform of its own, so that it reaches no other case)
    b.listing("L3-OK-PLATFORM", "M3-PLATFORM", platform="P3")
    b.platform_coupon("C3-RED", platform="P3")
    b.both("C3-RED", at(-10), face=30)
    b.observe("L3-OK-PLATFORM", at(0, 2), 100, claim=70)
    # ¥180: 到手价 ¥155/件 for two (360 - 50 = 310) is reachable; for one unit it is not
    for lid, qty in (("L3-OK-BASKET", 2), ("L3-ONE-UNIT", None)):
        mid = "M" + lid[1:]
        b.listing(lid, mid)
        b.coupon(f"{mid}-FULL", mid)
        b.both(f"{mid}-FULL", at(-10), face=50, threshold=300)
        b.observe(lid, at(0, 2), 180, claim=155, qty=qty)
    # an expired coupon and one for another category do not count
    b.listing("L3-EXPIRED", "M3-EXPIRED", category="electronics")
    b.coupon("C3-OLD", "M3-EXPIRED", valid_to=at(-1))
    b.both("C3-OLD", at(-10), face=30)
    b.coupon("C3-FOOD", "M3-EXPIRED")
    b.both("C3-FOOD", at(-10), face=30, scope="food")
    b.coupon("C3-TERMS-ENDED", "M3-EXPIRED")  # the coupon runs on, its terms ended at 00:00
    b.both("C3-TERMS-ENDED", at(-10), face=30, valid_to=at(0))
    b.observe("L3-EXPIRED", at(0, 2), 100, claim=70)
    # the terms checkout enforced at the moment count (raised to 400 the day before)
    b.listing("L3-CHECKOUT", "M3-CHECKOUT")
    b.coupon("C3-CHG", "M3-CHECKOUT")
    b.both("C3-CHG", at(-10), face=50, threshold=300)
    b.terms("C3-CHG", "applied", at(-1), face=50, threshold=400)
    b.observe("L3-CHECKOUT", at(0, 2), 300, claim=250)


def _coupon004(b: Book) -> dict[str, str]:
    ids = {}
    b.listing("L4", "M4")
    b.coupon("C4-FULL", "M4")
    b.both("C4-FULL", at(-10), face=50, threshold=300)
    ids["met"] = b.order("L4", 160, 2, at(0, 1))  # 320 >= 300, nothing taken off
    b.redeem(ids["met"], "C4-FULL", 0)
    ids["honoured"] = b.order("L4", 160, 2, at(0, 2))
    b.redeem(ids["honoured"], "C4-FULL", 50)
    ids["below"] = b.order("L4", 140, 2, at(0, 3))  # 280 < 300: nothing was due
    b.redeem(ids["below"], "C4-FULL", 0)
    b.listing("L4-OPENS", "M4-OPENS")
    b.coupon("C4-OPENS", "M4-OPENS", valid_from=at(0))
    b.both("C4-OPENS", at(-10), face=20)
    ids["early"] = b.order("L4-OPENS", 100, 1, paid=at(0, 0.05), placed=at(0, -0.05))
    b.redeem(ids["early"], "C4-OPENS", 0)
    ids["late"] = b.order("L4-OPENS", 100, 1, paid=at(0, 0.1), placed=at(0, 0.05))
    b.redeem(ids["late"], "C4-OPENS", 0)
    # placed the instant it opens: valid (valid_from is inclusive)
    ids["opening"] = b.order("L4-OPENS", 100, 1, paid=at(0, 0.1), placed=at(0), buyer="B2")
    b.redeem(ids["opening"], "C4-OPENS", 0)
    # a food coupon redeemed on electronics: outside its scope, nothing was due
    b.listing("L4-SCOPE", "M4-SCOPE", category="electronics")
    b.coupon("C4-FOOD", "M4-SCOPE")
    b.both("C4-FOOD", at(-10), face=20, scope="food")
    ids["out_of_scope"] = b.order("L4-SCOPE", 100, 1, at(0, 1))
    b.redeem(ids["out_of_scope"], "C4-FOOD", 0)
    b.listing("L4-NINE", "M4-NINE")
    b.coupon("C4-NINE", "M4-NINE", kind="percent")
    b.both("C4-NINE", at(-10), pct=10, max_discount=30, stackable=False)
    ids["capped"] = b.order("L4-NINE", 500, 1, at(0, 1))
    b.redeem(ids["capped"], "C4-NINE", 30)  # 10% of 500 is 50; the cap is 30
    ids["short"] = b.order("L4-NINE", 500, 1, at(0, 2))
    b.redeem(ids["short"], "C4-NINE", 20)
    b.listing("L4-ALONE", "M4-ALONE")
    b.coupon("C4-ALONE", "M4-ALONE", kind="percent")
    b.both("C4-ALONE", at(-10), pct=10, stackable=False)
    b.coupon("C4-OTHER", "M4-ALONE")
    b.both("C4-OTHER", at(-10), face=30)
    ids["beside"] = b.order("L4-ALONE", 200, 1, at(0, 1))
    b.redeem(ids["beside"], "C4-OTHER", 30)
    b.redeem(ids["beside"], "C4-ALONE", 0)
    # 红包 ¥20, one per buyer: a buyer's second order is owed nothing once the first used it
    b.listing("L4-ONCE", "M4-ONCE")
    b.coupon("C4-ONCE", "M4-ONCE", kind="red_envelope")
    b.both("C4-ONCE", at(-10), face=20, cap=1)
    ids["once_first"] = b.order("L4-ONCE", 100, 1, at(0, 1), buyer="BX")
    b.redeem(ids["once_first"], "C4-ONCE", 20)
    ids["once_again"] = b.order("L4-ONCE", 100, 1, at(0, 3), buyer="BX")
    b.redeem(ids["once_again"], "C4-ONCE", 0)
    # another buyer's first use, shorted, is flagged; that buyer's turn is then used
    ids["once_other"] = b.order("L4-ONCE", 100, 1, at(0, 2), buyer="BY")
    b.redeem(ids["once_other"], "C4-ONCE", 0)
    ids["once_other_again"] = b.order("L4-ONCE", 100, 1, at(0, 4), buyer="BY")
    b.redeem(ids["once_other_again"], "C4-ONCE", 0)
    # two per buyer: the second order is still within the cap and shorted
    b.coupon("C4-TWICE", "M4-ONCE", kind="red_envelope")
    b.both("C4-TWICE", at(-10), face=20, cap=2)
    ids["twice_first"] = b.order("L4-ONCE", 100, 1, at(0, 1), buyer="BZ")
    b.redeem(ids["twice_first"], "C4-TWICE", 20)
    ids["twice_second"] = b.order("L4-ONCE", 100, 1, at(0, 2), buyer="BZ")
    b.redeem(ids["twice_second"], "C4-TWICE", 0)
    # 红包 ¥20, one per buyer: a cancelled first order never used it (never a sale), so the
    # buyer's next order is owed its ¥20; a refunded first order did use it (policy)
    b.listing("L4-BACK", "M4-BACK")
    b.coupon("C4-BACK", "M4-BACK", kind="red_envelope")
    b.both("C4-BACK", at(-10), face=20, cap=1)
    ids["cancelled_first"] = b.order("L4-BACK", 100, 1, at(0, 1), buyer="BC", status="cancelled")
    b.redeem(ids["cancelled_first"], "C4-BACK", 20)
    ids["after_cancelled"] = b.order("L4-BACK", 100, 1, at(0, 2), buyer="BC")
    b.redeem(ids["after_cancelled"], "C4-BACK", 0)
    ids["refunded_first"] = b.order("L4-BACK", 100, 1, at(0, 1), buyer="BR", status="refunded")
    b.redeem(ids["refunded_first"], "C4-BACK", 20)
    ids["after_refunded"] = b.order("L4-BACK", 100, 1, at(0, 2), buyer="BR")
    b.redeem(ids["after_refunded"], "C4-BACK", 0)
    return ids


@pytest.fixture(scope="module")
def found(tmp_path_factory) -> tuple[Found, dict[str, str]]:
    b = Book(tmp_path_factory.mktemp("coupons") / "coupons.duckdb")
    _coupon001(b)
    _coupon002(b)
    _coupon003(b)
    orders = _coupon004(b)
    return Found(run_check(b.con, CODES).findings), orders


def test_coupon001_conditions_not_shown_or_shown_weakly(found):
    f, _ = found
    assert f.flagged("COUPON001", "C1") == {
        "C1-HIDDEN",
        "C1-FINE",
        "C1-MID",
        "C1-SCOPE",
        "C1-ENDS",
        "C1-STACK",
        "C1-SCOPE-NARROWER",
        "C1-CAP",
        "C1-FACE",
        "C1-PCT",
        "C1-MAX",
    }
    hidden = f.observed("COUPON001", "C1-HIDDEN")
    assert hidden["conditions"] == "threshold;" and hidden["shown_text"] == "¥100红包"
    assert hidden["shown_threshold"] is None
    assert float(f.expected("COUPON001", "C1-HIDDEN")["applied_threshold"]) == 999
    assert f.observed("COUPON001", "C1-FINE")["conditions"] == "shown_weakly;"
    mid = f.observed("COUPON001", "C1-MID")
    # flagged from the moment checkout changed; the page had shown 300 since 10-31
    assert mid["conditions"] == "threshold;"
    assert mid["moment"].startswith("2026-11-09T16:00")
    assert mid["shown_since"].startswith("2026-10-31T16:00")
    for cid, what in (
        ("C1-SCOPE", "scope;"),
        ("C1-ENDS", "validity;"),
        ("C1-STACK", "stacking;"),
        ("C1-CAP", "per_buyer_cap;"),
        ("C1-FACE", "face_value;"),
        ("C1-PCT", "percent_off;"),
        ("C1-MAX", "max_discount;"),
    ):
        assert f.observed("COUPON001", cid)["conditions"] == what
    # COUPON003's case whose checkout raised the threshold unannounced is COUPON001's too
    assert "C3-CHG" in f.flagged("COUPON001")


def test_coupon002_terms_worsened_after_announcement(found):
    f, _ = found
    assert f.flagged("COUPON002") == {
        "C2-RAISED",
        "C2-CUT",
        "C2-NOSTACK",
        "C2-SCOPE",
        "C2-ENDS",
        "C2-PCT",
        "C2-UNANNOUNCED",
    }
    raised = f.observed("COUPON002", "C2-RAISED")
    assert raised["changes"] == "threshold raised;"
    assert float(raised["threshold_after"]) == 400
    assert float(f.expected("COUPON002", "C2-RAISED")["threshold_before"]) == 300
    assert f.observed("COUPON002", "C2-CUT")["changes"] == "face value cut;"
    assert f.observed("COUPON002", "C2-NOSTACK")["changes"] == "stacking withdrawn;"
    assert f.observed("COUPON002", "C2-SCOPE")["changes"] == "scope narrowed;"
    assert f.observed("COUPON002", "C2-ENDS")["changes"] == "ends earlier;"
    assert f.observed("COUPON002", "C2-PCT")["changes"] == "percentage cut;"
    assert f.observed("COUPON002", "C2-UNANNOUNCED")["changes"] == "threshold raised;"
    # a change only checkout made is COUPON001's, not COUPON002's
    assert "C1-MID" not in f.flagged("COUPON002")


def test_coupon003_final_price_no_purchase_reaches(found):
    f, _ = found
    assert f.flagged("COUPON003") == {"L3-STACKED", "L3-ONE-UNIT", "L3-EXPIRED", "L3-CHECKOUT"}
    stacked = f.expected("COUPON003", "L3-STACKED")
    assert stacked["cheapest_total"] == 240 and stacked["coupons_valid"] == 2
    assert f.expected("COUPON003", "L3-ONE-UNIT")["cheapest_total"] == 180
    expired = f.expected("COUPON003", "L3-EXPIRED")
    assert expired["cheapest_total"] == 100 and expired["coupons_valid"] == 0
    assert f.expected("COUPON003", "L3-CHECKOUT")["cheapest_total"] == 300


def test_coupon004_coupon_not_honoured(found):
    f, ids = found
    assert f.flagged("COUPON004") == {
        ids["met"],
        ids["late"],
        ids["opening"],
        ids["short"],
        ids["once_other"],
        ids["twice_second"],
        ids["after_cancelled"],
    }
    assert f.expected("COUPON004", ids["met"])["discount_due"] == 50
    assert f.observed("COUPON004", ids["short"])["discount_applied"] == "20.00"
    assert f.expected("COUPON004", ids["short"])["discount_due"] == 30
    assert f.expected("COUPON004", ids["twice_second"])["discount_due"] == 20


def test_coupon004_nothing_due_past_the_per_buyer_cap(found):
    """规范促销行为暂行规定 Art. 22: a coupon offsets the price as its rules say; one whose rule is
    one per buyer owes the buyer's second order nothing (the reviewer's K2 case)."""
    f, ids = found
    flagged = f.flagged("COUPON004")
    assert ids["once_again"] not in flagged
    # a shorted first use took the buyer's turn: flagged once, not again on the next order
    assert ids["once_other"] in flagged and ids["once_other_again"] not in flagged
    # within a cap of two, the second order is still owed its ¥20
    assert ids["twice_second"] in flagged


def test_coupon004_a_cancelled_order_never_used_the_per_buyer_coupon(found):
    """A ¥20 红包, one per buyer: the buyer's first order, cancelled, took ¥20 off; the second got
    nothing. A cancelled order was never a sale (the pricing rules' exclude_statuses), so the
    buyer's one use is still to come and the second order is owed its ¥20 (the reviewer's case).
    A refunded first order did use it: the next order is owed nothing."""
    f, ids = found
    flagged = f.flagged("COUPON004")
    assert ids["after_cancelled"] in flagged
    assert f.expected("COUPON004", ids["after_cancelled"])["discount_due"] == 20
    assert ids["cancelled_first"] not in flagged
    assert ids["after_refunded"] not in flagged and ids["refunded_first"] not in flagged
