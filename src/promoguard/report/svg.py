"""Small hand-made SVG charts (no library, no script): bars and a price series.

Every text that comes from data goes through ``html.escape``; numbers are formatted by us.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from promoguard.report.i18n import word

# Channel colours, far from each other and from the levels the sections draw (red reference,
# green legal prior price, grey MSRP): "live" was a teal next to the green prior-price line.
PALETTE = {
    "detail": "#2550a0",
    "search": "#d35400",
    "home": "#8e44ad",
    "live": "#b8860b",
}
OTHER = "#5d6d7e"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round axis ticks covering [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    import math

    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v < hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def bars(items: Sequence[tuple[str, float]], *, width: int = 560, unit: str = "") -> str:
    """Horizontal bars, one per (label, value)."""
    if not items:
        return ""
    row, label_w, pad = 20, 170, 6
    top = max(v for _, v in items) or 1
    height = row * len(items) + pad * 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">'
    ]
    span = width - label_w - 60
    for i, (label, value) in enumerate(items):
        y = pad + i * row
        w = max(1.0, span * value / top)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(str(label))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" fill="#2550a0"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="12">'
            f"{escape(_num(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Level:
    label: str
    value: float
    color: str
    dash: str = ""


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def price_series(
    points: Sequence[tuple[dt.datetime, float, str]],
    *,
    levels: Sequence[Level] = (),
    window: tuple[dt.datetime, dt.datetime] | None = None,
    window_label: str = "promotion",
    title: str = "",
    width: int = 560,
    height: int = 230,
) -> str:
    """Prices over time (one step line per channel), horizontal levels, a shaded window."""
    if not points:
        return ""
    left, right, top, bottom = 64, 12, 24, 34
    times = [p[0] for p in points]
    if window:
        times += list(window)
    t0, t1 = min(times), max(times)
    if t1 == t0:
        t1 = t0 + dt.timedelta(days=1)
    values = [p[1] for p in points] + [lv.value for lv in levels]
    v0, v1 = min(values), max(values)
    margin = (v1 - v0) * 0.08 or max(abs(v1) * 0.05, 1)
    # the axis runs from one round tick to the next round tick: 700, 750, 800, not 731.24
    ticks = nice_ticks(v0 - margin, v1 + margin)
    v0, v1 = ticks[0], ticks[-1]
    pw, ph = width - left - right, height - top - bottom

    def x(t: dt.datetime) -> float:
        return left + pw * (t - t0).total_seconds() / (t1 - t0).total_seconds()

    def y(v: float) -> float:
        return top + ph * (1 - (v - v0) / (v1 - v0))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fbfbfd" stroke="#dde"/>',
    ]
    if window:
        wx0, wx1 = x(window[0]), x(window[1])
        out.append(
            f'<rect x="{wx0:.1f}" y="{top}" width="{max(wx1 - wx0, 2):.1f}" height="{ph}" '
            f'fill="#f5b041" fill-opacity="0.25"/>'
            # the label sits under the plot, ending at the band, so it is never clipped by the
            # right edge nor drawn over a price or reference line
            f'<text x="{wx1:.1f}" y="{top + ph + 28}" font-size="10" fill="#9a6400" '
            f'text-anchor="end" translate="no">{escape(window_label)}</text>'
        )
    for v in ticks:  # y grid and ticks
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(_num(round(v, 2)))}</text>"
        )
    days = max(1, (t1 - t0).days)
    step = max(1, days // 6)
    tick = dt.datetime(t0.year, t0.month, t0.day, tzinfo=t0.tzinfo) + dt.timedelta(days=1)
    while tick <= t1:
        out.append(
            f'<text x="{x(tick):.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{tick:%m-%d}</text>'
        )
        tick += dt.timedelta(days=step)
    by_channel: dict[str, list[tuple[dt.datetime, float]]] = {}
    for t, v, ch in sorted(points, key=lambda p: (p[2], p[0])):
        by_channel.setdefault(ch, []).append((t, v))
    legend = []
    for ch, pts in sorted(by_channel.items()):
        color = PALETTE.get(ch, OTHER)
        if ch == "detail" and len(pts) > 1:
            path = [f"M{x(pts[0][0]):.1f},{y(pts[0][1]):.1f}"]
            for (_ta, _va), (tb, vb) in zip(pts, pts[1:], strict=False):
                path.append(f"H{x(tb):.1f}V{y(vb):.1f}")
            out.append(
                f'<path d="{"".join(path)}" fill="none" stroke="{color}" stroke-width="1.6"/>'
            )
        for t, v in pts:
            out.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.2" fill="{color}"/>')
        legend.append((escape(word(ch, ch) if ch else "?"), color, ""))
    for lv in levels:
        dash = f' stroke-dasharray="{lv.dash}"' if lv.dash else ""
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y(lv.value):.1f}" y2="{y(lv.value):.1f}" '
            f'stroke="{lv.color}" stroke-width="1.4"{dash}/>'
        )
        legend.append((f"{escape(lv.label)} {escape(_num(lv.value))}", lv.color, lv.dash))
    lx = left
    for text, color, dash in legend:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{lx}" x2="{lx + 14}" y1="{top - 10}" y2="{top - 10}" stroke="{color}" '
            f'stroke-width="2"{d}/><text x="{lx + 17}" y="{top - 6}" font-size="10">{text}</text>'
        )
        lx += 24 + 6 * len(text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    out.append("</svg>")
    return "".join(out)
