"""SHIP003 late-dispatch: Dispatched after the promised dispatch time."""

from __future__ import annotations

import datetime as dt
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
    instant_literal,
    judged_at_fixed_instant,
)

UNDISPATCHED_EXEMPT = ("cancelled", "refunded")


def _past_limit(
    tables: Tables, j: ir.Table, at: ir.TimestampValue, default_h: int, grace: int
) -> ir.BooleanValue:
    """Whether the order's dispatch deadline plus grace is before ``at``: promised_dispatch_by +
    grace, else paid_at + default_h + grace, compared without ICU's interval arithmetic
    (instant_before)."""
    return ibis.cases(
        (
            j.promised_dispatch_by.notnull(),
            instant_before(tables, j.promised_dispatch_by, at, minutes=-grace),
        ),
        else_=instant_before(tables, j.paid_at, at, hours=-default_h, minutes=-grace),
    )


def _undispatched_candidate(j: ir.Table) -> ir.BooleanValue:
    """Never declared shipped and neither cancelled nor refunded (without the pickup: an
    undispatched order is also never picked up)."""
    return j.declared_shipped_at.isnull() & ~j.status.isin(UNDISPATCHED_EXEMPT)


@register
class LateDispatch(_OrderCheck):
    code = "SHIP003"
    # incremental: its order's rows; the data horizon only while no parcel of it was picked up,
    # and then only once its deadline has passed (horizon_orders)
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
            return _past_limit(tables, j, at, default_h, grace)

        undispatched = j.first_pickup_at.isnull() & _undispatched_candidate(j) & past_limit(horizon)
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

    def horizon_orders(
        self, tables: Tables, params: dict[str, Any], before: dt.datetime, now: dt.datetime
    ) -> ir.Table:
        """The orders (``order_id``) whose finding may change when the data horizon moves from
        ``before`` to ``now`` (``before <= now``) and none of their own rows changes.

        Such an order keeps its first pickup. With one, the verdict (``past_limit`` of the
        pickup) and every column read the pickup, never the horizon. Without one, it is flagged
        exactly when it is an undispatched candidate (never declared shipped, not cancelled or
        refunded) whose deadline plus grace is before the horizon, and then its ``hours_late``
        is measured to the horizon: the finding of every such order flagged at ``now`` changes
        (an order flagged at ``before`` is flagged at ``now``, later). So: the candidates past
        their limit at ``now``, picked up or not (a superset: the pickup is not looked up; in a
        season where every undispatched order is cancelled there are none). At ``as_of`` the
        horizon is not read: none."""
        o = tables.orders
        if judged_at_fixed_instant(params):
            return o.filter(ibis.literal(False)).select("order_id")
        default_h = int(params["default_dispatch_hours"])
        grace = int(params["grace_minutes"])
        late = _undispatched_candidate(o) & _past_limit(
            tables, o, instant_literal(now), default_h, grace
        )
        return o.filter(late).select("order_id")
