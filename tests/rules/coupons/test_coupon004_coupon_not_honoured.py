"""COUPON004's redemptions cut down to some orders first are the same rows as all redemptions
cut down afterwards (what its evidence relies on)."""

from __future__ import annotations

import json

import ibis
import pyarrow as pa
from tests.support import run_check

from promoguard.engine.backends import duckdb_tables
from promoguard.rules.coupons import coupon004_coupon_not_honoured as coupon004
from promoguard.rules.coupons.coupon004_coupon_not_honoured import redemptions_due

from .builder import Book, Found, at
from .test_coupon_rules import _coupon004


def _rows(t, expr) -> list[tuple]:
    return sorted(tuple(str(v) for v in r.values()) for r in t.to_arrow(expr).to_pylist())


def test_redemptions_of_some_orders_equal_all_redemptions_cut_afterwards(tmp_path):
    b = Book(tmp_path / "c.duckdb")
    ids = _coupon004(b)
    # 'beside': two coupons on one order, one of which does not stack: each row reads the other
    # 'once_again': its due reads the same buyer's earlier order, which is not chosen
    # 'after_cancelled': its buyer's earlier order was cancelled and used nothing
    chosen = [ids["beside"], ids["met"], ids["capped"], ids["once_again"], ids["after_cancelled"]]
    with duckdb_tables(b.con) as t:
        some = ibis.memtable(pa.table({"f_order": pa.array(chosen, pa.string())}))
        cut_first = redemptions_due(t, some)
        everything = redemptions_due(t)
        cut_after = everything.filter(everything.order_id.isin(chosen))
        first, after = _rows(t, cut_first), _rows(t, cut_after)
    assert first == after
    assert len(first) == 6  # beside's two, met's, capped's, once_again's, after_cancelled's
    # once_again: the buyer's earlier order used the one-per-buyer coupon
    assert [r for r in first if r[0] == ids["once_again"]][0][-1] == "0"
    # after_cancelled: the earlier order was cancelled, so the ¥20 is still due
    assert [r for r in first if r[0] == ids["after_cancelled"]][0][-1] == "2000"


# -- a per-buyer cap counted where the coupon's terms count it ------------------------------------
#
# Shops MA and MB of platform P1, a listing each (¥100). A platform 红包 (no merchant) of ¥20 is
# one per buyer across the platform: used at MA, it is not due again at MB. A merchant's coupon is
# counted at its merchant.


def _two_shops(b: Book) -> None:
    b.listing("LA", "MA")
    b.listing("LB", "MB")


def test_a_platform_coupon_used_at_one_shop_is_not_due_at_another(tmp_path):
    """The reviewer's P4: a platform-wide ¥20 红包, one per buyer, took ¥20 off the buyer's order
    at shop A; at shop B an hour later it took nothing. The buyer had had the one turn: nothing
    was due at B."""
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.platform_coupon("PLAT")
    b.both("PLAT", at(-10), face=20, cap=1)
    at_a = b.order("LA", 100, 1, at(0, 1), buyer="BX")
    b.redeem(at_a, "PLAT", 20)
    at_b = b.order("LB", 100, 1, at(0, 2), buyer="BX")
    b.redeem(at_b, "PLAT", 0)
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == set()


def test_a_platform_coupon_within_its_cap_is_still_due_at_another_shop(tmp_path):
    """Two per buyer: one use at A leaves the buyer a turn, so B taking nothing off is flagged."""
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.platform_coupon("PLAT2")
    b.both("PLAT2", at(-10), face=20, cap=2)
    at_a = b.order("LA", 100, 1, at(0, 1), buyer="BX")
    b.redeem(at_a, "PLAT2", 20)
    at_b = b.order("LB", 100, 1, at(0, 2), buyer="BX")
    b.redeem(at_b, "PLAT2", 0)
    f = Found(run_check(b.con, "COUPON004").findings)
    assert f.flagged("COUPON004") == {at_b}
    assert f.expected("COUPON004", at_b)["discount_due"] == 20


def test_a_merchant_coupon_is_counted_at_its_merchant(tmp_path):
    """Shop B's own ¥20 coupon, one per buyer: BX used it at B; BX's order at A (no coupon of A's)
    is nothing to it; a second buyer at B, refused it, is flagged."""
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.coupon("CB", "MB", kind="red_envelope")
    b.both("CB", at(-10), face=20, cap=1)
    used = b.order("LB", 100, 1, at(0, 1), buyer="BX")
    b.redeem(used, "CB", 20)
    b.order("LA", 100, 1, at(0, 2), buyer="BX")
    refused = b.order("LB", 100, 1, at(0, 3), buyer="BY")
    b.redeem(refused, "CB", 0)
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == {refused}


def test_another_buyers_use_of_a_platform_coupon_is_not_this_buyers(tmp_path):
    """BX used the platform 红包 at A; BY, who never used it, is refused it at B: flagged."""
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.platform_coupon("PLAT")
    b.both("PLAT", at(-10), face=20, cap=1)
    at_a = b.order("LA", 100, 1, at(0, 1), buyer="BX")
    b.redeem(at_a, "PLAT", 20)
    at_b = b.order("LB", 100, 1, at(0, 2), buyer="BY")
    b.redeem(at_b, "PLAT", 0)
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == {at_b}


def test_evidence_of_a_platform_coupon_reads_the_buyers_orders_at_other_shops(tmp_path):
    """The evidence's cut (a found order's buyer's orders) holds the use at another shop: the
    row at B is due nothing, as in the uncut rows."""
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.platform_coupon("PLAT")
    b.both("PLAT", at(-10), face=20, cap=1)
    at_a = b.order("LA", 100, 1, at(0, 1), buyer="BX")
    b.redeem(at_a, "PLAT", 20)
    at_b = b.order("LB", 100, 1, at(0, 2), buyer="BX")
    b.redeem(at_b, "PLAT", 0)
    with duckdb_tables(b.con) as t:
        some = ibis.memtable(pa.table({"f_order": pa.array([at_b], pa.string())}))
        everything = redemptions_due(t, None)
        first = _rows(t, redemptions_due(t, some))
        after = _rows(t, everything.filter(everything.order_id == at_b))
    assert first == after and len(first) == 1
    assert first[0][-1] == "0"


# -- orders placed at the same instant ----------------------------------------------------------
#
# A cart checked out across shops (or several lines of one shop) places its orders at one
# instant; the platform applies its 红包 to one of them. That order used the buyer's turn,
# whichever order id sorts first.


def _same_instant(b: Book, shops: tuple[str, str], got: tuple[int, int]) -> tuple[str, str]:
    """A one-per-buyer platform ¥20 红包; two orders of buyer BX at 01:00, at listings of
    ``shops`` (the first has the smaller order id), taking ``got`` yuan off each."""
    for shop in set(shops):
        b.listing(f"L{shop}", shop)
    b.platform_coupon("PLAT")
    b.both("PLAT", at(-10), face=20, cap=1)
    first = b.order(f"L{shops[0]}", 100, 1, at(0, 1), buyer="BX")
    second = b.order(f"L{shops[1]}", 100, 1, at(0, 1), buyer="BX")
    b.redeem(first, "PLAT", got[0])
    b.redeem(second, "PLAT", got[1])
    return first, second


def test_same_instant_orders_at_two_shops_the_one_it_was_applied_to_used_the_turn(tmp_path):
    """The reviewer's case D: one checkout at MB (the smaller order id) and MA; the 红包 took
    ¥20 off MA's order. The buyer had the one turn, at MA: MB owes nothing."""
    b = Book(tmp_path / "c.duckdb")
    _same_instant(b, ("MB", "MA"), (0, 20))
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == set()


def test_same_instant_lines_of_one_shop_the_one_it_was_applied_to_used_the_turn(tmp_path):
    """The reviewer's case C: two lines of one checkout at MA; the 红包 went to the second."""
    b = Book(tmp_path / "c.duckdb")
    _same_instant(b, ("MA", "MA"), (0, 20))
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == set()


def test_same_instant_a_partial_application_used_the_turn_and_is_flagged_short(tmp_path):
    """The 红包 took ¥5 of its ¥20 off the second order: it was taken there (the turn is used),
    short by ¥15: that order is flagged; the first, which got nothing, owes nothing."""
    b = Book(tmp_path / "c.duckdb")
    first, second = _same_instant(b, ("MB", "MA"), (0, 5))
    f = Found(run_check(b.con, "COUPON004").findings)
    assert f.flagged("COUPON004") == {second}
    assert f.expected("COUPON004", second)["discount_due"] == 20


def test_same_instant_orders_that_got_nothing_one_is_still_refused(tmp_path):
    """Neither order got the 红包: the buyer's one turn was refused on one of them (the order id
    decides which, as nothing else does): one finding, not none."""
    b = Book(tmp_path / "c.duckdb")
    first, second = _same_instant(b, ("MB", "MA"), (0, 0))
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == {first}


# -- a platform coupon's cap is its issuer's ------------------------------------------------------
#
# The cap is the issuing platform's term on its coupon: every use of the coupon by the buyer is one
# of the buyer's turns, whatever platform the order's listing row names (the coupon's platform,
# not the listing's, is where its turns are counted).


def test_a_use_on_a_listing_of_another_platform_still_spends_the_turn(tmp_path):
    """The reviewer's case A: P1's ¥20 红包, one per buyer, took ¥20 off BX's order of listing LA
    (shop MA, the listing's row says P2); BX's later order at MB (P1) got nothing. One coupon,
    one turn, used: nothing due at MB."""
    b = Book(tmp_path / "c.duckdb")
    b.listing("LA", "MA", platform="P2")
    b.listing("LB", "MB")
    b.platform_coupon("PLAT")
    b.both("PLAT", at(-10), face=20, cap=1)
    b.redeem(b.order("LA", 100, 1, at(0, 1), buyer="BX"), "PLAT", 20)
    b.redeem(b.order("LB", 100, 1, at(0, 2), buyer="BX"), "PLAT", 0)
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == set()


def test_another_platforms_coupon_has_its_own_cap(tmp_path):
    """BX used P1's 红包 on LA; P2's own 红包 (also one per buyer) is refused on BX's order of a
    P2 listing: a different coupon, a turn of its own: flagged."""
    b = Book(tmp_path / "c.duckdb")
    b.listing("LA", "MA")
    b.listing("LC", "MC", platform="P2")
    b.platform_coupon("PLAT1")
    b.both("PLAT1", at(-10), face=20, cap=1)
    b.platform_coupon("PLAT2", platform="P2")
    b.both("PLAT2", at(-10), face=20, cap=1)
    b.redeem(b.order("LA", 100, 1, at(0, 1), buyer="BX"), "PLAT1", 20)
    refused = b.order("LC", 100, 1, at(0, 2), buyer="BX")
    b.redeem(refused, "PLAT2", 0)
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == {refused}


# -- the evidence shows what decided it ----------------------------------------------------------


def _document(result, entity: str) -> dict:
    f = result.findings
    sha = f[(f.check_code == "COUPON004") & (f.entity_id == entity)].evidence_sha256.iloc[0]
    return json.loads(result.evidence[sha])


def test_evidence_shows_the_cap_and_the_earlier_uses_it_counted(tmp_path):
    """A platform 红包, two per buyer: BX used it at shop A, then was refused it at shop B. A
    regulator reading B's finding sees the cap (2), that one use was counted before, and which:
    A's order, with what it took off. Another buyer's use and BX's cancelled order (no use) are
    not among them."""
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.listing("LC", "MC")
    b.platform_coupon("PLAT2")
    b.both("PLAT2", at(-10), face=20, cap=2)
    at_a = b.order("LA", 100, 1, at(0, 1), buyer="BX")
    b.redeem(at_a, "PLAT2", 20)
    gone = b.order("LC", 100, 1, at(0, 1.5), buyer="BX", status="cancelled")
    b.redeem(gone, "PLAT2", 20)
    b.redeem(b.order("LA", 100, 1, at(0, 1), buyer="BY"), "PLAT2", 20)
    at_b = b.order("LB", 100, 1, at(0, 2), buyer="BX")
    b.redeem(at_b, "PLAT2", 0)
    result = run_check(b.con, "COUPON004")
    assert Found(result.findings).flagged("COUPON004") == {at_b}
    rows = _document(result, at_b)["rows"]
    [red] = rows["redemptions"]
    assert (red["coupon_id"], red["per_buyer_cap"], red["used_before"]) == ("PLAT2", 2, 1)
    assert rows["earlier_uses"] == [
        {
            "coupon_id": "PLAT2",
            "discount_amount": "20.00",
            "entity_id": at_b,
            "merchant_id": "MA",
            "order_id": at_a,
            "placed_at": "2026-11-10T17:00:00Z",
        }
    ]


def test_evidence_of_a_coupon_without_a_cap_quotes_no_earlier_uses(tmp_path):
    """A ¥20 coupon with no per-buyer cap, used before by the buyer: nothing was counted, so no
    earlier use is quoted and the redemption says so (no cap, none used before)."""
    b = Book(tmp_path / "c.duckdb")
    b.listing("LA", "MA")
    b.coupon("FREE", "MA")
    b.both("FREE", at(-10), face=20)
    b.redeem(b.order("LA", 100, 1, at(0, 1), buyer="BX"), "FREE", 20)
    refused = b.order("LA", 100, 1, at(0, 2), buyer="BX")
    b.redeem(refused, "FREE", 0)
    result = run_check(b.con, "COUPON004")
    assert Found(result.findings).flagged("COUPON004") == {refused}
    rows = _document(result, refused)["rows"]
    [red] = rows["redemptions"]
    assert (red["per_buyer_cap"], red["used_before"]) == (None, 0)
    assert not rows.get("earlier_uses")


def test_evidence_quotes_at_most_the_first_earlier_uses(tmp_path, monkeypatch):
    """Five per buyer, used three times at A (hours 1-3), refused at B: used_before says 3; with
    the quote capped at two, the first two uses by the cap's count are quoted."""
    monkeypatch.setattr(coupon004, "MAX_EVIDENCE_USES", 2)
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.platform_coupon("PLAT5")
    b.both("PLAT5", at(-10), face=20, cap=5)
    used = [b.order("LA", 100, 1, at(0, h), buyer="BX") for h in (3, 1, 2)]
    for oid in used:
        b.redeem(oid, "PLAT5", 20)
    at_b = b.order("LB", 100, 1, at(0, 4), buyer="BX")
    b.redeem(at_b, "PLAT5", 0)
    rows = _document(run_check(b.con, "COUPON004"), at_b)["rows"]
    assert rows["redemptions"][0]["used_before"] == 3
    assert [r["order_id"] for r in rows["earlier_uses"]] == [used[1], used[2]]


def test_evidence_quotes_each_coupons_first_uses(tmp_path, monkeypatch):
    """A reviewer's case: the order carries two capped platform coupons, AA (honoured, used
    three times before) and ZZ (three per buyer, used once before, refused here). With the quote
    capped at two, AA's uses had filled it and ZZ's counted use, the one the finding is about,
    was not quoted: the cap is per order and coupon."""
    monkeypatch.setattr(coupon004, "MAX_EVIDENCE_USES", 2)
    b = Book(tmp_path / "c.duckdb")
    _two_shops(b)
    b.platform_coupon("AA")
    b.both("AA", at(-10), face=1, cap=100)
    b.platform_coupon("ZZ")
    b.both("ZZ", at(-10), face=20, cap=3)
    for h in (0.1, 0.2, 0.3):
        b.redeem(b.order("LB", 100, 1, at(0, h), buyer="BX"), "AA", 1)
    z = b.order("LB", 100, 1, at(0, 0.5), buyer="BX")
    b.redeem(z, "ZZ", 20)
    target = b.order("LA", 100, 1, at(0, 1), buyer="BX")
    b.redeem(target, "AA", 1)
    b.redeem(target, "ZZ", 0)
    rows = _document(run_check(b.con, "COUPON004"), target)["rows"]
    quoted = [(r["coupon_id"], r["order_id"]) for r in rows["earlier_uses"]]
    assert ("ZZ", z) in quoted
    assert sum(c == "AA" for c, _ in quoted) == 2  # each coupon's first two


# -- what the order's discount_total says was taken off -------------------------------------------
#
# discount_total is what the order's coupons and reductions took off it: the redemptions' amounts
# can say no more than that. A blind set's c-002: the redemption log says ¥40, the order's total
# says ¥0 (the buyer paid ¥329 for a ¥329 basket).


def _wine(b: Book) -> None:
    b.listing("LW", "MW", category="酒水")
    b.coupon("C300-40", "MW")
    b.both("C300-40", at(-10), face=40, threshold=300, scope="酒水", text="满300减40")


def test_a_redemption_the_orders_discount_total_did_not_take_off_is_flagged(tmp_path):
    """c-002: the redemption says ¥40, the order's discount_total ¥0.00: nothing was taken off,
    the ¥40 is owed. Beside it, the same order whose total shows the ¥40 (or ¥50: a shop's
    reduction on top), or whose export has no total, is honoured."""
    b = Book(tmp_path / "c.duckdb")
    _wine(b)
    orders = {}
    for total in ("0.00", "10.00", "40.00", "50.00", None):
        oid = b.order("LW", "329.00", 1, at(0, 1), status="delivered", discount_total=total)
        b.redeem(oid, "C300-40", "40.00")
        orders[total] = oid
    result = run_check(b.con, "COUPON004")
    f = Found(result.findings)
    assert f.flagged("COUPON004") == {orders["0.00"], orders["10.00"]}
    assert f.expected("COUPON004", orders["0.00"])["discount_due"] == 40
    assert f.observed("COUPON004", orders["0.00"])["discount_total"] == "0.00"
    # a total of 0.00 beside a redemption logged in full may be a column the export does not
    # fill (every coupon would read refused): low with the reason (a reviewer's case); a total
    # above 0 but short of the log is filled, and short: the pack's severity
    severity = dict(zip(result.findings.entity_id, result.findings.severity, strict=True))
    assert (severity[orders["0.00"]], severity[orders["10.00"]]) == ("low", "high")
    reason = f.observed("COUPON004", orders["0.00"])["severity_reason"]
    assert reason == coupon004.ZERO_TOTAL_REASON


def test_an_order_total_below_its_redemptions_is_short_by_the_difference(tmp_path):
    """Two ¥20 coupons logged ¥20 each; the order's total says ¥30: ¥10 of the ¥40 owed was not
    taken off (flagged). With a total of ¥40 both were honoured; a total ¥0.01 short is within
    the tolerance."""
    b = Book(tmp_path / "c.duckdb")
    b.listing("LT", "MT")
    for cid in ("CA", "CB"):
        b.coupon(cid, "MT")
        b.both(cid, at(-10), face=20)
    orders = {}
    for total in ("30.00", "40.00", "39.99"):
        oid = b.order("LT", 100, 1, at(0, 1), discount_total=total)
        b.redeem(oid, "CA", 20)
        b.redeem(oid, "CB", 20)
        orders[total] = oid
    f = Found(run_check(b.con, "COUPON004").findings)
    assert f.flagged("COUPON004") == {orders["30.00"]}
    assert f.expected("COUPON004", orders["30.00"])["discount_due"] == 20
    assert f.observed("COUPON004", orders["30.00"])["discount_applied"] == "20.00"


def test_what_the_total_did_not_take_off_is_charged_where_it_was_claimed(tmp_path):
    """A reviewer's cases (session 34): the order's discount_total below what its redemptions
    claim was charged to every redemption whole. Two coupons logged ¥20 each, one due (满50减20)
    and one not (its threshold ¥500 not met), against a total of ¥20: the ¥20 that was not taken
    off is the one claimed for the coupon not due; the buyer got the ¥20 owed (not flagged).
    The same pair against a total of ¥10 or ¥0 is short ¥10 or ¥20 of the due coupon (flagged,
    on it); two due coupons logged ¥20 + ¥20 against ¥20 are short ¥20 (flagged)."""
    b = Book(tmp_path / "c.duckdb")
    b.listing("LX", "MX")
    for cid, threshold in (("CD", 50), ("CN", 500), ("CE", 50)):
        b.coupon(cid, "MX")
        b.both(cid, at(-10), face=20, threshold=threshold)
    orders = {}
    for total in ("20.00", "10.00", "0.00"):
        oid = b.order("LX", 100, 1, at(0, 1), discount_total=total)
        b.redeem(oid, "CD", 20)
        b.redeem(oid, "CN", 20)
        orders[total] = oid
    both_due = b.order("LX", 100, 1, at(0, 1), discount_total="20.00")
    b.redeem(both_due, "CD", 20)
    b.redeem(both_due, "CE", 20)
    result = run_check(b.con, "COUPON004")
    f = Found(result.findings)
    assert f.flagged("COUPON004") == {orders["10.00"], orders["0.00"], both_due}
    for total in ("10.00", "0.00"):
        assert f.observed("COUPON004", orders[total])["coupon_id"] == "CD"
        assert f.expected("COUPON004", orders[total])["discount_due"] == 20
    assert f.observed("COUPON004", both_due)["coupon_id"] == "CD"


# -- the end of validity the displayed terms announced ----------------------------------------------
#
# A blind set's c-015: the coupon row says valid until 11-11 23:59:59; on 11-10 12:00 the shop
# showed buyers a new version of its terms, 满300减40 有效期延长至11月13日 (valid_to 11-13
# 23:59:59). The displayed terms in force at the order decide how long it is valid.

#: 11-11 23:59:59, 11-13 23:59:59 and 11-10 12:00 Beijing
END_11 = at(1, -1 / 3600)
END_13 = at(3, -1 / 3600)
NOON_10 = at(-1, 12)


def _extended(b: Book, mid: str, valid_to) -> str:
    """A shop's 满300减40 coupon valid 11-01..11-11 (the coupon row), shown since 10-30; from
    11-10 12:00 its displayed terms say it is valid until ``valid_to``."""
    lid = b.listing(f"L{mid}", mid)
    cid = b.coupon(f"C{mid}", mid, valid_from=at(-10), valid_to=END_11)
    b.both(cid, at(-12), face=40, threshold=300)
    b.terms(cid, "displayed", NOON_10, face=40, threshold=300, valid_to=valid_to)
    return lid


def test_an_extension_shown_to_buyers_keeps_the_coupon_valid(tmp_path):
    """c-015: ordered 11-12 15:00, inside the announced extension, nothing taken off: flagged.
    Ordered 11-14 15:00, after the extension ran out: nothing due."""
    b = Book(tmp_path / "c.duckdb")
    lid = _extended(b, "MX", END_13)
    inside = b.order(lid, 389, 1, at(1, 15), discount_total=0)
    b.redeem(inside, "CMX", 0)
    after = b.order(lid, 389, 1, at(3, 15), discount_total=0)
    b.redeem(after, "CMX", 0)
    f = Found(run_check(b.con, "COUPON004").findings)
    assert f.flagged("COUPON004") == {inside}
    assert f.expected("COUPON004", inside)["discount_due"] == 40


def test_an_extension_outlives_a_later_version_silent_on_the_end(tmp_path):
    """After the extension to 11-13, the shop shows a version on 11-12 10:00 raising the face
    value without restating the end: an order of 11-12 15:00 is still inside the extension (a
    reviewer's case); one of 11-14 15:00 is not."""
    b = Book(tmp_path / "c.duckdb")
    lid = _extended(b, "MY", END_13)
    b.terms("CMY", "displayed", at(1, 10), face=50, threshold=300)
    inside = b.order(lid, 389, 1, at(1, 15), discount_total=0)
    b.redeem(inside, "CMY", 0)
    after = b.order(lid, 389, 1, at(3, 15), discount_total=0)
    b.redeem(after, "CMY", 0)
    f = Found(run_check(b.con, "COUPON004").findings)
    assert f.flagged("COUPON004") == {inside}
    assert f.expected("COUPON004", inside)["discount_due"] == 50


def test_a_shortening_shown_to_buyers_before_the_order_ends_the_coupon(tmp_path):
    """The shop showed buyers on 11-10 12:00 that the coupon now ends 11-10 23:59:59: an order of
    11-11 15:00 (inside the coupon row's dates) is owed nothing; one of 11-10 20:00, inside the
    shortened validity, is still owed its ¥40; one placed 11-10 10:00, before the notice, reads
    the terms then shown (valid until the coupon row's 11-11) and is owed ¥40 too."""
    b = Book(tmp_path / "c.duckdb")
    lid = _extended(b, "MS", at(0, -1 / 3600))
    after = b.order(lid, 389, 1, at(0, 15))
    b.redeem(after, "CMS", 0)
    within = b.order(lid, 389, 1, at(-1, 20))
    b.redeem(within, "CMS", 0)
    before_notice = b.order(lid, 389, 1, at(-1, 10))
    b.redeem(before_notice, "CMS", 0)
    assert Found(run_check(b.con, "COUPON004").findings).flagged("COUPON004") == {
        within,
        before_notice,
    }


# -- a shop's coupon applies in its own shop ------------------------------------------------------
#
# A blind set's c-020: shop m2's 满59减10 (scope all) selected on an order at shop m1 got nothing.
# A shop coupon (店铺券) applies only in its own shop: its conditions are not met, nothing is owed.
# A platform coupon (no merchant) applies in every shop of its platform. (An order of another shop
# on the coupon's shop's own listing is still owed it: tests/test_incremental_scopes.py's
# cross-shop redemption.)


def test_a_shop_coupon_is_owed_only_in_its_own_shop(tmp_path):
    """m2's coupon on m1's order (3 × ¥25, nothing taken off) owes nothing; the same coupon on
    m2's own order of the same basket owes ¥10, and so does a platform coupon on m1's."""
    b = Book(tmp_path / "c.duckdb")
    b.listing("L1", "m1")
    b.listing("L2", "m2")
    b.coupon("C59-10", "m2")
    b.both("C59-10", at(-10), face=10, threshold=59)
    b.platform_coupon("P59-10")
    b.both("P59-10", at(-10), face=10, threshold=59)
    elsewhere = b.order("L1", 25, 3, at(0, 1), discount_total=0)
    b.redeem(elsewhere, "C59-10", 0)
    own = b.order("L2", 25, 3, at(0, 1), discount_total=0)
    b.redeem(own, "C59-10", 0)
    platform = b.order("L1", 25, 3, at(0, 2), discount_total=0)
    b.redeem(platform, "P59-10", 0)
    f = Found(run_check(b.con, "COUPON004").findings)
    assert f.flagged("COUPON004") == {own, platform}
    assert f.expected("COUPON004", own)["discount_due"] == 10


# -- a refunded order whose export shows the discount reversed --------------------------------------
#
# A blind set's c-001: 满200减20 on a ¥268 order refunded before shipment (仅退款), the redemption
# and the order's discount_total at 0.00. An export can show the discount reversed with the refund:
# the buyer lost nothing. Reported low with the reason (docs/exemptions.md), never dropped; a
# refunded order that shows a short non-zero amount was not reversed and keeps the pack's severity.


def test_a_refunded_order_showing_nothing_taken_off_is_low_with_the_reason(tmp_path):
    b = Book(tmp_path / "c.duckdb")
    b.listing("LR", "MR")
    b.coupon("C200-20", "MR")
    b.both("C200-20", at(-10), face=20, threshold=200)
    orders = {}
    for name, status, logged, total in (
        ("c-001", "refunded", "0.00", "0.00"),  # the redemption and the total at 0.00
        ("total_reversed", "refunded", "20.00", "0.00"),  # the order's total reversed
        ("short", "refunded", "10.00", "10.00"),  # 10 of the 20 owed: no reversal
        ("delivered", "delivered", "0.00", "0.00"),  # no refund
    ):
        orders[name] = b.order("LR", 268, 1, at(0, 1), status=status, discount_total=total)
        b.redeem(orders[name], "C200-20", logged)
    result = run_check(b.con, "COUPON004")
    f = Found(result.findings)
    assert f.flagged("COUPON004") == set(orders.values())
    severity = dict(zip(result.findings.entity_id, result.findings.severity, strict=True))
    assert {name: severity[oid] for name, oid in orders.items()} == {
        "c-001": "low",
        "total_reversed": "low",
        "short": "high",
        "delivered": "high",
    }
    reason = f.observed("COUPON004", orders["c-001"])["severity_reason"]
    assert reason == coupon004.REFUNDED_REASON and "refund" in reason
    assert "severity_reason" not in f.observed("COUPON004", orders["short"])
    assert f.expected("COUPON004", orders["short"])["discount_due"] == 20
