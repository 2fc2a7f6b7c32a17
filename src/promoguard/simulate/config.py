"""Scales and injection rates. A scale is a number of independent shards of the same shape."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Rates:
    """Share of eligible entities that receive each injected violation (per shard)."""

    price001: float = 0.07  # listings in the promotion: reference above the legal prior price
    price002: float = 0.06  # honest reference, wrong claimed %
    price003: float = 0.08  # raise-then-cut
    price004: float = 0.20  # of listings observed on search/home: a lower price there
    price005: float = 0.45  # of listings with an msrp shown: msrp labelled as 原价/was
    ship001: float = 0.012
    ship002: float = 0.004  # groups started per order (each 2-4 orders)
    ship003: float = 0.012
    ship004: float = 0.012
    parcel001: float = 0.012
    lic001: float = 0.30  # of merchants in licensed categories
    brush001_rings: float = 0.14  # rings per merchant
    brush002_rings: float = 0.14
    brush003: float = 0.12  # merchants
    review001_groups: float = 0.0012  # groups per order
    review002: float = 0.006  # reviews; texts get text rates below
    review003_bursts: float = 0.05  # listings with a spam burst
    text: float = 0.012  # per text-code, share of eligible texts
    text006: float = 0.12  # of livestream transcripts


@dataclass(frozen=True)
class Scale:
    name: str
    shards: int
    merchants_per_shard: int
    listings_per_merchant: float  # mean
    buyers_per_shard: int
    orders_per_listing_day: float  # mean base demand before the season curve
    rates: Rates = field(default_factory=Rates)
    default_format: str = "csv"


SCALES: dict[str, Scale] = {
    # ~440 listings, ~38k price observations, ~20k orders: seconds, for tests
    "small": Scale("small", 1, 150, 3.0, 7000, 0.28),
    # ~1M price observations
    "medium": Scale("medium", 3, 1300, 3.0, 40000, 0.30, default_format="parquet"),
    # ~10M price observations, ~5.4M orders, ~28M tracking events, ~1.7M reviews, ~1M texts
    "city": Scale("city", 33, 1200, 3.0, 40000, 0.30, default_format="parquet"),
}


def with_rates(rates: Rates, overrides: dict[str, float]) -> Rates:
    """``rates`` with some fields replaced (names as in ``Rates``, e.g. ``price001``), each 0..1."""
    known = set(Rates.__dataclass_fields__)
    for name, value in overrides.items():
        if name not in known:
            raise ValueError(f"unknown rate {name!r}; known: {', '.join(sorted(known))}")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"rate {name} must be between 0 and 1, not {value}")
    return replace(rates, **overrides)


def get_scale(name: str, shrink: float = 1.0, rates: dict[str, float] | None = None) -> Scale:
    """The named scale; ``shrink`` < 1 makes a smaller shard (tests use it to stay fast);
    ``rates`` overrides injection rates."""
    try:
        s = SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; use one of {', '.join(SCALES)}") from None
    if rates:
        s = replace(s, rates=with_rates(s.rates, rates))
    if shrink != 1.0:
        s = replace(
            s,
            merchants_per_shard=max(30, int(s.merchants_per_shard * shrink)),
            buyers_per_shard=max(1500, int(s.buyers_per_shard * shrink)),
        )
    return s
