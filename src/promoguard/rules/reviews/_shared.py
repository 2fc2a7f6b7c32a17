"""Review fraud: near-duplicate review texts across buyers (REVIEW001) and a behavioural spam score
(REVIEW003). REVIEW002 (reward for a good review) belongs to the content family."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.engine.backends import epoch_seconds
from promoguard.engine.base import Tables
from promoguard.engine.cache import Appended, shared
from promoguard.graph import minhash
from promoguard.graph.components import component_labels
from promoguard.rules._relations import (
    first_delivery_changes,
    order_first_delivery,
    union_all,
    utc_offset_hours,
)


def _strings(values: pd.Series) -> pa.Array:
    """A string column with missing values (NaN after a left merge) as nulls."""
    return pa.array([None if pd.isna(v) else str(v) for v in values], pa.string())


def _listing_places(tables: Tables) -> ir.Table:
    li = tables.listings
    return li.select("listing_id", "merchant_id", "platform_id")


# -- REVIEW001 -----------------------------------------------------------------------------------


def duplicate_clusters(reviews: pa.Table, params: dict[str, Any]) -> pd.DataFrame:
    """Near-duplicate clusters spanning enough distinct buyers.

    ``reviews`` has review_id, buyer_id, text. Returns one row per review in such a cluster with
    cluster_id (its smallest review_id), cluster_size and cluster_buyers.
    """
    return signed_clusters(sign_reviews(reviews, params), params)


def signed_clusters(signed: pa.Table, params: dict[str, Any]) -> pd.DataFrame:
    """``duplicate_clusters`` from the comparable reviews' signatures (``sign_reviews``'s rows,
    in any order): what the clusters depend on is the set of (review_id, buyer_id, signature)
    of the comparable reviews and nothing else, so the kept signatures of an incremental scan
    (``signed_reviews``) give them exactly as signing every text does."""
    empty = pd.DataFrame(columns=["review_id", "cluster_id", "cluster_size", "cluster_buyers"])
    if signed.num_rows < 2:
        return empty
    # review_id order: LSH pairs neighbours in that order (a review id listed twice, which a
    # validated store has not, is ordered by its buyer and signature: rows are a set here)
    keys = [("review_id", "ascending"), ("buyer_id", "ascending"), ("sig", "ascending")]
    signed = signed.take(pc.sort_indices(signed, sort_keys=keys))
    sig = _sig_matrix(signed.column("sig"), int(params["num_perm"]))
    # rows of one text have one signature: an id per distinct signature (equal only between
    # equal signatures, which is all ``near_duplicate_clusters`` asks of it)
    same = _codes(signed.column("sig"))[0]
    labels = minhash.near_duplicate_clusters(
        sig, int(params["bands"]), float(params["similarity"]), same=same
    )
    del sig
    # only rows whose label is shared can form a cluster: look at those alone
    counts = np.bincount(labels, minlength=len(labels))
    shared_label = counts[labels] >= 2
    if not shared_label.any():
        return empty
    picked = pa.array(np.flatnonzero(shared_label))
    return _clusters(
        signed.column("review_id").take(picked).to_pylist(),
        signed.column("buyer_id").take(picked).to_pylist(),
        labels[shared_label],
        params,
    )


#: the kept signatures' columns: the review, its buyer and its MinHash signature (``num_perm``
#: little-endian uint32 in one binary value)
_SIGNED_REVIEWS = pa.schema(
    [("review_id", pa.string()), ("buyer_id", pa.string()), ("sig", pa.binary())]
)

#: bumped whenever what a signature is changes (normalising, shingling, hashing, the length
#: test): a copy kept under another version is never read (it is part of the relation's key).
#: 2: the length test reads the text unpadded (``minhash.unpadded``: padding is not length);
#: 3: HTML entities decoded, look-alike Cyrillic and Greek letters read as Latin; 4: traditional
#: Chinese characters read as simplified
SIGNATURE_VERSION = 4


def sign_reviews(reviews: pa.Table, params: dict[str, Any]) -> pa.Table:
    """The comparable rows of ``reviews`` (review_id, buyer_id, text): review_id, buyer_id and
    the MinHash signature of the text (``_SIGNED_REVIEWS``), in ``reviews``' order. A row's
    signature, and whether it is there at all, depend on its own text alone."""
    n, num_perm = int(params["shingle_n"]), int(params["num_perm"])
    rows, sig, _ = _row_signatures(reviews.column("text"), n, num_perm, float(params["min_length"]))
    picked = pa.array(rows, pa.int64())
    return pa.table(
        [
            reviews.column("review_id").take(picked).cast(pa.string()),
            reviews.column("buyer_id").take(picked).cast(pa.string()),
            _sig_blobs(sig),
        ],
        schema=_SIGNED_REVIEWS,
    )


def signature_key(params: dict[str, Any]) -> tuple[Any, ...]:
    """The kept signatures' key: the code's version and every parameter a signature reads
    (not ``bands``, ``similarity`` or ``min_buyers``: those are applied to the signatures)."""
    return (
        "review001_signed_reviews",
        SIGNATURE_VERSION,
        int(params["shingle_n"]),
        int(params["num_perm"]),
        float(params["min_length"]),
    )


def _texts(tables: Tables) -> pa.Table:
    r = tables.reviews
    return tables.to_arrow(r.filter(r.text.notnull()).select("review_id", "buyer_id", "text"))


def signed_reviews(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """``sign_reviews`` of every review with a text, kept from scan to scan (``shared`` with a
    fold): an incremental scan signs only the reviews added since the scan it starts from.

    Exact: a row's signature is a function of its own text, so the signatures of the old rows
    and of the new ones, together, are the signatures of all rows (canonical tables only grow,
    and the key names every parameter a signature reads). The clusters are then recomputed
    from all of them (``signed_clusters``, ~0.3 s for the city's 55k comparable reviews), never
    patched: a new review can join a cluster, link two, or split one (LSH pairs each review with
    its neighbour in review_id order within a band's bucket, so a new review whose id falls
    between two old near copies takes their pair's place), and only a recomputation from the
    whole set of signatures is the full scan's answer in every case."""

    return shared(
        tables,
        signature_key(params),
        lambda: signed_build(tables, params),
        lambda previous, now, new: signed_fold(previous, now, new, params),
    )


def signed_build(tables: Tables, params: dict[str, Any]) -> ir.Table:
    """``signed_reviews``' rows from the whole store: every text signed."""
    return ibis.memtable(sign_reviews(_texts(tables), params))


def signed_fold(previous: ir.Table, now: Tables, new: Tables, params: dict[str, Any]) -> ir.Table:
    """``signed_reviews``' rows from the previous scan's (``previous``) and the reviews added
    since (``new``): only the new texts are signed."""
    added = ibis.memtable(sign_reviews(_texts(new), params))
    previous = previous.select(*_SIGNED_REVIEWS.names)
    return previous.union(added.cast(previous.schema()), distinct=False)


def _sig_blobs(sig: np.ndarray) -> pa.Array:
    """Each row of ``sig`` (uint32) as one binary value of its little-endian bytes."""
    m, k = sig.shape
    data = np.ascontiguousarray(sig, dtype="<u4")
    width = 4 * k
    offsets = np.arange(0, m * width + 1, width, dtype=np.int64)
    if m * width < 2**31:
        return pa.Array.from_buffers(
            pa.binary(), m, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
        )
    large = pa.Array.from_buffers(
        pa.large_binary(), m, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return large  # pragma: no cover - over 8M comparable reviews at 64 permutations


def _sig_matrix(blobs: pa.ChunkedArray | pa.Array, num_perm: int) -> np.ndarray:
    """``_sig_blobs`` read back: the (rows, num_perm) uint32 signatures."""
    arr = blobs.combine_chunks() if isinstance(blobs, pa.ChunkedArray) else blobs
    m = len(arr)
    if not m:
        return np.zeros((0, num_perm), np.uint32)
    if arr.null_count:
        raise ValueError("a kept review signature is missing")
    kind = np.int64 if pa.types.is_large_binary(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=kind)[arr.offset : arr.offset + m + 1]
    width = 4 * num_perm
    if not (np.diff(offsets) == width).all():
        raise ValueError(f"a kept review signature is not {num_perm} permutations long")
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return data.view("<u4").reshape(m, num_perm).astype(np.uint32)


#: texts normalised and signed at a time (bounds the Python strings held at once)
_SIGN_CHUNK = 131_072


def _row_signatures(
    text: pa.ChunkedArray | pa.Array, n: int, num_perm: int, min_length: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indices of the rows whose text is comparable, their MinHash signatures, an id per
    such row that is equal only between rows of the same text).

    Each distinct text is normalised and signed once and its signature copied to every row
    that has it: a signature depends on nothing but the text, so the rows get the signatures
    signing each row would give (at city scale 1.22M review texts hold 22k distinct ones: the
    short generic ones, '好评', most of all). A chunk of distinct texts at a time: only the
    signatures of the comparable ones stay."""
    distinct = pc.unique(text)
    # the distinct text of each row (a null text, if any, is its own distinct value)
    of_row = pc.index_in(text, value_set=distinct)
    of_row = np.asarray(pc.fill_null(of_row, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    found_rows, found_sigs = [], []
    for start in range(0, len(distinct), _SIGN_CHUNK):
        chunk_rows, chunk_sig = _signatures(
            distinct.slice(start, _SIGN_CHUNK).to_pylist(), n, num_perm, min_length
        )
        found_rows.append(chunk_rows + start)
        found_sigs.append(chunk_sig)
    signed = np.concatenate(found_rows) if found_rows else np.zeros(0, np.int64)
    # per distinct text: its row in the signatures, or -1 when it is not comparable
    at = np.full(len(distinct) + 1, -1, dtype=np.int64)  # (the last: a row with no text)
    at[signed] = np.arange(len(signed))
    pos = at[of_row]
    rows = np.flatnonzero(pos >= 0)
    sig = (
        np.concatenate(found_sigs)[pos[rows]] if len(signed) else np.zeros((0, num_perm), np.uint32)
    )
    return rows, sig, pos[rows]


def _signatures(
    texts: list[str | None], n: int, num_perm: int, min_length: float
) -> tuple[np.ndarray, np.ndarray]:
    """(indices into ``texts`` of the comparable ones that have shingles, their MinHash
    signatures): long enough (``min_length`` weighted characters, at least ``n``) once
    normalised and unpadded (``minhash.unpadded``: a unit said three or more times in a row
    counts once). '好' written 36 times, or 'good product' ten times, is as generic as '好评'
    (buyers pad a review to the length a platform rewards; a blind set's padding from
    different buyers was reported as copied, session 40). One-machine and executor forms both
    sign through here."""
    norm = minhash.normalise_many(texts)
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    weighted = minhash.weighted_lengths(norm)
    long_enough = np.flatnonzero((weighted >= min_length) & (lengths >= n))
    said = minhash.weighted_lengths([minhash.unpadded(norm[i]) for i in long_enough])
    rows = long_enough[said >= min_length]
    if not len(rows):
        return rows, np.zeros((0, num_perm), np.uint32)
    present, sig = minhash.text_signatures([norm[i] for i in rows], n, num_perm)
    return rows[present], sig


def _clusters(
    review_ids: list[Any], buyer_ids: list[Any], labels: np.ndarray, params: dict[str, Any]
) -> pd.DataFrame:
    """The clusters (reviews sharing a label) that span enough buyers, one row per review."""
    empty = pd.DataFrame(columns=["review_id", "cluster_id", "cluster_size", "cluster_buyers"])
    df = pd.DataFrame({"review_id": review_ids, "buyer_id": buyer_ids, "label": labels})
    stats = df.groupby("label").agg(
        cluster_size=("review_id", "size"),
        cluster_buyers=("buyer_id", "nunique"),
        cluster_id=("review_id", "min"),
    )
    stats = stats[(stats.cluster_size >= 2) & (stats.cluster_buyers >= int(params["min_buyers"]))]
    df = df[df["label"].isin(stats.index)]
    if df.empty:
        return empty
    df = df.join(stats, on="label")
    return df[["review_id", "cluster_id", "cluster_size", "cluster_buyers"]].reset_index(drop=True)


_SIGNED = pa.schema(
    [
        ("review_id", pa.string()),
        ("sig", pa.list_(pa.int64())),
        ("keys", pa.list_(pa.int64())),
    ]
)


def _signer(
    params: dict[str, Any],
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """What an executor runs over its batches of reviews: each comparable text's MinHash
    signature and LSH band keys (as ``duplicate_clusters`` computes them: each distinct text of
    a batch signed once)."""
    n, num_perm = int(params["shingle_n"]), int(params["num_perm"])
    bands, min_length = int(params["bands"]), float(params["min_length"])

    def sign(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows, sig, _ = _row_signatures(batch.column("text"), n, num_perm, min_length)
            if not len(rows):
                continue
            keys = minhash.band_keys(sig, bands).view(np.int64)  # equality is all that matters
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("review_id").take(pa.array(rows)).cast(pa.string()),
                    _lists(sig.astype(np.int64)),
                    _lists(keys),
                ],
                schema=_SIGNED,
            )

    return sign


def _lists(matrix: np.ndarray) -> pa.ListArray:
    m, k = matrix.shape
    offsets = pa.array(np.arange(0, m * k + 1, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(matrix).ravel()))


def duplicate_clusters_distributed(tables: Tables, params: dict[str, Any]) -> pd.DataFrame:
    """``duplicate_clusters`` with the reviews left on the executors (Spark).

    Signatures and band keys are computed per partition through Arrow; the bands are exploded and
    shuffled by (band, key); within a bucket each review is paired with the next one in review_id
    order (the pairs the one-machine form looks at); a pair is kept when its signatures agree on
    enough permutations. Only the kept pairs and their reviews' buyers reach the driver, which
    closes them into clusters: the same clusters, and only findings-sized data moved.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    from promoguard.engine import backends

    r = tables.reviews
    texts = r.filter(r.text.notnull()).select("review_id", "buyer_id", "text")
    frame = backends.spark_frame(tables.backend, texts)
    sigs = frame.select("review_id", "text").mapInArrow(_signer(params), from_arrow_schema(_SIGNED))
    sigs = sigs.localCheckpoint()  # on the executors: read twice, signed once
    bands = sigs.select("review_id", F.posexplode("keys").alias("band", "key"))
    bucket = Window.partitionBy("band", "key").orderBy("review_id")
    pairs = (
        bands.select(F.col("review_id").alias("a"), F.lead("review_id").over(bucket).alias("b"))
        .filter(F.col("b").isNotNull())
        .distinct()
    )
    sa = sigs.select(F.col("review_id").alias("a"), F.col("sig").alias("sa"))
    sb = sigs.select(F.col("review_id").alias("b"), F.col("sig").alias("sb"))
    agree = F.aggregate(
        F.zip_with("sa", "sb", lambda x, y: (x == y).cast("int")), F.lit(0), lambda n, v: n + v
    )
    need = minhash.agreement_needed(float(params["similarity"]), int(params["num_perm"]))
    # never broadcast the signatures (Spark would collect them on the driver to do so): sort-merge
    kept = pairs.join(sa.hint("merge"), "a").join(sb.hint("merge"), "b")
    kept = kept.filter(agree >= need).select("a", "b")
    kept = kept.localCheckpoint()
    ids = kept.select(F.col("a").alias("review_id")).union(kept.select("b")).distinct()
    members = backends.spark_arrow(
        ids.join(frame.select("review_id", "buyer_id"), "review_id").orderBy("review_id")
    )
    edges = backends.spark_arrow(kept)
    if not members.num_rows:
        return pd.DataFrame(columns=["review_id", "cluster_id", "cluster_size", "cluster_buyers"])
    review_ids = members.column("review_id").to_pylist()
    index = {rid: i for i, rid in enumerate(review_ids)}
    src = np.fromiter((index[a] for a in edges.column("a").to_pylist()), np.int64, edges.num_rows)
    dst = np.fromiter((index[b] for b in edges.column("b").to_pylist()), np.int64, edges.num_rows)
    labels = component_labels(len(review_ids), src, dst)
    return _clusters(review_ids, members.column("buyer_id").to_pylist(), labels, params)


# -- REVIEW003 -----------------------------------------------------------------------------------

#: the behavioural parts of the score, each in [0, 1] (1 = most suspicious)
SCORE_PARTS = (
    "rating_deviation",
    "extremity",
    "early",
    "reviewer_burst",
    "thin_history",
    "listing_burst",
)


def _review_expr(tables: Tables, text: bool = True) -> ir.Table:
    """Each review with its listing, buyer, rating, time and (when known) delivery time.

    The orders are joined to the reviews before their times are read and their first delivery
    looked up: only reviewed orders are converted and joined (at city scale 1.84M reviews, 5.65M
    orders), with the same rows as joining every order to its delivery first (a review's order
    that is not among the orders has no delivery either way)."""
    return _review_rows(tables, tables.reviews, text)


def _review_rows(
    tables: Tables,
    r: ir.Table,
    text: bool = True,
    some: bool = False,
    history: ir.Table | None = None,
    orders: ir.Table | None = None,
) -> ir.Table:
    """``_review_expr``'s rows of the reviews ``r`` (rows of ``tables.reviews``). ``some``: ``r``
    is a few of them, so the orders, first deliveries and buyers' orders are narrowed to those
    ``r`` names before they are joined and grouped (the same rows: each is joined on that key).
    ``history``: ``buyer_id, buyer_orders`` (each buyer's count of orders, one row per buyer
    with orders) of at least ``r``'s buyers, when the caller knows them already. ``orders``:
    rows of ``tables.orders`` holding every order row of ``r``'s orders (with ``some``), read
    instead of the whole table."""
    o = tables.orders if orders is None else orders
    # each order's first delivery (``first_delivery_by_order``), converted once joined
    sd = order_first_delivery(tables)
    counted = o
    if some:
        o = o.semi_join(r, o.order_id == r.order_id)
        sd = sd.semi_join(r, sd.s_order_id == r.order_id)
        counted = counted.semi_join(r, counted.buyer_id == r.buyer_id)
    if history is None:
        history = counted.group_by("buyer_id").aggregate(buyer_orders=counted.count())
    rr = r.select(
        "review_id",
        "listing_id",
        "buyer_id",
        "order_id",
        rating=r.rating.cast("int64"),
        created_s=epoch_seconds(r.created_at),
        **({"text": r.text} if text else {}),
    )
    oo = o.select(o_order_id=o.order_id, o_paid_at=o.paid_at)
    ro = rr.left_join(oo, rr.order_id == oo.o_order_id)
    rd = ro.left_join(sd, ro.o_order_id == sd.s_order_id).select(
        rr,
        paid_s=epoch_seconds(ro.o_paid_at),
        delivered_s=epoch_seconds(sd.first_delivered_at),
    )
    return rd.left_join(history, rd.buyer_id == history.buyer_id).select(rd, history.buyer_orders)


#: bumped whenever ``review_rows``' build or fold changes (part of its key). v2: the rows carry
#: integer codes (``_CODES``) and the fold takes rows out by ``row_code``; v3: without the order's
#: confirmation time (no score reads it: how soon after delivery is timed from the scan)
REVIEW_ROWS_VERSION = "v3"

#: what ``review_rows`` adds to ``_review_expr``'s columns: an integer code of the row's listing
#: and of its buyer (equal exactly for equal ids, null for a null id, dense from 0: what
#: ``group_features_arrays`` counts on, without hashing 1.73M strings twice at city scale) and
#: of the row itself (unique: the found rows' ids are read back by it, and a fold takes a row
#: out by it)
_CODES = ("listing_code", "buyer_code", "row_code")


def review_rows(tables: Tables) -> ir.Table:
    """``_review_expr(tables, False)`` with ``_CODES``, kept from scan to scan (``shared`` with a
    fold): what REVIEW003 scores on one machine, every review with its order's times, first
    delivery and its buyer's order count (at city scale the joins of 1.84M reviews with 5.65M
    orders, their first deliveries and the buyers' order counts)."""
    return shared(
        tables,
        ("review003_review_rows", REVIEW_ROWS_VERSION),
        lambda: review_rows_build(tables),
        lambda previous, now, new: review_rows_fold(previous, now, new, _first_delivery_moves(now)),
    )


def review_rows_build(tables: Tables) -> ir.Table:
    """``review_rows``' rows from the whole store: ``_review_expr(tables, False)`` coded."""
    return _coded(_review_expr(tables, False), tables.reviews)


def _coded(rows: ir.Table, reviews: ir.Table) -> ir.Table:
    """``rows`` (``_review_expr``'s, of the ``reviews``) with ``_CODES``: each distinct listing
    and buyer numbered from 0 (in no particular order: only equality matters), and each row.
    The ids are numbered from the reviews themselves, whose listing and buyer each row carries
    (the same ids): numbered from ``rows``, the engine computed ``rows``' joins three times."""

    def numbered(column: str) -> ir.Table:
        ids = reviews.filter(reviews[column].notnull())
        ids = ids.select(c_id=ids[column]).distinct()
        return ids.mutate(code=ibis.row_number())

    listings, buyers = numbered("listing_id"), numbered("buyer_id")
    j = rows.left_join(listings, rows.listing_id == listings.c_id)
    j = j.select(rows, listing_code=listings.code)
    k = j.left_join(buyers, j.buyer_id == buyers.c_id).select(j, buyer_code=buyers.code)
    return k.mutate(row_code=ibis.row_number())


def _given_codes(
    rows: pa.Table,
    listings: tuple[pa.ChunkedArray, pa.ChunkedArray],
    buyers: tuple[pa.ChunkedArray, pa.ChunkedArray],
    after_row: int | None,
) -> pa.Table:
    """``rows`` (``_review_expr``'s columns) with ``_CODES``: the code each row's listing and
    buyer has in ``listings`` and ``buyers`` (ids, codes: every id of ``rows`` is there; a null
    id gets a null code), and row codes from ``after_row + 1`` on."""

    def code(ids: pa.ChunkedArray, known: tuple[pa.ChunkedArray, pa.ChunkedArray]) -> pa.Array:
        at = pc.index_in(ids, value_set=known[0].combine_chunks())
        return pc.take(known[1].combine_chunks(), at)

    listing_code = code(rows.column("listing_id"), listings)
    buyer_code = code(rows.column("buyer_id"), buyers)
    start = _first_code(after_row)
    row_code = pa.array(np.arange(start, start + rows.num_rows, dtype=np.int64))
    return (
        rows.append_column("listing_code", listing_code)
        .append_column("buyer_code", buyer_code)
        .append_column("row_code", row_code)
    )


def _first_code(after: int | None) -> int:
    """The first code after ``after``, the highest in use (0 when none is)."""
    return 0 if after is None else int(after) + 1


def _numbered(ids: pa.Array, after: int | None, name: str, code: str) -> pa.Table:
    """``ids`` (distinct) with codes from ``after + 1`` on (from 0 when ``after`` is None)."""
    start = _first_code(after)
    return pa.table({name: ids, code: pa.array(np.arange(start, start + len(ids), dtype=np.int64))})


def _first_delivery_moves(tables: Tables) -> ir.Table | None:
    """The orders whose first delivery the day moved, from the first delivery's own fold
    (``first_delivery_changes``: ``order_id, new_first``), or None when it was built whole."""
    order_first_delivery(tables)  # folded (or built) first: what it changed is known then
    return first_delivery_changes(tables)


def review_rows_fold(
    previous: ir.Table, now: Tables, new: Tables, moved: ir.Table | None = None
) -> Appended:
    """``review_rows`` from the previous scan's rows and the rows added since.

    A review's row reads the review itself, its order's rows (joined on ``order_id``: an order
    listed twice repeats the row), its order's first delivered scan (only when the order is
    among the orders) and the count of its buyer's orders. Rows are only ever added, so the
    rows added since change a previous row in three ways only, each patched on it by key:

    - an order row with its ``order_id`` arrived (its times, a repeat, a first delivery that
      now shows): every review of that order is computed again from the whole season, as is
      every new review (narrowed to their orders and buyers); their previous rows go;
    - its order's first delivery moved (a delivered scan of one of its parcels, through an old
      or a new shipment): ``delivered_s`` becomes the first delivery now, when the order is
      among the orders (an order that is not stays without one, as the left joins give).
      ``moved``: the orders whose first delivery moved (``order_id, new_first``: the first
      delivery's fold says which); without it, every order with a new shipment or a parcel
      with a new delivered scan is looked up in the first deliveries now (the same values);
    - its buyer got orders: ``buyer_orders`` grows by their count (a count over rows that
      only grow; null before, for a buyer without orders, counts as none).

    Every other column of a previous row reads nothing the day can add to. One pass over the
    previous rows, with lookups keyed by order and buyer; the whole season is read only for the
    day's reviews and orders.

    The codes (``_CODES``): a patched row keeps its own; a row computed again takes the code its
    listing and its buyer have in the previous rows (every previous row of one id holds the same
    code), or, for an id the previous rows do not hold, a new code after the previous rows'
    highest; and a new row code after theirs. So equal ids keep equal codes, and the codes stay
    dense (ids only come, never go: rows only grow)."""
    no = new.orders

    def ids(t: ir.Table) -> ir.Table:  # (one type: a key is NOT NULL in some tables)
        return t.select(order_id=t.order_id.cast("string"))

    # the orders with a new order row, and the day's order count of each buyer: computed once
    # (the engine would compute them again for each use below)
    arrived = ids(no)
    arrived = ibis.memtable(now.to_arrow(arrived.filter(arrived.order_id.notnull()).distinct()))
    nb = no.filter(no.buyer_id.notnull()).select(b_buyer_id=no.buyer_id.cast("string"))
    more = ibis.memtable(now.to_arrow(nb.group_by("b_buyer_id").aggregate(more=nb.count())))

    def of_arrived(t: ir.Table) -> ir.BooleanValue:
        return t.order_id.isin(arrived.order_id).fill_null(False)

    # the reviews computed again: every review of an order that got an order row, and the new
    # reviews (each once); only the columns a row reads, not the texts
    wanted = ("review_id", "listing_id", "buyer_id", "order_id", "rating", "created_at")
    r, rn = now.reviews.select(*wanted), new.reviews.select(*wanted)
    again = r.filter(of_arrived(r)).union(rn.filter(~of_arrived(rn)), distinct=False)
    again = ibis.memtable(now.to_arrow(again))  # (pulled once: the rows below read it four times)
    # their buyers' order counts: a previous row of the buyer holds the count the previous scan
    # saw (every row of a buyer holds the same), and the day's orders add to it; only the
    # buyers without a previous row are counted over the orders (at city scale 24k of the day's
    # 102k reviewers, instead of grouping the 978k orders of all of them)
    wanted_buyers = again.filter(again.buyer_id.notnull()).select(w=again.buyer_id).distinct()
    seen = previous.semi_join(wanted_buyers, previous.buyer_id == wanted_buyers.w)
    seen = seen.select(
        k_buyer_id=seen.buyer_id, k_orders=seen.buyer_orders, k_code=seen.buyer_code
    ).distinct()
    seen_rows = now.to_arrow(seen)
    seen = ibis.memtable(seen_rows)
    # the previous rows' highest codes: the day's new listings, buyers and rows are numbered after
    top = now.to_arrow(
        previous.aggregate(
            listing=previous.listing_code.max(),
            buyer=previous.buyer_code.max(),
            row=previous.row_code.max(),
        )
    ).to_pylist()[0]
    unseen = wanted_buyers.anti_join(seen, wanted_buyers.w == seen.k_buyer_id)
    unseen_rows = _numbered(now.to_arrow(unseen).column("w"), top["buyer"], "w", "u_code")
    unseen = ibis.memtable(unseen_rows)  # (read twice below, and numbered: pulled once)
    # the listings' codes of the reviews computed again, the previous rows' or new ones
    wanted_listings = again.filter(again.listing_id.notnull()).select(w=again.listing_id)
    wanted_listings = wanted_listings.distinct()
    listed = previous.semi_join(wanted_listings, previous.listing_id == wanted_listings.w)
    listed = listed.select(l_id=listed.listing_id, l_code=listed.listing_code).distinct()
    listed_rows = now.to_arrow(listed)
    listed = ibis.memtable(listed_rows)
    fresh = wanted_listings.anti_join(listed, wanted_listings.w == listed.l_id)
    fresh_rows = _numbered(now.to_arrow(fresh).column("w"), top["listing"], "l_id", "l_code")
    # (id, code) of every listing and buyer of the reviews computed again
    listing_codes = (
        pa.chunked_array([listed_rows.column("l_id"), fresh_rows.column("l_id")], pa.string()),
        pa.chunked_array([listed_rows.column("l_code"), fresh_rows.column("l_code")], pa.int64()),
    )
    buyer_codes = (
        pa.chunked_array([seen_rows.column("k_buyer_id"), unseen_rows.column("w")], pa.string()),
        pa.chunked_array([seen_rows.column("k_code"), unseen_rows.column("u_code")], pa.int64()),
    )

    # the orders whose first delivery moved (``order_id, new_first``; below: only those among
    # the orders patch a previous row)
    sd = order_first_delivery(now)
    if moved is None:
        s, ne = now.shipments, new.tracking_events
        delivered = ne.filter(ne.event_type == "delivered").select("carrier", "tracking_no")
        via_scans = s.semi_join(
            delivered.distinct(),
            [s.carrier == delivered.carrier, s.tracking_no == delivered.tracking_no],
        )
        reached = ids(via_scans).union(ids(new.shipments), distinct=False).distinct()
        moved = sd.join(reached, sd.s_order_id == reached.order_id).select(
            order_id=sd.s_order_id, new_first=sd.first_delivered_at
        )
        moved = ibis.memtable(now.to_arrow(moved))  # (read twice below: looked up once)

    # One pass over the season's orders for all three lookups (each was a pass of its own, ~0.2
    # CPU s at city scale): the order rows of the reviews computed again and of the orders
    # whose first delivery moved, and every order of the buyers counted afresh. Each lookup
    # below reads only rows these hold whole (by order id, or by buyer), so it finds what it
    # would over every order.
    o = now.orders
    keys = union_all(
        again.filter(again.order_id.notnull()).select(k=again.order_id.cast("string")),
        moved.select(k=moved.order_id.cast("string")),
    ).distinct()
    some_orders = o.filter(
        o.order_id.isin(keys.k).fill_null(False) | o.buyer_id.isin(unseen.w).fill_null(False)
    ).select("order_id", "buyer_id", "paid_at")
    some_orders = ibis.memtable(now.to_arrow(some_orders))
    counted = some_orders.semi_join(unseen, some_orders.buyer_id == unseen.w)
    counted = counted.group_by("buyer_id").aggregate(buyer_orders=counted.count())
    known = seen.left_join(more, seen.k_buyer_id == more.b_buyer_id)
    known = known.select(
        buyer_id=known.k_buyer_id,
        buyer_orders=ibis.ifelse(
            known.b_buyer_id.isnull(),
            known.k_orders,
            ibis.coalesce(known.k_orders, 0) + known.more,
        ),
    )
    history = union_all(known, counted.select("buyer_id", buyer_orders=counted.buyer_orders))
    redone = _review_rows(now, again, text=False, some=True, history=history, orders=some_orders)
    # pulled (the day's reviews and the reviews of arrived orders: ~22k rows at city scale) and
    # coded here: numbering them in the engine (a window over the rows) cost ~0.2 s more
    redone = ibis.memtable(
        _given_codes(now.to_arrow(redone), listing_codes, buyer_codes, top["row"])
    )

    # the new first delivery of every order among the orders whose first delivery moved
    moved = moved.semi_join(some_orders, moved.order_id == some_orders.order_id)
    moved = ibis.memtable(
        now.to_arrow(moved.select(d_order_id=moved.order_id, d_s=epoch_seconds(moved.new_first)))
    )

    # The previous rows the day touches (of an order that got an order row, of an order whose
    # first delivery moved, of a buyer with new orders) go, and come back patched or redone;
    # every other row stays in the previous copy (``Appended``: the scan reads a view over the
    # store's copy, a saved scan changes these rows of it, instead of copying 1.84M rows at city
    # scale). The engine takes them out by their own row codes (unique: exactly the touched
    # rows; one integer to anti-join on each time the view is read, not three strings).
    names = previous.columns
    touched = previous.filter(
        of_arrived(previous)
        | previous.order_id.isin(moved.d_order_id).fill_null(False)
        | previous.buyer_id.isin(more.b_buyer_id).fill_null(False)
    )
    touched = ibis.memtable(now.to_arrow(touched))  # (pulled once: read twice below)
    p = touched.filter(~of_arrived(touched))
    p = p.left_join(moved, p.order_id == moved.d_order_id)
    p = p.left_join(more, p.buyer_id == more.b_buyer_id)
    patched = p.select(
        *[c for c in names if c not in ("delivered_s", "buyer_orders")],
        delivered_s=ibis.ifelse(p.d_order_id.isnull(), p.delivered_s, p.d_s),
        buyer_orders=ibis.ifelse(
            p.b_buyer_id.isnull(), p.buyer_orders, ibis.coalesce(p.buyer_orders, 0) + p.more
        ),
    ).select(*names)
    return Appended(
        added=union_all(patched, redone.select(*names)),
        removed=touched.select(*_REVIEW_ROW_KEY),
        key=_REVIEW_ROW_KEY,
    )


#: what the engine takes a touched previous review row out by (``review_rows_fold``)
_REVIEW_ROW_KEY = ("row_code",)


def _review_frame(tables: Tables) -> pd.DataFrame:
    """Each review with its listing, buyer, rating, time and (when known) delivery time."""
    df = tables.to_arrow(_review_expr(tables)).to_pandas()
    df = df.sort_values("review_id", kind="stable").reset_index(drop=True)
    # whether the store has orders at all: without them a reviewer's history is unknown, not thin
    o = tables.orders
    df.attrs["orders"] = int(tables.to_arrow(o.aggregate(n=o.count())).column("n")[0].as_py())
    return df


@dataclass(frozen=True)
class Inputs:
    """What the data as a whole says about the signals (not about one review)."""

    dated: bool  # more than one review date: dates are real, not a placeholder
    rated: bool  # more than one rating
    has_orders: bool  # the store has orders: a reviewer's history is known
    #: seconds east of UTC of the pack's time zone (``day_offset``): a day is a local day (a
    #: Beijing day, not one that turns at 08:00 there)
    day_offset: int = 0


def day_offset(zone: str) -> int:
    """The zone's offset from UTC in the season, in seconds (``utc_offset_hours``: the local
    days the brushing rules count in too)."""
    return utc_offset_hours(zone) * 3600


#: the listing days a burst is counted on: (the count of the review's day, the listing's distinct
#: days, which day, the grid's shift in seconds). The day its order was paid ("bought": orders
#: placed together, their reviews arriving as the parcels do) and the day it was posted
#: ("posted": reviews written together, whenever their orders were paid), each on local days
#: and on days turning at local noon: a burst of up to 12 hours lies whole in one day of one
#: of the two grids (a farm's evening that runs past midnight; Double 11's midnight rush)
BURST_DAYS = (
    ("per_day", "active_days", "bought", 0),
    ("per_day_noon", "active_days_noon", "bought", 43_200),
    ("per_rday", "active_rdays", "posted", 0),
    ("per_rday_noon", "active_rdays_noon", "posted", 43_200),
)

#: what a review's score needs from the other reviews (of its listing, its buyer): counts and
#: sums, exact integers on every engine (see ``group_features`` and ``group_features_expr``)
GROUP_FEATURES = (
    "listing_n",
    "listing_rating_sum",
    "max_day",
    *(name for per, active, _, _ in BURST_DAYS for name in (per, active)),
)


def score_frame(df: pd.DataFrame, params: dict[str, Any], offset: int = 0) -> pd.DataFrame:
    """SpEagle-style behavioural priors combined into one score per review.

    Rayana & Akoglu (KDD 2015) turn each behavioural feature into a suspiciousness f in [0, 1] and
    combine them as 1 - sqrt(mean((1 - f)^2)): one strongly suspicious feature is not enough, but
    several agreeing ones push the score up. Here each f is a bounded transform of a feature
    rather than an empirical CDF, so a review's score does not depend on the rest of the data set
    beyond its own listing and reviewer.

    Two steps: the counts over a review's listing and reviewer (``group_features``), then the
    score of each review from its own row alone (``score_rows``), which is what lets an engine
    count in SQL and score each partition where it lies (``scored_rows``).
    """
    if df.empty:
        return score_rows(df.copy(), Inputs(False, False, True, offset), params)
    inputs = Inputs(
        dated=bool(df["created_s"].nunique(dropna=True) > 1),
        rated=bool(df["rating"].nunique(dropna=True) > 1),
        has_orders=int(df.attrs.get("orders", 1)) > 0,
        day_offset=offset,
    )
    return score_rows(group_features(df, inputs), inputs, params)


def _burst_day(out: pd.DataFrame, inputs: Inputs, which: str, shift: int) -> pd.Series:
    """The day a review counts in for its listing's bursts (``BURST_DAYS``): "bought", its
    purchase day, else its own day when dates are real; "posted", its own day when dates are
    real. A local day, on the grid ``shift`` seconds later."""
    nan = float("nan")
    if which == "bought":
        seconds = out["paid_s"].fillna(out["created_s"] if inputs.dated else nan)
    else:
        seconds = out["created_s"] if inputs.dated else pd.Series(nan, index=out.index)
    return (seconds + (inputs.day_offset + shift)) // 86400


def group_features(df: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """``df`` with GROUP_FEATURES, counted over the whole frame (pandas; the one-machine form)."""
    out = df.copy()
    rating = out["rating"].astype("float64")
    by_listing = rating.groupby(out["listing_id"])
    out["listing_n"] = by_listing.transform("size")
    out["listing_rating_sum"] = by_listing.transform("sum")
    day = (out["created_s"] + inputs.day_offset) // 86400
    per_buyer_day = out.groupby([out["buyer_id"], day])["review_id"].transform("size")
    out["max_day"] = per_buyer_day.groupby(out["buyer_id"]).transform("max")
    for per, active, which, shift in BURST_DAYS:
        d = _burst_day(out, inputs, which, shift)
        out[per] = out.groupby([out["listing_id"], d])["review_id"].transform("size")
        out[active] = out.assign(_d=d).groupby("listing_id")["_d"].transform("nunique")
    return out


def group_features_expr(joined: ir.Table, inputs: Inputs) -> ir.Table:
    """``joined`` (``_review_expr``) with GROUP_FEATURES, counted by the engine: the same numbers
    as ``group_features`` (a review without a listing or buyer gets none, as pandas' groupby
    leaves rows with a missing key out)."""
    off = inputs.day_offset

    def local_day(seconds: ir.IntegerValue, shift: int = 0) -> ir.IntegerValue:
        return ((seconds + (off + shift)).cast("float64") / 86400).floor().cast("int64")

    seconds = {
        "bought": ibis.coalesce(joined.paid_s, joined.created_s) if inputs.dated else joined.paid_s,
        "posted": joined.created_s if inputs.dated else ibis.null("int64"),
    }
    days = {f"_d{k}": local_day(seconds[w], shift) for k, (_, _, w, shift) in enumerate(BURST_DAYS)}
    j = joined.mutate(_day=local_day(joined.created_s), **days)
    keyed = j.filter(j.listing_id.notnull())
    listing = keyed.group_by("listing_id").aggregate(
        listing_n=keyed.count(),
        listing_rating_sum=ibis.coalesce(keyed.rating.sum(), 0).cast("float64"),
    )
    per_days = []
    for k, (per, active, _, _) in enumerate(BURST_DAYS):
        ld = keyed.filter(keyed[f"_d{k}"].notnull())
        counts = ld.group_by("listing_id", f"_d{k}").aggregate(**{per: ld.count()})
        per_days.append(counts)
        # a listing's distinct days are its per-day groups: counted from those, not by a
        # distinct count over every review (0 for a listing none of whose reviews has a day)
        n_days = counts.group_by("listing_id").aggregate(**{active: counts.count()})
        listing = listing.left_join(n_days, listing.listing_id == n_days.listing_id).select(
            listing, **{active: ibis.coalesce(n_days[active], 0)}
        )
    bd = j.filter(j.buyer_id.notnull() & j._day.notnull())
    per_buyer_day = bd.group_by("buyer_id", "_day").aggregate(n=bd.count())
    buyer = per_buyer_day.group_by("buyer_id").aggregate(max_day=per_buyer_day.n.max())
    out = j.left_join(listing, j.listing_id == listing.listing_id).select(
        j, *(listing[c] for c in listing.columns if c != "listing_id")
    )
    out = out.left_join(buyer, out.buyer_id == buyer.buyer_id).select(out, buyer.max_day)
    for k, counts in enumerate(per_days):
        d, per = f"_d{k}", BURST_DAYS[k][0]
        out = out.left_join(
            counts, (out.listing_id == counts.listing_id) & (out[d] == counts[d])
        ).select(out, counts[per])
    return out.drop("_day", *days)


def _codes(values: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, int]:
    """(a code per row, -1 for a null; how many distinct values): equal codes exactly for
    equal strings (Arrow's dictionary encoding compares the bytes, as the engine's join does)."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return np.asarray(codes, dtype=np.int64), len(encoded.dictionary)


def _group_sizes(
    a: np.ndarray, b: np.ndarray, valid: np.ndarray, per_row: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over the ``valid`` rows grouped by (a, b): each row's group size (NaN for the others),
    and each group's ``a`` and size (the groups in no particular order). Without ``per_row``
    the rows' sizes are not put back (all NaN, for a caller that reads the groups alone: the
    sort then needs no inverse, ~0.08 s less on the city's buyer days)."""
    idx = np.flatnonzero(valid)
    out = np.full(len(a), np.nan)
    if not len(idx):
        return out, np.zeros(0, np.int64), np.zeros(0, np.int64)
    av, bv = a[idx], b[idx]
    if int(av.min()) < 0:
        return _group_sizes_sorted(out, idx, av, bv, a, b)
    # a value of ``a`` on one valid row only is a group of one by itself (at city scale most
    # buyers wrote one review): only the others are grouped
    per_a = np.bincount(av)
    alone = per_a[av] == 1
    out[idx[alone]] = 1.0
    lone = (av[alone], np.ones(int(alone.sum()), np.int64))
    rest = ~alone
    idx, av, bv = idx[rest], av[rest], bv[rest]
    if not len(idx):
        return out, lone[0], lone[1]
    low = int(bv.min())
    span = int(bv.max()) - low + 1
    top = int(av.max()) + 1
    if top * span <= max(8 * len(idx), 1 << 22):
        # few enough (a, b) cells to count in place (a listing's days): one pass, no sort
        key = av * span + (bv - low)
        counts = np.bincount(key, minlength=top * span)
        out[idx] = counts[key]
        cells = np.flatnonzero(counts)
        groups, sizes = cells // span, counts[cells]
    elif top < 2**62 // span and not per_row:
        uniq, sizes = np.unique(av * span + (bv - low), return_counts=True)
        groups = uniq // span
    elif top < 2**62 // span:
        # one int64 key per (a, b) and one sort of it, rather than a lexsort of two keys
        uniq, inverse, sizes = np.unique(
            av * span + (bv - low), return_inverse=True, return_counts=True
        )
        out[idx] = sizes[inverse.reshape(-1)]
        groups = uniq // span
    else:
        out, groups, sizes = _group_sizes_sorted(out, idx, av, bv, a, b)
    return out, np.concatenate([groups, lone[0]]), np.concatenate([sizes, lone[1]])


def _group_sizes_sorted(
    out: np.ndarray, idx: np.ndarray, av: np.ndarray, bv: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_group_sizes`` of the rows ``idx`` by a lexsort of the two keys (any int64 values)."""
    order = idx[np.lexsort((bv, av))]
    ka, kb = a[order], b[order]
    start = np.ones(len(order), dtype=bool)
    start[1:] = (ka[1:] != ka[:-1]) | (kb[1:] != kb[:-1])
    group = np.cumsum(start) - 1
    sizes = np.bincount(group)
    out[order] = sizes[group]
    return out, ka[start], sizes


def group_features_arrays(rows: pa.Table, inputs: Inputs) -> dict[str, np.ndarray]:
    """GROUP_FEATURES of each row of ``rows`` (``_review_expr``'s columns), counted in numpy on
    integer codes of the listing and buyer ids: the numbers ``group_features_expr`` gives (as
    float64, NaN where it gives null), without the engine grouping 1.84M rows by (listing,
    day) and (buyer, day) on strings, keys nearly unique, and joining each count back.

    The days are the engine's: ``floor(seconds / 86400)`` in float64, then whole."""
    listing, n_listings = _codes(rows.column("listing_id"))
    buyer, n_buyers = _codes(rows.column("buyer_id"))
    return group_features_coded(rows, listing, n_listings, buyer, n_buyers, inputs)


def _kept_codes(values: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, int]:
    """``_codes`` of a column of ``review_rows``' codes (``_CODES``): the codes themselves, -1
    for a null, and one more than the highest (they are dense from 0)."""
    codes = np.asarray(pc.fill_null(values, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return codes, (int(codes.max()) + 1 if len(codes) else 0)


def group_features_coded(
    rows: pa.Table,
    listing: np.ndarray,
    n_listings: int,
    buyer: np.ndarray,
    n_buyers: int,
    inputs: Inputs,
) -> dict[str, np.ndarray]:
    """``group_features_arrays`` given each row's listing and buyer code (``_codes``: equal
    exactly for equal ids, -1 for none, below ``n_listings`` and ``n_buyers``); ``rows`` holds
    the other columns it reads (rating, created_s, paid_s)."""
    # at least one slot: np.where reads both branches, so a column of nulls only (no code at all)
    # would index an empty array where it then takes NaN
    n_listings, n_buyers = max(n_listings, 1), max(n_buyers, 1)
    has_listing = listing >= 0
    at_listing = np.maximum(listing, 0)
    rating = rows.column("rating")
    whole = np.asarray(pc.fill_null(rating, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    out: dict[str, np.ndarray] = {}
    n = np.bincount(listing[has_listing], minlength=n_listings)
    out["listing_n"] = np.where(has_listing, n[at_listing], np.nan)
    total = np.zeros(n_listings, dtype=np.int64)  # an integer sum, then float64 (the SQL's cast)
    np.add.at(total, listing[has_listing], whole[has_listing])
    out["listing_rating_sum"] = np.where(has_listing, total[at_listing].astype(np.float64), np.nan)
    off = inputs.day_offset
    created = _float_column(rows, "created_s")
    paid = _float_column(rows, "paid_s")
    seconds = {
        "bought": np.where(np.isnan(paid), created, paid) if inputs.dated else paid,
        "posted": created if inputs.dated else np.full(len(created), np.nan),
    }
    for per, active, which, shift in BURST_DAYS:
        d = np.floor((seconds[which] + (off + shift)) / 86400)
        dated = has_listing & ~np.isnan(d)
        counts, day_listing, _ = _group_sizes(listing, np.nan_to_num(d).astype(np.int64), dated)
        out[per] = counts
        days = np.bincount(day_listing, minlength=n_listings)  # a listing's distinct days
        out[active] = np.where(has_listing, days[at_listing], np.nan)
    day = np.floor((created + off) / 86400)
    counted = (buyer >= 0) & ~np.isnan(day)
    _, day_buyer, sizes = _group_sizes(
        buyer, np.nan_to_num(day).astype(np.int64), counted, per_row=False
    )
    most = np.zeros(n_buyers, dtype=np.int64)
    np.maximum.at(most, day_buyer, sizes)
    seen = np.zeros(n_buyers, dtype=bool)
    seen[day_buyer] = True
    at_buyer = np.maximum(buyer, 0)
    out["max_day"] = np.where((buyer >= 0) & seen[at_buyer], most[at_buyer], np.nan)
    return out


def score_rows(out: pd.DataFrame, inputs: Inputs, params: dict[str, Any]) -> pd.DataFrame:
    """Each review's parts and score from its own row (its GROUP_FEATURES included): the same
    arithmetic wherever the row is, so a partition scores as the whole frame does."""
    if out.empty:
        for part in (*SCORE_PARTS, "score", "signals"):
            out[part] = pd.Series(dtype="float64")
        out.attrs["not_scored"] = 0
        return out
    extra: dict[str, np.ndarray] = {}
    if params.get("text_model"):
        from promoguard import reviews_model

        model = reviews_model.load(Path(params["text_model"]))
        extra["text_model"] = np.asarray(model.score(out["text"].fillna("").tolist()), "float64")
    # one formula: the arrays' (``score_arrays``), on this frame's columns
    with np.errstate(divide="ignore", invalid="ignore"):
        parts, score, signals = score_arrays(
            lambda name: out[name].to_numpy("float64", na_value=np.nan),
            len(out),
            inputs,
            params,
            extra,
        )
    for p, values in parts.items():
        out[p] = values
    out["signals"] = signals
    out["score"] = score
    enough = signals >= int(params.get("min_signals", 3))
    out.attrs["not_scored"] = int((~enough).sum())
    out.attrs["why"] = why_not_scored(inputs, params)
    return out


def _clip(x: np.ndarray, lower: float | None = None, upper: float | None = None) -> np.ndarray:
    """``pd.Series.clip`` on an array, to the bit: NaN stays, and a value at a bound (a -0.0 at
    0) is kept as it is rather than replaced by the bound."""
    nan = np.isnan(x)
    if lower is not None:
        x = np.where(nan | (x >= lower), x, lower)
    if upper is not None:
        x = np.where(nan | (x <= upper), x, upper)
    return x


def score_arrays(
    column: Callable[[str], np.ndarray],
    n: int,
    inputs: Inputs,
    params: dict[str, Any],
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """``score_rows`` on plain float arrays (``column(name)``: the column as float64, NaN for a
    missing value): (each part, rounded; the score, NaN when not scored; how many signals were
    available). What a batch of a partition is scored with, without a DataFrame per batch, and
    what ``score_rows`` scores a frame with. ``extra``: parts computed elsewhere (a text model's
    scores, which need the texts), weighed after SCORE_PARTS from ``params["weights"]``."""
    nan = np.nan
    dated, rated, has_orders = inputs.dated, inputs.rated, inputs.has_orders
    blank = np.full(n, nan)
    rating = column("rating")
    parts: dict[str, np.ndarray] = {}
    others = column("listing_n") - 1
    loo_mean = (column("listing_rating_sum") - rating) / np.where(others > 0, others, nan)
    parts["rating_deviation"] = _clip(np.abs(rating - loo_mean) / 4.0, 0, 1) if rated else blank
    parts["extremity"] = ((rating == 1.0) | (rating == 5.0)).astype("float64") if rated else blank
    # from the first delivery scan only: a buyer's confirmation of receipt is no delivery time
    # (platforms ask for the review on confirming, 确认收货 then 评价: a review minutes after it is
    # the honest flow; a blind set's Double-11 buyers were reported for it, session 40)
    received = column("delivered_s")
    created = column("created_s")
    lag_h = (created - received) / 3600.0
    early = _clip(1.0 - _clip(lag_h, lower=0) / float(params["early_hours"]), 0, 1)
    parts["early"] = np.where(~np.isnan(received) & dated, early, nan)
    burst_n = float(params["burst_reviews"])
    parts["reviewer_burst"] = (
        _clip((column("max_day") - 1) / (burst_n - 1), 0, 1) if dated else blank
    )
    orders = column("buyer_orders")
    orders = _clip(np.where(np.isnan(orders), 1.0, orders), lower=1.0)
    parts["thin_history"] = 1.0 / orders if has_orders else blank
    factor = float(params["listing_burst_factor"])

    def burst(per: str, active: str) -> np.ndarray:
        per_day = column(per)
        ratio = per_day / _clip(column("listing_n") / column(active), lower=1.0)
        return _clip((ratio - 1.0) / (factor - 1.0), 0, 1) * (
            per_day >= int(params["listing_burst_min"])
        ).astype("float64")

    # the largest burst of ``BURST_DAYS``: on the purchase day, else the review's own day when
    # dates are real (orders placed together), and on the day it was posted (reviews written
    # together, whenever their orders were paid: a farm's evening of reviews), on both grids
    has_day = {
        "bought": ~np.isnan(column("paid_s")) | (dated & ~np.isnan(created)),
        "posted": dated & ~np.isnan(created),
    }
    listing_burst = blank
    for per, active, which, _ in BURST_DAYS:
        listing_burst = np.fmax(listing_burst, np.where(has_day[which], burst(per, active), nan))
    parts["listing_burst"] = listing_burst
    weights = {p: float(params["weights"].get(p, 1.0)) for p in SCORE_PARTS}
    for p, values in (extra or {}).items():
        parts[p] = values
        weights[p] = float(params["weights"].get(p, 1.0))
    avail = {p: ~np.isnan(parts[p]) for p in weights}
    wsum = sum(w * avail[p].astype("float64") for p, w in weights.items())
    total = sum(w * np.where(avail[p], (1.0 - parts[p]) ** 2, 0.0) for p, w in weights.items())
    signals = sum(avail[p].astype("int64") for p in weights)
    enough = signals >= int(params.get("min_signals", 3))
    mean = total / np.where(wsum > 0, wsum, nan)  # type: ignore[operator]
    score = np.where(enough, np.round(1.0 - np.sqrt(mean), 4), nan)
    return {p: np.round(parts[p], 4) for p in weights}, score, signals  # type: ignore[return-value]


def _float_column(batch: pa.RecordBatch, name: str) -> np.ndarray:
    """A column of ``batch`` as float64, NaN where missing."""
    values = batch.column(name)
    if not pa.types.is_floating(values.type):
        values = values.cast(pa.float64())
    return values.to_numpy(zero_copy_only=False).astype("float64", copy=False)


def why_not_scored(inputs: Inputs, params: dict[str, Any]) -> str:
    missing = []
    if not inputs.has_orders:
        missing.append("no orders (reviewer history, delivery timing)")
    if not inputs.dated:
        missing.append("one date for every review, a placeholder (timing, bursts)")
    if not inputs.rated:
        missing.append("one rating for every review (rating signals)")
    return f"fewer than {int(params.get('min_signals', 3))} of its signals available" + (
        ": " + "; ".join(missing) if missing else ""
    )


#: the columns of ``_review_expr`` that ``score_rows`` reads, besides GROUP_FEATURES (and the text
#: when a text model is used)
_SCORE_INPUTS = (
    "review_id",
    "listing_id",
    "rating",
    "created_s",
    "paid_s",
    "delivered_s",
    "buyer_orders",
)

_SCORED = pa.schema(
    [
        ("review_id", pa.string()),
        ("listing_id", pa.string()),
        ("score", pa.float64()),
        *[(p, pa.float64()) for p in SCORE_PARTS],
        ("text_model", pa.float64()),
        ("not_scored", pa.int64()),
    ]
)


def scored_rows(
    tables: Tables, params: dict[str, Any], offset: int = 0
) -> tuple[pa.Table, int, str]:
    """REVIEW003's reviews at or above the threshold, with the reviews left where they are.

    The engine counts GROUP_FEATURES (exact integers) and the three facts about the data; each
    partition then scores its rows with ``score_rows`` through Arrow, and only the reviews at or
    above the threshold (and a count of those not scored) come back: the same scores as the
    one-machine form, since a row's score depends on nothing else. On DuckDB (no text model)
    the rows (``review_rows``) are pulled and counted in numpy instead: the same counts,
    cheaper than the engine's group-bys on nearly unique string keys. Returns (found rows, how
    many were not scored, why). ``offset``: the pack's time zone (``day_offset``).
    """
    from promoguard.engine import backends

    # no texts unless a text model reads them (the texts are most of the bytes)
    text = bool(params.get("text_model"))
    o = tables.orders
    n_orders = int(tables.to_arrow(o.aggregate(n=o.count())).column("n")[0].as_py())
    if not text and not backends.is_spark(tables.backend):
        # one machine: the rows come here anyway to be scored, so they are counted here too
        # (``group_features_arrays``: the engine's numbers), a slice at a time scored. The rows
        # are kept from scan to scan (``review_rows``): a day's scan folds its rows in
        found, not_scored, inputs = _scored_kept(
            tables, review_rows(tables), n_orders > 0, params, offset
        )
        return found, not_scored, why_not_scored(inputs, params)
    joined = _review_expr(tables, text)
    # the distinct dates and ratings of the reviews themselves: the left joins of ``joined`` can
    # only repeat a review, never add a value, and counting here spares the engine the joins
    r = tables.reviews
    facts = tables.to_arrow(
        r.aggregate(
            dates=epoch_seconds(r.created_at).nunique(), ratings=r.rating.cast("int64").nunique()
        )
    ).to_pylist()[0]
    inputs = Inputs(int(facts["dates"]) > 1, int(facts["ratings"]) > 1, n_orders > 0, offset)
    found, not_scored = _scored_where_they_are(tables, joined, inputs, params)
    return found, not_scored, why_not_scored(inputs, params)


def _varies(rows: pa.Table, name: str) -> bool:
    """Whether the column holds more than one distinct value (nulls aside)."""
    bounds = pc.min_max(rows.column(name))
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    return low is not None and low != high


#: the columns of ``review_rows`` that ``score_arrays`` reads besides GROUP_FEATURES: numbers
_SCORE_NUMBERS = tuple(c for c in _SCORE_INPUTS if c not in ("review_id", "listing_id"))


def _scored_kept(
    tables: Tables, kept: ir.Table, has_orders: bool, params: dict[str, Any], offset: int = 0
) -> tuple[pa.Table, int, Inputs]:
    """``scored_rows`` on one machine from ``review_rows`` (``kept``): only its numbers and codes
    are pulled (its ids are strings: at city scale pulling them cost more than the rest, and
    coding the listing and buyer ids again ~0.25 s), counted with ``group_features_coded``
    and scored a slice at a time; the found rows' review and listing ids are then read back
    by their row codes. Returns (found rows, how many were not scored, the Inputs)."""
    rows = tables.to_arrow(kept.select(*_SCORE_NUMBERS, *_CODES))
    # every review is among the rows (left joins), and they add no value: whether dates and
    # ratings vary is read from them (more than one distinct value: min differs from max)
    inputs = Inputs(_varies(rows, "created_s"), _varies(rows, "rating"), has_orders, offset)
    listing, n_listings = _kept_codes(rows.column("listing_code"))
    buyer, n_buyers = _kept_codes(rows.column("buyer_code"))
    features = group_features_coded(rows, listing, n_listings, buyer, n_buyers, inputs)
    row_codes = rows.column("row_code")

    def ids(at: pa.Array) -> tuple[pa.Array, pa.Array]:
        wanted = row_codes.take(at).combine_chunks()
        w = ibis.memtable(pa.table({"w": wanted}))
        got = tables.to_arrow(
            kept.semi_join(w, kept.row_code == w.w).select("row_code", "review_id", "listing_id")
        )
        # (a row code is one row's: each wanted code is found once)
        where = pc.index_in(wanted, value_set=got.column("row_code").combine_chunks())
        return got.column("review_id").take(where), got.column("listing_id").take(where)

    threshold = float(params["threshold"])
    found, not_scored = _scored_table(rows, features, inputs, params, threshold, ids)
    return found, not_scored, inputs


def _scored_pulled(rows: pa.Table, inputs: Inputs, params: dict[str, Any]) -> tuple[pa.Table, int]:
    """``scored_rows`` on one machine, of rows already pulled (``_SCORE_INPUTS`` and
    ``buyer_id``): counted with ``group_features_arrays`` and scored a slice at a time."""
    features = group_features_arrays(rows, inputs)
    rows = rows.drop_columns(["buyer_id"])
    return _scored_table(rows, features, inputs, params, float(params["threshold"]))


def _scored_where_they_are(
    tables: Tables, joined: ir.Table, inputs: Inputs, params: dict[str, Any]
) -> tuple[pa.Table, int]:
    """``scored_rows`` with the rows left on the engine: counted in SQL
    (``group_features_expr``), scored per partition (Spark; a text model's DataFrame form)."""
    from promoguard.engine import backends

    text = bool(params.get("text_model"))
    threshold = float(params["threshold"])
    featured = group_features_expr(joined, inputs)
    # only what ``score_rows`` reads and the found rows carry: no buyer or order ids
    wanted = [*_SCORE_INPUTS, *GROUP_FEATURES] + (["text"] if text else [])
    featured = featured.select(*wanted)

    def score(batches):
        for batch in batches:
            if not batch.num_rows:
                continue
            if text:  # a text model reads the texts: the DataFrame form
                yield _scored_batch_frame(batch, inputs, params, threshold)
            else:
                yield _scored_batch(batch, inputs, params, threshold)

    rows = backends.map_partitions(tables.backend, featured, score, _SCORED)
    counts = rows.column("not_scored").to_numpy(zero_copy_only=False)
    not_scored = int(np.nansum(counts.astype("float64")))
    found = rows.filter(pc.is_valid(rows.column("review_id"))).drop_columns(["not_scored"])
    return found, not_scored


#: rows scored at a time by ``_scored_table`` (bounds the arrays the score's arithmetic makes)
_SCORE_SLICE = 65_536


def _scored_table(
    rows: pa.Table,
    features: dict[str, np.ndarray],
    inputs: Inputs,
    params: dict[str, Any],
    threshold: float,
    ids: Callable[[pa.Array], tuple[pa.Array, pa.Array]] | None = None,
) -> tuple[pa.Table, int]:
    """The reviews of ``rows`` at or above ``threshold`` (``_SCORED`` but its count column),
    scored a slice at a time as ``_scored_batch`` scores a batch; and how many of them could not
    be scored. ``features``: the GROUP_FEATURES of every row, as float64 arrays. ``ids``: the
    review and listing ids of the rows at the given positions (default: ``rows``' own)."""
    hits: list[np.ndarray] = []
    values: dict[str, list[np.ndarray]] = {p: [] for p in ("score", *SCORE_PARTS)}
    not_scored = 0
    min_signals = int(params.get("min_signals", 3))
    for start in range(0, rows.num_rows, _SCORE_SLICE):
        part = rows.slice(start, _SCORE_SLICE)
        stop = start + part.num_rows

        def column(name: str, part: pa.Table = part, start: int = start, stop: int = stop):
            if name in features:
                return features[name][start:stop]
            return _float_column(part, name)

        # as pandas does: 0/0 and x/0 give NaN and inf without a warning
        with np.errstate(divide="ignore", invalid="ignore"):
            parts, score, signals = score_arrays(column, part.num_rows, inputs, params)
        hit = ~np.isnan(score) & (score >= threshold)
        not_scored += int((signals < min_signals).sum())
        hits.append(np.flatnonzero(hit) + start)
        values["score"].append(score[hit])
        for p in SCORE_PARTS:
            values[p].append(parts[p][hit])
    at = pa.array(np.concatenate(hits) if hits else np.zeros(0, np.int64))
    n = len(at)

    def floats(name: str) -> pa.Array:
        got = values[name]
        return pa.array(np.concatenate(got) if got else np.zeros(0), pa.float64())

    schema = _SCORED.remove(_SCORED.get_field_index("not_scored"))
    if ids is None:
        review_id, listing_id = (
            rows.column("review_id").take(at),
            rows.column("listing_id").take(at),
        )
    else:
        review_id, listing_id = ids(at)
    columns = [
        review_id.cast(pa.string()),
        listing_id.cast(pa.string()),
        floats("score"),
        *[floats(p) for p in SCORE_PARTS],
        pa.nulls(n, pa.float64()),  # no text model
    ]
    return pa.table(columns, schema=schema), not_scored


def _scored_batch(
    batch: pa.RecordBatch, inputs: Inputs, params: dict[str, Any], threshold: float
) -> pa.RecordBatch:
    """One batch's reviews at or above ``threshold`` (``_SCORED``), scored on arrays; the last
    row carries the batch's count of reviews it could not score."""
    # as pandas does: 0/0 and x/0 give NaN and inf without a warning
    with np.errstate(divide="ignore", invalid="ignore"):
        parts, score, signals = score_arrays(
            lambda name: _float_column(batch, name), batch.num_rows, inputs, params
        )
    hit = ~np.isnan(score) & (score >= threshold)
    picked = pa.array(hit)
    n = int(hit.sum())
    not_scored = int((signals < int(params.get("min_signals", 3))).sum())

    def strings(name: str) -> pa.Array:
        values = batch.column(name).filter(picked).cast(pa.string())
        return pa.concat_arrays([values, pa.nulls(1, pa.string())])

    def floats(values: np.ndarray) -> pa.Array:
        # NaN (a part not available) stays NaN, as the DataFrame form's floats do
        return pa.concat_arrays([pa.array(values[hit], pa.float64()), pa.nulls(1, pa.float64())])

    arrays = [strings("review_id"), strings("listing_id"), floats(score)]
    arrays += [floats(parts[p]) for p in SCORE_PARTS]
    arrays.append(pa.nulls(n + 1, pa.float64()))  # no text model
    arrays.append(pa.array([None] * n + [not_scored], pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, schema=_SCORED)


def _scored_batch_frame(
    batch: pa.RecordBatch, inputs: Inputs, params: dict[str, Any], threshold: float
) -> pa.RecordBatch:
    """``_scored_batch`` through ``score_rows`` (a DataFrame): the form a text model needs."""
    scored = score_rows(batch.to_pandas(), inputs, params)
    hit = scored[scored["score"].notna() & (scored["score"] >= threshold)]
    cols = {
        "review_id": hit["review_id"].astype(str).tolist() + [None],
        "listing_id": [None if pd.isna(v) else str(v) for v in hit["listing_id"]] + [None],
    }
    for part in ("score", *SCORE_PARTS):
        cols[part] = hit[part].tolist() + [None]
    text = hit["text_model"].tolist() if "text_model" in hit else [None] * len(hit)
    cols["text_model"] = text + [None]
    # the last row carries the partition's count of reviews it could not score
    cols["not_scored"] = [None] * len(hit) + [int(scored.attrs["not_scored"])]
    return pa.RecordBatch.from_pydict(cols, schema=_SCORED)
