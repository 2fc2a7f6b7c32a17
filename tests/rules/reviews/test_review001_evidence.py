"""REVIEW001's cluster evidence written once per cluster is the JSON of every finding's own rows."""

import datetime as dt

import pyarrow as pa

from promoguard.engine.evidence import canonical_json_group_table, canonical_json_groups
from promoguard.rules.reviews.review001_near_duplicate_reviews import cluster_evidence

T0 = dt.datetime(2026, 11, 11, 20, 0, 0, 120000)


def members_table():
    """Two clusters' shown members; texts with quotes, backslashes and control characters (the
    blank itself among them), a null buyer and rating, equal buyers so later columns order them."""
    return pa.table(
        {
            "entity_id": ["R1", "R1", "R1", 'R"7', 'R"7'],
            "review_id": ["R1", "R2", "R3", 'R"7', "R8"],
            "buyer_id": ["B2", "B1", "B1", None, "B\\9"],
            "listing_id": ["L1", "L1", "L2", "L3", "L3"],
            "rating": pa.array([5, None, 4, 5, 1], pa.int16()),
            "created_at": pa.array(
                [T0, T0 + dt.timedelta(seconds=1), T0, None, T0], pa.timestamp("us")
            ),
            "text": ['好评"返现"', "a\\b\x01c", "质量\n不错", "", None],
        }
    )


def found_table():
    return pa.table(
        {
            "entity_id": ["R1", "R2", "R3", 'R"7', "R8", "R9"],
            "cluster_id": ["R1", "R1", "R1", 'R"7', 'R"7', "R0"],  # R0: no member shown
        }
    )


def expanded(members, found):
    """What the engine grouped before: one row per finding and member of its cluster."""
    m = members.rename_columns(["cluster_id", *members.column_names[1:]])
    rows = found.join(m, "cluster_id", join_type="inner").drop_columns(["cluster_id"])
    return rows.select(["entity_id", *members.column_names[1:]])


def test_each_finding_gets_the_bytes_its_own_rows_give():
    members, found = members_table(), found_table()
    got = cluster_evidence(members, found)
    want = canonical_json_groups(expanded(members, found))
    assert dict(zip(got.column("g").to_pylist(), got.column("j").to_pylist(), strict=True)) == want
    assert set(want) == {"R1", "R2", "R3", 'R"7', "R8"}  # R9's cluster has no shown member
    assert got.schema.equals(canonical_json_group_table(expanded(members, found)).schema)


def test_no_members_no_groups():
    got = cluster_evidence(members_table().slice(0, 0), found_table())
    assert got.num_rows == 0
