"""Coupons and prize promotions: each coupon's terms over time (shown beside applied), each 到手价
claim beside the cheapest basket the valid coupons allow, and the prize promotions flagged."""

from __future__ import annotations

import json
from html import escape

import duckdb
import pandas as pd
from markupsafe import Markup

from promoguard import present
from promoguard.engine import registry
from promoguard.report.i18n import rule_title, tr
from promoguard.report.sections._html import table

TITLE = "Coupons and prize promotions"
ORDER = 15
SECTION = "coupons"
TOP = 20


def _generic(rule, mine: pd.DataFrame) -> str:
    """The first findings of a rule with no block of its own: entity, merchant and what was seen."""
    rows = []
    for r in mine.sort_values("entity_id").head(TOP).itertuples(index=False):
        observed = {k: v for k, v in json.loads(r.observed).items() if v not in (None, "")}
        seen = Markup(present.sentence_html(observed))
        rows.append([r.entity_id, r.merchant_id or tr("(platform)"), r.severity, seen])
    title = rule_title(rule.code, rule.title)
    return f"<h3>{escape(rule.code)}: {escape(title)}</h3>" + table(
        ["entity", "merchant", "severity", "observed"], rows
    )


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    rules = registry.for_section(SECTION)
    mine = findings[findings.check_code.isin([r.code for r in rules])]
    if mine.empty:
        return None
    counts = mine.groupby("check_code").entity_id.nunique()
    out = [
        table(
            ["check", "what it flags", "findings"],
            [[r.code, rule_title(r.code, r.title), int(counts.get(r.code, 0))] for r in rules],
            numeric=[2],
        )
    ]
    for rule in rules:
        theirs = mine[mine.check_code == rule.code]
        if theirs.empty:
            continue
        block = rule.report_html(con, theirs)
        out.append(block or _generic(rule, theirs))
    return "\n".join(out)
