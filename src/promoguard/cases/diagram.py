"""The picture of a case's states (``docs/cases-states.svg``), drawn from :data:`states.TRANSITIONS`.

``python -m promoguard.cases.diagram > docs/cases-states.svg`` regenerates it; a test checks the file
in the repository is what the transitions give, so the picture cannot drift from the code. Plain
SVG, no script, no external font or stylesheet: it renders offline anywhere.
"""

from __future__ import annotations

from html import escape

from promoguard.cases import states

W, H = 178, 38
#: Centre of each state's box.
POSITIONS = {
    states.OPEN: (100, 60),
    states.UNDER_REVIEW: (330, 60),
    states.GUIDANCE_ISSUED: (560, 60),
    states.RECTIFICATION_REPORTED: (820, 60),
    states.NOT_RECTIFIED: (560, 240),
    states.VERIFIED_RECTIFIED: (820, 240),
    states.ESCALATED: (380, 400),
    states.CLOSED: (820, 400),
    states.DISMISSED: (130, 250),
}
#: Where along an edge its label sits (default: half way), so that crossing edges' labels part.
LABEL_AT = {
    (states.RECTIFICATION_REPORTED, states.NOT_RECTIFIED): 0.3,
    (states.GUIDANCE_ISSUED, states.VERIFIED_RECTIFIED): 0.72,
    (states.NOT_RECTIFIED, states.CLOSED): 0.72,
    (states.VERIFIED_RECTIFIED, states.ESCALATED): 0.25,
    (states.GUIDANCE_ISSUED, states.ESCALATED): 0.75,
    (states.GUIDANCE_ISSUED, states.DISMISSED): 0.3,
    (states.RECTIFICATION_REPORTED, states.DISMISSED): 0.2,
}
COLOURS = {
    states.OPEN: "#e8f0fe",
    states.UNDER_REVIEW: "#e8f0fe",
    states.GUIDANCE_ISSUED: "#fff4e5",
    states.RECTIFICATION_REPORTED: "#fff4e5",
    states.VERIFIED_RECTIFIED: "#e6f4ea",
    states.NOT_RECTIFIED: "#fce8e6",
    states.CLOSED: "#eeeeee",
    states.ESCALATED: "#fce8e6",
    states.DISMISSED: "#eeeeee",
}


def edges() -> list[tuple[str, str, str]]:
    """(from, to, action) for every transition that changes the state."""
    out = []
    for action, moves in states.TRANSITIONS.items():
        for src, dst in moves.items():
            targets = (
                (states.VERIFIED_RECTIFIED, states.NOT_RECTIFIED) if dst == "verdict" else (dst,)
            )
            out.extend((src, t, action) for t in targets if t != src)
    return sorted(out)


def _clip(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
    """Where the segment from the centre (x0, y0) towards (x1, y1) leaves the box."""
    dx, dy = x1 - x0, y1 - y0
    if dx == 0 and dy == 0:
        return x0, y0
    tx = (W / 2 + 4) / abs(dx) if dx else float("inf")
    ty = (H / 2 + 4) / abs(dy) if dy else float("inf")
    t = min(tx, ty)
    return x0 + dx * t, y0 + dy * t


def render_svg() -> str:
    width, height = 960, 460
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        "<title>PromoGuard case states and transitions</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    pairs = {(a, b) for a, b, _ in edges()}
    for src, dst, action in edges():
        (x0, y0), (x1, y1) = POSITIONS[src], POSITIONS[dst]
        sx, sy = _clip(x0, y0, x1, y1)
        ex, ey = _clip(x1, y1, x0, y0)
        if (dst, src) in pairs:  # a pair of opposite edges: draw them side by side
            length = ((ex - sx) ** 2 + (ey - sy) ** 2) ** 0.5
            ox, oy = -(ey - sy) / length * 9, (ex - sx) / length * 9
            sx, sy, ex, ey = sx + ox, sy + oy, ex + ox, ey + oy
        parts.append(
            f'<line x1="{sx:.0f}" y1="{sy:.0f}" x2="{ex:.0f}" y2="{ey:.0f}" stroke="#555" '
            'stroke-width="1.3" marker-end="url(#arrow)"/>'
        )
        at = LABEL_AT.get((src, dst), 0.5)
        mx, my = sx + (ex - sx) * at, sy + (ey - sy) * at
        vertical = abs(ex - sx) < 1
        if vertical:
            side = -1 if (dst, src) in pairs and sy < ey else 1
            anchor = "start" if side > 0 else "end"
            tx, ty = mx + 6 * side, my + 4
        else:
            anchor, tx, ty = "middle", mx, my - 4
        parts.append(
            f'<text x="{tx:.0f}" y="{ty:.0f}" text-anchor="{anchor}" fill="#1a57b0" '
            f'font-style="italic">{escape(action)}</text>'
        )
    for state, (x, y) in POSITIONS.items():
        terminal = state in states.TERMINAL
        parts.append(
            f'<rect x="{x - W / 2:.0f}" y="{y - H / 2:.0f}" width="{W}" height="{H}" rx="9" '
            f'fill="{COLOURS[state]}" stroke="#333" stroke-width="{2.4 if terminal else 1.2}"/>'
        )
        parts.append(
            f'<text x="{x}" y="{y + 4}" text-anchor="middle" font-weight="bold">{escape(state)}</text>'
        )
    parts.append(
        f'<text x="20" y="{height - 14}" fill="#555">Thick border: final state. '
        "verify decides verified_rectified (no finding still present) or not_rectified.</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_svg())
