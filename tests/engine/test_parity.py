"""Every registered check gives identical findings on DuckDB and Spark on the small season:
finding ids, entities, observed and expected JSON, and evidence hashes. One Spark session."""

from __future__ import annotations

import shutil

import pytest
from tests import spark_env

from promoguard import engine
from promoguard.engine.packs import load_pack

COLUMNS = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
]


def test_every_check_is_identical_on_duckdb_and_spark(season_store, season_scan, tmp_path):
    store = tmp_path / "season.duckdb"
    shutil.copy(season_store, store)
    codes = load_pack("cn").enabled_codes()  # every registered check the pack runs
    duck = season_scan.result  # the same season's cn scan on DuckDB
    spark = engine.scan(store, "cn", engine="spark", spark_master=spark_env.MASTER, save=False)
    assert [r.code for r in duck.runs] == [r.code for r in spark.runs]
    assert {r.code for r in duck.runs} <= set(codes)
    differences = []
    for run in duck.runs:
        a = duck.findings[duck.findings.check_code == run.code]
        b = spark.findings[spark.findings.check_code == run.code]
        a = a.sort_values("finding_id")[COLUMNS].reset_index(drop=True)
        b = b.sort_values("finding_id")[COLUMNS].reset_index(drop=True)
        if not a.equals(b):
            differences.append(_describe(run.code, a, b))
    assert not differences, "DuckDB and Spark disagree:\n" + "\n".join(differences)
    assert len(duck.findings) > 0


def _describe(code: str, a, b) -> str:
    m = a.merge(b, on="finding_id", how="outer", suffixes=("_duckdb", "_spark"), indicator=True)
    m = m.rename(columns={"_merge": "side"})
    only = m[m.side != "both"]
    both = m[m.side == "both"]
    changed = both[
        (both.observed_duckdb != both.observed_spark)
        | (both.expected_duckdb != both.expected_spark)
        | (both.evidence_sha256_duckdb != both.evidence_sha256_spark)
    ]
    lines = [
        f"{code}: {len(a)} vs {len(b)} findings, {len(only)} on one engine only, "
        f"{len(changed)} with other observed/expected/evidence"
    ]
    for r in changed.head(3).itertuples():
        lines.append(
            f"  {r.entity_id_duckdb}: observed {r.observed_duckdb} vs {r.observed_spark}; "
            f"expected {r.expected_duckdb} vs {r.expected_spark}"
        )
    for r in only.head(3).itertuples():
        lines.append(f"  {r.finding_id} only on {'DuckDB' if r.side == 'left_only' else 'Spark'}")
    return "\n".join(lines)
