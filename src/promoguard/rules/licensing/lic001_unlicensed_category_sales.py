"""LIC001 unlicensed-category-sales: a merchant selling in a licensed category without a licence
valid for the sale.

Relational Ibis (runs the same on DuckDB and Spark). The category-to-licence map is a parameter of
the pack, because which goods need which permit is a matter of each jurisdiction's law.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from promoguard.engine.base import Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules._relations import graded

#: offending orders kept in a finding's evidence (the earliest ones)
MAX_EVIDENCE_ORDERS = 50


def licence_map(*maps: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """category -> licence types any one of which permits selling it (a string or a list).

    Several maps (the law's and policy's) are merged: a category named in both accepts a type
    from either.
    """
    out: dict[str, set[str]] = {}
    for raw in maps:
        for category, types in (raw or {}).items():
            if isinstance(types, str):
                types = [types]
            # compared trimmed and without case, as the rows are (an export's Food, FOOD_BUSINESS)
            key = str(category).strip().lower()
            out.setdefault(key, set()).update(str(t).strip().lower() for t in types or ())
    return {c: tuple(sorted(t)) for c, t in sorted(out.items()) if t}


def _params_map(params: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return licence_map(params["category_licences"], params.get("policy_category_licences"))


def _required_types(category: ir.StringValue, cmap: dict[str, tuple[str, ...]]) -> ir.StringValue:
    return ibis.cases(*[(category == c, "|".join(t)) for c, t in cmap.items()])


def _licensed_sales(
    tables: Tables, cmap: dict[str, tuple[str, ...]], orders: ir.Table | None = None
) -> ir.Table:
    """Orders (``orders``, else all) of listings in a category the map names, with the category."""
    o, ls = (tables.orders if orders is None else orders), tables.listings
    cat = ls.select(c_listing_id=ls.listing_id, category=ls.category.strip().lower()).distinct(
        on="c_listing_id", keep="first"
    )
    j = o.join(cat, o.listing_id == cat.c_listing_id)
    j = j.filter(j.category.isin(list(cmap)))
    return j.select(
        order_id=j.order_id,
        merchant_id=j.merchant_id,
        listing_id=j.listing_id,
        category=j.category,
        paid_at=j.paid_at,
        status=j.status,
    )


def unlicensed_sales(
    tables: Tables, cmap: dict[str, tuple[str, ...]], orders: ir.Table | None = None
) -> ir.Table:
    """Licensed-category orders (of ``orders``, else all) with no licence of a right type, valid
    at payment, in scope. Whether an order is one reads only its row, its listing's category and
    its merchant's licences."""
    sales = _licensed_sales(tables, cmap, orders)
    lic = tables.licences
    # a scope covers the category when empty (or NULL) or when the category is one of its items
    # (separated as exports write lists: ; , ， 、 spaces / |, in lower case); cleaned and padded
    # once per licence, not per (sale, licence) pair (the regular expression on every pair was
    # half of LIC001's time)
    cleaned = lic.scope.lower().re_replace(r"[,，、；;\s/|]+", ";").strip()
    padded = ibis.literal(";") + cleaned + ibis.literal(";")
    # a scope in words only (酒类零售, 预包装食品销售, 第二类医疗器械经营备案: a blind set's
    # licences, session 32) is the licence's own wording: it does not narrow the licence; one
    # holding a category code (food;health_food, Apparel, toys, apparel;医疗器械) does
    names_one = padded.re_search(r";[a-z0-9_-]+;")
    lic = lic.select(
        "merchant_id",
        "valid_from",
        "valid_to",
        licence_type=lic.licence_type.strip().lower(),
        _any_scope=lic.scope.isnull() | (cleaned == "") | ~names_one,
        _padded=padded,
    )
    right_type = ibis.or_(
        *[(sales.category == c) & lic.licence_type.isin(list(t)) for c, t in cmap.items()]
    )
    covering = [
        sales.merchant_id == lic.merchant_id,
        right_type,
        lic.valid_from <= sales.paid_at,
        lic.valid_to.isnull() | (sales.paid_at <= lic.valid_to),
        lic._any_scope | lic._padded.contains(ibis.literal(";") + sales.category + ";"),
    ]
    return sales.anti_join(lic, covering)


def _unlicensed(tables: Tables, cmap: dict[str, tuple[str, ...]]) -> ir.Table:
    """Every unlicensed sale, once per scan: the finder and the evidence both read it."""
    from promoguard.engine.cache import shared

    key = ("lic001_unlicensed_sales", tuple(sorted(cmap.items())))
    return shared(tables, key, lambda: unlicensed_sales(tables, cmap))


@register
class UnlicensedSales(Check):
    code = "LIC001"
    depends_on = "merchant_delta"
    name = "unlicensed-category-sales"
    title = "Sells in a licensed category without a valid licence on the sale date"
    family = "licensing"
    report_section = "logistics"
    entity_type = "merchant"
    severity = "high"
    reads = ("orders", "listings", "licences", "merchants")
    #: 2: each unlicensed order's status in the evidence (session 32)
    evidence_version = "2"
    #: the columns of those it reads (an incremental scan's scoped copy holds only these)
    reads_columns = {
        "orders": ("order_id", "merchant_id", "listing_id", "paid_at", "status"),
        "listings": ("listing_id", "category"),
        "licences": (
            "licence_id",
            "merchant_id",
            "licence_type",
            "valid_from",
            "valid_to",
            "scope",
        ),
        "merchants": ("merchant_id", "platform_id"),
    }
    parameters = (
        Parameter(
            "category_licences",
            {},
            "listing category -> the licence type (or list of types, any one suffices) needed to "
            "sell it; categories not named need none",
            basis="law",
        ),
        Parameter(
            "policy_category_licences",
            {},
            "further category -> licence entries the law does not fix nationally (local rules, "
            "platform rules); merged into `category_licences`",
            basis="policy",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags a merchant with at least one order, in a category the pack's "
            "`category_licences` map names, for which the merchant held no licence of a required "
            "type that was valid at the payment time (`valid_from` <= paid_at <= `valid_to`, "
            "open-ended when `valid_to` is empty) and whose scope covers the category (scope: "
            "category codes separated by ';', ',', '、' or spaces; empty, or words with no code "
            "such as 酒类零售, = all). Categories and types are read trimmed and without case. "
            "Observed: how many such orders, which categories, the first and last; a merchant "
            "whose such orders were all cancelled is low, with the reason. The evidence holds "
            "the merchant's licence rows and the earliest offending orders with their status."
        ),
        why=(
            "Goods such as food, health food, cosmetics, medical devices and alcohol may only be "
            "sold under an administrative licence (e.g. Food Safety Law Art. 35); an e-commerce "
            "operator must hold the licences its business requires and show them "
            "(E-Commerce Law Art. 12, 15), and the platform must verify them (Art. 27) and is "
            "jointly liable when it knew or should have known (Art. 38)."
        ),
        example=(
            "A merchant sells 蜂蜜 (food) on 11-11 while its 食品经营许可证 expired on 10-31; or "
            "its cosmetics licence's scope is 'cosmetics' but it sells 电子血压计 (medical_device)."
        ),
    )
    observed_columns = (
        "unlicensed_orders",
        "categories",
        "first_sale_at",
        "last_sale_at",
    )
    expected_columns = ("licence_types_required",)

    # -- report ---------------------------------------------------------------------------------
    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """A table of the merchants, what they sold and which licence it needed."""
        from promoguard.report.i18n import tr
        from promoguard.report.sections._html import table
        from promoguard.report.sections.logistics import order_volumes, pct

        if findings.empty:
            return ""
        volumes = order_volumes(con)
        rows = []
        for _, f in findings.sort_values("merchant_id").iterrows():
            obs = json.loads(f.observed)
            exp = json.loads(f.expected)
            orders = int(volumes.get(f.merchant_id, 0))
            n = int(obs.get("unlicensed_orders") or 0)
            rows.append(
                [
                    f.merchant_id,
                    obs.get("categories"),
                    exp.get("licence_types_required"),
                    n,
                    pct(n, orders),
                    obs.get("first_sale_at"),
                ]
            )
        headers = [
            "merchant",
            "categories",
            "licence needed",
            "unlicensed orders",
            "of its orders",
            "first such sale",
        ]
        head = tr("Merchants selling licensed categories without a valid licence")
        return f"<h3>{head}</h3>" + table(headers, rows, numeric=[3, 4])

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: a finding aggregates its merchant's unlicensed sales, and whether a sale is
        one reads its row, its listing and its merchant's licences. A new order that is not one
        changes nothing; new licence and merchant rows change their merchant's, and a new listing
        row the findings of whoever sold it."""
        cmap = _params_map(params)
        if not cmap:  # nothing needs a licence: no findings, whatever is added
            return []
        bad = unlicensed_sales(season, cmap, new.orders).select("merchant_id")
        o, nl = season.orders, new.listings
        return [
            bad,
            new.licences.select("merchant_id"),
            new.merchants.select("merchant_id"),
            nl.select("merchant_id"),
            o.semi_join(nl, "listing_id").select("merchant_id"),
        ]

    #: its evidence picks a finding's rows by entity_id alone (``evidence``): S's rows may go
    #: under a moved head
    evidence_rows_by_entity = True

    def evidence_touched(
        self,
        tables: Tables,
        new: Tables,
        found: ir.Table,
        params: dict[str, Any],
        ctx: ScanContext,
    ) -> ir.Table:
        """Kept evidence: a finding's evidence is its merchant's licence rows and its earliest
        unlicensed sales (``evidence``), and whether a sale is one reads the order's row, its
        listing's category and the merchant's licences. So only these merchants' can change: one
        with a new licence row, one with a new unlicensed sale, and the seller and the buyers'
        merchants of a listing with a new row (its category). A new order that is no unlicensed
        sale adds no row; new merchant rows reach only the head (platform_id), compared apart.
        """
        cmap = _params_map(params)
        if not cmap:  # no findings
            return found.select("entity_id")
        bad = unlicensed_sales(tables, cmap, new.orders)
        o, nl = tables.orders, new.listings
        reached = [bad, new.licences, nl, o.semi_join(nl, "listing_id")]
        return ibis.union(*[r.select(entity_id=r.merchant_id.cast("string")) for r in reached])

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        cmap = _params_map(params)
        if not cmap:  # nothing needs a licence in this pack
            m = tables.merchants
            return m.filter(ibis.literal(False)).select(
                entity_id=m.merchant_id,
                merchant_id=m.merchant_id,
                platform_id=m.platform_id,
                unlicensed_orders=ibis.literal(0),
                categories=ibis.literal(""),
                first_sale_at=ibis.null("timestamp('UTC')"),
                last_sale_at=ibis.null("timestamp('UTC')"),
                licence_types_required=ibis.literal(""),
            )
        bad = _unlicensed(tables, cmap)
        bad = bad.mutate(required=_required_types(bad.category, cmap))
        g = bad.group_by(g_merchant_id=bad.merchant_id).aggregate(
            unlicensed_orders=bad.order_id.nunique(),
            completed=(bad.status != "cancelled").fill_null(True).cast("int64").sum(),
            categories=bad.category.collect(distinct=True).sort().join(";"),
            licence_types_required=bad.required.collect(distinct=True).sort().join(";"),
            first_sale_at=bad.paid_at.min(),
            last_sale_at=bad.paid_at.max(),
        )
        m = tables.merchants
        plat = m.select(m_id=m.merchant_id, platform_id=m.platform_id).distinct(
            on="m_id", keep="first"
        )
        j = g.left_join(plat, g.g_merchant_id == plat.m_id)
        return j.select(
            entity_id=j.g_merchant_id,
            merchant_id=j.g_merchant_id,
            platform_id=j.platform_id,
            unlicensed_orders=j.unlicensed_orders,
            categories=j.categories,
            first_sale_at=j.first_sale_at,
            last_sale_at=j.last_sale_at,
            licence_types_required=j.licence_types_required,
            **graded(
                j.completed == 0,
                "every one of these orders was cancelled: the goods were offered for sale (an "
                "offer is business activity) but no sale was completed",
            ),
        )

    def evidence(
        self, tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> dict[str, ir.Table]:
        cmap = _params_map(params)
        f = found.select(f_id=found.entity_id)
        lic = tables.licences
        licences = f.join(lic, f.f_id == lic.merchant_id).select(
            entity_id=f.f_id,
            licence_id=lic.licence_id,
            licence_type=lic.licence_type,
            valid_from=lic.valid_from,
            valid_to=lic.valid_to,
            scope=lic.scope,
        )
        bad = _unlicensed(tables, cmap)
        bad = f.join(bad, f.f_id == bad.merchant_id)
        bad = first_rows(bad, bad.f_id, [bad.paid_at, bad.order_id], MAX_EVIDENCE_ORDERS)
        orders = bad.select(
            entity_id=bad.f_id,
            order_id=bad.order_id,
            listing_id=bad.listing_id,
            category=bad.category,
            paid_at=bad.paid_at,
            status=bad.status,
        )
        return {"licences": licences, "unlicensed_orders": orders}
