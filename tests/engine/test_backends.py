"""The backend adapter: what DuckDB and Spark do differently is done one way on both."""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import ibis
import pyarrow as pa
import pytest
from tests import spark_env

from promoguard.engine import backends

UTC = dt.UTC
#: two instants 60.2 s apart whose fractions sit on either side of half a second
A = dt.datetime(2026, 11, 11, 0, 0, 0, 400_000, tzinfo=UTC)
B = dt.datetime(2026, 11, 11, 0, 1, 0, 600_000, tzinfo=UTC)
ROWS = pa.table({"id": ["a", "b", "edge"], "at": pa.array([A, B, B.replace(microsecond=999_999)])})


def _within_a_minute(backend) -> dict[str, object]:
    """Whole epoch seconds of each row, and whether B comes within 60 whole seconds of A."""
    t = backends.register_arrow(backend, "_stamps", ROWS)
    try:
        secs = t.select("id", s=backends.epoch_seconds(t.at))
        naive = t.select("id", s=t.at.epoch_seconds().cast("int64"))
        got = {r["id"]: r["s"] for r in backend.to_pyarrow(secs).to_pylist()}
        raw = {r["id"]: r["s"] for r in backend.to_pyarrow(naive).to_pylist()}
    finally:
        backends.unregister(backend, "_stamps")
    return {"seconds": got, "within": got["b"] - got["a"] <= 60, "naive": raw}


def test_epoch_seconds_floor_sub_second_timestamps_on_duckdb():
    backend = ibis.duckdb.from_connection(duckdb.connect())
    out = _within_a_minute(backend)
    a = int(A.timestamp() // 1)
    assert out["seconds"] == {"a": a, "b": a + 60, "edge": a + 60}
    assert out["within"]
    # the cast this replaces rounds on DuckDB: B becomes a + 61 and falls outside the minute
    assert out["naive"]["b"] - out["naive"]["a"] == 61


def test_epoch_seconds_on_duckdb_are_the_instant_in_any_session_time_zone():
    # DuckDB reads the instant itself (no conversion to the session's local time, which Ibis's
    # epoch_seconds() does and which only UTC leaves unchanged), floored also before 1970
    con = duckdb.connect()
    backend = ibis.duckdb.from_connection(con)
    before_1970 = dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    rows = pa.table({"id": ["a", "old"], "at": pa.array([A, before_1970])})
    t = backends.register_arrow(backend, "_zoned", rows)
    try:
        for zone in ("UTC", "Asia/Shanghai", "America/Sao_Paulo"):
            con.execute(f"SET TimeZone = '{zone}'")
            got = backend.to_pyarrow(t.select("id", s=backends.epoch_seconds(t.at))).to_pylist()
            assert {r["id"]: r["s"] for r in got} == {"a": int(A.timestamp() // 1), "old": -1}
    finally:
        backends.unregister(backend, "_zoned")


@pytest.mark.spark
@pytest.mark.slow
def test_epoch_seconds_are_the_same_on_spark_at_a_threshold():
    from promoguard.engine.backends import spark_session

    spark = ibis.pyspark.connect(spark_session(spark_env.MASTER))
    duck = ibis.duckdb.from_connection(duckdb.connect())
    on_spark, on_duckdb = _within_a_minute(spark), _within_a_minute(duck)
    assert on_spark["seconds"] == on_duckdb["seconds"]
    assert on_spark["within"] and on_duckdb["within"]
    # without the adapter the engines disagree about the threshold
    assert on_spark["naive"] != on_duckdb["naive"]


def test_scratch_tables_are_dropped_when_the_computation_ends():
    backend = ibis.duckdb.from_connection(duckdb.connect())
    with backends.Scratch(backend, "_t") as scratch:
        kept = scratch.keep(ibis.memtable({"x": [1, 2, 3]}))
        assert scratch.to_arrow(kept.count().as_table()).column(0)[0].as_py() == 3
    left = backend.con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert not [t for (t,) in left if t.startswith("_t_")]


def _one_text_season(tmp_path):
    """A season folder of one shop and one ad that TEXT001 flags (an absolute term)."""
    season = tmp_path / "season"
    season.mkdir()
    (season / "platforms.csv").write_text("platform_id,name\nP1,Tmall\n")
    (season / "merchants.csv").write_text("merchant_id,platform_id,name\nM1,P1,Shop\n")
    (season / "texts.csv").write_text(
        "text_id,kind,merchant_id,listing_id,created_at,lang,content\n"
        "T1,ad,M1,,2026-11-11T00:00:00Z,zh,全网最低价\n"
    )
    return season


@pytest.mark.spark
@pytest.mark.slow
def test_a_scan_runs_on_the_master_it_names_and_none_keeps_the_running_one(tmp_path, capfd):
    """A scan of a DuckDB file from the Python API used to run on whatever session this process
    had (a notebook's local one for a scan asked to run on a cluster), and a lake scan that named
    no master stopped that session for local[*]. A master named is the one a scan runs on;
    ``spark_master=None`` (the default) keeps the session running."""
    from pyspark import SparkContext

    import promoguard.api as pg
    from promoguard import lake
    from promoguard.engine.backends import spark_session
    from promoguard.ingest import ingest_dir

    season = _one_text_season(tmp_path)
    store = tmp_path / "s.duckdb"
    ingest_dir(season, store)
    root = tmp_path / "lake"
    lake.ingest(season, root)
    spark_session(spark_env.MASTER)  # the session this process has (the suite's; a notebook's)
    other = "local[2]" if spark_env.MASTER != "local[2]" else "local[1]"
    capfd.readouterr()
    try:
        # through the documented Python API, which scans a DuckDB file with engine.scan
        named = pg.scan(store, engine="spark", checks="TEXT001", spark_master=other)
        assert SparkContext._active_spark_context.master == other
        said = capfd.readouterr().err
        assert f"stopping this process's session on {spark_env.MASTER} to scan on {other}" in said
        kept = lake.scan(root, "cn", engine="spark", checks="TEXT001", save=False)
        assert SparkContext._active_spark_context.master == other
        assert "stopping" not in capfd.readouterr().err
        assert len(named) == len(kept.findings) == 1
    finally:
        spark_session(spark_env.MASTER)  # the suite's session again, for the tests after


@pytest.mark.spark
@pytest.mark.slow
def test_what_the_driver_jvm_prints_stays_out_of_scan_json(tmp_path):
    """HotSpot writes its own messages on the JVM's stdout ("CodeCache is full. Compiler has
    been disabled." broke a CI run's cluster scan). A driver JVM started by `scan --json` is
    made to print one at start-up here (its GC log on its stdout): stdout is still one JSON
    object, and the message is on stderr."""
    import json
    import shlex
    import subprocess
    import sys

    season = _one_text_season(tmp_path)
    store = tmp_path / "s.duckdb"
    cli = [sys.executable, "-m", "promoguard"]
    ingest = subprocess.run([*cli, "ingest", str(season), "--store", str(store)], timeout=300)
    assert ingest.returncode == 0
    # the caller's settings and the suite's JVM options, the GC log besides
    given = os.environ.get("PYSPARK_SUBMIT_ARGS", spark_env.submit_args())
    options = f"spark.driver.extraJavaOptions={spark_env.JAVA_OPTIONS} -Xlog:gc:stdout"
    submit = (
        f"{given.strip().removesuffix('pyspark-shell')} --conf {shlex.quote(options)} pyspark-shell"
    )
    env = {**os.environ, "PYSPARK_SUBMIT_ARGS": submit}
    args = ["scan", "--store", str(store), "--pack", "cn", "--checks", "TEXT001", "--json"]
    args += ["--engine", "spark", "--spark-master", spark_env.MASTER]
    run = subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["engine"] == "spark" and summary["by_check"] == {"TEXT001": 1}
    assert "[info][gc] Using" in run.stderr  # the JVM did print, and it went to stderr
