"""REVIEW001's and REVIEW003's relations kept from scan to scan: each fold of the previous scan's
copy with the rows added since equals the relation built on all rows (``build(base)`` then
``fold`` == ``build(all)``), on hand-built cases where patching the previous answer would be
wrong, and the findings computed from the folded relation are the full scan's."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from promoguard.engine import registry
from promoguard.rules._relations import order_first_delivery
from promoguard.rules.reviews import _shared

from .kept_split import build_and_fold, rows, split_store

# near copies built from one seller's phrases (estimated Jaccard over 3-shingles, of 64
# permutations; 39 link two texts): X~Y 45, Y~Z 47, X~Z 33
X = "商家说五星好评送小礼品，颜色好看，朋友很喜欢，有点小瑕疵但能接受，性价比很高。"
Y = "商家说五星好评送小礼品，孩子很喜欢，有点小瑕疵但能接受，颜色好看，朋友很喜欢。"
Z = "商家说五星好评送小礼品，孩子很喜欢，有点小瑕疵但能接受，送朋友的，包装很用心。"
# from the city season: A~B 40 (linked, through bands 1 and 6 only), N~A 24, N~B 25, and N
# shares A's and B's keys in both bands: a review N whose id falls between A's and B's takes
# their pair's place in both buckets, and the old cluster {A, B} is gone
A = "商家说五星好评送小礼品，质量不错，有点小瑕疵但能接受，第二次购买了。"
B = "商家说五星好评送小礼品，孩子很喜欢，有点小瑕疵但能接受，第二次购买了。"
N = "商家说五星好评送小礼品，有点小瑕疵但能接受，颜色好看，送朋友的，朋友很喜欢。"


def review(rid: str, buyer: str, text: str | None) -> dict:
    return {
        "review_id": rid,
        "listing_id": "L1",
        "buyer_id": buyer,
        "order_id": None,
        "rating": 5,
        "created_at": "2026-11-11T10:00:00Z",
        "text": text,
    }


def _params() -> dict:
    return registry.get("REVIEW001").parameter_defaults()


def _clusters(frame: pd.DataFrame) -> dict[str, tuple]:
    return {
        r.review_id: (r.cluster_id, int(r.cluster_size), int(r.cluster_buyers))
        for r in frame.itertuples()
    }


def _check_signed(tmp_path, base_reviews, new_reviews):
    """The folded signatures equal the built ones; returns (clusters on the base rows, the
    clusters from the folded signatures), the latter held equal to signing every text."""
    params = _params()
    con, base, now, new = split_store(
        tmp_path / "s.duckdb", {"reviews": base_reviews}, {"reviews": new_reviews}
    )
    built, folded = build_and_fold(
        con,
        base,
        now,
        new,
        lambda t: _shared.signed_build(t, params),
        lambda p, t, n: _shared.signed_fold(p, t, n, params),
    )
    assert rows(folded) == rows(built)
    full = _shared.duplicate_clusters(_shared._texts(now), params)
    got = _shared.signed_clusters(folded, params)
    assert _clusters(got) == _clusters(full)
    before = _shared.duplicate_clusters(_shared._texts(base), params)
    con.close()
    return _clusters(before), _clusters(got)


def test_a_new_review_joins_an_old_cluster(tmp_path):
    before, after = _check_signed(
        tmp_path,
        [review("R10", "B1", X), review("R11", "B2", X), review("R50", "B9", "好评")],
        [review("R12", "B3", Y), review("R13", "B4", "好评"), review("R14", "B4", None)],
    )
    assert before == {"R10": ("R10", 2, 2), "R11": ("R10", 2, 2)}
    assert after == {r: ("R10", 3, 3) for r in ("R10", "R11", "R12")}


def test_a_new_review_links_two_old_clusters(tmp_path):
    before, after = _check_signed(
        tmp_path,
        [review("R10", "B1", X), review("R11", "B2", X), review("R30", "B3", Z)]
        + [review("R31", "B4", Z)],
        [review("R20", "B5", Y)],
    )
    assert set(before.values()) == {("R10", 2, 2), ("R30", 2, 2)}
    assert after == {r: ("R10", 5, 5) for r in ("R10", "R11", "R20", "R30", "R31")}


def test_a_new_review_between_two_old_near_copies_splits_their_cluster(tmp_path):
    # (seen at city scale: a day's review removed three old reviews from their clusters)
    before, after = _check_signed(
        tmp_path,
        [review("R40", "B6", A), review("R42", "B7", B)],
        [review("R41", "B8", N)],
    )
    assert before == {"R40": ("R40", 2, 2), "R42": ("R40", 2, 2)}
    assert after == {}


def test_a_new_review_of_the_same_buyer_leaves_a_cluster_short_of_buyers(tmp_path):
    before, after = _check_signed(
        tmp_path,
        [review("R10", "B1", X), review("R11", "B1", X)],
        [review("R12", "B1", X), review("R05", "B2", "好评")],
    )
    assert before == {} and after == {}


def test_the_kept_signatures_are_keyed_by_what_signs_them():
    p = _params()
    key = _shared.signature_key(p)
    assert _shared.signature_key({**p, "bands": 8, "similarity": 0.9, "min_buyers": 5}) == key
    for name, value in (("shingle_n", 4), ("num_perm", 128), ("min_length", 20)):
        assert _shared.signature_key({**p, name: value}) != key


def test_signatures_read_back_are_the_signed_ones():
    import numpy as np

    sig = np.random.default_rng(1).integers(0, 2**32, size=(50, 64), dtype=np.uint64)
    sig = sig.astype(np.uint32)
    blobs = _shared._sig_blobs(sig)
    assert np.array_equal(_shared._sig_matrix(blobs, 64), sig)
    assert np.array_equal(_shared._sig_matrix(blobs.slice(10, 5), 64), sig[10:15])
    with pytest.raises(ValueError, match="32 permutations"):
        _shared._sig_matrix(blobs, 32)


# -- REVIEW003's review rows -----------------------------------------------------------------------


def _uncoded(table: pa.Table) -> list[tuple]:
    """``review_rows``' rows without their codes (a fold numbers the day's ids after the
    previous rows' codes, a build in its own order: only what the codes say must agree)."""
    return rows(table.drop_columns(list(_shared._CODES)))


def _check_codes(table: pa.Table) -> None:
    """``review_rows``' codes say what ``group_features_arrays`` reads from the ids: one code per
    listing and per buyer and one of those per code (null for a null id), dense from 0; and
    each row's own code."""
    for id_name, code_name in (("listing_id", "listing_code"), ("buyer_id", "buyer_code")):
        pairs = set(
            zip(table.column(id_name).to_pylist(), table.column(code_name).to_pylist(), strict=True)
        )
        assert all((i is None) == (c is None) for i, c in pairs), code_name
        named = [(i, c) for i, c in pairs if i is not None]
        assert len({i for i, _ in named}) == len(named), f"an id with two {code_name}s"
        assert {c for _, c in named} == set(range(len(named))), f"{code_name}s not one per id"
    row_codes = table.column("row_code").to_pylist()
    assert None not in row_codes and len(set(row_codes)) == len(row_codes)


def _review_rows_both(con, base, now, new):
    """(built on all rows, folded), the fold both ways: told which orders' first delivery
    moved (as the first delivery's own fold tells it in a scan: here the difference of the
    first deliveries built on the base rows and on all rows), and finding them itself. The
    folded rows are the built ones but for their codes, which say the same."""
    built, folded = build_and_fold(
        con,
        base,
        now,
        new,
        _shared.review_rows_build,
        _shared.review_rows_fold,
    )
    first = {
        t: {
            r["s_order_id"]: r["first_delivered_at"]
            for r in x.to_arrow(order_first_delivery(x)).to_pylist()
        }
        for t, x in (("base", base), ("now", now))
    }
    moved = [
        {"order_id": o, "new_first": at}
        for o, at in first["now"].items()
        if first["base"].get(o) != at
    ]
    moved_table = ibis.memtable(
        pa.Table.from_pylist(
            moved, pa.schema([("order_id", pa.string()), ("new_first", pa.timestamp("us", "UTC"))])
        )
    )
    _, told = build_and_fold(
        con,
        base,
        now,
        new,
        _shared.review_rows_build,
        lambda p, t, n: _shared.review_rows_fold(p, t, n, moved_table),
    )
    for table in (built, folded, told):
        _check_codes(table)
    assert _uncoded(told) == _uncoded(folded) == _uncoded(built)
    return built, folded


def _scored(tables, rows_table, params):
    """REVIEW003's found rows and not-scored count from review rows, as ``scored_rows`` scores
    them (their codes counted on, their ids read back by row code); held equal to scoring the
    same rows on their ids (``_codes``)."""
    kept = ibis.memtable(rows_table)
    found, not_scored, _ = _shared._scored_kept(tables, kept, True, params)
    o_rows = rows_table.select([*_shared._SCORE_INPUTS, "buyer_id"])
    inputs = _shared.Inputs(
        _shared._varies(o_rows, "created_s"), _shared._varies(o_rows, "rating"), True
    )
    pulled, pulled_not_scored = _shared._scored_pulled(o_rows, inputs, params)
    assert (rows(found), not_scored) == (rows(pulled), pulled_not_scored)
    return rows(found), not_scored


def _world_split(cut):
    """The review world's rows before ``cut`` (orders by payment, their shipments with them,
    scans and reviews by their own time) and the rest, appended after."""
    from .synth import review_world

    tables = review_world().tables()
    orders = tables["orders"]
    old_orders = set(orders.loc[orders.paid_at < cut, "order_id"])
    at = {
        "orders": orders.paid_at < cut,
        "shipments": tables["shipments"].order_id.isin(old_orders),
        "tracking_events": tables["tracking_events"].event_at < cut,
        "reviews": tables["reviews"].created_at < cut,
    }
    base = {k: (v[at[k]] if k in at else v) for k, v in tables.items()}
    added = {k: v[~at[k]] for k, v in tables.items() if k in at}
    return base, added


def test_review_rows_fold_a_day_cut_through_a_listings_burst(tmp_path):
    import datetime as dt

    from tests.rules.brushing.synth import T0

    from .synth import BURST_LISTING

    # the cut falls in the middle of the planted burst: six of its reviews before, six after
    # (and their orders' delivered scans: a delivered scan arriving for an old order)
    cut = T0 + dt.timedelta(days=12, hours=20, minutes=28)
    base_rows, added = _world_split(cut)
    assert len(added["reviews"]) > 50 and len(added["tracking_events"]) > 10
    con, base, now, new = split_store(tmp_path / "s.duckdb", base_rows, added)
    built, folded = _review_rows_both(con, base, now, new)
    params = registry.get("REVIEW003").parameter_defaults()
    found, not_scored = _scored(now, folded, params)
    want, want_skipped, _ = _shared.scored_rows(now, params)
    assert (found, not_scored) == (rows(want), want_skipped)
    # the findings moved across the cut (the burst's second half), so the case is a real one
    before, _, _ = _shared.scored_rows(base, params)
    assert rows(before) != rows(want)
    burst = [r for r in want.to_pylist() if r["listing_id"] == BURST_LISTING]
    assert len(burst) > len([r for r in before.to_pylist() if r["listing_id"] == BURST_LISTING])


def test_review_rows_fold_what_changes_an_old_reviews_row(tmp_path):
    """A delivered scan for an old order, an old review's order arriving late, a new shipment
    linking an old order to a parcel delivered before, a buyer's second (cancelled) order, an
    order listed twice, a new review without an order: each old review's row changes as
    building on all rows changes it."""
    from tests.support import listing

    t = "2026-11-0{}T10:00:00Z".format

    def order(oid, buyer, day, status="paid"):
        return {
            "order_id": oid,
            "listing_id": "L1",
            "merchant_id": "M1",
            "buyer_id": buyer,
            "quantity": 1,
            "unit_price": "9.00",
            "paid_at": t(day),
            "confirmed_at": t(day + 1),
            "status": status,
        }

    def rev(rid, oid, buyer, day, rating=5):
        return {
            "review_id": rid,
            "listing_id": "L1",
            "buyer_id": buyer,
            "order_id": oid,
            "rating": rating,
            "created_at": t(day),
            "text": "好评",
        }

    def scan(no, day, kind="delivered"):
        return {"carrier": "SF", "tracking_no": no, "event_at": t(day), "event_type": kind}

    base_rows = {
        "merchants": [{"merchant_id": "M1", "platform_id": "P1", "name": "m"}],
        "listings": [listing("L1", "M1", "P1")],
        "orders": [order("O1", "U1", 1), order("O2", "U2", 1), order("O3", "U3", 2)]
        + [order("O6", "U6", 2), order("O7", "U7", 2)]
        + [order("O20", "U20", 1), order("O21", "U20", 2)],
        "shipments": [
            {"order_id": "O1", "carrier": "SF", "tracking_no": "T1"},
            {"order_id": "O2", "carrier": "SF", "tracking_no": "T2"},
            {"order_id": "O6", "carrier": "SF", "tracking_no": "T6"},
            {"order_id": "O10", "carrier": "SF", "tracking_no": "T10"},  # O10: no order row
        ],
        "tracking_events": [scan("T1", 3), scan("T2", 3, "pickup"), scan("T6", 5)],
        "reviews": [rev("R1", "O1", "U1", 4), rev("R2", "O2", "U2", 4, 1)]
        + [rev("R3", "O3", "U3", 4), rev("R4", "O4", "U4", 5), rev("R6", "O6", "U6", 6)]
        + [rev("R9", "O7", "U7", 6), rev("R10", "O10", "U10", 6)]
        + [rev("R11", None, "U11", 6)],
    }
    added = {
        "orders": [order("O4", "U40", 3), order("O5", "U3", 6, "cancelled"), order("O1", "U1", 1)]
        + [order("O11", "U11", 7)],
        "shipments": [{"order_id": "O7", "carrier": "SF", "tracking_no": "T1"}],
        "tracking_events": [scan("T2", 7), scan("T9", 7), scan("T6", 4), scan("T10", 7)],
        "reviews": [rev("R5", "O5", "U3", 7, 3), rev("R7", None, "U9", 7, 2)]
        + [rev("R8", "O2", "U2", 8, 4), rev("R20", "O20", "U20", 7)],
    }
    con, base, now, new = split_store(tmp_path / "s.duckdb", base_rows, added)
    built, folded = _review_rows_both(con, base, now, new)
    names = built.column_names
    before = {r[0]: r for r in rows(base.to_arrow(_shared.review_rows_build(base)))}
    after = rows(built)
    by_id = {}
    for r in after:
        by_id.setdefault(r[0], []).append(dict(zip(names, r, strict=True)))
    # every case changed its old review's row, so a fold that kept it would fail above
    assert by_id["R1"][0]["buyer_orders"] == 2 and len(by_id["R1"]) == 2  # O1 listed twice
    assert by_id["R2"][0]["delivered_s"] is not None
    assert dict(zip(names, before["R2"], strict=True))["delivered_s"] is None
    assert by_id["R3"][0]["buyer_orders"] == 2  # U3's second order (cancelled: still an order)
    assert by_id["R9"][0]["delivered_s"] is not None  # O7 shipped in a parcel delivered before
    assert dict(zip(names, before["R9"], strict=True))["delivered_s"] is None
    # (its order's row names another buyer: only the order reaches R4)
    assert by_id["R4"][0]["paid_s"] is not None
    assert dict(zip(names, before["R4"], strict=True))["paid_s"] is None
    # an earlier delivered scan of an old order's parcel lowers its first delivery
    six = dict(zip(names, before["R6"], strict=True))["delivered_s"]
    assert by_id["R6"][0]["delivered_s"] == six - 86400
    assert by_id["R7"][0]["buyer_orders"] is None
    # a delivered scan of a parcel whose order is not among the orders: no first delivery
    # shows (the left joins go through the order row), though the order's first delivery moved
    assert by_id["R10"][0]["delivered_s"] is None
    # a buyer without orders before gets one (counted from none, not from null)
    assert dict(zip(names, before["R11"], strict=True))["buyer_orders"] is None
    assert by_id["R11"][0]["buyer_orders"] == 1
    # a first review by a buyer with two old orders: counted over every order of the buyer,
    # not only the reviewed one
    assert by_id["R20"][0]["buyer_orders"] == 2
    # the codes of the folded rows: a buyer's new review takes her old code, the day's first
    # reviews of buyers (U9, U20) and a review computed again (R4, its order arrived after it)
    # keep one code per id, new ids numbered after the previous rows' highest
    coded = {}
    for r in rows(folded):
        coded.setdefault(r[0], []).append(dict(zip(names, r, strict=True)))
    old = {r[0]: dict(zip(names, r, strict=True)) for r in before.values()}
    assert coded["R5"][0]["buyer_code"] == coded["R3"][0]["buyer_code"]  # U3's second review
    assert coded["R4"][0]["listing_code"] == coded["R1"][0]["listing_code"]
    top = max(r["buyer_code"] for r in old.values())
    fresh = {coded[k][0]["buyer_code"] for k in ("R7", "R20")}
    assert fresh == {top + 1, top + 2}
    assert len({r["row_code"] for v in coded.values() for r in v}) == len(rows(folded))


# -- through the scans ----------------------------------------------------------------------------


def _findings(result):
    f = result.findings.sort_values("finding_id")
    cols = ["finding_id", "check_code", "entity_id", "severity", "observed", "evidence_sha256"]
    return f[cols].reset_index(drop=True)


def test_a_day_scanned_since_folds_both_relations_and_finds_what_a_full_scan_finds(tmp_path):
    """A saved scan keeps REVIEW001's signatures and REVIEW003's review rows; the next day's
    ``scan --since`` folds the day's rows into both (builds neither) and its findings are a full
    re-scan's, and so are the next day's, folded from the increment's own copies."""
    import datetime as dt
    import shutil

    import ibis
    from tests.rules.brushing.synth import T0
    from tests.support import make_store, write_rows

    from promoguard import incremental, store
    from promoguard.engine import run as eng
    from promoguard.engine.base import Tables

    codes = ["REVIEW001", "REVIEW003"]
    params = _params()
    keys = {
        repr(_shared.signature_key(params)),
        repr(("review003_review_rows", _shared.REVIEW_ROWS_VERSION)),
    }
    keys.add(repr(("order_first_delivery", "v1")))  # REVIEW003 reads it: kept by brush
    days = [T0 + dt.timedelta(days=12, hours=20, minutes=28), T0 + dt.timedelta(days=16)]
    first, later = _world_split(days[0])
    second = {k: v[_time_of(k, v) < days[1]] for k, v in later.items()}
    third = {k: v[_time_of(k, v) >= days[1]] for k, v in later.items()}
    # an old review's order shipped before the cut, its parcel delivered after it (only a
    # delivered scan reaches that review's row), and a new near copy of the planted cluster's
    # text (every member's cluster size changes)
    reviews = first["reviews"]
    old = reviews[reviews.buyer_id == "G000"].iloc[0]
    first["shipments"] = pd.concat(
        [
            first["shipments"],
            pd.DataFrame([{"order_id": old.order_id, "carrier": "SF", "tracking_no": "TG000"}]),
        ]
    )
    second["tracking_events"] = pd.concat(
        [
            second["tracking_events"],
            pd.DataFrame(
                [
                    {
                        "carrier": "SF",
                        "tracking_no": "TG000",
                        "event_at": old.created_at - dt.timedelta(minutes=10),
                        "event_type": "delivered",
                    }
                ]
            ),
        ]
    )
    near = {**reviews[reviews.buyer_id == "DUP0"].iloc[0].to_dict(), "review_id": "RV99999"}
    near.update(buyer_id="DUPX", order_id=None, created_at=days[0] + dt.timedelta(hours=1))
    third["reviews"] = pd.concat([third["reviews"], pd.DataFrame([near])])
    path = tmp_path / "s.duckdb"
    make_store(path, first).close()
    eng.scan(path, "cn", checks=codes)
    for n, rows_added in enumerate((second, third)):
        con = store.connect(path)
        write_rows(con, rows_added)
        con.close()
        copy = tmp_path / f"full{n}.duckdb"
        shutil.copy(path, copy)
        full = eng.scan(copy, "cn", checks=codes, save=False)
        inc, info = incremental.scan_since(path, "cn", "last", checks=codes)
        assert set(info["kept"]["folded"]) == keys and not info["kept"]["built"]
        assert _findings(inc).equals(_findings(full))
        assert set(_findings(inc).check_code) == set(codes)
        # the copies the increment keeps for the next day are the relations built on all rows
        con = store.connect(path, read_only=True)
        try:
            kept = dict(
                con.execute("SELECT relation_key, table_name FROM kept_relations").fetchall()
            )
            now = Tables(ibis.duckdb.from_connection(con))
            copies = {k: con.sql(f'SELECT * FROM "{t}"').to_arrow_table() for k, t in kept.items()}
            signed = rows(copies[repr(_shared.signature_key(params))])
            assert signed == rows(now.to_arrow(_shared.signed_build(now, params)))
            copy = copies[repr(("review003_review_rows", _shared.REVIEW_ROWS_VERSION))]
            _check_codes(copy)
            assert _uncoded(copy) == _uncoded(now.to_arrow(_shared.review_rows_build(now)))
        finally:
            con.close()


def _time_of(table, frame):
    """When a row of the review world happened (orders by payment; shipments with their order,
    which is paid three days before its review)."""
    column = {"orders": "paid_at", "tracking_events": "event_at", "reviews": "created_at"}
    if table == "shipments":
        return frame.order_id.map(lambda o: pd.Timestamp.min.tz_localize("UTC"))
    return frame[column[table]]
