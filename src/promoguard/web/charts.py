"""Server-side SVG charts: horizontal bars for categories, columns for days. No JavaScript.

Every label goes through ``markupsafe.escape`` (labels come from data: platform and merchant names),
and every chart carries a ``<title>`` and an ``aria-label`` so that a screen reader says what it
shows; the numbers are also printed beside the bars, so the chart reads without colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

SEVERITY_COLOURS = {
    "critical": "#8b1a1a",
    "high": "#c0392b",
    "medium": "#d68910",
    "low": "#5d6d7e",
}
DEFAULT_COLOUR = "#2e5e8c"


def bars(
    rows: Sequence[tuple[str, int]],
    title: str,
    *,
    colours: dict[str, str] | None = None,
    width: int = 380,
    bar_height: int = 18,
) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given."""
    colours = colours or {}
    label_w, value_w, gap = 120, 56, 6
    plot_w = width - label_w - value_w
    top = max((v for _, v in rows), default=0) or 1
    height = max(1, len(rows)) * (bar_height + gap) + gap
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}"'
        f' width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        w = max(1, round(plot_w * value / top)) if value else 0
        colour = colours.get(str(label), DEFAULT_COLOUR)
        text = str(label)
        short = text if len(text) <= 16 else text[:15] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_height - 5}" text-anchor="end"'
            f' font-size="12">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_height}" fill="{colour}">'
            f"<title>{escape(text)}: {value}</title></rect>"
            f'<text x="{label_w + w + 4}" y="{y + bar_height - 5}" font-size="12">{value}</text>'
        )
    if not rows:
        parts.append(f'<text x="4" y="{bar_height}" font-size="12">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(
    rows: Sequence[tuple[str, int]],
    title: str,
    *,
    width: int = 380,
    height: int = 140,
    colour: str = DEFAULT_COLOUR,
) -> Markup:
    """Columns over days (label = ISO date), first and last day labelled under the axis."""
    n = max(1, len(rows))
    top = max((v for _, v in rows), default=0) or 1
    plot_h = height - 34
    step = (width - 8) / n
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}"'
        f' width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="12" font-size="11">max {top}</text>',
    ]
    for i, (label, value) in enumerate(rows):
        h = round(plot_h * value / top)
        x = 4 + i * step
        parts.append(
            f'<rect x="{x:.1f}" y="{16 + plot_h - h}" width="{max(1.0, step - 1):.1f}"'
            f' height="{h}" fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
        )
    if rows:
        parts.append(
            f'<text x="4" y="{height - 4}" font-size="11">{escape(rows[0][0])}</text>'
            f'<text x="{width - 4}" y="{height - 4}" font-size="11" text-anchor="end">'
            f"{escape(rows[-1][0])}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def ring(
    edges: Sequence[tuple[str, str, int]], title: str, *, width: int = 520, row: int = 22
) -> Markup:
    """A buyer group's drawing: buyers on the left, merchants on the right, one line per pair,
    as thick as the pair's orders are many (the dense block a brushing ring makes)."""
    buyers = sorted({b for b, _, _ in edges})
    merchants = sorted({m for _, m, _ in edges})
    height = max(len(buyers), len(merchants)) * row + 20
    top = max((n for _, _, n in edges), default=1) or 1
    bx, mx = 130, width - 130

    def y(i: int, n: int) -> float:
        span = height - 20
        return 10 + (i + 0.5) * span / max(1, n)

    by = {b: y(i, len(buyers)) for i, b in enumerate(buyers)}
    my = {m: y(i, len(merchants)) for i, m in enumerate(merchants)}
    parts = [
        f'<svg class="chart ring" role="img" aria-label="{escape(title)}" viewBox="0 0 {width}'
        f' {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for b, m, n in edges:
        stroke = 1 + round(5 * n / top, 1)
        parts.append(
            f'<line x1="{bx}" y1="{by[b]:.1f}" x2="{mx}" y2="{my[m]:.1f}" stroke="{DEFAULT_COLOUR}"'
            f' stroke-opacity="0.55" stroke-width="{stroke}"><title>{escape(b)} → {escape(m)}:'
            f" {n}</title></line>"
        )
    for b in buyers:
        parts.append(
            f'<circle cx="{bx}" cy="{by[b]:.1f}" r="4" fill="#1c2833"/>'
            f'<text x="{bx - 8}" y="{by[b] + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(b[:18])}</text>"
        )
    for m in merchants:
        parts.append(
            f'<rect x="{mx - 4}" y="{my[m] - 4:.1f}" width="8" height="8" fill="#b03a2e"/>'
            f'<text x="{mx + 8}" y="{my[m] + 4:.1f}" font-size="11">{escape(m[:18])}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
