"""How a content finding quotes a text that holds personal data: each identifier as its token,
everywhere the text is quoted (matched, term, context, the masked text), and the quote readable.

Cases a reviewer wrote against the first version: a handle or regex term built from the text
itself carried the number; a mobile inside an e-mail gave two tokens; a window ending inside an
identifier added "…" for text the token covered."""

from __future__ import annotations

import hashlib
import json

import pytest

from promoguard.rules.content._shared import content_rules
from promoguard.text.lexicon import load_terms
from promoguard.text.rules import ContentRules


@pytest.fixture(scope="module")
def quote():
    rules = ContentRules(load_terms())
    every = content_rules()

    def run(text: str, kind: str = "chat") -> dict[str, dict]:
        prep = rules.prepare(text)
        out: dict[str, dict] = {}
        for rule, params in every:
            hits = rule.decide(prep, "review" if kind == "review" else kind, None, params)
            rows: list[dict] = []
            row = {"merchant_id": "M", "platform_id": "P", "kind": kind, "category": None}
            rule._emit(rows, row, prep, hits, "X", "text")
            if rows:
                out[rule.code] = rows[0] | {"spans": json.loads(rows[0]["spans"])}
        return out

    return run


@pytest.mark.parametrize(
    ("text", "kind", "code", "digits"),
    [
        ("微信号：13812345678 私聊", "chat", "TEXT004", "13812345678"),  # a handle after a cue
        ("微信 13812345678", "chat", "TEXT004", "13812345678"),
        ("好评后加13612345678返现", "review", "REVIEW002", "13612345678"),
        ("家人们今天省13712345678！", "livestream", "TEXT006", "13712345678"),
        ("微信 liming88@qq.com", "chat", "TEXT004", "liming88"),
    ],
)
def test_no_quoted_field_repeats_an_identifier(quote, text, kind, code, digits):
    found = quote(text, kind)
    assert code in found, found
    for c, row in found.items():
        if c == "TEXT005":
            continue  # personal data: located by kind, never quoted
        flat = json.dumps(row, ensure_ascii=False)
        assert digits not in flat, (c, flat)
        assert row["content_sha256"] == hashlib.sha256(text.encode()).hexdigest()


def test_a_mobile_inside_an_email_is_one_token(quote):
    found = quote("13812345678@qq.com 全网最低价", "ad")
    assert found["TEXT001"]["masked_content"] == "[EMAIL] 全网最低价"
    assert all(s["context"] == "[EMAIL] 全网最低价" for s in found["TEXT001"]["spans"])


def test_a_window_ending_inside_an_identifier_shows_it_whole_without_an_ellipsis(quote):
    text = "全网最低价 li.ming@example.com"  # the window of 全网最低 ends inside the address
    (span, *_) = quote(text, "ad")["TEXT001"]["spans"]
    assert span["context"] == "全网最低价 [EMAIL]"

    # the shown claim is 全网最低价, whose window reaches the end of that text: an address long
    # enough for the window to end (or, before the claim, to start) inside it
    def context(text: str) -> str:
        return quote(text, "ad")["TEXT001"]["spans"][0]["context"]

    assert context("全网最低价 liming.wang@example.com") == "全网最低价 [EMAIL]"
    assert context("liming.wang@example.com 全网最低价") == "[EMAIL] 全网最低价"
    # text before the address, outside the token, is still marked as cut
    assert context("请联系 liming.wang@example.com 购买全网最低价的好货") == (
        "…[EMAIL] 购买全网最低价的好货"
    )
