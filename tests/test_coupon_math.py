"""The coupon arithmetic, on cases built by hand from the way the law and the platforms word them."""

from __future__ import annotations

from promoguard.coupon_math import Terms, cheapest, discount

# 满300减50: a threshold coupon; ¥20 red envelope over 199; 9折 capped at ¥30; 无门槛 ¥10.
FULL_300_50 = Terms("C300", face_value=5000, threshold=30000, stackable=True)
RED_20 = Terms("R20", face_value=2000, threshold=19900, stackable=True, per_buyer_cap=1)
NINE_TENTHS = Terms("P10", percent_off=1000, max_discount=3000, stackable=False)
NO_THRESHOLD_10 = Terms("N10", face_value=1000, stackable=True)


def test_threshold_is_met_by_the_basket_not_one_unit():
    assert discount(FULL_300_50, 29999) == 0
    assert discount(FULL_300_50, 30000) == 5000
    # ¥180 a unit: one unit reaches nothing, two (¥360) reach 满300减50: ¥155 a unit.
    assert cheapest(18000, 1, [FULL_300_50]).total == 18000
    two = cheapest(18000, 2, [FULL_300_50])
    assert (two.total, two.coupons) == (31000, (("C300", 5000),))


def test_percent_is_rounded_down_and_capped():
    assert discount(NINE_TENTHS, 19999) == 1999  # 10% of ¥199.99 is ¥19.999: ¥19.99 off
    assert discount(NINE_TENTHS, 50000) == 3000  # ¥50 would be 10%; the cap is ¥30


def test_scope_and_cap():
    food_only = Terms("F", face_value=500, scope="food")
    assert discount(food_only, 10000, "food") == 500
    assert discount(food_only, 10000, "electronics") == 0
    assert discount(Terms("X", face_value=500, per_buyer_cap=0), 10000) == 0
    assert discount(Terms("A", face_value=500, scope="all"), 10000, "toys") == 500
    # scope and category compared trimmed and without case; a blank scope is every category
    assert discount(Terms("G", face_value=500, scope=" Food "), 10000, "FOOD ") == 500
    assert discount(Terms("H", face_value=500, scope=" "), 10000, "toys") == 500
    assert discount(Terms("I", face_value=500, scope="ALL"), 10000, "toys") == 500


def test_a_coupon_never_takes_more_than_the_basket():
    assert discount(Terms("B", face_value=9000), 5000) == 5000
    assert cheapest(5000, 1, [Terms("B", face_value=9000)]).total == 0
    # nor do stacked coupons together: ¥40 + ¥40 off a ¥50 basket is ¥50 off, not ¥80
    both = cheapest(5000, 1, [Terms("S1", face_value=4000), Terms("S2", face_value=4000)])
    assert (both.total, both.saving) == (0, 5000)


def test_non_stackable_coupon_is_used_alone():
    # ¥400 basket: stackable 50 + 20 + 10 = 80 off beats the 9折 (capped 30): ¥320
    b = cheapest(40000, 1, [FULL_300_50, RED_20, NINE_TENTHS, NO_THRESHOLD_10])
    assert b.total == 32000
    assert [c for c, _ in b.coupons] == ["C300", "N10", "R20"]
    # a big non-stackable coupon beats the stack, and is then used alone
    big = Terms("BIG", face_value=10000, stackable=False)
    b = cheapest(40000, 1, [FULL_300_50, RED_20, big])
    assert (b.total, b.coupons) == (30000, (("BIG", 10000),))


def test_unknown_stackability_counts_as_stackable():
    unknown = Terms("U", face_value=1000)
    assert cheapest(40000, 1, [FULL_300_50, unknown]).total == 34000


def test_the_claim_that_stacks_a_non_stackable_coupon_is_below_the_cheapest():
    # A shop shows 到手价 ¥250 for a ¥300 item: 满300减50 (stackable) "plus" 9折 (not stackable).
    b = cheapest(30000, 1, [FULL_300_50, NINE_TENTHS])
    assert b.total == 25000  # 50 off alone; the 9折 alone is only 30 off
    b = cheapest(30000, 1, [FULL_300_50, Terms("P20", percent_off=2000, stackable=False)])
    assert b.total == 24000  # 20% (60 off) alone beats 50; never 300 - 50 - 60 = 190
