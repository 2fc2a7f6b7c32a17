"""The Parquet lake: the store as a folder of Parquet files that DuckDB and Spark workers read.

A lake is a folder with one sub-folder per table. The large tables are partitioned by the UTC day
of their main instant (``orders/day=2026-11-11/part-<batch>-0.parquet``); the others hold one file
per batch. Which files belong to the store is said by one file, ``_manifest.json``: readers take the
files it lists and nothing else, and a writer publishes a batch by writing its files first and
then replacing the manifest with ``os.replace`` (atomic on a POSIX file system). So a batch (an
ingest, a scan's findings) becomes visible whole or not at all, and a failed or interrupted batch
leaves at most unlisted files behind (which the next batch removes), never a half-visible
batch.

Ingest into a lake runs the same validation and quarantine as the DuckDB store (the same
``ingest_dir``), in a scratch DuckDB database inside the lake's staging folder, against the
lake's rows as they are; the new rows, quarantine and ingest log are then written as Parquet.
Scans of a lake read it in place (DuckDB views over ``read_parquet``; Spark reads the same files
on its executors) and their scans, findings and evidence go to the lake too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from promoguard import lakeview, sqlbuild
from promoguard import store as store_mod
from promoguard.errors import first_line
from promoguard.lakeview import (  # noqa: F401  (the lake's names, one import away)
    ALL_TABLES,
    BOOK_TABLES,
    DAY_COLUMN,
    FORMAT,
    LOCK,
    MANIFEST,
    STAGING,
    LakeError,
    Manifest,
    _q,
    _sql_str,
    files_of,
    is_lake,
    read_manifest,
)
from promoguard.model import TABLE_NAMES

# -- the schema ----------------------------------------------------------------------------------


# -- the manifest --------------------------------------------------------------------------------


def _failure(exc: BaseException) -> str:
    """A disk or DuckDB error in one line: what the system said, and about which file."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror} ({exc.filename})" if exc.filename else exc.strerror
    return first_line(exc)


def _publish(root: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically: readers see the old one or the new one, never half."""
    tmp = root / f".{MANIFEST}.{uuid.uuid4().hex}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(manifest.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, root / MANIFEST)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time per lake (readers never wait: they read a published manifest)."""
    # the lake holds personal data (buyers, addresses, texts): everything it writes is owner-only
    old = os.umask(0o077)
    try:
        try:
            root.mkdir(parents=True, exist_ok=True)
            fh = open(root / LOCK, "a+")  # noqa: SIM115 (the with below closes it)
        except OSError as exc:
            raise LakeError(f"cannot write the lake {root}: {_failure(exc)}") from None
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        os.umask(old)


# -- reading -------------------------------------------------------------------------------------


def schema() -> lakeview.Schema:
    return store_mod.table_schema()


def relation_sql(root: str | Path, table: str, manifest: Manifest | None = None) -> str:
    return lakeview.relation_sql(root, table, schema(), manifest)


def attach_views(
    con: duckdb.DuckDBPyConnection,
    root: str | Path,
    manifest: Manifest | None = None,
    tables: Sequence[str] = ALL_TABLES,
    prefix: str = "",
) -> None:
    lakeview.attach_views(con, root, schema(), manifest, tables, prefix)


def connect(root: str | Path, *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with every lake table as a view over its Parquet files.

    The views cannot be written to: writes to a lake go through :func:`ingest` and
    :func:`save_scan`, which publish whole batches.
    """
    con = lakeview.open_views(root, schema())
    store_mod.set_memory_limit(con, memory_limit)
    return con


# -- writing -------------------------------------------------------------------------------------


def _write_table(
    con: duckdb.DuckDBPyConnection, select_sql: str, table: str, staging: Path, batch: str
) -> list[Path]:
    """Write a relation as Parquet under ``staging/<table>``; return the files (maybe none)."""
    out = staging / table
    relation = sqlbuild.Sql(select_sql)  # a SELECT this module or lakeview composed
    probe = sqlbuild.sql("SELECT count(*) FROM (SELECT 1 FROM ({r}) LIMIT 1)", r=relation)
    if con.execute(probe).fetchone()[0] == 0:
        return []
    day = DAY_COLUMN.get(table)
    if day:
        # the day folder is the UTC date, so a partition never depends on the reader's zone
        con.execute(
            sqlbuild.sql(
                """COPY (SELECT *, strftime(timezone('UTC', {day}), '%Y-%m-%d') AS day
                FROM ({r})) TO {out}
                (FORMAT parquet, PARTITION_BY (day), FILENAME_PATTERN {pattern},
                 COMPRESSION zstd)""",
                day=day,
                r=relation,
                out=sqlbuild.literal(str(out)),
                pattern=sqlbuild.literal("part-" + batch + "-{i}"),
            )
        )
    else:
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"part-{batch}-0.parquet"
        con.execute(
            sqlbuild.sql(
                "COPY ({r}) TO {target} (FORMAT parquet, COMPRESSION zstd)",
                r=relation,
                target=sqlbuild.literal(str(target)),
            )
        )
    return sorted(p for p in out.rglob("*.parquet"))


def _move_into_place(root: Path, staging: Path, files: list[Path], moved: list[str]) -> None:
    """Rename staged files to their place in the lake (same file system: no copy), each added
    to ``moved`` as soon as it is in place: a move that fails partway through a table leaves
    the caller the ones before it to take out again."""
    for f in files:
        rel = f.relative_to(staging)
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(f, dest)
        moved.append(rel.as_posix())


def _part_batch(name: str) -> str | None:
    """The batch id in a data file's name (``part-<batch>-<i>.parquet``), or None when the name is
    not one this module gives."""
    m = _PART.fullmatch(name)
    return m.group(1) if m else None


_PART = re.compile(
    rf"part-({lakeview.INGEST_BATCH.pattern}|{lakeview.SCAN_BATCH.pattern})-[0-9]+\.parquet"
)


def _sweep_unlisted(root: Path, manifest: Manifest, dead: set[str]) -> int:
    """Remove the data files the killed batches ``dead`` moved into place but never listed (and
    a manifest's temporary file one left); return how many.

    A batch that is killed (no clean-up runs) between its first move and its manifest leaves its
    files in the table folders, unlisted: never read (readers take the listed files only), but
    as big as the batch. ``dead`` are the batches whose staging folder a kill left (a batch that
    ended in any other way removed its own): only their files go, and only those the manifest
    does not list, so a manifest restored from an older copy (whose later batches' files are
    unlisted too, but whose batches ended) costs no file. The caller holds
    :func:`writer_lock`, so no batch is running. Only files named as this module names them are
    touched (anything else in the folder is not the lake's), never a link, and the partition
    folders they leave empty."""
    if not dead:
        return 0
    # a file of a batch the manifest lists any file of is the lake's: its batch ended
    live = {_part_batch(Path(f).name) for files in manifest.tables.values() for f in files}
    swept = 0
    # a manifest's temporary file, written by a batch killed before its rename
    for left in root.glob(f".{MANIFEST}.*"):
        if lakeview._MANIFEST_TMP.fullmatch(left.name) and left.is_file() and not left.is_symlink():
            with contextlib.suppress(OSError):
                left.unlink()
                swept += 1
    for table in ALL_TABLES:
        folder = root / table
        if folder.is_symlink() or not folder.is_dir():
            continue
        for here, _dirs, names in os.walk(folder):  # links to folders are not followed
            before = swept
            for name in names:
                f = Path(here) / name
                batch = _part_batch(name)
                if batch is None or batch not in dead or batch in live or f.is_symlink():
                    continue
                with contextlib.suppress(OSError):
                    f.unlink()
                    swept += 1
            if Path(here) != folder and swept > before:  # a day=... folder, now maybe empty
                with contextlib.suppress(OSError):
                    Path(here).rmdir()
    return swept


def publish_batch(
    root: Path,
    con: duckdb.DuckDBPyConnection,
    relations: dict[str, str],
    batch: str,
    kind: str,
    staging: Path,
    info: dict[str, Any] | None = None,
) -> Manifest:
    """Write ``relations`` (table -> SELECT) as this batch's files and publish them at once.

    The caller holds :func:`writer_lock`. Until the manifest is replaced nothing is visible; if
    anything fails before, the files written so far are removed and the manifest is untouched.
    A disk error (a full disk, an I/O error; from DuckDB writing the Parquet files or from the
    file system moving them or the manifest) is a one-line :class:`LakeError`.
    A new lake's first batch publishes the empty manifest before any of its files lands: a first
    batch that fails or is killed leaves an empty lake, which the next batch writes to.
    """
    manifest = read_manifest(root)
    publishing = manifest.version + 1  # the manifest's version once this batch is in it
    staged: dict[str, list[Path]] = {}
    moved: list[str] = []
    try:
        if not (root / MANIFEST).exists():
            _publish(root, Manifest.empty())
        for table, select_sql in relations.items():
            staged[table] = _write_table(con, select_sql, table, staging, batch)
        for table, files in staged.items():
            first = len(moved)
            _move_into_place(root, staging, files, moved)
            manifest.tables[table] = [*manifest.tables[table], *moved[first:]]
        manifest.version += 1
        manifest.batches.append(
            {
                "batch": batch,
                "kind": kind,
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "files": len(moved),
                **(info or {}),
            }
        )
        _publish(root, manifest)
    except BaseException as exc:
        # published already (a Ctrl-C or a failed fsync after the rename): the files are the
        # lake's now and stay; else they go (or stay unlisted when that cannot be told)
        if not _published(root, publishing):
            for rel in moved:
                with contextlib.suppress(OSError):
                    (root / rel).unlink()
        if isinstance(exc, OSError | duckdb.Error):
            raise LakeError(
                f"cannot write the lake {root}: {_failure(exc)}; the lake is unchanged"
            ) from None
        raise
    return manifest


def _published(root: Path, version: int) -> bool:
    """Whether the lake's manifest is at ``version`` (or past it), or cannot be told: then the
    files a failed batch moved stay (unlisted at worst, never listed and gone)."""
    try:
        return read_manifest(root).version >= version
    except (OSError, LakeError):
        return True


@contextmanager
def staging_area(root: Path, batch: str) -> Iterator[Path]:
    """The batch's own folder under ``_staging/``, removed when the batch ends. The caller holds
    :func:`writer_lock`, so no other batch is running: a batch folder already there is what a
    killed batch left (its scratch database may be as big as the batch), and goes too, after
    the data files that batch moved into place unlisted (:func:`_sweep_unlisted`). Only real
    folders named by a batch id are removed; a ``_staging`` that is a link (or not a folder) is
    refused, never followed."""
    area = root / STAGING
    if area.is_symlink() or (area.exists() and not area.is_dir()):
        raise LakeError(
            f"cannot write the lake {root}: {area} is a link or a file, not a staging folder "
            "the lake made (it is not followed); remove it"
        )
    left: list[Path] = []
    with contextlib.suppress(FileNotFoundError):
        left = [f for f in area.iterdir() if lakeview.is_batch_folder(f)]
    if left:
        # killed batches: first the files they moved into place and never listed (their staging
        # folders are what says they were killed), then the folders themselves
        try:
            manifest = read_manifest(root)
        except LakeError:
            manifest = None  # the batch itself will say why; nothing is removed from the tables
        if manifest is not None:
            _sweep_unlisted(root, manifest, {f.name for f in left})
        for f in left:
            shutil.rmtree(f, ignore_errors=True)
    path = area / batch
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LakeError(f"cannot write the lake {root}: {_failure(exc)}") from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            area.rmdir()


def _scratch(staging: Path, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    # A database file (not :memory:) so that a big batch spills to disk instead of growing.
    try:
        con = duckdb.connect(str(staging / "scratch.duckdb"))
    except duckdb.Error as exc:
        raise LakeError(
            f"cannot write the lake's staging folder {staging}: {first_line(exc)}"
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET temp_directory = {_sql_str(str(staging / 'tmp'))}")
    store_mod.set_memory_limit(con, memory_limit)
    return con


def _initialise(con: duckdb.DuckDBPyConnection, staging: Path) -> None:
    """The store's tables in the batch's scratch database; a failed write (a full disk) is a
    one-line :class:`LakeError`."""
    try:
        store_mod.initialise(con)
    except duckdb.Error as exc:
        raise LakeError(
            f"cannot write the lake's staging folder {staging}: {first_line(exc)}; "
            "the lake is unchanged"
        ) from None


def _stored_views(con: duckdb.DuckDBPyConnection, root: Path, manifest: Manifest) -> dict[str, str]:
    """Views of what is stored, for ingest's keys and references: the lake's rows (each listed
    file opened now, so a missing or damaged one is the lake's problem, said in one line as a
    :class:`LakeError`, not the batch's) plus this batch's."""
    stored = {}
    try:
        attach_views(con, root, manifest, TABLE_NAMES, prefix="_lake_")
        for t in TABLE_NAMES:
            # count(*) reads each file's footer: every listed file is there and is Parquet
            con.execute(sqlbuild.sql("SELECT count(*) FROM {lake}", lake="_lake_" + t)).fetchone()
            name = f"_pg_stored_{t}"
            con.execute(
                sqlbuild.sql(
                    "CREATE VIEW {name} AS SELECT * FROM {lake} UNION ALL SELECT * FROM {t}",
                    name=name,
                    lake="_lake_" + t,
                    t=t,
                )
            )
            stored[t] = name
    except duckdb.Error as exc:
        raise LakeError(f"cannot read the lake {root}: {first_line(exc)}") from None
    return stored


def ingest(
    src: str | Path,
    root: str | Path,
    *,
    tz: str = "UTC",
    encoding: str | None = None,
    adapter: str | None = None,
    progress: bool = False,
    memory_limit: str | None = None,
    ingest_id: str | None = None,
):
    """``ingest_dir`` into a lake: the same validation and quarantine, published as one batch.

    The manifest's entry for the batch holds its ``ingest_id`` (``watch`` chooses it when it
    claims a batch, and finds the batch by it after a stop) and its folder's resolved path."""
    from promoguard.ingest.load import check_store_outside, ingest_dir

    root = Path(root)
    check_store_outside(src, root, lake=True)  # before the lock creates the lake folder
    if root.is_dir():
        # a folder that is no lake is refused before the lock file lands among its files (read
        # again under the lock: this one only spares the folder)
        read_manifest(root)
    with writer_lock(root):
        manifest = read_manifest(root)
        batch = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        with staging_area(root, batch) as staging:
            con = _scratch(staging, memory_limit)
            try:
                _initialise(con, staging)  # empty tables: this batch's new rows land there
                # what is stored = the lake's rows plus this batch's, for keys and references
                stored = _stored_views(con, root, manifest)
                report = ingest_dir(
                    src,
                    con,
                    tz=tz,
                    encoding=encoding,
                    adapter=adapter,
                    progress=progress,
                    stored=stored,
                    ingest_id=ingest_id,
                )
                relations = {t: sqlbuild.sql("SELECT * FROM {t}", t=t) for t in TABLE_NAMES}
                relations["quarantine"] = "SELECT * FROM quarantine"
                relations["ingest_log"] = "SELECT * FROM ingest_log"
                publish_batch(
                    root,
                    con,
                    relations,
                    batch,
                    "ingest",
                    staging,
                    # the folder's own path (absolute, no symlink), for the record; watch finds
                    # its batch by the ingest id it chose (_ingested_already)
                    {"ingest_id": report.ingest_id, "source": str(Path(src).resolve())},
                )
            finally:
                con.close()
    report.source = str(src)
    return report


def save_scan(root: str | Path, result: Any, pack: Any, started: dt.datetime) -> str:
    """Publish a scan's record, findings, seals and new evidence documents as one batch.

    Returns the scan seal (``promoguard.integrity``), computed before publishing, with every
    evidence document of the scan at hand.
    """
    from promoguard.engine.run import save_result

    root = Path(root)
    with writer_lock(root):
        batch = f"{result.scan_id}"
        with staging_area(root, batch) as staging:
            con = _scratch(staging, None)
            try:
                _initialise(con, staging)
                try:
                    save_result(con, result, pack, started)  # seals the scan too (result.seal)
                    attach_views(con, root, None, ("evidence",), prefix="_lake_")
                    # a document already in the lake (same hash, same text) is not written twice
                    con.execute(
                        "DELETE FROM evidence WHERE evidence_sha256 IN "
                        "(SELECT evidence_sha256 FROM _lake_evidence)"
                    )
                except duckdb.Error as exc:  # a full disk, a listed evidence file gone
                    raise LakeError(
                        f"cannot save the scan in the lake {root}: {first_line(exc)}; "
                        "the lake is unchanged"
                    ) from None
                relations = {
                    t: sqlbuild.sql("SELECT * FROM {t}", t=t)
                    for t in ("scans", "findings", "evidence", "finding_seals", "scan_seals")
                }
                publish_batch(
                    root, con, relations, batch, "scan", staging, {"scan_id": result.scan_id}
                )
            finally:
                con.close()
    return result.seal


# -- scanning ------------------------------------------------------------------------------------


@contextmanager
def spark_tables(root: str | Path, master: str | None = None) -> Iterator[Any]:
    """The lake's canonical tables as Spark views over its own files (no copy, no driver temp),
    on ``master`` (``engine.backends.spark_session``: None, the session running in this process
    or local[*]).

    Each executor opens the files it is given; on a cluster the lake must sit where every
    worker sees the same absolute path (a shared mount).
    """
    from promoguard.errors import CheckError

    try:
        import ibis
        import pyspark  # noqa: F401
    except ImportError:  # the scan's setup, not the lake (watch keeps store problems apart)
        raise CheckError("--engine spark needs pyspark: pip install 'promoguard[spark]'") from None
    from promoguard.engine.backends import spark_session
    from promoguard.engine.base import Tables

    spark = spark_session(master)
    manifest = read_manifest(root)
    for table in TABLE_NAMES:
        files = files_of(root, table, manifest)
        if files:
            df = spark.read.parquet(*files)
        else:
            df = spark.createDataFrame([], _spark_schema(table))
        df.createOrReplaceTempView(table)
    yield Tables(ibis.pyspark.connect(spark))


def _spark_schema(table: str):
    from pyspark.sql import types as T

    def one(dtype: str):
        d = dtype.upper()
        if d.startswith("DECIMAL"):
            p, s = d[d.index("(") + 1 : d.index(")")].split(",")
            return T.DecimalType(int(p), int(s))
        return {
            "VARCHAR": T.StringType(),
            "BIGINT": T.LongType(),
            "SMALLINT": T.ShortType(),
            "INTEGER": T.IntegerType(),
            "TIMESTAMP WITH TIME ZONE": T.TimestampType(),
            "DOUBLE": T.DoubleType(),
            "BOOLEAN": T.BooleanType(),
        }[d]

    return T.StructType([T.StructField(c, one(t), True) for c, t in schema()[table]])


def scan(
    root: str | Path,
    pack: str | Path = "cn",
    *,
    engine: str = "duckdb",
    checks: str | Sequence[str] | None = None,
    spark_master: str | None = None,
    save: bool = True,
    progress: Any = None,  # progress(step, done, total), as engine.run.run_checks
    memory_limit: str | None = None,
):
    """``engine.scan`` on a lake: the checks read the Parquet files in place; findings go back."""
    from promoguard.engine import backends
    from promoguard.engine import run as eng
    from promoguard.engine.packs import load_pack
    from promoguard.errors import CheckError

    if engine not in eng.ENGINES:
        raise CheckError(f"unknown engine {engine!r}; choose one of {', '.join(eng.ENGINES)}")
    root = Path(root)
    if not (root / MANIFEST).exists():
        raise CheckError(f"no lake at {root}; run `promoguard ingest` first")
    the_pack = load_pack(pack)
    chosen = eng.choose_checks(the_pack, checks)
    started, detected_at, scan_id = eng.scan_clock()
    if engine == "duckdb":
        con = connect(root, memory_limit=memory_limit)
        cm = backends.duckdb_tables(con)
    else:
        con = None
        cm = spark_tables(root, spark_master)
    try:
        with cm as tables:
            result = eng.run_checks(
                tables,
                chosen,
                the_pack,
                engine=engine,
                scan_id=scan_id,
                detected_at=detected_at,
                progress=progress,
            )
    finally:
        if con is not None:
            con.close()
    if save:
        save_scan(root, result, the_pack, started)
    return result
