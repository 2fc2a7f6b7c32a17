"""What a coupon takes off a basket, and the cheapest price a basket can reach: exact, in cents.

One definition shared by the COUPON rules (which say the same thing in Ibis, on every engine), the
simulator's labeller and hand-built cases, and the pandas baseline of ``benchmarks/coupons.py``.

The conventions (docs/checks.md, COUPON003 and COUPON004):

* a coupon takes ``face_value`` off, or else ``percent_off`` of the basket (rounded down to the
  cent, then capped at ``max_discount``); never more than the basket;
* a ``threshold_amount`` (满X) is met by the basket before any coupon (the reading most favourable
  to the merchant whose claim is checked: a threshold checked after other coupons is harder to
  meet, so a basket "unreachable" under our reading is unreachable under theirs too);
* ``scope`` is ``all`` (or empty) or one listing category;
* ``per_buyer_cap`` 0 means the buyer may not use it; one purchase uses a coupon at most once;
* a coupon that is not ``stackable`` is used alone; stackable coupons combine with each other. An
  unknown ``stackable`` counts as stackable (again the reading that gives the lower price), so the
  cheapest basket is the larger of the best single coupon and the sum of the stackable ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: percent_off is kept in hundredths of a percent (10% = 1000), so 100% = 10_000.
PERCENT_SCALE = 10_000


@dataclass(frozen=True)
class Terms:
    """One version of a coupon's terms, money in cents and percentages in hundredths."""

    coupon_id: str
    face_value: int | None = None
    percent_off: int | None = None  # hundredths of a percent: 10% = 1000
    threshold: int | None = None
    max_discount: int | None = None
    scope: str | None = None  # None or "all": every category
    stackable: bool | None = None
    per_buyer_cap: int | None = None

    def covers(self, category: str) -> bool:
        # as rules.coupons._shared.covers: trimmed and without case, blank as none
        scope = (self.scope or "").strip().lower()
        return scope in ("", "all") or scope == (category or "").strip().lower()


def discount(terms: Terms, basket: int, category: str | None = None) -> int:
    """Cents ``terms`` take off a basket of ``basket`` cents in ``category`` (0 when it does not
    apply: out of scope, threshold not met, or the buyer may not use it)."""
    if basket <= 0 or terms.per_buyer_cap == 0:
        return 0
    if category is not None and not terms.covers(category):
        return 0
    if terms.threshold is not None and basket < terms.threshold:
        return 0
    if terms.face_value is not None:
        off = terms.face_value
    elif terms.percent_off is not None:
        off = basket * terms.percent_off // PERCENT_SCALE
        if terms.max_discount is not None:
            off = min(off, terms.max_discount)
    else:
        off = 0
    return max(0, min(off, basket))


@dataclass(frozen=True)
class Basket:
    """The cheapest way to buy a basket with the coupons at hand."""

    subtotal: int  # cents before coupons
    total: int  # cents after the best combination
    coupons: tuple[tuple[str, int], ...]  # (coupon_id, cents off) used, in coupon_id order

    @property
    def saving(self) -> int:
        return self.subtotal - self.total


def cheapest(
    unit_price: int, quantity: int, coupons: Iterable[Terms], category: str | None = None
) -> Basket:
    """The lowest total for ``quantity`` units at ``unit_price`` cents with ``coupons`` valid then.

    The best single coupon (stackable or not) against all stackable ones together: stackable
    discounts are never negative, so using every applicable one is best among the combinations.
    """
    subtotal = unit_price * quantity
    offs = sorted(
        ((t.coupon_id, discount(t, subtotal, category), t.stackable is not False) for t in coupons),
        key=lambda x: x[0],
    )
    offs = [x for x in offs if x[1] > 0]
    stacked = [(c, d) for c, d, s in offs if s]
    best_single = max(offs, key=lambda x: (x[1], x[2]), default=None)
    stack_sum = sum(d for _, d in stacked)
    if best_single is not None and best_single[1] > stack_sum:
        used: list[tuple[str, int]] = [(best_single[0], best_single[1])]
    else:
        used = stacked
    saving = min(subtotal, sum(d for _, d in used))
    return Basket(subtotal, subtotal - saving, tuple(used))
