"""The Chinese report reads in Chinese: no English sentence, heading or label is left in the
visible text; what stays in Latin letters is ids, hashes, codes, commands and the store's own
quoted text (marked translate="no")."""

from __future__ import annotations

from tests.report.visible import english_words, visible_text

from promoguard.report import build_report
from promoguard.report.i18n import PHRASES_ZH, RULE_TITLES_ZH


def test_zh_report_has_no_english_left(scanned_season, tmp_path):
    store, scan_id = scanned_season
    page = build_report(store, tmp_path / "zh.html", scan_id, lang="zh").read_text()
    assert english_words(page) == []
    text = visible_text(page)
    for heading in (
        "总览",
        "价格",
        "物流与许可",
        "刷单团伙与评价作弊",
        "内容：虚假宣传、诱导与个人信息",
    ):
        assert heading in text
    assert RULE_TITLES_ZH["SHIP003"] in text and "法定前价" in text


def test_zh_merchant_report_has_no_english_left(scanned_season, tmp_path):
    import duckdb

    store, scan_id = scanned_season
    con = duckdb.connect(str(store), read_only=True)
    merchant = con.execute(
        "SELECT merchant_id FROM findings WHERE scan_id = ? AND merchant_id IS NOT NULL "
        "GROUP BY 1 ORDER BY count(DISTINCT check_code) DESC, 1 LIMIT 1",
        [scan_id],
    ).fetchone()[0]
    con.close()
    page = build_report(
        store, tmp_path / "m.html", scan_id, merchant=merchant, lang="zh"
    ).read_text()
    assert english_words(page) == []


def test_the_scan_finds_english_where_it_is(scanned_season, tmp_path):
    """The same scan of the English report finds the section texts (the test can fail)."""
    store, scan_id = scanned_season
    page = build_report(store, tmp_path / "en.html", scan_id, lang="en").read_text()
    words = set(english_words(page))
    assert {"Logistics", "licences", "Overview", "Example", "orders"} <= words
    # every sentence the zh catalogue knows reads in English in the English report
    assert "Share of all" in visible_text(page) and PHRASES_ZH["Logistics and licences"] not in page


def test_recorded_severity_reasons_read_in_chinese():
    from promoguard.report.i18n import language, reason
    from promoguard.text.patterns import OWN_ATTRIBUTE_REASON

    group = (
        "looks like a recurring buying group (拼单): 27 of its 28 orders at these shops were "
        "placed within 30 min of another member's, in sittings on 12 days across 10 weeks "
        "(2026-09-05 to 2026-11-10); lowered, not dropped: a ring's burst lasts days"
    )
    with language("zh"):
        assert reason(group).startswith("看似长期拼单：在这些店铺的 28 笔订单中有 27 笔")
        assert "2026-09-05 至 2026-11-10" in reason(group)
        assert reason(OWN_ATTRIBUTE_REASON).endswith("仍予报告")
        assert reason(
            "a light parcel beside a parcel of real weight on the same order (an invoice, a "
            "document or an accessory mailed apart)"
        ).startswith("同一订单另有一个重量正常的包裹")
        assert reason(
            "light goods (documents, SIM cards, cards): a token weight, but every parcel made a "
            "complete journey (pickup, transit scans, delivery in another city hours later)"
        ).startswith("轻小件商品")
        assert reason("an unknown reason") == "an unknown reason"  # then the page test fails
    assert reason(group) == group  # English outside a zh rendering


def test_coupon004_refund_reason_reads_in_chinese():
    from promoguard.report.i18n import language, reason
    from promoguard.rules.coupons.coupon004_coupon_not_honoured import REFUNDED_REASON

    with language("zh"):
        assert reason(REFUNDED_REASON).startswith("该订单已退款")


def test_a_long_parameter_list_is_shown_by_its_first_items_and_how_many_more():
    from promoguard.report.core import BRIEF_ITEMS, _brief_value
    from promoguard.report.i18n import translator

    words = [f"w{i}" for i in range(BRIEF_ITEMS + 5)]
    en, zh = translator("en"), translator("zh")
    shown = _brief_value("category_words_except", words, en)
    assert shown.startswith("w0, w1") and f"w{BRIEF_ITEMS - 1}" in shown
    assert f"w{BRIEF_ITEMS}" not in shown and "… and 5 more" in shown
    assert "另 5 项" in _brief_value("category_words_except", words, zh)
    # a pack's category home is household goods (家居), the channel home the home page (首页)
    from promoguard.report.i18n import language

    with language("zh"):
        assert _brief_value("min_weight_grams", {"home": 150}, zh) == "家居 150"
        assert _brief_value("category_words", {"home": ["电饭煲"]}, zh) == "家居 电饭煲"
        assert _brief_value("channels", {"home": 1}, zh) == "首页 1"
    mapped = _brief_value("category_words", {"home": words, "toys": ["a", "b"]}, en)
    assert "… and 5 more" in mapped and mapped.endswith("a, b")
    assert _brief_value("category_words_except", ["a", "b"], en) == "a, b"
