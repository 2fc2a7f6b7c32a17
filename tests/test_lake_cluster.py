"""The full pack on a lake, run by a Spark standalone cluster (a master and two workers on
127.0.0.1) from a driver with little memory, gives exactly DuckDB's findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from promoguard import engine, lake

COLUMNS = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]

pytestmark = [pytest.mark.spark, pytest.mark.cluster, pytest.mark.slow]


def test_full_pack_on_a_standalone_cluster_matches_duckdb(
    spark_cluster, season_lake, season_store_copy, tmp_path
):
    root = tmp_path / "lake"
    shutil.copytree(season_lake, root)
    env = {
        **os.environ,
        "PROMOGUARD_SPARK_DRIVER_MEMORY": "1g",
        "PROMOGUARD_SPARK_EXECUTOR_MEMORY": "768m",
        "PYSPARK_PYTHON": sys.executable,
    }
    # its own process, so the driver JVM really starts with 1 GiB (not this process's JVM)
    args = ["scan", "--store", str(root), "--pack", "cn", "--engine", "spark"]
    args += ["--spark-master", spark_cluster.master, "--json"]
    run = subprocess.run(
        [sys.executable, "-m", "promoguard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["engine"] == "spark"
    # the application ran on the cluster's executors, not in local mode
    apps = spark_cluster.status()
    names = [a["name"] for a in apps.get("completedapps", []) + apps.get("activeapps", [])]
    assert "promoguard" in names

    duck = engine.scan(season_store_copy, "cn", save=False)
    con = lake.connect(root)
    got = con.execute("SELECT * FROM findings WHERE scan_id = ?", [summary["scan_id"]]).df()
    a = duck.findings.sort_values("finding_id")[COLUMNS].reset_index(drop=True)
    b = got.sort_values("finding_id")[COLUMNS].reset_index(drop=True)
    assert len(a) > 1000
    assert a.equals(b), (len(a), len(b))
