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
    found, not_scored, why = reviews.scored_rows(tables, params)
    found = found.to_pandas()
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


@pytest.mark.parametrize("at_a_score", [False, True])
def test_the_check_reports_what_the_whole_frame_scores(review_store, at_a_score):
    """REVIEW003 counts in SQL and scores batch by batch on DuckDB too: its findings are the
    reviews the one-machine form (``score_frame``) puts at or above the threshold, to the bit;
    also with the threshold at a planted review's score exactly (at it is reported)."""
    params = load_pack("cn").parameters_for(SpamBehaviourScore())
    tables = Tables(ibis.duckdb.from_connection(review_store))
    scored = reviews.score_frame(reviews._review_frame(tables), params)
    overrides = None
    if at_a_score:
        hit = scored[scored["score"].notna() & (scored["score"] >= float(params["threshold"]))]
        params = params | {"threshold": float(hit["score"].min())}
        overrides = {"REVIEW003": {"threshold": params["threshold"]}}
        assert (scored["score"] == params["threshold"]).sum() >= 1
        assert (scored["score"] < params["threshold"]).sum() > 100
    hit = scored[scored["score"].notna() & (scored["score"] >= float(params["threshold"]))]
    want = {
        r.review_id: [getattr(r, c) for c in ("score", *reviews.SCORE_PARTS)]
        for r in hit.itertuples()
    }
    found = run_check(review_store, "REVIEW003", overrides=overrides).findings
    got = {
        e: [json.loads(o)[c] for c in ("score", *reviews.SCORE_PARTS)]
        for e, o in zip(found["entity_id"], found["observed"], strict=True)
    }
    assert len(want) >= 5
    # NaN (a part not available) is null in a finding
    assert got == {k: [None if v != v else v for v in vs] for k, vs in want.items()}


def _bits(batch) -> dict[str, list]:
    """Each column's values to the bit (float.hex tells -0.0 from 0.0; NaN and null apart)."""
    return {
        name: [v.hex() if isinstance(v, float) else v for v in batch.column(name).to_pylist()]
        for name in batch.schema.names
    }


def _random_rows(rng, n: int):
    import pyarrow as pa

    def ints(lo, hi, missing=0.2):
        values = rng.integers(lo, hi, n)
        return pa.array(values, pa.int64(), mask=rng.random(n) < missing)

    created = rng.integers(1_700_000_000, 1_700_400_000, n)
    lag = rng.choice([-7200, -1, 0, 1, 1800, 3600, 7199, 7200, 9000, 86_400], n)
    delivered = created - lag  # reviews before, at and after their delivery
    listing_n = rng.integers(1, 6, n)  # 1: no other review on the listing
    return pa.RecordBatch.from_pydict(
        {
            "review_id": [f"R{i:05d}" for i in range(n)],
            "listing_id": pa.array(
                [f"L{i % 7}" for i in range(n)], pa.string(), mask=rng.random(n) < 0.1
            ),
            "rating": ints(1, 6),
            "created_s": pa.array(created, pa.int64(), mask=rng.random(n) < 0.1),
            "paid_s": pa.array(created - 86_400 * 3, pa.int64(), mask=rng.random(n) < 0.3),
            "delivered_s": pa.array(delivered, pa.int64(), mask=rng.random(n) < 0.3),
            "buyer_orders": ints(0, 4),
            "listing_n": pa.array(listing_n, pa.int64(), mask=rng.random(n) < 0.1),
            "listing_rating_sum": pa.array(
                (listing_n * rng.integers(1, 6, n)).astype("float64"), mask=rng.random(n) < 0.1
            ),
            "max_day": ints(1, 7),
            "per_day": ints(1, 12),
            "active_days": ints(0, 4),  # 0: every purchase day of the listing missing
            "per_day_noon": ints(1, 12),
            "active_days_noon": ints(0, 4),
            "per_rday": ints(1, 12),
            "active_rdays": ints(0, 4),  # 0: no review of the listing has a date
            "per_rday_noon": ints(1, 12),
            "active_rdays_noon": ints(0, 4),
        }
    )


@pytest.mark.parametrize("dated", [True, False])
@pytest.mark.parametrize("rated", [True, False])
@pytest.mark.parametrize("has_orders", [True, False])
def test_array_scoring_gives_the_frame_scoring_bits(dated, rated, has_orders):
    """A batch scored on arrays (how a partition is scored) equals ``score_rows`` on the batch as a
    DataFrame to the bit: every part, the score, the rows kept and the count not scored, with
    missing values in every input, a listing with one review, a listing with no purchase day and
    reviews written before, at and after delivery."""
    import numpy as np

    rng = np.random.default_rng(11 + 4 * dated + 2 * rated + has_orders)
    batch = _random_rows(rng, 4000)
    inputs = reviews.Inputs(dated, rated, has_orders)
    kept = 0
    for threshold, min_signals in ((0.0, 3), (0.4, 3), (0.3, 5)):
        params = _params(threshold=threshold, min_signals=min_signals)
        fast = reviews._scored_batch(batch, inputs, params, threshold)
        frame = reviews._scored_batch_frame(batch, inputs, params, threshold)
        assert _bits(fast) == _bits(frame)
        kept += fast.num_rows - 1  # the last row is the count not scored
    assert kept > 0 or not (dated and rated)  # not a comparison of empty batches
    # and part by part over every row, not only the ones kept
    params = _params()
    scored = reviews.score_rows(batch.to_pandas(), inputs, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        parts, score, signals = reviews.score_arrays(
            lambda name: reviews._float_column(batch, name), batch.num_rows, inputs, params
        )
    for p in reviews.SCORE_PARTS:
        assert [v.hex() for v in parts[p].tolist()] == [v.hex() for v in scored[p].tolist()], p
    assert [v.hex() for v in score.tolist()] == [v.hex() for v in scored["score"].tolist()]
    assert signals.tolist() == scored["signals"].tolist()


def test_the_engine_counts_the_group_features_as_pandas_does(review_store):
    """GROUP_FEATURES counted in SQL equal pandas' counts review by review, a listing none of
    whose reviews has a purchase day included (no order, dates a placeholder: 0 active days)."""
    review_store.execute("UPDATE reviews SET order_id = NULL WHERE listing_id = 'L-M003'")
    tables = Tables(ibis.duckdb.from_connection(review_store))
    inputs = reviews.Inputs(dated=False, rated=True, has_orders=True)
    sql = tables.to_arrow(
        reviews.group_features_expr(reviews._review_expr(tables, False), inputs)
    ).to_pandas()
    frame = reviews.group_features(reviews._review_frame(tables), inputs)
    cols = ["review_id", *reviews.GROUP_FEATURES]
    a = sql[cols].sort_values("review_id").reset_index(drop=True)
    b = frame[cols].sort_values("review_id").reset_index(drop=True)
    for c in reviews.GROUP_FEATURES:
        a[c], b[c] = a[c].astype("float64"), b[c].astype("float64")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    none = a[frame.sort_values("review_id")["listing_id"].eq("L-M003").to_numpy()]
    assert len(none) > 0 and (none["active_days"] == 0).all()


def _features_three_ways(con, inputs, names=None):
    tables = Tables(ibis.duckdb.from_connection(con), names or {})
    joined = reviews._review_expr(tables, False)
    sql = tables.to_arrow(reviews.group_features_expr(joined, inputs)).to_pandas()
    rows = tables.to_arrow(joined)
    here = reviews.group_features_arrays(rows, inputs)
    arrays = pd.DataFrame({"review_id": rows.column("review_id").to_pylist(), **here})
    frame = reviews.group_features(reviews._review_frame(tables), inputs)
    cols = ["review_id", *reviews.GROUP_FEATURES]
    out = []
    for f in (sql, arrays, frame):
        f = f[cols].sort_values("review_id").reset_index(drop=True)
        for c in reviews.GROUP_FEATURES:
            f[c] = f[c].astype("float64")
        out.append(f)
    return out


@pytest.mark.parametrize("offset", [0, 8 * 3600])
@pytest.mark.parametrize("dated", [True, False])
def test_group_features_counted_here_are_the_engines(review_store, dated, offset):
    """GROUP_FEATURES counted in numpy on the pulled rows (the one-machine form of
    ``scored_rows``) equal the engine's and pandas' review by review: reviews without an order
    (no purchase day), a listing none of whose reviews has one, a review the listings do not
    know, a review of a second buyer on the same day; on UTC's days and on a pack's local
    days (``day_offset``: Beijing's)."""
    review_store.execute("UPDATE reviews SET order_id = NULL WHERE listing_id = 'L-M003'")
    review_store.execute("UPDATE reviews SET order_id = NULL WHERE review_id[-1:] = '7'")
    review_store.execute("UPDATE reviews SET listing_id = 'L-NONE' WHERE review_id[-1:] = '5'")
    # a buyer's two reviews two hours apart: one UTC day, two Beijing days (23:00 and 01:00)
    review_store.execute(
        "UPDATE reviews SET created_at = TIMESTAMPTZ '2026-11-05 15:00:00+00' + "
        "CASE WHEN review_id = 'RV00545' THEN INTERVAL 0 HOUR ELSE INTERVAL 2 HOUR END "
        "WHERE buyer_id = 'SELF0'"
    )
    inputs = reviews.Inputs(dated=dated, rated=True, has_orders=True, day_offset=offset)
    sql, arrays, frame = _features_three_ways(review_store, inputs)
    assert len(sql) > 20
    pd.testing.assert_frame_equal(arrays, sql, check_exact=True)
    pd.testing.assert_frame_equal(arrays, frame, check_exact=True)
    assert arrays["per_day"].isna().any() == (not dated)  # no purchase day, no own day
    if offset:  # the case is a real one: local days count other groups than UTC's
        utc = _features_three_ways(review_store, reviews.Inputs(dated, True, True))[1]
        assert not utc["max_day"].equals(arrays["max_day"])
        assert not utc["per_day"].equals(arrays["per_day"])


def test_group_features_with_missing_keys_ratings_and_times(tiny_store):
    """Null listing, buyer, rating and time (tables without the store's NOT NULL constraints,
    as an engine may hold them): the counts leave such a review out of the groups its missing
    key names, as the engine's joins and group-bys do."""
    rows = [
        (
            f"R{i:03d}",
            None if i % 11 == 0 else f"L{i % 4}",
            None if i % 13 == 0 else f"B{i % 6}",
            f"O{i:03d}" if i % 3 else None,
            None if i % 7 == 0 else 1 + i % 5,
            None if i % 17 == 5 else f"2026-11-{1 + i % 9:02d} {i % 24:02d}:00:00+00",
        )
        for i in range(60)
    ]
    con = tiny_store({})
    names = {t: f"loose_{t}" for t in ("reviews", "orders", "shipments", "tracking_events")}
    for t, loose in names.items():
        con.execute(f"CREATE TABLE {loose} AS SELECT * FROM {t} WHERE false")
    con.executemany(
        "INSERT INTO loose_reviews (review_id, listing_id, buyer_id, order_id, rating, created_at) "
        "VALUES (?, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ))",
        rows,
    )
    con.executemany(
        "INSERT INTO loose_orders (order_id, buyer_id, paid_at) VALUES (?, ?, CAST(? AS TIMESTAMPTZ))",
        [
            (
                f"O{i:03d}",
                f"B{i % 6}",
                None if i % 5 == 0 else f"2026-11-{1 + i % 5:02d} 08:00:00+00",
            )
            for i in range(60)
            if i % 3
        ],
    )
    for dated in (True, False):
        sql, arrays, _frame = _features_three_ways(con, reviews.Inputs(dated, True, True), names)
        assert sql["listing_n"].isna().sum() == 6  # the reviews without a listing
        assert sql["max_day"].notna().sum() > 0
        pd.testing.assert_frame_equal(arrays, sql, check_exact=True)
    # no listing at all, then no buyer at all: no code to count on (numpy once indexed an empty
    # count array there)
    for key in ("listing_id", "buyer_id"):
        con.execute(f"UPDATE loose_reviews SET {key} = NULL")
        sql, arrays, _frame = _features_three_ways(con, reviews.Inputs(True, True, True), names)
        assert len(sql) == 60
        pd.testing.assert_frame_equal(arrays, sql, check_exact=True)


def _scored_here(tables: Tables, inputs, params) -> tuple:
    """The one-machine scoring as REVIEW003 runs it on DuckDB: the numbers and codes of
    ``review_rows`` (the relation kept from scan to scan) pulled, counted in numpy, scored a
    slice at a time, the found rows' ids read back by row code."""
    found, not_scored, found_inputs = reviews._scored_kept(
        tables, reviews.review_rows(tables), True, params
    )
    assert found_inputs == inputs
    return found, not_scored


def test_scored_here_equals_scored_where_the_rows_are(review_store):
    """The one-machine scoring (counted in numpy over ``review_rows``, scored a slice at a
    time) finds the reviews, scores and parts the engine-counted, batch-scored form finds."""
    tables = Tables(ibis.duckdb.from_connection(review_store))
    for params in (_params(), _params(threshold=0.2, min_signals=4)):
        joined = reviews._review_expr(tables, False)
        inputs = reviews.Inputs(True, True, True)
        here, n_here = _scored_here(tables, inputs, params)
        there, n_there = reviews._scored_where_they_are(tables, joined, inputs, params)
        assert n_here == n_there
        assert here.schema == there.schema
        a = here.sort_by("review_id").to_pandas()
        b = there.sort_by("review_id").to_pandas()
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_scored_here_in_slices(review_store, monkeypatch):
    monkeypatch.setattr(reviews, "_SCORE_SLICE", 3)
    tables = Tables(ibis.duckdb.from_connection(review_store))
    joined = reviews._review_expr(tables, False)
    inputs = reviews.Inputs(True, True, True)
    params = _params(threshold=0.2)
    here, n_here = _scored_here(tables, inputs, params)
    there, n_there = reviews._scored_where_they_are(tables, joined, inputs, params)
    assert n_here == n_there and here.num_rows > 3
    pd.testing.assert_frame_equal(
        here.sort_by("review_id").to_pandas(),
        there.sort_by("review_id").to_pandas(),
        check_exact=True,
    )


@pytest.mark.parametrize(
    "a_values, b_values",
    [
        ((0, 50), (0, 30)),  # few (a, b) cells: counted in place
        ((0, 50), (0, 10**9)),  # a wide b: one sort of a combined key
        ((-3, 50), (0, 30)),  # a negative a: the lexsort of both keys
        ((0, 10**6), (0, 3)),  # most values of a on one row: groups of one
    ],
)
def test_group_sizes_are_the_groups_counted_one_by_one(a_values, b_values):
    """``_group_sizes``' ways of counting (in place, by a sort of one key, by a lexsort, groups
    of one taken aside) give each valid row its (a, b) group's size and each group once."""
    from collections import Counter

    import numpy as np

    rng = np.random.default_rng(7)
    n = 5000
    a = rng.integers(*a_values, size=n)
    b = rng.integers(*b_values, size=n)
    valid = rng.random(n) < 0.8
    sizes, group_a, group_n = reviews._group_sizes(a, b, valid)
    cells = Counter(zip(a[valid].tolist(), b[valid].tolist(), strict=True))
    want = [cells[(x, y)] if v else None for x, y, v in zip(a, b, valid, strict=True)]
    assert [None if np.isnan(s) else int(s) for s in sizes] == want
    groups = sorted((x, k) for (x, _), k in cells.items())
    assert sorted(zip(group_a.tolist(), group_n.tolist(), strict=True)) == groups
    # the groups alone (the buyers' days): the same groups
    _, group_a, group_n = reviews._group_sizes(a, b, valid, per_row=False)
    assert sorted(zip(group_a.tolist(), group_n.tolist(), strict=True)) == groups
