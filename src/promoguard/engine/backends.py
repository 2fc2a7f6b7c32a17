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
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import pyarrow as pa
import sqlglot.expressions as sge
from ibis.backends.sql.compilers.base import SQLGlotCompiler
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler
from ibis.expr import datatypes as dt
from ibis.expr import operations as ops

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


def python_for_executors() -> None:
    """Executors run Python (the checks' Arrow maps) with this interpreter, the one that has
    promoguard installed, unless PYSPARK_PYTHON says otherwise (a cluster's own path); pyspark
    reads only the variable, not a setting."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


#: the master of a scan that names none and finds no session running in the process
DEFAULT_SPARK_MASTER = "local[*]"


def spark_session(master: str | None = None):
    """A Spark session on ``master``.

    ``None`` means the session already running in this process (a notebook's own, whatever its
    master), else one on DEFAULT_SPARK_MASTER. A master named is the one the scan runs on: a
    session running on another is stopped first, and stderr says so (a scan asked to run on a
    bureau's cluster must not run quietly on a notebook's local session, nor a local scan on a
    cluster).

    Memory comes from the environment so a bureau sizes it to its machines:
    PROMOGUARD_SPARK_DRIVER_MEMORY (default 4g) and PROMOGUARD_SPARK_EXECUTOR_MEMORY (default
    Spark's, 1g; a standalone worker must offer at least that much, or no executor starts);
    PROMOGUARD_SPARK_SHUFFLE_PARTITIONS (default 4; about the cluster's cores). Any other Spark
    setting goes in PYSPARK_SUBMIT_ARGS ("--conf spark.driver.maxResultSize=1g pyspark-shell").
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    python_for_executors()
    # pyspark's own locks, re-entrant, in pyspark's order (the builders' getOrCreate takes its
    # own, then SparkContext's, which it takes to launch the JVM): two threads starting a
    # session here launch one, one cannot stop the session another starts, and a notebook
    # thread's getOrCreate meanwhile cannot hold one lock while waiting for the other
    with SparkSession.Builder._lock, SparkContext._lock:
        return _session_on(master)


def _session_on(master: str | None):
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    running = SparkContext._active_spark_context
    if running is not None and master is not None and running.master != master:
        print(
            f"spark: stopping this process's session on {running.master} to scan on {master}",
            file=sys.stderr,
        )
        # the session's stop clears what getOrCreate would reuse; the JVM stays, and with it
        # what was fixed when it started (the driver's memory)
        SparkSession(running).stop()
        running = None
    if running is not None:
        master = running.master
    elif master is None:
        master = DEFAULT_SPARK_MASTER
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",  # stderr stays for our own progress bar
        "spark.sql.shuffle.partitions": os.environ.get("PROMOGUARD_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.sql.ansi.enabled": "false",
        # 2g ran out building broadcast tables at 10M observations; the env var overrides
        "spark.driver.memory": os.environ.get("PROMOGUARD_SPARK_DRIVER_MEMORY", "4g"),
    }
    if "PROMOGUARD_SPARK_EXECUTOR_MEMORY" in os.environ:
        # else Spark's own (1g), or what PYSPARK_SUBMIT_ARGS or spark-defaults.conf says: a
        # setting made here would override those
        settings["spark.executor.memory"] = os.environ["PROMOGUARD_SPARK_EXECUTOR_MEMORY"]
    conf = SparkConf().setMaster(master).setAppName("promoguard").setAll(settings.items())
    if SparkContext._gateway is None:
        # The driver JVM would share our stdout, and HotSpot prints its own warnings there
        # ("CodeCache is full. Compiler has been disabled." 160 s into a pack scan on a
        # cluster), inside the one JSON object of `scan --json`. Whatever the JVM prints is a
        # diagnostic: its stdout joins its stderr, which is ours (file descriptor 2, whatever
        # object sys.stderr is), through the Popen settings pyspark takes for this.
        gateway = launch_gateway(conf, popen_kwargs={"stdout": 2})
        try:
            SparkContext(conf=conf, gateway=gateway)
        except BaseException:
            if SparkContext._gateway is not gateway:  # not kept: the JVM would linger
                gateway.shutdown()
                if getattr(gateway, "proc", None) is not None:
                    gateway.proc.stdin.close()  # its end of the pipe: the JVM exits
            raise
    session = SparkSession.builder.config(conf=conf).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


#: the Parquet hand-off of a DuckDB file scanned on Spark: ``.<store>.spark-<pid>-<random>``
_EXPORT_INFIX = ".spark-"


def _export_folder(beside: Path | None) -> Path:
    """A fresh folder for the hand-off: beside the store when it is given and writable (where
    a cluster's workers see the store, they see this too), else the system's temporary folder.

    Hand-offs left by a scan that was killed (kill -9 skips every clean-up) are removed here: a
    folder whose process is gone is reaped on the next scan of the same store.
    """
    pid = os.getpid()
    tag = f"{pid}-{uuid.uuid4().hex[:8]}"
    if beside is not None:
        parent = beside.resolve().parent
        prefix = f".{beside.name}{_EXPORT_INFIX}"
        _reap(parent, prefix)
        if os.access(parent, os.W_OK):
            folder = parent / f"{prefix}{tag}"
            folder.mkdir(mode=0o700)
            return folder
    return Path(tempfile.mkdtemp(prefix=f"promoguard{_EXPORT_INFIX}{tag}-"))


def _reap(parent: Path, prefix: str) -> None:
    """Remove hand-off folders under ``parent`` whose scanning process no longer runs."""
    import shutil

    for folder in parent.glob(f"{prefix}*"):
        pid_text = folder.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or not folder.is_dir():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


@contextmanager
def spark_tables(
    con: duckdb.DuckDBPyConnection, master: str | None = None, beside: str | Path | None = None
) -> Iterator[Tables]:
    """A DuckDB store's canonical tables on Spark.

    Spark cannot read a DuckDB file, so the tables the store has are written once to Parquet
    (UTC instants, exact decimals) in a hand-off folder beside the store (``beside``: the store's
    path), read from there, and the folder is removed when the scan ends, fails or is
    interrupted. A table an older store lacks is not exported: it reads as empty, as on DuckDB
    (``Tables._canonical``). A lake (``--store DIR/``) is read in place, with no copy.
    """
    import shutil
    import sys

    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise CheckError("--engine spark needs pyspark: pip install 'promoguard[spark]'") from None
    present = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
            "UNION SELECT view_name FROM duckdb_views() WHERE schema_name = 'main'"
        ).fetchall()
    }
    folder = _export_folder(Path(beside) if beside is not None else None)
    try:
        if beside is not None:
            print(
                f"spark: copying the DuckDB store's tables to Parquet in {folder} for this scan "
                "(removed afterwards); Spark reads a lake in place: "
                "`promoguard ingest SEASON --store DIR/`",
                file=sys.stderr,
            )
        spark = spark_session(master)
        for name in TABLE_NAMES:
            if name not in present:
                continue  # an older store: Tables reads it as an empty table
            path = folder / f"{name}.parquet"
            # Parquet carries UTC-adjusted instants and exact decimals into Spark unchanged.
            con.execute(sql("COPY {t} TO {path} (FORMAT parquet)", t=name, path=literal(str(path))))
            spark.read.parquet(str(path)).createOrReplaceTempView(name)
        for name in TABLE_NAMES:
            if name not in present:
                spark.catalog.dropTempView(name)  # a view left by an earlier scan in the session
        backend = ibis.pyspark.connect(spark)
        yield Tables(backend)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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


def attach_scratch(backend: Any, name: str) -> str | None:
    """Attach an in-memory database ``name`` for a scan's shared relations (DuckDB): every cursor
    of the store's database sees its tables, where a temporary table is its connection's alone.
    It spills under the same ``memory_limit``. None when it cannot be attached (the relations
    then go to temporary tables, and the scan runs on one connection)."""
    if backend.name != "duckdb":
        return None
    try:
        # (fetched: DuckDB 2 refuses other work on a connection with an unfinished result)
        backend.con.execute(f"ATTACH ':memory:' AS \"{name}\" (READ_WRITE)").fetchall()
    except duckdb.Error:  # pragma: no cover - an engine that cannot attach
        return None
    return name


def materialise(
    backend: Any,
    expr: ir.Table,
    database: str | None = None,
    types: list[tuple[str, str]] | None = None,
) -> str | None:
    """On DuckDB, the rows of ``expr`` in a table (in ``database``, the scan's attached one, else
    a temporary table): its name; elsewhere None (use ``expr`` itself).

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
    if types is not None:
        # ``types``: the (column, DuckDB type) the rows must have, in order (a kept relation's
        # fold gives what its build gave: Ibis takes a sum of BIGINT for a BIGINT, DuckDB makes
        # it a HUGEINT, and evidence would then quote it as a string)
        if [c for c, _ in types] != list(expr.columns):
            raise CheckError(
                f"a kept relation's fold gives columns {list(expr.columns)}, "
                f"its build {[c for c, _ in types]}"
            )
        from promoguard import sqlbuild

        # (the types as DuckDB's catalog names them)
        casts = sqlbuild.join(
            ", ",
            (sqlbuild.sql("CAST({c} AS {t}) AS {c}", c=c, t=sqlbuild.Sql(t)) for c, t in types),
        )
        sql = sqlbuild.sql("SELECT {casts} FROM ({q})", casts=casts, q=sqlbuild.Sql(sql))
    if database is None:
        backend.con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
    else:
        backend.con.execute(f'CREATE TABLE "{database}".main."{name}" AS {sql}')
    return name


def kept_table(backend: Any, name: str, database: str | None = None) -> ir.Table:
    """A table :func:`materialise` made, read through ``backend`` (a thread's own cursor)."""
    if database is None:
        return backend.table(name)
    return backend.table(name, database=(database, "main"))


def drop_temporaries(backend: Any, names: list[str], database: str | None = None) -> None:
    """Drop the tables :func:`materialise` made, and the scan's attached database."""
    for name in names:
        where = "temp.main" if database is None else f'"{database}".main'
        backend.con.execute(f'DROP TABLE IF EXISTS {where}."{name}"')
    if database is not None:
        backend.con.execute(f'DETACH DATABASE IF EXISTS "{database}"').fetchall()


def can_share_cursors(backend: Any) -> bool:
    """Whether other cursors of ``backend``'s DuckDB database see every table it sees: not when
    its connection holds temporary tables or registered views (an incremental scan's scoped
    tables), which only that connection sees."""
    if backend.name != "duckdb":
        return False
    [(private,)] = backend.con.execute(
        "SELECT (SELECT count(*) FROM duckdb_tables() WHERE temporary)"
        " + (SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal)"
    ).fetchall()
    return private == 0


@contextmanager
def worker_tables(tables: Tables, n: int) -> Iterator[list[Tables]]:
    """``n`` views of ``tables`` for ``n`` threads, each on its own cursor of the same DuckDB
    database (same data, same ``memory_limit``, same time zone; a cursor is not safe to share
    between threads), all with the scan's cache. ``[tables]`` itself when ``n`` is 1."""
    if n <= 1:
        yield [tables]
        return
    con = tables.backend.con
    [(zone,)] = con.execute("SELECT current_setting('TimeZone')").fetchall()
    cursors, out = [], []
    try:
        for _ in range(n):
            cur = con.cursor()
            cursors.append(cur)
            view = Tables(ibis.duckdb.from_connection(cur), tables._names)
            cur.execute(sql("SET TimeZone = {z}", z=literal(zone)))  # (Ibis sets UTC)
            view.scan = tables.scan
            out.append(view)
        yield out
    finally:
        for cur in cursors:
            cur.close()


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


@contextmanager
def record_batches(backend: Any, expr: ir.Table, rows: int) -> Iterator[Iterator[pa.RecordBatch]]:
    """The rows of ``expr`` on DuckDB as record batches of at most ``rows``, streamed: a compiled
    pass reads them without holding them all (in the order the engine produces them; a plain
    scan keeps the storage order). The cursor is free again when the block ends, read or not."""
    if backend.name != "duckdb":
        raise CheckError("record batches are streamed from DuckDB only")
    backend._run_pre_execute_hooks(expr)  # registers the memtables the SQL names
    # (Ibis's batch reader calls a cursor method DuckDB 2 no longer has)
    reader = backend.con.sql(backend.compile(expr)).to_arrow_reader(rows)
    try:
        yield iter(reader)
    finally:
        reader.close()


def is_spark(backend: Any) -> bool:
    """Whether ``backend`` is Spark (whose checks must not pull their input to the driver)."""
    return backend.name == "pyspark"


def spark_frame(backend: Any, expr: ir.Table) -> Any:
    """The Spark DataFrame of an Ibis expression (to use Spark's own API on it)."""
    backend._run_pre_execute_hooks(expr)  # memtables the SQL names must exist in the session
    return backend._session.sql(backend.compile(expr))


def spark_arrow(frame: Any) -> pa.Table:
    """A Spark DataFrame's rows on the driver as Arrow: for results (findings), never inputs."""
    return frame.toArrow()


def map_partitions(
    backend: Any,
    expr: ir.Table,
    fn: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]],
    schema: pa.Schema,
) -> pa.Table:
    """``fn`` over the rows of ``expr``, batch by batch, where the rows are; its output here.

    On Spark each executor runs ``fn`` on its own partitions through Arrow (``mapInArrow``), so
    only what ``fn`` yields (findings) reaches the driver. ``fn`` must be picklable (a closure over
    module-level code and plain values) and build what it needs (a matcher) on the executor.
    On DuckDB the rows pass through ``fn`` here, a batch at a time.
    """
    if is_spark(backend):
        from pyspark.sql.pandas.types import from_arrow_schema

        frame = spark_frame(backend, expr).mapInArrow(fn, from_arrow_schema(schema))
        out = spark_arrow(frame)
        return out.select(schema.names).cast(schema) if out.num_rows else schema.empty_table()
    # streamed a batch at a time (``record_batches``): only ``fn``'s output is held whole, never
    # every input row (REVIEW003's 1.84M scored reviews at city scale, twice that at 2x); the
    # reader is closed whatever ``fn`` does: an open result keeps the connection from its next query
    with record_batches(backend, expr, 65_536) as reader:
        batches = list(fn(reader))
    return pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()


class FlooredEpochSeconds(ops.Unary):
    """Whole epoch seconds of a timestamp, floored, as int64 (see :func:`epoch_seconds`)."""

    arg: ops.Value[dt.Timestamp | dt.Date]
    dtype = dt.int64


def _floored_epoch_portable(compiler: Any, op: FlooredEpochSeconds, *, arg: Any) -> Any:
    # what ``at.epoch_seconds().cast("float64").floor().cast("int64")`` compiles to (Spark:
    # ``unix_timestamp``, whole seconds of the instant)
    epoch = compiler.visit_ExtractEpochSeconds(op, arg=arg)
    return compiler.cast(compiler.f.floor(compiler.cast(epoch, dt.float64)), dt.int64)


def _floored_epoch_duckdb(compiler: Any, op: FlooredEpochSeconds, *, arg: Any) -> Any:
    # Ibis's ``epoch(CAST(x AS TIMESTAMP))`` converts each TIMESTAMPTZ to local time through ICU
    # (~2.3 CPU s per 29M scans, against 0.1 s for ``epoch_us``); that local time is the instant
    # only because Ibis sets the session to UTC. ``epoch_us`` reads the instant itself, and its
    # quotient by 10^6 is the same double ``epoch`` computes, so the floors are equal.
    if op.arg.dtype.is_date():
        arg = compiler.cast(arg, dt.timestamp)
    micros = compiler.f.epoch_us(arg)
    return compiler.cast(
        compiler.f.floor(sge.Div(this=micros, expression=sge.convert(10**6))), dt.int64
    )


# a compile rule per engine for one operation of our own, so no Ibis rule changes meaning
SQLGlotCompiler.visit_FlooredEpochSeconds = _floored_epoch_portable
DuckDBCompiler.visit_FlooredEpochSeconds = _floored_epoch_duckdb


def epoch_seconds(at: ir.TimestampValue) -> ir.IntegerValue:
    """Whole epoch seconds of a timestamp, floored, identically on every engine.

    ``at.epoch_seconds().cast("int64")`` is not: DuckDB's epoch is fractional and its cast rounds
    (…:59.6 becomes the next second), Spark's ``unix_timestamp`` truncates; a sub-second
    timestamp then lands on different sides of a threshold. Flooring the fractional seconds
    agrees with Spark's whole seconds (an exact double: epochs need 31 bits, microseconds 20).
    The result is int64: Ibis types ``epoch_seconds()`` as int32, which ends in 2038. Spark
    compiles it as ``at.epoch_seconds().cast("float64").floor().cast("int64")``; DuckDB as the
    floor of ``epoch_us(at) / 10^6``, the same value without a time-zone conversion.
    """
    return FlooredEpochSeconds(at).to_expr()


def union_all(first: ir.Table, *more: ir.Table) -> ir.Table:
    """The rows of tables of the same columns, all of them (UNION ALL), whichever of them says a
    column holds no nulls (a canonical table, a previous scan's copy or a view of either may say
    it or not: Ibis refuses a union of such schemas)."""
    out = None
    for t in (first, *more):
        t = t.cast({name: dtype.copy(nullable=True) for name, dtype in t.schema().items()})
        out = t if out is None else out.union(t)
    return out
