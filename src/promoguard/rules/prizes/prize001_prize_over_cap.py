"""PRIZE001 prize-over-cap: a top prize, or one winner's prizes together, above the legal cap."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import cents, first_rows
from promoguard.engine.registry import register
from promoguard.model import PRIZE_KINDS
from promoguard.rules._relations import graded


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
            "Currency the cap is stated in.",
            "law",
        ),
        Parameter(
            "floor_rates",
            {"USD": 6.0, "EUR": 6.5, "GBP": 7.0, "HKD": 0.75, "JPY": 0.04},
            "Units of the cap's currency per unit of another currency, set below any rate in force "
            "since 2015, so that a prize over the cap at this rate is over it at any real one; "
            "promotions in a currency not listed are not judged.",
            "policy",
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
            "Also cap what one winner wins added up: awards made at the same moment (several "
            "chances on one ticket or purchase, which the law adds up) at the pack's severity; "
            "awards from separate moments, which the law does not add up, at low severity with "
            "the reason (a lead: without ticket data, one winner's total is what we can see).",
            "policy",
        ),
    )
    doc = CheckDoc(
        what=(
            "For each lottery-type prize promotion, flags it when its published top prize, any "
            "single award, or (with `cumulative`) the sum of one winner's awards made at the same "
            "moment is above `cap`; one winner's awards from separate moments adding up past it "
            "are reported at low severity with the reason. A promotion in another currency is "
            "converted at `floor_rates`. Many small prizes to different winners are never added "
            "together: the cap is per prize and per winner, not on the pool."
        ),
        why=(
            "A lottery-type prize sale whose top prize exceeds ¥50,000 is unfair competition "
            "(反不正当竞争法 (2025) Art. 11); 规范促销行为暂行规定 Art. 17 sets the cap and counts "
            "as over it several chances on one ticket or purchase adding up past it."
        ),
        example=(
            "A 抽红包 game whose top envelope is ¥88,888 is flagged; so is one where a buyer wins "
            "¥20,000 three times in one draw (low when the three wins are on separate days), and a "
            "US$10,000 top prize (¥60,000 at the floor rate). A buyer who wins five ¥8,888 "
            "prizes (¥44,440) is not, however large the whole pool."
        ),
    )
    observed_columns = (
        "currency",
        "top_prize_value",
        "largest_award",
        "largest_same_moment_total",
        "same_moment_winner",
        "largest_winner_total",
        "winner",
    )
    expected_columns = ("cap", "cap_currency", "floor_rate")
    reads = ("prize_promotions", "prize_awards")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        g = tables.prize_promotions
        a = tables.prize_awards
        cap_currency = str(params["cap_currency"]).strip().upper()
        # per currency, the most cents of it that stay within the cap at its floor rate: integer
        # comparisons only (engine parity, no overflow), exact for any rate (Decimal)
        cap_c = round(Decimal(str(params["cap"])) * 100)
        rates = {str(k).strip().upper(): Decimal(str(v)) for k, v in params["floor_rates"].items()}
        rates[cap_currency] = Decimal(1)
        within = {k: int(cap_c / r) for k, r in sorted(rates.items()) if r > 0}
        currency = g.currency.strip().upper()
        limit = ibis.cases(*((currency == k, v) for k, v in within.items()), else_=None)
        rate = ibis.cases(*((currency == k, float(rates[k])) for k in within), else_=None)
        g = g.mutate(within_c=limit.cast("int64"), floor_rate=rate.cast("float64"))
        g = g.filter(g.within_c.notnull(), g.kind.isin(tuple(params["capped_kinds"])))
        # per winner and moment (one ticket or purchase, as near as the data comes), then per
        # winner: one pass over the awards
        by_moment = a.group_by(["prize_promotion_id", "buyer_id", "awarded_at"]).aggregate(
            moment_c=cents(a.prize_value).sum(), biggest_c=cents(a.prize_value).max()
        )
        per_winner = by_moment.group_by(["prize_promotion_id", "buyer_id"]).aggregate(
            total_c=by_moment.moment_c.sum(),
            biggest_c=by_moment.biggest_c.max(),
            moment_c=by_moment.moment_c.max(),
        )
        p_id = per_winner.prize_promotion_id
        # the winner with the largest total, and the one with the most at one moment
        worst = first_rows(
            per_winner, [p_id], [ibis.desc(per_winner.total_c), per_winner.buyer_id]
        ).select(p_id=p_id, winner=per_winner.buyer_id, total_c=per_winner.total_c)
        at_once = first_rows(
            per_winner,
            [p_id],
            [ibis.desc(per_winner.moment_c), ibis.desc(per_winner.total_c), per_winner.buyer_id],
        ).select(o_id=p_id, moment_winner=per_winner.buyer_id, moment_c=per_winner.moment_c)
        biggest = per_winner.group_by(w_id=p_id).aggregate(largest_c=per_winner.biggest_c.max())
        j = (
            g.left_join(worst, g.prize_promotion_id == worst.p_id)
            .left_join(biggest, g.prize_promotion_id == biggest.w_id)
            .left_join(at_once, g.prize_promotion_id == at_once.o_id)
        )
        cumulative = bool(params["cumulative"])
        over_law = (cents(j.top_prize_value) > j.within_c) | (j.largest_c.coalesce(0) > j.within_c)
        if cumulative:
            over_law = over_law | (j.moment_c.coalesce(0) > j.within_c)
        over_winner = ibis.literal(cumulative) & (j.total_c.coalesce(0) > j.within_c)
        j = j.mutate(_law=over_law.fill_null(False), _winner=over_winner.fill_null(False))
        j = j.filter(j._law | j._winner)
        return j.select(
            entity_id=j.prize_promotion_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            currency=j.currency,
            top_prize_value=j.top_prize_value,
            largest_award=j.largest_c / 100,
            largest_same_moment_total=j.moment_c / 100,
            same_moment_winner=j.moment_winner,
            largest_winner_total=j.total_c / 100,
            winner=j.winner,
            cap=ibis.literal(float(params["cap"])),
            cap_currency=ibis.literal(cap_currency),
            floor_rate=j.floor_rate,
            **graded(
                ~j._law,
                "one winner's prizes add up past the cap only across separate draws: the law "
                "adds up the chances of one ticket or purchase (规范促销行为暂行规定 Art. 17), so "
                "the tickets are to be checked",
            ),
        )

    def evidence(self, tables, found, params, ctx):
        a = tables.prize_awards
        f = found.select(
            f_id=found.entity_id, f_winner=found.winner, f_moment=found.same_moment_winner
        )
        top = a.join(f, a.prize_promotion_id == f.f_id)
        # the leading winners' awards first, then the promotion's largest ones (20 at most)
        lead = (
            ((top.buyer_id == top.f_winner) | (top.buyer_id == top.f_moment))
            .fill_null(False)
            .cast("int32")
        )
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
        keys = ["top_prize_value", "largest_award", "largest_same_moment_total"]
        if observed.get("severity_reason"):  # only a winner's separate draws are over
            keys.append("largest_winner_total")
        values = [observed.get(k) or 0 for k in keys]
        rate = float(expected.get("floor_rate") or 1)
        return max(float(v) for v in values) * rate - float(expected.get("cap", 0))
