"""The text a reader sees in a report page, for the language tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class _Visible(HTMLParser):
    """Visible text outside <style>, <script>, <code> (commands, identifiers) and elements marked
    ``translate="no"`` (the store's own text, ids and hashes, the law's own name: quoted)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        quiet = tag in ("style", "script", "code", "title") or dict(attrs).get("translate") == "no"
        self.stack.append(quiet or (bool(self.stack) and self.stack[-1]))

    def handle_startendtag(self, tag, attrs):
        return

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(parser.parts)


#: ASCII words a Chinese report may show: names of the product and of standards, time zones, the
#: article abbreviation of a legal citation as the pack writes it ("Art. 17")
ALLOWED = {"PromoGuard", "SHA", "UTC", "CST", "HKT", "CET", "CEST", "GMT", "BST", "EST", "EDT",
           "CNY", "EUR", "GBP", "USD", "CN", "EU", "UK", "US", "ID", "No", "Art"}  # fmt: skip


def english_words(page: str) -> list[str]:
    """ASCII words (two letters or more) outside ids, hashes, codes and quoted text."""
    text = re.sub(r"`[^`]*`", " ", visible_text(page))  # a command quoted in a sentence
    words = re.findall(r"(?<![\w./-])[A-Za-z][A-Za-z'’-]+(?![\w/-])", text)
    return sorted({w for w in words if w not in ALLOWED})
