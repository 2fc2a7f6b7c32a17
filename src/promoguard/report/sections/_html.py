"""Helpers shared by sections: escaped tables and severity ordering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return escape(str(value))


def table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    """An HTML table; every cell is escaped. ``numeric``: column indexes aligned right."""
    num = set(numeric)
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if i in num else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r in rows:
        tds = []
        for i, v in enumerate(r):
            cls = ' class="num"' if i in num else ""
            if headers[i] == "severity" and isinstance(v, str) and v in SEVERITY_RANK:
                cls = f' class="sev-{v}"'
            tds.append(f"<td{cls}>{cell(v)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
