"""Review fraud: near-duplicate review texts across buyers (REVIEW001) and a behavioural spam score
(REVIEW003). REVIEW002 (reward for a good review) belongs to the content family."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.checks.base import Check, CheckDoc, Parameter, ScanContext, Tables, first_rows
from promoguard.checks.registry import register
from promoguard.checks.relations import first_delivery_by_order
from promoguard.graph import minhash

MAX_CLUSTER_EVIDENCE = 20


def _strings(values: pd.Series) -> pa.Array:
    """A string column with missing values (NaN after a left merge) as nulls."""
    return pa.array([None if pd.isna(v) else str(v) for v in values], pa.string())


def _listing_places(tables: Tables) -> ir.Table:
    li = tables.listings
    return li.select("listing_id", "merchant_id", "platform_id")


# -- REVIEW001 -----------------------------------------------------------------------------------


def duplicate_clusters(reviews: pa.Table, params: dict[str, Any]) -> pd.DataFrame:
    """Near-duplicate clusters spanning enough distinct buyers.

    ``reviews`` has review_id, buyer_id, text. Returns one row per review in such a cluster with
    cluster_id (its smallest review_id), cluster_size and cluster_buyers.
    """
    empty = pd.DataFrame(columns=["review_id", "cluster_id", "cluster_size", "cluster_buyers"])
    # review_id order, whatever order the engine returned: LSH pairs neighbours in that order
    reviews = reviews.take(pc.sort_indices(reviews, sort_keys=[("review_id", "ascending")]))
    norm = [minhash.normalise(t) for t in reviews.column("text").to_pylist()]
    n = int(params["shingle_n"])
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    keep = (minhash.weighted_lengths(norm) >= float(params["min_length"])) & (lengths >= n)
    rows = np.flatnonzero(keep)
    if len(rows) < 2:
        return empty
    present, sig = minhash.text_signatures([norm[i] for i in rows], n, int(params["num_perm"]))
    rows = rows[present]
    labels = minhash.near_duplicate_clusters(sig, int(params["bands"]), float(params["similarity"]))
    # only rows whose label is shared can form a cluster: look at those alone
    counts = np.bincount(labels, minlength=len(labels))
    shared = counts[labels] >= 2
    if not shared.any():
        return empty
    picked = pa.array(rows[shared])
    df = pd.DataFrame(
        {
            "review_id": reviews.column("review_id").take(picked).to_pylist(),
            "buyer_id": reviews.column("buyer_id").take(picked).to_pylist(),
            "label": labels[shared],
        }
    )
    stats = df.groupby("label").agg(
        cluster_size=("review_id", "size"),
        cluster_buyers=("buyer_id", "nunique"),
        cluster_id=("review_id", "min"),
    )
    stats = stats[(stats.cluster_size >= 2) & (stats.cluster_buyers >= int(params["min_buyers"]))]
    df = df[df["label"].isin(stats.index)]
    if df.empty:
        return empty
    df = df.join(stats, on="label")
    return df[["review_id", "cluster_id", "cluster_size", "cluster_buyers"]].reset_index(drop=True)


@register
class NearDuplicateReviews(Check):
    code = "REVIEW001"
    name = "near-duplicate-reviews"
    title = "Near-duplicate review texts posted by different buyers"
    family = "reviews"
    entity_type = "review"
    severity = "medium"
    parameters = (
        Parameter("shingle_n", 3, "characters per shingle (3..5; no segmentation needed)"),
        Parameter("num_perm", 64, "MinHash permutations"),
        Parameter("bands", 16, "LSH bands (num_perm / bands rows each)"),
        Parameter(
            "similarity", 0.6, "estimated Jaccard similarity of shingle sets to link two texts"
        ),
        Parameter(
            "min_length",
            30,
            "shortest text compared (CJK characters; other characters count one third)",
            unit="characters",
        ),
        Parameter("min_buyers", 2, "distinct buyers a cluster must span", unit="buyers"),
    )
    doc = CheckDoc(
        what=(
            "Normalises each review text (NFKC, lower case, no spaces or punctuation), hashes its "
            "character shingles into a MinHash signature, finds near-duplicate pairs by LSH banding "
            "and closes them into clusters; every review of a cluster written by two or more "
            "distinct buyers is reported with the cluster's id and size. Short generic reviews "
            "('好评', 'good') are ignored."
        ),
        why=(
            "The same wording posted from many accounts is the mark of reviews written by a "
            "seller or a review farm, not by buyers: fabricated user reviews used as false "
            "commercial publicity, and fake consumer reviews under EU, UK and US law."
        ),
        example=(
            "Twelve buyers post '宝贝收到了，质量超级好，跟描述的一模一样，物流超快，五星好评' with "
            "one or two characters changed."
        ),
    )
    observed_columns = ("cluster_id", "cluster_size", "cluster_buyers")
    expected_columns = ("similarity", "min_buyers")
    reads = ("reviews", "listings")

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        r = tables.reviews
        pulled = tables.to_arrow(r.filter(r.text.notnull()).select("review_id", "buyer_id", "text"))
        clusters = duplicate_clusters(pulled, params)
        places = tables.to_arrow(
            r.join(_listing_places(tables), "listing_id").select(
                "review_id", "merchant_id", "platform_id"
            )
        ).to_pandas()
        out = clusters.merge(places, on="review_id", how="left")
        return pa.table(
            {
                "entity_id": pa.array(out["review_id"].astype(str).tolist(), pa.string()),
                "merchant_id": _strings(out["merchant_id"]),
                "platform_id": _strings(out["platform_id"]),
                "cluster_id": pa.array(out["cluster_id"].astype(str).tolist(), pa.string()),
                "cluster_size": pa.array(out["cluster_size"].astype("int64").tolist(), pa.int64()),
                "cluster_buyers": pa.array(
                    out["cluster_buyers"].astype("int64").tolist(), pa.int64()
                ),
                "similarity": pa.array([float(params["similarity"])] * len(out), pa.float64()),
                "min_buyers": pa.array([int(params["min_buyers"])] * len(out), pa.int64()),
            }
        )

    def evidence(self, tables, found, params, ctx):
        # the cluster's first members (by review id) with their texts, beside every finding
        first = first_rows(found, found.cluster_id, [found.entity_id], MAX_CLUSTER_EVIDENCE)
        members = first.select(member_id=first.entity_id, mcid=first.cluster_id)
        a = found.select(entity_id=found.entity_id, cid=found.cluster_id)
        pairs = a.join(members, a.cid == members.mcid)
        r = tables.reviews
        rows = pairs.join(r, pairs.member_id == r.review_id).select(
            pairs.entity_id,
            r.review_id,
            r.buyer_id,
            r.listing_id,
            r.rating,
            r.created_at,
            r.text,
        )
        return {"cluster": rows}


# -- REVIEW003 -----------------------------------------------------------------------------------

#: the behavioural parts of the score, each in [0, 1] (1 = most suspicious)
SCORE_PARTS = (
    "rating_deviation",
    "extremity",
    "early",
    "reviewer_burst",
    "thin_history",
    "listing_burst",
)


def _review_frame(tables: Tables) -> pd.DataFrame:
    """Each review with its listing, buyer, rating, time and (when known) delivery time."""
    r = tables.reviews
    o = tables.orders
    sd = first_delivery_by_order(tables)
    oc = o.select(
        "order_id",
        confirmed_s=o.confirmed_at.epoch_seconds().cast("int64"),
        paid_s=o.paid_at.epoch_seconds().cast("int64"),
    ).left_join(sd, "order_id")
    oc = oc.select("order_id", "confirmed_s", "paid_s", "delivered_s")
    history = o.group_by("buyer_id").aggregate(buyer_orders=o.count())
    rr = r.select(
        "review_id",
        "listing_id",
        "buyer_id",
        "order_id",
        rating=r.rating.cast("int64"),
        created_s=r.created_at.epoch_seconds().cast("int64"),
        text=r.text,
    )
    joined = rr.left_join(oc, rr.order_id == oc.order_id).select(
        rr, oc.confirmed_s, oc.paid_s, oc.delivered_s
    )
    joined = joined.left_join(history, joined.buyer_id == history.buyer_id).select(
        joined, history.buyer_orders
    )
    df = tables.to_arrow(joined).to_pandas()
    return df.sort_values("review_id", kind="stable").reset_index(drop=True)


def score_frame(df: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """SpEagle-style behavioural priors combined into one score per review.

    Rayana & Akoglu (KDD 2015) turn each behavioural feature into a suspiciousness f in [0, 1] and
    combine them as 1 - sqrt(mean((1 - f)^2)): one strongly suspicious feature is not enough, but
    several agreeing ones push the score up. Here each f is a bounded transform of a feature
    rather than an empirical CDF, so a review's score does not depend on the rest of the data set
    beyond its own listing and reviewer.
    """
    out = df.copy()
    if out.empty:
        for part in (*SCORE_PARTS, "score"):
            out[part] = pd.Series(dtype="float64")
        return out
    rating = out["rating"].astype("float64")
    by_listing = rating.groupby(out["listing_id"])
    # deviation from the listing's other reviews (leave-one-out: a burst cannot set its own norm)
    others = (by_listing.transform("size") - 1).astype("float64")
    loo_mean = (by_listing.transform("sum") - rating) / others.where(others > 0)
    out["rating_deviation"] = ((rating - loo_mean).abs() / 4.0).clip(0, 1).fillna(0.0)
    out["extremity"] = rating.isin([1.0, 5.0]).astype("float64")
    received = out["delivered_s"].fillna(out["confirmed_s"])
    lag_h = (out["created_s"] - received) / 3600.0
    early_h = float(params["early_hours"])
    early = (1.0 - lag_h.clip(lower=0) / early_h).clip(0, 1)
    # no delivery to compare with: neither suspicious nor reassuring
    out["early"] = early.where(received.notna(), 0.5)
    day = out["created_s"] // 86400
    per_buyer_day = out.groupby([out["buyer_id"], day])["review_id"].transform("size")
    burst_n = float(params["burst_reviews"])
    max_day = per_buyer_day.groupby(out["buyer_id"]).transform("max")
    out["reviewer_burst"] = ((max_day - 1) / (burst_n - 1)).clip(0, 1)
    # a fresh account with one purchase has no history to vouch for it
    orders = out["buyer_orders"].astype("float64").fillna(1.0).clip(lower=1.0)
    out["thin_history"] = 1.0 / orders
    # a listing's burst: many reviewed orders placed on one day, against its typical day
    # (purchase day, since the reviews of one burst arrive as their parcels are delivered)
    bday = out["paid_s"].fillna(out["created_s"]) // 86400
    per_day = out.groupby([out["listing_id"], bday])["review_id"].transform("size")
    active_days = out.assign(_d=bday).groupby("listing_id")["_d"].transform("nunique")
    typical = out.groupby("listing_id")["review_id"].transform("size") / active_days
    factor = float(params["listing_burst_factor"])
    ratio = per_day / typical.clip(lower=1.0)
    out["listing_burst"] = ((ratio - 1.0) / (factor - 1.0)).clip(0, 1) * (
        per_day >= int(params["listing_burst_min"])
    ).astype("float64")
    weights = {p: float(params["weights"].get(p, 1.0)) for p in SCORE_PARTS}
    if params.get("text_model"):
        from promoguard import reviews_model

        model = reviews_model.load(Path(params["text_model"]))
        out["text_model"] = model.score(out["text"].fillna("").tolist())
        weights["text_model"] = float(params["weights"].get("text_model", 1.0))
    wsum = sum(weights.values())
    total = sum(w * (1.0 - out[p]) ** 2 for p, w in weights.items())
    out["score"] = (1.0 - np.sqrt(total / wsum)).round(4)
    for p in weights:
        out[p] = out[p].astype("float64").round(4)
    return out


def review_scores(
    con: duckdb.DuckDBPyConnection, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Every review's spam score and its parts, from a store connection (REVIEW003's defaults
    overlaid with ``params``)."""
    chosen = SpamBehaviourScore().parameter_defaults()
    chosen.update(params or {})
    tables = Tables(ibis.duckdb.from_connection(con))
    scored = score_frame(_review_frame(tables), chosen)
    keep = ["review_id", "listing_id", "buyer_id", "rating", "score", *SCORE_PARTS]
    if "text_model" in scored:
        keep.append("text_model")
    return scored[keep]


@register
class SpamBehaviourScore(Check):
    code = "REVIEW003"
    name = "spam-behaviour-score"
    title = "Review whose behaviour scores as spam (SpEagle-style priors)"
    family = "reviews"
    entity_type = "review"
    severity = "medium"
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
    )
    doc = CheckDoc(
        what=(
            "Scores every review from behaviour, in the spirit of SpEagle's priors (Rayana & "
            "Akoglu, KDD 2015): how far its rating is from the listing's mean, whether it is "
            "extreme, how soon after delivery it came, how bursty and how thin its reviewer's "
            "history is, and whether it falls in a burst of reviews on the listing. The parts are "
            "combined as 1 - sqrt(weighted mean of (1 - part)^2); reviews at or above the pack's "
            "threshold are reported with the score and its parts. An optional text model from "
            "`promoguard train-reviews` adds its probability as one more part."
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
    expected_columns = ("threshold",)
    reads = ("reviews", "orders", "shipments", "tracking_events", "listings")

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        scored = score_frame(_review_frame(tables), params)
        hit = scored[scored["score"] >= float(params["threshold"])]
        places = tables.to_arrow(_listing_places(tables)).to_pandas()
        hit = hit.merge(places, on="listing_id", how="left")
        cols: dict[str, pa.Array] = {
            "entity_id": pa.array(hit["review_id"].astype(str).tolist(), pa.string()),
            "merchant_id": _strings(hit["merchant_id"]),
            "platform_id": _strings(hit["platform_id"]),
            "score": pa.array(hit["score"].tolist(), pa.float64()),
        }
        for part in SCORE_PARTS:
            cols[part] = pa.array(hit[part].tolist(), pa.float64())
        text = hit["text_model"].tolist() if "text_model" in hit else [None] * len(hit)
        cols["text_model"] = pa.array(text, pa.float64())
        cols["threshold"] = pa.array([float(params["threshold"])] * len(hit), pa.float64())
        return pa.table(cols)

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
        # the reviewer's other reviews (bounded): history and burstiness in the proof
        mine = f.join(r, f.entity_id == r.review_id).select(f.entity_id, r.buyer_id)
        r2 = r.view()
        other = mine.join(r2, mine.buyer_id == r2.buyer_id).select(
            mine.entity_id, r2.review_id, r2.listing_id, r2.rating, r2.created_at
        )
        first = first_rows(other, other.entity_id, [other.created_at, other.review_id], 50)
        return {"review": review, "reviewer_reviews": first}
