"""REVIEW001 signs each distinct text once: the same signatures, rows and clusters as signing
every review's text on its own."""

import random

import numpy as np
import pyarrow as pa

from promoguard.graph import minhash
from promoguard.rules.reviews import _shared

from .test_review_kept import A, N, X, Z

PARAMS = {
    "shingle_n": 3,
    "num_perm": 64,
    "bands": 16,
    "similarity": 0.6,
    "min_length": 30,
    "min_buyers": 2,
}
TEMPLATE = "宝贝收到了质量超级好跟描述的一模一样物流超快五星好评推荐给大家"


def _texts(n: int, seed: int = 3) -> list[str | None]:
    rng = random.Random(seed)
    pool = [
        TEMPLATE,
        TEMPLATE.replace("超级", "非常"),
        "好评",
        "Fast delivery.",
        None,
        "",
        "this blender is amazing, i recommended it to my sister and she bought two of them too",
        "ＶＸ：ａｂｃ１２３ 加我返现 宝贝收到了质量超级好跟描述的一模一样物流超快",
        # candidates that do not link (they share band keys, too few permutations agree): the
        # pairs compared once per pair of equal signatures must still be judged pair by pair
        X,
        Z,
        A,
        N,
    ]
    out = []
    for _ in range(n):
        if rng.random() < 0.3:  # a text of its own
            out.append("".join(rng.choice(TEMPLATE) for _ in range(rng.randint(5, 40))))
        else:
            out.append(rng.choice(pool))
    return out


def _per_row(texts, params):
    """The reference: every row's text normalised and signed on its own."""
    rows, sig = _shared._signatures(
        texts, params["shingle_n"], params["num_perm"], float(params["min_length"])
    )
    return rows, sig


def test_row_signatures_are_each_rows_own():
    texts = _texts(3000)
    rows, sig, same = _shared._row_signatures(pa.array(texts, pa.string()), 3, 64, 30.0)
    want_rows, want_sig = _per_row(texts, PARAMS)
    assert np.array_equal(rows, want_rows)
    assert np.array_equal(sig, want_sig)
    # rows of one text share an id, rows of different texts do not
    for a, b in [(0, 1), (5, 9), (10, 40)]:
        if a < len(rows) and b < len(rows):
            assert (same[a] == same[b]) == (texts[rows[a]] == texts[rows[b]])
    # ... over every row: one id per distinct text and one text per id (and texts repeat here)
    pairs = {(texts[r], int(s)) for r, s in zip(rows.tolist(), same.tolist(), strict=True)}
    assert len({t for t, _ in pairs}) == len({s for _, s in pairs}) == len(pairs) < len(rows)


def test_row_signatures_across_chunks_of_distinct_texts(monkeypatch):
    monkeypatch.setattr(_shared, "_SIGN_CHUNK", 7)
    texts = _texts(500, seed=5)
    chunked = pa.chunked_array([pa.array(texts[:200]), pa.array(texts[200:])])
    rows, sig, _ = _shared._row_signatures(chunked, 3, 64, 30.0)
    want_rows, want_sig = _per_row(texts, PARAMS)
    assert np.array_equal(rows, want_rows) and np.array_equal(sig, want_sig)


def test_duplicate_clusters_equal_signing_every_row():
    texts = _texts(2000, seed=9)
    rng = random.Random(1)
    ids = [f"R{i:06d}" for i in rng.sample(range(10**6), len(texts))]
    reviews = pa.table(
        {
            "review_id": ids,
            "buyer_id": [f"B{rng.randrange(50)}" for _ in texts],
            "text": pa.array(texts, pa.string()),
        }
    )
    got = _shared.duplicate_clusters(reviews, PARAMS)
    # the reference: per-row signatures in review_id order, every candidate pair compared
    order = np.argsort(np.array(ids), kind="stable")
    texts_sorted = [texts[i] for i in order]
    rows, sig = _per_row(texts_sorted, PARAMS)
    labels = minhash.near_duplicate_clusters(sig, 16, 0.6)
    shared = np.bincount(labels, minlength=len(labels))[labels] >= 2
    want = _shared._clusters(
        [ids[order[r]] for r in rows[shared]],
        [reviews.column("buyer_id")[int(order[r])].as_py() for r in rows[shared]],
        labels[shared],
        PARAMS,
    )
    assert len(want) > 100  # the template and its near copy cluster across buyers
    assert (
        got.sort_values("review_id")
        .reset_index(drop=True)
        .equals(want.sort_values("review_id").reset_index(drop=True))
    )


def _store_with(tmp_path, extra_reviews=()):
    from tests.support import listing, make_store

    rows = [
        {
            "review_id": f"R{i:03d}",
            "listing_id": "L1" if i % 2 else "L2",
            "buyer_id": f"B{i}",
            "order_id": None,
            "rating": 5,
            "created_at": "2026-11-11T10:00:00Z",
            "text": TEMPLATE if i < 6 else TEMPLATE.replace("超级", "非常"),
        }
        for i in range(10)
    ]
    rows.append({**rows[0], "review_id": "R900", "listing_id": "L9"})  # a listing not listed
    rows += list(extra_reviews)
    tables = {
        "listings": [listing("L1", "M1", "P1"), listing("L2", "M2", "P2")],
        "reviews": rows,
    }
    return make_store(tmp_path / "s.duckdb", tables)


def _merged(check, tables, params):
    """The found rows as the pandas left merge of the clusters and their places gives them."""
    import ibis

    clusters = _shared.duplicate_clusters(
        tables.to_arrow(
            tables.reviews.filter(tables.reviews.text.notnull()).select(
                "review_id", "buyer_id", "text"
            )
        ),
        params,
    )
    r = tables.reviews
    found = ibis.memtable({"review_id": pa.array(clusters["review_id"].astype(str), pa.string())})
    places = tables.to_arrow(
        r.semi_join(found, "review_id")
        .join(_shared._listing_places(tables), "listing_id")
        .select("review_id", "merchant_id", "platform_id")
    ).to_pandas()
    out = clusters.merge(places, on="review_id", how="left")
    return (
        out["review_id"].astype(str).tolist(),
        [None if v != v or v is None else str(v) for v in out["merchant_id"]],
        [None if v != v or v is None else str(v) for v in out["platform_id"]],
        out["cluster_id"].astype(str).tolist(),
    )


def test_found_reviews_places_are_the_left_merges(tmp_path):
    from promoguard.engine import backends, registry

    con = _store_with(tmp_path)
    check = registry.get("REVIEW001")
    params = check.parameter_defaults()
    with backends.duckdb_tables(con) as tables:
        got = check.find_local(tables, params, None)
        want = _merged(check, tables, params)
    assert got.num_rows == 11
    assert got.column("entity_id").to_pylist() == want[0]
    assert got.column("merchant_id").to_pylist() == want[1]
    assert got.column("platform_id").to_pylist() == want[2]
    assert got.column("cluster_id").to_pylist() == want[3]
    assert None in want[1]  # R900's listing is not listed: no place


def test_a_review_id_listed_twice_keeps_the_merges_rows(tmp_path):
    from promoguard.engine import backends, registry

    con = _store_with(tmp_path)
    # the same review id twice (a store the ingest did not validate): both rows, as pandas gives
    con.execute("INSERT INTO reviews SELECT * FROM reviews WHERE review_id = 'R001'")
    check = registry.get("REVIEW001")
    params = check.parameter_defaults()
    with backends.duckdb_tables(con) as tables:
        got = check.find_local(tables, params, None)
        want = _merged(check, tables, params)
    assert got.column("entity_id").to_pylist() == want[0]
    assert got.column("merchant_id").to_pylist() == want[1]
    assert got.column("platform_id").to_pylist() == want[2]
    assert got.column("cluster_id").to_pylist() == want[3]
    assert got.column("entity_id").to_pylist().count("R001") >= 2
