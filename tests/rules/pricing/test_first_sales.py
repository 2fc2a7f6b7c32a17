"""``_shared._first_sales``: PRICE001 and PRICE002 ask one plan's first-sales query once, and the
answer is held per (season, new rows) pair: another pair is asked again."""

from __future__ import annotations

import ibis

from promoguard.engine.base import Tables
from promoguard.rules.pricing import _shared


def test_the_first_sales_are_asked_once_per_season_and_new_rows():
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TABLE a (listing_id VARCHAR)")
    con.raw_sql("INSERT INTO a VALUES ('l1')")
    con.raw_sql("CREATE TABLE b (listing_id VARCHAR)")
    con.raw_sql("INSERT INTO b VALUES ('l2')")
    season = Tables(con, {})
    asked: list[str] = []
    real = season.to_arrow

    def counted(expr):
        asked.append("q")
        return real(expr)

    season.to_arrow = counted  # type: ignore[method-assign]
    new_a, new_b = Tables(con, {}), Tables(con, {})
    key = (None, ("cancelled",))
    assert _shared._first_sales(season, new_a, con.table("a"), key) == ["l1"]
    assert _shared._first_sales(season, new_a, con.table("a"), key) == ["l1"]
    assert len(asked) == 1  # the second rule's ask: held
    # other new rows, or another end or statuses: asked again
    assert _shared._first_sales(season, new_b, con.table("b"), key) == ["l2"]
    assert _shared._first_sales(season, new_a, con.table("b"), (None, ())) == ["l2"]
    assert len(asked) == 3
