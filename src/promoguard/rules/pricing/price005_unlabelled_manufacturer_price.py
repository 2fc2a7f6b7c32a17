"""PRICE005 unlabelled-manufacturer-price: Comparison with the manufacturer's suggested price not labelled as one."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from promoguard.engine.base import ChartLevel, Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules.pricing._shared import MSRP_LABELS, _is_msrp_label, _money, levels


@register
class UnlabelledManufacturerPrice(Check):
    code = "PRICE005"
    depends_on = "merchant_delta"
    name = "unlabelled-manufacturer-price"
    title = "Comparison with the manufacturer's suggested price not labelled as one"
    family = "pricing"
    entity_type = "listing"
    severity = "medium"
    # 2: the listing's title is quoted with its identifiers masked (a title may carry a number)
    evidence_version = "2"
    masked_evidence = {"listing": ("title",)}
    parameters = (
        Parameter(
            "msrp_labels",
            list(MSRP_LABELS),
            "Reference labels that say the reference is a manufacturer's suggested price "
            "(compared case-insensitively, spaces trimmed)",
            basis="law",
        ),
        Parameter(
            "tolerance",
            0.0,
            "How far the reference may be from the MSRP and still be it",
            unit="currency",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags a listing whose struck-through reference price equals its manufacturer's "
            "suggested retail price (listings.msrp) while the reference label is not an MSRP "
            "label (e.g. 原价, was, or no label)."
        ),
        why=(
            "A comparison with the manufacturer's suggested price must say so (明码标价和禁止价格"
            "欺诈规定 Art. 16 ¶3); passing the MSRP off as the seller's own former price makes "
            "buyers believe in a reduction that never happened."
        ),
        example="Listing MSRP ¥399; the page shows ¥299 with '原价 ¥399'.",
    )
    observed_columns = ("reference_price", "reference_label", "observed_at")
    expected_columns = ("msrp",)
    reads = ("price_observations", "listings")
    requires = ("price_observations", "listings.msrp")

    # -- report ---------------------------------------------------------------------------------
    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        return levels(
            ("MSRP", expected.get("msrp"), "context"),
            ("reference", observed.get("reference_price"), "claimed"),
        )

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: a finding (and its evidence) reads its listing's row and its observations
        with a reference price, and a listing without an MSRP has none: new listing rows, and
        new observations with a reference price of a listing with an MSRP."""
        n = new.price_observations
        ls = season.listings
        ref = n.filter(n.reference_price.notnull()).select("listing_id")
        hit = ls.filter(ls.msrp.notnull()).semi_join(ref, "listing_id").select("merchant_id")
        return [new.listings.select("merchant_id"), hit]

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        po = tables.price_observations
        ls = tables.listings.filter(lambda t: t.msrp.notnull())
        j = po.filter(po.reference_price.notnull()).join(ls, po.listing_id == ls.listing_id)
        tol = _money(params["tolerance"])
        j = j.filter(
            (j.reference_price - j.msrp).abs() <= tol,
            ~_is_msrp_label(j.reference_label, params["msrp_labels"]),
        )
        t = j.select(
            entity_id=j.listing_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            reference_price=j.reference_price,
            reference_label=j.reference_label,
            observed_at=j.observed_at,
            msrp=j.msrp,
            channel=j.channel,
        )
        first = first_rows(t, [t.entity_id], [t.observed_at, t.channel.fill_null("")])
        return first.drop("channel")

    def evidence(self, tables, found, params, ctx):
        po = tables.price_observations
        ls = tables.listings
        f = found.select("entity_id")
        obs = f.join(po, [f.entity_id == po.listing_id, po.reference_price.notnull()])
        lst = f.join(ls, f.entity_id == ls.listing_id)
        # bounded: the labelled observations of one listing over a season are a few hundred rows
        return {
            "listing": lst.select("entity_id", "title", "msrp", "currency"),
            "reference_observations": obs.select(
                "entity_id", "observed_at", "channel", "price", "reference_price", "reference_label"
            ),
        }
