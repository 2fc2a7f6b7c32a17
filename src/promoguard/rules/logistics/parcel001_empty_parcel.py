"""PARCEL001 empty-parcel: Empty parcel: missing or token weight, or a long trajectory with no transit scan."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from promoguard.engine.base import CheckDoc, Parameter, ScanContext, Tables
from promoguard.engine.cache import shared
from promoguard.engine.registry import register
from promoguard.rules._relations import (
    city_spellings,
    graded,
    orders_with_platform,
    parcel_scan_summary,
    with_city,
)
from promoguard.rules.logistics._shared import (
    _ALL_COLUMNS,
    _OrderCheck,
    _pair_distances,
    _seconds_between,
    found_orders_rows,
    order_evidence,
)


def _category_minimum(
    category: ir.StringValue,
    minimums: dict[str, Any],
    default: int,
    words: dict[str, Any] | None = None,
    except_words: list[str] | tuple[str, ...] = (),
) -> tuple[ir.IntegerValue, ir.BooleanValue]:
    """(the token-weight minimum of ``category``, whether ``minimums`` names it). A category
    equal to a key of ``minimums`` takes its minimum; else one whose path holds a word of a
    key's ``words`` (家电/电饭煲 holds 电饭煲: ``home``), the lowest where several keys match,
    unless it holds one of ``except_words`` (电饭煲配件/密封圈: accessories are light); else
    ``default``, unnamed."""
    exact = [(category == str(k), int(v)) for k, v in sorted(minimums.items())]
    path = category.lower()
    held = []
    for key, value in sorted(minimums.items(), key=lambda kv: (int(kv[1]), str(kv[0]))):
        key_words = [str(w).strip().lower() for w in (words or {}).get(key) or []]
        key_words = [w for w in key_words if w]
        if key_words:
            held.append((ibis.or_(*(path.contains(w) for w in key_words)), int(value)))
    if held and except_words:
        unless = ibis.or_(*(path.contains(str(w).strip().lower()) for w in except_words if w))
        held = [(m & ~unless, v) for m, v in held]
    pairs = exact + held
    if not pairs:
        return ibis.literal(default), ibis.literal(False)
    named = ibis.or_(*(m for m, _ in pairs)).fill_null(False)
    return ibis.cases(*pairs, else_=default), named


def _direct_hops(tables: Tables) -> ir.Table:
    """Per order: the longest pickup-to-delivered distance of a parcel with no scan in between."""
    # out_for_delivery happens in the destination city: only a transit scan is a hub on the way
    n = parcel_scan_summary(tables)  # shared with SHIP001/003/004 within a scan
    n = n.filter(n.n_transit == 0)
    # cities are looked up only for the few parcels with no transit scan at all
    e = tables.tracking_events
    e = e.join(n, [e.carrier == n.carrier, e.tracking_no == n.tracking_no])
    g = e.group_by(carrier=e.carrier, tracking_no=e.tracking_no).aggregate(
        pickup_raw=ibis.cases((e.event_type == "pickup", e.city), else_=ibis.null("string")).min(),
        delivered_raw=ibis.cases(
            (e.event_type == "delivered", e.city), else_=ibis.null("string")
        ).min(),
    )
    spellings = city_spellings(tables)
    g = with_city(g, "pickup_raw", "pickup_city", spellings)
    g = with_city(g, "delivered_raw", "delivered_city", spellings)
    g = g.filter(g.pickup_city.notnull() & g.delivered_city.notnull())
    d = _pair_distances()
    g = g.join(d, [g.pickup_city == d.from_city, g.delivered_city == d.to_city])
    s = tables.shipments
    j = s.join(g, [s.carrier == g.carrier, s.tracking_no == g.tracking_no])
    return j.group_by(h_order_id=s.order_id).aggregate(direct_km=j.distance_km.max())


def _trajectories(tables: Tables, s: ir.Table, min_hours: float) -> ir.Table:
    """Per order of the shipments ``s``: ``t_order_id``, ``scanned`` (a scan of any of its
    parcels) and ``complete`` (every parcel picked up, scanned in transit, delivered at least
    ``min_hours`` after the pickup, and scanned in at least two cities: a real journey)."""
    p = parcel_scan_summary(tables)
    e = tables.tracking_events
    parcels = s.select(q_carrier=s.carrier, q_tracking_no=s.tracking_no).distinct()
    e = e.semi_join(
        parcels, [e.carrier == parcels.q_carrier, e.tracking_no == parcels.q_tracking_no]
    )
    e = with_city(e, "city", "_pg_c", city_spellings(tables))
    cities = e.group_by(c_carrier=e.carrier, c_tracking_no=e.tracking_no).aggregate(
        n_cities=e._pg_c.nunique()
    )
    p = p.select(
        p_carrier=p.carrier,
        p_tracking_no=p.tracking_no,
        first_pickup_at=p.first_pickup_at,
        first_delivered_at=p.first_delivered_at,
        n_transit=p.n_transit,
    )
    j = s.left_join(p, [s.carrier == p.p_carrier, s.tracking_no == p.p_tracking_no])
    j = j.left_join(cities, [j.carrier == cities.c_carrier, j.tracking_no == cities.c_tracking_no])
    complete = (
        (j.n_transit > 0)
        & (j.n_cities >= 2)
        & (
            _seconds_between(j.first_delivered_at, j.first_pickup_at)
            >= int(round(float(min_hours) * 3600))
        )
    )
    return j.group_by(t_order_id=j.order_id).aggregate(
        scanned=ibis.cases((j.p_carrier.notnull(), 1), else_=0).max() == 1,
        complete=ibis.cases((complete, 1), else_=0).min() == 1,
    )


#: the key of the per-carrier weighing counts (:func:`carrier_weighing`), kept from scan to scan
CARRIER_WEIGHING = ("parcel001_carrier_weighing", "v1")


def _weighing_of(s: ir.Table) -> ir.Table:
    """``k_carrier, n_parcels, n_weighed`` of the shipments ``s`` (int64 counts)."""
    return s.group_by(k_carrier=s.carrier).aggregate(
        n_parcels=s.count().cast("int64"), n_weighed=s.weight_grams.notnull().sum().cast("int64")
    )


def fold_carrier_weighing(previous: ir.Table, tables: Tables, new: Tables) -> ir.Table:
    """The season's per-carrier counts from a previous scan's and the shipments added since:
    counts of disjoint rows add up, per carrier (a carrier's first parcel makes a new row; a
    null carrier is one group on both sides, as ``GROUP BY`` makes it)."""
    previous = previous.select(
        k_carrier=previous.k_carrier.cast("string"),
        n_parcels=previous.n_parcels.cast("int64"),
        n_weighed=previous.n_weighed.cast("int64"),
    )
    fresh = _weighing_of(new.shipments)
    # the same column types on both sides (a copy read back may differ in nullability)
    both = previous.union(
        fresh.select(
            k_carrier=fresh.k_carrier.cast("string"),
            **{c: fresh[c].cast("int64") for c in ("n_parcels", "n_weighed")},
        )
    )
    return both.group_by("k_carrier").aggregate(
        n_parcels=both.n_parcels.sum().cast("int64"), n_weighed=both.n_weighed.sum().cast("int64")
    )


def carrier_weighing(tables: Tables) -> ir.Table:
    """Per carrier, its parcels (shipment rows) and how many of them carry a weight, over the
    whole season. Kept from scan to scan (:func:`fold_carrier_weighing`), and what an
    increment's scoped run of PARCEL001 is handed (``statistic_relations``): its shipments are
    then only its orders' while the share is the season's."""
    return shared(
        tables, CARRIER_WEIGHING, lambda: _weighing_of(tables.shipments), fold_carrier_weighing
    )


@register
class EmptyParcel(_OrderCheck):
    code = "PARCEL001"
    requires = ("orders", "shipments")
    name = "empty-parcel"
    title = "Empty parcel: missing or token weight, or a long trajectory with no transit scan"
    severity = "high"
    # 2: the listing's title is quoted with its identifiers masked (a title may carry a number)
    evidence_version = "2"
    masked_evidence = {"listing": ("title",)}
    reads = ("orders", "merchants", "listings", "shipments", "tracking_events")
    reads_columns = {**_OrderCheck.reads_columns, "listings": _ALL_COLUMNS["listings"]}
    # incremental: its order's rows, and the carriers that weigh (season_statistic, over all
    # shipments): re-checked by order while that set stays the same, in full when it changes;
    # the scoped run is handed the season's per-carrier counts (statistic_relations), so its
    # shipments are only its orders'
    depends_on = "order_statistic"
    statistic_reads = ("shipments",)
    parameters = (
        Parameter(
            "min_weight_grams",
            {},
            "per listing category: a parcel lighter than this cannot hold one item (token weight)",
            basis="policy",
            unit="g",
        ),
        Parameter(
            "category_words",
            {},
            "per key of `min_weight_grams`: words that name it inside an export's own category "
            "path (家电/电饭煲 holds 电饭煲: `home`); a category holding one takes that key's "
            "minimum, the lowest where several match. Only words under which no goods are "
            "lighter than the minimum",
            basis="policy",
        ),
        Parameter(
            "category_words_except",
            [],
            "words that keep a category from `category_words` (电饭煲配件/密封圈: accessories and "
            "consumables of heavy goods are light)",
            basis="policy",
        ),
        Parameter(
            "default_min_weight_grams",
            30,
            "the token-weight threshold for categories not in `min_weight_grams`",
            basis="policy",
            unit="g",
        ),
        Parameter(
            "no_transit_min_km",
            300,
            "a pickup and delivery further apart than this with no transit scan is not a real journey",
            basis="policy",
            unit="km",
        ),
        Parameter(
            "weighed_share_min",
            0.5,
            "a missing weight is a signal only at a carrier that weighs at least this share of its "
            "parcels in the data (a source that records no weights says nothing about one parcel)",
            basis="policy",
        ),
        Parameter(
            "light_goods_min_grams",
            10,
            "a token weight of at least this much (an envelope with its waybill), in a category "
            "`min_weight_grams` does not name, on an order whose every parcel made a complete "
            "journey (pickup, a transit scan, delivery at least `complete_min_hours` later, scans "
            "in two cities) is light goods (documents, SIM cards, cards): reported low with the "
            "reason",
            basis="policy",
            unit="g",
        ),
        Parameter(
            "complete_min_hours",
            12,
            "the least time from pickup to delivery of a complete journey between two cities",
            basis="policy",
            unit="h",
        ),
        Parameter("weight_token", 1.0, "score of a token weight", basis="policy"),
        Parameter(
            "weight_missing", 0.5, "score of a parcel with no recorded weight", basis="policy"
        ),
        Parameter("weight_no_transit", 1.0, "score of a long trajectory with no transit scan"),
        Parameter("threshold", 1.0, "score from which an order is flagged", basis="policy"),
    )
    doc = CheckDoc(
        what=(
            "Scores each shipped order's parcels: a weight under the category's token minimum "
            "(`weight_token`), no weight recorded at a carrier that records weights for at least "
            "`weighed_share_min` of its parcels (`weight_missing`), a pickup and a delivery at "
            "least `no_transit_min_km` apart with no transit scan between them "
            "(`weight_no_transit`). Flags the order when the score reaches `threshold`; "
            "`observed` shows the score and each part. By default a missing weight alone is not "
            "enough (many exports omit weights) but joined with a direct long hop it is. "
            "A category is read as a key of `min_weight_grams` when it is that key, or when its "
            "path holds one of the key's `category_words` and none of `category_words_except` "
            "(an export's 家电/电饭煲 is `home` in cn). "
            "A cancelled order never declared shipped whose parcels have no scan is not "
            "reported: a label printed and voided before dispatch sent nothing. Reported low "
            "with the reason: a token-weight parcel beside a parcel of real weight on the same "
            "order (an invoice or a document mailed apart), and a token weight of at least "
            "`light_goods_min_grams` in a category `min_weight_grams` does not name whose every "
            "parcel made a complete journey (light goods such as documents and SIM cards travel "
            "so; under a named category's minimum no journey makes the weight credible); a "
            "direct long hop keeps it high."
        ),
        why=(
            "An empty parcel (空包) sent to make a fake or brushed order look delivered fabricates "
            "transactions and delivery records: false commercial publicity through fake sales "
            "(Anti-Unfair Competition Law, revised 2025; E-Commerce Law Art. 17) and a "
            "false proof of performance."
        ),
        example=(
            "A cosmetics order whose parcel weighs 8 g, or a 1,900 km 义乌→哈尔滨 parcel with a "
            "pickup and a delivery 20 hours later and nothing in between."
        ),
    )
    observed_columns = (
        "score",
        "weight_grams",
        "token_weight",
        "missing_weight",
        "direct_km",
        "no_transit",
    )
    expected_columns = ("min_weight_grams", "threshold")

    def season_statistic(self, tables: Tables, params: dict[str, Any]) -> ir.Table:
        """``k_carrier``: the carriers that weigh at least ``weighed_share_min`` of their parcels.
        A missing weight counts only at such a carrier: a source that records none (Olist) says
        nothing about any one parcel. (An increment re-checks its orders alone while this stays
        the same: ``depends_on = "order_statistic"``.)"""
        return self.statistic_from({CARRIER_WEIGHING: carrier_weighing(tables)}, params)

    def statistic_from(self, relations: dict[Any, ir.Table], params: dict[str, Any]) -> ir.Table:
        """:meth:`season_statistic` from the relations it reads (:meth:`statistic_relations`'
        keys): an increment compares it on the copies the scan since kept and on their fold."""
        per_carrier = relations[CARRIER_WEIGHING]
        return per_carrier.filter(
            per_carrier.n_weighed >= per_carrier.n_parcels * float(params["weighed_share_min"])
        ).select("k_carrier")

    def statistic_relations(self, tables: Tables) -> dict[Any, ir.Table]:
        """The kept relations ``season_statistic`` reads (keys as given to ``shared``), built on
        ``tables``: an increment builds them on the whole season and hands them to the scoped
        run, whose ``shipments`` hold only its orders' (``incremental._plan_orders``)."""
        return {CARRIER_WEIGHING: _weighing_of(tables.shipments)}

    def statistic_folds(self) -> dict[Any, Any]:
        """How each of :meth:`statistic_relations` folds (``engine.cache.shared``'s ``fold``):
        an increment folds the scan since's copies with the rows added instead of building."""
        return {CARRIER_WEIGHING: fold_carrier_weighing}

    def find(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> ir.Table:
        s, ls = tables.shipments, tables.listings
        o = orders_with_platform(tables)
        cat = ls.select(c_listing_id=ls.listing_id, category=ls.category).distinct(
            on="c_listing_id", keep="first"
        )
        minimums = params["min_weight_grams"] or {}
        default_minimum = int(params["default_min_weight_grams"])
        # each listing's minimum read once, on the listings (119k at city scale), not per order
        c_min, c_named = _category_minimum(
            cat.category,
            minimums,
            default_minimum,
            params.get("category_words") or {},
            params.get("category_words_except") or (),
        )
        cat = cat.mutate(c_min=c_min, c_named=c_named)
        weighs = self.season_statistic(tables, params)
        s = s.left_join(weighs, s.carrier == weighs.k_carrier)
        missing_here = s.weight_grams.isnull() & s.k_carrier.notnull()
        hops = _direct_hops(tables)
        if float(params["threshold"]) > 0:
            # an order with none of the three signals scores 0 and cannot reach a positive
            # threshold: only orders that may have one meet the 5M orders and listings. They
            # are picked from the shipments before grouping, not by grouping all 5.6M city
            # shipments by order first (some 1.5 CPU s): an order's lightest weight is under the
            # heaviest minimum exactly when one of its weights is, it misses a weight exactly
            # when one of its shipments does, and its direct trajectory is long exactly when its
            # hops row says so; each picked order's shipments are then grouped whole
            heaviest_minimum = max([default_minimum, *(int(v) for v in minimums.values())])
            light = s.filter((s.weight_grams < heaviest_minimum) | missing_here)
            long_ = hops.filter(hops.direct_km > float(params["no_transit_min_km"]))
            picked = light.select(p_order_id=light.order_id).union(
                long_.select(p_order_id=long_.h_order_id)
            )
            s = s.semi_join(picked, s.order_id == picked.p_order_id)
            missing_here = s.weight_grams.isnull() & s.k_carrier.notnull()
        w = s.group_by(w_order_id=s.order_id).aggregate(
            weight_grams=s.weight_grams.min(),
            heaviest_grams=s.weight_grams.max(),
            n_missing=missing_here.sum(),
        )
        j = o.join(w, o.order_id == w.w_order_id)  # only orders with a parcel
        j = j.left_join(cat, j.listing_id == cat.c_listing_id)
        j = j.left_join(hops, j.order_id == hops.h_order_id)
        # (an order whose listing has no row: the default, unnamed)
        minimum = j.c_min.coalesce(default_minimum)
        token = j.weight_grams.notnull() & (j.weight_grams < minimum)
        missing = j.n_missing > 0
        no_transit = j.direct_km.notnull() & (j.direct_km > float(params["no_transit_min_km"]))
        score = (
            ibis.cases((token, float(params["weight_token"])), else_=0.0)
            + ibis.cases((missing, float(params["weight_missing"])), else_=0.0)
            + ibis.cases((no_transit, float(params["weight_no_transit"])), else_=0.0)
        )  # sums of the same floats in the same order: identical on every engine
        j = j.mutate(
            score=score,
            token_weight=token,
            missing_weight=missing,
            no_transit=no_transit,
            min_weight_grams=minimum,
        )
        j = j.filter(j.score >= float(params["threshold"]))
        # only a token weight, no long direct hop: light real goods or a second light parcel
        only_token = j.token_weight & ~j.no_transit
        # only where the pack names no minimum for the category: under a named category's
        # minimum (the lightest parcel one of its items makes) a full journey changes nothing
        unnamed = ~j.c_named.fill_null(False)
        j = j.mutate(
            _beside=only_token
            & j.heaviest_grams.notnull()
            & (j.heaviest_grams >= j.min_weight_grams),
            _maybe_light=only_token
            & unnamed
            & (j.weight_grams >= int(params["light_goods_min_grams"])),
            _unsent=(j.status == "cancelled") & j.declared_shipped_at.isnull(),
        )
        # the scans are read only for the orders they decide, after the threshold (a few
        # percent of the picked orders): for every picked order's parcels they took 3-4 s of
        # the city season
        asked = j.filter(j._unsent | j._maybe_light).select(a_order_id=j.order_id)
        t = _trajectories(
            tables,
            s.semi_join(asked, s.order_id == asked.a_order_id),
            float(params["complete_min_hours"]),
        )
        j = j.left_join(t, j.order_id == t.t_order_id)
        # a label printed and voided: the order cancelled, never declared shipped, its parcels
        # never scanned; nothing was sent, so nothing was sent empty
        j = j.filter(~(j._unsent & (j.scanned.isnull() | ~j.scanned)))
        beside = j._beside
        light = j._maybe_light & j.complete.notnull() & j.complete
        grades = graded(
            beside,
            "a light parcel beside a parcel of real weight on the same order (an invoice, a "
            "document or an accessory mailed apart)",
            "low",
            (
                light,
                "light goods (documents, SIM cards, cards): a token weight, but every parcel "
                "made a complete journey (pickup, transit scans, delivery in another city hours "
                "later)",
            ),
        )
        return j.select(
            entity_id=j.order_id,
            merchant_id=j.merchant_id,
            platform_id=j.platform_id,
            score=j.score,
            weight_grams=j.weight_grams,
            token_weight=j.token_weight,
            missing_weight=j.missing_weight,
            direct_km=j.direct_km,
            no_transit=j.no_transit,
            min_weight_grams=j.min_weight_grams,
            threshold=ibis.literal(float(params["threshold"])),
            **grades,
        )

    def evidence(
        self, tables: Tables, found: ir.Table, params: dict[str, Any], ctx: ScanContext
    ) -> dict[str, ir.Table]:
        ev = order_evidence(tables, found, self.code)
        o, _, _ = found_orders_rows(tables, self.code)  # within a scan: the found orders' rows
        ls = tables.listings
        f = found.select(f_id=found.entity_id)
        ev["listing"] = (
            f.join(o, f.f_id == o.order_id)
            .join(ls, o.listing_id == ls.listing_id)
            .select(
                entity_id=f.f_id, listing_id=ls.listing_id, category=ls.category, title=ls.title
            )
        )
        return ev
