"""REVIEW003's evidence of a reviewer who reviews on two platforms: the score reads all of the
buyer's reviews (buyer ids are the same on every platform), the evidence quotes those on the
finding's platform and counts the others (a platform may read only its own)."""

import datetime as dt

import ibis
import pyarrow as pa
from tests.rules.brushing.synth import T0, World

from promoguard.engine import registry
from promoguard.engine.base import ScanContext, Tables


def _reviews_on_two_platforms() -> World:
    """U1 reviews three times at tmall's M00 and twice at jd's M01; U2 three times at M00."""
    w = World(merchants=["M00", "M01"], platform_of={"M01": "jd"})
    posts = [("U1", "M00", 1), ("U1", "M00", 2), ("U1", "M01", 3), ("U1", "M00", 4)]
    posts += [("U1", "M01", 5), ("U2", "M00", 1), ("U2", "M00", 2), ("U2", "M00", 6)]
    for k, (buyer, shop, day) in enumerate(posts):
        oid = w.order(buyer, shop, T0 + dt.timedelta(days=day))
        w.reviews.append(
            {
                "review_id": f"RV{k}",
                "listing_id": f"L-{shop}",
                "buyer_id": buyer,
                "order_id": oid,
                "rating": 5,
                "created_at": T0 + dt.timedelta(days=day, hours=6),
                "text": "好评",
            }
        )
    return w


def test_a_reviewers_history_is_quoted_on_the_findings_platform_and_counted_elsewhere(tiny_store):
    con = tiny_store(_reviews_on_two_platforms().tables())
    check = registry.get("REVIEW003")
    found = ibis.memtable(
        pa.table(
            {
                "entity_id": pa.array(["RV0", "RV2", "RV5"], pa.string()),
                "platform_id": pa.array(["tmall", "jd", "tmall"], pa.string()),
            }
        )
    )
    tables = Tables(ibis.duckdb.from_connection(con))
    ev = check.evidence(tables, found, check.parameter_defaults(), ScanContext("cn", "duckdb"))
    quoted: dict[str, list[str]] = {}
    for row in tables.to_arrow(ev["reviewer_reviews"]).to_pylist():
        quoted.setdefault(row["entity_id"], []).append(row["review_id"])
    # tmall's finding on U1 quotes U1's tmall reviews, jd's U1's jd reviews; U2 is all tmall's
    assert {k: sorted(v) for k, v in quoted.items()} == {
        "RV0": ["RV0", "RV1", "RV3"],
        "RV2": ["RV2", "RV4"],
        "RV5": ["RV5", "RV6", "RV7"],
    }
    elsewhere = {
        r["entity_id"]: r["reviews"] for r in tables.to_arrow(ev["reviewer_elsewhere"]).to_pylist()
    }
    assert elsewhere == {"RV0": 2, "RV2": 3}
