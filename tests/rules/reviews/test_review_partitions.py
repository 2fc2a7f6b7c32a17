"""REVIEW003's distributed form (group features counted in SQL, rows scored batch by batch through
Arrow) gives the one-machine form's scores exactly, also where some reviews cannot be scored.

It runs on DuckDB here (``map_partitions`` streams the batches through the same function Spark's
executors run), so the SQL counts are checked against pandas' without a JVM; the Spark parity
tests run it on Spark."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from promoguard.engine.base import Tables
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
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert whole == parts


def test_partitions_agree_where_reviews_cannot_be_scored(review_store):
    # one date for every review (a placeholder): timing and bursts are not available, and a
    # review without its order has no purchase day either: those fall below min_signals
    review_store.execute("UPDATE reviews SET created_at = TIMESTAMPTZ '2026-11-11 00:00:00+00'")
    review_store.execute("UPDATE reviews SET order_id = NULL WHERE review_id[-1:] IN ('1', '3')")
    a, b, whole, parts = _both(review_store, _params(threshold=0.2, min_signals=4))
    assert whole[0] > 0 and "placeholder" in whole[1]
    assert whole == parts
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert len(a) > 0


def test_partitions_agree_without_orders(review_store):
    review_store.execute("DELETE FROM tracking_events")
    review_store.execute("DELETE FROM shipments")
    review_store.execute("DELETE FROM orders")
    # no orders: history and delivery timing not available; four signals still make a score
    a, b, whole, parts = _both(review_store, _params(threshold=0.3, min_signals=5))
    assert whole == parts and whole[0] > 0 and "no orders" in whole[1]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
