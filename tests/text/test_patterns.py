"""Phrase claims (efficacy with a number) and 最-superlatives graded by what follows them."""

from __future__ import annotations

import pytest

from promoguard.text.matcher import Hit
from promoguard.text.normalise import normalise
from promoguard.text.patterns import (
    OWN_ATTRIBUTE_REASON,
    efficacy_hits,
    grade_absolute,
    superlative_hits,
)


@pytest.mark.parametrize(
    "text",
    ["一盒见效", "三天即愈", "７天见效的祛痘膏", "两周治愈脱发", "1个疗程根治", "服用一周即可痊愈"]
    + ["一贴见效", "100%有效", "百分之百有效", "works in 3 days"]
    # "生效" of a product is still its efficacy (a reviewer's counter-cases to an earlier fix)
    + ["减肥茶，7天生效", "坚持1个疗程生效", "膏药贴3贴生效", "口服液 口服7天生效", "服用后7天生效"]
    + ["祛斑霜 使用28天生效", "泡脚7天生效 改善失眠", "燃烧卡路里 7天生效", "保健品 7天生效"]
    + ["领券后下单，减肥茶7天生效"],
)
def test_efficacy_guarantees_with_a_number_are_found(text):
    assert efficacy_hits(normalise(text))


@pytest.mark.parametrize(
    "text",
    ["一周内发货", "三天内到货", "保质期18个月", "七天无理由退换", "一盒装24片", "三天见面会门票"]
    + ["有效期至2027年", "100%纯棉"]
    # what takes effect is a coupon, a membership, a card or a policy: on every Double-11 page
    + ["领券后24小时内生效", "会员卡购买后1天生效", "券后3天生效"]
    + ["投保后30天生效", "饮用水月卡 1个月生效", "开通后2小时生效"],
)
def test_numbers_that_promise_no_cure_are_left_alone(text):
    assert not efficacy_hits(normalise(text))


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("最新款手机", "own_attribute"),
        ("最高温度60℃", "own_attribute"),
        ("最低温度-18℃", "own_attribute"),
        ("最大容量5升", "own_attribute"),
        ("最高 60℃", "own_attribute"),
        ("最新上市", "own_attribute"),
        ("最大优惠", "superlative"),
        ("最强性能", "superlative"),
        # a measure a few words on, and what the words before it or the qualifier say
        ("最大输出功率65W", "own_attribute"),
        ("最佳食用期30天", "own_attribute"),
        ("最高立减50元", "superlative"),
        ("最高性能功率2000W", "superlative"),  # 性能 qualifies no measure: a claim
        ("全网最大吸力25000Pa", "superlative"),
        ("音质最佳 续航30小时", "superlative"),
    ],
)
def test_superlatives_are_told_apart_by_what_follows(text, category):
    hits = superlative_hits(normalise(text))
    assert [h.category for h in hits] == [category]


def _hit(category: str, start: int, end: int) -> Hit:
    return Hit("TEXT001", category, "x", start, end, start, end)


def test_grading_takes_the_gravest_claim_and_gives_the_reason():
    assert grade_absolute([_hit("own_attribute", 0, 3)]) == ("low", OWN_ATTRIBUTE_REASON)
    assert grade_absolute([_hit("comparative", 0, 4)])[0] == "high"
    assert grade_absolute([_hit("state_endorsement", 0, 4)])[0] == "high"
    mixed = [_hit("own_attribute", 0, 3), _hit("superlative", 5, 7)]
    assert grade_absolute(mixed) == (None, None)  # the pack's severity
    # 最低 inside 最低价: the longer hit decides
    assert grade_absolute([_hit("own_attribute", 0, 2), _hit("superlative", 0, 3)]) == (None, None)


def test_every_efficacy_match_holds_a_word_the_quick_check_looks_for():
    """``efficacy_hits`` skips the pattern when the text holds none of ``_EFFICACY_NEEDS``: on
    random texts made of the pattern's own pieces (and look-alikes), whatever the pattern
    matches holds one of them, and the hits are the pattern's."""
    import random

    from promoguard.text import patterns

    rng = random.Random(7)
    groups = [
        ["7", "12", "一", "两", "三", "十", "百", "几", "半", "100"],
        [*patterns._UNIT.split("|"), "个", "疗程", "小时"],
        [
            "内",
            "之内",
            "左右",
            "就",
            "即",
            "便",
            "可",
            "即可",
            "就能",
            "能",
            "就可以",
            "保证",
            "必",
        ],
        [*patterns._RESULT.split("|"), "有效", "安全", "效", "愈"],
        ["100%", "百分之百", "百分百", "%", "百分"],
        ["works in ", "results in ", "work in ", "works on ", "result in "],
        ["3 days", "12 hours", "2 weeks", "1 day", "a week", " days"],
        [" ", "的", "好", "，", "a", "s"],
    ]
    matched = 0
    for _ in range(30_000):
        text = "".join(rng.choice(rng.choice(groups)) for _ in range(rng.randint(1, 8)))
        nt = normalise(text)
        want = [(m.start(), m.end()) for m in patterns.EFFICACY.finditer(nt.text)]
        if want:
            matched += 1
            assert any(w in nt.text for w in patterns._EFFICACY_NEEDS), nt.text
        assert [(h.start, h.end) for h in efficacy_hits(nt)] == want
    assert matched > 500
