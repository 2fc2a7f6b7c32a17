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
