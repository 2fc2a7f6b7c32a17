"""Report section: brushing rings (each drawn as buyers and shops with its orders over time),
order-velocity shops, near-duplicate review clusters and the highest review spam scores."""

from __future__ import annotations

import json
from html import escape

import duckdb
import pandas as pd

from promoguard import present
from promoguard.engine import registry
from promoguard.report.i18n import tr

TITLE = "Brushing rings and review fraud"
ORDER = 40
MAX_RINGS = 12
SECTION = "brushing"


def _ring_orders(
    con: duckdb.DuckDBPyConnection, buyers: list[str], merchants: list[str]
) -> pd.DataFrame:
    return con.execute(
        "SELECT buyer_id, merchant_id, epoch(paid_at) AS paid_s FROM orders "
        "WHERE list_contains(?, buyer_id) AND list_contains(?, merchant_id) "
        "ORDER BY paid_at, order_id",
        [buyers, merchants],
    ).df()


def ring_svg(buyers: list[str], merchants: list[str], orders: pd.DataFrame, tz: str = "UTC") -> str:
    """Buyers (circles, left) joined to shops (squares, right), line width = orders on the pair;
    under it a strip with one tick per order over the ring's time span (local time in ``tz``)."""
    row = 16
    n = max(len(buyers), len(merchants), 1)
    graph_h = n * row + 10
    width, strip_h = 360, 34
    height = graph_h + strip_h
    by = {b: 8 + i * row + row / 2 for i, b in enumerate(buyers)}
    my = {m: 8 + (i + 0.5) * (n * row) / max(len(merchants), 1) for i, m in enumerate(merchants)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    pairs = orders.groupby(["buyer_id", "merchant_id"]).size() if len(orders) else pd.Series()
    for (b, m), k in pairs.items():
        if b in by and m in my:
            parts.append(
                f'<line x1="110" y1="{by[b]:.1f}" x2="250" y2="{my[m]:.1f}" '
                f'stroke="#c0392b" stroke-opacity="0.55" stroke-width="{min(1 + k, 8)}"/>'
            )
    for b, y in by.items():
        parts.append(
            f'<circle cx="110" cy="{y:.1f}" r="5" fill="#2550a0"/>'
            f'<text x="100" y="{y + 4:.1f}" font-size="10" text-anchor="end">{escape(b)}</text>'
        )
    for m, y in my.items():
        parts.append(
            f'<rect x="245" y="{y - 6:.1f}" width="12" height="12" fill="#d35400"/>'
            f'<text x="262" y="{y + 4:.1f}" font-size="10">{escape(m)}</text>'
        )
    if len(orders):
        t0, t1 = float(orders.paid_s.min()), float(orders.paid_s.max())
        span = max(t1 - t0, 1.0)
        base = graph_h + 14
        parts.append(f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>')
        for t in orders.paid_s:
            x = 10 + (width - 20) * (float(t) - t0) / span
            parts.append(
                f'<line x1="{x:.1f}" y1="{base - 8}" x2="{x:.1f}" y2="{base}" stroke="#c0392b"/>'
            )
        first = present.local_time(pd.to_datetime(t0, unit="s", utc=True).to_pydatetime(), tz)
        last = present.local_time(pd.to_datetime(t1, unit="s", utc=True).to_pydatetime(), tz)
        parts.append(
            f'<text x="10" y="{base + 14}" font-size="10">{escape(first)}</text>'
            f'<text x="{width - 10}" y="{base + 14}" font-size="10" text-anchor="end">'
            f"{escape(last)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _rings(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str:
    rings = findings
    if rings.empty:
        return ""
    out = [f"<h3>{escape(tr('Buyer rings ({n})', n=len(rings)))}</h3>"]
    shown = rings.sort_values(["check_code", "entity_id"]).head(MAX_RINGS)
    pack = str(rings.pack.iloc[0]) if "pack" in rings.columns else "cn"
    tz = present.pack_locale(pack)[0]
    for f in shown.itertuples():
        obs = json.loads(f.observed)
        buyers = f.entity_id.split("|")
        merchants = [m for m in str(obs.get("merchants") or f.merchant_id or "").split("|") if m]
        orders = _ring_orders(con, buyers, merchants)
        out.append(
            '<figure class="ring">'
            + ring_svg(buyers, merchants, orders, tz)
            + "<figcaption>"
            + escape(
                tr(
                    "{code}: {buyers} buyers, {shops} shop(s), {orders} orders",
                    code=f.check_code,
                    buyers=len(buyers),
                    shops=len(merchants),
                    orders=len(orders),
                )
            )
            + "</figcaption></figure>"
        )
    if len(rings) > MAX_RINGS:
        more = tr("{n} more rings are in the findings.", n=len(rings) - MAX_RINGS)
        out.append(f"<p>{escape(more)}</p>")
    return "".join(out)


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    if findings is None or findings.empty:
        return None
    rules = registry.for_section(SECTION)
    mine = findings[findings.check_code.isin([r.code for r in rules])]
    if mine.empty:
        return None
    # a rule that finds buyer groups is drawn as rings; any other rule draws its own block
    ring_codes = [r.code for r in rules if r.entity_type == "buyer_group"]
    html = _rings(con, mine[mine.check_code.isin(ring_codes)])
    for rule in rules:
        if rule.code not in ring_codes:
            html += rule.report_html(con, mine[mine.check_code == rule.code])
    return html or None
