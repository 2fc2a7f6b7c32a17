"""COUPON004's redemptions cut down to some orders first are the same rows as all redemptions
cut down afterwards (what its evidence relies on)."""

from __future__ import annotations

import ibis
import pyarrow as pa

from promoguard.engine.backends import duckdb_tables
from promoguard.rules.coupons.coupon004_coupon_not_honoured import redemptions_due

from .builder import Book
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
