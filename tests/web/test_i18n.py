"""Chinese and English: the catalogue covers every message, and the language follows the user."""

from __future__ import annotations

import re

import pytest

from promoguard.web import i18n


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    zh = i18n.translations("zh")
    ids = i18n.extract_messages()
    assert len(ids) > 150
    missing = [m for m in ids if zh.gettext(m) == m]
    assert not missing, f"no Chinese for: {missing[:10]}"
    for m in ids:
        assert sorted(re.findall(r"%\(\w+\)\w", m)) == sorted(
            re.findall(r"%\(\w+\)\w", zh.gettext(m))
        ), m


@pytest.mark.parametrize(
    "cookie,header,expected",
    [
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-FR, zh-TW;q=0.5", "zh"),
        (None, "fr-FR", "en"),
        (None, "zh;q=0, en", "en"),
        (None, "", "en"),
        (None, "!!garbage;;q=x", "en"),
        ("zh", "en-US", "zh"),
        ("en", "zh-CN", "en"),
        ("xx", "zh-CN", "zh"),
    ],
)
def test_language_is_the_saved_choice_else_accept_language(cookie, header, expected):
    assert i18n.negotiate(cookie, header) == expected


def test_pages_follow_accept_language_and_the_switch(web_app):
    from tests.web.conftest import login_client

    client = login_client(web_app, "analyst")
    assert ">Findings<" in client.get("/").text
    zh = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert ">发现<" in zh and 'lang="zh-CN"' in zh
    r = client.get("/lang/zh?next=/cases")
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    assert "按优先级从高到低" in client.get("/cases").text  # the cookie now wins
    client.get("/lang/en?next=/")
    assert "Highest priority first" in client.get("/cases").text
    assert client.get("/lang/fr").status_code == 404
