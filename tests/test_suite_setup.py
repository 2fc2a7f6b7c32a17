"""How the suite itself runs: scripts/test.sh runs it on two pytest-xdist workers, every Spark
test in one group (tests/conftest.py); without the plugin it must still collect."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests import spark_env

ROOT = Path(__file__).resolve().parents[1]


def test_spark_tests_collect_without_the_xdist_plugin():
    """The xdist_group marker the Spark tests get is declared in pyproject.toml: under
    --strict-markers a run with -p no:xdist (or a venv made before pytest-xdist was a test
    dependency) would otherwise stop at collection with an INTERNALERROR (review 11)."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:xdist"]
        + ["-p", "no:cacheprovider", "tests/engine/test_backends.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-600:] + run.stderr[-600:]
    assert "test_backends.py::" in run.stdout


def test_the_spark_tests_are_one_group_under_xdist():
    """Under ``-n 2 --dist loadgroup`` (scripts/test.sh) a Spark test's id carries its group, which
    is what xdist's scheduler reads: with pytest 9, xdist 3.8's own renaming is lost, and every
    Spark test was scheduled alone, on both workers at once. (``--setup-plan``: no test runs.)"""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "--setup-plan", "-v"]
        + ["-p", "no:cacheprovider", "tests/engine/test_backends.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode in (0, 5), run.stdout[-600:] + run.stderr[-600:]  # 5: none ran
    assert "scheduling tests via SparkFirst" in run.stdout, run.stdout[-600:]
    assert "test_epoch_seconds_are_the_same_on_spark_at_a_threshold@spark" in run.stdout
    # a test in no group keeps its id
    assert "test_epoch_seconds_floor_sub_second_timestamps_on_duckdb" in run.stdout
    assert "test_epoch_seconds_floor_sub_second_timestamps_on_duckdb@" not in run.stdout


@pytest.mark.spark
def test_the_spark_jvm_runs_with_the_test_options():
    """The driver JVM the Spark tests share started with tests/spark_env.py's options: a
    PYSPARK_SUBMIT_ARGS that Spark stopped honouring would otherwise go unnoticed, and the Spark
    tests would take their third more CPU again beside the other worker."""
    if os.environ.get("PYSPARK_SUBMIT_ARGS") != spark_env.submit_args():
        pytest.skip("PYSPARK_SUBMIT_ARGS was set by the caller")
    from promoguard.engine.backends import spark_session

    jvm = spark_session(spark_env.MASTER).sparkContext._jvm
    arguments = list(
        jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    )
    for option in spark_env.JAVA_OPTIONS.split():
        assert option in arguments, arguments
