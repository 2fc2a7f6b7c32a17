"""PRICE005 unlabelled-manufacturer-price: Comparison with the manufacturer's suggested price not labelled as one."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.backends import union_all
from promoguard.engine.base import ChartLevel, Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import cents, first_rows
from promoguard.engine.registry import register
from promoguard.rules.pricing._shared import (
    MONEY,
    MSRP_LABELS,
    _is_msrp_label,
    _money,
    levels,
    plain_text,
    transactions,
)

#: a shop's listings of one title are read as links of one product (主链接/副链接) only while they
#: are this few: a shop selling dozens of listings under one generic title is not telling one
#: product's MSRP (and the pairs would grow with the square of the group)
MAX_SAME_TITLE = 20
#: ... and another shop's listing of one title on the platform as the same product only while the
#: platform has this few listings of that title (a reseller copies the flagship's title; a
#: generic title shared by a crowd of listings names no one product)
MAX_SAME_TITLE_ON_PLATFORM = 50


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
    # 3: the MSRP is also read from the shop's own labels (msrp_source), and a reference that is
    #    the listing's own former price is not reported (prior_price)
    # 4: ... and from other shops' labels on listings of the same title (other_shop_label),
    #    the labelled listing's observations quoted at the finding's amount only
    evidence_version = "4"
    masked_evidence = {"listing": ("title",)}
    parameters = (
        Parameter(
            "msrp_labels",
            list(MSRP_LABELS),
            "Reference labels that say the reference is a manufacturer's suggested price (a "
            "label holding one of them, compared case-insensitively, spaces trimmed)",
            basis="law",
        ),
        Parameter(
            "tolerance",
            0.0,
            "How far the reference may be from the MSRP and still be it",
            unit="currency",
        ),
        Parameter(
            "msrp_from_labels",
            True,
            "Also take as the listing's MSRP every amount the shop itself labels as one, on this "
            "listing or on its own listings of the same title (its main and secondary links), at "
            "any time of the season (an MSRP shown as 原价 before or after it was labelled is "
            "the same comparison)",
        ),
        Parameter(
            "msrp_from_other_shops",
            True,
            "Also take as the listing's MSRP an amount another shop of the same platform labels "
            "as one on a listing of the same title and currency (a reseller showing the brand "
            "store's suggested price as its own 原价), while the platform has at most 50 listings "
            "of that title and the listing states no MSRP of its own",
        ),
        Parameter(
            "own_price_days",
            7,
            "A reference at most the listing's lowest transacted price in these days before the "
            "reduction began (the start of the promotion the observation falls in, else the "
            "observation; with no sale in them, its last sale before) is its own former price, "
            "whatever the MSRP: not reported",
            basis="law",
            unit="days",
        ),
        Parameter(
            "exclude_statuses",
            ["cancelled"],
            "Order statuses that are not transactions (a cancelled order was never a sale).",
        ),
    )
    doc = CheckDoc(
        what=(
            "Flags a listing whose struck-through reference price equals its manufacturer's "
            "suggested retail price while the reference label does not say so (原价, 划线价, "
            "日常价, was, or no label). The MSRP is the listing's own (listings.msrp) or an "
            "amount the shop labels as the manufacturer's price elsewhere: on another channel or "
            "day of the listing, or on its other listing of the same title (at most 20 listings "
            "of the shop under that title), or on another shop's listing of the same title on the "
            "platform (a reseller quoting the brand store's suggested price; at most 50 listings "
            "of that title there, and none when the listing states its own). A label that holds "
            "an MSRP term counts (原价（厂商建议零售价）), one that denies it does not "
            "(非建议零售价, not RRP). A reference that is the listing's own former price (at most "
            "its lowest sale in the 7 days before the promotion began, else its last sale) is a "
            "lawful comparison with its own price and is not reported."
        ),
        why=(
            "A comparison with the manufacturer's suggested price must say so (明码标价和禁止价格"
            "欺诈规定 Art. 16 ¶3); passing the MSRP off as the seller's own former price makes "
            "buyers believe in a reduction that never happened."
        ),
        example=(
            "Listing MSRP ¥399 (its detail page: '厂商建议零售价 ¥399'); its search card shows "
            "¥299 with '原价 ¥399', and it sold at ¥329 all week."
        ),
    )
    observed_columns = ("reference_price", "reference_label", "observed_at")
    expected_columns = ("msrp", "msrp_source", "msrp_listing_id", "prior_price")
    reads = ("price_observations", "listings", "orders", "promotions")
    reads_columns = {
        "price_observations": (
            "listing_id",
            "observed_at",
            "price",
            "reference_price",
            "reference_label",
            "channel",
        ),
        "listings": ("listing_id", "merchant_id", "platform_id", "title", "msrp", "currency"),
        "orders": ("order_id", "listing_id", "merchant_id", "paid_at", "unit_price", "status"),
        "promotions": ("platform_id", "starts_at", "ends_at"),
    }
    # an MSRP comes from listings.msrp or from the shop's own labels: a reference is what it needs
    requires = ("price_observations.reference_price",)

    # -- report ---------------------------------------------------------------------------------
    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        return levels(
            ("MSRP", expected.get("msrp"), "context"),
            ("reference", observed.get("reference_price"), "claimed"),
            ("own prior price", expected.get("prior_price"), "context"),
        )

    def touched_merchants(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: a finding (and its evidence) reads its listing's row, the observations
        with a reference price of its shop's listings of the same title, and its listing's sales
        before its observations: new listing rows, new observations with a reference price, and
        new sales on a listing before one of its references (a superset of those equal to an
        MSRP under another label: no label is read over the season to plan the day). With
        ``msrp_from_other_shops``, also the shops of a title another shop's new rows reach
        (:func:`_touched_by_titles`)."""
        n = new.price_observations
        ref = n.filter(n.reference_price.notnull()).select("listing_id")
        ls = season.listings
        hit = ls.semi_join(ref, "listing_id").select("merchant_id")
        po = season.price_observations
        refs = po.filter(po.reference_price.notnull()).select("listing_id", "observed_at")
        o = transactions(new, params)
        sold = refs.join(o, [refs.listing_id == o.listing_id, o.paid_at < refs.observed_at])
        touched = [new.listings.select("merchant_id"), hit, sold.select(o.merchant_id)]
        if _other_shops(params):
            touched.append(_touched_by_titles(season, new, params))
        return touched

    def context_listings(
        self, season: Tables, merchants: ir.Table, params: dict[str, Any]
    ) -> ir.Table | None:
        """Incremental: the listings besides the ``merchants``' own whose rows their findings
        read: every listing of another shop with the title of one of theirs on the platform
        (its MSRP label may be the amount a finding quotes, and each counts toward the title's
        cap: all of them, so the scoped count is the season's). A scope copies their rows and
        prices as context, not their shops whole (a generic title is on hundreds)."""
        if not _other_shops(params):
            return None
        mine = season.listings.semi_join(merchants, "merchant_id")
        peers = _same_title(season, mine)
        return peers.anti_join(merchants, "merchant_id").select("listing_id")

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        c = _with_own_prior(tables, _candidates(tables, params), params)
        # a reference no higher than the listing's own former price is a comparison with its own
        # price (Art. 16 ¶2), lawful whatever the MSRP happens to be
        c = c.filter(c.prior_price.isnull() | (c.reference_price > c.prior_price))
        t = c.select(
            entity_id=c.listing_id,
            merchant_id=c.merchant_id,
            platform_id=c.platform_id,
            reference_price=c.reference_price,
            reference_label=c.reference_label,
            observed_at=c.observed_at,
            msrp=c.msrp,
            msrp_source=c.msrp_source,
            msrp_listing_id=c.msrp_listing_id,
            prior_price=c.prior_price,
            channel=c.channel,
            _rank=c._rank,
        )
        first = first_rows(
            t,
            [t.entity_id],
            [
                t.observed_at,
                t.channel.fill_null(""),
                t._rank,
                (t.reference_price - t.msrp).abs(),
                t.msrp,
                t.msrp_listing_id.fill_null(""),
            ],
        )
        return first.drop("channel", "_rank")

    def evidence(self, tables, found, params, ctx):
        po = tables.price_observations
        ls = tables.listings
        f = found.select("entity_id", "msrp_listing_id")
        obs = f.join(po, [f.entity_id == po.listing_id, po.reference_price.notnull()])
        lst = f.join(ls, f.entity_id == ls.listing_id)
        # where the shop labelled the amount as the MSRP on another listing of the same title
        src = found.select("entity_id", "msrp_listing_id", f_msrp=found.msrp)
        src = src.filter(src.msrp_listing_id.notnull() & (src.msrp_listing_id != src.entity_id))
        labelled = src.join(po, [src.msrp_listing_id == po.listing_id])
        # ... at the amount the finding quotes (not its other labels: another edition's, and
        # more of another shop's displays than the finding rests on)
        labelled = labelled.filter(
            labelled.reference_price.notnull()
            & _is_msrp_label(labelled.reference_label, params["msrp_labels"])
            & ((labelled.reference_price - labelled.f_msrp).abs() <= _money(params["tolerance"]))
        )
        # the listing's sales in the days before the reduction the reported observation shows
        # began: why its reference is not its own former price
        days = int(params["own_price_days"])
        fo = _anchored(tables, found.select("platform_id", "observed_at", listing_id="entity_id"))
        o = transactions(tables, params)
        sales = fo.join(
            o,
            [
                fo.listing_id == o.listing_id,
                o.paid_at < fo.anchor,
                o.paid_at >= fo.anchor - ibis.interval(days=days),
            ],
        ).select(
            entity_id=fo.listing_id,
            order_id=o.order_id,
            paid_at=o.paid_at,
            unit_price=o.unit_price,
            status=o.status,
        )
        # bounded: the labelled observations of one listing over a season are a few hundred rows
        return {
            "listing": lst.select("entity_id", "title", "msrp", "currency"),
            "reference_observations": obs.select(
                "entity_id", "observed_at", "channel", "price", "reference_price", "reference_label"
            ),
            "msrp_labelled_on": labelled.select(
                "entity_id",
                "msrp_listing_id",
                "observed_at",
                "channel",
                "reference_price",
                "reference_label",
            ),
            "sales_before": first_rows(
                sales,
                ["entity_id"],
                [ibis.desc("paid_at"), "order_id"],
                n=50,
            ),
        }


def _title_key(t: ir.Table) -> ir.StringValue:
    """A listing's title as its shop's two links of one product share it (case and runs of
    spaces aside)."""
    # the characters themselves, not ``\s``: it holds \x0b on Spark (Java) and not on DuckDB
    # (RE2), which reads no ``\u`` escape either
    return plain_text(t.title).re_replace("[ \t\n\r\f\x0b\u00a0]+", " ").strip()


def _title_keys(ls: ir.Table) -> ir.Table:
    """``listing_id, merchant_id, platform_id, currency, tkey`` of the listings ``ls`` with a
    title (:func:`_title_key`, not blank)."""
    key = ls.filter(ls.title.notnull()).select(
        "listing_id", "merchant_id", "platform_id", "currency", tkey=_title_key(ls)
    )
    return key.filter(key.tkey != "")


def _other_shops(params: dict[str, Any]) -> bool:
    """Whether other shops' labels are read (``msrp_from_other_shops``, within the labels)."""
    return bool(params.get("msrp_from_labels", True) and params.get("msrp_from_other_shops", True))


def _capped(titled: ir.Table) -> ir.Table:
    """The rows of ``titled`` (:func:`_title_keys`) whose title the platform gives to at most
    MAX_SAME_TITLE_ON_PLATFORM listings, with ``n_listings``."""
    size = titled.group_by("platform_id", "tkey").aggregate(n_listings=titled.count())
    size = size.filter(size.n_listings <= MAX_SAME_TITLE_ON_PLATFORM)
    return titled.join(size, ["platform_id", "tkey"])


def _same_title(season: Tables, some: ir.Table) -> ir.Table:
    """Every listing (:func:`_title_keys`' columns) of the same title on the same platform as
    one of the listings ``some`` (rows of ``season.listings``)."""
    every, mine = _title_keys(season.listings), _title_keys(some)
    mine = mine.select(m_platform=mine.platform_id, m_tkey=mine.tkey).distinct()
    return every.semi_join(mine, [every.platform_id == mine.m_platform, every.tkey == mine.m_tkey])


def _touched_by_titles(season: Tables, new: Tables, params: dict[str, Any]) -> ir.Table:
    """``merchant_id`` of the shops whose findings another shop's new rows can change through
    a title they share on a platform: every shop of a title at most MAX_SAME_TITLE_ON_PLATFORM
    listings hold now, one of which got a new observation labelled as the MSRP (its amount is
    an MSRP of the others' now); and every shop of a title that was under that cap before the
    day's new listings of it (they may take it over: its labels then count no more). A title
    over the cap before the day names no shop: no label counts there, before or after."""
    n = new.price_observations
    labelled = n.filter(
        n.reference_price.notnull() & _is_msrp_label(n.reference_label, params["msrp_labels"])
    ).select("listing_id")
    ls = season.listings
    by_label = _capped(_same_title(season, ls.semi_join(labelled, "listing_id")))
    grown = _same_title(season, ls.semi_join(new.listings, "listing_id"))
    # each title's listings now, and how many of them are the day's
    added = _title_keys(new.listings)
    added = added.group_by(a_platform=added.platform_id, a_tkey=added.tkey).aggregate(
        n_new=added.count()
    )
    size = grown.group_by("platform_id", "tkey").aggregate(n_listings=grown.count())
    size = size.join(added, [size.platform_id == added.a_platform, size.tkey == added.a_tkey])
    was_under = size.filter(size.n_listings - size.n_new <= MAX_SAME_TITLE_ON_PLATFORM)
    by_growth = grown.semi_join(
        was_under, [grown.platform_id == was_under.platform_id, grown.tkey == was_under.tkey]
    )
    return union_all(by_label.select("merchant_id"), by_growth.select("merchant_id"))


def _msrp_amounts(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """Per listing: the amounts known to be its manufacturer's price, with where from
    (``listing_msrp``: listings.msrp; ``shop_label``: the shop's own MSRP label on this listing
    or on its listing of the same title; ``other_shop_label``: another shop's, on its listing of
    the same title, currency and platform; ``msrp_listing_id`` the labelled listing) and a rank
    (the column first, the shop's own labels next)."""
    ls = tables.listings
    # nullable types on both sides of the union (a store's key columns are NOT NULL)
    own = ls.filter(ls.msrp.notnull()).select(
        listing_id=ls.listing_id.cast("string"),
        msrp=ls.msrp.cast(MONEY),
        msrp_source=ibis.literal("listing_msrp"),
        msrp_listing_id=ibis.null("string"),
        _rank=ibis.literal(0),
    )
    if not params.get("msrp_from_labels", True):
        return own
    po = tables.price_observations
    lab = po.filter(
        po.reference_price.notnull() & _is_msrp_label(po.reference_label, params["msrp_labels"])
    )
    lab = lab.select("listing_id", amount=lab.reference_price).distinct()
    titled = _title_keys(ls)
    # links of one product: a title a shop gives to at most MAX_SAME_TITLE of its listings
    size = titled.group_by("merchant_id", "tkey").aggregate(n_links=titled.count())
    key = titled.join(size.filter(size.n_links <= MAX_SAME_TITLE), ["merchant_id", "tkey"])
    key = key.select("listing_id", "merchant_id", "tkey")
    src = lab.join(key, "listing_id")
    # one row per (shop, title, amount): the lowest listing that labels it names the source
    src = src.group_by("merchant_id", "tkey", "amount").aggregate(
        msrp_listing_id=src.listing_id.min()
    )
    to = key.join(src, ["merchant_id", "tkey"])
    labelled = to.select(
        listing_id=to.listing_id.cast("string"),
        msrp=to.amount.cast(MONEY),
        msrp_source=ibis.literal("shop_label"),
        msrp_listing_id=to.msrp_listing_id.cast("string"),
        _rank=ibis.literal(1),
    )
    known = own.union(labelled)
    if not _other_shops(params):
        return known
    return known.union(_other_shops_amounts(lab, titled, known.select("listing_id")))


def _other_shops_amounts(lab: ir.Table, titled: ir.Table, known: ir.Table) -> ir.Table:
    """``_msrp_amounts``' rows from other shops' labels (``lab``: ``listing_id, amount``, the
    labelled amounts): to each listing of a title (``titled``: :func:`_title_keys`) that its
    platform gives to at most MAX_SAME_TITLE_ON_PLATFORM listings, and that has no MSRP of its
    own (``known``: the listings with one from listings.msrp or its shop's labels; another
    amount there is another edition's), the amounts another shop labels as the MSRP on a
    listing of that title and currency there (the lowest such listing names the source)."""
    key = _capped(titled).select("listing_id", "merchant_id", "platform_id", "currency", "tkey")
    src = lab.join(key, "listing_id")
    # one row per (title, shop, amount): the shop's lowest listing that labels it
    src = src.group_by("platform_id", "currency", "tkey", "merchant_id", "amount").aggregate(
        src_listing=src.listing_id.min()
    )
    src = src.select(
        s_platform=src.platform_id,
        s_currency=src.currency,
        s_tkey=src.tkey,
        s_merchant=src.merchant_id,
        amount=src.amount,
        src_listing=src.src_listing,
    )
    to = key.anti_join(known, "listing_id")
    to = to.join(
        src,
        [
            to.platform_id == src.s_platform,
            to.currency == src.s_currency,
            to.tkey == src.s_tkey,
            to.merchant_id != src.s_merchant,
        ],
    )
    to = to.group_by("listing_id", "amount").aggregate(msrp_listing_id=to.src_listing.min())
    return to.select(
        listing_id=to.listing_id.cast("string"),
        msrp=to.amount.cast(MONEY),
        msrp_source=ibis.literal("other_shop_label"),
        msrp_listing_id=to.msrp_listing_id.cast("string"),
        _rank=ibis.literal(2),
    )


def _candidates(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """Observations whose reference equals a known MSRP of their listing under a label that does
    not say so (before the own-price test)."""
    po = tables.price_observations
    po = po.filter(
        po.reference_price.notnull() & ~_is_msrp_label(po.reference_label, params["msrp_labels"])
    )
    m = _msrp_amounts(tables, params)
    tol = _money(params["tolerance"])
    j = po.join(m, [po.listing_id == m.listing_id, (po.reference_price - m.msrp).abs() <= tol])
    ls = tables.listings.select("listing_id", "merchant_id", "platform_id")
    j = j.join(ls, j.listing_id == ls.listing_id)
    return j.select(
        listing_id=po.listing_id,
        merchant_id=ls.merchant_id,
        platform_id=ls.platform_id,
        observed_at=po.observed_at,
        channel=po.channel,
        reference_price=po.reference_price,
        reference_label=po.reference_label,
        msrp=m.msrp,
        msrp_source=m.msrp_source,
        msrp_listing_id=m.msrp_listing_id,
        _rank=m._rank,
    )


def _anchored(tables: Tables, keys: ir.Table) -> ir.Table:
    """``keys`` (with listing_id, platform_id, observed_at; its rows distinct) with ``anchor``:
    when the price reduction the observation shows began, the start of its platform's promotion
    it falls in (the earliest, when several overlap), else the observation itself. The former
    price is read before it (本次降价前七日内: a promotion-day sale is no prior price). One
    join and one grouping, so that ``keys`` is computed once."""
    pr = tables.promotions.select(p_platform="platform_id", p_start="starts_at", p_end="ends_at")
    j = keys.left_join(
        pr,
        [
            keys.platform_id == pr.p_platform,
            pr.p_start <= keys.observed_at,
            keys.observed_at < pr.p_end,
        ],
    )
    g = j.group_by(*keys.columns).aggregate(promo_start=j.p_start.min())
    return g.mutate(anchor=g.promo_start.coalesce(g.observed_at)).drop("promo_start")


#: a sale as one sortable integer: its second, then its price in cents counted down, so that the
#: greatest is the last sale and, of several at that second, the cheapest (cents below 10^9)
_SECOND = 1_000_000_000


def _with_own_prior(tables: Tables, cand: ir.Table, params: dict[str, Any]) -> ir.Table:
    """``cand`` with ``prior_price``: the listing's own former price, the lowest sale in the
    ``own_price_days`` before the reduction began (:func:`_anchored`), else its last sale before
    it (the cheapest of that second); none when it never sold before (明码标价和禁止价格欺诈规定
    Art. 16 ¶2). One join of the candidates with their listings' earlier sales and one grouping:
    the candidates are computed once (each further reference computed them again, seconds at
    city scale)."""
    days = int(params["own_price_days"])
    o = transactions(tables, params)
    s = o.select(s_listing="listing_id", s_paid="paid_at", s_price="unit_price")
    a = _anchored(tables, cand)
    j = a.left_join(s, [a.listing_id == s.s_listing, s.s_paid < a.anchor])
    near = j.s_paid >= j.anchor - ibis.interval(days=days)
    key = j.s_paid.epoch_seconds().cast("int64") * _SECOND - cents(j.s_price)
    g = j.group_by(*a.columns).aggregate(
        tx_low=ibis.cases((near, j.s_price), else_=ibis.null(MONEY)).min(),
        last_key=key.max(),
    )
    last_c = (_SECOND - g.last_key % _SECOND) % _SECOND
    last = (last_c.cast(MONEY) / 100).cast(MONEY)
    return g.mutate(prior_price=g.tx_low.cast(MONEY).coalesce(last)).drop("tx_low", "last_key")
