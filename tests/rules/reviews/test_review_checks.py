"""REVIEW001 and REVIEW003 on a hand-made world of reviews."""

import json

import pytest
from tests.support import listing, make_store, run_check

from promoguard.rules.reviews._shared import SCORE_PARTS
from promoguard.rules.reviews.review003_spam_behaviour_score import review_scores

from .synth import BURST_BUYERS, DUP_BUYERS

PACKS = ["cn", "eu", "uk", "us"]


def by_code(result, code):
    return result.findings[result.findings.check_code == code]


def reviews_of(con, buyers):
    rows = con.execute(
        "SELECT review_id FROM reviews WHERE list_contains(?, buyer_id) ORDER BY review_id",
        [list(buyers)],
    ).fetchall()
    return [r for (r,) in rows]


@pytest.mark.parametrize("pack", PACKS)
def test_review001_finds_the_copied_reviews_only(review_con, pack):
    f = by_code(run_check(review_con, "REVIEW001", pack), "REVIEW001")
    dups = reviews_of(review_con, DUP_BUYERS)
    assert sorted(f.entity_id) == dups
    obs = {json.loads(o)["cluster_id"] for o in f.observed}
    assert obs == {dups[0]}
    assert {json.loads(o)["cluster_size"] for o in f.observed} == {5}


def test_review001_evidence_lists_the_cluster(review_con):
    result = run_check(review_con, "REVIEW001")
    doc = json.loads(result.evidence[result.findings.evidence_sha256.iloc[0]])
    members = doc["rows"]["cluster"]
    assert sorted(m["review_id"] for m in members) == reviews_of(review_con, DUP_BUYERS)


def _review001_rows_written_out(self, tables, found, params, ctx):
    """REVIEW001's evidence as one row per finding and shown member of its cluster on its
    platform (its form before the members were given once per cluster and platform)."""
    from promoguard.engine.exact import first_rows
    from promoguard.rules.reviews import review001_near_duplicate_reviews as review001

    by = [found.cluster_id, found.platform_id]
    first = first_rows(found, by, [found.entity_id], review001.MAX_CLUSTER_EVIDENCE)
    members = first.select(member_id=first.entity_id, mcid=first.cluster_id, mp=first.platform_id)
    a = found.select(entity_id=found.entity_id, cid=found.cluster_id, p=found.platform_id)
    pairs = a.join(members, [a.cid == members.mcid, a.p == members.mp])
    r = tables.reviews
    rows = pairs.join(r, pairs.member_id == r.review_id).select(
        pairs.entity_id, r.review_id, r.buyer_id, r.listing_id, r.rating, r.created_at, r.text
    )
    return {"cluster": rows}


@pytest.mark.parametrize("part_rows", ["", "7"])
def test_review001_evidence_once_per_cluster_is_each_findings_rows_written_out(
    review_con, monkeypatch, part_rows
):
    """With no length floor the world has clusters of two to ten reviews; with four members
    shown, the larger are cut. The documents are byte for byte those of the rows written out per
    finding, whole and in parts."""
    from promoguard.rules.reviews import review001_near_duplicate_reviews as review001

    NearDuplicateReviews = review001.NearDuplicateReviews
    monkeypatch.setattr(review001, "MAX_CLUSTER_EVIDENCE", 4)
    loose = {"REVIEW001": {"min_length": 2}}
    if part_rows:
        monkeypatch.setenv("PROMOGUARD_EVIDENCE_PART_ROWS", part_rows)
    once = run_check(review_con, "REVIEW001", overrides=loose)
    monkeypatch.setattr(NearDuplicateReviews, "evidence", _review001_rows_written_out)
    written = run_check(review_con, "REVIEW001", overrides=loose)
    assert len(written.findings) > 30
    assert {json.loads(o)["cluster_size"] for o in written.findings.observed} >= {2, 4, 10}
    shown = json.loads(written.evidence[written.findings.evidence_sha256.iloc[0]])["rows"]
    assert 2 <= len(shown["cluster"]) <= 4
    assert once.findings.equals(written.findings)
    assert dict(once.evidence) == dict(written.evidence)


def test_review001_short_generic_and_self_repeats_do_not_cluster(review_con):
    """'好评' by thirty buyers, or one buyer repeating her own long review, is not a finding."""
    f = by_code(
        run_check(review_con, "REVIEW001", overrides={"REVIEW001": {"min_length": 2}}), "REVIEW001"
    )
    # with no length floor the short generic reviews would cluster: the floor is what stops them
    assert len(f) > 5
    f = by_code(run_check(review_con, "REVIEW001"), "REVIEW001")
    assert not set(f.entity_id) & set(reviews_of(review_con, ["SELF0"]))
    assert not set(f.entity_id) & set(reviews_of(review_con, [f"G{i:03d}" for i in range(30)]))


@pytest.mark.parametrize("pack", PACKS)
def test_review003_flags_the_burst_not_honest_reviews(review_con, pack):
    f = by_code(run_check(review_con, "REVIEW003", pack), "REVIEW003")
    assert sorted(f.entity_id) == reviews_of(review_con, BURST_BUYERS)
    obs = json.loads(f.observed.iloc[0])
    assert obs["score"] >= 0.4 and set(SCORE_PARTS) <= set(obs)


def test_review_scores_cover_every_review_with_bounded_parts(review_con):
    s = review_scores(review_con)
    n = review_con.execute("SELECT count(*) FROM reviews").fetchone()[0]
    assert len(s) == n and s.review_id.is_unique
    for part in (*SCORE_PARTS, "score"):
        # NaN: not available (no delivery to time the review against), never out of range
        assert (s[part].isna() | s[part].between(0, 1)).all(), part
    assert s.score.notna().all()  # every review here has enough signals to be scored
    burst = s[s.buyer_id.isin(BURST_BUYERS)]
    honest = s[s.buyer_id.str.startswith("B")]
    assert burst.score.min() > honest.score.max()


def test_a_signal_without_its_inputs_is_not_available(tmp_path):
    """No orders and one placeholder date: history, timing and bursts are not available (NaN),
    never maximally suspicious; with too few signals left the review is not scored, and the scan
    says how many and why."""
    import datetime as dt

    import promoguard.api as pg

    path = tmp_path / "meta.duckdb"
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    make_store(
        path,
        {
            "platforms": [{"platform_id": "p", "name": "P"}],
            "merchants": [{"merchant_id": "m", "platform_id": "p", "name": "M"}],
            "listings": [listing("L", "m", "p", "c")],
            "reviews": [
                {
                    "review_id": f"r{i}",
                    "listing_id": "L",
                    "buyer_id": f"u{i}",
                    "rating": 5 if i % 2 else 1,
                    "created_at": when,
                }
                for i in range(6)
            ],
        },
    ).close()
    s = pg.review_scores(path)
    for part in ("thin_history", "early", "reviewer_burst", "listing_burst"):
        assert s[part].isna().all(), part
    assert s.score.isna().all() and (s.signals == 2).all()
    result = run_check(path, "REVIEW003")
    assert result.findings.empty
    cover = result.coverage["REVIEW003"]
    assert cover["not_scored"] == 6
    assert "fewer than 3" in cover["reason"] and "no orders" in cover["reason"]
    assert "placeholder" in cover["reason"]


def test_review001_quotes_a_clusters_texts_with_their_numbers_masked(tmp_path):
    """A brushed review naming the shop's WeChat/phone number: REVIEW002 masks it in its own
    evidence, and REVIEW001's cluster rows (beside every finding) and its report table must not
    copy it back in."""
    import datetime as dt

    from promoguard.report import build_report

    text = (
        "宝贝收到了质量超级好跟描述的一模一样物流超快，商家说五星好评返现5元，"
        "加微信13912349876领取，真不错{}"
    )
    path = tmp_path / "s.duckdb"
    make_store(
        path,
        {
            "platforms": [{"platform_id": "P1", "name": "Shop"}],
            "merchants": [{"merchant_id": "M1", "platform_id": "P1", "name": "m"}],
            "listings": [listing("L1", "M1", "P1", "food", "tea")],
            "reviews": [
                {
                    "review_id": f"R{i}",
                    "listing_id": "L1",
                    "buyer_id": f"B{i}",
                    "rating": 5,
                    "created_at": dt.datetime(2026, 11, 12, i, tzinfo=dt.UTC),
                    "text": text.format("！" * i),
                }
                for i in range(1, 5)
            ],
        },
    ).close()
    result = run_check(path, "REVIEW001,REVIEW002")
    f = by_code(result, "REVIEW001")
    assert len(f) == 4
    for sha in f.evidence_sha256:
        assert "13912349876" not in result.evidence[sha]
        members = json.loads(result.evidence[sha])["rows"]["cluster"]
        assert all("加微信[PHONE ****9876]领取" in m["text"] for m in members)
    from promoguard import engine

    engine.scan(path, "cn", checks="REVIEW001,REVIEW002")
    html = build_report(path, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "13912349876" not in html and "REVIEW001" in html
