"""Pricing checks PRICE001–005: fake reference prices, false discount percentages, raise-then-cut,
cheaper prices on search/home than on the detail page, and unlabelled manufacturer prices.

All five are relational (Ibis), so they run unchanged on DuckDB and Spark. The expensive part, the
legal prior price, is computed only for (listing, promotion) pairs that show a reference price
during a promotion, over the look-back window before that promotion: the observations and orders
are cut down to those windows FIRST, never windowed over the whole history.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import ChartLevel, Parameter, Tables
from promoguard.engine.exact import cents, first_rows, half_up_ratio

MONEY = "decimal(18,2)"
DETAIL = "detail"
MSRP_LABELS = (
    "厂商建议零售价",
    "建议零售价",
    "厂家建议零售价",
    "厂商指导价",
    "厂家指导价",
    "MSRP",
    "RRP",
    "SRP",
    "UVP",
    "PVC",
)
PRIOR_RULES = ("lowest_transacted", "lowest_offered", "established_offered")

# -- shared parameters -----------------------------------------------------------------------------

PRIOR_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "prior_rule",
        "lowest_transacted",
        "How the legal prior price is found: lowest_transacted (cn: lowest transacted price in "
        "the look-back, else the last transaction, else offered prices), lowest_offered (eu: "
        "lowest price applied in the look-back) or established_offered (us/uk: the highest "
        "price openly offered on at least min_days_offered days of the look-back).",
        basis="law",
    ),
    Parameter(
        "lookback_days", 7, "Days before the promotion the prior price is taken from", "law", "days"
    ),
    Parameter(
        "progressive",
        False,
        "Progressive reductions: when the price only fell during the look-back, in announced "
        "reductions of one campaign (begun in it or before it; announced by a struck-through "
        "price or by a claimed percentage), measure the prior price from before the campaign's "
        "first reduction (Directive 98/6/EC Art. 6a(5)).",
        basis="law",
    ),
    Parameter(
        "min_days_offered",
        28,
        "established_offered: days a price must have been openly offered to count as a former "
        "price ('a reasonably substantial period').",
        unit="days",
    ),
    Parameter(
        "exclude_statuses",
        ["cancelled"],
        "Order statuses that are not transactions (a cancelled order was never a sale).",
    ),
    Parameter(
        "msrp_labels",
        list(MSRP_LABELS),
        "Reference labels that say the reference is a manufacturer's suggested price; such "
        "comparisons are governed by PRICE005, not by the prior-price rule.",
    ),
)


def _money(value: Any) -> ir.Scalar:
    return ibis.literal(Decimal(str(value)), type=MONEY)


#: full-width ASCII (Ｗａｓ, ＭＳＲＰ, ０-９) and the ideographic space, as a Chinese input method
#: writes them, read as their ASCII (``translate``: the same on DuckDB and Spark)
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


#: any full-width ASCII or ideographic space (the characters themselves: RE2 reads no ``\u``)
_ANY_WIDE = "[\uff01-\uff5e\u3000]"


def plain_text(s: ir.StringValue) -> ir.StringValue:
    """``s`` with full-width ASCII and the ideographic space read as ASCII, lower-cased.
    Translated only where there is such a character: DuckDB's translate builds its map for each
    row (the city season's 119k titles, 2% with one: 0.5 s a call, 0.01 s so)."""
    wide = s.translate(FULL_WIDTH, HALF_WIDTH)
    return ibis.cases((s.re_search(_ANY_WIDE), wide), else_=s).lower()


_TO_HALF = str.maketrans(FULL_WIDTH, HALF_WIDTH)


def _labels_lower(labels: list[str]) -> list[str]:
    words = (str(x).translate(_TO_HALF).strip().lower().replace("\u2019", "'") for x in labels)
    return sorted(set(words) - {""})


#: characters a label word is escaped for in the regular expression (RE2 and Java alike)
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\/")

#: a letter or digit, half- or full-width, lower- or upper-case (a label is lower-cased first;
#: the upper case is there should an engine's lower() leave full-width letters alone)
_ALNUM = "a-z0-9\uff41-\uff5a\uff21-\uff3a\uff10-\uff19"
_LETTER = "a-z\uff41-\uff5a\uff21-\uff3a"

#: a label that says the reference is NOT the manufacturer's price (原价（非厂商建议零售价）,
#: 划线价，不是建议零售价, "Was (not RRP)") says nothing of the kind: Chinese negations anywhere in
#: it, English ones as words
NEGATIONS_ZH = ("非", "不是", "并非", "不含", "不属于")


def _escaped(word: str) -> str:
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in word)


def _folded(word: str) -> str:
    """A regular expression for ``word`` (lower-case, half-width) that also matches it written
    in full-width letters (ＭＳＲＰ, Ｗａｓ), with an ideographic space or a typographic
    apostrophe: what ``translate`` to ASCII did before the search, without it. DuckDB's
    translate builds its character map for each row: on the 273k labelled observations of the
    city season it cost 0.4 s a call, and PRICE001-005 call it five times."""
    out = []
    for ch in word:
        if ch == " ":
            out.append("[ \u3000]")
        elif ch == "'":
            out.append("['\u2019\uff07]")
        elif "!" <= ch <= "~":
            wide = chr(ord(ch) + 0xFEE0)
            if ch.isalpha():  # the label is lower-cased: a full-width capital, should it stay
                out.append(f"[{ch}{wide}{chr(ord(ch.upper()) + 0xFEE0)}]")
            elif ch.isdigit():
                out.append(f"[{ch}{wide}]")
            else:
                out.append(f"(?:{_escaped(ch)}|{wide})")
        else:
            out.append(_escaped(ch))
    return "".join(out)


NEGATION_EN = (
    f"(^|[^{_LETTER}])({'|'.join(_folded(w) for w in ('not', 'non', 'no'))})([^{_LETTER}]|$)"
)


def _is_msrp_label(label: ir.StringValue, labels: list[str]) -> ir.BooleanValue:
    """Whether a reference label says the price is the manufacturer's: it holds one of
    ``labels`` (case, spaces and full-width letters aside) and no negation. Held, not equal: an
    export's composite wording (原价（厂商建议零售价）, 划线价为厂商指导价, "Was (RRP)") says so as
    much as the bare term. A label in Latin letters counts as a word only (RRP, not the letters
    inside another word). One regular expression for the terms and one for the negations (ten
    searches a row over ten million observations had cost seconds), on the label only lower-cased:
    full-width letters are in the expressions (:func:`_folded`)."""
    words = _labels_lower(labels)
    latin = [_folded(w) for w in words if w.isascii()]
    other = [_folded(w) for w in words if not w.isascii()]
    parts = []
    if latin:
        parts.append(f"(^|[^{_ALNUM}])({'|'.join(latin)})($|[^{_ALNUM}])")
    parts.extend(other)
    if not parts:
        return ibis.literal(False)
    s = label.lower()
    negated = "|".join([NEGATION_EN, *NEGATIONS_ZH])
    return (s.re_search("|".join(parts)) & ~s.re_search(negated)).fill_null(False)


def _announced_reduction(t: ir.Table, params: dict[str, Any]) -> ir.BooleanValue:
    """Whether an observation of ``t`` announces a reduction: a struck-through reference above the
    price, or a claimed discount percentage ('-10%' alone announces a cut just as 'was 100' does;
    Art. 6a(5) asks that each reduction be announced, not how), neither labelled as a
    manufacturer's price (that is no reduction of the seller's own price)."""
    shown = (t.reference_price.notnull() & (t.reference_price > t.price)).fill_null(False)
    claimed = (t.claimed_discount_pct > 0).fill_null(False)
    return (shown | claimed) & ~_is_msrp_label(t.reference_label, params["msrp_labels"])


def promotion_references(tables: Tables, params: dict[str, Any], claims: bool = False) -> ir.Table:
    """Per (listing, promotion): the highest ordinary reference price shown during the promotion.

    With ``claims`` (PRICE002), a claimed discount percentage presents a reduction too, with or
    without a struck-through price beside it ('-50%' alone is a price comparison just the same:
    规范促销行为暂行规定 Art. 21; its reference_price is then NULL when no row showed one).

    References labelled as a manufacturer's price are left out: a comparison that says it is
    with the manufacturer's price follows its own rule (明码标价 Art. 16 ¶3, PRICE005; under 98/6/EC
    it is not a price reduction at all). An UNLABELLED reference that happens to equal the MSRP
    is an ordinary reference and must respect the prior price too.
    """
    po = tables.price_observations
    ls = tables.listings
    pr = tables.promotions
    shown = po.reference_price.notnull()
    obs = po.filter(shown | po.claimed_discount_pct.notnull() if claims else shown)
    j = obs.join(ls, obs.listing_id == ls.listing_id).join(
        pr,
        [
            ls.platform_id == pr.platform_id,
            obs.observed_at >= pr.starts_at,
            obs.observed_at < pr.ends_at,
        ],
    )
    reduction = (j.reference_price > j.price).fill_null(False)
    if claims:
        reduction = reduction | (j.claimed_discount_pct > 0).fill_null(False)
    j = j.filter(
        ~_is_msrp_label(j.reference_label, params["msrp_labels"]),
        reduction,  # it is presented as a reduction
    )
    return j.group_by(
        listing_id=j.listing_id,
        merchant_id=j.merchant_id,
        platform_id=j.platform_id,
        promotion_id=j.promotion_id,
        starts_at=j.starts_at,
    ).aggregate(
        reference_price=j.reference_price.max(),
        min_price=j.price.min(),
        max_claimed_pct=j.claimed_discount_pct.max(),
    )


def transactions(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """The orders that are sales: none of ``exclude_statuses`` (a cancelled order was never one)."""
    o = tables.orders
    return o.filter(~o.status.isin(list(params["exclude_statuses"])))


def _drop_right(t: ir.Table) -> ir.Table:
    """Drop the duplicate key columns an outer join keeps as ``<name>_right``."""
    extra = [c for c in t.columns if c.endswith("_right")]
    return t.drop(*extra) if extra else t


PAIR = ["listing_id", "promotion_id"]


def _left(a: ir.Table, b: ir.Table, keys: list[str]) -> ir.Table:
    return _drop_right(a.left_join(b, keys))


def _window_rows(rows: ir.Table, time_col: str, pairs: ir.Table, days: int) -> ir.Table:
    """Rows of ``rows`` (keyed by listing_id) inside [starts_at - days, starts_at) of each pair."""
    t = rows[time_col]
    j = pairs.join(
        rows,
        [
            pairs.listing_id == rows.listing_id,
            t >= pairs.starts_at - ibis.interval(days=days),
            t < pairs.starts_at,
        ],
    )
    return j


#: how an export may write the detail page's channel (compared trimmed and without case)
DETAIL_WORDS = (DETAIL, "详情", "详情页", "product page", "pdp")


def on_detail(po: ir.Table) -> ir.BooleanValue:
    """Whether a price observation was seen on the detail page: no channel, ``detail`` as stored
    (tested first: what nearly every row is), or another spelling of it (Detail, 详情页: a blind
    set's exports, session 32)."""
    return (
        po.channel.isnull()
        | (po.channel == DETAIL)
        | po.channel.strip().lower().isin(list(DETAIL_WORDS))
    )


def _detail_prices(tables: Tables) -> ir.Table:
    po = tables.price_observations
    return po.filter(on_detail(po)).select("listing_id", "observed_at", "price")


# -- the window: calendar days in the pack's time zone ----------------------------------------------


def calendar_window_starts(
    starts: list[tuple[str, Any]], days: int, tz: str
) -> list[tuple[str, Any]]:
    """(key, UTC instant of local midnight ``days`` calendar days before the local date of
    ``start``) for each (key, start). Calendar days, not 24-hour blocks: a window that crosses a
    change of clocks keeps its first day (a 720-hour window loses an hour of it, and with it a
    day's price at midnight), and the same calendar data ingested under any ``--tz`` whose midnight
    falls on the same local day gives the same window."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    out = []
    for key, start in starts:
        try:
            local = start.astimezone(zone)
            first = dt.datetime.combine(local.date() - dt.timedelta(days=days), dt.time(0), zone)
            out.append((key, first.astimezone(dt.UTC)))
        except OverflowError:  # a promotion in year 1: the window opens at the first instant
            out.append((key, dt.datetime.min.replace(tzinfo=dt.UTC)))
    return out


def _calendar_days(starts: list[tuple[str, Any]], days: int, tz: str) -> list[tuple[str, Any, Any]]:
    """(key, day_start, day_end) for each of the ``days`` local calendar days before each start,
    and the start's own day up to the start (in UTC instants; DST-safe)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    out = []
    for key, start in starts:
        for k in range(days, -1, -1):
            try:  # days before year 1 or after 9999 do not exist: they are left out
                local = start.astimezone(zone)
                d = local.date() - dt.timedelta(days=k)
                lo = dt.datetime.combine(d, dt.time(0), zone).astimezone(dt.UTC)
                nxt = d + dt.timedelta(days=1)
                hi = dt.datetime.combine(nxt, dt.time(0), zone).astimezone(dt.UTC)
            except OverflowError:
                continue
            hi = min(hi, start.astimezone(dt.UTC))
            if lo < hi:
                out.append((key, lo, hi))
    return out


def _ts_memtable(columns: dict[str, list[Any]]) -> ir.Table:
    import pandas as pd

    frame = pd.DataFrame(columns)
    for c, v in columns.items():
        if v and not isinstance(v[0], str):
            frame[c] = pd.to_datetime(frame[c], utc=True)
    schema = {
        c: ("string" if c in ("promotion_id", "listing_id") else "timestamp('UTC')")
        for c in columns
    }
    return ibis.memtable(frame, schema=schema)


def _with_window(tables: Tables, pairs: ir.Table, days: int, tz: str) -> ir.Table:
    """``pairs`` with ``window_start``: local midnight ``days`` calendar days before the promotion."""
    pr = tables.promotions
    rows = tables.to_arrow(pr.select("promotion_id", "starts_at")).to_pylist()
    starts = calendar_window_starts([(r["promotion_id"], r["starts_at"]) for r in rows], days, tz)
    ws = _ts_memtable(
        {"promotion_id": [k for k, _ in starts], "window_start": [w for _, w in starts]}
    )
    return pairs.join(ws, "promotion_id")


def _segments(tables: Tables, listings: ir.Table) -> ir.Table:
    """The detail price of each listing as segments: ``price`` applied from ``seg_start`` until the
    next observation (``seg_end``, NULL for the last). The price applied on a day is every segment
    that overlaps it, so a price set before a window and still in force when it opens counts (a
    change-log export has no row inside the window)."""
    d = _detail_prices(tables)
    d = d.semi_join(listings, "listing_id")
    w = ibis.window(group_by=d.listing_id, order_by=[d.observed_at, d.price])
    return d.select(
        "listing_id", "price", seg_start=d.observed_at, seg_end=d.observed_at.lead().over(w)
    )


def _overlapping(seg: ir.Table, keys: ir.Table, lo: str, hi: str) -> ir.Table:
    """Segments of ``keys``' listings that overlap [keys.lo, keys.hi)."""
    return keys.join(
        seg,
        [
            keys.listing_id == seg.listing_id,
            seg.seg_start < keys[hi],
            seg.seg_end.isnull() | (seg.seg_end > keys[lo]),
        ],
    )


def _applied_low(tables: Tables, keys: ir.Table, lo: str = "window_start", hi: str = "starts_at"):
    """Per (listing, promotion) of ``keys``: the lowest detail price applied in [lo, hi)."""
    seg = _segments(tables, keys.select("listing_id").distinct())
    j = _overlapping(seg, keys, lo, hi)
    return j.group_by("listing_id", "promotion_id").aggregate(applied_low=lambda t: t.price.min())


def _lowest_transacted(tables: Tables, pairs: ir.Table, params: dict[str, Any], tz: str):
    """cn: lowest transacted price in the look-back (calendar days); else the last sale before;
    else, for a listing that never sold before the promotion, the lowest price applied (offered)
    in the look-back. A sale on or after the promotion's start is no prior transaction and
    decides nothing: a first sale during the promotion (or after it) had let the listing escape,
    with no prior price at all, where one never sold is judged on its offered price."""
    sales = transactions(tables, params).select("listing_id", "paid_at", "unit_price")
    keys = pairs.select("listing_id", "promotion_id", "starts_at", "window_start")
    in_window = (
        keys.join(
            sales,
            [
                keys.listing_id == sales.listing_id,
                sales.paid_at >= keys.window_start,
                sales.paid_at < keys.starts_at,
            ],
        )
        .group_by("listing_id", "promotion_id")
        .aggregate(tx_low=lambda t: t.unit_price.min())
    )
    # the last sale before the promotion (the lowest price among sales at that same instant);
    # two aggregations rather than a window over every sale: much cheaper on big order tables
    before = keys.join(sales, [keys.listing_id == sales.listing_id, sales.paid_at < keys.starts_at])
    last_at = before.group_by("listing_id", "promotion_id").aggregate(
        last_at=lambda t: t.paid_at.max()
    )
    at_last = last_at.join(
        sales,
        [last_at.listing_id == sales.listing_id, sales.paid_at == last_at.last_at],
    )
    last = at_last.group_by("listing_id", "promotion_id").aggregate(
        last_tx=lambda t: t.unit_price.min()
    )
    # offered prices only matter for a listing that never sold before the promotion (it has no
    # last sale before it): only for those pairs
    unsold = keys.anti_join(last, PAIR)
    offered = _applied_low(tables, unsold).rename(offered_low="applied_low")
    j = _left(pairs, in_window, PAIR)
    j = _left(j, last, PAIR)
    j = _left(j, offered, PAIR)
    no_sales = j.last_tx.isnull()
    return j.mutate(
        legal_prior_price=ibis.cases(
            (j.tx_low.notnull(), j.tx_low),
            (j.last_tx.notnull(), j.last_tx),
            (no_sales, j.offered_low),
            else_=ibis.null(MONEY),
        ).cast(MONEY),
        prior_price_source=ibis.cases(
            (j.tx_low.notnull(), "transactions"),
            (j.last_tx.notnull(), "last_transaction"),
            (no_sales & j.offered_low.notnull(), "offered"),
            else_=ibis.null("string"),
        ),
    ).drop("tx_low", "last_tx", "offered_low")


def _lowest_offered(tables: Tables, pairs: ir.Table, params: dict[str, Any], tz: str):
    """eu: the lowest price applied on the calendar days of the look-back, the price in force when
    it opens included (Art. 6a(2)); with ``progressive``, the prior price of a campaign of
    successive announced reductions that the promotion price continues is the one before its
    first reduction (Art. 6a(5))."""
    keys = pairs.select("listing_id", "promotion_id", "starts_at", "window_start")
    low = _applied_low(tables, keys)
    j = _left(pairs, low, PAIR)
    plain = j.mutate(
        legal_prior_price=j.applied_low.cast(MONEY),
        prior_price_source=ibis.ifelse(j.applied_low.notnull(), "offered", ibis.null("string")),
    ).drop("applied_low")
    if not params["progressive"]:
        return plain
    campaign = _progressive_campaigns(tables, pairs, params, tz)
    j = _left(j, campaign, PAIR)
    return j.mutate(
        legal_prior_price=j.pre_campaign_low.fill_null(j.applied_low).cast(MONEY),
        prior_price_source=ibis.cases(
            (j.pre_campaign_low.notnull(), "offered_before_first_reduction"),
            (j.applied_low.notnull(), "offered"),
            else_=ibis.null("string"),
        ),
    ).drop("applied_low", "pre_campaign_low", "first_reduction_at")


def _progressive_campaigns(tables: Tables, pairs: ir.Table, params: dict[str, Any], tz: str):
    """(listing, promotion, first_reduction_at, pre_campaign_low) for the pairs whose look-back is
    one campaign of successive announced reductions (Directive 98/6/EC Art. 6a(5)): from its first
    announced reduction (a detail price shown below a struck-through reference, or with a claimed
    discount percentage, not labelled a manufacturer's price: ``_announced_reduction``) every
    detail observation is announced, the price never rises, and the
    promotion price is at or below the last price before the promotion. An unannounced ordinary
    cut is not a reduction of the campaign: it counts as a price applied (Art. 6a(2))."""
    days = int(params["lookback_days"])
    po = tables.price_observations
    detail = po.filter(on_detail(po))
    keys = pairs.select("listing_id", "promotion_id", "starts_at", "window_start", "min_price")
    obs = keys.join(
        detail,
        [
            keys.listing_id == detail.listing_id,
            detail.observed_at >= keys.window_start,
            detail.observed_at < keys.starts_at,
        ],
    )
    obs = obs.mutate(_announced=_announced_reduction(obs, params))
    first = (
        obs.filter(obs._announced)
        .group_by("listing_id", "promotion_id")
        .aggregate(first_reduction_at=lambda t: t.observed_at.min())
    )
    first = _campaign_began(tables, keys, first, params)
    tail = obs.join(first, PAIR).filter(lambda t: t.observed_at >= t.first_reduction_at)
    w = ibis.window(group_by=[tail.listing_id, tail.promotion_id], order_by=[tail.observed_at])
    tail = tail.mutate(_prev=tail.price.lag().over(w), _next_at=tail.observed_at.lead().over(w))
    moves = tail.group_by(
        "listing_id", "promotion_id", "first_reduction_at", "min_price"
    ).aggregate(
        unannounced=lambda t: (~t._announced).cast("int64").sum(),
        rises=lambda t: (t.price > t._prev).fill_null(False).cast("int64").sum(),
        last_price=lambda t: t.price.min(where=t._next_at.isnull()),
    )
    ok = moves.filter(moves.unannounced == 0, moves.rises == 0, moves.min_price <= moves.last_price)
    # the prior price of the campaign: the lowest applied in the calendar days before its first
    # reduction (computed in Python for these few pairs: DST-safe local midnights)
    found = tables.to_arrow(ok.select("listing_id", "promotion_id", "first_reduction_at"))
    rows = found.to_pylist()
    if not rows:
        return ok.select(
            "listing_id",
            "promotion_id",
            "first_reduction_at",
            pre_campaign_low=ibis.null(MONEY),
        ).limit(0)
    starts = calendar_window_starts(
        [((r["listing_id"], r["promotion_id"]), r["first_reduction_at"]) for r in rows], days, tz
    )
    ck = _ts_memtable(
        {
            "listing_id": [k[0] for k, _ in starts],
            "promotion_id": [k[1] for k, _ in starts],
            "campaign_window_start": [w for _, w in starts],
            "first_reduction_at": [r["first_reduction_at"] for r in rows],
        }
    )
    low = _applied_low(tables, ck, "campaign_window_start", "first_reduction_at")
    out = ck.join(low, PAIR)
    return out.select(
        "listing_id",
        "promotion_id",
        "first_reduction_at",
        pre_campaign_low=out.applied_low,
    )


def _campaign_began(
    tables: Tables, keys: ir.Table, first: ir.Table, params: dict[str, Any]
) -> ir.Table:
    """``first`` (listing, promotion, first_reduction_at: the look-back's first announced
    reduction) with first_reduction_at moved back to where its campaign began when the campaign
    was already running as the look-back opened: the earliest of the unbroken run of announced
    detail observations, none above the one before it, that ends at the look-back's first one.
    Art. 6a(5) takes the prior price from before the campaign's first reduction however long ago
    it was; reading only the look-back took the campaign's second step for its first (the
    reviewer's case: €100, then 90, 80 and 70 all 'was 100', the first cut 43 days before).
    A run starts at an announced observation after an unannounced one, after a rise, or at the
    listing's first observation; the look-back's first announced observation is its own start
    whenever an unannounced one precedes it inside the look-back, so this only moves it back."""
    po = tables.price_observations
    detail = po.filter(on_detail(po))
    k = keys.semi_join(first, PAIR).select("listing_id", "promotion_id", "starts_at")
    hist = k.join(
        detail, [k.listing_id == detail.listing_id, detail.observed_at < k.starts_at]
    ).select(
        "listing_id",
        "promotion_id",
        "observed_at",
        "price",
        "reference_price",
        "reference_label",
        "claimed_discount_pct",
    )
    hist = hist.mutate(_ann=_announced_reduction(hist, params))
    w = ibis.window(
        group_by=[hist.listing_id, hist.promotion_id],
        order_by=[hist.observed_at, hist.price, hist.reference_price],
    )
    hist = hist.mutate(_pann=hist._ann.lag().over(w), _pprice=hist.price.lag().over(w))
    starts = hist.filter(
        hist._ann & (~hist._pann.fill_null(False) | (hist.price > hist._pprice).fill_null(False))
    ).select("listing_id", "promotion_id", run_at=hist.observed_at)
    j = first.join(starts, [*PAIR, starts.run_at <= first.first_reduction_at])
    began = j.group_by("listing_id", "promotion_id").aggregate(began_at=lambda t: t.run_at.max())
    out = _left(first, began, PAIR)
    return out.select(
        "listing_id",
        "promotion_id",
        first_reduction_at=out.began_at.fill_null(out.first_reduction_at),
    )


def _established_offered(tables: Tables, pairs: ir.Table, params: dict[str, Any], tz: str):
    """us/uk: the highest price applied on at least ``min_days_offered`` calendar days of the
    look-back (a price in force across a day counts for that day, whether or not it was observed
    then); when no price was offered that long, the lowest price applied (nothing higher was
    ever established)."""
    days = int(params["lookback_days"])
    pr = tables.promotions
    prs = tables.to_arrow(pr.select("promotion_id", "starts_at")).to_pylist()
    cal = _calendar_days([(r["promotion_id"], r["starts_at"]) for r in prs], days, tz)
    day_table = _ts_memtable(
        {
            "promotion_id": [k for k, _, _ in cal],
            "day_start": [lo for _, lo, _ in cal],
            "day_end": [hi for _, _, hi in cal],
        }
    )
    keys = pairs.select("listing_id", "promotion_id").join(day_table, "promotion_id")
    seg = _segments(tables, pairs.select("listing_id").distinct())
    j = _overlapping(seg, keys, "day_start", "day_end")
    per_price = j.group_by("listing_id", "promotion_id", "price").aggregate(
        days_offered=lambda t: t.day_start.nunique()
    )
    est = (
        per_price.filter(per_price.days_offered >= int(params["min_days_offered"]))
        .group_by("listing_id", "promotion_id")
        .aggregate(established=lambda t: t.price.max())
    )
    low = per_price.group_by("listing_id", "promotion_id").aggregate(
        window_low=lambda t: t.price.min()
    )
    j = _left(_left(pairs, est, PAIR), low, PAIR)
    return j.mutate(
        legal_prior_price=j.established.fill_null(j.window_low).cast(MONEY),
        prior_price_source=ibis.cases(
            (j.established.notnull(), "established_offered"),
            (j.window_low.notnull(), "offered_not_established"),
            else_=ibis.null("string"),
        ),
    ).drop("established", "window_low")


def legal_prior_prices(
    tables: Tables, params: dict[str, Any], tz: str = "UTC", claims: bool = False
) -> ir.Table:
    """(listing, promotion) pairs with a reference price (with ``claims``: or a claimed discount
    percentage) and their legal prior price; the look-back is counted in calendar days in ``tz``
    (the pack's time zone)."""
    rule = params["prior_rule"]
    pairs = _with_window(
        tables, promotion_references(tables, params, claims), int(params["lookback_days"]), tz
    )
    if rule == "lowest_transacted":
        out = _lowest_transacted(tables, pairs, params, tz)
    elif rule == "lowest_offered":
        out = _lowest_offered(tables, pairs, params, tz)
    elif rule == "established_offered":
        out = _established_offered(tables, pairs, params, tz)
    else:
        from promoguard.errors import CheckError

        raise CheckError(f"prior_rule must be one of {', '.join(PRIOR_RULES)}, not {rule!r}")
    return out.filter(out.legal_prior_price.notnull())


def _one_per_listing(t: ir.Table, worst: ir.Value) -> ir.Table:
    """Keep each listing's worst row (ties: the earliest promotion id) so findings are stable."""
    return first_rows(t, [t.entity_id], [ibis.desc(worst), t.promotion_id])


def _promotion_series(
    tables: Tables, found: ir.Table, days_before: int, channels: tuple[str, ...] | None = None
) -> ir.Table:
    """The listing's observed prices from ``days_before`` before the promotion to its end."""
    po = tables.price_observations
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    fp = f.join(pr, f.promotion_id == pr.promotion_id).select(
        "entity_id", "promotion_id", "starts_at", "ends_at"
    )
    j = fp.join(
        po,
        [
            fp.entity_id == po.listing_id,
            po.observed_at >= fp.starts_at - ibis.interval(days=days_before),
            po.observed_at < fp.ends_at,
        ],
    )
    if channels:
        j = j.filter(j.channel.isin(list(channels)))
    return j.select(
        "entity_id",
        "observed_at",
        "channel",
        "price",
        "reference_price",
        "reference_label",
        "claimed_discount_pct",
    )


def _promotion_row(tables: Tables, found: ir.Table) -> ir.Table:
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    return f.join(pr, f.promotion_id == pr.promotion_id).select(
        "entity_id", "promotion_id", "name", "starts_at", "ends_at", "announced_at"
    )


def _orders_used(tables: Tables, found: ir.Table, days: int) -> ir.Table:
    """The listing's orders in the look-back before the promotion (what the prior price rests on)."""
    o = tables.orders
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    fp = f.join(pr, f.promotion_id == pr.promotion_id).select("entity_id", "starts_at")
    j = fp.join(
        o,
        [
            fp.entity_id == o.listing_id,
            o.paid_at >= fp.starts_at - ibis.interval(days=days),
            o.paid_at < fp.starts_at,
        ],
    )
    return j.select("entity_id", "order_id", "paid_at", "unit_price", "quantity", "status")


def _last_order(tables: Tables, found: ir.Table) -> ir.Table:
    o = tables.orders
    pr = tables.promotions
    f = found.select("entity_id", "promotion_id")
    fp = f.join(pr, f.promotion_id == pr.promotion_id).select("entity_id", "starts_at")
    j = fp.join(o, [fp.entity_id == o.listing_id, o.paid_at < fp.starts_at])
    last = first_rows(j, [j.entity_id], [ibis.desc(j.paid_at), j.unit_price, j.order_id])
    return last.select("entity_id", "order_id", "paid_at", "unit_price", "quantity", "status")


def _in_force(tables: Tables, found: ir.Table) -> ir.Table:
    """The last detail price set before the window opened: it was applied on the window's first
    day (a change-log export has no row inside the window)."""
    d = _detail_prices(tables)
    f = found.select("entity_id", "window_start")
    j = f.join(d, [f.entity_id == d.listing_id, d.observed_at < f.window_start])
    last = first_rows(j, [j.entity_id], [ibis.desc(j.observed_at), j.price])
    return last.select("entity_id", "observed_at", "price")


def _prior_evidence(tables: Tables, found: ir.Table, params: dict[str, Any]) -> dict[str, ir.Table]:
    days = int(params["lookback_days"])
    ev = {
        "promotion": _promotion_row(tables, found),
        "price_series": _promotion_series(tables, found, days),
        "legal_prior_price": found.select(
            "entity_id", "promotion_id", "window_start", "legal_prior_price", "prior_price_source"
        ),
        "price_in_force_at_window_start": _in_force(tables, found),
    }
    if params["prior_rule"] == "lowest_transacted":
        ev["orders_used"] = _orders_used(tables, found, days)
        ev["last_order_before"] = _last_order(tables, found)
    return ev


# -- PRICE001 --------------------------------------------------------------------------------------


# -- PRICE002 --------------------------------------------------------------------------------------


# -- PRICE003 --------------------------------------------------------------------------------------


_cents = cents
_half_up_ratio = half_up_ratio


# -- PRICE004 --------------------------------------------------------------------------------------


# -- PRICE005 --------------------------------------------------------------------------------------


# -- incremental scans: which merchants' findings a day's new rows can change ------------------
#
# Every window PRICE001-003 read (the promotion itself, the look-back and baseline before it, the
# price in force when the look-back opens, the last sale before the promotion, the evidence's price
# series up to its end) closes by the promotion's end: a row stamped at or after the last end of
# any promotion (``promotions_end``) lies outside all of them. ``_segments``'s ``seg_end`` (the
# next observation) is the one place such a row shows: it turns the last segment's open end into
# a later one, still after every window it overlapped. Nothing reads past the end: cn's
# offered-price fallback asks whether a listing sold before the promotion (``_lowest_transacted``),
# not whether it ever sold. (``incremental.py``, ``depends_on = "merchant_delta"``.)


def promotions_end(season: Tables) -> Any:
    """The latest instant any promotion's window reaches (its start when it ends before it), or
    None when no promotion has one (then no row is known to be past every window)."""
    pr = season.promotions
    got = season.to_arrow(pr.aggregate(h=ibis.greatest(pr.starts_at, pr.ends_at).max()))
    return got.to_pylist()[0]["h"] if got.num_rows else None


def may_be_in_window(at: ir.TimestampValue, end: Any) -> ir.BooleanValue:
    """Whether a row stamped ``at`` may fall in a promotion's windows (an unknown time may)."""
    if end is None:
        return ibis.literal(True)
    return ~(at >= ibis.literal(end, type=at.type())).fill_null(False)


def merchants_of_listings(season: Tables, listings: ir.Table) -> ir.Table:
    """The merchants (``merchant_id``) of the listings in ``listings`` (a ``listing_id`` column)."""
    ls = season.listings
    return ls.semi_join(listings, "listing_id").select("merchant_id")


def touched_by_windows(
    season: Tables, new: Tables, params: dict[str, Any], *, sales: bool
) -> list[ir.Table]:
    """PRICE001-003: the merchants of new listing rows and of new observations (with ``sales``:
    new orders) that may fall in a promotion's windows."""
    end = promotions_end(season)
    po = new.price_observations
    parts = [
        new.listings.select("merchant_id"),
        merchants_of_listings(
            season, po.filter(may_be_in_window(po.observed_at, end)).select("listing_id")
        ),
    ]
    if sales:
        o = new.orders
        early = o.filter(may_be_in_window(o.paid_at, end))
        parts.append(merchants_of_listings(season, early.select("listing_id")))
    return parts


# -- report hooks ---------------------------------------------------------------------------------


def number(v: Any) -> float | None:
    """A finding's JSON value as a float, or None when it is not a number."""
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def levels(*lines: tuple[str, Any, str]) -> list[ChartLevel]:
    """Chart levels from ``(label, value, kind)``, leaving out values that are not numbers."""
    return [
        ChartLevel(label, v, kind)  # type: ignore[arg-type]
        for label, raw, kind in lines
        if (v := number(raw)) is not None
    ]
