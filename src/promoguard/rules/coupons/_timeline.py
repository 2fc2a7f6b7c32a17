"""A coupon's terms over time, displayed beside applied: the evidence and the report block of the
rules that judge a coupon's terms (COUPON001, COUPON002)."""

from __future__ import annotations

import json
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from promoguard.engine.base import Check, Tables

#: coupons whose timeline the report draws per rule (the rest are in the findings table)
TIMELINES = 10
TERM_FIELDS = (
    "face_value",
    "percent_off",
    "threshold_amount",
    "max_discount",
    "scope",
    "stackable",
    "per_buyer_cap",
    "valid_to",
    "disclosure",
    "shown_text",
)


class CouponTimeline(Check):
    """Base of the rules whose finding is a coupon: evidence = every version of its terms."""

    def timeline_evidence(self, tables: Tables, found: ir.Table) -> dict[str, ir.Table]:
        t = tables.coupon_terms
        c = tables.coupons
        ids = found.select(entity_id=found.entity_id)
        terms = t.join(ids, t.coupon_id == ids.entity_id).select(
            "entity_id", "effective_at", "source", *TERM_FIELDS
        )
        coupon = c.join(ids, c.coupon_id == ids.entity_id).select(
            "entity_id", "kind", "announced_at", "valid_from", valid_to_coupon=c.valid_to
        )
        return {"coupon": coupon, "terms_over_time": terms}

    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        return float(len([x for x in str(observed.get("conditions", "")).split(";") if x]))

    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """Each flagged coupon's terms as a timeline: at each moment a version starts, what was
        shown and what checkout applied, side by side."""
        from promoguard import present
        from promoguard.report.i18n import tr, word
        from promoguard.report.sections._html import cell, table

        if findings.empty:
            return ""
        ids = sorted(findings.entity_id.astype(str).unique().tolist())[:TIMELINES]
        rows = con.execute(
            "SELECT coupon_id, effective_at, source, threshold_amount, face_value, percent_off, "
            "max_discount, scope, stackable, per_buyer_cap, valid_to, disclosure, shown_text "
            "FROM coupon_terms WHERE list_contains(?, coupon_id) "
            "ORDER BY coupon_id, effective_at, source",
            [ids],
        ).fetchall()
        first = {str(r.entity_id): json.loads(r.observed) for r in findings.itertuples(index=False)}
        head = tr(
            "{code}: terms over time ({n} coupons; the first {shown} shown)",
            code=self.code,
            n=len(findings),
            shown=len(ids),
        )
        out = [f"<h3>{cell(head)}</h3>"]
        for cid in ids:
            mine = [r for r in rows if r[0] == cid]
            by_moment: dict[Any, dict[str, tuple]] = {}
            for r in mine:
                by_moment.setdefault(r[1], {})[r[2]] = r
            body = []
            for moment in sorted(by_moment):
                d = by_moment[moment].get("displayed")
                a = by_moment[moment].get("applied")
                body.append(
                    [
                        moment,
                        _terms(d) if d else tr("(unchanged)"),
                        word(d[11], d[11]) if d and d[11] else "",
                        _terms(a) if a else tr("(unchanged)"),
                    ]
                )
            note = first.get(cid, {})
            what = note.get("conditions") or note.get("changes") or ""
            what = cell(present.value_words("conditions", what))
            out.append(f'<h4>{cell(cid)} — <span translate="no">{what}</span></h4>')
            out.append(table(["from", "shown to buyers", "how shown", "applied at checkout"], body))
        return "\n".join(out)


def _terms(r: tuple) -> str:
    """One version's terms in words: 满300减50, 10% off (max 30), scope, stacking, cap, end."""
    _, _, _, thr, face, pct, cap_amount, scope, stack, per_buyer, valid_to, _, text = r
    from promoguard.report.i18n import tr, word

    parts = []
    if face is not None:
        parts.append(tr("{amount} off", amount=face))
    if pct is not None:
        cap = tr(" (max {cap})", cap=cap_amount) if cap_amount is not None else ""
        parts.append(tr("{pct}% off", pct=pct) + cap)
    parts.append(tr("threshold {amount}", amount=thr) if thr is not None else tr("no threshold"))
    if scope not in (None, "all"):
        parts.append(tr("only {scope}", scope=word(str(scope), str(scope))))
    if stack is False:
        parts.append(tr("does not stack"))
    if per_buyer is not None:
        parts.append(tr("{n} per buyer", n=per_buyer))
    if valid_to is not None:
        parts.append(tr("until {at}", at=valid_to))
    return ", ".join(str(p) for p in parts) + (f" «{text}»" if text else "")
