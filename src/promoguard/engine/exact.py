"""Exact arithmetic every engine agrees on, so findings and evidence hash the same on DuckDB and Spark.

Compute metrics from exact integers (cents, seconds) and round with these helpers; never round a float
column in the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir


def half_up_ratio(num: Any, den: Any, scale: int) -> Any:
    """``round_half_up(num / den * scale)`` for integer Ibis columns, identical on every engine.

    ``(x).round(2)`` on a float is not: a value that sits on .5 after binary representation
    (e.g. hours 50.485) is rounded one way by DuckDB and the other by Spark, and the finding's
    ``observed`` JSON and evidence hash then differ. Compute metrics from exact integers (cents,
    seconds) and round with this; the only float step is one division of two integers followed
    by floor, which both engines do the same IEEE way. E.g. hours to two decimals from seconds:
    ``half_up_ratio(secs, 3600, 100) / 100``.
    """
    return ((num * (2 * scale) + den) / (den * 2)).floor().cast("int64")


def cents(money: Any) -> Any:
    """Whole cents of a DECIMAL(18,2) Ibis column, exactly (as int64)."""
    return (money * 100).cast("int64")


def first_rows(t: ir.Table, by: Any, order_by: Any, n: int = 1) -> ir.Table:
    """The first ``n`` rows of ``t`` per ``by`` group in ``order_by`` order.

    Keeps a finding to one row per entity, or its evidence bounded. ``order_by`` must end in a
    key, so that which rows are kept is the same on every engine.
    """
    import ibis

    ranked = t.mutate(_first_rows_n=ibis.row_number().over(group_by=by, order_by=order_by))
    return ranked.filter(ranked._first_rows_n < n).drop("_first_rows_n")
