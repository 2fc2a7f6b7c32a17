"""The store: one DuckDB file holding the canonical tables under their own names.

``SELECT * FROM orders`` works in any DuckDB client. Beside the canonical tables the store keeps
the quarantine (rows ingest refused, with the reason), the ingest log, scans, findings and the
frozen evidence documents that findings point at by hash.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from promoguard import sqlbuild
from promoguard.errors import PromoGuardError, StoreBusy, StoreError
from promoguard.model import FINDING_COLUMNS, TABLES

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

QUARANTINE_SQL = """
CREATE TABLE IF NOT EXISTS quarantine (
  ingest_id VARCHAR NOT NULL,
  table_name VARCHAR NOT NULL,
  source_file VARCHAR NOT NULL,
  line_number BIGINT,
  column_name VARCHAR,
  reason VARCHAR NOT NULL,
  raw VARCHAR
)"""

INGEST_LOG_SQL = """
CREATE TABLE IF NOT EXISTS ingest_log (
  ingest_id VARCHAR NOT NULL,
  table_name VARCHAR NOT NULL,
  source_file VARCHAR NOT NULL,
  encoding VARCHAR,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ NOT NULL,
  rows_read BIGINT NOT NULL,
  rows_stored BIGINT NOT NULL,
  rows_quarantined BIGINT NOT NULL,
  rows_orphaned BIGINT NOT NULL
)"""

SCANS_SQL = """
CREATE TABLE IF NOT EXISTS scans (
  scan_id VARCHAR NOT NULL,
  pack VARCHAR NOT NULL,
  engine VARCHAR NOT NULL,
  checks VARCHAR NOT NULL,
  parameters VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  finished_at TIMESTAMPTZ,
  findings BIGINT,
  coverage VARCHAR
)"""

#: Per scan, how many rows each canonical table held when the scan read it. The canonical tables
#: only ever grow (ingest appends; nothing updates or deletes their rows), so the rows an ingest
#: added after the scan are those at row positions (DuckDB ``rowid``) from the mark on: what
#: ``scan --since`` on a DuckDB file re-checks (``promoguard.incremental``).
SCAN_MARKS_SQL = """
CREATE TABLE IF NOT EXISTS scan_marks (
  scan_id VARCHAR NOT NULL,
  table_name VARCHAR NOT NULL,
  row_count BIGINT NOT NULL
)"""

#: Relations a scan keeps for the next ``scan --since`` to fold the new rows into instead of
#: computing them over the whole season again (``engine.cache.shared`` with a ``fold``): per
#: scan, each relation's key (its ``repr``) and the table holding its rows (``kept_<hash>``).
#: Only the latest scan of a pack keeps them (:func:`save_kept`); they are not findings or
#: evidence, so no seal covers them, and ``verify`` does not read them.
KEPT_RELATIONS_SQL = """
CREATE TABLE IF NOT EXISTS kept_relations (
  scan_id VARCHAR NOT NULL,
  relation_key VARCHAR NOT NULL,
  table_name VARCHAR NOT NULL,
  row_count BIGINT NOT NULL
)"""

#: The documents are zstd-compressed in the file. DuckDB's default for strings (dictionary and
#: FSST) keeps large JSON documents nearly as they are: a city scan's 720k documents (1.85 GB of
#: JSON) took 1,391 MB of file against 157 MB with zstd, and a saved full scan of the city wrote
#: 1.2 GB against 0.5 GB and took 12-18 s longer (docs/benchmarks/season.md, session 16). Reading
#: them back costs the same. (A store made before keeps its table once it holds a document:
#: :func:`_evidence_table`.)
EVIDENCE_SQL = """
CREATE TABLE IF NOT EXISTS evidence (
  evidence_sha256 VARCHAR NOT NULL,
  document VARCHAR USING COMPRESSION zstd NOT NULL
)"""


#: the evidence table as before the documents were compressed: what a file of an older storage
#: format gets (:func:`_evidence_table`)
PLAIN_EVIDENCE_SQL = EVIDENCE_SQL.replace(" USING COMPRESSION zstd", "")

#: the oldest storage format of a DuckDB file that takes a compression named in a table's DDL
#: (older ones refuse ``USING COMPRESSION zstd`` for VARCHAR, even in ``CREATE TABLE IF NOT
#: EXISTS`` of a table that is there: "that type is not available yet")
_ZSTD_STORAGE = (1, 2, 0)


def _takes_zstd(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's file format takes :data:`EVIDENCE_SQL`: a file written by DuckDB
    before 1.2, or attached with an older ``STORAGE_VERSION``, does not (DuckDB 2 still opens
    and writes it in its own format). An in-memory database, or a version not in the form
    ``vX.Y.Z``, does."""
    row = con.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    version = ((row[0] or {}).get("storage_version") if row else None) or ""
    m = re.match(r"v(\d+)\.(\d+)\.(\d+)", version)
    return m is None or tuple(int(g) for g in m.groups()) >= _ZSTD_STORAGE


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` is inside a transaction its caller began: two statements in a row see one
    transaction id then (in autocommit each runs in its own). A ``BEGIN`` to find out would
    abort the caller's transaction when it fails."""
    q = "SELECT txid_current()"
    return con.execute(q).fetchone()[0] == con.execute(q).fetchone()[0]


def _evidence_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the evidence table if missing (:data:`EVIDENCE_SQL`, documents zstd-compressed).

    A store made before its documents were compressed takes the new table while it holds no
    document yet (ingested, never scanned and saved): dropping an empty table loses nothing, and
    its first saved scan then writes the small form. The drop and the new table are one
    transaction (the caller's, when it is in one): a crash between them cannot leave the store
    without the table. A store holding documents keeps its table: rewriting gigabytes on open
    would surprise. A file of an older storage format (:func:`_takes_zstd`) keeps, or gets,
    the table as it was (:data:`PLAIN_EVIDENCE_SQL`)."""
    if not _takes_zstd(con):
        con.execute(PLAIN_EVIDENCE_SQL)
        return
    rows = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'evidence'"
    ).fetchall()
    if (
        not rows
        or "USING COMPRESSION ZSTD" in rows[0][0].upper()
        or con.execute("SELECT count(*) FROM (SELECT 1 FROM evidence LIMIT 1)").fetchone()[0]
    ):
        con.execute(EVIDENCE_SQL)
        return
    own = not _in_transaction(con)
    if own:
        con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DROP TABLE evidence")
        con.execute(EVIDENCE_SQL)
    except BaseException:
        if own:
            con.execute("ROLLBACK")
        raise
    if own:
        con.execute("COMMIT")


def findings_create_sql() -> str:
    cols = ",\n  ".join(
        f'"{c.name}" {c.duckdb_type}{"" if c.nullable else " NOT NULL"}' for c in FINDING_COLUMNS
    )
    return f"CREATE TABLE IF NOT EXISTS findings (\n  {cols}\n)"


def initialise(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table the store keeps, if missing. Safe to call on an existing store."""
    for t in TABLES:
        con.execute(t.create_sql())
    _evidence_table(con)
    for sql in (
        QUARANTINE_SQL,
        INGEST_LOG_SQL,
        SCANS_SQL,
        SCAN_MARKS_SQL,
        KEPT_RELATIONS_SQL,
        findings_create_sql(),
    ):
        con.execute(sql)
    # stores made before scans recorded per-check coverage (what ran, what was not checked)
    con.execute("ALTER TABLE scans ADD COLUMN IF NOT EXISTS coverage VARCHAR")
    # stores made before kept relations recorded the code that wrote them (kept_fingerprint)
    con.execute("ALTER TABLE kept_relations ADD COLUMN IF NOT EXISTS made_by VARCHAR")
    from promoguard import integrity  # the seals beside the findings (integrity.py)

    integrity.initialise(con)


_SCHEMA: dict[str, list[tuple[str, str]]] | None = None


def table_schema() -> dict[str, list[tuple[str, str]]]:
    """Every table the store keeps: its (column, DuckDB type) pairs, read from the DDL above."""
    global _SCHEMA
    if _SCHEMA is None:
        con = duckdb.connect()
        try:
            initialise(con)
            rows = con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "ORDER BY table_name, ordinal_position"
            ).fetchall()
        finally:
            con.close()
        out: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype in rows:
            out.setdefault(table, []).append((column, dtype))
        _SCHEMA = out
    return _SCHEMA


def _open_error(p: str, exc: duckdb.Error) -> StoreError:
    """The operator's mistake behind a failed open, said in one line."""
    text = str(exc)
    if "Conflicting lock" in text or "Could not set lock" in text:
        pid = re.search(r"PID (\d+)", text)
        who = f" (process {pid.group(1)})" if pid else ""
        return StoreBusy(
            f"the store {p} is in use by another process{who}: close it (a `duckdb` shell, "
            "another scan) and try again"
        )
    if (
        "not a valid DuckDB database" in text
        or "database file" in text.lower()
        # a data file (a .csv, .parquet) opened read-only: DuckDB would make it a view in memory
        or "in-memory database in read-only mode" in text
    ):
        return StoreError(f"{p} is not a PromoGuard store (not a DuckDB database file)")
    return StoreError(f"cannot open the store {p}: {text.splitlines()[0]}")


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create, when writable) a store. ``:memory:`` gives a throwaway store.

    A folder, a file that is not a DuckDB database and a store another process holds open raise
    ``StoreError`` with one line that says which. A new store file is created owner-only (0600):
    it holds personal data (buyers, addresses, texts).

    A folder with a lake manifest is a Parquet lake (see ``promoguard.lake``): it opens as
    read-only views over its files; ingest and scan write to a lake through ``promoguard.lake``.
    """
    p = str(path)
    if p != ":memory:" and Path(p).is_dir():
        from promoguard import lakeview

        if (Path(p) / lakeview.MANIFEST).exists():
            con = lakeview.open_views(p, table_schema())
            set_memory_limit(con)
            return con
    if p != ":memory:":
        if Path(p).is_dir():
            raise StoreError(
                f"the store {p} is a folder, not a DuckDB file (nor a lake: no _manifest.json)"
            )
        if read_only and not Path(p).exists():
            raise FileNotFoundError(f"no store at {p}")
        Path(p).parent.mkdir(parents=True, exist_ok=True)
        created = not read_only and not Path(p).exists()
        old = os.umask(0o077)  # the file (and its WAL) owner-only from the first byte
        try:
            try:
                con = duckdb.connect(p, read_only=read_only)
            except duckdb.Error as exc:
                raise _open_error(p, exc) from None
            if not _file_backed(con):
                # DuckDB opens an existing data file (a .csv, .parquet, .json) as an in-memory
                # database holding a view of it: rows written there would vanish at close
                con.close()
                raise StoreError(f"{p} is not a PromoGuard store (not a DuckDB database file)")
            if created:
                os.chmod(p, 0o600)
            # initialise writes the schema: the WAL it creates is made under the same umask
            con = _ready(con, read_only)
        finally:
            os.umask(old)
        wal = Path(f"{p}.wal")
        if not read_only and wal.exists():
            os.chmod(wal, 0o600)  # a WAL left by an earlier writer under a looser umask
        return con
    try:
        con = duckdb.connect(p, read_only=read_only)
    except duckdb.Error as exc:
        raise _open_error(p, exc) from None
    return _ready(con, read_only)


def _file_backed(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's database is a file (and not a view DuckDB made of a data file)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return row is not None and row[0] is not None


def _ready(con: duckdb.DuckDBPyConnection, read_only: bool) -> duckdb.DuckDBPyConnection:
    con.execute("SET TimeZone = 'UTC'")
    set_memory_limit(con)
    if not read_only:
        initialise(con)
    return con


_LIMIT = re.compile(r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


#: DuckDB's own default memory limit is 80% of the machine's memory: a season twice as big then
#: took twice the memory (12 GB for a city-scale scan) instead of spilling. PromoGuard caps it at
#: this many bytes, or at 40% of the machine's memory when that is less, unless
#: PROMOGUARD_MEMORY_LIMIT says otherwise ("none": DuckDB's default). At city scale the cap costs
#: little CPU (docs/benchmarks/season.md) and keeps ingest under 4 GB and a scan under 6 GB.
DEFAULT_MEMORY_LIMIT_BYTES = 3 * 2**30


def default_memory_limit() -> str:
    """The cap PromoGuard gives DuckDB when PROMOGUARD_MEMORY_LIMIT is unset, e.g. ``3072MiB``."""
    try:
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system that says
        machine = 0
    limit = DEFAULT_MEMORY_LIMIT_BYTES
    if machine > 0:
        limit = min(limit, int(machine * 0.4))
    return f"{max(limit // 2**20, 256)}MiB"


_SPILL: list[str] = []


def _spill_folder() -> str:
    """A private folder (0700) for what DuckDB spills from an in-memory database, removed when
    the process ends; DuckDB's default there is ``.tmp`` in whatever the working folder is."""
    if not _SPILL:
        import atexit
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="promoguard-spill-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _SPILL.append(folder)
    return _SPILL[0]


def set_memory_limit(con: duckdb.DuckDBPyConnection, limit: str | None = None) -> None:
    """Cap DuckDB's memory: ``limit``, else PROMOGUARD_MEMORY_LIMIT (e.g. ``4GB``; ``none``
    leaves DuckDB's own default), else :func:`default_memory_limit`. DuckDB spills the rest to
    its temp directory (beside a store file; a private temporary folder for an in-memory one).
    """
    limit = limit or os.environ.get("PROMOGUARD_MEMORY_LIMIT") or default_memory_limit()
    if limit.strip().lower() == "none":
        return
    if not _LIMIT.fullmatch(limit):
        raise PromoGuardError(f"memory limit {limit!r} is not a size such as 4GB or 512MB")
    con.execute(f"SET memory_limit = '{limit.strip()}'")
    temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    if temp == ".tmp":  # an in-memory database: not into the caller's working folder
        folder = _spill_folder().replace("'", "''")
        con.execute(f"SET temp_directory = '{folder}'")


@contextmanager
def open_store(path: str | Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return {
        t.name: con.execute(sqlbuild.sql("SELECT count(*) FROM {t}", t=t.name)).fetchone()[0]
        for t in TABLES
    }


# -- scans and findings: the one place that writes and reads them ---------------------------------

#: the columns of a scan record, as :func:`scan_record` returns them
SCAN_KEYS = ("scan_id", "pack", "engine", "checks", "started_at", "findings")


def save_scan(
    con: duckdb.DuckDBPyConnection,
    *,
    scan_id: str,
    pack: str,
    engine: str,
    checks: list[str],
    parameters: str,
    started_at: dt.datetime,
    findings: pd.DataFrame | pa.Table,
    evidence: Mapping[str, str],
    coverage: str | None = None,
    marks: Mapping[str, int] | None = None,
    findings_files: Sequence[str] = (),
    kept: Sequence[Any] = (),
) -> str:
    """Record a scan, its findings and their evidence documents, and seal them (integrity.py),
    in one transaction; return the scan seal.

    ``parameters`` is the canonical JSON of what each check ran with; ``evidence`` maps a SHA-256
    to its canonical document (a document already stored is kept, not duplicated); ``coverage``
    the canonical JSON of what each check ran on, or why it was not checked; ``marks`` the rows
    per canonical table the scan read (:func:`row_marks`), for a later ``scan --since``;
    ``findings_files`` Parquet files of the scan's own findings (its temporary spill files, in
    FINDING_COLUMNS order), stored before ``findings``; ``kept`` the kept relations the scan
    wrote (``engine.cache.KeptCopies``), stored in place of the older scans' (:func:`save_kept`).
    """
    from promoguard import integrity

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO scans (scan_id, pack, engine, checks, parameters, started_at, "
            "finished_at, findings, coverage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                scan_id,
                pack,
                engine,
                ",".join(checks),
                parameters,
                started_at,
                dt.datetime.now(dt.UTC),
                len(findings) + sum(_parquet_rows(f) for f in findings_files),
                coverage,
            ],
        )
        if findings_files:
            # our own temporary files' paths, quoted as string literals
            listed = sqlbuild.join(", ", (sqlbuild.literal(f) for f in findings_files))
            con.execute(
                sqlbuild.sql(
                    "INSERT INTO findings SELECT * FROM read_parquet([{listed}])", listed=listed
                )
            )
        if len(findings):
            con.register("_new_findings", findings)
            con.execute("INSERT INTO findings SELECT * FROM _new_findings")
            con.unregister("_new_findings")
        if len(evidence):
            _insert_evidence(con, evidence)
        for table, rows in (marks or {}).items():
            con.execute("INSERT INTO scan_marks VALUES (?, ?, ?)", [scan_id, table, int(rows)])
        save_kept(con, scan_id, pack, started_at, [c.tables for c in kept])
        # sealed in the same transaction: a scan is never visible unsealed
        seal = integrity.seal_scan(con, scan_id)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return seal


def save_kept(
    con: duckdb.DuckDBPyConnection,
    scan_id: str,
    pack: str,
    started_at: dt.datetime,
    kept: Sequence[Mapping[str, Any]],
) -> None:
    """Store the kept relations of scan ``scan_id`` (per part of the scan, key text -> its file,
    ``engine.cache.KeptFile``; the first of a key wins: two parts of one scan may both have
    built it, equal), and drop every copy of an older scan of ``pack``: only the latest keeps
    them, so the store does not grow by a copy a day. Call inside the scan's saving
    transaction."""
    from promoguard.engine.cache import KeptDelta, kept_table_name

    older = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT k.scan_id FROM kept_relations k JOIN scans s USING (scan_id) "
            "WHERE s.pack = ? AND s.started_at < ? AND k.scan_id <> ?",
            [pack, started_at, scan_id],
        ).fetchall()
    ]
    done: set[str] = set()
    # an appending fold's change first: its previous copy is one of the older scans' tables,
    # taken over before those are dropped
    for tables in kept:
        for text, file in tables.items():
            if text in done or not isinstance(file, KeptDelta):
                continue
            done.add(text)
            _save_delta(con, scan_id, text, kept_table_name(scan_id, text), file, older)
    drop_kept(con, older)
    for tables in kept:
        for text, file in tables.items():
            if text in done:
                continue
            done.add(text)
            name = kept_table_name(scan_id, text)
            # the types the scan had (a column Parquet does not carry exactly comes as text)
            columns = sqlbuild.join(
                ", ", (sqlbuild.sql("{c} {t}", c=c, t=sqlbuild.Sql(t)) for c, t in file.types)
            )
            casts = sqlbuild.join(
                ", ",
                (sqlbuild.sql("CAST({c} AS {t})", c=c, t=sqlbuild.Sql(t)) for c, t in file.types),
            )
            con.execute(sqlbuild.sql("CREATE TABLE {name} ({columns})", name=name, columns=columns))
            # our own temporary file's path, quoted as a string literal
            con.execute(
                sqlbuild.sql(
                    "INSERT INTO {name} SELECT {casts} FROM read_parquet({path})",
                    name=name,
                    casts=casts,
                    path=sqlbuild.literal(file.path),
                )
            )
            rows = con.execute(sqlbuild.sql("SELECT count(*) FROM {t}", t=name)).fetchone()[0]
            con.execute(
                "INSERT INTO kept_relations (scan_id, relation_key, table_name, row_count, "
                "made_by) VALUES (?, ?, ?, ?, ?)",
                [scan_id, text, name, int(rows), kept_fingerprint()],
            )


def _save_delta(
    con: duckdb.DuckDBPyConnection,
    scan_id: str,
    text: str,
    name: str,
    delta: Any,
    older: Sequence[str],
) -> None:
    """Keep the relation an appending fold made (``engine.cache.KeptDelta``) as scan
    ``scan_id``'s copy keyed ``text``.

    Its previous copy belongs to a scan whose copies this save drops (the scan it folded from,
    an older scan of the pack): that table is taken over, its removed keys' rows deleted and
    the added rows inserted, and registered as this scan's (the day's rows are written, not
    the relation's millions). Otherwise (that scan keeps its copies) the copy is written whole
    from it as a new table; and when it is gone or no longer the scan's the fold read it as
    (another save took it over), nothing is kept for the key: the next scan builds it."""
    owner = con.execute(
        "SELECT scan_id FROM kept_relations WHERE table_name = ? AND relation_key = ?",
        [delta.previous, text],
    ).fetchone()
    if owner is None or str(owner[0]) != delta.owner:
        # gone, or taken over by another saved scan since the fold read it (two saved scans
        # --since one scan, overlapping): its rows are no longer what the change was made
        # against, so nothing is kept for the key and the next scan builds it
        return
    # the key columns' and added rows' types (a column Parquet does not carry exactly comes
    # back as text: cast to the relation's own)
    types = dict(delta.types)

    def read(file: Any) -> sqlbuild.Sql:
        casts = sqlbuild.join(
            ", ",
            (
                sqlbuild.sql("CAST({c} AS {t}) AS {c}", c=c, t=sqlbuild.Sql(types[c]))
                for c, _ in file.types
            ),
        )
        # our own temporary file's path, quoted as a string literal
        return sqlbuild.sql(
            "SELECT {casts} FROM read_parquet({path})",
            casts=casts,
            path=sqlbuild.literal(file.path),
        )

    columns = sqlbuild.join(", ", (sqlbuild.sql("{c}", c=c) for c, _ in delta.types))
    same = sqlbuild.join(
        " AND ", (sqlbuild.sql("p.{k} IS NOT DISTINCT FROM r.{k}", k=k) for k in delta.key)
    )
    if str(owner[0]) in older:
        table = delta.previous
        if delta.removed is not None:
            con.execute(
                sqlbuild.sql(
                    "DELETE FROM {p} AS p WHERE EXISTS (SELECT 1 FROM ({r}) AS r WHERE {same})",
                    p=table,
                    r=read(delta.removed),
                    same=same,
                )
            )
        con.execute(
            sqlbuild.sql(
                "INSERT INTO {p} ({columns}) {a}", p=table, columns=columns, a=read(delta.added)
            )
        )
        # no longer the older scan's: drop_kept leaves it
        con.execute("DELETE FROM kept_relations WHERE table_name = ?", [table])
    else:
        table = name
        kept_rows = sqlbuild.sql("SELECT {columns} FROM {p}", columns=columns, p=delta.previous)
        if delta.removed is not None:
            kept_rows = sqlbuild.sql(
                "SELECT {columns} FROM {p} AS p ANTI JOIN ({r}) AS r ON ({same})",
                columns=columns,
                p=delta.previous,
                r=read(delta.removed),
                same=same,
            )
        con.execute(
            sqlbuild.sql(
                "CREATE TABLE {t} AS {kept_rows} UNION ALL {a}",
                t=table,
                kept_rows=kept_rows,
                a=read(delta.added),
            )
        )
    rows = con.execute(sqlbuild.sql("SELECT count(*) FROM {t}", t=table)).fetchone()[0]
    con.execute(
        "INSERT INTO kept_relations (scan_id, relation_key, table_name, row_count, "
        "made_by) VALUES (?, ?, ?, ?, ?)",
        [scan_id, text, table, int(rows), kept_fingerprint()],
    )


def drop_kept(con: duckdb.DuckDBPyConnection, scan_ids: Sequence[str]) -> None:
    """Drop the kept relations of these scans (their tables and their registry rows)."""
    if not scan_ids or not _has_table(con, "kept_relations"):
        return
    for scan_id in scan_ids:
        tables = con.execute(
            "SELECT table_name FROM kept_relations WHERE scan_id = ?", [scan_id]
        ).fetchall()
        for (name,) in tables:
            con.execute(sqlbuild.sql("DROP TABLE IF EXISTS {t}", t=name))
        con.execute("DELETE FROM kept_relations WHERE scan_id = ?", [scan_id])


@functools.cache
def kept_fingerprint() -> str:
    """The releases that wrote a kept relation (and the evidence heads, which are kept the same
    way): PromoGuard's and those of the libraries that render its rows and documents. A kept
    copy is folded or carried only by the same releases: after an upgrade the next scan builds
    and proves everything once (a key's version string covers a change of one rule between
    releases; this covers what no rule's key names: a shared helper, DuckDB's or Arrow's way
    of writing a value)."""
    from importlib import metadata

    parts = []
    for dist in ("promoguard", "duckdb", "pyarrow", "ibis-framework", "numpy"):
        try:
            parts.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}=?")
    return ";".join(parts)


def kept_copies(con: duckdb.DuckDBPyConnection, scan_id: str) -> dict[str, str]:
    """The kept relations scan ``scan_id`` saved under this code's releases
    (:func:`kept_fingerprint`): key text -> table. None in a store made before they were kept,
    or by other releases: the scan then builds them."""
    if not _has_table(con, "kept_relations"):
        return {}
    has_made_by = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'kept_relations' AND column_name = 'made_by'"
    ).fetchone()[0]
    if not has_made_by:  # written before the releases were recorded: not trusted
        return {}
    rows = con.execute(
        "SELECT relation_key, table_name FROM kept_relations WHERE scan_id = ? AND made_by = ?",
        [scan_id, kept_fingerprint()],
    ).fetchall()
    return {str(k): str(t) for k, t in rows}


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ?",
            [table],
        ).fetchone()[0]
    )


def _parquet_rows(path: str) -> int:
    from promoguard.engine.evidence import parquet_rows  # the engine imports this module

    return parquet_rows(path)


def _insert_evidence(con: duckdb.DuckDBPyConnection, evidence: Mapping[str, str]) -> None:
    """Insert the documents the store does not hold yet. A scan's own documents (a
    FrozenEvidence) are read from its Parquet spill files and Arrow, never as Python strings."""
    parts = getattr(evidence, "parts", None)
    if parts is None:
        memory: Any = pd.DataFrame(
            {"evidence_sha256": list(evidence), "document": list(evidence.values())}
        )
        files: list[str] = []
    else:
        files, memory = parts()
    con.register("_new_evidence", memory)
    try:
        sources = [sqlbuild.sql("SELECT evidence_sha256, document FROM _new_evidence")]
        if files:
            # our own temporary files' paths, quoted as string literals
            listed = sqlbuild.join(", ", (sqlbuild.literal(f) for f in files))
            sources.append(
                sqlbuild.sql(
                    "SELECT evidence_sha256, document FROM read_parquet([{listed}])", listed=listed
                )
            )
        con.execute(
            sqlbuild.sql(
                "INSERT INTO evidence SELECT n.* FROM ({union}) n "
                "ANTI JOIN evidence e USING (evidence_sha256)",
                union=sqlbuild.join(" UNION ALL ", sources),
            )
        )
    finally:
        con.unregister("_new_evidence")


def row_marks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many rows each canonical table of the store holds now (a table it lacks: none)."""
    have = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'"
        ).fetchall()
    }
    return {
        t.name: con.execute(sqlbuild.sql("SELECT count(*) FROM {t}", t=t.name)).fetchone()[0]
        for t in TABLES
        if t.name in have
    }


def latest_scan_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The most recent scan's id, or None when the store has none."""
    row = con.execute(
        "SELECT scan_id FROM scans ORDER BY started_at DESC, scan_id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else str(row[0])


def scan_record(con: duckdb.DuckDBPyConnection, scan_id: str | None = None) -> dict[str, Any]:
    """One scan (the latest when ``scan_id`` is None) as a dict of :data:`SCAN_KEYS`."""
    scan_id = scan_id or latest_scan_id(con)
    if scan_id is None:
        raise PromoGuardError("the store has no scan yet; run `promoguard scan` first")
    row = con.execute(
        "SELECT scan_id, pack, engine, checks, started_at, findings FROM scans WHERE scan_id = ?",
        [scan_id],
    ).fetchone()
    if row is None:
        raise PromoGuardError(f"no scan {scan_id!r} in the store")
    return dict(zip(SCAN_KEYS, row, strict=True))


def load_findings(con: duckdb.DuckDBPyConnection, scan_id: str | None = None) -> pd.DataFrame:
    """The findings of one scan (the latest when ``scan_id`` is None; none when there is no
    scan), ordered by check code and entity."""
    scan_id = scan_id or latest_scan_id(con)
    if scan_id is None:
        return con.execute("SELECT * FROM findings LIMIT 0").df()
    return con.execute(
        "SELECT * FROM findings WHERE scan_id = ? ORDER BY check_code, entity_id", [scan_id]
    ).df()
