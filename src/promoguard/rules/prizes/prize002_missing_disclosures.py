"""PRIZE002 missing-disclosures: a prize promotion running without the items it must publish."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.registry import register
from promoguard.model import PRIZE_DISCLOSURE_ITEMS


@register
class MissingDisclosures(Check):
    code = "PRIZE002"
    name = "missing-prize-disclosures"
    title = "Prize promotion running without the mandatory disclosures"
    family = "prizes"
    report_section = "coupons"  # shown beside the coupons, in one section
    entity_type = "prize_promotion"
    severity = "medium"
    parameters = (
        Parameter(
            "required_items",
            list(PRIZE_DISCLOSURE_ITEMS),
            "Items a prize promotion must publish before it runs (names as in "
            "prize_promotions.disclosed_items).",
            "law",
        ),
        Parameter(
            "before_start",
            False,
            "Also flag a promotion announced (announced_at) after it started: its items were not "
            "published while it ran (reported as the item published_before_start). A promotion "
            "with no announcement time recorded is judged on its items alone. On in the cn pack "
            "(Art. 13: published before the sale).",
            "law",
        ),
    )
    doc = CheckDoc(
        what=(
            "Reads each prize promotion's disclosed_items (items separated by ';' or '；', "
            "compared without case or spaces, in any order) and flags the promotion when any "
            "required item is missing, or nothing is recorded as published, or (with "
            "`before_start`) it was announced only after it started."
        ),
        why=(
            "Before a prize sale the organiser must publish the prize kinds, conditions and "
            "method of taking part, draw time and method, amounts, prize names, kinds and "
            "number or odds, redemption time, conditions and method, delivery, forfeit "
            "conditions, and the organiser with its contact (规范促销行为暂行规定 Art. 13); prizes "
            "paid as coupons or points also their rules, scope and validity (Art. 14). Prize "
            "information so unclear that it affects redemption is unfair competition "
            "(反不正当竞争法 (2025) Art. 11)."
        ),
        example=(
            "A 抽红包 game publishes its prizes and draw time but neither odds nor how to redeem. "
            "One that lists every item as 'Organiser ; CONTACT；prize_kinds;...' in its own "
            "order is complete."
        ),
    )
    observed_columns = ("missing_items", "disclosed_items")
    expected_columns = ("required_count",)
    reads = ("prize_promotions",)

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        g = tables.prize_promotions
        required = [str(x).strip().lower() for x in params["required_items"]]
        norm = g.disclosed_items.coalesce("").lower().replace("；", ";").re_replace(r"\s+", "")
        listed = ";" + norm + ";"
        missing = ibis.literal("")
        for item in required:
            missing = missing + ibis.cases((listed.contains(f";{item};"), ""), else_=f"{item};")
        if bool(params.get("before_start", False)):
            late = (g.announced_at > g.starts_at).fill_null(False)
            missing = missing + ibis.cases((late, "published_before_start;"), else_="")
        g = g.mutate(missing_items=missing)
        g = g.filter(g.missing_items != "")
        return g.select(
            entity_id=g.prize_promotion_id,
            merchant_id=g.merchant_id,
            platform_id=g.platform_id,
            missing_items=g.missing_items,
            disclosed_items=g.disclosed_items,
            required_count=ibis.literal(len(required)),
        )

    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        return float(len([x for x in str(observed.get("missing_items", "")).split(";") if x]))
