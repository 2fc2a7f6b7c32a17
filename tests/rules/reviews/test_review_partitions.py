"""REVIEW003's distributed form (group features counted in SQL, rows scored batch by batch through
Arrow) gives the one-machine form's scores exactly, also where some reviews cannot be scored.

It runs on DuckDB here (``map_partitions`` streams the batches through the same function Spark's
executors run), so the SQL counts are checked against pandas' without a JVM; the Spark parity
tests run it on Spark."""

from __future__ import annotations

import json

import ibis
import pandas as pd
import pytest
from tests.support import run_check

from promoguard.engine.base import Tables
from promoguard.engine.packs import load_pack
from promoguard.rules.reviews import _shared as reviews
from promoguard.rules.reviews.review003_spam_behaviour_score import SpamBehaviourScore

from .synth import review_world

COLUMNS = ["review_id", "listing_id", "score", *reviews.SCORE_PARTS]


@pytest.fixture
def review_store(tiny_store):
    return tiny_store(review_world().tables())


def _both(con, params):
    tables = Tables(ibis.duckdb.from_connection(con))
    scored = reviews.score_frame(reviews._review_frame(tables), params)
    hit = scored[scored["score"].notna() & (scored["score"] >= float(params["threshold"]))]
    found, not_scored, why = reviews.score_partitions(tables, params)
    a = hit[COLUMNS].sort_values("review_id").reset_index(drop=True)
    b = found[COLUMNS].sort_values("review_id").reset_index(drop=True)
    return a, b, (int(scored.attrs["not_scored"]), scored.attrs["why"]), (not_scored, why)


def _params(**over):
    return SpamBehaviourScore().parameter_defaults() | over


def test_partitions_score_as_the_whole_frame(review_store):
    a, b, whole, parts = _both(review_store, _params())
    assert len(a) >= 5  # the planted burst
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=True)
    assert whole == parts


def test_partitions_agree_where_reviews_cannot_be_scored(review_store):
    # one date for every review (a placeholder): timing and bursts are not available, and a
    # review without its order has no purchase day either: those fall below min_signals
    review_store.execute("UPDATE reviews SET created_at = TIMESTAMPTZ '2026-11-11 00:00:00+00'")
    review_store.execute("UPDATE reviews SET order_id = NULL WHERE review_id[-1:] IN ('1', '3')")
    a, b, whole, parts = _both(review_store, _params(threshold=0.2, min_signals=4))
    assert whole[0] > 0 and "placeholder" in whole[1]
    assert whole == parts
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=True)
    assert len(a) > 0


def test_partitions_agree_without_orders(review_store):
    review_store.execute("DELETE FROM tracking_events")
    review_store.execute("DELETE FROM shipments")
    review_store.execute("DELETE FROM orders")
    # no orders: history and delivery timing not available; four signals still make a score
    a, b, whole, parts = _both(review_store, _params(threshold=0.3, min_signals=5))
    assert whole == parts and whole[0] > 0 and "no orders" in whole[1]
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=True)


def test_the_check_reports_what_the_whole_frame_scores(review_store):
    """REVIEW003 counts in SQL and scores batch by batch on DuckDB too: its findings are the
    reviews the one-machine form (``score_frame``) puts at or above the threshold, to the bit."""
    params = load_pack("cn").parameters_for(SpamBehaviourScore())
    tables = Tables(ibis.duckdb.from_connection(review_store))
    scored = reviews.score_frame(reviews._review_frame(tables), params)
    hit = scored[scored["score"].notna() & (scored["score"] >= float(params["threshold"]))]
    want = {
        r.review_id: [getattr(r, c) for c in ("score", *reviews.SCORE_PARTS)]
        for r in hit.itertuples()
    }
    found = run_check(review_store, "REVIEW003").findings
    got = {
        e: [json.loads(o)[c] for c in ("score", *reviews.SCORE_PARTS)]
        for e, o in zip(found["entity_id"], found["observed"], strict=True)
    }
    assert len(want) >= 5
    # NaN (a part not available) is null in a finding
    assert got == {k: [None if v != v else v for v in vs] for k, vs in want.items()}
