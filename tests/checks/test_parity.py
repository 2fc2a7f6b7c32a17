"""Every registered check gives identical findings on DuckDB and Spark on the small season:
finding ids, entities, observed and expected JSON, and evidence hashes. One Spark session."""

from __future__ import annotations

import shutil

import pytest

from promoguard.checks import engine, registry

COLUMNS = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java"),
]


def test_every_check_is_identical_on_duckdb_and_spark(season_store, tmp_path):
    store = tmp_path / "season.duckdb"
    shutil.copy(season_store, store)
    codes = ",".join(c.code for c in registry.all_checks())
    duck = engine.scan(store, "cn", engine="duckdb", checks=_enabled(codes), save=False)
    spark = engine.scan(
        store, "cn", engine="spark", spark_master="local[2]", checks=_enabled(codes), save=False
    )
    assert [r.code for r in duck.runs] == [r.code for r in spark.runs]
    for run in duck.runs:
        a = duck.findings[duck.findings.check_code == run.code]
        b = spark.findings[spark.findings.check_code == run.code]
        a = a.sort_values("finding_id")[COLUMNS].reset_index(drop=True)
        b = b.sort_values("finding_id")[COLUMNS].reset_index(drop=True)
        assert a.equals(b), (
            f"{run.code} differs between DuckDB and Spark:\n{a.compare(b) if a.shape == b.shape else (a.shape, b.shape)}"
        )
    assert len(duck.findings) > 0


def _enabled(codes: str) -> list[str]:
    from promoguard.checks.packs import load_pack

    enabled = set(load_pack("cn").enabled_codes())
    return [c for c in codes.split(",") if c in enabled]
