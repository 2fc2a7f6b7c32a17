"""The Python API returns data frames and agrees with the command line."""

import pandas as pd
import pytest

import promoguard.api as pg


def test_scan_findings_table_and_evaluate_on_the_season(season_dir, season_store_copy):
    found = pg.scan(season_store_copy, pack="cn", checks="PRICE,TEXT001")
    assert isinstance(found, pd.DataFrame) and len(found) > 0
    assert set(found.check_code) <= {f"PRICE00{i}" for i in range(1, 6)} | {"TEXT001"}
    again = pg.findings(season_store_copy)
    assert sorted(again.finding_id) == sorted(found.finding_id)
    scores = pg.evaluate(found, season_dir / "ground_truth.csv").set_index("check_code")
    assert scores.loc["PRICE001", "precision"] >= 0.95
    # a second scan: findings gives the latest one's rows alone, or the scan named
    (first,) = set(found.scan_id)
    text_only = pg.scan(season_store_copy, pack="cn", checks="TEXT001")
    (second,) = set(text_only.scan_id)
    latest = pg.findings(season_store_copy)
    assert set(latest.scan_id) == {second}
    assert sorted(latest.finding_id) == sorted(text_only.finding_id)
    assert latest.attrs["scan"]["scan_id"] == second and latest.attrs["scan"]["partial"]
    assert latest.attrs["chosen_because"] == "latest scan; the store has no complete scan"
    named = pg.findings(season_store_copy, scan_id=first)
    assert set(named.scan_id) == {first}
    assert sorted(named.finding_id) == sorted(found.finding_id)
    assert named.attrs["chosen_because"] == "named"
    assert list(pg.scans(season_store_copy).scan_id) == [second, first]


def test_table_reads_canonical_tables_and_refuses_others(season_store):
    orders = pg.table(season_store, "orders")
    assert {"order_id", "unit_price", "paid_at"} <= set(orders.columns)
    with pytest.raises(KeyError, match="no table 'orders; DROP'"):
        pg.table(season_store, "orders; DROP")


def test_checks_lists_every_spec_code():
    codes = set(pg.checks().code)
    assert {"PRICE001", "SHIP001", "BRUSH001", "REVIEW001", "TEXT001", "LIC001"} <= codes
