"""A finding's evidence quotes only rows of the finding's own platform.

A platform-scoped user (a compliance team in the web app and the REST API) opens the evidence of
its own findings, and the guidance sent to a platform carries it: another platform's orders,
reviews and buyers must not be in it. Buyer ids are the same on every platform, and a brushing
block, a near-duplicate review cluster, a reviewer's history and a shared parcel can all span
platforms; their rules quote the finding's platform's rows and count the others."""

from __future__ import annotations

import json
from collections import defaultdict

import duckdb


def _platform_lookups(path) -> dict[str, dict[str, str]]:
    """Each order's, review's, listing's and merchant's platform, as the store says."""
    con = duckdb.connect(str(path), read_only=True)
    try:

        def pairs(sql: str) -> dict[str, str]:
            return {str(k): str(v) for k, v in con.execute(sql).fetchall() if v is not None}

        return {
            "merchant_id": pairs("SELECT merchant_id, platform_id FROM merchants"),
            "listing_id": pairs("SELECT listing_id, platform_id FROM listings"),
            "order_id": pairs(
                "SELECT o.order_id, m.platform_id FROM orders o "
                "JOIN merchants m ON o.merchant_id = m.merchant_id"
            ),
            "review_id": pairs(
                "SELECT r.review_id, l.platform_id FROM reviews r "
                "JOIN listings l ON r.listing_id = l.listing_id"
            ),
        }
    finally:
        con.close()


def test_no_finding_quotes_another_platforms_rows(season_scan):
    """Over the scanned small season, every row of every finding's evidence that names an
    order, review, listing or merchant names one of the finding's platform; and the season is
    a real test of it: near-duplicate clusters, brushing blocks and reviewers span platforms,
    and their findings still quote their own platform's members, orders and reviews."""
    result = season_scan.result
    f = result.findings
    places = _platform_lookups(season_scan.path)
    crossed: dict[str, int] = defaultdict(int)
    quoted: dict[str, int] = defaultdict(int)
    counted: dict[str, int] = defaultdict(int)  # findings that count rows they do not quote
    for code, platform, sha in zip(f.check_code, f.platform_id, f.evidence_sha256, strict=True):
        if not isinstance(sha, str) or not sha or not isinstance(platform, str):
            continue
        for name, rows in json.loads(result.evidence[sha])["rows"].items():
            counted[code] += name.endswith("_elsewhere") and bool(rows)
            for row in rows:
                named = [
                    places[col].get(str(row[col]))
                    for col in ("order_id", "review_id", "listing_id", "merchant_id")
                    if row.get(col) is not None
                ]
                if any(p is not None and p != platform for p in named):
                    crossed[code] += 1
                elif any(p == platform for p in named):
                    quoted[code] += 1
    assert not crossed, dict(crossed)

    # the season spans platforms where it matters: a reviewer's history, a shared parcel ...
    assert counted["REVIEW003"] > 0 and counted["SHIP002"] > 0, dict(counted)
    obs = f[f.check_code == "REVIEW001"].observed.map(json.loads)
    cluster_platforms = defaultdict(set)
    for o, p in zip(obs, f[f.check_code == "REVIEW001"].platform_id, strict=True):
        cluster_platforms[o["cluster_id"]].add(p)
    assert any(len(ps) > 1 for ps in cluster_platforms.values())
    b1 = f[f.check_code == "BRUSH001"]
    shops = places["merchant_id"]
    assert any(
        len({shops.get(m) for m in json.loads(o)["merchants"].split("|")}) > 1 for o in b1.observed
    )
    # ... and those findings still quote their own platform's rows
    for code in ("REVIEW001", "REVIEW003", "BRUSH001", "BRUSH002", "SHIP002"):
        assert quoted[code] > 0, code
