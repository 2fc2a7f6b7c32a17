"""The report's content section: matched terms shown, texts escaped, personal data never repeated."""

from __future__ import annotations

import datetime as dt

from tests.support import listing, make_store

from promoguard import engine
from promoguard.report import build_report
from promoguard.text.identifiers import id_check_char, valid_resident_id

EVIL = "<img src=x onerror=alert(1)>"
# not the sample number GB 11643-1999 prints (11010519491231002X): that one is no one's
FIRST17 = "11010119900307123"
RESIDENT_ID = FIRST17 + id_check_char(FIRST17)


def _store(path):
    rows = [
        ("T1", f"全网最低价，国家级品质 {EVIL}"),
        ("T2", f"收货人身份证 {RESIDENT_ID} 请核对"),
        ("T3", "最近上新的绿茶，欢迎选购"),
        ("T4", "全网最低价 有事加微信号：13812345678 私聊"),
    ]
    make_store(
        path,
        {
            "platforms": [{"platform_id": "P1", "name": "Shop"}],
            "merchants": [{"merchant_id": "M1", "platform_id": "P1", "name": "m"}],
            "listings": [listing("L1", "M1", "P1", "food", "tea")],
            "texts": [
                {
                    "text_id": text_id,
                    "kind": "listing_description",
                    "merchant_id": "M1",
                    "listing_id": "L1",
                    "created_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                    "lang": "zh",
                    "content": content,
                }
                for text_id, content in rows
            ],
        },
    ).close()


def test_content_section_lists_matches_escapes_text_and_hides_personal_data(tmp_path):
    assert valid_resident_id(RESIDENT_ID)
    path = tmp_path / "s.duckdb"
    _store(path)
    result = engine.scan(path, "cn", checks="TEXT001,TEXT005")
    assert set(result.findings.entity_id) == {"T1", "T2", "T4"}
    html = build_report(path, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Content: false publicity" in html
    assert "国家级" in html  # the matched term is shown
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert RESIDENT_ID not in html and FIRST17 not in html
    assert "最近上新" not in html  # an ordinary word is not a finding, so not an example
    # TEXT001's example quotes T4 with its mobile number masked, as the evidence does
    assert "13812345678" not in html and "[PHONE ****5678]" in html
