"""COUPON002 terms-worsened: a coupon's published terms changed to the buyer's detriment after launch."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules.coupons._shared import terms_cents
from promoguard.rules.coupons._timeline import CouponTimeline


@register
class TermsWorsened(CouponTimeline):
    code = "COUPON002"
    name = "terms-worsened-after-launch"
    title = "Coupon terms changed to the buyer's detriment after they were announced"
    family = "coupons"
    entity_type = "coupon"
    severity = "high"
    parameters = (
        Parameter(
            "sources",
            ["displayed"],
            "Which versions of the terms count as the published ones: displayed (what buyers were "
            "shown). A change only checkout made is COUPON001's finding (shown and applied differ).",
            basis="law",
        ),
    )
    doc = CheckDoc(
        what=(
            "Compares each published version of a coupon's terms with the one before it. Flags the "
            "coupon when a version starting after the coupon was announced (its announced_at, else "
            "its first published version) is worse for the buyer in any way: a higher threshold, a "
            "smaller face value, percentage or cap on the discount, a narrower scope, no stacking, "
            "fewer uses per buyer, or an earlier end. Changes in the buyer's favour (a lower "
            "threshold, a bigger discount, a later end) and drafts changed before the announcement "
            "are not flagged."
        ),
        why=(
            "Once announced, a promotion's scope and rules are a price commitment: changing them "
            "against buyers who relied on them makes the published rules differ from the real "
            "ones (明码标价和禁止价格欺诈规定 Art. 20(2)) and breaks the promise made "
            "(规范促销行为暂行规定 Art. 6; Art. 19(5) 不履行价格承诺). Elsewhere it misleads buyers "
            "about the price advantage."
        ),
        example=(
            "A platform announces 满300减50 on 10-31 and, on 11-09, raises the threshold to ¥400 "
            "for the same coupon. Lowering it to ¥250 instead is not flagged."
        ),
    )
    observed_columns = ("changed_at", "changes", "threshold_after", "face_value_after")
    expected_columns = ("announced_at", "threshold_before", "face_value_before")
    reads = ("coupons", "coupon_terms")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        c = tables.coupons
        t = terms_cents(tables)
        t = t.filter(t.source.isin(tuple(params["sources"])))
        t = t.join(c, t.t_coupon_id == c.coupon_id)
        w = ibis.window(group_by=t.coupon_id, order_by=[t.effective_at, t.source])
        first_shown = t.effective_at.min().over(ibis.window(group_by=t.coupon_id))
        end = ibis.least(t.terms_valid_to.coalesce(t.valid_to), t.valid_to)
        t = t.mutate(
            announced=t.announced_at.coalesce(first_shown),
            end=end,
            p_thr=t.thr_c.lag().over(w),
            p_face=t.face_c.lag().over(w),
            p_pct=t.pct_h.lag().over(w),
            p_max=t.max_c.lag().over(w),
            p_scope=t.scope.lag().over(w),
            p_stack=t.stackable.lag().over(w),
            p_cap=t.per_buyer_cap.lag().over(w),
            p_end=end.lag().over(w),
            p_threshold=t.threshold_amount.lag().over(w),
            p_face_value=t.face_value.lag().over(w),
            p_effective=t.effective_at.lag().over(w),
        )
        scope, p_scope = t.scope.coalesce("all"), t.p_scope.coalesce("all")
        tests = [
            ("threshold raised", t.thr_c.coalesce(0) > t.p_thr.coalesce(0)),
            ("face value cut", t.face_c.notnull() & t.p_face.notnull() & (t.face_c < t.p_face)),
            ("percentage cut", t.pct_h.notnull() & t.p_pct.notnull() & (t.pct_h < t.p_pct)),
            ("discount cap lowered", t.max_c.notnull() & (t.p_max.isnull() | (t.max_c < t.p_max))),
            ("scope narrowed", (scope != "all") & (scope != p_scope)),
            ("stacking withdrawn", (t.stackable == False) & (t.p_stack.coalesce(True) == True)),  # noqa: E712
            (
                "uses per buyer cut",
                t.per_buyer_cap.notnull() & (t.p_cap.isnull() | (t.per_buyer_cap < t.p_cap)),
            ),
            ("ends earlier", t.end < t.p_end),
        ]
        changes = ibis.literal("")
        worse = ibis.literal(False)
        for label, test in tests:
            hit = test.fill_null(False)
            changes = changes + ibis.cases((hit, f"{label};"), else_="")
            worse = worse | hit
        t = t.mutate(changes=changes, _worse=worse)
        t = t.filter(t.p_effective.notnull(), t.effective_at > t.announced, t._worse)
        t = first_rows(t, [t.coupon_id], [t.effective_at, t.source])
        return t.select(
            entity_id=t.coupon_id,
            merchant_id=t.merchant_id,
            platform_id=t.platform_id,
            changed_at=t.effective_at,
            changes=t.changes,
            threshold_after=t.threshold_amount,
            face_value_after=t.face_value,
            announced_at=t.announced,
            threshold_before=t.p_threshold,
            face_value_before=t.p_face_value,
        )

    def evidence(self, tables, found, params, ctx):
        return self.timeline_evidence(tables, found)
