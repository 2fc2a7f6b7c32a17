"""Brushing (刷单): fake orders placed to inflate a shop's sales and reviews.

BRUSH001 finds dense buyer-merchant blocks of repeated orders (FRAUDAR-style peeling),
BRUSH002 buyers linked by shared devices or addresses ordering from one merchant in a short window,
BRUSH003 order-velocity patterns at a merchant measured against its own traffic.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from promoguard.checks.base import (
    Check,
    CheckDoc,
    Parameter,
    ScanContext,
    Tables,
    first_rows,
    half_up_ratio,
)
from promoguard.checks.registry import register
from promoguard.checks.relations import first_delivery_by_order
from promoguard.graph import bahmani, linked, rings

BUYER_SEP = "|"
MAX_EVIDENCE_ORDERS = 400


def _iso(epoch: float | int | None) -> str | None:
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merchant_platforms(tables: Tables) -> dict[str, str | None]:
    m = tables.merchants
    rows = tables.to_arrow(m.select("merchant_id", "platform_id")).to_pydict()
    return dict(zip(rows["merchant_id"], rows["platform_id"], strict=True))


def _group_orders_evidence(tables: Tables, found: ir.Table) -> ir.Table:
    """The orders of a buyer group's buyers at the finding's merchants (bounded)."""
    members = found.select(
        entity_id=found.entity_id,
        merchants=found.merchants,
        # Spark's split takes a regular expression ('|' is special), DuckDB's a plain string:
        # swap the separator for a comma, which means the same to both
        buyer_id=found.entity_id.replace(BUYER_SEP, ",").split(",").unnest(),
    )
    o = tables.orders
    rows = members.join(o, members.buyer_id == o.buyer_id).select(
        members.entity_id,
        members.merchants,
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
    rows = first_rows(rows, rows.entity_id, [rows.paid_at, rows.order_id], MAX_EVIDENCE_ORDERS)
    return rows.drop("merchants")


# -- BRUSH001 ------------------------------------------------------------------------------------


def _order_edges(tables: Tables) -> ir.Table:
    o = tables.orders
    o = o.filter(o.status != "cancelled")
    return o.group_by(buyer=o.buyer_id, merchant=o.merchant_id).aggregate(
        orders=o.count(),
        first_at=o.paid_at.epoch_seconds().min(),
        last_at=o.paid_at.epoch_seconds().max(),
    )


def _repeat_edges(tables: Tables) -> tuple[ir.Table, ir.Table]:
    """(edges with two or more orders, each with its merchant's degree; every merchant's degree).

    A single purchase weighs log(1) = 0, so only repeat edges are pulled out of the engine: a
    tenth of the pairs on order data. The merchant's degree (distinct buyers) counts every pair.
    """
    e = _order_edges(tables)
    deg = e.group_by("merchant").aggregate(deg=e.count())
    rep = e.filter(e.orders >= 2).join(deg, "merchant")
    return rep, deg


def bahmani_blocks(tables: Tables, params: dict[str, Any]) -> list[rings.Block]:
    """The relational form: Bahmani passes in the engine find the dense parts (each round sets the
    peeled buyers aside, as the array form does); the repeat-order edges of the shops they touch
    are then pulled and cut into blocks by the same acceptance rules as the array form."""
    backend = tables.backend
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
        peel = bahmani.bahmani_peel(
            backend, current, eps=float(params["eps"]), min_degree=min_degree
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


def _drop_buying_groups(
    tables: Tables, blocks: list[rings.Block], params: dict[str, Any], ctx: ScanContext
) -> list[rings.Block]:
    """Drop blocks whose repeated orders are mostly shared sittings, recurring over many days.

    Colleagues or a family who order together (拼单: one sitting, each paying their own order)
    from the same few shops form a dense block too. What marks them is the habit: most of their
    orders at the block's shops are placed within minutes of another member's order at the same
    shop, on many different days (the weekly lunch order). A ring fabricating sales spreads its
    accounts' orders so each looks like an independent customer; a ring that piles in on one day
    is a burst, not a habit, and stays reported; linked accounts ordering together are BRUSH002's.
    """
    limit = float(params.get("max_shared_occasion_share", 1.0))
    if not blocks or limit >= 1.0:
        return blocks
    window = int(float(params.get("session_minutes", 30)) * 60)
    min_days = int(params.get("min_group_days", 3))
    o = tables.orders
    o = o.filter(o.status != "cancelled")
    wanted = sorted({b for blk in blocks for b in blk.buyers})
    o = o.semi_join(ibis.memtable({"buyer_id": wanted}), "buyer_id")
    offset = _utc_offset_hours(ctx.timezone) * 3600
    pulled = tables.to_arrow(
        o.select("buyer_id", "merchant_id", t=o.paid_at.epoch_seconds().cast("int64"))
    ).to_pydict()
    by_buyer: dict[str, list[tuple[str, int]]] = {}
    for b, m, t in zip(pulled["buyer_id"], pulled["merchant_id"], pulled["t"], strict=True):
        by_buyer.setdefault(b, []).append((m, int(t)))
    kept = []
    for blk in blocks:
        shops = set(blk.merchants)
        # (shop, time, buyer), sorted: engine row order never matters
        visits = sorted((m, t, b) for b in blk.buyers for m, t in by_buyer.get(b, []) if m in shops)
        shared_days: set[int] = set()
        n_shared = 0
        for i, (m, t, b) in enumerate(visits):
            near = False
            for j in (i - 1, i + 1):
                k = j
                step = -1 if j < i else 1
                while (
                    0 <= k < len(visits) and visits[k][0] == m and abs(visits[k][1] - t) <= window
                ):
                    if visits[k][2] != b:
                        near = True
                        break
                    k += step
                if near:
                    break
            if near:
                n_shared += 1
                shared_days.add((t + offset) // 86400)
        if visits and n_shared / len(visits) > limit and len(shared_days) >= min_days:
            continue
        kept.append(blk)
    return kept


@register
class DenseBuyerMerchantBlock(Check):
    code = "BRUSH001"
    name = "dense-buyer-merchant-block"
    title = "Dense block of buyers ordering again and again from the same merchants"
    family = "brushing"
    entity_type = "buyer_group"
    severity = "high"
    parameters = (
        Parameter("algorithm", "fraudar", "fraudar (arrays, one machine) or bahmani (relational)"),
        Parameter("weight_c", 5.0, "c in the merchant edge weight 1/log(deg(merchant)+c)"),
        Parameter("min_buyers", 3, "fewest buyers in a reported block", unit="buyers"),
        Parameter("min_merchants", 2, "fewest shops in a block (one shop: BRUSH002/BRUSH003)"),
        Parameter("min_density", 0.2, "smallest block density g(S) = weight / nodes"),
        Parameter("min_orders_per_edge", 2, "orders a buyer-shop pair needs to count as repeated"),
        Parameter("min_fill", 0.66, "share of the core shops each buyer repeat-orders from"),
        Parameter("hub_factor", 10.0, "shops with more buyers than this x the median are hubs"),
        Parameter("link_jaccard", 0.5, "overlap of two buyers' repeat-order shops to group them"),
        Parameter(
            "link_containment",
            True,
            "also group two buyers when one's repeat-order shops (>= 2) all lie among the other's",
        ),
        Parameter(
            "max_shared_occasion_share",
            0.5,
            "above this share of the block's orders placed within minutes of another member's "
            "order at the same shop, on several days, the block is a buying group (拼单)",
        ),
        Parameter(
            "session_minutes", 30, "orders this close at one shop share a sitting", unit="min"
        ),
        Parameter("min_group_days", 3, "a buying group's shared sittings recur on this many days"),
        Parameter("max_blocks", 200, "most peels per connected part (each sets its buyers aside)"),
        Parameter("eps", 0.1, "bahmani only: remove nodes below (1+eps) x average degree"),
    )
    doc = CheckDoc(
        what=(
            "Builds the bipartite graph of buyers and merchants (one edge per pair, weighted "
            "log(orders) / log(buyers of the merchant + c), so single purchases weigh nothing and "
            "popular merchants little), repeatedly peels the densest block (FRAUDAR, Hooi et al. "
            "2016), then cuts the peeled part into rings: buyers who repeat-order from the same "
            "shops (hub shops used for camouflage ignored). Each ring of several buyers and at "
            "least two shops is reported with its shops, order count, density and time span."
        ),
        why=(
            "Organised fake orders (刷单) fabricate sales volume to deceive consumers: a false "
            "transaction and false commercial publicity under the e-commerce and unfair "
            "competition laws, and consumer-deceiving fake reviews under EU, UK and US rules."
        ),
        example=(
            "Eight new accounts each order four times from the same two shops over three days, "
            "and almost nowhere else: one block, 64 orders, fill 1.0."
        ),
    )
    observed_columns = (
        "n_buyers",
        "n_merchants",
        "merchants",
        "n_orders",
        "density",
        "first_order_at",
        "last_order_at",
        "span_hours",
    )
    expected_columns = ("min_buyers", "min_density", "min_orders_per_edge")
    reads = ("orders", "merchants")

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        if params["algorithm"] == "bahmani":
            blocks = bahmani_blocks(tables, params)
        elif params["algorithm"] == "fraudar":
            rep, deg = _repeat_edges(tables)
            edges = rings.edges_from_arrow(tables.to_arrow(rep), params["weight_c"])
            blocks = rings.fraudar_blocks(edges, params, _hubs_from(tables, deg, edges, params))
        else:
            raise ValueError(
                f"BRUSH001 algorithm must be fraudar or bahmani, not {params['algorithm']!r}"
            )
        blocks = _drop_buying_groups(tables, blocks, params, ctx)
        platforms = _merchant_platforms(tables)
        rows = []
        for b in blocks:
            top = sorted(b.orders_by_merchant.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            rows.append(
                {
                    "entity_id": BUYER_SEP.join(b.buyers),
                    "merchant_id": top,
                    "platform_id": platforms.get(top),
                    "n_buyers": len(b.buyers),
                    "n_merchants": len(b.merchants),
                    "merchants": BUYER_SEP.join(b.merchants),
                    "n_orders": b.n_orders,
                    "density": round(b.density, 4),
                    "first_order_at": _iso(b.first_at),
                    "last_order_at": _iso(b.last_at),
                    "span_hours": round((b.last_at - b.first_at) / 3600, 2),
                    "min_buyers": params["min_buyers"],
                    "min_density": params["min_density"],
                    "min_orders_per_edge": params["min_orders_per_edge"],
                }
            )
        return _table(rows, self)

    def evidence(self, tables, found, params, ctx):
        return {"orders": _group_orders_evidence(tables, found)}


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


@register
class LinkedBuyersSameMerchant(Check):
    code = "BRUSH002"
    name = "linked-buyers-same-merchant"
    title = "Buyers sharing devices or addresses ordering from the same merchant in a short window"
    family = "brushing"
    entity_type = "buyer_group"
    severity = "high"
    parameters = (
        Parameter("min_buyers", 3, "fewest linked buyers ordering in the window", unit="buyers"),
        Parameter("window_hours", 48.0, "the short window", unit="hours"),
        Parameter(
            "min_merchant_share",
            0.3,
            "share of the linked group's orders going to this merchant (households spread theirs)",
        ),
    )
    doc = CheckDoc(
        what=(
            "Links buyers that used the same device or delivery address (connected components "
            "over buyer-device and buyer-address links) and reports, per merchant, the linked "
            "buyers who all ordered there within a short window, when that merchant takes a large "
            "share of the group's orders (a household shopping everywhere is not a ring)."
        ),
        why=(
            "Accounts run from one phone or shipping to one drop address that pile into one shop "
            "are the usual trace of organised fake orders (刷单): false transactions that inflate "
            "sales and reviews."
        ),
        example=(
            "Five accounts on two phones, shipping to one address, order the same listing within "
            "six hours; the group has no other orders."
        ),
    )
    observed_columns = (
        "n_buyers",
        "component_size",
        "n_orders",
        "window_start",
        "window_end",
        "merchant_share",
        "merchants",
    )
    expected_columns = ("min_buyers", "window_hours", "min_merchant_share")
    reads = ("orders", "merchants")

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        o = tables.orders
        o = o.filter(o.status != "cancelled")
        pulled = tables.to_arrow(
            o.select(
                "order_id",
                "buyer_id",
                "merchant_id",
                paid_s=o.paid_at.epoch_seconds().cast("int64"),
                device=o.buyer_device_id,
                address=o.buyer_address_id,
            )
        )
        platforms = _merchant_platforms(tables)
        rows = [
            {
                "entity_id": BUYER_SEP.join(g.buyers),
                "merchant_id": g.merchant,
                "platform_id": platforms.get(g.merchant),
                "n_buyers": len(g.buyers),
                "component_size": g.component_size,
                "n_orders": g.n_orders,
                "window_start": _iso(g.window_start),
                "window_end": _iso(g.window_end),
                "merchant_share": g.merchant_share,
                "merchants": g.merchant,
                "min_buyers": params["min_buyers"],
                "window_hours": float(params["window_hours"]),
                "min_merchant_share": float(params["min_merchant_share"]),
            }
            for g in linked.linked_groups(pulled, params)
        ]
        return _table(rows, self)

    def evidence(self, tables, found, params, ctx):
        return {"orders": _group_orders_evidence(tables, found)}


# -- BRUSH003 ------------------------------------------------------------------------------------


def _utc_offset_hours(zone: str) -> int:
    """The zone's offset in the season (mid-November), in whole hours: the odd-hours window is
    local time. Promotions are short, so one offset for the season is close enough."""
    from zoneinfo import ZoneInfo

    probe = dt.datetime(dt.datetime.now(dt.UTC).year, 11, 15, tzinfo=ZoneInfo(zone))
    offset = probe.utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 3600)


def _ratio(num: ir.IntegerValue, den: ir.IntegerValue) -> ir.NumericValue:
    """num / den to 4 decimals, rounded half up from integers so every engine agrees.

    A float ``.round(4)`` is not engine-independent: 38/320 = 0.11875 rounds to 0.1187 on
    DuckDB and 0.1188 on Spark.
    """
    share = half_up_ratio(num.cast("int64"), den.cast("int64"), 10_000).cast("float64") / 10_000
    return ibis.cases((den > 0, share), else_=0.0)


@register
class OrderVelocity(Check):
    code = "BRUSH003"
    name = "order-velocity"
    title = "Order velocity: repeated orders per buyer per hour, instant confirmation, odd hours"
    family = "brushing"
    entity_type = "merchant"
    severity = "medium"
    parameters = (
        Parameter(
            "orders_per_buyer_hour", 3, "orders by one buyer at one shop in one hour", unit="orders"
        ),
        Parameter("min_rapid_share", 0.05, "share of the shop's orders in such buyer-hours"),
        Parameter("min_rapid_buyer_hours", 3, "fewest such buyer-hours", unit="buyer-hours"),
        Parameter(
            "min_rapid_days",
            2,
            "distinct local days with such buyer-hours (one sale day of 凑单 is honest)",
        ),
        Parameter("confirm_minutes", 10, "receipt confirmed this soon after delivery", unit="min"),
        Parameter("min_instant_share", 0.05, "share of delivered-then-confirmed orders"),
        Parameter("min_instant_orders", 5, "fewest instantly confirmed orders", unit="orders"),
        Parameter("odd_hours", [1, 5], "local hours [from, to) that count as odd"),
        Parameter("min_odd_ratio", 3.0, "shop's odd-hour share over all shops' share"),
        Parameter("min_odd_orders", 10, "fewest odd-hour orders", unit="orders"),
        Parameter("min_signals", 2, "how many of the three signals must fire together"),
    )
    doc = CheckDoc(
        what=(
            "Measures, per merchant and relative to its own traffic: the share of its orders "
            "placed in buyer-hours with several orders by one buyer; the share of its delivered "
            "orders whose receipt was confirmed within minutes of the carrier's delivery scan; and "
            "its share of orders at odd local hours against the share across all merchants. "
            "Volume alone never fires: every signal is a share, and a shop is reported only when "
            "several signals fire together (by default two of three). Repeated buyer-hours count "
            "as a signal only on several different days: splitting a basket into several orders "
            "to stack per-order coupons on the sale day (凑单/拆单) is honest, and so are shops "
            "whose customers shop at night."
        ),
        why=(
            "Real buyers do not reorder the same shop three times an hour or confirm receipt the "
            "minute a parcel lands; scripted fake orders do. Fake transactions that inflate sales "
            "are prohibited false transactions and misleading publicity."
        ),
        example=(
            "A shop with 300 orders has 40 buyer-hours with 3+ orders each (40% of its orders) and "
            "half its receipts confirmed within 4 minutes of delivery."
        ),
    )
    observed_columns = (
        "n_orders",
        "n_buyers",
        "rapid_buyer_hours",
        "rapid_days",
        "rapid_share",
        "instant_confirms",
        "instant_share",
        "odd_orders",
        "odd_ratio",
        "signals",
    )
    expected_columns = (
        "orders_per_buyer_hour",
        "min_rapid_share",
        "min_instant_share",
        "min_odd_ratio",
    )
    reads = ("orders", "shipments", "tracking_events", "merchants")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        o = tables.orders
        o = o.filter(o.status != "cancelled")
        secs = o.paid_at.epoch_seconds().cast("int64")
        o = o.mutate(
            _hour=secs // 3600, _local_h=((secs // 3600) + _utc_offset_hours(ctx.timezone)) % 24
        )
        o = o.mutate(_local_day=(secs + _utc_offset_hours(ctx.timezone) * 3600) // 86400)
        totals = o.group_by("merchant_id").aggregate(
            n_orders=o.count(), n_buyers=o.buyer_id.nunique()
        )
        bh = o.group_by(["merchant_id", "buyer_id", "_hour"]).aggregate(
            n=o.count(), _day=o._local_day.min()
        )
        bh = bh.filter(bh.n >= params["orders_per_buyer_hour"])
        rapid = bh.group_by("merchant_id").aggregate(
            rapid_buyer_hours=bh.count(), rapid_orders=bh.n.sum(), rapid_days=bh._day.nunique()
        )
        lo, hi = params["odd_hours"]
        is_odd = (o._local_h >= lo) & (o._local_h < hi)
        odd = o.group_by("merchant_id").aggregate(odd_orders=is_odd.cast("int64").sum())
        everyone = o.aggregate(all_odd=is_odd.cast("int64").sum(), all_n=o.count())
        # delivered scan vs confirmation
        sd = first_delivery_by_order(tables)
        oc = o.filter(o.confirmed_at.notnull()).join(sd, "order_id")
        lag = oc.confirmed_at.epoch_seconds().cast("int64") - oc.delivered_s
        inst = oc.group_by("merchant_id").aggregate(
            confirmed_after_delivery=(lag >= 0).cast("int64").sum(),
            instant_confirms=((lag >= 0) & (lag <= params["confirm_minutes"] * 60))
            .cast("int64")
            .sum(),
        )
        m = (
            totals.left_join(rapid, "merchant_id")
            .select(totals, rapid.rapid_buyer_hours, rapid.rapid_orders, rapid.rapid_days)
            .left_join(odd, "merchant_id")
        )
        m = m.select(
            "merchant_id",
            "n_orders",
            "n_buyers",
            "rapid_buyer_hours",
            "rapid_orders",
            "rapid_days",
            "odd_orders",
        )
        m = m.left_join(inst, "merchant_id").select(
            m, inst.confirmed_after_delivery, inst.instant_confirms
        )
        m = m.cross_join(everyone)
        m = m.mutate(
            rapid_buyer_hours=m.rapid_buyer_hours.fill_null(0),
            rapid_orders=m.rapid_orders.fill_null(0),
            rapid_days=m.rapid_days.fill_null(0),
            odd_orders=m.odd_orders.fill_null(0),
            confirmed_after_delivery=m.confirmed_after_delivery.fill_null(0),
            instant_confirms=m.instant_confirms.fill_null(0),
        )
        m = m.mutate(
            rapid_share=_ratio(m.rapid_orders, m.n_orders),
            instant_share=_ratio(m.instant_confirms, m.confirmed_after_delivery),
            odd_ratio=_ratio(
                m.odd_orders.cast("int64") * m.all_n.cast("int64"),
                m.n_orders.cast("int64") * m.all_odd.cast("int64"),
            ),
        )
        velocity = (
            (m.rapid_share >= params["min_rapid_share"])
            & (m.rapid_buyer_hours >= params["min_rapid_buyer_hours"])
            & (m.rapid_days >= params["min_rapid_days"])
        )
        instant = (m.instant_share >= params["min_instant_share"]) & (
            m.instant_confirms >= params["min_instant_orders"]
        )
        odd_burst = (m.odd_ratio >= params["min_odd_ratio"]) & (
            m.odd_orders >= params["min_odd_orders"]
        )
        m = m.mutate(
            signals=velocity.cast("int64") + instant.cast("int64") + odd_burst.cast("int64"),
            signal_names=ibis.literal("")
            .concat(ibis.cases((velocity, "velocity "), else_=""))
            .concat(ibis.cases((instant, "instant_confirm "), else_=""))
            .concat(ibis.cases((odd_burst, "odd_hours"), else_="")),
        )
        m = m.filter(m.signals >= params["min_signals"])
        merchants = tables.merchants.select("merchant_id", "platform_id")
        m = m.left_join(merchants, "merchant_id").select(m, merchants.platform_id)
        return m.select(
            entity_id=m.merchant_id,
            merchant_id=m.merchant_id,
            platform_id=m.platform_id,
            n_orders=m.n_orders,
            n_buyers=m.n_buyers,
            rapid_buyer_hours=m.rapid_buyer_hours,
            rapid_days=m.rapid_days,
            rapid_share=m.rapid_share,
            instant_confirms=m.instant_confirms,
            instant_share=m.instant_share,
            odd_orders=m.odd_orders,
            odd_ratio=m.odd_ratio,
            signals=m.signal_names.strip(),
            orders_per_buyer_hour=ibis.literal(int(params["orders_per_buyer_hour"])),
            min_rapid_share=ibis.literal(float(params["min_rapid_share"])),
            min_instant_share=ibis.literal(float(params["min_instant_share"])),
            min_odd_ratio=ibis.literal(float(params["min_odd_ratio"])),
        )

    def evidence(self, tables, found, params, ctx):
        # the shop's buyer-hours with repeated orders, and its instantly confirmed orders
        o = tables.orders
        o = o.filter(o.status != "cancelled")
        f = found.select("entity_id")
        mo = f.join(o, f.entity_id == o.merchant_id)
        mo = mo.mutate(_hour=mo.paid_at.epoch_seconds().cast("int64") // 3600)
        bh = mo.group_by(["entity_id", "buyer_id", "_hour"]).aggregate(
            orders=mo.count(), first_paid_at=mo.paid_at.min(), last_paid_at=mo.paid_at.max()
        )
        bh = bh.filter(bh.orders >= params["orders_per_buyer_hour"])
        rapid = first_rows(bh, bh.entity_id, [bh.first_paid_at, bh.buyer_id], 200).drop("_hour")
        # orders whose receipt was confirmed within minutes of the carrier's delivery scan
        ev = tables.tracking_events
        delivered = ev.filter(ev.event_type == "delivered")
        delivered = delivered.group_by(["carrier", "tracking_no"]).aggregate(
            delivered_at=delivered.event_at.min()
        )
        sd = (
            tables.shipments.join(delivered, ["carrier", "tracking_no"])
            .group_by("order_id")
            .aggregate(delivered_at=delivered.delivered_at.min())
        )
        oc = mo.filter(mo.confirmed_at.notnull()).join(sd, "order_id")
        lag = oc.confirmed_at.epoch_seconds().cast("int64") - oc.delivered_at.epoch_seconds().cast(
            "int64"
        )
        fast = oc.filter((lag >= 0) & (lag <= params["confirm_minutes"] * 60)).select(
            "entity_id", "order_id", "buyer_id", "paid_at", "delivered_at", "confirmed_at"
        )
        return {
            "rapid_buyer_hours": rapid,
            "instant_confirms": first_rows(
                fast, fast.entity_id, [fast.paid_at, fast.order_id], 200
            ),
        }
