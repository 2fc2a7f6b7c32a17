"""REVIEW003 spam-behaviour-score: Review whose behaviour scores as spam (SpEagle-style priors)."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.engine.base import (
    COVERAGE_METADATA,
    Check,
    CheckDoc,
    Parameter,
    ScanContext,
    Tables,
)
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules._relations import listing_platforms
from promoguard.rules.reviews._shared import (
    SCORE_PARTS,
    _listing_places,
    _review_frame,
    day_offset,
    score_frame,
    scored_rows,
)


@register
class SpamBehaviourScore(Check):
    code = "REVIEW003"
    name = "spam-behaviour-score"
    title = "Review whose behaviour scores as spam (SpEagle-style priors)"
    family = "reviews"
    # drawn beside the brushing rings: the same buyers often write the reviews
    report_section = "brushing"
    entity_type = "review"
    severity = "medium"
    # 2: the review's text is quoted with its identifiers masked; 3: the reviewer's reviews
    # quoted are those on the finding's platform, the others counted (reviewer_elsewhere)
    evidence_version = "3"
    masked_evidence = {"review": ("text",)}
    parameters = (
        Parameter("threshold", 0.4, "score at or above which a review is reported"),
        Parameter("early_hours", 2.0, "a review this soon after delivery is suspicious", unit="h"),
        Parameter("burst_reviews", 4, "reviews by one buyer in a day that count as a full burst"),
        Parameter("listing_burst_factor", 4.0, "a listing's day this many times its typical day"),
        Parameter("listing_burst_min", 5, "fewest reviews on the listing that day for a burst"),
        Parameter(
            "weights",
            {
                "rating_deviation": 1.0,
                "extremity": 0.5,
                "early": 1.0,
                "reviewer_burst": 1.0,
                "thin_history": 1.0,
                "listing_burst": 1.5,
            },
            "weight of each part in the combination",
        ),
        Parameter("text_model", None, "path of a model from `promoguard train-reviews` (or null)"),
        Parameter(
            "min_signals",
            3,
            "fewest available signals a review needs to be scored; a signal whose inputs the data "
            "lacks (no orders, one placeholder date) is not available, and a review with fewer is "
            "not scored: the scan counts it and says why",
        ),
    )
    doc = CheckDoc(
        what=(
            "Scores every review from behaviour, in the spirit of SpEagle's priors (Rayana & "
            "Akoglu, KDD 2015): how far its rating is from the listing's mean, whether it is "
            "extreme, how soon after delivery it came, how bursty and how thin its reviewer's "
            "history is, and whether it falls in a burst of reviews on the listing: many more "
            "than the listing's typical day on the day their orders were paid or on the day they "
            "were posted (local days of the pack's time zone, and days turning at noon, so a "
            "burst running past midnight is whole on one of them). How soon after delivery is "
            "timed from the first delivery scan: a buyer's confirmation of receipt is not one "
            "(platforms ask for the review on confirming). The parts are "
            "combined as 1 - sqrt(weighted mean of (1 - part)^2); reviews at or above the pack's "
            "threshold are reported with the score and its parts. An optional text model from "
            "`promoguard train-reviews` adds its probability as one more part. The history "
            "read is the buyer's on every platform; the evidence quotes its reviews on the "
            "finding's platform and counts the others."
        ),
        why=(
            "Bursts of extreme reviews from one-off accounts minutes after delivery are how paid "
            "or fabricated reviews look; publishing them misleads consumers (fabricated user "
            "reviews, fake consumer reviews)."
        ),
        example=(
            "A listing with two reviews a week gets 30 five-star reviews in one evening, each "
            "posted within an hour of delivery by an account with no other review."
        ),
    )
    observed_columns = ("score", *SCORE_PARTS, "text_model")

    def input_files(self, params: dict[str, Any]) -> list[str]:
        # a model retrained in place keeps its path; its scores do not stay (scan --since)
        return [str(params["text_model"])] if params.get("text_model") else []

    expected_columns = ("threshold",)
    reads = ("reviews", "orders", "shipments", "tracking_events", "listings")

    # -- report ---------------------------------------------------------------------------------
    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """The highest spam scores and their parts."""
        from promoguard.report.i18n import tr
        from promoguard.report.sections._html import table

        s = findings
        if s.empty:
            return ""
        obs = s.observed.map(json.loads)
        top = (
            pd.DataFrame({"review": s.entity_id, "o": obs})
            .assign(score=lambda x: x.o.map(lambda o: o["score"]))
            .sort_values(["score", "review"], ascending=[False, True])
            .head(20)
        )
        parts = ["early", "listing_burst", "thin_history", "rating_deviation"]
        rows = [[r.review, r.score, *[r.o.get(p) for p in parts]] for r in top.itertuples()]
        return f"<h3>{tr('Review spam scores ({n} above threshold)', n=len(s))}</h3>" + table(
            ["review", "score", *parts], rows, numeric=(1, 2, 3, 4, 5)
        )

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        # counted in SQL, scored a batch (a partition on Spark) at a time: only the reviews found
        # reach pandas whole, not every review with its ids and text (the one-machine form,
        # ``score_frame``, gives the same scores; tests/rules/reviews/test_review_partitions.py)
        hit, skipped, why = scored_rows(tables, params, day_offset(ctx.timezone))
        li = _listing_places(tables)
        listing = hit.column("listing_id")
        wanted = ibis.memtable(
            {"listing_id": pc.unique(listing.drop_null()).sort().cast(pa.string())}
        )
        places = tables.to_arrow(li.semi_join(wanted, "listing_id"))
        # each found review's listing's place (none for a review without a listed listing)
        at = pc.index_in(listing, value_set=places.column("listing_id"))

        def place(name: str) -> pa.Array:
            return places.column(name).take(at).combine_chunks().cast(pa.string())

        def floats(name: str) -> pa.Array:
            # a missing value is NaN, as in the scores (a part not available)
            return pc.fill_null(hit.column(name), float("nan")).combine_chunks()

        cols: dict[str, pa.Array] = {
            "entity_id": hit.column("review_id").combine_chunks().cast(pa.string()),
            "merchant_id": place("merchant_id"),
            "platform_id": place("platform_id"),
            "score": floats("score"),
        }
        for part in SCORE_PARTS:
            cols[part] = floats(part)
        cols["text_model"] = floats("text_model")
        cols["threshold"] = pa.array([float(params["threshold"])] * hit.num_rows, pa.float64())
        found = pa.table(cols)
        if skipped:
            # the scan says how many reviews it could not judge, and why (coverage)
            note = {"not_scored": skipped, "reason": why}
            found = found.replace_schema_metadata({COVERAGE_METADATA: json.dumps(note)})
        return found

    def evidence(self, tables, found, params, ctx):
        r = tables.reviews
        f = found.select("entity_id")
        review = f.join(r, f.entity_id == r.review_id).select(
            f.entity_id,
            r.review_id,
            r.listing_id,
            r.buyer_id,
            r.order_id,
            r.rating,
            r.created_at,
            r.text,
        )
        # the reviewer's other reviews (bounded): history and burstiness in the proof. Buyer ids
        # are the same on every platform and the score reads all of a buyer's reviews, but a
        # platform (its compliance team, the guidance sent to it) may read only its own: the
        # reviews quoted are those on the finding's platform, the others are counted
        # (reviewer_elsewhere), not shown
        fp = found.select(found.entity_id, own=found.platform_id.fill_null(""))
        mine = fp.join(r, fp.entity_id == r.review_id).select(fp.entity_id, fp.own, r.buyer_id)
        r2 = r.view()
        li = listing_platforms(tables)
        placed = r2.left_join(li, r2.listing_id == li.l_id).select(
            r2.buyer_id,
            r2.review_id,
            r2.listing_id,
            r2.rating,
            r2.created_at,
            platform=li.platform_id.fill_null(""),
        )
        other = mine.join(placed, mine.buyer_id == placed.buyer_id).select(
            mine.entity_id,
            placed.review_id,
            placed.listing_id,
            placed.rating,
            placed.created_at,
            here=placed.platform == mine.own,
        )
        ours = other.filter(other.here).drop("here")
        first = first_rows(ours, ours.entity_id, [ours.created_at, ours.review_id], 50)
        elsewhere = (
            other.filter(~other.here)
            .group_by("entity_id")
            .aggregate(
                reviews=ibis._.count(),
                first_at=ibis._.created_at.min(),
                last_at=ibis._.created_at.max(),
            )
        )
        return {"review": review, "reviewer_reviews": first, "reviewer_elsewhere": elsewhere}

    # a finding whose score moved is proved again (the default ``evidence_rows_by_entity =
    # False``): re-heading it reads S's document back, which cost more than proving it (session
    # 8, on an eight-day increment); a one-day increment leaves ~83% of the documents as they were
    def evidence_touched(self, tables, new, found, params, ctx):
        """The found reviews whose evidence rows the rows added since (``new``) can change
        (kept evidence, docs/kept.md), proved from ``evidence`` above: its rows are the review
        rows of the finding's ``review_id`` (``review``) and the reviews of those rows' buyers,
        quoted on the finding's platform (``reviewer_reviews``, the first 50) or counted
        (``reviewer_elsewhere``). Reviews are only added, never changed, so a finding's rows
        can change only by a new review row of its own id (a repeat of the id: another
        ``review`` row, perhaps another buyer), a new review of one of its buyers (its history,
        even past the first 50: counted as touched), or a new listing row under one of its
        buyers' reviews (a listing the store did not hold: that review's platform, so whether
        it is quoted or counted, and the finding's own platform). Every other finding's rows
        are the previous scan's."""
        nr = new.reviews
        ids = nr.select(rid=nr.review_id.cast("string"))
        buyers = nr.filter(nr.buyer_id.notnull()).select(b=nr.buyer_id.cast("string")).distinct()
        f = found.select("entity_id")
        r = tables.reviews
        mine = f.join(r, f.entity_id == r.review_id).select(f.entity_id, r.buyer_id)
        by_buyer = mine.semi_join(buyers, mine.buyer_id == buyers.b).select("entity_id")
        by_id = f.semi_join(ids, f.entity_id == ids.rid).select("entity_id")
        nl = new.listings.select(nl_id=new.listings.listing_id)
        placed = r.semi_join(nl, r.listing_id == nl.nl_id)
        placed = placed.filter(placed.buyer_id.notnull()).select(pb=placed.buyer_id).distinct()
        by_listing = mine.semi_join(placed, mine.buyer_id == placed.pb).select("entity_id")
        return ibis.union(by_id, by_buyer, by_listing, distinct=True)


def review_scores(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any] | None = None, timezone: str = "UTC"
) -> pd.DataFrame:
    """Every review's spam score and its parts, from a store connection (REVIEW003's defaults
    overlaid with ``params``; days are ``timezone``'s, as a pack's ``timezone`` sets them)."""
    chosen = SpamBehaviourScore().parameter_defaults()
    chosen.update(params or {})
    tables = Tables(ibis.duckdb.from_connection(con))
    scored = score_frame(_review_frame(tables), chosen, day_offset(timezone))
    keep = ["review_id", "listing_id", "buyer_id", "rating", "score", "signals", *SCORE_PARTS]
    if "text_model" in scored:
        keep.append("text_model")
    return scored[keep]
