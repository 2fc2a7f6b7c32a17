"""The Olist adapter on the real subset in ../shared, and what the checks find there."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import SHARED
from tests.support import run_check
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.ingest.adapters.olist import convert_frames

SUBSET = SHARED / "data" / "olist-subset"
pytestmark = pytest.mark.skipif(
    not SUBSET.is_dir(), reason=f"{SUBSET} is absent (shared data sits beside the project)"
)


def _raw_orders() -> pd.DataFrame:
    return pd.read_csv(
        SUBSET / "olist_orders_dataset.csv",
        parse_dates=["order_approved_at", "order_delivered_carrier_date"],
    )


@pytest.fixture(scope="module")
def olist_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("olist") / "olist.duckdb"
    result = CliRunner().invoke(
        app,
        ["ingest", "--adapter", "olist", str(SUBSET), "--store", str(path)]
        + ["--tz", "America/Sao_Paulo", "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    raw = _raw_orders()
    orders = summary["tables"]["orders"]
    assert orders["read"] == len(raw)
    # never paid (no approval) -> quarantined with a reason, not dropped
    assert orders["quarantined"] == int(raw.order_approved_at.isna().sum()) > 0
    return path


def test_mapping_keeps_every_order_and_maps_handover_and_delivery():
    frames = convert_frames(SUBSET)
    raw = _raw_orders()
    o = frames["orders"].set_index("order_id")
    assert len(o) == len(raw)
    items = pd.read_csv(SUBSET / "olist_order_items_dataset.csv", dtype=str)
    with_items = set(items.order_id) & set(raw.order_id)
    orphans = o[o.listing_id == "unknown"]
    assert len(orphans) == len(raw) - len(with_items)
    assert (orphans.merchant_id == "unknown").all()
    # every order with items, not one: the first order by id has a single item, and an order of
    # one item cannot tell its first item from any other (some orders here have two sellers)
    items = items[items.order_id.isin(with_items)]
    by_order = items.groupby("order_id")
    assert (by_order.seller_id.nunique() > 1).any()
    first = items[pd.to_numeric(items.order_item_id) == 1].set_index("order_id")
    assert len(first) == len(with_items)
    assert (o.loc[first.index, "merchant_id"] == first.seller_id).all()
    # (no order of this subset has two shipping limits: the earliest is not told from the latest)
    earliest = by_order.shipping_limit_date.min()
    assert (o.loc[earliest.index, "promised_dispatch_by"] == earliest).all()
    ev = frames["tracking_events"]
    assert (ev.event_type == "pickup").sum() == raw.order_delivered_carrier_date.notna().sum()
    assert set(o.status) <= {"paid", "shipped", "delivered", "cancelled"}
    assert frames["orders"].declared_shipped_at.isna().all()


def test_ship004_finds_exactly_the_handovers_before_payment_approval(olist_store):
    raw = _raw_orders().dropna(subset=["order_approved_at", "order_delivered_carrier_date"])
    tolerance = pd.Timedelta(minutes=5)  # the cn pack's payment_tolerance_minutes
    early = raw.order_delivered_carrier_date < raw.order_approved_at - tolerance
    expected = set(raw.order_id[early])
    assert len(expected) == 56  # the subset's own figure (58 without the 5-minute tolerance)
    result = run_check(olist_store, "SHIP004")
    f = result.findings
    assert set(f.entity_id) == expected
    # with the purchase time known, the reasons say which: before the order (high) or between it
    # and the payment approval (low, "shipped before payment approval")
    reasons = {json.loads(o)["reasons"] for o in f.observed}
    assert reasons <= {"scan_before_placement", "shipped_before_payment_approval"}
    assert set(f.severity) == {"high", "low"}


def test_ship003_against_the_recorded_shipping_limit(olist_store):
    items = pd.read_csv(
        SUBSET / "olist_order_items_dataset.csv", parse_dates=["shipping_limit_date"]
    )
    raw = _raw_orders().dropna(subset=["order_approved_at"])
    limit = items.groupby("order_id").shipping_limit_date.min()
    raw = raw.assign(limit=raw.order_id.map(limit)).dropna(subset=["limit"])
    late = raw.order_delivered_carrier_date > raw["limit"]
    never = raw.order_delivered_carrier_date.isna() & ~raw.order_status.isin(
        ["canceled", "unavailable"]
    )
    expected = set(raw.order_id[late | never])
    result = run_check(olist_store, "SHIP003")
    f = result.findings
    promised = f[f.expected.str.contains('"deadline_source":"promised_dispatch_by"')]
    assert set(promised.entity_id) == expected
    assert len(expected) > 0


def test_parcel001_does_not_flag_a_source_without_weights(olist_store):
    result = run_check(olist_store, "PARCEL001,SHIP001,SHIP002")
    # no weights, no declared shipments, no real tracking numbers: nothing to judge, nothing found
    assert result.findings.empty


def test_the_estimated_delivery_date_lands_in_promised_delivery_by(olist_store):
    import duckdb

    raw = pd.read_csv(SUBSET / "olist_orders_dataset.csv", dtype=str, keep_default_na=False)
    paid = raw[raw.order_approved_at.str.strip() != ""]
    with duckdb.connect(str(olist_store), read_only=True) as con:
        stored, late = con.execute(
            "SELECT count(promised_delivery_by), "
            "count(*) FILTER (WHERE status = 'delivered' AND "
            "CAST(timezone('America/Sao_Paulo', e.event_at) AS DATE) > "
            "CAST(timezone('America/Sao_Paulo', o.promised_delivery_by) AS DATE)) "
            "FROM orders o LEFT JOIN tracking_events e "
            "ON e.tracking_no = o.order_id AND e.event_type = 'delivered'"
        ).fetchone()
    assert stored == int((paid.order_estimated_delivery_date.str.strip() != "").sum())
    delivered = raw[
        (raw.order_status == "delivered") & (raw.order_delivered_customer_date.str.strip() != "")
    ]
    expected_late = int(
        (
            pd.to_datetime(delivered.order_delivered_customer_date).dt.date
            > pd.to_datetime(delivered.order_estimated_delivery_date).dt.date
        ).sum()
    )
    assert late == expected_late > 0


def test_purchase_time_lands_in_placed_at_and_the_promise_ends_with_its_day():
    frames = convert_frames(SUBSET)
    raw = pd.read_csv(SUBSET / "olist_orders_dataset.csv", dtype=str, keep_default_na=False)
    o = frames["orders"].set_index("order_id")
    r = raw.set_index("order_id")
    assert (o.placed_at == r.order_purchase_timestamp.reindex(o.index)).all()
    promised = o.promised_delivery_by.dropna()
    assert promised.str.endswith(" 23:59:59").all()
    assert (
        promised.str[:10] == r.order_estimated_delivery_date.reindex(promised.index).str[:10]
    ).all()
