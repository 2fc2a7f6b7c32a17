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
