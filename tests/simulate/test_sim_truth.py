"""The ground truth means what docs/simulator.md says: labelled entities break the documented
rule, and the hard negatives beside them are present and unlabelled."""

from __future__ import annotations

import re

import networkx as nx
import pandas as pd
import pytest

from promoguard.simulate.inject_content import luhn_ok


def _read(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def season(small_season):
    folder, _ = small_season
    truth = _read(folder, "ground_truth")
    return folder, {c: set(g.entity_id) for c, g in truth.groupby("check_code")}


def _id_valid(s: str) -> bool:
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * k for c, k in zip(s[:17], w, strict=True)) % 11] == s[17]


def _pii(text: str) -> bool:
    ids = re.findall(r"(?<![0-9])\d{17}[0-9X](?![0-9X])", text)
    cards = re.findall(r"(?<!\d)\d{16,19}(?!\d)", text)
    return (
        any(_id_valid(x) for x in ids)
        or any(luhn_ok(x) for x in cards)
        or re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text) is not None
        or re.search(r"[\w.]+@[\w-]+\.\w+", text) is not None
    )


def test_text005_labels_are_exactly_the_texts_with_valid_personal_data(season):
    folder, truth = season
    texts = _read(folder, "texts")
    has = {t for t, c in zip(texts.text_id, texts.content, strict=True) if _pii(c)}
    assert has == truth["TEXT005"]
    # hard negatives: ID-like and card-like numbers failing their checks sit in unlabelled texts
    lookalike = texts[texts.content.str.contains("已作废|voided|订单号|order no", regex=True)]
    assert len(set(lookalike.text_id) - truth["TEXT005"]) >= 20


def test_banned_term_lookalikes_are_present_and_unlabelled(season):
    folder, truth = season
    texts = _read(folder, "texts")
    hn = texts[texts.content.str.contains("第一次|最近|首先|唯品会|顶部", regex=True)]
    assert len(set(hn.text_id) - truth["TEXT001"]) >= 20
    live = texts[texts.kind == "livestream"]
    assert set(live.text_id) >= {t for t in truth["TEXT006"]}
    honest_live = live[~live.text_id.isin(truth["TEXT006"])]
    assert honest_live.content.str.contains("原价|regular price").mean() > 0.3  # base stated


def test_brush002_rings_are_exactly_connected_components(season):
    folder, truth = season
    orders = _read(folder, "orders")
    g = nx.Graph()
    for col in ("buyer_device_id", "buyer_address_id"):
        for _key, grp in orders.groupby(col):
            buyers = sorted(set(grp.buyer_id))
            g.add_nodes_from(buyers)
            g.add_edges_from((buyers[0], b) for b in buyers[1:])
    components = {"|".join(sorted(c)) for c in nx.connected_components(g) if len(c) > 1}
    assert truth["BRUSH002"] <= components
    households = components - truth["BRUSH002"]
    assert len(households) >= 50  # the hard negative: linked households, unlabelled


def test_brush001_rings_repeat_at_two_or_more_merchants(season):
    folder, truth = season
    orders = _read(folder, "orders")
    for ring in truth["BRUSH001"]:
        buyers = ring.split("|")
        sub = orders[orders.buyer_id.isin(buyers)]
        per = sub.groupby(["buyer_id", "merchant_id"]).size()
        repeated = per[per >= 2].reset_index()
        shared = repeated.groupby("merchant_id").buyer_id.nunique()
        assert (shared == len(buyers)).sum() >= 2, ring


def test_review003_reviewers_have_no_other_history(season):
    folder, truth = season
    reviews = _read(folder, "reviews")
    orders = _read(folder, "orders")
    spam = reviews[reviews.review_id.isin(truth["REVIEW003"])]
    counts = orders.buyer_id.value_counts()
    assert (counts[spam.buyer_id] == 1).all()
    assert set(spam.rating) <= {"1", "5"}


def test_licence_hard_negative_expires_after_the_season(season):
    folder, truth = season
    lic = _read(folder, "licences")
    late = lic[lic.valid_to == "2026-12-31T16:00:00Z"]
    assert len(set(late.merchant_id) - truth["LIC001"]) >= 3


def test_ship002_labels_are_exactly_shared_tracking_numbers(season):
    folder, truth = season
    ship = _read(folder, "shipments")
    per = ship.groupby(["carrier", "tracking_no"]).order_id.nunique()
    shared = per[per > 1].reset_index()[["carrier", "tracking_no"]]
    orders = set(ship.merge(shared).order_id)
    assert orders == truth["SHIP002"]
    two_parcels = ship.groupby("order_id").tracking_no.nunique()
    assert (two_parcels > 1).sum() >= 20  # hard negative: one order, two numbers
