"""What a content finding counts: each place once, however many lexicon terms name it."""

from __future__ import annotations

from promoguard.rules.content._shared import analyse_text, occurrences
from promoguard.text.matcher import Hit


def _shown(text: str, code: str) -> list[str]:
    return [text[h.ostart : h.oend] for h in occurrences(analyse_text(text)[code])]


def test_a_phrase_and_its_parts_are_one_place():
    # 全网最低价 is in the lexicon with 全网最低 and 最低价: one claim, not three
    assert _shown("全网最低价", "TEXT001") == ["全网最低价"]
    assert _shown("好评返现", "REVIEW002") == ["好评返现"]


def test_separate_claims_are_still_counted_apart():
    assert _shown("全网最低价，国家级品质", "TEXT001") == ["全网最低价", "国家级"]
    assert _shown("好评返现，晒图再送礼品", "REVIEW002") == ["好评返现", "晒图再送"]


def test_overlapping_hits_of_one_category_become_one_over_both():
    h = [Hit("X", "c", "ab", 0, 2, 0, 2), Hit("X", "c", "bc", 1, 3, 1, 4)]
    (one,) = occurrences(h)
    assert (one.start, one.end, one.ostart, one.oend, one.term) == (0, 3, 0, 4, "ab")


def test_overlapping_facts_of_two_categories_stay_two():
    # a lure (加微信) and the identifier it leads to (微信 ykhe7262) share 微信
    assert _shown("加微信 ykhe7262", "TEXT004") == ["加微信", "微信 ykhe7262"]


def test_a_hit_inside_a_longer_one_goes_whatever_its_category():
    h = [Hit("X", "short", "b", 1, 2, 1, 2), Hit("X", "long", "abc", 0, 3, 0, 3)]
    assert [x.category for x in occurrences(h)] == ["long"]
    assert occurrences([]) == []
    # a guarantee of a cure holds the cure: one claim; air-gun pellets are ammunition, no gun
    assert _shown("保证治愈", "TEXT002") == ["保证治愈"]
    assert _shown("气枪铅弹", "TEXT003") == ["气枪铅弹"]


def test_a_disclaimed_span_stands_only_for_its_own_category():
    h = [Hit("X", "offer", "b", 1, 2, 1, 2), Hit("X", "disclaimed", "abc", 0, 3, 0, 3)]
    assert [x.category for x in occurrences(h)] == ["disclaimed", "offer"]


def test_an_offer_inside_a_disclaimed_sentence_is_shown():
    # the grade is high for the offer after 但: the finding must show it, not only the disclaimed
    text = "本店不参与，五星好评，但晒图后截图发客服，领取小礼品"
    hits = occurrences(analyse_text(text)["REVIEW002"])
    assert "review_for_reward" in {h.category for h in hits}
    assert "晒图后截图发客服，领取小礼品" in [text[h.ostart : h.oend] for h in hits]


def test_one_facts_overlaps_join_across_another_facts_hit():
    # an offer's hits overlap one another around a different category's hit: still one place
    h = [
        Hit("X", "c", "abc", 0, 3, 0, 3),
        Hit("X", "d", "bcde", 1, 5, 1, 5),
        Hit("X", "c", "cdef", 2, 6, 2, 6),
    ]
    assert [(x.category, x.start, x.end) for x in occurrences(h)] == [("c", 0, 6), ("d", 1, 5)]
    assert _shown("亲好评后追评返现，删差评", "REVIEW002") == ["好评后追评返现，删差评"]
