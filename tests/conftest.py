"""Fixtures shared by every test area: the small simulated season, simulated and ingested once."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests import spark_env
from tests.pg import postgres_server  # noqa: F401 - the PostgreSQL fixture, for every test area
from typer.testing import CliRunner

# Every Spark JVM the suite starts, here or in a command line a test runs, takes the test JVM
# options (tests/spark_env.py); a PYSPARK_SUBMIT_ARGS set by the caller is kept.
os.environ.setdefault("PYSPARK_SUBMIT_ARGS", spark_env.submit_args())

#: ../shared beside the repository; PROMOGUARD_SHARED points elsewhere (a worktree kept one level
#: deeper than the clone, where ../shared is not the shared folder)
SHARED = Path(os.environ.get("PROMOGUARD_SHARED") or Path(__file__).resolve().parents[2] / "shared")
SEASON_SEED = 7


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data sets sit beside the project, not in it)")
    return path


def _cli(*args: str) -> dict:
    from promoguard.cli import app

    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, f"promoguard {' '.join(args)} failed: {result.output}"
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def season_dir(tmp_path_factory) -> Path:
    """The `small` Double-11 season (seed 7) with its ground_truth.csv."""
    out = tmp_path_factory.mktemp("season")
    _cli("simulate", "--scale", "small", "--seed", str(SEASON_SEED), "--out", str(out))
    return out


@pytest.fixture(scope="session")
def season_store(season_dir, tmp_path_factory) -> Path:
    """The small season ingested into a DuckDB store (read it; copy it before writing to it)."""
    path = tmp_path_factory.mktemp("store") / "season.duckdb"
    _cli("ingest", str(season_dir), "--store", str(path))
    return path


@pytest.fixture(scope="session")
def season_lake(season_dir, tmp_path_factory) -> Path:
    """The small season ingested into a Parquet lake (read it; copy it before writing to it)."""
    from promoguard import lake

    root = tmp_path_factory.mktemp("lake") / "season"
    root.mkdir()
    lake.ingest(season_dir, root)
    return root


if TYPE_CHECKING:
    from promoguard.engine.run import ScanResult


@dataclass(frozen=True)
class ScannedSeason:
    path: Path  # a copy of the season store holding the scan
    result: ScanResult  # findings, runs, coverage; its findings frame built once


@pytest.fixture(scope="session")
def season_scan(season_store, tmp_path_factory) -> ScannedSeason:
    """The small season scanned once with the full cn pack, saved and sealed in a copy of the
    store (a scan's findings and evidence are the same saved or not).

    One scan per test process serves every test that reads a scanned season or compares with
    the full pack's findings (cases, the report, the commands, the lake, parity): read it; copy
    the store before writing to it, and the findings frame before changing it (every test of the
    process shares both)."""
    from promoguard import engine

    path = tmp_path_factory.mktemp("scanned") / "season.duckdb"
    shutil.copy(season_store, path)
    result = engine.scan(path, "cn")
    assert len(result.findings) > 1000  # the frame built once, here
    return ScannedSeason(path, result)


@pytest.fixture(scope="session")
def season_scanned(season_scan) -> tuple[Path, str]:
    """(store, scan id) of :func:`season_scan`: read it, copy before writing."""
    return season_scan.path, season_scan.result.scan_id


@pytest.fixture
def season_store_copy(season_store, tmp_path) -> Path:
    """A private copy of the season store that a test may write to (findings, cases)."""
    path = tmp_path / "season.duckdb"
    shutil.copy(season_store, path)
    return path


@pytest.fixture
def tiny_store(tmp_path):
    """Make tiny hand-built stores in this test's tmp_path: ``tiny_store({table: rows})`` gives
    the open connection (closed after the test); rows as in ``tests.support.make_store``."""
    from tests.support import make_store

    made = []

    def make(tables=(), name: str = "s.duckdb"):
        con = make_store(tmp_path / name, tables)
        made.append(con)
        return con

    yield make
    for con in made:
        with contextlib.suppress(Exception):  # a test may have closed it already
            con.close()


def java_available() -> bool:
    return shutil.which("java") is not None


@dataclass(frozen=True)
class SparkCluster:
    master: str  # spark://127.0.0.1:PORT
    status_url: str  # the master's JSON status (workers, running and completed applications)

    def status(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.status_url, timeout=5) as r:
            return json.load(r)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, what: str, procs, timeout: float = 120.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a Spark process exited ({dead[0].args[1]}) before {what}")
        if predicate():
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """A Spark standalone cluster on 127.0.0.1: one master, two workers (1 core, 1 GiB each).

    Started from the pyspark package's own ``spark-class`` on free ports; yields a
    :class:`SparkCluster` and stops every process it started when the session ends.
    """
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    if not java_available():
        pytest.skip("Spark needs Java (scripts/setup.sh installs it)")
    pyspark = pytest.importorskip("pyspark")
    home = Path(pyspark.__file__).parent
    spark_class = home / "bin" / "spark-class"
    work = tmp_path_factory.mktemp("spark-cluster")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(work),
        "SPARK_WORKER_DIR": str(work / "work"),
        "PYSPARK_PYTHON": sys.executable,  # executors run our venv's Python, like the driver
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_DAEMON_JAVA_OPTS": spark_env.JAVA_OPTIONS,  # the master's and workers' JVMs
    }
    port, ui = _free_port(), _free_port()
    procs: list[subprocess.Popen] = []

    def start(*args: str, log: str) -> None:
        with open(work / log, "wb") as out:
            procs.append(
                subprocess.Popen(
                    [str(spark_class), *args],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: stopped as one
                )
            )

    def alive_workers() -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as r:
                state = json.load(r)
        except OSError:
            return -1
        return sum(w.get("state") == "ALIVE" for w in state.get("workers", []))

    master = f"spark://127.0.0.1:{port}"
    try:
        start(
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)),
            log="master.log",
        )
        _wait_for(lambda: alive_workers() >= 0, "the master", procs)
        for i in range(2):
            start(
                "org.apache.spark.deploy.worker.Worker",
                master,
                *("--host", "127.0.0.1", "--cores", "1", "--memory", "1g"),
                *("--webui-port", str(_free_port()), "--work-dir", str(work / f"w{i}")),
                log=f"worker{i}.log",
            )
        _wait_for(lambda: alive_workers() == 2, "two workers", procs)
        yield SparkCluster(master, f"http://127.0.0.1:{ui}/json/")
    finally:
        for p in procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def pytest_addoption(parser):
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite the per-rule snapshots (tests/rules/snapshots/) from this run",
    )


def _shares_a_module_fixture(item) -> bool:
    """Whether ``item`` uses a fixture built once per module or class (not per session)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        fixturedef.scope in ("module", "class")
        for name in info.names_closure
        for fixturedef in info.name2fixturedefs.get(name, ())
    )


def _name_the_group(item) -> None:
    """Give ``item`` the id ``<nodeid>@<group>`` that xdist's scheduler groups by.

    pytest-xdist 3.8 does it by setting ``item._nodeid``, which pytest 9 no longer reads (an
    item's id is ``item._id``): its groups were silently ignored and every test was scheduled
    alone, the Spark tests on both workers at once (a JVM each, and a cluster each). A later
    xdist that names the group itself finds it named already and adds it once more, which the
    scheduler reads the same (the group is what follows the last ``@``)."""
    marks = list(item.iter_markers("xdist_group"))
    if not marks or "@" in item.nodeid.rsplit("]", 1)[-1]:
        return
    from _pytest.nodeid import coerce_node_id

    names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks})
    item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: a run without it must still load
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` with the Spark group sent first: it is the longest unit of work, and
    a worker takes a group whole. (xdist orders groups by their number of tests: another group
    with more tests than the Spark group would go first.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SparkFirst(LoadGroupScheduling):
        def _assign_work_unit(self, node):
            if "spark" in self.workqueue:
                self.workqueue.move_to_end("spark", last=False)
            super()._assign_work_unit(node)

    return SparkFirst(config, log)


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the groups (see below)
def pytest_collection_modifyitems(config, items):
    """Tests marked ``spark`` need Java: the one place that skips them when it is absent.

    Under pytest-xdist (``-n 2 --dist loadgroup``, as scripts/test.sh runs the suite) every Spark
    test goes to one worker: one JVM at a time (each takes gigabytes and every core it is given),
    and the session's Spark fixtures (the local session, the standalone cluster) start once.

    The tests of a module that share a module- or class-scoped fixture (test_incremental's
    two-day season, a report's scan) go to one worker too, as one group: each worker that runs
    one of them builds the fixture again (about a minute of the two workers' time in all)."""
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif item.get_closest_marker("xdist_group") is None and _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    if getattr(config.option, "loadgroup", False):  # (xdist's workers under --dist loadgroup)
        for item in items:
            _name_the_group(item)
    if java_available():
        return
    skip = pytest.mark.skip(reason="Spark needs Java (scripts/setup.sh installs it)")
    for item in items:
        if "spark" in item.keywords:
            item.add_marker(skip)
