"""What tests of rules share: one way to build a tiny store and one way to run rules on it.

- ``make_store(path, tables)`` makes a real DuckDB store from rows given per canonical table
  (the ``tiny_store`` fixture in tests/conftest.py does it in the test's tmp_path and closes the
  store after the test); ``write_rows`` adds rows to a store already open.
- ``listing(...)`` is a listings row, the one row nearly every tiny store needs.
- ``run_check(con, codes, pack, overrides)`` runs rules on a store connection the way a scan
  does (the pack must enable them), on DuckDB or on Spark.

``load_benchmark(script, name)`` imports a script of benchmarks/ (not a package) for a test.
``StoreHolder(path)`` is another process holding a DuckDB store open (its lock is real).

Import them as ``from tests.support import make_store, run_check``. Helpers that read findings
take a ScanResult; none of them runs rules.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, closing, nullcontext
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from tests import spark_env

from promoguard import store
from promoguard.engine.backends import duckdb_tables, spark_tables
from promoguard.engine.base import Tables
from promoguard.engine.packs import Pack, ParameterSetting, load_pack
from promoguard.engine.run import ScanResult, choose_checks, run_checks

#: the detection time every test finding carries (ids do not depend on it)
DETECTED_AT = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)

Rows = Iterable[Mapping[str, Any]] | pd.DataFrame

#: the project's benchmarks/ folder: scripts, not a package
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(script: str, name: str) -> Any:
    """``benchmarks/<script>`` imported as a module, registered in ``sys.modules`` as ``name``
    (once: a second load gets the first's entry, so classes and dataclasses resolve)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / script)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


class StoreHolder:
    """Another process that holds the DuckDB file ``path`` open (read-write, or ``read_only``:
    then others may read it too, but none write), as an analyst's ``duckdb`` shell does, until
    :meth:`release` (or the end of a ``with``). ``pid`` is its process id, which DuckDB's lock
    error names."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import duckdb,sys; c=duckdb.connect({str(path)!r}, read_only={read_only}); "
                "print('ok', flush=True); sys.stdin.read()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = self._proc.pid
        if self._proc.stdout.readline().strip() != "ok":  # type: ignore[union-attr]
            self.release()
            raise RuntimeError(f"the holder could not open {path}")

    def release(self) -> None:
        """Let go of the store: the process ends (and with it its lock)."""
        if self._proc.poll() is None:
            self._proc.stdin.close()  # type: ignore[union-attr]
            self._proc.wait(timeout=30)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> StoreHolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def write_rows(con: duckdb.DuckDBPyConnection, tables: Mapping[str, Rows]) -> None:
    """Insert rows into canonical tables, in the order given (referenced tables first).

    Rows go in by column name, so a column added to the model later leaves every test's rows
    valid, and a column a row does not give is NULL. Values keep their Python types (Decimal,
    aware datetime) through Arrow, so money and instants arrive exact.
    """
    for name, rows in tables.items():
        if isinstance(rows, pd.DataFrame):
            data: Any = rows
        else:
            rows = list(rows)
            keys = list(dict.fromkeys(k for r in rows for k in r))
            data = pa.table({k: [r.get(k) for r in rows] for k in keys})
        if len(data) == 0:
            continue
        con.register("_tiny_rows", data)
        try:
            con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM _tiny_rows')
        finally:
            con.unregister("_tiny_rows")


def listing(
    listing_id: str,
    merchant_id: str,
    platform_id: str,
    category: str = "food",
    title: str = "t",
    **more: Any,
) -> dict[str, Any]:
    """A listings row (currency CNY unless ``more`` says otherwise)."""
    return {
        "listing_id": listing_id,
        "merchant_id": merchant_id,
        "platform_id": platform_id,
        "title": title,
        "category": category,
        "currency": "CNY",
        **more,
    }


def make_store(path: Path | str, tables: Mapping[str, Rows] = ()) -> duckdb.DuckDBPyConnection:
    """A new store at ``path`` (``":memory:"`` for one that lives with the connection) holding
    ``tables`` ({table: rows}); the open connection."""
    con = store.connect(path)
    write_rows(con, dict(tables))
    return con


def _tables(
    con: duckdb.DuckDBPyConnection, engine: str, spark_master: str
) -> AbstractContextManager[Tables]:
    if engine == "duckdb":
        return duckdb_tables(con)
    if engine == "spark":
        return spark_tables(con, spark_master)
    raise ValueError(f"unknown engine {engine!r}")


def run_check(
    source: duckdb.DuckDBPyConnection | Path,
    codes: str | Sequence[str] | None,
    pack: str | Path | Pack = "cn",
    overrides: dict[str, dict[str, Any]] | None = None,
    *,
    engine: str = "duckdb",
    spark_master: str = spark_env.MASTER,
    detected_at: dt.datetime = DETECTED_AT,
) -> ScanResult:
    """Run the rules named by ``codes`` (``"SHIP001"``, ``"BRUSH"``, ``"SHIP001,LIC001"``, a list,
    or None for every rule the pack enables) of a pack on a store: an open connection, or a path
    opened read-only for the run. ``overrides`` sets parameters:
    ``{"SHIP001": {"pickup_within_hours": 2}}``. A rule the pack does not enable is refused, as
    ``scan --checks`` refuses it."""
    the_pack = load_pack(pack) if not isinstance(pack, Pack) else pack
    for code, values in (overrides or {}).items():
        rule = the_pack.rules[code]
        for name, value in values.items():
            rule.parameters[name] = ParameterSetting(value)
    checks = choose_checks(
        the_pack, codes if codes is None or isinstance(codes, str) else list(codes)
    )
    opened = (
        nullcontext(source)
        if isinstance(source, duckdb.DuckDBPyConnection)
        else closing(store.connect(source, read_only=True))
    )
    with opened as con, _tables(con, engine, spark_master) as tables:
        return run_checks(
            tables,
            checks,
            the_pack,
            engine=engine,
            scan_id="t",
            detected_at=detected_at,
        )
