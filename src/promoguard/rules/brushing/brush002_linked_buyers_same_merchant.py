"""BRUSH002 linked-buyers-same-merchant: Buyers sharing devices or addresses ordering from the same merchant in a short window."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.graph import linked
from promoguard.rules.brushing._shared import (
    BUYER_SEP,
    _group_orders_evidence,
    _iso,
    _merchant_platforms,
    _table,
)


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
        # who is linked to whom, from each buyer's distinct (device, address) combinations
        # (1.2M rows at city scale, not 5.5M orders); then the orders of the buyers in large
        # enough components only
        # (in buyer order: the engine sorts them beside the other thread, and the buyers'
        # numbering is then a pass over the rows instead of an Arrow dictionary and its sort)
        links = tables.to_arrow(
            o.select("buyer_id", device=o.buyer_device_id, address=o.buyer_address_id)
            .distinct()
            .order_by("buyer_id")
        )
        comps, _ = linked.buyer_components(links)
        wanted = comps.in_components_of(int(params["min_buyers"]))
        pulled = tables.to_arrow(
            o.semi_join(ibis.memtable(pa.table({"buyer_id": wanted})), "buyer_id").select(
                "buyer_id", "merchant_id", paid_s=epoch_seconds(o.paid_at)
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
            for g in linked.linked_groups(pulled, params, comps)
        ]
        return _table(rows, self)

    def evidence(self, tables, found, params, ctx):
        return {"orders": _group_orders_evidence(tables, found)}
