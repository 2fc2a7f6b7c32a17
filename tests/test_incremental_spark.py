"""``scan --since --engine spark`` gives exactly the findings of a full re-scan, on a DuckDB file
and on a lake (Spark in local mode; the small season cut in two days as in test_incremental).

A few checks, three kinds of scope: merchant-local ones re-checked on the day's merchants on Spark,
PRICE004 on the listings the day's prices reach,
order-scoped ones (SHIP004, SHIP002 with its shared parcels) on the day's orders on Spark; the full re-scan runs on DuckDB (the parity tests
hold DuckDB and Spark identical), so any difference is the increment's.
"""

from __future__ import annotations

import shutil

import pytest
from tests import spark_env
from tests.test_incremental import _split, differences

from promoguard import engine, incremental, lake
from promoguard.ingest import ingest_dir

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CHECKS = "PRICE001,SHIP004,LIC001,SHIP002,PRICE004"
LOCAL = {"PRICE001", "SHIP004", "LIC001", "SHIP002", "PRICE004"}


@pytest.fixture(scope="module")
def days(season_dir, tmp_path_factory):
    pytest.importorskip("pyspark")
    work = tmp_path_factory.mktemp("incremental-spark")
    _split(season_dir, work)
    return work


@pytest.mark.parametrize("kind", ["file", "lake"])
def test_spark_increment_equals_a_full_rescan(days, tmp_path, kind):
    if kind == "file":
        store = tmp_path / "season.duckdb"
        ingest_dir(days / "day1", store)
        engine.scan(store, "cn", checks=CHECKS)
        ingest_dir(days / "day2", store)
        full_store = tmp_path / "full.duckdb"
        shutil.copy(store, full_store)
        full = engine.scan(full_store, "cn", checks=CHECKS, save=False)
    else:
        store = tmp_path / "lake"
        lake.ingest(days / "day1", store)
        lake.scan(store, "cn", checks=CHECKS)
        lake.ingest(days / "day2", store)
        full = lake.scan(store, "cn", checks=CHECKS, save=False)
    inc, info = incremental.scan_since(
        store, "cn", "last", checks=CHECKS, engine="spark", spark_master=spark_env.MASTER
    )
    assert inc.engine == "spark"
    assert set(info["rechecked_local"]) == LOCAL
    assert 0 < info["affected_merchants"] < 120 and info["carried"] > 0
    assert not differences(full, inc), differences(full, inc)
    assert len(full.findings) > 100
