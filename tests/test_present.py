"""A finding in words: money with its currency sign, local time, fractions as percentages."""

from __future__ import annotations

import datetime as dt

from promoguard import present


def test_money_is_exact_grouped_and_signed_by_currency():
    assert present.money("1020.4", "CNY") == "¥1,020.40"
    assert present.money("0.10", "EUR") == "€0.10"
    assert present.money("-3", "GBP") == "-£3.00"
    assert present.money("12.5", "XYZ") == "XYZ 12.50"


def test_instants_in_the_packs_zone():
    assert present.local_time("2026-11-10T16:00:00Z", "Asia/Shanghai") == "2026-11-11 00:00 CST"
    t = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
    assert present.local_time(t, "America/New_York") == "2026-11-27 07:00 EST"
    assert present.local_time("not a time", "UTC") == "not a time"


def test_sentences_read_as_words():
    obs = {"reference_price": "129.00", "reasons": "delivered_to_other_city,too_fast"}
    text = present.sentence(obs, tz="Asia/Shanghai", currency="CNY")
    assert text == "reference (was) price ¥129.00; reasons delivered to other city, too fast"
    assert present.sentence({"rise": 0.3976}) == "rise before the promotion +39.8%"
    assert present.sentence({"merchants": "M1|M2|M3"}) == "merchants M1, M2, M3"
    assert present.value_words("ok", True) == "yes"
    # a long list shows five and says how many more; a share is no signed rise
    assert present.sentence({"merchants": "M1|M2|M3|M4|M5|M6|M7"}) == (
        "merchants M1, M2, M3, M4, M5 and 2 more"
    )
    assert present.sentence({"share": 0.25}) == "share 25.0%"
    assert present.sentence({"rise": -0.1}) == "rise before the promotion -10.0%"
    # money by its key, but not an id, source or count named after a price
    assert present.is_money("reference_price") and present.is_money("total")
    assert not present.is_money("prior_price_source") and not present.is_money("price_id")


def test_sentence_html_escapes_and_marks_the_stores_words():
    html = present.sentence_html({"matched": "<b>最</b>", "reference_price": "1.5"}, currency="CNY")
    assert html == (
        'matched <span translate="no">&lt;b&gt;最&lt;/b&gt;</span>; reference (was) price ¥1.50'
    )


def test_flatten_for_spreadsheets():
    flat = present.flatten("observed", {"a": 1, "b": {"c": "x"}, "d": [1, 2]})
    assert flat == {"observed.a": 1, "observed.b.c": "x", "observed.d": "1, 2"}


def test_excerpt_ends_with_an_ellipsis_at_a_word_or_character_boundary():
    from promoguard.present import excerpt

    assert excerpt("short text", 80) == "short text"
    words = "Great product arrived quickly and works exactly as described by the seller"
    cut = excerpt(words, 40)
    assert cut.endswith("…") and len(cut) <= 40
    assert words.startswith(cut[:-1]) and words[len(cut) - 1] == " "  # a whole word kept
    assert cut == "Great product arrived quickly and works…"
    # Chinese has no spaces: any character is a boundary, never half of one
    zh = "这款羽绒服非常保暖，做工精细，物流也很快，五星好评推荐购买！" * 3
    assert excerpt(zh, 20) == zh[:19] + "…"
    # an accent or an emoji sequence stays with its base character
    accented = "cafe\u0301" * 10
    out = excerpt(accented, 10)
    assert out.endswith("…") and (out[-2] == "\u0301" or out[-2] != "e")
    family = "ab" + "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 5
    out = excerpt(family, 6)
    assert out.endswith("…") and not out[:-1].endswith("\u200d")
    assert "\u200d" not in out[:-1] or out[:-1].endswith("\U0001f467")
    # a skin tone stays with its emoji
    assert excerpt("ab" + "\U0001f44d\U0001f3fd" * 5, 4) == "ab…"
    # a word boundary early in the room is not worth the loss: cut inside the word
    assert excerpt("ab " + "c" * 20, 10) == "ab cccccc…"
    # a trailing comma or space before the ellipsis is dropped
    assert excerpt("one, two, three, four, five, six", 12) == "one, two…"
