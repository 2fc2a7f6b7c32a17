"""What the COUPON rules share: coupon terms in cents, the version in force at a moment, and what a
coupon takes off a basket, written once in Ibis so DuckDB and Spark agree to the cent.

The arithmetic is ``promoguard.coupon_math`` said relationally (that module is the reference the
tests hold these expressions to): a coupon takes its face value off, or else its percentage of the
basket rounded down to the cent and capped at ``max_discount``; a threshold is met by the basket
before coupons; ``per_buyer_cap`` 0 means the buyer may not use it; ``scope`` is ``all`` (or
empty) or one category.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import Parameter, Tables
from promoguard.engine.exact import cents, first_rows

TOLERANCE = Parameter(
    "tolerance",
    0.01,
    "Amount a price or discount may be off before it counts (one fen/cent: display rounding).",
    unit="currency",
)


def tolerance_cents(params: dict[str, Any]) -> int:
    return round(float(params["tolerance"]) * 100)


def coupons_added(new: Tables) -> bool:
    """Incremental: whether new coupon or coupon-terms rows came in (a coupon reaches every
    listing of its merchant or platform: any finding may then change)."""
    return any(new.to_arrow(new[t].limit(1)).num_rows for t in ("coupons", "coupon_terms"))


def terms_cents(tables: Tables) -> ir.Table:
    """coupon_terms with integer money (cents) and percentages (hundredths of a percent)."""
    t = tables.coupon_terms
    return t.select(
        t_coupon_id=t.coupon_id,
        effective_at=t.effective_at,
        source=t.source,
        face_c=cents(t.face_value),
        pct_h=cents(t.percent_off),
        thr_c=cents(t.threshold_amount),
        max_c=cents(t.max_discount),
        scope=scope_key(t.scope),
        stackable=t.stackable,
        per_buyer_cap=t.per_buyer_cap,
        terms_valid_to=t.valid_to,
        disclosure=t.disclosure,
        shown_text=t.shown_text,
        threshold_amount=t.threshold_amount,
        face_value=t.face_value,
        percent_off=t.percent_off,
    )


def in_force(
    tables: Tables,
    moments: ir.Table,
    keys: list[str],
    at: str,
    sources: tuple[str, ...],
    prefer_applied: bool = False,
) -> ir.Table:
    """For each row of ``moments`` (unique on ``keys``, with ``coupon_id`` and the instant
    ``at``), the version of the coupon's terms in force then, from ``sources``: the latest one
    with ``effective_at <= at``. With ``prefer_applied``, an applied version beats a displayed
    one whatever their dates (what checkout enforces is what the buyer can get); rows with no
    version in force are dropped."""
    t = terms_cents(tables)
    t = t.filter(t.source.isin(sources))
    # a fresh view: Ibis cannot dereference a non-equi predicate against a projection of a join
    # chain holding computed columns (IntegrityError), which ``moments`` often is
    moments = moments.view()
    j = moments.join(t, [moments.coupon_id == t.t_coupon_id, t.effective_at <= moments[at]])
    order = [ibis.desc(j.effective_at), j.source]
    if prefer_applied:
        order = [ibis.desc((j.source == "applied").cast("int32")), *order]
    return first_rows(j, [j[k] for k in keys], order).drop("t_coupon_id")


def scope_key(scope: Any) -> Any:
    """A scope as compared: trimmed and lower-cased, blank as none (an export's ``Beauty`` and
    the checkout's ``beauty`` are one category; a blind set's case, session 32)."""
    v = scope.strip().lower()
    return ibis.cases((v == "", ibis.null("string")), else_=v)


def covers(scope: Any, category: Any) -> Any:
    """Whether a coupon of ``scope`` (a :func:`scope_key`) reaches goods of ``category``."""
    return scope.isnull() | (scope == "all") | (scope == category.strip().lower())


def discount_cents(t: ir.Table, basket: Any) -> Any:
    """Cents the terms on each row of ``t`` take off ``basket`` cents (0 when the threshold is not
    met or the buyer may not use it); scope and validity are the caller's."""
    pct = ((basket * t.pct_h) / 10_000).floor().cast("int64")
    pct = ibis.cases((t.max_c.notnull() & (pct > t.max_c), t.max_c), else_=pct)
    off = t.face_c.coalesce(ibis.cases((t.pct_h.notnull(), pct), else_=0))
    off = ibis.cases((off > basket, basket), (off < 0, 0), else_=off)
    usable = (t.per_buyer_cap.isnull() | (t.per_buyer_cap > 0)) & (
        t.thr_c.isnull() | (basket >= t.thr_c)
    )
    return ibis.cases((usable, off), else_=0).cast("int64")
