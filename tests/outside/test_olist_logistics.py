"""Issue #12 (4): SHIP003/SHIP004/SHIP005 on the real Olist subset, judged from the raw CSVs.

Olist records the purchase (``order_purchase_timestamp``), the payment approval
(``order_approved_at``), the carrier handover and the customer delivery, and promises a delivery
date. A handover between the purchase and a late payment approval is a process issue ("shipped
before payment approval", low); only a handover before the purchase itself (beyond a stated clock
tolerance) cannot be true (high). A delivery after the promised date is late delivery (SHIP005).
The expected sets are computed here from the raw files, not from the adapter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import shared_path

TZ = "America/Sao_Paulo"


def _raw() -> pd.DataFrame:
    folder = shared_path("data", "olist-subset")
    return pd.read_csv(
        folder / "olist_orders_dataset.csv",
        parse_dates=[
            "order_purchase_timestamp",
            "order_approved_at",
            "order_delivered_carrier_date",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        ],
    ).set_index("order_id")


@pytest.fixture(scope="module")
def olist(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    import promoguard.api as pg

    raw = _raw()
    path = tmp_path_factory.mktemp("olist") / "olist.duckdb"
    pg.ingest(shared_path("data", "olist-subset"), path, tz=TZ, adapter="olist")
    return path, raw


@pytest.fixture(scope="module")
def ship004(olist) -> pd.DataFrame:
    import promoguard.api as pg

    path, _ = olist
    return pg.scan(path, pack="cn", checks="SHIP004").set_index("entity_id")


def test_the_subset_has_the_cases_the_issue_counts(olist):
    _, raw = olist
    handover, approved = raw.order_delivered_carrier_date, raw.order_approved_at
    assert int((handover < approved - pd.Timedelta(minutes=5)).sum()) == 56
    assert int((handover < raw.order_purchase_timestamp).sum()) == 8


def test_ship004_handover_between_purchase_and_approval_is_low(olist, ship004):
    _, raw = olist
    handover, approved = raw.order_delivered_carrier_date, raw.order_approved_at
    placed = raw.order_purchase_timestamp
    between = raw.index[(handover >= placed) & (handover < approved - pd.Timedelta(minutes=5))]
    assert len(between) == 48
    for order in between:
        row = ship004.loc[order]
        assert row.severity == "low", order
        assert "before payment approval" in json.loads(row.observed)["severity_reason"]


def test_ship004_handover_before_the_purchase_is_high_beyond_a_stated_tolerance(olist, ship004):
    _, raw = olist
    placed, handover = raw.order_purchase_timestamp, raw.order_delivered_carrier_date
    early = raw.index[handover < placed]
    high = set(ship004.index[ship004.severity == "high"])
    for order in early:
        expected = json.loads(ship004.loc[order].expected) if order in ship004.index else {}
        tolerance = pd.Timedelta(minutes=int(expected.get("clock_tolerance_minutes", 0)))
        if handover[order] < placed[order] - tolerance:
            assert order in high, order
        else:
            assert order not in high, order
    assert "clock_tolerance_minutes" in json.loads(ship004.iloc[0].expected)


def test_ship005_late_delivery_against_the_promised_date(olist):
    import promoguard.api as pg

    path, raw = olist
    delivered = raw.order_delivered_customer_date
    promised_day = raw.order_estimated_delivery_date  # a date: delivery on that day is on time
    late = set(raw.index[delivered.notna() & (delivered.dt.normalize() > promised_day)])
    assert len(late) == 274
    found = pg.scan(path, pack="cn", checks="SHIP005")
    assert set(found.entity_id) == late
    row = json.loads(found.iloc[0].expected)
    assert "promised_delivery_by" in row


def test_ship003_says_where_each_deadline_came_from(olist):
    import promoguard.api as pg

    path, _ = olist
    found = pg.scan(path, pack="cn", checks="SHIP003")
    items = pd.read_csv(shared_path("data", "olist-subset", "olist_order_items_dataset.csv"))
    promised = set(items.order_id)
    sources = {r.entity_id: json.loads(r.expected)["deadline_source"] for r in found.itertuples()}
    assert sources
    for order, source in sources.items():
        if order in promised:
            assert source == "promised_dispatch_by", order
        else:
            assert source.startswith("paid_at + "), order
