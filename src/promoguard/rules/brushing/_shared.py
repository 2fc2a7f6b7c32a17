"""Brushing (刷单): fake orders placed to inflate a shop's sales and reviews.

BRUSH001 finds dense buyer-merchant blocks of repeated orders (FRAUDAR-style peeling),
BRUSH002 buyers linked by shared devices or addresses ordering from one merchant in a short window,
BRUSH003 order-velocity patterns at a merchant measured against its own traffic.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from promoguard.engine import backends
from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, Tables
from promoguard.engine.cache import shared
from promoguard.engine.exact import first_rows
from promoguard.graph import bahmani, rings
from promoguard.rules._relations import added_rows, merchant_platforms, union_all

BUYER_SEP = "|"
MAX_EVIDENCE_ORDERS = 400


def _iso(epoch: float | int | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merchant_platforms(tables: Tables) -> dict[str, str | None]:
    """Each merchant's platform (:func:`merchant_platforms`: the one its evidence reads)."""
    rows = tables.to_arrow(merchant_platforms(tables)).to_pydict()
    return dict(zip(rows["m_id"], rows["platform_id"], strict=True))


def group_members(found: ir.Table, *keep: str) -> ir.Table:
    """Each found buyer group's buyers, a row each: (entity_id, merchants, the found row's
    ``keep`` columns, buyer_id), the group's ``entity_id`` being its buyers joined by BUYER_SEP
    (the evidence and the kept-evidence hooks split it alike)."""
    return found.select(
        entity_id=found.entity_id,
        merchants=found.merchants,
        **{name: found[name] for name in keep},
        # a regular expression, the same to DuckDB and Spark, matching the separator alone: an
        # id is opaque and may hold a comma (splitting at ',' too made buyer "R,1" the buyers
        # "R" and "1": their orders quoted, its own left out; review 11)
        buyer_id=found.entity_id.re_split(re.escape(BUYER_SEP)).unnest(),
    )


def _group_orders_evidence(
    tables: Tables, found: ir.Table, platforms: ir.Table | None = None
) -> ir.Table:
    """The orders of a buyer group's buyers at the finding's merchants on the finding's
    platform (bounded). Buyer ids are the same on every platform and a block's shops may be on
    several, but a platform (its compliance team, the guidance sent to it) may read only its
    own orders: the finding's head counts the others. ``platforms``: each merchant's
    (:func:`merchant_platforms`), by default of ``tables``."""
    members = group_members(found, "platform_id")
    o = tables.orders
    rows = members.join(o, members.buyer_id == o.buyer_id).select(
        members.entity_id,
        members.merchants,
        members.platform_id,
        o.order_id,
        o.buyer_id,
        o.merchant_id,
        o.listing_id,
        o.paid_at,
        o.confirmed_at,
        o.status,
        o.buyer_device_id,
        o.buyer_address_id,
    )
    # keep orders at the block's merchants only (merchants are '|'-joined in the found row)
    rows = rows.filter(
        (BUYER_SEP + rows.merchants + BUYER_SEP).contains(BUYER_SEP + rows.merchant_id + BUYER_SEP)
    )
    # ... on the finding's platform
    plat = merchant_platforms(tables) if platforms is None else platforms
    plat = plat.select(plat.m_id, m_platform=plat.platform_id.fill_null(""))
    rows = rows.left_join(plat, rows.merchant_id == plat.m_id)
    rows = rows.filter(rows.m_platform.fill_null("") == rows.platform_id.fill_null(""))
    rows = rows.drop("m_id", "m_platform")
    rows = first_rows(rows, rows.entity_id, [rows.paid_at, rows.order_id], MAX_EVIDENCE_ORDERS)
    return rows.drop("merchants", "platform_id")


# -- BRUSH001 ------------------------------------------------------------------------------------


def _order_edges(tables: Tables) -> ir.Table:
    o = tables.orders
    o = o.filter(o.status != "cancelled")
    return o.group_by(buyer=o.buyer_id, merchant=o.merchant_id).aggregate(
        orders=o.count(),
        first_at=epoch_seconds(o.paid_at).min(),
        last_at=epoch_seconds(o.paid_at).max(),
    )


#: ``pairs`` for :func:`merchant_degree` and :func:`repeat_pairs`: the buyer-shop pairs, or a
#: callable giving them (made only if the relation is built, not when it is folded)
Pairs = ir.Table | Callable[[], ir.Table] | None


def _the_pairs(pairs: Pairs) -> ir.Table | None:
    return pairs() if callable(pairs) else pairs


def merchant_degree(tables: Tables, pairs: Pairs = None) -> ir.Table:
    """``merchant, deg``: how many distinct buyers placed a non-cancelled order at each shop.

    BRUSH001 weighs its edges by it (and judges hubs against its median) and BRUSH003 reports it
    as ``n_buyers``: within a scan it is computed once and kept (one row per shop; the distinct
    buyer-shop pairs behind it cost a pass over every order, one or two CPU s at city scale).
    ``pairs``: BRUSH001's buyer-shop pairs (one row per pair), already kept in the engine, to
    count them instead. Only DuckDB takes them: it writes the shared rows out at once, whereas
    Spark keeps the expression, which must not name a table BRUSH001 drops when it is done.
    Kept from scan to scan (:func:`fold_merchant_degree`).
    """

    def build() -> ir.Table:
        e = None if backends.is_spark(tables.backend) else _the_pairs(pairs)
        if e is None:
            o = tables.orders
            o = o.filter(o.status != "cancelled")
            e = o.select(buyer=o.buyer_id, merchant=o.merchant_id).distinct()
        return e.group_by("merchant").aggregate(deg=e.count())

    return shared(tables, ("brushing_merchant_degree", "v1"), build, fold=fold_merchant_degree)


def fold_merchant_degree(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
    """:func:`merchant_degree` now: the previous degrees, each shop's raised by its buyer-shop
    pairs whose every non-cancelled order is new (a pair new since then; a pair seen before
    counted already, and orders are never removed, so no degree falls)."""
    tp = touched_pairs(tables, new)
    fresh = tp.filter(tp.orders == tp.new_orders)
    return add_up(previous, fresh.group_by("merchant").aggregate(deg=fresh.count()), "merchant")


def add_up(previous: ir.Table, more: ir.Table, key: str = "merchant_id") -> ir.Table:
    """Per-shop counts: ``previous``'s and ``more``'s (the same columns, ``key`` first, at most
    one row per shop each) summed per shop, a shop in either kept."""
    counts = [c for c in previous.columns if c != key]
    more = more.select(**{f"m_{key}": more[key]}, **{f"m_{c}": more[c] for c in counts})
    j = previous.outer_join(more, previous[key] == more[f"m_{key}"])
    return j.select(
        **{key: ibis.coalesce(j[key], j[f"m_{key}"])},
        **{c: (j[c].fill_null(0) + j[f"m_{c}"].fill_null(0)).cast("int64") for c in counts},
    )


def buyer_shop_pairs(tables: Tables) -> ir.Table:
    """``buyer, merchant, orders, first_paid, last_paid``: one row per buyer-shop pair with a
    non-cancelled order (its orders and its first and last payment)."""
    o = tables.orders
    return _pairs_of(o.filter(o.status != "cancelled"))


def _pairs_of(o: ir.Table) -> ir.Table:
    return o.group_by(buyer=o.buyer_id, merchant=o.merchant_id).aggregate(
        orders=o.count(), first_paid=o.paid_at.min(), last_paid=o.paid_at.max()
    )


def touched_orders(tables: Tables, new: Tables) -> ir.Table:
    """``order_id, buyer_id, merchant_id, paid_at``: every non-cancelled order, old or new, of
    a buyer-shop pair that one of the ``new`` rows' non-cancelled orders is of (what the folds
    of the buyer-shop relations recount). The new orders' pairs probe every order once (a
    semi-join with the day's pairs as its small side), shared by the folds of one scan."""

    def build() -> ir.Table:
        n = added_rows(tables, new, "orders")
        n = n.filter(n.status != "cancelled")
        keys = n.select("buyer_id", "merchant_id").distinct()
        o = tables.orders
        o = o.filter(o.status != "cancelled")
        o = o.semi_join(keys, [o.buyer_id == keys.buyer_id, o.merchant_id == keys.merchant_id])
        return o.select("order_id", "buyer_id", "merchant_id", "paid_at")

    return shared(tables, ("brushing_touched_orders",), build)


def touched_pairs(tables: Tables, new: Tables) -> ir.Table:
    """:func:`buyer_shop_pairs` of the pairs a new non-cancelled order is of (over all their
    orders now), with ``new_orders``: how many of them are new."""

    def build() -> ir.Table:
        pairs = _pairs_of(touched_orders(tables, new))
        n = added_rows(tables, new, "orders")
        n = n.filter(n.status != "cancelled")
        fresh = n.group_by(n_buyer=n.buyer_id, n_merchant=n.merchant_id).aggregate(
            new_orders=n.count()
        )
        j = pairs.join(fresh, [pairs.buyer == fresh.n_buyer, pairs.merchant == fresh.n_merchant])
        return j.select(*_PAIR_COLUMNS, "new_orders")

    return shared(tables, ("brushing_touched_pairs",), build)


_PAIR_COLUMNS = ("buyer", "merchant", "orders", "first_paid", "last_paid")


def repeat_pairs(tables: Tables, pairs: Pairs = None) -> ir.Table:
    """The buyer-shop pairs with two or more non-cancelled orders (``buyer_shop_pairs`` columns).

    BRUSH001 weighs them (a single purchase weighs nothing); BRUSH003 reads them to leave out,
    before it groups orders by buyer, shop and hour, every order of a pair with fewer orders
    than a rapid buyer-hour needs: at city scale a tenth of the pairs, instead of a group per
    order (5.4M groups). Within a scan they are kept (one row per repeat pair: some 400,000 at
    city scale), and from scan to scan (:func:`fold_repeat_pairs`). ``pairs``: BRUSH001's pairs,
    already kept in the engine, to filter instead of grouping the orders again (DuckDB only, as
    in :func:`merchant_degree`).
    """
    if pairs is not None and backends.is_spark(tables.backend):
        # Spark keeps a shared expression, which must not name BRUSH001's checkpointed pairs
        # (dropped when its step ends): the step filters its own
        return _repeated(_the_pairs(pairs))

    def build() -> ir.Table:
        e = _the_pairs(pairs)
        return _repeated(e if e is not None else buyer_shop_pairs(tables))

    return shared(tables, ("brushing_repeat_pairs", "v1"), build, fold=fold_repeat_pairs)


def _repeated(e: ir.Table) -> ir.Table:
    return e.filter(e.orders >= 2).select(*_PAIR_COLUMNS)


def fold_repeat_pairs(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
    """:func:`repeat_pairs` now: the previous ones no new order is of, and the pairs a new order
    is of recounted over all their orders (a pair's second order makes it one)."""
    tp = touched_pairs(tables, new)
    kept = previous.anti_join(
        tp, [previous.buyer == tp.buyer, previous.merchant == tp.merchant]
    ).select(*_PAIR_COLUMNS)
    return union_all(kept, _repeated(tp))


def bahmani_blocks(tables: Tables, params: dict[str, Any]) -> list[rings.Block]:
    """The relational form: Bahmani passes in the engine find the dense parts (each round sets the
    peeled buyers aside, as the array form does); the repeat-order edges of the shops they touch
    are then pulled and cut into blocks by the same acceptance rules as the array form."""
    e = _order_edges(tables)
    deg = e.group_by("merchant").aggregate(deg=e.count())
    e = e.join(deg, "merchant")
    weight = e.orders.cast("float64").ln() / (e.deg.cast("float64") + params["weight_c"]).ln()
    weighted = e.select(
        "buyer",
        "merchant",
        "orders",
        "first_at",
        "last_at",
        weight=(weight * bahmani.WEIGHT_SCALE).round().cast("int64"),
    )
    current = weighted
    removed: set[str] = set()
    peeled_edges: list[pa.Table] = []
    min_degree = int(params["min_density"] * bahmani.WEIGHT_SCALE)
    for _ in range(int(params["max_blocks"])):
        if removed:
            gone = ibis.memtable({"buyer": sorted(removed)})
            current = current.anti_join(gone, "buyer")
        with backends.Scratch(tables.backend, "_bahmani") as scratch:
            peel = bahmani.bahmani_peel(
                scratch, current, eps=float(params["eps"]), min_degree=min_degree
            )
        if peel.edges is None or peel.density < params["min_density"]:
            break
        peeled_edges.append(peel.edges)
        removed.update(peel.edges.column("buyer").to_pylist())
    if not peeled_edges:
        return []
    # as in the array form, the cut sees every repeat-order buyer of the peeled shops (a ring's
    # last buyers can fall out of the passes once the rest was set aside)
    shops = sorted(set().union(*(set(t.column("merchant").to_pylist()) for t in peeled_edges)))
    near = weighted.filter(weighted.orders >= int(params["min_orders_per_edge"])).semi_join(
        ibis.memtable({"merchant": shops}), "merchant"
    )
    union = tables.to_arrow(near)
    w = union.column("weight").to_numpy().astype(np.float64) / bahmani.WEIGHT_SCALE
    sub = rings.edges_from_arrow(union, params["weight_c"], weights=w)
    hub = _hubs_from(tables, deg, sub, params)
    return rings.cut_blocks(sub, sub.graph, np.arange(sub.graph.n_nodes), params, hub)


def _hubs_from(tables: Tables, deg: ir.Table, e: rings.Edges, params: dict[str, Any]) -> np.ndarray:
    """Hub flags for ``e``'s merchants, judged against every merchant's degree in the engine."""
    degrees = tables.to_arrow(deg).to_pydict()
    by_shop = dict(zip(degrees["merchant"], degrees["deg"], strict=True))
    flags = rings.hub_merchants(
        np.asarray(list(by_shop.values()), dtype=np.int64), params["hub_factor"]
    )
    hubs = {m for m, h in zip(by_shop, flags, strict=True) if h}
    return np.array([m in hubs for m in e.merchant_ids], dtype=bool)


_TYPES = {
    "entity_id": pa.string(),
    "merchant_id": pa.string(),
    "platform_id": pa.string(),
    "merchants": pa.string(),
    "first_order_at": pa.string(),
    "last_order_at": pa.string(),
    "window_start": pa.string(),
    "window_end": pa.string(),
}


def _table(rows: list[dict[str, Any]], check: Check) -> pa.Table:
    """Rows as Arrow with a fixed schema even when empty."""
    names = [
        "entity_id",
        "merchant_id",
        "platform_id",
        *dict.fromkeys([*check.observed_columns, *check.expected_columns]),
    ]
    cols = {}
    for n in names:
        values = [r[n] for r in rows]
        typ = _TYPES.get(n)
        if typ is None:
            sample = next((v for v in values if v is not None), 0)
            typ = pa.float64() if isinstance(sample, float) else pa.int64()
            if isinstance(sample, str):
                typ = pa.string()
        cols[n] = pa.array(values, type=typ)
    return pa.table(cols)


# -- BRUSH002 ------------------------------------------------------------------------------------
