"""Pricing: every price finding in a table, and for the most severe a chart of the listing's price
series around the promotion with the reference price, the legal prior price and the promotion
window marked."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import Any

import duckdb
import pandas as pd

from promoguard.engine import registry
from promoguard.report.sections._html import SEVERITY_RANK, table
from promoguard.report.svg import Level, price_series

SECTION = "pricing"
TITLE = "Pricing"
ORDER = 10
MAX_CHARTS = 50
MAX_ROWS = 300
DAYS_BEFORE = 35  # the chart starts this long before the promotion (covers the pre-sale season)
DAYS_AFTER = 3


#: how each kind of chart level is drawn: colour, dash pattern
LOOK = {"claimed": ("#c0392b", "5,3"), "lawful": ("#27ae60", ""), "context": ("#7f8c8d", "2,2")}


def magnitude(code: str, obs: dict[str, Any], exp: dict[str, Any]) -> float:
    """How far the finding is from the rule (the rule says), to order findings of equal severity."""
    rule = registry.find(code)
    if rule is None:
        return 0.0
    try:
        return float(rule.magnitude(obs, exp))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 0.0


def _levels(code: str, obs: dict[str, Any], exp: dict[str, Any]) -> list[Level]:
    rule = registry.find(code)
    if rule is None:
        return []
    out = []
    for level in rule.chart_levels(obs, exp):
        color, dash = LOOK.get(level.kind, LOOK["context"])
        out.append(Level(level.label, float(level.value), color, dash))
    return out


def _promotion(
    con: duckdb.DuckDBPyConnection, obs: dict[str, Any], platform: str | None
) -> tuple[dt.datetime, dt.datetime, str] | None:
    pid = obs.get("promotion_id")
    if pid:
        row = con.execute(
            "SELECT starts_at, ends_at, name FROM promotions WHERE promotion_id = ?", [pid]
        ).fetchone()
        if row:
            return row
    at = obs.get("observed_at")
    if at and platform:
        row = con.execute(
            "SELECT starts_at, ends_at, name FROM promotions WHERE platform_id = ? "
            "ORDER BY abs(epoch(starts_at) - epoch(CAST(? AS TIMESTAMPTZ))) LIMIT 1",
            [platform, at],
        ).fetchone()
        if row:
            return row
    return None


def _chart(con: duckdb.DuckDBPyConnection, f: Any, obs: dict, exp: dict) -> str:
    promo = _promotion(con, obs, f.platform_id)
    if promo:
        start, end, name = promo
        lo, hi = start - dt.timedelta(days=DAYS_BEFORE), end + dt.timedelta(days=DAYS_AFTER)
        window = (start, end)
    else:
        at = pd.Timestamp(obs.get("observed_at") or "2000-01-01", tz="UTC").to_pydatetime()
        lo, hi, window, name = at - dt.timedelta(days=14), at + dt.timedelta(days=7), None, ""
    rows = con.execute(
        "SELECT observed_at, CAST(price AS DOUBLE), coalesce(channel, 'detail') "
        "FROM price_observations WHERE listing_id = ? AND observed_at >= ? AND observed_at < ? "
        "ORDER BY observed_at, channel",
        [f.entity_id, lo, hi],
    ).fetchall()
    return price_series(
        rows,
        levels=_levels(f.check_code, obs, exp),
        window=window,
        window_label=str(name or "promotion"),
        title=f"{f.check_code} {f.entity_id}",
    )


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    f = findings[findings.check_code.isin([c.code for c in registry.for_section(SECTION)])].copy()
    if f.empty:
        return None
    f["obs"] = f.observed.map(json.loads)
    f["exp"] = f.expected.map(json.loads)
    f["rank"] = f.severity.map(SEVERITY_RANK).fillna(0)
    f["magnitude"] = [
        magnitude(c, o, e) for c, o, e in zip(f.check_code, f.obs, f.exp, strict=True)
    ]
    f = f.sort_values(["rank", "magnitude", "finding_id"], ascending=[False, False, True])
    con.register("_price_ids", f[["entity_id"]].drop_duplicates())
    titles = dict(
        con.execute(
            "SELECT l.listing_id, l.title FROM listings l JOIN _price_ids p ON p.entity_id = l.listing_id"
        ).fetchall()
    )
    con.unregister("_price_ids")
    out = [
        f"<p>{len(f)} price findings. The table lists the most severe first"
        + (f" (the first {MAX_ROWS} of {len(f)})" if len(f) > MAX_ROWS else "")
        + ".</p>"
    ]

    def brief(d: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in d.items())

    out.append(
        table(
            ["check", "listing", "title", "merchant", "severity", "observed", "expected"],
            [
                (
                    r.check_code,
                    r.entity_id,
                    titles.get(r.entity_id, ""),
                    r.merchant_id,
                    r.severity,
                    brief(r.obs),
                    brief(r.exp),
                )
                for r in f.head(MAX_ROWS).itertuples()
            ],
        )
    )
    charted = f.head(MAX_CHARTS)
    note = (
        f"Charts for the {MAX_CHARTS} most severe of {len(f)} findings."
        if len(f) > MAX_CHARTS
        else f"Charts for all {len(f)} findings."
    )
    out.append(
        f"<h3>Price series</h3><p class='note'>{escape(note)} Shaded: the promotion window. "
        "Dots: observed prices by channel; the line steps through the detail-page price.</p>"
    )
    out.append('<div class="grid">')
    for r in charted.itertuples():
        svg = _chart(con, r, r.obs, r.exp)
        caption = f"{r.check_code} · {r.entity_id} · {titles.get(r.entity_id, '')}"
        out.append(f'<div class="chart"><div><strong>{escape(caption)}</strong></div>{svg}</div>')
    out.append("</div>")
    return "".join(out)
