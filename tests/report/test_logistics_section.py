"""The report's logistics section: per-merchant rates against order volume, escaped."""

from __future__ import annotations

import json

import pandas as pd
from tests.rules.logistics.helpers import order, tables

from promoguard.report.sections import logistics as section


def _finding(code, entity, merchant, observed=None, expected=None):
    return {
        "check_code": code,
        "entity_id": entity,
        "merchant_id": merchant,
        "observed": json.dumps(observed or {}),
        "expected": json.dumps(expected or {}),
    }


def test_rates_are_per_merchant_order_volume_and_values_are_escaped(tiny_store):
    evil = "<script>alert(1)</script>"
    con = tiny_store(
        tables(
            orders=[order("o1"), order("o2"), order("o3"), order("o4", merchant=evil)],
        )
    )
    findings = pd.DataFrame(
        [
            _finding("SHIP001", "o1", "m2"),
            _finding("SHIP004", "o1", "m2"),  # one order, two checks: counted once in "any"
            _finding("SHIP003", "o4", evil),
            _finding(
                "LIC001",
                "m2",
                "m2",
                {"unlicensed_orders": 1, "categories": "alcohol", "first_sale_at": "x"},
                {"licence_types_required": "alcohol_retail"},
            ),
        ]
    )
    html = section.render(con, findings)
    assert "<script>" not in html and "&lt;script&gt;" in html
    rates = section._rates(findings, section._volumes(con))
    assert rates.loc["m2", "orders"] == 3 and rates.loc["m2", "flagged"] == 1
    assert abs(rates.loc["m2", "rate"] - 1 / 3) < 1e-9
    assert "1 (33.3%)" in html  # m2's SHIP001 cell
    assert "alcohol_retail" in html


def test_nothing_to_show_without_logistics_findings(tiny_store):
    con = tiny_store(tables(orders=[order("o1")]))
    assert section.render(con, pd.DataFrame([_finding("PRICE001", "l1", "m1")])) is None


def test_example_orders_show_promised_against_actual_in_local_time_with_the_hash(tiny_store):
    con = tiny_store(tables(orders=[order(f"o{i}") for i in range(12)]))
    rows = []
    for i in range(12):
        f = _finding(
            "SHIP003",
            f"o{i}",
            "m1",
            {"first_pickup_at": "2026-11-12T01:30:00Z", "hours_late": i},
            {"dispatch_deadline": "2026-11-11T16:00:00Z"},
        )
        f.update(severity="high" if i == 3 else "medium", evidence_sha256=f"{i:064x}", pack="cn")
        rows.append(f)
    html = section.render(con, pd.DataFrame(rows))
    block = html[html.index("SHIP003: ") :]
    # the most severe first, then the largest overrun; Beijing time, not UTC
    first = block.index("<tbody>")
    assert block.index(">o3<", first) < block.index(">o11<", first) < block.index(">o10<", first)
    assert "2026-11-12 00:00 CST" in block and "2026-11-12 09:30 CST" in block
    assert f"{3:064x}" in block
    # five open, the other seven folded without a script
    opened, folded = block.split("<details>", 1)
    assert opened.count('<tr><td translate="no">o') == section.EXAMPLES_OPEN
    assert folded.count('<tr><td translate="no">o') == 12 - section.EXAMPLES_OPEN
    assert "<script" not in html
