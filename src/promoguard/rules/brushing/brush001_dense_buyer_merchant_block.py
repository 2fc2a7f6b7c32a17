"""BRUSH001 dense-buyer-merchant-block: Dense block of buyers ordering again and again from the same merchants."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.graph import rings
from promoguard.rules.brushing._shared import (
    BUYER_SEP,
    _group_orders_evidence,
    _hubs_from,
    _iso,
    _merchant_platforms,
    _order_edges,
    _table,
    _utc_offset_hours,
    bahmani_blocks,
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


def _buying_groups(
    tables: Tables, blocks: list[rings.Block], params: dict[str, Any], ctx: ScanContext
) -> dict[int, str]:
    """Blocks that look like a recurring buying group, by index, with the evidence as a sentence.

    Colleagues or a family who order together (拼单: one sitting, each paying their own order)
    from the same few shops form a dense block too. What marks them is the habit: most of their
    orders at the block's shops are placed within minutes of another member's order at the same
    shop, in sittings that recur week after week over many weeks (the weekly lunch order). A ring
    fabricating sales in a burst also orders close together, on the three or four days of its
    burst: that is not a habit, so the weeks decide, not the days. Such a block is reported at a
    lowered severity with this evidence, never dropped (docs/exemptions.md); linked accounts
    ordering together are BRUSH002's.
    """
    limit = float(params.get("max_shared_occasion_share", 1.0))
    if not blocks or limit >= 1.0:
        return {}
    window = int(float(params.get("session_minutes", 30)) * 60)
    min_days = int(params.get("min_group_days", 3))
    min_weeks = int(params.get("min_group_weeks", 4))
    o = tables.orders
    o = o.filter(o.status != "cancelled")
    wanted = sorted({b for blk in blocks for b in blk.buyers})
    o = o.semi_join(ibis.memtable({"buyer_id": wanted}), "buyer_id")
    offset = _utc_offset_hours(ctx.timezone) * 3600
    pulled = tables.to_arrow(
        o.select("buyer_id", "merchant_id", t=epoch_seconds(o.paid_at))
    ).to_pydict()
    by_buyer: dict[str, list[tuple[str, int]]] = {}
    for b, m, t in zip(pulled["buyer_id"], pulled["merchant_id"], pulled["t"], strict=True):
        by_buyer.setdefault(b, []).append((m, int(t)))
    groups: dict[int, str] = {}
    for index, blk in enumerate(blocks):
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
        # local days since 1970-01-01 (a Thursday): +3 makes Monday the first day of a week
        weeks = {(d + 3) // 7 for d in shared_days}
        if (
            visits
            and n_shared / len(visits) > limit
            and len(shared_days) >= min_days
            and len(weeks) >= min_weeks
        ):
            first, last = min(shared_days), max(shared_days)
            groups[index] = (
                f"looks like a recurring buying group (拼单): {n_shared} of its {len(visits)} "
                f"orders at these shops were placed within {window // 60} min of another "
                f"member's, in sittings on {len(shared_days)} days across {len(weeks)} weeks "
                f"({_day(first)} to {_day(last)}); lowered, not dropped: a ring's burst lasts days"
            )
    return groups


def _day(local_day: int) -> str:
    import datetime as dt

    try:
        return (dt.date(1970, 1, 1) + dt.timedelta(days=local_day)).isoformat()
    except OverflowError:  # outside years 1..9999 (the store keeps what it was given)
        return f"day {local_day} from 1970-01-01"


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
            "order at the same shop, in sittings recurring over min_group_weeks weeks, the block "
            "looks like a buying group (拼单) and is reported at buying_group_severity",
        ),
        Parameter(
            "session_minutes", 30, "orders this close at one shop share a sitting", unit="min"
        ),
        Parameter("min_group_days", 3, "a buying group's shared sittings recur on this many days"),
        Parameter(
            "min_group_weeks",
            4,
            "... and in this many different weeks: a habit, not a burst (a ring's 72-hour burst "
            "covers 3-4 days but one or two weeks)",
        ),
        Parameter(
            "buying_group_severity",
            "low",
            "severity of a block that looks like a recurring buying group: lowered, not dropped",
        ),
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
            "least two shops is reported with its shops, order count, density and time span. A "
            "block whose orders are mostly shared sittings recurring week after week over many "
            "weeks looks like a buying group (拼单, colleagues ordering lunch together): it is "
            "reported at a lowered severity with that evidence, never dropped."
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
        groups = _buying_groups(tables, blocks, params, ctx)
        lowered = str(params.get("buying_group_severity", "low"))
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
        table = _table(rows, self)
        reasons = [groups.get(i) for i in range(len(blocks))]
        return table.append_column(
            "severity", pa.array([lowered if r else None for r in reasons], pa.string())
        ).append_column("severity_reason", pa.array(reasons, pa.string()))

    def evidence(self, tables, found, params, ctx):
        return {"orders": _group_orders_evidence(tables, found)}
