"""Logistics and licensing: per merchant, each violation's rate against its order volume, and
for each per-order rule its example orders (promised against actual, in local time, with the
evidence hash), the most severe open and the rest folded in a ``<details>`` (no script)."""

from __future__ import annotations

from html import escape

import duckdb
import pandas as pd
from markupsafe import Markup

from promoguard import present
from promoguard.engine import registry
from promoguard.report.i18n import rule_title, tr
from promoguard.report.sections._html import SEVERITY_RANK, table
from promoguard.report.svg import bars

TITLE = "Logistics and licences"
ORDER = 30
SECTION = "logistics"
TOP = 25
#: example orders per rule shown open, and listed at all (the rest folded, then counted)
EXAMPLES_OPEN = 3
EXAMPLES_LISTED = 60


def _volumes(con: duckdb.DuckDBPyConnection) -> pd.Series:
    """merchant_id -> number of orders (the denominator of every rate)."""
    rows = con.execute("SELECT merchant_id, count(*) FROM orders GROUP BY merchant_id").fetchall()
    return pd.Series(dict(rows), dtype="int64")


def _order_codes() -> list[str]:
    """The per-order rules of this section: they share the rates table."""
    return [r.code for r in registry.for_section(SECTION) if r.entity_type == "order"]


def _rates(
    findings: pd.DataFrame, volumes: pd.Series, order_codes: list[str] | None = None
) -> pd.DataFrame:
    order_codes = order_codes if order_codes is not None else _order_codes()
    f = findings[findings.check_code.isin(order_codes)]
    counts = f.groupby(["merchant_id", "check_code"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=order_codes, fill_value=0)
    counts["orders"] = volumes.reindex(counts.index).fillna(0).astype(int)
    counts["flagged"] = (
        f.groupby("merchant_id").entity_id.nunique().reindex(counts.index).fillna(0).astype(int)
    )
    counts["rate"] = counts.flagged / counts.orders.where(counts.orders > 0)
    return counts.sort_values(["rate", "flagged"], ascending=False)


def pct(n: int, d: int) -> str:
    """``n`` as a share of ``d``, one decimal; blank when ``d`` is 0."""
    return f"{100 * n / d:.1f}%" if d else ""


def order_volumes(con: duckdb.DuckDBPyConnection) -> pd.Series:
    """merchant_id -> number of orders, for a rule's own block in this section."""
    return _volumes(con)


def examples(con: duckdb.DuckDBPyConnection, code: str, theirs: pd.DataFrame) -> str:
    """A per-order rule's example orders: order, merchant, severity, what was promised (the
    rule's expectation) against what happened, in the pack's local time, and the evidence hash;
    the most severe first (then the largest overrun), the rest folded."""
    rule = registry.find(code)
    defaults = {"severity": "medium", "evidence_sha256": "", "pack": "cn"}
    theirs = theirs.assign(**{c: v for c, v in defaults.items() if c not in theirs.columns})
    pack = str(theirs.pack.iloc[0])
    tz, currency = present.pack_locale(pack)
    f = theirs.assign(
        _rank=theirs.severity.map(SEVERITY_RANK).fillna(0),
        _late=[float(present.loads(o).get("hours_late") or 0) for o in theirs.observed],
    ).sort_values(["_rank", "_late", "entity_id"], ascending=[False, False, True])
    listed = f.head(EXAMPLES_LISTED)

    def rows(part: pd.DataFrame) -> list[list[str]]:
        return [
            [
                r.entity_id,
                r.merchant_id or "",
                r.severity,
                Markup(present.sentence_html(present.loads(r.expected), tz=tz, currency=currency)),
                Markup(present.sentence_html(present.loads(r.observed), tz=tz, currency=currency)),
                r.evidence_sha256,
            ]
            for r in part.itertuples()
        ]

    headers = ["order", "merchant", "severity", "promised", "actual", "evidence SHA-256"]
    title = rule_title(code, rule.title if rule is not None else "")
    head = tr("Example orders (top {n} of {total})", n=min(EXAMPLES_OPEN, len(f)), total=len(f))
    out = [f"<h4>{escape(code)}: {escape(title)} — {escape(head)}</h4>"]
    out.append(table(headers, rows(listed.head(EXAMPLES_OPEN)), data=[0, 1, 5]))
    if len(listed) > EXAMPLES_OPEN:
        other = tr("the other {n} flagged orders", n=len(f) - EXAMPLES_OPEN)
        rest = table(headers, rows(listed.iloc[EXAMPLES_OPEN:]), data=[0, 1, 5])
        out.append(f"<details><summary>{escape(other)}</summary>{rest}")
        if len(f) > EXAMPLES_LISTED:
            more = tr(
                "{n} more are not listed here; `promoguard findings list --check {code}` lists all.",
                n=len(f) - EXAMPLES_LISTED,
                code=code,
            )
            out.append(f"<p>{escape(more)}</p>")
        out.append("</details>")
    return "".join(out)


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    rules = registry.for_section(SECTION)
    # per-order rules share the rates table; any other rule draws its own block
    order_codes = _order_codes()
    mine = findings[findings.check_code.isin([r.code for r in rules])]
    if mine.empty:
        return None
    volumes = _volumes(con)
    total_orders = int(volumes.sum())
    out = []
    by_code = mine[mine.check_code.isin(order_codes)].groupby("check_code").entity_id.nunique()
    if len(by_code):
        head = tr("Share of all {n} orders flagged, by check", n=f"{total_orders:,}")
        out.append(f"<h3>{escape(head)}</h3>")
        out.append(
            bars(
                [
                    (c, round(100 * int(by_code.get(c, 0)) / max(total_orders, 1), 3))
                    for c in order_codes
                ],
                unit="%",
            )
        )
        rates = _rates(mine, volumes, order_codes).head(TOP)
        head = tr("Merchants with the highest share of flagged orders (top {n})", n=TOP)
        note = tr(
            "Each cell: orders flagged by the check, and that count as a share of the "
            "merchant's orders."
        )
        out.append(f"<h3>{escape(head)}</h3><p>{escape(note)}</p>")
        rows = []
        for merchant, r in rates.iterrows():
            cells = [merchant, int(r.orders)]
            cells += [
                f"{int(r[c])} ({pct(int(r[c]), int(r.orders))})" if r[c] else ""
                for c in order_codes
            ]
            cells.append(pct(int(r.flagged), int(r.orders)))
            rows.append(cells)
        out.append(
            table(
                ["merchant", "orders", *order_codes, "any"],
                rows,
                numeric=list(range(1, len(order_codes) + 3)),
                data=[0],
            )
        )
        for code in order_codes:
            theirs = mine[mine.check_code == code]
            if len(theirs):
                out.append(examples(con, code, theirs))
    for rule in rules:
        if rule.code not in order_codes:
            out.append(rule.report_html(con, mine[mine.check_code == rule.code]))
    total = tr("{n} logistics and licensing findings in this scan.", n=len(mine))
    out.append(f"<p>{escape(total)}</p>")
    return "\n".join(out)
