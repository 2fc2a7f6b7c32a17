"""Server-side SVG charts: labels escaped, bars proportional, empty data drawn as empty."""

from __future__ import annotations

import re

from promoguard.web.charts import bars, columns
from promoguard.web.data import price_chart


def test_bars_escape_labels_and_scale_to_the_largest():
    svg = str(bars([("<b>x</b>", 10), ("y", 5), ("z", 0)], 'title "quoted"'))
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg
    assert 'aria-label="title &#34;quoted&#34;"' in svg
    widths = [int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', svg)]
    assert widths[0] == 2 * widths[1] and widths[2] == 0


def test_empty_charts_still_render():
    assert "<svg" in str(bars([], "nothing")) and "<svg" in str(columns([], "nothing"))


def test_price_chart_reads_prices_from_evidence_rows():
    rows = {
        "price_observations": [
            {"observed_at": "2026-11-02T00:00:00Z", "price": "120.00"},
            {"observed_at": "2026-11-01T00:00:00Z", "price": "100.00"},
        ],
        "orders": [{"paid_at": "2026-11-03T00:00:00Z", "unit_price": "90.00"}],
        "junk": [{"observed_at": "x", "price": "not a number"}, "text"],
    }
    svg = str(price_chart(rows))
    assert svg.count("<rect") == 3
    assert svg.index("2026-11-01") < svg.index("2026-11-03")
    assert price_chart({"orders": [{"paid_at": "2026-11-03", "unit_price": "1"}]}) is None


def test_ring_drawing_links_buyers_to_merchants_by_their_orders():
    from promoguard.web.data import ring_chart

    orders = [
        {"buyer_id": b, "merchant_id": m, "order_id": f"O{i}"}
        for i, (b, m) in enumerate(
            [("B1", "M1"), ("B1", "M1"), ("B1", "M1"), ("B2", "M1"), ("B3", "M2"), ("<B4>", "M2")]
        )
    ]
    svg = str(ring_chart({"orders": orders}))
    assert svg.count("<line") == 4 and svg.count("<circle") == 4 and svg.count("<rect") == 2
    assert "&lt;B4&gt;" in svg and "<B4>" not in svg
    widths = [float(w) for w in re.findall(r'stroke-width="([\d.]+)"', svg)]
    assert widths[0] == max(widths) == 6.0  # B1-M1, three orders, is the thickest
    assert ring_chart({"orders": orders[:3]}) is None  # one buyer is not a ring
