"""REVIEW001 near-duplicate-reviews: Near-duplicate review texts posted by different buyers."""

from __future__ import annotations

import json
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.engine import backends
from promoguard.engine.base import (
    Check,
    CheckDoc,
    GroupRows,
    Parameter,
    ScanContext,
    Tables,
)
from promoguard.engine.exact import first_rows
from promoguard.engine.registry import register
from promoguard.rules.reviews._shared import (
    _listing_places,
    _strings,
    duplicate_clusters_distributed,
    signed_clusters,
    signed_reviews,
)

MAX_CLUSTER_EVIDENCE = 20


@register
class NearDuplicateReviews(Check):
    code = "REVIEW001"
    name = "near-duplicate-reviews"
    title = "Near-duplicate review texts posted by different buyers"
    family = "reviews"
    # drawn beside the brushing rings: the same buyers often write the reviews
    report_section = "brushing"
    entity_type = "review"
    severity = "medium"
    # 2: the members' texts are quoted with their identifiers masked (a brushed review may carry
    # a shop's number); 3: the members shown are those on the finding's own platform
    evidence_version = "3"
    masked_evidence = {"cluster": ("text",)}
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
            "Normalises each review text (HTML entities an export left in decoded, NFKC, lower "
            "case, Cyrillic and Greek letters that look Latin read as Latin, traditional Chinese "
            "characters read as simplified, no spaces or punctuation), hashes its "
            "character shingles into a MinHash signature, finds near-duplicate pairs by LSH banding "
            "and closes them into clusters; every review of a cluster written by two or more "
            "distinct buyers is reported with the cluster's id and size. Short generic reviews "
            "('好评', 'good') are ignored: a text is compared when it is at least min_length long "
            "once normalised, a unit said three or more times in a row counted once, so padding "
            "('好' forty times, 'good product' ten times) is not length. A cluster may span "
            "platforms: a review's evidence quotes the cluster's members on its own platform, "
            "and its sizes count every platform's."
        ),
        why=(
            "The same wording posted from many accounts is the mark of reviews written by a "
            "seller or a review farm, not by buyers: fabricated user reviews used as false "
            "commercial publicity, and fake consumer reviews under EU, UK and US law."
        ),
        example=(
            "Twelve buyers post '宝贝收到了，质量超级好，跟描述的一模一样，物流超快，包装也很用心，"
            "已经推荐给朋友了' with one or two characters changed."
        ),
    )
    observed_columns = ("cluster_id", "cluster_size", "cluster_buyers")
    expected_columns = ("similarity", "min_buyers")
    reads = ("reviews", "listings")

    # -- report ---------------------------------------------------------------------------------
    def report_html(self, con: Any, findings: pd.DataFrame) -> str:
        """The largest clusters of near-duplicate reviews, with the first review's text."""
        from promoguard import present
        from promoguard.report.i18n import tr
        from promoguard.report.sections._html import table
        from promoguard.text.mask import QUOTES

        d = findings
        if d.empty:
            return ""
        obs = d.observed.map(json.loads)
        frame = pd.DataFrame(
            {
                "cluster": obs.map(lambda o: o["cluster_id"]),
                "size": obs.map(lambda o: o["cluster_size"]),
                "buyers": obs.map(lambda o: o["cluster_buyers"]),
            }
        ).drop_duplicates("cluster")
        texts = dict(
            con.execute(
                "SELECT review_id, text FROM reviews WHERE list_contains(?, review_id)",
                [frame.cluster.tolist()],
            ).fetchall()
        )
        rows = [
            [c, s, b, present.excerpt(QUOTES.mask(texts.get(c)) or "", 80)]
            for c, s, b in frame.sort_values(["size", "cluster"], ascending=[False, True])
            .head(20)
            .itertuples(index=False)
        ]
        head = tr(
            "Near-duplicate reviews ({n} reviews, {clusters} clusters)",
            n=len(d),
            clusters=len(frame),
        )
        return f"<h3>{head}</h3>" + table(
            ["cluster", "reviews", "buyers", "first review's text"],
            rows,
            numeric=(1, 2),
            data=(0, 3),
        )

    def find_local(self, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
        r = tables.reviews
        if backends.is_spark(tables.backend):
            # the texts stay on the executors: MinHash bands as a shuffle, only pairs come back
            clusters = duplicate_clusters_distributed(tables, params)
        else:
            # every comparable review's signature, kept from scan to scan: an incremental scan
            # signs only the reviews added since (the clusters are recomputed from all of them)
            clusters = signed_clusters(tables.to_arrow(signed_reviews(tables, params)), params)
        # where the found reviews were posted (only theirs leave the engine)
        found = ibis.memtable(
            {"review_id": pa.array(clusters["review_id"].astype(str), pa.string())}
        )
        places = tables.to_arrow(
            r.semi_join(found, "review_id")
            .join(_listing_places(tables), "listing_id")
            .select("review_id", "merchant_id", "platform_id")
        )
        n = len(clusters)
        review_ids = pa.array(clusters["review_id"].astype(str).tolist(), pa.string())
        ids = places.column("review_id")
        if pc.count_distinct(ids).as_py() == places.num_rows:
            # each review's place looked up in Arrow (a left merge on a unique key, as below)
            at = pc.index_in(review_ids, value_set=ids)
            merchant = places.column("merchant_id").take(at).combine_chunks().cast(pa.string())
            platform = places.column("platform_id").take(at).combine_chunks().cast(pa.string())
            entity = review_ids
        else:  # a review id listed twice: pandas' left merge repeats its rows
            out = clusters.merge(places.to_pandas(), on="review_id", how="left")
            clusters = out
            n = len(out)
            merchant, platform = _strings(out["merchant_id"]), _strings(out["platform_id"])
            entity = pa.array(out["review_id"].astype(str).tolist(), pa.string())
        return pa.table(
            {
                "entity_id": entity,
                "merchant_id": merchant,
                "platform_id": platform,
                "cluster_id": pa.array(clusters["cluster_id"].astype(str).tolist(), pa.string()),
                "cluster_size": pa.array(
                    clusters["cluster_size"].astype("int64").to_numpy(), pa.int64()
                ),
                "cluster_buyers": pa.array(
                    clusters["cluster_buyers"].astype("int64").to_numpy(), pa.int64()
                ),
                "similarity": pa.array([float(params["similarity"])] * n, pa.float64()),
                "min_buyers": pa.array([int(params["min_buyers"])] * n, pa.int64()),
            }
        )

    def evidence(self, tables, found, params, ctx):
        # the cluster's first members (by review id) on the finding's own platform, with their
        # texts, beside every finding. A cluster often spans platforms (16 of 18 clusters of a
        # city season), and a platform's compliance team, or the guidance sent to it, must not
        # read another platform's reviews and buyers: the members shown are the platform's own,
        # the cluster's whole reach stays in the counts (cluster_size, cluster_buyers).
        # Every finding of a cluster and platform shows the same members: given once per group
        # (GroupRows), the engine writes each group's JSON once and copies it into each of its
        # findings (at city scale ~55k member rows instead of 1.1M finding x member rows)
        # (ids are opaque: the platform's length first, so no two pairs make one key)
        platform = found.platform_id.fill_null("")
        group_id = platform.length().cast("string").concat(":", platform, "|", found.cluster_id)
        grouped = found.mutate(group_id=group_id)
        first = first_rows(grouped, grouped.group_id, [grouped.entity_id], MAX_CLUSTER_EVIDENCE)
        r = tables.reviews
        members = first.join(r, first.entity_id == r.review_id).select(
            group_id=first.group_id,
            review_id=r.review_id,
            buyer_id=r.buyer_id,
            listing_id=r.listing_id,
            rating=r.rating,
            created_at=r.created_at,
            text=r.text,
        )
        clusters = grouped.select(entity_id=grouped.entity_id, group_id=grouped.group_id)
        return {"cluster": GroupRows(rows=members, groups=clusters)}
