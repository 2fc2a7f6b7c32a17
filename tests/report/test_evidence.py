"""The report as evidence: every finding's id, rule, legal basis, hash; methodology; merchant
filter; Chinese; round chart ticks."""

from __future__ import annotations

import re

import duckdb
import pytest

from promoguard.engine.packs import load_pack
from promoguard.errors import PromoGuardError
from promoguard.report import build_report
from promoguard.report.core import CAP
from promoguard.report.svg import nice_ticks, price_series


@pytest.fixture(scope="module")
def report_html(scanned_season, tmp_path_factory):
    store, _scan = scanned_season
    out = tmp_path_factory.mktemp("report") / "r.html"
    return build_report(store, out).read_text(encoding="utf-8")


def _findings(store, scan_id):
    con = duckdb.connect(str(store), read_only=True)
    df = con.execute("SELECT * FROM findings WHERE scan_id = ?", [scan_id]).df()
    con.close()
    return df


def test_every_finding_has_its_id_hash_and_legal_basis(scanned_season, report_html):
    store, scan_id = scanned_season
    f = _findings(store, scan_id)
    assert len(f) > 1000
    listed = f.groupby("check_code").head(CAP)  # the register lists up to CAP per rule
    assert len(listed) == len(f)
    for r in f.itertuples():
        assert f'id="f-{r.finding_id}"' in report_html, r.finding_id
        assert r.evidence_sha256 in report_html
    pack = load_pack("cn")
    for code in f.check_code.unique():
        for c in pack.rules[code].legal_basis:
            assert f"{c.article}, version {c.version}" in report_html.replace("&#39;", "'"), code


def test_observed_and_expected_read_as_words_with_currency_and_local_time(report_html):
    assert "reference (was) price ¥" in report_html and "legal prior price ¥" in report_html
    assert "CST" in report_html  # Asia/Shanghai, the cn pack's zone
    start = report_html.index('<section id="register">')
    register = report_html[start : report_html.index("</section>", start)]
    assert "reference_price" not in register and '{"' not in register


def test_methodology_names_pack_parameters_coverage_ids_version(scanned_season, report_html):
    store, scan_id = scanned_season
    m = report_html[report_html.index('<section id="methodology">') :]
    assert "Asia/Shanghai" in m and "CNY" in m
    assert "lookback_days" in m and "the 7-day rule has no progressive-reduction exception" in m
    assert scan_id in m and store.name in m
    assert re.search(r"price_observations [\d,]+", m)  # rows each rule read
    assert "Disclaimer" in m and "not a legal determination" in m
    assert "<footer>" in report_html and "PromoGuard" in report_html.split("<footer>")[1]


def test_long_rules_show_the_top_cases_and_fold_the_rest(report_html):
    assert "<details>" in report_html and "<summary>the other " in report_html
    assert "<script" not in report_html.lower()


def test_merchant_report_has_only_that_merchant(scanned_season, tmp_path):
    store, scan_id = scanned_season
    f = _findings(store, scan_id)
    merchant = f.merchant_id.value_counts().index[0]
    html = build_report(store, tmp_path / "m.html", merchant=merchant).read_text("utf-8")
    mine = f[f.merchant_id == merchant]
    others = f[f.merchant_id != merchant]
    assert all(fid in html for fid in mine.finding_id)
    assert not any(f'id="f-{fid}"' in html for fid in others.finding_id.head(200))
    assert f"Only the findings of merchant {merchant} are shown" in html
    with pytest.raises(PromoGuardError, match="no finding"):
        build_report(store, tmp_path / "x.html", merchant="M-NOBODY")


def test_chinese_report(scanned_season, tmp_path):
    store, _ = scanned_season
    html = build_report(store, tmp_path / "zh.html", lang="zh").read_text("utf-8")
    assert '<html lang="zh-Hans">' in html
    for words in ("违法线索与证据", "法律依据", "方法说明", "免责声明", "商家索引"):
        assert words in html
    assert "Noto Sans CJK SC" in html  # a CJK-capable font stack


def test_merchant_index_links_every_merchant(scanned_season, report_html):
    store, scan_id = scanned_season
    f = _findings(store, scan_id)
    for m in f.merchant_id.dropna().unique():
        assert f'id="m-{m}"' in report_html


@pytest.mark.parametrize(
    ("lo", "hi"), [(731.24, 878.67), (0.3, 0.71), (59, 129), (1000, 1000.5), (-3.2, 7.9)]
)
def test_nice_ticks_are_round_and_cover_the_range(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and 3 <= len(ticks) <= 8
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
    assert round(mantissa, 6) in (1, 2, 2.5, 5)
    assert all(abs(t / step - round(t / step)) < 1e-6 for t in ticks)


def test_price_chart_ticks_are_round_numbers():
    import datetime as dt

    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    svg = price_series([(t0, 731.24, "detail"), (t0 + dt.timedelta(days=3), 878.67, "detail")])
    labels = re.findall(r'text-anchor="end">([\d,.]+)</text>', svg)
    assert labels and all(float(x.replace(",", "")) % 25 == 0 for x in labels), labels
