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
