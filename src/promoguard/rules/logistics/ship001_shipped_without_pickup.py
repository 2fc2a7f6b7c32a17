"""SHIP001 shipped-without-pickup: Marked shipped, but no carrier pickup within the allowed time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.rules._relations import graded, orders_with_scans
from promoguard.rules.brushing.brush003_order_velocity import (
    NOT_ONLINE,
    ONLINE_CATEGORY,
    _online_category,
)
from promoguard.rules.logistics._shared import (
    _ALL_COLUMNS,
    AS_OF,
    _horizon_literal,
    _hours,
    _OrderCheck,
    _seconds_between,
    instant_before,
    instant_literal,
    judged_at_fixed_instant,
)

#: Why an order of goods delivered online with no shipment row is reported low
#: (docs/exemptions.md): no carrier was claimed, and goods delivered online are delivered when
#: they reach the buyer's designated system (电子商务法 Art. 51); but the category is the shop's
#: own word, so the order stays in view
ONLINE_REASON = (
    "the listing's category reads as goods delivered online (a top-up, a game card, an "
    "e-ticket) and the order names no parcel: such goods need no carrier (E-Commerce Law "
    "Art. 51); that the goods really are delivered online is to be checked"
)


@register
class DeclaredShippedWithoutPickup(_OrderCheck):
    code = "SHIP001"
    # incremental: its order's rows; the data horizon only while no parcel of it was picked up,
    # and then only across its deadline (horizon_orders)
    depends_on = "order_horizon"
    requires = ("orders.declared_shipped_at",)
    name = "shipped-without-pickup"
    title = "Marked shipped, but no carrier pickup within the allowed time"
    severity = "high"
    # the listing's category: goods delivered online with no parcel at all are not reported
    reads = ("orders", "merchants", "listings", "shipments", "tracking_events")
    reads_columns = {**_OrderCheck.reads_columns, "listings": _ALL_COLUMNS["listings"]}
    parameters = (
        Parameter(
            "pickup_within_hours",
            24,
            "hours after the declared shipment by which the carrier must have scanned a pickup",
            basis="policy",
            unit="h",
        ),
        Parameter(
            "online_categories",
            ONLINE_CATEGORY,
            "a listing category of goods delivered online on payment (a regular expression): "
            "such an order with no parcel at all needs no carrier",
            basis="policy",
        ),
        Parameter(
            "not_online_categories",
            NOT_ONLINE,
            "... unless it also matches this one (physical goods named like them)",
            basis="policy",
        ),
        AS_OF,
    )
    doc = CheckDoc(
        what=(
            "Flags orders the merchant marked as shipped (`declared_shipped_at`) whose parcels got "
            "no carrier `pickup` scan within `pickup_within_hours` of that declaration, either "
            "never (judged at the data horizon, so a shipment declared just before the export is "
            "not flagged) or only later. An order of goods delivered online (a top-up, a game "
            "card, an e-ticket: `online_categories` and not `not_online_categories`) with no "
            "shipment row at all is reported low with the reason: no carrier was ever claimed (the "
            "category is the shop's own word). One that names a tracking number keeps the "
            "pack's severity."
        ),
        why=(
            "To ship (发货) means handing the goods to the carrier, which starts a real trajectory. "
            "Declaring shipment without doing so is false information to the buyer about "
            "performance of the contract (E-Commerce Law Art. 17, 20) and games the platform's "
            "dispatch-time rules; platforms' rules treat it as 虚假发货. Goods delivered online "
            "are delivered when they enter the system the buyer designated (E-Commerce Law "
            "Art. 51): they have no carrier to hand over to."
        ),
        example=(
            "Paid 11-11 00:05, marked shipped 11-11 09:00; the carrier's first scan is a pickup "
            "on 11-13 15:00 (54 h later), or there is no scan at all."
        ),
    )
    observed_columns = ("declared_shipped_at", "first_pickup_at", "hours_to_pickup")
    expected_columns = ("pickup_within_hours",)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        hours = int(params["pickup_within_hours"])
        horizon = _horizon_literal(tables, params)
        # every order with its first pickup (shared with SHIP003/004/005 within a scan)
        j = orders_with_scans(tables)
        j = j.filter(j.declared_shipped_at.notnull())
        # deadline = declared_shipped_at + hours, compared without ICU's interval arithmetic
        late = ibis.or_(
            j.first_pickup_at.isnull()
            & instant_before(tables, j.declared_shipped_at, horizon, hours=-hours),
            instant_before(tables, j.declared_shipped_at, j.first_pickup_at, hours=-hours),
        )
        j = j.filter(late)
        # goods delivered online (电子商务法 Art. 51) with no parcel named: no carrier was
        # claimed, so none is owed. Reported low with the reason, not dropped: the category is
        # the shop's own word (a writing pad or a physical gift card can read as online goods),
        # looked up for the late orders only
        ls, o, s = tables.listings, tables.orders, tables.shipments
        online = ls.filter(
            _online_category(
                ls.category, params["online_categories"], params["not_online_categories"]
            )
        )
        online = online.select(ol_listing_id=online.listing_id).distinct()
        o = o.select(ol_order_id=o.order_id, ol_listing=o.listing_id)
        o = o.semi_join(online, o.ol_listing == online.ol_listing_id)
        o = o.anti_join(s, o.ol_order_id == s.order_id).select("ol_order_id")
        j = j.left_join(o, j.order_id == o.ol_order_id)
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            declared_shipped_at=j.declared_shipped_at,
            first_pickup_at=j.first_pickup_at,
            hours_to_pickup=_hours(_seconds_between(j.first_pickup_at, j.declared_shipped_at)),
            pickup_within_hours=ibis.literal(hours),
            **graded(j.ol_order_id.notnull(), ONLINE_REASON),
        )

    def horizon_orders(
        self, tables: Tables, params: dict[str, Any], before: dt.datetime, now: dt.datetime
    ) -> ir.Table:
        """The orders (``order_id``) whose finding may change when the data horizon moves from
        ``before`` to ``now`` (``before <= now``: rows only ever grow the season) and none of
        their own rows changes (an incremental scan re-checks those anyway).

        Such an order keeps its first pickup. With one, the verdict and every column compare
        against the pickup, never the horizon. Without one, it is flagged exactly when
        ``declared_shipped_at + pickup_within_hours`` is before the horizon, and the finding
        quotes no horizon (``first_pickup_at`` and ``hours_to_pickup`` are null): the finding
        changes only where that deadline is at or after ``before`` and before ``now`` — this
        same predicate of :meth:`find` at the two instants. Those orders, picked up or not (a
        superset: the pickup is not looked up), from the orders alone. At ``as_of`` the horizon
        is not read: none."""
        o = tables.orders
        if judged_at_fixed_instant(params):
            return o.filter(ibis.literal(False)).select("order_id")
        hours = int(params["pickup_within_hours"])

        def due_before(at: dt.datetime) -> ir.BooleanValue:
            return instant_before(tables, o.declared_shipped_at, instant_literal(at), hours=-hours)

        flips = o.declared_shipped_at.notnull() & due_before(now) & ~due_before(before)
        return o.filter(flips).select("order_id")
