"""PRIZE001 prize-over-cap: a top prize, or one winner's prizes together, above the legal cap."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import cents, first_rows
from promoguard.engine.registry import register
from promoguard.model import PRIZE_KINDS


@register
class PrizeOverCap(Check):
    code = "PRIZE001"
    name = "prize-over-cap"
    title = "Top prize, or one winner's cumulative prizes, above the legal cap"
    family = "prizes"
    report_section = "coupons"  # shown beside the coupons, in one section
    entity_type = "prize_promotion"
    severity = "high"
    parameters = (
        Parameter(
            "cap", 50_000, "Highest lawful prize of a lottery-type promotion", "law", "currency"
        ),
        Parameter(
            "cap_currency",
            "CNY",
            "Currency the cap is stated in; promotions in another currency are not judged.",
            "law",
        ),
        Parameter(
            "capped_kinds",
            list(PRIZE_KINDS),
            "Prize-promotion kinds decided by chance (抽奖式), to which the cap applies.",
            "law",
        ),
        Parameter(
            "cumulative",
            True,
            "Also cap what one winner wins in one promotion, added up (the law caps the total of "
            "several chances on one ticket or purchase; without ticket data we add up per winner).",
            "policy",
        ),
    )
    doc = CheckDoc(
        what=(
            "For each lottery-type prize promotion in the cap's currency, flags it when its "
            "published top prize, any single award, or (with `cumulative`) the sum of one "
            "winner's awards in the promotion is above `cap`. Many small prizes to different "
            "winners are never added together: the cap is per prize and per winner, not on the "
            "pool."
        ),
        why=(
            "A lottery-type prize sale whose top prize exceeds ¥50,000 is unfair competition "
            "(反不正当竞争法 (2025) Art. 11); 规范促销行为暂行规定 Art. 17 sets the cap and counts "
            "as over it several chances on one ticket or purchase adding up past it."
        ),
        example=(
            "A 抽红包 game whose top envelope is ¥88,888 is flagged; so is one where a buyer wins "
            "¥20,000 three times. A buyer who wins five ¥8,888 prizes (¥44,440) is not, however "
            "large the whole pool."
        ),
    )
    observed_columns = ("top_prize_value", "largest_award", "largest_winner_total", "winner")
    expected_columns = ("cap", "cap_currency")
    reads = ("prize_promotions", "prize_awards")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        g = tables.prize_promotions
        a = tables.prize_awards
        cap_c = round(float(params["cap"]) * 100)
        g = g.filter(
            g.currency == str(params["cap_currency"]),
            g.kind.isin(tuple(params["capped_kinds"])),
        )
        per_winner = a.group_by(["prize_promotion_id", "buyer_id"]).aggregate(
            total_c=cents(a.prize_value).sum(), biggest_c=cents(a.prize_value).max()
        )
        worst = first_rows(
            per_winner,
            [per_winner.prize_promotion_id],
            [ibis.desc(per_winner.total_c), per_winner.buyer_id],
        )
        biggest = per_winner.group_by(w_id=per_winner.prize_promotion_id).aggregate(
            largest_c=per_winner.biggest_c.max()
        )
        worst = worst.select(
            p_id=worst.prize_promotion_id, winner=worst.buyer_id, total_c=worst.total_c
        )
        j = g.left_join(worst, g.prize_promotion_id == worst.p_id).left_join(
            biggest, g.prize_promotion_id == biggest.w_id
        )
        over = (cents(j.top_prize_value) > cap_c) | (j.largest_c.coalesce(0) > cap_c)
        if bool(params["cumulative"]):
            over = over | (j.total_c.coalesce(0) > cap_c)
        j = j.filter(over)
        return j.select(
            entity_id=j.prize_promotion_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            top_prize_value=j.top_prize_value,
            largest_award=j.largest_c / 100,
            largest_winner_total=j.total_c / 100,
            winner=j.winner,
            cap=ibis.literal(float(params["cap"])),
            cap_currency=ibis.literal(str(params["cap_currency"])),
        )

    def evidence(self, tables, found, params, ctx):
        a = tables.prize_awards
        f = found.select(f_id=found.entity_id, f_winner=found.winner)
        top = a.join(f, a.prize_promotion_id == f.f_id)
        # the leading winner's awards first, then the promotion's largest ones (20 at most)
        lead = (top.buyer_id == top.f_winner).fill_null(False).cast("int32")
        top = first_rows(
            top,
            [top.prize_promotion_id],
            [ibis.desc(lead), ibis.desc(top.prize_value), top.award_id],
            n=20,
        )
        return {
            "awards": top.select(
                entity_id=top.prize_promotion_id,
                award_id=top.award_id,
                buyer_id=top.buyer_id,
                prize_value=top.prize_value,
                awarded_at=top.awarded_at,
            )
        }

    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        values = [
            observed.get(k) or 0
            for k in ("top_prize_value", "largest_award", "largest_winner_total")
        ]
        return max(float(v) for v in values) - float(expected.get("cap", 0))
