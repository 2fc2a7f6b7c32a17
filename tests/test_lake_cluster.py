"""The full pack on a lake, run by a Spark standalone cluster (a master and two workers on
127.0.0.1) from a driver with little memory, gives exactly DuckDB's findings; the checks computed
in Python bring only their findings to the driver.

One cluster serves the session (``spark_cluster``). The lake is the small season shrunk to a third
(the same checks fire, in a third of the rows) plus reviews of unique text that make the reviews
table larger than the driver may receive (``spark.driver.maxResultSize``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests import spark_env

from promoguard import lake

COLUMNS = ["finding_id", "entity_id", "observed", "expected", "evidence_sha256"]
#: reviews added to the lake: ~5 MB of text (40 CJK characters each), more than RESULT_LIMIT lets
#: through; no more than that, for the review and text checks' time on the cluster grows with them
PADDING_REVIEWS = 40_000
RESULT_LIMIT = "4m"

pytestmark = [pytest.mark.spark, pytest.mark.cluster, pytest.mark.slow]


def _padding(listings: list[str], n: int) -> str:
    """``n`` reviews of 40 random CJK characters each (no two alike, no lexicon word likely), three
    by each buyer (the review checks group by buyer): CSV lines in the season's reviews.csv shape."""
    rng = np.random.default_rng(16)
    codes = rng.integers(0x4E00, 0x9FA5, size=(n, 40), dtype=np.uint32)
    texts = np.frombuffer(codes.astype("<u4").tobytes(), dtype="<U40")
    lines = []
    for i, text in enumerate(texts):
        listing = listings[i % len(listings)]
        day = 1 + i % 28
        lines.append(
            f'"RZ{i:09d}","{listing}","BZ{i % (n // 3):07d}",,4,'
            f'"2026-10-{day:02d}T{i % 24:02d}:00:00Z","{text}"'
        )
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def cluster_lake(tmp_path_factory) -> Path:
    from promoguard.simulate import generate

    folder = tmp_path_factory.mktemp("cluster-season")
    season = folder / "season"
    generate("small", 7, season, shrink=0.35)
    listings = [
        line.split(",", 1)[0].strip('"')
        for line in (season / "listings.csv").read_text(encoding="utf-8").splitlines()[1:]
    ]
    with open(season / "reviews.csv", "a", encoding="utf-8") as out:
        out.write(_padding(listings, PADDING_REVIEWS))
    root = folder / "lake"
    root.mkdir()
    lake.ingest(season, root)
    return root


def _env(max_result: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PROMOGUARD_SPARK_DRIVER_MEMORY": "512m",
        "PROMOGUARD_SPARK_EXECUTOR_MEMORY": "768m",
        "PROMOGUARD_SPARK_SHUFFLE_PARTITIONS": "2",  # one per worker core
        "PYSPARK_PYTHON": sys.executable,
    }
    if max_result:
        # what reaches the driver: results, and relations Spark broadcasts for a join (at most
        # autoBroadcastJoinThreshold each, whatever the data's size; 1 MiB keeps them in the limit)
        # (with the test JVM options of the driver and the executors, as every test's Spark)
        env["PYSPARK_SUBMIT_ARGS"] = spark_env.submit_args(
            f"spark.driver.maxResultSize={max_result}", "spark.sql.autoBroadcastJoinThreshold=1m"
        )
    return env


def _on_cluster(cluster, script: str, *args: str, max_result: str | None = None) -> dict:
    """Run ``script`` in its own Python process: its driver JVM really starts with 512 MiB (this
    process's JVM, if any, keeps its own settings)."""
    run = subprocess.run(
        [sys.executable, "-c", script, cluster.master, *args],
        env=_env(max_result),
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


PROBE = """
import json, sys
from promoguard.engine.backends import spark_session
from promoguard.lake import files_of
try:
    spark_session(sys.argv[1]).read.parquet(*files_of(sys.argv[2], "reviews")).toArrow()
    print(json.dumps({"refused": ""}))
except Exception as exc:
    print(json.dumps({"refused": str(exc)[:2000]}))
"""


def test_full_pack_on_a_standalone_cluster_matches_duckdb(spark_cluster, cluster_lake, tmp_path):
    """The whole cn pack from a driver of 512 MiB that may receive at most 4 MiB per job, on a
    lake whose reviews alone are more than that: the checks computed in Python (text engine,
    MinHash, review scores, the FRAUDAR peel) bring only their findings to the driver."""
    root = tmp_path / "lake"
    shutil.copytree(cluster_lake, root)
    # the command line, in its own process: its driver JVM really starts with these settings
    args = ["scan", "--store", str(root), "--pack", "cn", "--engine", "spark"]
    args += ["--spark-master", spark_cluster.master, "--json"]
    run = subprocess.run(
        [sys.executable, "-m", "promoguard", *args],
        env=_env(RESULT_LIMIT),
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["engine"] == "spark"
    assert len(summary["by_check"]) >= 30  # the whole cn pack ran
    # the application ran on the cluster's executors, not in local mode
    apps = spark_cluster.status()
    names = [a["name"] for a in apps.get("completedapps", []) + apps.get("activeapps", [])]
    assert "promoguard" in names

    con = lake.connect(root)
    got = con.execute("SELECT * FROM findings WHERE scan_id = ?", [summary["scan_id"]]).df()
    got = got.sort_values("finding_id")[COLUMNS].to_dict("records")
    duck = lake.scan(root, "cn", save=False)
    want = duck.findings.sort_values("finding_id")[COLUMNS].to_dict("records")
    assert len(want) > 300
    assert got == want, (len(got), len(want))
    assert summary["coverage"] == json.loads(json.dumps(duck.coverage))


def test_a_driver_so_limited_cannot_collect_the_reviews(spark_cluster, cluster_lake):
    """The control: with the same limit, collecting the reviews table is refused; so the scan
    above cannot have collected it."""
    got = _on_cluster(spark_cluster, PROBE, str(cluster_lake), max_result=RESULT_LIMIT)
    assert "maxResultSize" in got["refused"], got["refused"][:300]
