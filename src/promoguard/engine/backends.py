"""The one place that knows how DuckDB and Spark differ: everything a check or an algorithm needs
from an engine beyond portable Ibis goes through here.

- :func:`duckdb_tables` / :func:`spark_tables`: a scan's canonical tables on each engine;
- :func:`register_arrow` / :func:`unregister`: put Arrow rows into the engine under a name, and drop them;
- :func:`materialise` / :func:`drop_temporaries`: keep a relation's rows for the rest of a scan;
- :class:`Scratch`: named intermediate tables of one computation (graph passes), on both engines;
- :func:`epoch_seconds`: whole epoch seconds of a timestamp, the same on both engines.

No other module touches a backend's private attributes.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import pyarrow as pa

from promoguard.engine.base import Tables
from promoguard.errors import CheckError
from promoguard.model import TABLE_NAMES
from promoguard.sqlbuild import literal, sql

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir


@contextmanager
def duckdb_tables(con: duckdb.DuckDBPyConnection) -> Iterator[Tables]:
    backend = ibis.duckdb.from_connection(con)
    yield Tables(backend)


def _spark_session(master: str):
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("promoguard")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # stderr stays for our own progress bar
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.ansi.enabled", "false")
        # 2g ran out building broadcast tables at 10M observations; the env var overrides
        .config("spark.driver.memory", os.environ.get("PROMOGUARD_SPARK_DRIVER_MEMORY", "4g"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def spark_tables(con: duckdb.DuckDBPyConnection, master: str = "local[*]") -> Iterator[Tables]:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise CheckError("--engine spark needs pyspark: pip install 'promoguard[spark]'") from None
    spark = _spark_session(master)
    with tempfile.TemporaryDirectory(prefix="promoguard-spark-") as tmp:
        for name in TABLE_NAMES:
            path = Path(tmp) / f"{name}.parquet"
            # Parquet carries UTC-adjusted instants and exact decimals into Spark unchanged.
            con.execute(sql("COPY {t} TO {path} (FORMAT parquet)", t=name, path=literal(str(path))))
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
        backend = ibis.pyspark.connect(spark)
        yield Tables(backend)


def register_arrow(backend: Any, name: str, rows: pa.Table) -> ir.Table:
    """Put Arrow rows into the engine under ``name`` (e.g. found rows that evidence queries join)."""
    if backend.name == "duckdb":
        backend.con.register(name, rows)
        return backend.table(name)
    # from Arrow, so decimals keep their scale (via pandas they became DECIMAL(38,18)) and the
    # evidence documents hash the same as on DuckDB
    df = backend._session.createDataFrame(rows)
    df.createOrReplaceTempView(name)
    return backend.table(name)


def unregister(backend: Any, name: str) -> None:
    """Drop what :func:`register_arrow` registered."""
    if backend.name == "duckdb":
        backend.con.unregister(name)
    else:
        backend._session.catalog.dropTempView(name)


def materialise(backend: Any, expr: ir.Table) -> tuple[str, ir.Table] | None:
    """On DuckDB, the rows of ``expr`` in a temporary table: ``(name, table)``; elsewhere None
    (use ``expr`` itself).

    Spark recomputes the expression where it is used (same rows, same findings); Ibis's own
    ``Table.cache()`` cannot be released with this sqlglot (its DROP statement comes out empty),
    and the public ``create_table(temp=True)`` creates the table from Ibis's schema first, whose
    NOT NULL marks are wrong after outer joins (it fails on a NULL ``first_pickup_at``). Hence
    the private hook: a change in Ibis 12.x that breaks it fails the logistics tests loudly.
    """
    if backend.name != "duckdb":
        return None
    name = f"_promoguard_shared_{uuid.uuid4().hex[:12]}"
    backend._run_pre_execute_hooks(expr)  # registers the memtables the SQL names
    sql = backend.compile(expr)
    backend.con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
    return name, backend.table(name)


def drop_temporaries(backend: Any, names: list[str]) -> None:
    """Drop the temporary tables :func:`materialise` made."""
    for name in names:
        backend.con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')


class Scratch:
    """Intermediate tables of one computation, written out in the engine and dropped on close.

    A computation of many passes (Bahmani peeling) writes each pass out so the next one's plan
    does not grow: a temporary table on DuckDB, a locally checkpointed view on Spark.
    """

    def __init__(self, backend: Any, prefix: str = "_scratch") -> None:
        self.backend = backend
        self.prefix = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.names: list[str] = []

    def keep(self, expr: ir.Table) -> ir.Table:
        name = f"{self.prefix}_{len(self.names)}"
        backend = self.backend
        # in-memory tables in the expression (ibis.memtable) must exist in the engine first
        backend._run_pre_execute_hooks(expr)
        sql = backend.compile(expr)
        if backend.name == "duckdb":
            backend.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        else:  # pyspark
            backend._session.sql(sql).localCheckpoint().createOrReplaceTempView(name)
        self.names.append(name)
        return backend.table(name)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        return self.backend.to_pyarrow(expr)

    def close(self) -> None:
        for name in self.names:
            if self.backend.name == "duckdb":
                self.backend.con.execute(f'DROP TABLE IF EXISTS "{name}"')
            else:
                self.backend._session.catalog.dropTempView(name)
        self.names.clear()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def epoch_seconds(at: ir.TimestampValue) -> ir.IntegerValue:
    """Whole epoch seconds of a timestamp, floored, identically on every engine.

    ``at.epoch_seconds().cast("int64")`` is not: DuckDB's epoch is fractional and its cast rounds
    (…:59.6 becomes the next second), Spark's ``unix_timestamp`` truncates; a sub-second
    timestamp then lands on different sides of a threshold. Flooring the fractional seconds
    agrees with Spark's whole seconds (an exact double: epochs need 31 bits, microseconds 20).
    The result is int64: Ibis types ``epoch_seconds()`` as int32, which ends in 2038.
    """
    return at.epoch_seconds().cast("float64").floor().cast("int64")
