"""Logistics and licensing: per merchant, each violation's rate against its order volume."""

from __future__ import annotations

import json
from html import escape

import duckdb
import pandas as pd

from promoguard.report.sections._html import table
from promoguard.report.svg import bars

TITLE = "Logistics and licences"
ORDER = 30
ORDER_CODES = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "PARCEL001")
TOP = 25


def _volumes(con: duckdb.DuckDBPyConnection) -> pd.Series:
    """merchant_id -> number of orders (the denominator of every rate)."""
    rows = con.execute("SELECT merchant_id, count(*) FROM orders GROUP BY merchant_id").fetchall()
    return pd.Series(dict(rows), dtype="int64")


def _rates(findings: pd.DataFrame, volumes: pd.Series) -> pd.DataFrame:
    f = findings[findings.check_code.isin(ORDER_CODES)]
    counts = f.groupby(["merchant_id", "check_code"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=list(ORDER_CODES), fill_value=0)
    counts["orders"] = volumes.reindex(counts.index).fillna(0).astype(int)
    counts["flagged"] = (
        f.groupby("merchant_id").entity_id.nunique().reindex(counts.index).fillna(0).astype(int)
    )
    counts["rate"] = counts.flagged / counts.orders.where(counts.orders > 0)
    return counts.sort_values(["rate", "flagged"], ascending=False)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else ""


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    mine = findings[findings.check_code.isin((*ORDER_CODES, "LIC001"))]
    if mine.empty:
        return None
    volumes = _volumes(con)
    total_orders = int(volumes.sum())
    out = []
    by_code = mine[mine.check_code.isin(ORDER_CODES)].groupby("check_code").entity_id.nunique()
    if len(by_code):
        out.append(f"<h3>Share of all {total_orders:,} orders flagged, by check</h3>")
        out.append(
            bars(
                [
                    (c, round(100 * int(by_code.get(c, 0)) / max(total_orders, 1), 3))
                    for c in ORDER_CODES
                ],
                unit="%",
            )
        )
        rates = _rates(mine, volumes).head(TOP)
        out.append(
            f"<h3>Merchants with the highest share of flagged orders (top {TOP})</h3>"
            "<p>Each cell: orders flagged by the check, and that count as a share of the "
            "merchant's orders.</p>"
        )
        rows = []
        for merchant, r in rates.iterrows():
            cells = [merchant, int(r.orders)]
            cells += [
                f"{int(r[c])} ({_pct(int(r[c]), int(r.orders))})" if r[c] else ""
                for c in ORDER_CODES
            ]
            cells.append(_pct(int(r.flagged), int(r.orders)))
            rows.append(cells)
        out.append(
            table(["merchant", "orders", *ORDER_CODES, "any"], rows, numeric=list(range(1, 8)))
        )
    lic = mine[mine.check_code == "LIC001"]
    if len(lic):
        out.append("<h3>Merchants selling licensed categories without a valid licence</h3>")
        rows = []
        for _, f in lic.sort_values("merchant_id").iterrows():
            obs = json.loads(f.observed)
            exp = json.loads(f.expected)
            orders = int(volumes.get(f.merchant_id, 0))
            n = int(obs.get("unlicensed_orders") or 0)
            rows.append(
                [
                    f.merchant_id,
                    obs.get("categories"),
                    exp.get("licence_types_required"),
                    n,
                    _pct(n, orders),
                    obs.get("first_sale_at"),
                ]
            )
        out.append(
            table(
                [
                    "merchant",
                    "categories",
                    "licence needed",
                    "unlicensed orders",
                    "of its orders",
                    "first such sale",
                ],
                rows,
                numeric=[3, 4],
            )
        )
    out.append(f"<p>{escape(str(len(mine)))} logistics and licensing findings in this scan.</p>")
    return "\n".join(out)
