"""SHIP005 late-delivery: Delivered after the promised delivery time."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.rules._relations import orders_with_scans
from promoguard.rules.logistics._shared import (
    _hours,
    _OrderCheck,
    _seconds_between,
)


@register
class LateDelivery(_OrderCheck):
    code = "SHIP005"
    depends_on = "order"  # incremental: its order, its parcels and their scans
    requires = ("orders.promised_delivery_by", "tracking_events")
    name = "late-delivery"
    title = "Delivered after the promised delivery time"
    severity = "medium"
    parameters = (
        Parameter(
            "grace_minutes",
            0,
            "slack after the promised delivery time before a delivery counts as late",
            basis="policy",
            unit="min",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags orders delivered after `promised_delivery_by` (plus `grace_minutes`): the "
            "delivery time the buyer was promised at sale. An order is delivered when all of it "
            "is: sent in several parcels, it is judged by the last of them to arrive (each "
            "parcel's first carrier `delivered` scan), so a second parcel delivered late makes "
            "the order late. A promise given as a date means the end of that day (the Olist "
            "adapter maps it so), so a parcel delivered on the promised day is on time. Orders "
            "without a promised delivery time, or none of whose parcels was delivered yet, are "
            "not judged (SHIP003 judges dispatch against its deadline)."
        ),
        why=(
            "The seller must deliver within the time promised or agreed with the consumer "
            "(E-Commerce Law Art. 20; Consumer Rights Directive Art. 18; Consumer Rights Act 2015 "
            "s. 28; the FTC Mail, Internet, or Telephone Order Merchandise Rule). A delivery date "
            "shown at sale is a term of the contract; missing it is a breach the platform must "
            "record, and a pattern of it misleads buyers choosing by delivery time."
        ),
        example=(
            "Promised delivery by 11-15 (23:59:59); the carrier's delivered scan is 11-18 10:00: "
            "62 hours late. Delivered 11-15 21:00: on time."
        ),
    )
    observed_columns = ("delivered_at", "hours_late")
    expected_columns = ("promised_delivery_by", "grace_minutes")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        grace = int(params["grace_minutes"])
        # the goods are delivered when the last parcel is (E-Commerce Law Art. 20: the goods
        # delivered within the promised time), from the scan's shared pass over the scans
        j = orders_with_scans(tables)
        j = j.filter(j.promised_delivery_by.notnull() & j.last_delivered_at.notnull())
        j = j.mutate(delivered_at=j.last_delivered_at)
        j = j.mutate(_late_s=_seconds_between(j.delivered_at, j.promised_delivery_by))
        j = j.filter(j._late_s > grace * 60)
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            delivered_at=j.delivered_at,
            hours_late=_hours(j._late_s),
            promised_delivery_by=j.promised_delivery_by,
            grace_minutes=ibis.literal(grace),
        )
