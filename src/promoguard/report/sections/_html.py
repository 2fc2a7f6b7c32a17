"""Helpers shared by sections: escaped tables and severity ordering.

Headers are written in English and shown in the report's language (:func:`i18n.tr`); the cells
of ``data`` columns hold the store's own text (titles, names, excerpts, ids) and are marked
``translate="no"``: they are quoted, not translated."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def _coded(value: str) -> str | None:
    from promoguard.present import _coded as coded

    return coded(value)


def cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, Markup):  # built escaped (present.sentence_html)
        return str(value)
    return escape(str(value))


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[int] = (),
    data: Sequence[int] = (),
) -> str:
    """An HTML table; every cell is escaped. ``numeric``: column indexes aligned right; ``data``:
    columns quoting the store's text as it is (marked not to be translated)."""
    from promoguard.report.i18n import tr, word

    num = set(numeric)
    quoted = set(data)
    head = "".join(
        f'<th class="num">{escape(tr(h))}</th>' if i in num else f"<th>{escape(tr(h))}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r in rows:
        tds = []
        for i, v in enumerate(r):
            cls = ' class="num"' if i in num else ""
            if i in quoted:
                cls += ' translate="no"'
            elif isinstance(v, str) and not isinstance(v, Markup):
                v = _coded(v) or v
            if headers[i] == "severity" and isinstance(v, str) and v in SEVERITY_RANK:
                cls = f' class="sev-{v}"'
                v = word(v, v)
            tds.append(f"<td{cls}>{cell(v)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
