"""Logistics and licensing: per merchant, each violation's rate against its order volume."""

from __future__ import annotations

from html import escape

import duckdb
import pandas as pd

from promoguard.engine import registry
from promoguard.report.sections._html import table
from promoguard.report.svg import bars

TITLE = "Logistics and licences"
ORDER = 30
SECTION = "logistics"
TOP = 25


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
        out.append(f"<h3>Share of all {total_orders:,} orders flagged, by check</h3>")
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
        out.append(
            f"<h3>Merchants with the highest share of flagged orders (top {TOP})</h3>"
            "<p>Each cell: orders flagged by the check, and that count as a share of the "
            "merchant's orders.</p>"
        )
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
            )
        )
    for rule in rules:
        if rule.code not in order_codes:
            out.append(rule.report_html(con, mine[mine.check_code == rule.code]))
    out.append(f"<p>{escape(str(len(mine)))} logistics and licensing findings in this scan.</p>")
    return "\n".join(out)
