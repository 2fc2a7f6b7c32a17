"""REVIEW001's evidence on a cluster that spans platforms: each finding quotes the cluster's
members on its own platform (a platform's team, and the guidance sent to it, may not read
another's reviews and buyers); the cluster's reach stays in the counts."""

import json

import pytest
from tests.rules.brushing.synth import World
from tests.support import run_check

from .test_review001_length import _world as _reviews_world

COPY = "这款保温杯我买来给孩子上学用，保温效果能到十个小时，杯盖的密封圈做得很严实{}"
OTHER = "耳机音质比我想象的好太多了，低音很足，降噪开了地铁上都听不到报站，续航两天一充{}"


def _world() -> World:
    """Eight buyers post one text, five at tmall's shops and three at jd's; four more post
    another, all at jd's (each buyer at a shop of its own, review RV000 ... in this order)."""
    posts = [(f"T{i}", "tmall", COPY) for i in range(5)] + [(f"J{i}", "jd", COPY) for i in range(3)]
    posts += [(f"K{i}", "jd", OTHER) for i in range(4)]
    w = _reviews_world({b: text.format("！" * (k % 3)) for k, (b, _, text) in enumerate(posts)})
    w.platform_of = {m: p for m, (_, p, _) in zip(w.merchants, posts, strict=True)}
    return w


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_a_cluster_across_platforms_is_quoted_per_platform(tiny_store, engine):
    con = tiny_store(_world().tables())
    result = run_check(con, "REVIEW001", engine=engine)
    f = result.findings
    f = f[f.check_code == "REVIEW001"]
    buyer_of = {f"RV{k:03d}": b for k, b in enumerate([*"T" * 5, *"J" * 3, *"K" * 4])}
    assert len(f) == 12
    for entity, platform, observed, sha in zip(
        f.entity_id, f.platform_id, f.observed, f.evidence_sha256, strict=True
    ):
        members = json.loads(result.evidence[sha])["rows"]["cluster"]
        shown = {m["review_id"] for m in members}
        size = json.loads(observed)["cluster_size"]
        if buyer_of[entity] == "K":  # a cluster on one platform is quoted whole
            assert (platform, size, len(shown)) == ("jd", 4, 4)
        elif platform == "tmall":  # the cluster's eight reviews counted, tmall's five quoted
            assert (size, shown) == (8, {f"RV{k:03d}" for k in range(5)})
        else:
            assert (platform, size, shown) == ("jd", 8, {"RV005", "RV006", "RV007"})
        assert entity in shown
