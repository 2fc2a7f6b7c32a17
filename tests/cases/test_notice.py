"""The guidance notice: Chinese and English, every finding with its basis and hash, HTML and PDF."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import zlib

import pytest

from promoguard.cases import CaseService

from .helpers import make_case


@pytest.fixture
def svc(sqlite_url):
    s = CaseService(sqlite_url, actor="analyst1")
    make_case(s, "C-1", status="under_review", findings=2)
    return s


def test_notice_html_names_everything_in_both_languages(svc, tmp_path):
    out = tmp_path / "notice.html"
    res = svc.guide("C-1", "2030-01-15", bureau="杭州市市场监督管理局", out=out)
    html = out.read_text(encoding="utf-8")
    assert html == svc.notice_html("C-1")
    assert res["notice_sha256"] == hashlib.sha256(html.encode()).hexdigest()
    for needle in (
        "行政指导意见书", "Administrative guidance notice", "杭州市市场监督管理局",
        "山海商城 Shanhai Mall", "好物旗舰店 GoodStuff", "2030-01-15",
        "中华人民共和国广告法 (2021-04-29) Art. 9(3) [CN]", "TEXT001", "T0", "T1",
        "全网最低价", "What to report back", "整改报告要求",
    ):  # fmt: skip
        assert needle in html, needle
    case = svc.get_case("C-1")
    for f in case["findings_detail"]:
        assert f"SHA-256 {f['evidence_sha256']}" in html
    assert case["notices"][0]["sha256"] == res["notice_sha256"]


def test_data_in_the_notice_is_escaped(svc):
    from sqlalchemy import update

    from promoguard.cases.models import Case

    with svc.db.session() as s:
        s.execute(update(Case).values(merchant_name="<script>alert(1)</script>店"))
    svc.guide("C-1", dt.date.today() + dt.timedelta(days=9))
    html = svc.notice_html("C-1")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;店" in html


def test_notice_pdf_embeds_a_cjk_font(svc, tmp_path):
    out = tmp_path / "notice.pdf"
    svc.guide("C-1", "2030-01-15", out=out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    # the font WeasyPrint embedded for the Chinese text is a Noto CJK face
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", data))
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        with contextlib.suppress(zlib.error):
            fonts |= set(re.findall(rb"/BaseFont\s*/([A-Za-z0-9+_-]+)", zlib.decompress(stream)))
    assert any(b"CJK" in f for f in fonts), fonts


def test_out_must_be_html_or_pdf(svc, tmp_path):
    from promoguard.cases import CaseError

    with pytest.raises(CaseError, match=r"\.html or \.pdf"):
        svc.guide("C-1", "2030-01-15", out=tmp_path / "notice.docx")
    assert svc.get_case("C-1")["status"] == "under_review"


def test_a_platform_level_notice_names_the_platforms_own_duties(sqlite_url):
    from sqlalchemy import update

    from promoguard.cases.models import Case

    svc = CaseService(sqlite_url, actor="analyst1")
    make_case(svc, "C-P1", status="under_review")
    with svc.db.session() as s:
        s.execute(update(Case).values(kind="platform", merchant_id=None, merchant_name=None))
    svc.guide("C-P1", "2030-01-15")
    html = svc.notice_html("C-P1")
    assert "平台自身义务" in html and "the platform's own duties" in html
    assert "好物旗舰店" not in html
