"""PRICE004 cheaper-on-search-than-detail: Search or home page shows a lower price than the detail page at the same time."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import ChartLevel, Check, CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules.pricing._shared import _detail_prices, _money, levels


def _channel_in(po: ir.Table, channels: Any) -> ir.BooleanValue:
    """Whether an observation's channel is one of ``channels``, trimmed and without case (a blind
    set's exports, session 32: Search, SEARCH , HOME, homepage)."""
    return po.channel.strip().lower().isin([str(c).strip().lower() for c in channels])


@register
class CheaperOutsideDetailPage(Check):
    code = "PRICE004"
    depends_on = "listing_delta"
    name = "cheaper-on-search-than-detail"
    title = "Search or home page shows a lower price than the detail page at the same time"
    family = "pricing"
    entity_type = "listing"
    severity = "medium"
    parameters = (
        Parameter(
            "channels",
            ["search", "home", "homepage", "搜索", "首页"],
            "Channels that are the home page or another prominent position (compared trimmed and "
            "without case: an export's Search, HOME, homepage or 首页)",
            basis="law",
        ),
        Parameter(
            "max_gap_minutes",
            30,
            "A detail observation within this many minutes counts as 'the same time'; every "
            "detail observation in that span must be higher, so a price change between the two "
            "sightings is not mistaken for a lure.",
            unit="minutes",
        ),
        Parameter(
            "tolerance",
            0.0,
            "Amount the prominent price may be below the detail price",
            unit="currency",
        ),
    )
    doc = CheckDoc(
        what=(
            "Pairs each search/home observation of a listing with the detail-page observations "
            "of the same listing within max_gap_minutes, and flags the listing when the prominent "
            "price is below every detail price seen in that span."
        ),
        why=(
            "Showing a lower price on the home page or search results than on the detail page "
            "lures buyers with a price they cannot get (明码标价和禁止价格欺诈规定 Art. 20(1)); "
            "elsewhere a misleading price indication / bait pricing."
        ),
        example="Search results show ¥199 at 20:00; the detail page at 20:05 says ¥239.",
    )
    observed_columns = ("prominent_price", "channel", "observed_at")
    expected_columns = ("detail_price",)
    reads = ("price_observations", "listings")
    #: the columns of those it reads (an incremental scan's scoped copy holds only these)
    reads_columns = {
        "price_observations": ("listing_id", "observed_at", "channel", "price"),
        "listings": ("listing_id", "merchant_id", "platform_id"),
    }

    # -- report ---------------------------------------------------------------------------------
    def magnitude(self, observed: dict[str, Any], expected: dict[str, Any]) -> float:
        """How far the prominent price sits below the detail price, as a fraction of it."""
        return 1 - float(observed["prominent_price"]) / float(expected["detail_price"])

    def chart_levels(self, observed: dict[str, Any], expected: dict[str, Any]) -> list[ChartLevel]:
        return levels(
            ("prominent price", observed.get("prominent_price"), "claimed"),
            ("detail price", expected.get("detail_price"), "lawful"),
        )

    def touched_listings(
        self, season: Tables, new: Tables, params: dict[str, Any]
    ) -> list[ir.Table] | None:
        """Incremental: the listings whose finding new rows may change. A finding is the listing's
        worst lure: a search/home sighting priced below every detail price within
        max_gap_minutes of it (a hit), with the observations that close to it as evidence. A new
        observation changes a hit, or adds one, only within max_gap_minutes of the sighting, and
        the evidence only that close to the finding's sighting, itself a hit: so only where a
        sighting (old or new) that close to a new observation is a hit before or after it came,
        and a hit, before or after, has a detail price within the gap above it (old or new).
        Sightings near new rows with no detail price above them are the rule: on a city day,
        24,210 listings had a sighting near a new row, 2,150 a detail price above one. And new
        listing rows (a listing's finding reads its own rows only: ``depends_on =
        "listing_delta"``)."""
        gap = int(params["max_gap_minutes"])
        po, n = season.price_observations, new.price_observations
        prom = po.filter(_channel_in(po, params["channels"]))
        det = _detail_prices(season)
        span = season.to_arrow(n.aggregate(lo=n.observed_at.min(), hi=n.observed_at.max()))
        span = span.to_pylist()
        if not span or span[0]["lo"] is None:  # no new row has a time: none is near anything
            return [new.listings.select("listing_id")]
        lo = ibis.literal(span[0]["lo"], type=po.observed_at.type())
        hi = ibis.literal(span[0]["hi"], type=po.observed_at.type())
        # the sightings that may be near a new row: those of a listing with a new row, from
        # max_gap_minutes before the first new row to as long after the last; the few with a
        # dearer detail price are then paired with the new rows themselves (pairing every
        # sighting with every new row of its listing first cost 3x the whole plan)
        near = prom.filter(
            prom.observed_at >= lo - ibis.interval(minutes=gap),
            prom.observed_at <= hi + ibis.interval(minutes=gap),
        ).semi_join(n, "listing_id")
        near = near.select(p_listing=near.listing_id, p_at=near.observed_at, p_price=near.price)
        det = det.filter(
            det.observed_at >= lo - ibis.interval(minutes=2 * gap),
            det.observed_at <= hi + ibis.interval(minutes=2 * gap),
        )
        det = det.rename(d_listing="listing_id", d_at="observed_at", d_price="price")
        # as the finder compares a sighting with the lowest detail price near it
        above = near.join(
            det,
            [
                near.p_listing == det.d_listing,
                det.d_at >= near.p_at - ibis.interval(minutes=gap),
                det.d_at <= near.p_at + ibis.interval(minutes=gap),
                near.p_price < det.d_price - _money(params["tolerance"]),
            ],
        )
        lures = above.select("p_listing", "p_at").distinct()
        close = lures.join(
            n,
            [
                lures.p_listing == n.listing_id,
                n.observed_at >= lures.p_at - ibis.interval(minutes=gap),
                n.observed_at <= lures.p_at + ibis.interval(minutes=gap),
            ],
        )
        return [new.listings.select("listing_id"), close.select(listing_id=close.p_listing)]

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        po = tables.price_observations
        gap = int(params["max_gap_minutes"])
        prom = po.filter(_channel_in(po, params["channels"])).select(
            "listing_id", "observed_at", "channel", prominent_price=po.price
        )
        det = _detail_prices(tables).rename(
            d_listing="listing_id", d_at="observed_at", d_price="price"
        )
        j = prom.join(
            det,
            [
                prom.listing_id == det.d_listing,
                det.d_at >= prom.observed_at - ibis.interval(minutes=gap),
                det.d_at <= prom.observed_at + ibis.interval(minutes=gap),
            ],
        )
        per_obs = j.group_by("listing_id", "observed_at", "channel", "prominent_price").aggregate(
            detail_price=lambda t: t.d_price.min()
        )
        hits = per_obs.filter(
            per_obs.prominent_price < per_obs.detail_price - _money(params["tolerance"])
        )
        ls = tables.listings
        h = hits.join(ls, hits.listing_id == ls.listing_id)
        t = h.select(
            entity_id=h.listing_id,
            merchant_id=h.merchant_id,
            platform_id=h.platform_id,
            prominent_price=h.prominent_price,
            channel=h.channel,
            observed_at=h.observed_at,
            detail_price=h.detail_price,
        )
        worst_gap = ibis.desc(t.detail_price - t.prominent_price)
        return first_rows(t, [t.entity_id], [worst_gap, t.observed_at, t.channel])

    def evidence(self, tables, found, params, ctx):
        po = tables.price_observations
        gap = int(params["max_gap_minutes"])
        f = found.select("entity_id", at="observed_at")
        j = f.join(
            po,
            [
                f.entity_id == po.listing_id,
                po.observed_at >= f.at - ibis.interval(minutes=gap),
                po.observed_at <= f.at + ibis.interval(minutes=gap),
            ],
        )
        return {"observations": j.select("entity_id", "observed_at", "channel", "price")}
