"""REVIEW001's length test on cases written apart from the simulator (a blind set of session 40):
padding is not length, a copied text of real length is still a copy, and the rule page's own
example is found."""

import datetime as dt

import pytest
from tests.rules.brushing.synth import T0, World
from tests.support import run_check

from promoguard.rules.reviews.review001_near_duplicate_reviews import NearDuplicateReviews

EXAMPLE = NearDuplicateReviews.doc.example.split("'")[1]


def _world(texts_by_buyer: dict[str, str]) -> World:
    w = World(merchants=[f"M{i:02d}" for i in range(len(texts_by_buyer))])
    for k, (buyer, text) in enumerate(texts_by_buyer.items()):
        merchant = w.merchants[k]
        oid = w.order(buyer, merchant, T0 + dt.timedelta(hours=k))
        w.reviews.append(
            {
                "review_id": f"RV{k:03d}",
                "listing_id": f"L-{merchant}",
                "buyer_id": buyer,
                "order_id": oid,
                "rating": 5,
                "created_at": T0 + dt.timedelta(days=3, hours=k),
                "text": text,
            }
        )
    return w


def _found(tiny_store, texts_by_buyer: dict[str, str]) -> set[str]:
    con = tiny_store(_world(texts_by_buyer).tables())
    f = run_check(con, "REVIEW001").findings
    buyer_of = {f"RV{k:03d}": b for k, b in enumerate(texts_by_buyer)}
    return {buyer_of[e] for e in f[f.check_code == "REVIEW001"].entity_id}


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_padding_is_not_length_a_copy_of_real_length_is_a_copy(tiny_store, engine):
    """Different buyers padding a review to the length a platform rewards ('好' thirty-odd
    times, 'good product' ten times) write nothing to copy; three buyers posting one specific
    sentence of the same length, or one that says a phrase twice, copied it."""
    template = "这款保温杯我买来给孩子上学用，保温效果能到十个小时，杯盖的密封圈做得很严实{}"
    twice = "发货速度很快很快，发货速度很快很快，杯子做工精致，保温效果也不错，送给爸爸的生日礼物他很喜欢{}"
    texts = {
        "P1": "好" * 36,
        "P2": "好" * 40,
        "P3": "好" * 33 + "！",
        "Q1": "哈" * 35,
        "Q2": "哈" * 31,
        "E1": "good product " * 10,
        "E2": "Good product. " * 12,
        **{f"C{i}": template.format("！" * i) for i in range(3)},
        **{f"T{i}": twice.format("。" * i) for i in range(3)},
    }
    con = tiny_store(_world(texts).tables())
    f = run_check(con, "REVIEW001", engine=engine).findings
    buyer_of = {f"RV{k:03d}": b for k, b in enumerate(texts)}
    assert {buyer_of[e] for e in f.entity_id} == {"C0", "C1", "C2", "T0", "T1", "T2"}


def test_the_rule_pages_example_is_found(tiny_store):
    """The example the rule page gives: twelve buyers post its text with one or two characters
    changed (the page's first example was shorter than the rule compares, and was missed)."""
    swaps = [("超级", "非常"), ("超快", "很快"), ("宝贝", "东西"), ("用心", "仔细")]
    texts = {}
    for i in range(12):
        text = EXAMPLE
        for old, new in swaps[: i % 3]:
            text = text.replace(old, new)
        texts[f"B{i:02d}"] = text
    assert _found(tiny_store, texts) == set(texts)
