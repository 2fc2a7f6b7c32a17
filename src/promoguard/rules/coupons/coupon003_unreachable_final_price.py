"""COUPON003 unreachable-final-price: a 到手价 lower than any single purchase can reach."""

from __future__ import annotations

import json
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from promoguard.engine.base import ChartLevel, Check, CheckDoc, ScanContext, Tables
from promoguard.engine.exact import cents, first_rows
from promoguard.engine.registry import register
from promoguard.rules.coupons._shared import (
    TOLERANCE,
    coupons_added,
    covers,
    discount_cents,
    in_force,
    tolerance_cents,
)

CLAIM_KEYS = ("listing_id", "observed_at", "channel")


def claims(tables: Tables) -> ir.Table:
    """Observations showing a 到手价, with the listing's place and the basket in cents."""
    po = tables.price_observations
    ls = tables.listings
    c = po.filter(po.final_price_claim.notnull()).join(ls, "listing_id")
    qty = c.final_price_qty.coalesce(1)
    return c.select(
        "listing_id",
        "observed_at",
        "channel",
        "merchant_id",
        "platform_id",
        "category",
        "price",
        "final_price_claim",
        qty=qty,
        basket_c=cents(c.price) * qty,
        claim_c=cents(c.final_price_claim) * qty,
    )


def coupon_offs(tables: Tables, cl: ir.Table) -> ir.Table:
    """Per (claim, coupon valid then for that listing): the cents it takes off the basket under
    the terms checkout enforced at that moment (the displayed ones where none is recorded)."""
    cp = tables.coupons
    shop = cl.join(cp.filter(cp.merchant_id.notnull()), "merchant_id")
    plat = cl.join(cp.filter(cp.merchant_id.isnull()), "platform_id")
    cols = [*CLAIM_KEYS, "category", "basket_c", "coupon_id", "valid_from", "valid_to"]
    pairs = shop.select(*cols).union(plat.select(*cols))
    pairs = pairs.filter(
        (pairs.valid_from <= pairs.observed_at) & (pairs.observed_at <= pairs.valid_to)
    )
    keys = [*CLAIM_KEYS, "coupon_id"]
    t = in_force(tables, pairs, keys, "observed_at", ("applied", "displayed"), prefer_applied=True)
    t = t.filter(
        covers(t.scope, t.category),
        t.terms_valid_to.isnull() | (t.observed_at <= t.terms_valid_to),
    )
    return t.mutate(
        off_c=discount_cents(t, t.basket_c),
        stacks=(t.stackable != False).fill_null(True),  # noqa: E712 -- unknown counts as stacking
    )


@register
class UnreachableFinalPrice(Check):
    code = "COUPON003"
    name = "unreachable-final-price"
    title = "Displayed final price (到手价) lower than any single purchase can reach"
    family = "coupons"
    entity_type = "listing"
    severity = "high"
    parameters = (TOLERANCE,)
    doc = CheckDoc(
        what=(
            "For every price observation showing a 到手价 (final_price_claim, per unit, for "
            "final_price_qty units bought together, else one), computes the cheapest price of that "
            "basket with the coupons valid at that moment for the listing (the platform's and the "
            "merchant's), under the terms checkout enforced then: each coupon's threshold met by "
            "the basket, its scope, its end, a per-buyer cap of 0 excluded, each coupon used once, "
            "and a coupon that does not stack used alone. Flags the listing when the claim times "
            "the basket is below that cheapest total by more than the tolerance. Every "
            "assumption is the one most favourable to the merchant (thresholds on the basket "
            "before coupons; unknown stacking counts as stacking), so a flagged claim is "
            "unreachable under any reading."
        ),
        why=(
            "A final price the buyer cannot get is a false price representation: luring buyers "
            "with a low price and settling at a higher one, or misleading price information, is "
            "price fraud (明码标价和禁止价格欺诈规定 Art. 19(2), 19(4)); how a coupon offsets "
            "the price must be as stated (规范促销行为暂行规定 Art. 22). Elsewhere a price that "
            "cannot be obtained is a misleading action."
        ),
        example=(
            "A ¥300 item shows 到手价 ¥190 = 300 - 50 (满300减50) - 60 (8折); the 8折 coupon does "
            "not stack, so the cheapest single purchase is ¥240. A ¥180 item showing 到手价 "
            "¥155/件 for 2 units (¥360 - 50) is reachable and not flagged."
        ),
    )
    observed_columns = ("observed_at", "price", "final_price_claim", "basket_qty", "claim_total")
    expected_columns = ("cheapest_total", "cheapest_per_unit", "coupons_valid")
    reads = ("price_observations", "listings", "coupons", "coupon_terms")
    depends_on = "merchant_delta"

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: a finding reads its listing's row, its 到手价 observations and the coupons
        (kept whole): new coupons or terms may change any; else only new listing rows and new
        observations showing a 到手价 do, their listings'."""
        if coupons_added(new):
            return None
        n, ls = new.price_observations, season.listings
        shown = n.filter(n.final_price_claim.notnull()).select("listing_id")
        return [
            new.listings.select("merchant_id"),
            ls.semi_join(shown, "listing_id").select("merchant_id"),
        ]

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        cl = claims(tables)
        offs = coupon_offs(tables, cl)
        best = offs.group_by(list(CLAIM_KEYS)).aggregate(
            best_single=offs.off_c.max(),
            stack_sum=offs.stacks.ifelse(offs.off_c, 0).sum(),
            coupons_valid=offs.coupon_id.count(),
        )
        j = cl.left_join(
            best,
            [
                cl.listing_id == best.listing_id,
                cl.observed_at == best.observed_at,
                cl.channel.identical_to(best.channel),
            ],
        )
        saving = ibis.greatest(j.best_single.coalesce(0), j.stack_sum.coalesce(0))
        saving = ibis.cases((saving > j.basket_c, j.basket_c), else_=saving)
        j = j.mutate(cheapest_c=j.basket_c - saving)
        j = j.filter(j.claim_c + tolerance_cents(params) < j.cheapest_c)
        j = j.mutate(gap_c=j.cheapest_c - j.claim_c)
        j = first_rows(j, [j.listing_id], [ibis.desc(j.gap_c), j.observed_at, j.channel])
        return j.select(
            entity_id=j.listing_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            observed_at=j.observed_at,
            channel=j.channel,
            price=j.price,
            final_price_claim=j.final_price_claim,
            basket_qty=j.qty,
            claim_total=j.claim_c / 100,
            cheapest_total=j.cheapest_c / 100,
            # per unit, rounded up to the cent: the lowest per-unit price that is reachable
            cheapest_per_unit=((j.cheapest_c + j.qty - 1) / j.qty).floor().cast("int64") / 100,
            coupons_valid=j.coupons_valid.coalesce(0),
        )

    def evidence(self, tables, found, params, ctx):
        cl = claims(tables)
        f = found.select(f_listing=found.entity_id, f_at=found.observed_at, f_channel=found.channel)
        cl = cl.join(
            f,
            [
                cl.listing_id == f.f_listing,
                cl.observed_at == f.f_at,
                cl.channel.identical_to(f.f_channel),
            ],
        )
        offs = coupon_offs(tables, cl.drop("f_listing", "f_at", "f_channel"))
        coupons = offs.select(
            entity_id=offs.listing_id,
            coupon_id=offs.coupon_id,
            terms_from=offs.effective_at,
            terms_source=offs.source,
            threshold_amount=offs.threshold_amount,
            face_value=offs.face_value,
            percent_off=offs.percent_off,
            stackable=offs.stackable,
            scope=offs.scope,
            discount_on_basket=offs.off_c / 100,
        )
        return {"coupons_valid_at_claim": coupons}

    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        return float(expected.get("cheapest_total", 0)) - float(observed.get("claim_total", 0))

    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        return [
            ChartLevel("到手价 claimed", observed.get("final_price_claim"), "claimed"),
            ChartLevel("cheapest reachable per unit", expected.get("cheapest_per_unit"), "lawful"),
        ]

    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """Each 到手价 claim beside the cheapest basket the valid coupons allow."""
        from promoguard.report.i18n import tr
        from promoguard.report.sections._html import cell, table

        if findings.empty:
            return ""
        rows = []
        for r in findings.itertuples(index=False):
            o, e = json.loads(r.observed), json.loads(r.expected)
            rows.append(
                [
                    r.entity_id,
                    r.merchant_id,
                    o.get("observed_at"),
                    o.get("price"),
                    o.get("final_price_claim"),
                    o.get("basket_qty"),
                    e.get("cheapest_per_unit"),
                    e.get("cheapest_total"),
                    e.get("coupons_valid"),
                ]
            )
        rows.sort(key=lambda x: (-(float(x[7] or 0) - float(x[4] or 0) * int(x[5] or 1)), x[0]))
        return (
            f"<h3>{cell(tr('{code}: 到手价 claimed vs the cheapest reachable basket', code=self.code))}</h3>"
            + table(
                [
                    "listing",
                    "merchant",
                    "seen at",
                    "price",
                    "到手价 claimed",
                    "units",
                    "cheapest per unit",
                    "cheapest basket",
                    "coupons valid",
                ],
                rows[:50],
                numeric=(3, 4, 5, 6, 7, 8),
            )
        )
