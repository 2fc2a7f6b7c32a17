"""Relations that several checks derive from the canonical tables, written once.

Each function returns an Ibis expression, so it runs on every engine like the checks that use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from promoguard.checks.base import Tables


def first_delivery_by_order(tables: Tables) -> ir.Table:
    """``order_id, delivered_s``: the earliest carrier ``delivered`` scan of any of the order's
    parcels, in whole epoch seconds (whole seconds round the same way on every engine)."""
    s = tables.shipments
    ev = tables.tracking_events
    delivered = ev.filter(ev.event_type == "delivered")
    per_parcel = delivered.group_by(["carrier", "tracking_no"]).aggregate(
        parcel_s=delivered.event_at.epoch_seconds().cast("int64").min()
    )
    return (
        s.join(per_parcel, ["carrier", "tracking_no"])
        .group_by("order_id")
        .aggregate(delivered_s=per_parcel.parcel_s.min())
    )
