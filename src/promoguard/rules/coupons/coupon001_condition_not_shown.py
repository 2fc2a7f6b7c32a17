"""COUPON001 condition-not-shown: a condition checkout applies was not shown, or shown weakly."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules.coupons._shared import in_force
from promoguard.rules.coupons._timeline import CouponTimeline

WEAK = ("fine_print", "none")


@register
class ConditionNotShown(CouponTimeline):
    code = "COUPON001"
    name = "condition-not-shown"
    title = "A coupon condition applied at checkout was not shown, or shown weakly"
    family = "coupons"
    entity_type = "coupon"
    severity = "high"
    parameters = (
        Parameter(
            "weak_disclosures",
            list(WEAK),
            "Ways of showing a condition that do not count as showing it clearly (the displayed "
            "terms' disclosure): fine print, or not at all.",
            basis="law",
        ),
    )
    doc = CheckDoc(
        what=(
            "At every moment a coupon's terms change (either the version shown to buyers or the "
            "version checkout enforces), puts the displayed terms in force then beside the applied "
            "ones. Flags the coupon when checkout applied a condition the buyer was not shown: a "
            "threshold higher than shown (or one never shown), a narrower scope, an earlier end, "
            "a lower cap on uses, no stacking where stacking was shown, or a smaller face value or "
            "percentage; or when a restricting condition was shown only in fine print or not at "
            "all."
        ),
        why=(
            "Not showing, or showing weakly, price conditions unfavourable to the buyer to draw "
            "them into a purchase is price fraud (明码标价和禁止价格欺诈规定 Art. 19(6)); a "
            "platform promotion's published rules must match the real ones (Art. 20(2)); a "
            "promotion's restrictive conditions must be published and shown prominently "
            "(规范促销行为暂行规定 Arts. 7, 20). Elsewhere hiding or obscuring material "
            "conditions is a misleading omission."
        ),
        example=(
            "A '¥100 red envelope' banner shows no threshold; at checkout the envelope needs a "
            "basket of ¥999. A coupon whose threshold is on the page in a tooltip (shown, "
            "prominent, equal to what checkout applies) is not flagged."
        ),
    )
    observed_columns = (
        "moment",
        "conditions",
        "shown_threshold",
        "shown_scope",
        "shown_valid_to",
        "disclosure",
        "shown_text",
        "shown_since",
    )
    expected_columns = (
        "applied_threshold",
        "applied_scope",
        "applied_valid_to",
        "applied_since",
    )
    reads = ("coupons", "coupon_terms")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        weak = tuple(params["weak_disclosures"])
        c = tables.coupons
        tt = tables.coupon_terms
        # every moment a version of either kind starts, within the coupon's life
        moments = tt.select(coupon_id=tt.coupon_id, moment=tt.effective_at).distinct()
        moments = moments.join(c, "coupon_id").filter(lambda m: m.moment <= m.valid_to)
        moments = moments.select(
            "coupon_id", "moment", "merchant_id", "platform_id", c_valid_to=moments.valid_to
        )
        keys = ["coupon_id", "moment"]
        applied = in_force(tables, moments, keys, "moment", ("applied",))
        shown = in_force(
            tables, moments.select("coupon_id", "moment"), keys, "moment", ("displayed",)
        )
        shown = shown.select(
            s_coupon_id=shown.coupon_id,
            s_moment=shown.moment,
            s_since=shown.effective_at,
            s_face=shown.face_c,
            s_pct=shown.pct_h,
            s_thr=shown.thr_c,
            s_threshold=shown.threshold_amount,
            s_max=shown.max_c,
            s_scope=shown.scope,
            s_stack=shown.stackable,
            s_cap=shown.per_buyer_cap,
            s_valid_to=shown.terms_valid_to,
            s_disclosure=shown.disclosure,
            s_text=shown.shown_text,
        )
        j = applied.left_join(
            shown, [applied.coupon_id == shown.s_coupon_id, applied.moment == shown.s_moment]
        )
        a_end = ibis.least(j.terms_valid_to.coalesce(j.c_valid_to), j.c_valid_to)
        s_end = ibis.least(j.s_valid_to.coalesce(j.c_valid_to), j.c_valid_to)
        a_scope = j.scope.coalesce("all")
        s_scope = j.s_scope.coalesce("all")
        restricting = (
            j.thr_c.notnull()
            | (a_scope != "all")
            | j.per_buyer_cap.notnull()
            | (j.stackable == False)  # noqa: E712 -- an Ibis comparison, not a Python one
        )
        tests = [
            ("threshold", j.thr_c.coalesce(0) > j.s_thr.coalesce(0)),
            ("scope", (a_scope != "all") & (s_scope != a_scope)),
            ("validity", a_end < s_end),
            (
                "per_buyer_cap",
                j.per_buyer_cap.notnull() & (j.s_cap.isnull() | (j.per_buyer_cap < j.s_cap)),
            ),
            ("stacking", (j.stackable == False) & (j.s_stack.coalesce(True) == True)),  # noqa: E712
            ("face_value", j.face_c.notnull() & j.s_face.notnull() & (j.face_c < j.s_face)),
            ("percent_off", j.pct_h.notnull() & j.s_pct.notnull() & (j.pct_h < j.s_pct)),
            ("max_discount", j.max_c.notnull() & (j.s_max.isnull() | (j.max_c < j.s_max))),
            ("shown_weakly", restricting & j.s_disclosure.coalesce("none").isin(weak)),
        ]
        conditions = ibis.literal("")
        any_bad = ibis.literal(False)
        for label, test in tests:
            hit = test.fill_null(False)
            conditions = conditions + ibis.cases((hit, f"{label};"), else_="")
            any_bad = any_bad | hit
        j = j.mutate(conditions=conditions, _bad=any_bad, a_end=a_end, s_end=s_end)
        j = j.filter(j._bad)
        j = first_rows(j, [j.coupon_id], [j.moment])
        return j.select(
            entity_id=j.coupon_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            moment=j.moment,
            conditions=j.conditions,
            shown_threshold=j.s_threshold,
            shown_scope=j.s_scope,
            shown_valid_to=j.s_end,
            disclosure=j.s_disclosure,
            shown_text=j.s_text,
            shown_since=j.s_since,
            applied_threshold=j.threshold_amount,
            applied_scope=j.scope,
            applied_valid_to=j.a_end,
            applied_since=j.effective_at,
        )

    def evidence(self, tables, found, params, ctx):
        return self.timeline_evidence(tables, found)
