"""Reading a Parquet lake: its manifest and DuckDB views over the files it lists.

The store (``store.connect``) opens a lake through this module; writing a lake (ingest, scans)
is ``promoguard.lake``. This module imports nothing of the store's: the tables' columns and types
are handed in (``store.table_schema()``), so the store can depend on it without a cycle.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from promoguard import sqlbuild
from promoguard.errors import StoreError, first_line
from promoguard.model import TABLE_NAMES

#: table -> [(column, DuckDB type)], as the store creates them
Schema = dict[str, list[tuple[str, str]]]

MANIFEST = "_manifest.json"
FORMAT = "promoguard-lake/1"
STAGING = "_staging"
LOCK = "_lock"

#: Tables partitioned by the UTC day of this instant (the big, daily-growing ones).
DAY_COLUMN: dict[str, str] = {
    "price_observations": "observed_at",
    "orders": "paid_at",
    "tracking_events": "event_at",
    "reviews": "created_at",
    "texts": "created_at",
    "findings": "detected_at",
}
#: The store's bookkeeping tables, kept in the lake beside the canonical tables.
BOOK_TABLES: tuple[str, ...] = (
    "quarantine",
    "ingest_log",
    "scans",
    "findings",
    "evidence",
    "finding_seals",
    "scan_seals",
)
ALL_TABLES: tuple[str, ...] = (*TABLE_NAMES, *BOOK_TABLES)


class LakeError(StoreError):
    """A lake cannot be read or written as asked; it was left as it was."""


def is_lake(path: str | Path) -> bool:
    """A store path names a lake when it is a folder, or does not exist yet and ends in '/'."""
    text = str(path)
    p = Path(text)
    if p.is_dir():
        return True
    return not p.exists() and text.endswith(("/", os.sep))


def _q(name: str) -> sqlbuild.Sql:
    return sqlbuild.ident(name)


def _sql_str(text: str) -> sqlbuild.Sql:
    return sqlbuild.literal(text)


@dataclass
class Manifest:
    version: int
    tables: dict[str, list[str]]  # table -> files, relative to the lake root
    batches: list[dict[str, Any]]

    @classmethod
    def empty(cls) -> Manifest:
        return cls(0, {t: [] for t in ALL_TABLES}, [])

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "version": self.version,
                "tables": self.tables,
                "batches": self.batches,
            },
            indent=1,
            sort_keys=True,
        )


#: a batch id as ``lake.ingest`` makes it (``20261111T080000Z-1a2b3c4d``) and as a scan's id is
#: (``scan-20261111T080000Z-1a2b3c``): the names of the folders a batch stages in ``_staging/``
INGEST_BATCH = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}")
SCAN_BATCH = re.compile(r"scan-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}")
_MANIFEST_TMP = re.compile(re.escape(f".{MANIFEST}.") + r"[0-9a-f]{32}")


def is_batch_folder(entry: Path) -> bool:
    """Whether ``entry`` (in ``_staging/``) is a folder a batch staged in: a real folder (not a
    link) named by a batch id. Only these are removed when a killed batch left them."""
    return (
        (INGEST_BATCH.fullmatch(entry.name) or SCAN_BATCH.fullmatch(entry.name)) is not None
        and entry.is_dir()
        and not entry.is_symlink()
    )


def _left_by_a_first_batch(entry: Path) -> bool:
    """Whether ``entry``, in a folder without a manifest, is what a lake's first batch leaves
    when it stops before it publishes the empty manifest (the ingest itself was running): the
    lock file, a manifest's temporary file, or the staging folder (a real folder) holding only
    batch folders. The batch's files land in the table folders only after the empty manifest
    is published, so a table folder without a manifest is a lake that lost its manifest."""
    name = entry.name
    if entry.is_symlink():
        return False
    if name == LOCK or _MANIFEST_TMP.fullmatch(name):
        return entry.is_file()
    if name == STAGING and entry.is_dir():
        return all(INGEST_BATCH.fullmatch(c.name) and is_batch_folder(c) for c in entry.iterdir())
    return False


def read_manifest(root: str | Path) -> Manifest:
    """The lake's manifest. A folder without one is an empty lake when it holds nothing, or
    only what a first batch that stopped before publishing anything left (its lock, its staging
    folder); any other folder is refused: one holding table folders has lost its manifest
    (reading it as empty would hide every file in it)."""
    path = Path(root) / MANIFEST
    if not path.exists():
        here = Path(root)
        if here.is_dir():
            entries = list(here.iterdir())
            tables = sorted(p.name for p in entries if p.name in ALL_TABLES)
            if tables:
                raise LakeError(
                    f"{root} holds table folders ({', '.join(tables)}) but no {MANIFEST}: a lake "
                    "that lost its manifest is not read as empty (a new batch would hide every "
                    "file in it); restore the manifest, or choose another folder"
                )
            if not all(_left_by_a_first_batch(p) for p in entries):
                raise LakeError(f"{root} is a folder but not a PromoGuard lake (no {MANIFEST})")
        return Manifest.empty()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LakeError(f"{path}: cannot be read as a lake manifest: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise LakeError(f"{path}: not a {FORMAT} manifest")
    tables = {t: [] for t in ALL_TABLES}
    for table, files in (doc.get("tables") or {}).items():
        if table not in tables or not isinstance(files, list):
            raise LakeError(f"{path}: unknown table {table!r}")
        for f in files:
            # the manifest is data: a path that leaves the lake is refused, never followed
            if not isinstance(f, str) or f.startswith("/") or ".." in Path(f).parts:
                raise LakeError(f"{path}: file {f!r} is outside the lake")
        tables[table] = list(files)
    return Manifest(int(doc.get("version", 0)), tables, list(doc.get("batches") or []))


def files_of(root: str | Path, table: str, manifest: Manifest | None = None) -> list[str]:
    """Absolute paths of a table's files (what DuckDB or a Spark executor opens)."""
    m = manifest or read_manifest(root)
    base = Path(root).resolve()
    return [str(base / f) for f in m.tables.get(table, [])]


def relation_sql(
    root: str | Path, table: str, schema: Schema, manifest: Manifest | None = None
) -> str:
    """A SELECT of a table's rows in the lake, with the store's column types."""
    cols = schema[table]
    files = files_of(root, table, manifest)
    if not files:
        typed = sqlbuild.join(
            ", ",
            (sqlbuild.sql("CAST(NULL AS {t}) AS {c}", t=sqlbuild.Sql(t), c=c) for c, t in cols),
        )
        return sqlbuild.sql("SELECT {typed} WHERE false", typed=typed)
    typed = sqlbuild.join(
        ", ", (sqlbuild.sql("CAST({c} AS {t}) AS {c}", c=c, t=sqlbuild.Sql(t)) for c, t in cols)
    )
    return sqlbuild.sql(
        "SELECT {typed} FROM read_parquet([{listed}], hive_partitioning = false)",
        typed=typed,
        listed=sqlbuild.join(", ", (sqlbuild.literal(f) for f in files)),
    )


def attach_views(
    con: duckdb.DuckDBPyConnection,
    root: str | Path,
    schema: Schema,
    manifest: Manifest | None = None,
    tables: Sequence[str] = ALL_TABLES,
    prefix: str = "",
) -> None:
    m = manifest or read_manifest(root)
    for table in tables:
        relation = sqlbuild.Sql(relation_sql(root, table, schema, m))
        con.execute(sqlbuild.sql("CREATE OR REPLACE VIEW {v} AS {r}", v=prefix + table, r=relation))


def open_views(root: str | Path, schema: Schema) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with every lake table as a read-only view of its files."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no lake at {root}")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        attach_views(con, root, schema)
    except duckdb.Error as exc:  # a listed file gone: the lake's problem, in one line
        con.close()
        raise LakeError(f"cannot read the lake {root}: {first_line(exc)}") from None
    except BaseException:
        con.close()
        raise
    return con
