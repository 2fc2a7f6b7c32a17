"""SHIP003 late-dispatch: Dispatched after the promised dispatch time."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.rules._relations import orders_with_scans
from promoguard.rules.logistics._shared import (
    AS_OF,
    _horizon_literal,
    _hours,
    _OrderCheck,
    _seconds_between,
    instant_before,
)

UNDISPATCHED_EXEMPT = ("cancelled", "refunded")


@register
class LateDispatch(_OrderCheck):
    code = "SHIP003"
    # incremental: its order's rows; the data horizon only while no parcel of it was picked up
    depends_on = "order_horizon"
    name = "late-dispatch"
    title = "Dispatched after the promised dispatch time"
    severity = "medium"
    parameters = (
        Parameter(
            "default_dispatch_hours",
            48,
            "dispatch time from payment when the order records no promise",
            basis="policy",
            unit="h",
        ),
        Parameter(
            "grace_minutes",
            0,
            "slack after the promise before a dispatch counts as late",
            basis="policy",
            unit="min",
        ),
        AS_OF,
    )
    doc = CheckDoc(
        what=(
            "Flags orders whose first carrier pickup came after `promised_dispatch_by` (plus "
            "`grace_minutes`), or, when no promise is recorded, later than "
            "`default_dispatch_hours` after payment. An order never picked up, never declared "
            "shipped and not cancelled or refunded is late once its deadline has passed at the "
            "data horizon. (An order declared shipped with no pickup is SHIP001's finding.)"
        ),
        why=(
            "The seller must deliver in the manner and time promised or agreed "
            "(E-Commerce Law Art. 20, Civil Code Art. 509/511); a promised dispatch time shown at "
            "sale is a term of the contract, and missing it is a breach the platform must record."
        ),
        example=(
            "Promised dispatch by 11-12 23:59; the carrier's first pickup is 11-14 10:00. A parcel "
            "picked up 11-12 22:00, late in the window but inside the promise, is fine."
        ),
    )
    observed_columns = ("first_pickup_at", "hours_late")
    expected_columns = ("dispatch_deadline", "deadline_source")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        default_h = int(params["default_dispatch_hours"])
        grace = int(params["grace_minutes"])
        horizon = _horizon_literal(tables, params)
        j = orders_with_scans(tables)  # with the first pickup (shared within a scan)

        def past_limit(at: ir.TimestampValue) -> ir.BooleanValue:
            # the deadline plus grace before ``at``: promised_dispatch_by + grace, else paid_at +
            # default_h + grace, compared without ICU's interval arithmetic (instant_before)
            return ibis.cases(
                (
                    j.promised_dispatch_by.notnull(),
                    instant_before(tables, j.promised_dispatch_by, at, minutes=-grace),
                ),
                else_=instant_before(tables, j.paid_at, at, hours=-default_h, minutes=-grace),
            )

        undispatched = (
            j.first_pickup_at.isnull()
            & j.declared_shipped_at.isnull()
            & ~j.status.isin(UNDISPATCHED_EXEMPT)
            & past_limit(horizon)
        )
        # (the flagged orders only get their deadline as a timestamp)
        j = j.filter(past_limit(j.first_pickup_at) | undispatched)
        deadline = j.promised_dispatch_by.coalesce(j.paid_at + ibis.interval(hours=default_h))
        j = j.mutate(
            dispatch_deadline=deadline,
            deadline_source=ibis.cases(
                (j.promised_dispatch_by.notnull(), "promised_dispatch_by"),
                else_=f"paid_at + {default_h}h",
            ),
        )
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            first_pickup_at=j.first_pickup_at,
            hours_late=_hours(
                _seconds_between(j.first_pickup_at.coalesce(horizon), j.dispatch_deadline)
            ),
            dispatch_deadline=j.dispatch_deadline,
            deadline_source=j.deadline_source,
        )
