"""PRIZE003 rules-changed-after-launch: prize rules changed after publication, not in buyers' favour."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register


@register
class RulesChangedAfterLaunch(Check):
    code = "PRIZE003"
    name = "prize-rules-changed-after-launch"
    title = "Prize rules changed after launch, not in the buyer's favour"
    family = "prizes"
    report_section = "coupons"  # shown beside the coupons, in one section
    entity_type = "prize_promotion"
    severity = "high"
    parameters = (
        Parameter(
            "from",
            "announced",
            "From when the rules are fixed: announced (published; the start when no "
            "announcement is recorded) or started (the promotion's start).",
            "law",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags a prize promotion whose rules_changed_at is after its announcement (or start, "
            "per `from`) unless the change is recorded as in the buyers' favour "
            "(change_favours_buyer true). A change of unknown direction is flagged: the exception "
            "is for changes shown to favour consumers."
        ),
        why=(
            "The published prize information may not be changed afterwards, except in consumers' "
            "favour (规范促销行为暂行规定 Art. 13); changing prize kinds, redemption conditions, "
            "amounts or prizes after a prize sale began without good reason is unfair "
            "competition (反不正当竞争法 (2025) Art. 11)."
        ),
        example=(
            "A team-bonus game announced on 10-25 cuts its pool on 11-09. Adding prizes on 11-09 "
            "(in the buyers' favour), or editing the rules before the 10-25 announcement, is not "
            "flagged."
        ),
    )
    observed_columns = ("rules_changed_at", "change_favours_buyer")
    expected_columns = ("rules_fixed_from",)
    reads = ("prize_promotions",)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        g = tables.prize_promotions
        fixed = g.starts_at if params["from"] == "started" else g.announced_at.coalesce(g.starts_at)
        g = g.mutate(rules_fixed_from=fixed)
        g = g.filter(
            g.rules_changed_at.notnull(),
            g.rules_changed_at > g.rules_fixed_from,
            ~g.change_favours_buyer.fill_null(False),
        )
        return g.select(
            entity_id=g.prize_promotion_id,
            merchant_id=g.merchant_id,
            platform_id=g.platform_id,
            rules_changed_at=g.rules_changed_at,
            change_favours_buyer=g.change_favours_buyer,
            rules_fixed_from=g.rules_fixed_from,
        )
