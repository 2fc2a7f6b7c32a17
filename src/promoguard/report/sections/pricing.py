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
from markupsafe import Markup

from promoguard import present
from promoguard.engine import registry
from promoguard.report.i18n import tr
from promoguard.report.sections._html import SEVERITY_RANK, table
from promoguard.report.svg import Level, price_series
from promoguard.rules.pricing._shared import DETAIL_WORDS
from promoguard.text.mask import QUOTES

SECTION = "pricing"
TITLE = "Pricing"
ORDER = 10
MAX_CHARTS = 50
MAX_ROWS = 300
TOP_ROWS = 20  # shown open; the rest (up to MAX_ROWS) folded
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
        out.append(Level(tr(level.label), float(level.value), color, dash))
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
        "SELECT observed_at, CAST(price AS DOUBLE), "
        "CASE WHEN channel IS NULL OR list_contains(?, lower(trim(channel))) THEN 'detail' "
        "ELSE lower(trim(channel)) END "
        "FROM price_observations WHERE listing_id = ? AND observed_at >= ? AND observed_at < ? "
        "ORDER BY observed_at, channel",
        [list(DETAIL_WORDS), f.entity_id, lo, hi],
    ).fetchall()
    return price_series(
        rows,
        levels=_levels(f.check_code, obs, exp),
        window=window,
        window_label=str(name or tr("promotion")),
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
    titles = {  # a title may carry a shop's number: quoted as the evidence quotes it
        k: QUOTES.mask(v)
        for k, v in con.execute(
            "SELECT l.listing_id, l.title FROM listings l JOIN _price_ids p ON p.entity_id = l.listing_id"
        ).fetchall()
    }
    con.unregister("_price_ids")
    pack = str(f.pack.iloc[0]) if "pack" in f.columns and len(f) else "cn"
    tz, currency = present.pack_locale(pack)
    shown = f.head(MAX_ROWS)
    lead = tr("{n} price findings, the most severe first", n=len(f))
    if len(f) > MAX_ROWS:
        lead += tr(" (the first {n} here; all are in the register)", n=MAX_ROWS)
    out = [f"<p>{escape(lead)}{escape(tr('.'))}</p>"]

    def rows(part: pd.DataFrame) -> list[tuple[Any, ...]]:
        # observed / expected in words, with the currency sign and local time (not key=value)
        return [
            (
                r.check_code,
                r.entity_id,
                titles.get(r.entity_id, ""),
                r.merchant_id,
                r.severity,
                Markup(present.sentence_html(r.obs, tz=tz, currency=currency)),
                Markup(present.sentence_html(r.exp, tz=tz, currency=currency)),
            )
            for r in part.itertuples()
        ]

    headers = ["check", "listing", "title", "merchant", "severity", "observed", "expected"]
    out.append(table(headers, rows(shown.head(TOP_ROWS)), data=[1, 2]))
    if len(shown) > TOP_ROWS:
        other = tr("the other {n} price findings", n=len(shown) - TOP_ROWS)
        out.append(
            f"<details><summary>{escape(other)}</summary>"
            + table(headers, rows(shown.iloc[TOP_ROWS:]), data=[1, 2])
            + "</details>"
        )
    charted = f.head(MAX_CHARTS)
    note = (
        tr("Charts for the {n} most severe of {total} findings.", n=MAX_CHARTS, total=len(f))
        if len(f) > MAX_CHARTS
        else tr("Charts for all {n} findings.", n=len(f))
    )
    legend = tr(
        "Shaded: the promotion window. Dots: observed prices by channel; the line steps "
        "through the detail-page price."
    )
    out.append(
        f"<h3>{escape(tr('Price series'))}</h3><p class='note'>{escape(note)} {escape(legend)}</p>"
    )
    out.append('<div class="grid">')
    for r in charted.itertuples():
        svg = _chart(con, r, r.obs, r.exp)
        caption = f"{r.check_code} · {r.entity_id} · {titles.get(r.entity_id, '')}"
        out.append(
            f'<div class="chart"><div translate="no"><strong>{escape(caption)}</strong></div>'
            f"{svg}</div>"
        )
    out.append("</div>")
    return "".join(out)
