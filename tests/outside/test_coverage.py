"""Issue #12 (7): a scan says which checks it could not run, apart from those that found nothing.

A store without a check's tables (Olist has no prices, texts or reviews; an empty store has nothing)
must not report "0 findings" for that check as if it had looked: the scan records per check whether
it ran and on how many rows, or was skipped and why, in the CLI summary, ``--json`` and the stored
scan.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ._store import write_store


@pytest.fixture
def orders_only(tmp_path):
    """Orders and parcels, no prices, promotions, texts or reviews (like the Olist export)."""
    import datetime as dt

    return write_store(
        tmp_path / "orders.duckdb",
        {
            "platforms": [{"platform_id": "p1", "name": "Outside platform"}],
            "merchants": [{"merchant_id": "m1", "platform_id": "p1", "name": "Shop"}],
            "listings": [
                {
                    "listing_id": "L1",
                    "merchant_id": "m1",
                    "platform_id": "p1",
                    "title": "item",
                    "category": "household",
                    "currency": "CNY",
                }
            ],
            "orders": [
                {
                    "order_id": "o1",
                    "listing_id": "L1",
                    "merchant_id": "m1",
                    "buyer_id": "b1",
                    "quantity": 1,
                    "unit_price": "10.00",
                    "paid_at": dt.datetime(2026, 11, 11, 2, tzinfo=dt.UTC),
                    "status": "confirmed",
                }
            ],
        },
    )


def _scan_json(store, checks: str) -> dict:
    from promoguard.cli import app

    result = CliRunner().invoke(
        app, ["scan", "--store", str(store), "--pack", "cn", "--checks", checks, "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_says_not_checked_apart_from_zero_findings(orders_only):
    summary = _scan_json(orders_only, "PRICE001,TEXT001,REVIEW003,SHIP003")
    cover = summary["coverage"]
    assert cover["PRICE001"]["status"] == "skipped"
    assert "price_observations" in cover["PRICE001"]["reason"]
    assert cover["TEXT001"]["status"] == "skipped" and "texts" in cover["TEXT001"]["reason"]
    assert cover["REVIEW003"]["status"] == "skipped"
    assert cover["SHIP003"]["status"] == "ran" and cover["SHIP003"]["rows"] == 1


def test_the_stored_scan_keeps_the_coverage(orders_only):
    import promoguard.api as pg

    _scan_json(orders_only, "PRICE001,SHIP003")
    scans = pg.table(orders_only, "scans")
    cover = json.loads(scans.iloc[-1]["coverage"])
    assert cover["PRICE001"]["status"] == "skipped"
    assert cover["SHIP003"]["status"] == "ran"


def test_the_human_summary_says_not_checked(orders_only):
    from promoguard.cli import app

    result = CliRunner().invoke(
        app, ["scan", "--store", str(orders_only), "--pack", "cn", "--checks", "PRICE001,SHIP003"]
    )
    assert result.exit_code == 0, result.output
    assert "not checked (no price_observations)" in result.output


def test_an_empty_store_checks_nothing(tmp_path):
    store = write_store(tmp_path / "empty.duckdb", {})
    summary = _scan_json(store, "PRICE001,SHIP004,BRUSH001")
    assert {c["status"] for c in summary["coverage"].values()} == {"skipped"}
