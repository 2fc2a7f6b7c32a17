"""What one scan keeps: relations several checks share, and every check's found rows.

The cache travels with the scan's :class:`~promoguard.engine.base.Tables` (``tables.scan``), not in
module state: a check's ``find`` called outside a scan gets ``None`` there and computes the plain
expression; the rows are the same either way.

A scan may run its checks in several threads, each with its own cursor on the same DuckDB
database (``engine.run``). The cache is shared by them: a shared relation is built once, under a
lock of its own, into an in-memory database attached for the scan (every cursor of the database
sees it, unlike a temporary table, which only its own connection sees), and each thread reads it
through its own cursor.

A shared relation given a ``fold`` is *kept* from one scan to the next (``KeptState``): a saved
scan on a DuckDB file writes it into the store (``store.save_kept``), and ``scan --since S``
(``promoguard.incremental``) hands ``fold`` S's copy and the rows added since, instead of
calling ``build`` on the whole season again. docs/kept.md says how to declare and test a fold.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from promoguard.engine import backends

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

    from promoguard.engine.base import Tables

#: each shared relation's making, timed (DEBUG): where an increment's seconds go, relation by
#: relation (``benchmarks/incremental.py --trace``)
log = logging.getLogger("promoguard.kept")


@dataclass
class _Kept:
    """One shared relation: built once (``lock``), then a table name or an expression."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str | None = None  # a table in the scan's database (DuckDB)
    expr: ir.Table | None = None  # the expression itself (Spark recomputes it where used)
    database: str | None = None  # the attached database holding ``name``


@dataclass(frozen=True)
class Appended:
    """A fold's result as a change to the previous copy: its rows but those whose ``key``
    columns equal a row of ``removed`` (nulls equal to nulls), and the rows of ``added``.

    A fold whose day changes a few rows of a big relation returns this instead of the whole
    relation (docs/kept.md, "An appending fold"): the scan then reads a view over the store's
    previous copy (an anti join with the few removed keys, UNION ALL the few added rows) instead
    of copying every row into its own database, and a saved scan deletes and inserts those
    rows in the previous copy's table, which it takes over, instead of writing the relation
    whole. ``removed``: the key columns alone (named as in the relation), or None (append
    only); ``added`` has the relation's columns."""

    added: ir.Table
    removed: ir.Table | None = None
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.removed is not None and (
            not self.key or list(self.removed.columns) != list(self.key)
        ):
            raise ValueError(
                f"removed keys' columns {list(self.removed.columns)} are not the key {self.key}"
            )

    def whole(self, previous: ir.Table) -> ir.Table:
        """The relation these rows make with ``previous`` (what the scan reads), as Ibis."""
        kept = previous
        if self.removed is not None:
            r = self.removed
            kept = previous.anti_join(r, [previous[k].identical_to(r[k]) for k in self.key])
        return backends.union_all(
            kept.select(*previous.columns), self.added.select(*previous.columns)
        )


def whole(out: ir.Table | Appended, previous: ir.Table) -> ir.Table:
    """A fold's result as the whole relation (an :class:`Appended` made whole with the
    ``previous`` copy it was folded from), for a test comparing it with ``build``'s."""
    return out.whole(previous) if isinstance(out, Appended) else out


#: what a kept relation's ``fold`` is: (previous, tables, new) -> the relation on the season now
#: (whole, or as :class:`Appended` to the previous copy)
Fold = Callable[["ir.Table", "Tables", "Tables"], "ir.Table | Appended"]


@dataclass
class KeptState:
    """What one scan does with kept relations (shared relations given a ``fold``).

    ``previous``: the copies the scan ``--since`` saved, relation key text (:func:`key_text`) ->
    table, readable through the scan's connection (the store's ``kept_*`` tables); ``new``: per
    canonical table, the row position from which its rows were added since that scan (DuckDB
    ``rowid``; a table not named here has no new rows), or None when there is nothing to fold
    from; ``save``: whether the scan writes the kept relations it builds or folds, for the store
    to keep when the scan is saved (``store.save_kept``).
    """

    previous: Mapping[str, str] = field(default_factory=dict)
    new: Mapping[str, int] | None = None
    save: bool = False
    #: filled by the scan: key text -> its rows written out (:class:`KeptFile`, or what an
    #: appending fold changed: :class:`KeptDelta`), and how each was made
    written: dict[str, KeptFile | KeptDelta] = field(default_factory=dict)
    folded: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    #: the private temporary folder the written relations are in (made on first use)
    _folder: tempfile.TemporaryDirectory[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_file(self, text: str) -> str:
        with self._lock:
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="promoguard-kept-")
            return os.path.join(self._folder.name, f"kept-{len(self.written)}-{_tag()}.parquet")

    def copies(self) -> KeptCopies | None:
        """What the scan wrote, for the store to keep (None: nothing)."""
        if not self.written:
            return None
        return KeptCopies(dict(self.written), self._folder)


@dataclass
class KeptFile:
    """A kept relation's rows in a Parquet file, and the DuckDB types of its columns (in order)
    that the store gives them back (a type Parquet does not carry exactly, such as a HUGEINT,
    is written as text and cast back)."""

    path: str
    types: list[tuple[str, str]]


@dataclass
class KeptDelta:
    """A kept relation an appending fold made (:class:`Appended`), for the store: the rows of
    the store's table ``previous`` (the copy the fold read) whose ``key`` columns equal a row
    of ``removed`` go (None: none), and the rows of ``added`` come (both Parquet files; ``types``:
    the relation's columns and DuckDB types, in order)."""

    previous: str
    key: tuple[str, ...]
    removed: KeptFile | None
    added: KeptFile
    types: list[tuple[str, str]]
    #: the scan the store listed ``previous`` under when the fold read it: the change applies
    #: to that table only while it is still that scan's (another saved scan may have taken it
    #: over since, with a change of its own: review 11)
    owner: str | None = None


@dataclass
class KeptCopies:
    """Kept relations a scan wrote: key text -> its file or its change to the previous copy
    (the folder is removed with this object, or by :meth:`close` once the store holds them)."""

    tables: dict[str, KeptFile | KeptDelta]
    folder: tempfile.TemporaryDirectory[str] | None = None

    def close(self) -> None:
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None


def key_text(key: Hashable) -> str:
    """A kept relation's key as the store records it: its ``repr``, once checked to hold only
    str, int, float, bool, None and tuples of them (whose repr is the same in every process)."""

    def check(value: object) -> None:
        if isinstance(value, tuple):
            for v in value:
                check(v)
        elif value is not None and type(value) not in (str, int, float, bool):
            raise TypeError(
                f"a kept relation's key holds only str/int/float/bool/None/tuples, not {value!r}"
            )

    check(key)
    return repr(key)


def kept_table_name(scan_id: str, text: str) -> str:
    """The store's table for scan ``scan_id``'s copy of the relation keyed ``text``."""
    digest = hashlib.sha256(f"{scan_id}\x1f{text}".encode()).hexdigest()[:24]
    return f"kept_{digest}"


@dataclass
class ScanCache:
    """What one scan keeps in the engine: shared relations, and every check's found rows."""

    relations: dict[Hashable, _Kept] = field(default_factory=dict)
    #: DuckDB tables holding the relations (in ``database``), dropped when the scan ends
    temp_tables: list[str] = field(default_factory=list)
    #: check code -> (entity type, found rows); filled by the engine once all finders have run
    found: dict[str, tuple[str, pa.Table]] = field(default_factory=dict)
    #: the in-memory database attached for the scan's shared relations (DuckDB), else None
    database: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: kept relations: what to fold from and whether to write them (None: build, write nothing)
    kept: KeptState | None = None
    #: canonical table -> view (in ``database``) of its rows added since the kept copies' scan
    new_views: dict[str, str] = field(default_factory=dict)


@contextmanager
def scan_cache(tables: Tables, kept: KeptState | None = None) -> Iterator[ScanCache]:
    """Keep shared relations for the duration of one scan, then drop them from the engine.

    With ``kept`` (and DuckDB), kept relations fold from ``kept.previous`` where it has their
    key, and with ``kept.save`` are written to Parquet files that outlive the scan
    (``kept.copies()``), for the store to keep when the scan is saved."""
    cache = ScanCache()
    if tables.backend.name == "duckdb":
        cache.database = backends.attach_scratch(tables.backend, f"_promoguard_scan_{_tag()}")
    if cache.database is not None and kept is not None:
        cache.kept = kept
        if kept.new is not None and kept.previous:
            cache.new_views = _new_views(tables.backend, cache.database, kept.new)
    tables.scan = cache
    try:
        yield cache
    finally:
        tables.scan = None
        backends.drop_temporaries(tables.backend, cache.temp_tables, cache.database)
        cache.relations.clear()
        cache.found.clear()


def _tag() -> str:
    return uuid.uuid4().hex[:12]


def shared(
    tables: Tables,
    key: Hashable,
    build: Callable[[], ir.Table],
    fold: Fold | None = None,
) -> ir.Table:
    """``build()``, computed once per scan and kept in the engine; outside a scan, ``build()``.

    ``key`` names the relation and every parameter it depends on. Threads of one scan asking
    for the same key wait for the first to build it; each gets it bound to its own cursor.

    With ``fold`` the relation is kept from scan to scan: ``fold(previous, tables, new)`` must
    return exactly what ``build()`` returns, from ``previous`` (this relation, under the identical
    key, as the scan ``--since`` computed it), ``tables`` (the season now) and ``new`` (Tables
    of only the rows added since that scan). It is called instead of ``build()`` when the scan
    has such a copy (``scan --since`` on a DuckDB file); and a scan that will be saved writes
    the relation for the next one. The key then holds only str/int/float/bool/None/tuples.
    """
    cache = tables.scan
    if cache is None:
        return build()
    with cache.lock:
        kept = cache.relations.setdefault(key, _Kept())
    with kept.lock:
        if kept.name is None and kept.expr is None:
            began = time.perf_counter()
            how = "built"
            state = cache.kept if fold is not None else None
            text = key_text(key) if state is not None else None
            database = cache.database
            delta: Appended | None = None
            if state is not None and text in state.previous and state.new is not None:
                previous = tables.backend.table(state.previous[text])
                out = fold(previous, tables, _new_rows(tables, cache))  # type: ignore[misc]
                types = _column_types(tables.backend, state.previous[text])
                made_by = state.folded
                how = "folded"
                if isinstance(out, Appended):
                    delta, expr = out, None
                else:
                    expr = out
            else:
                expr = build()
                types = None
                made_by = state.built if state is not None else None
            if delta is not None:
                assert state is not None and text is not None and types is not None
                _keep_appended(tables, cache, kept, state, text, delta, types)
            else:
                made = backends.materialise(tables.backend, expr, database, types)
                if made is None:
                    kept.expr = expr
                else:
                    kept.name, kept.database = made, database
                    with cache.lock:
                        cache.temp_tables.append(made)
                    if state is not None and state.save and database is not None:
                        # written out once, for the store to keep when the scan is saved
                        # (Parquet: at a city day's 5M rows a DuckDB file's compression cost
                        # 3-4x as much)
                        assert text is not None
                        state.written[text] = _write_out(
                            tables.backend, database, made, state, text
                        )
            if made_by is not None:
                with cache.lock:
                    made_by.append(text)  # type: ignore[arg-type]
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %.3f s %s %s",
                    how,
                    time.perf_counter() - began,
                    threading.current_thread().name,
                    # (a relation made inside another's build counts in both)
                    (repr(key) if text is None else text)[:160],
                )
    if kept.name is not None:
        return backends.kept_table(tables.backend, kept.name, kept.database)
    return kept.expr  # type: ignore[return-value]


def _keep_appended(
    tables: Tables,
    cache: ScanCache,
    kept: _Kept,
    state: KeptState,
    text: str,
    delta: Appended,
    types: list[tuple[str, str]],
) -> None:
    """An appending fold's relation in the scan: its added rows (cast to the previous copy's
    types) and removed keys as tables of the scan's database, and a view over the store's
    previous copy but the removed keys, UNION ALL the added rows (every reader reads that view:
    no copy of the kept rows is made); with ``state.save``, both written out for the store
    (:class:`KeptDelta`)."""
    from promoguard import sqlbuild

    backend, database = tables.backend, cache.database
    assert database is not None  # folds run only in a scan with its own database
    previous = state.previous[text]
    added = backends.materialise(
        backend, delta.added.select(*[c for c, _ in types]), database, types
    )
    assert added is not None
    made = [added]
    kept_rows = sqlbuild.sql("SELECT * FROM {store}.main.{p}", store=_store(backend), p=previous)
    removed = None
    if delta.removed is not None:
        removed = backends.materialise(backend, delta.removed, database)
        assert removed is not None
        made.append(removed)
        # (an anti join: ``NOT IN`` would keep no row at all once a removed key is null)
        same = sqlbuild.join(
            " AND ",
            (sqlbuild.sql("p.{k} IS NOT DISTINCT FROM r.{k}", k=k) for k in delta.key),
        )
        kept_rows = sqlbuild.sql(
            "SELECT p.* FROM {store}.main.{p} AS p ANTI JOIN {db}.main.{r} AS r ON ({same})",
            store=_store(backend),
            p=previous,
            db=database,
            r=removed,
            same=same,
        )
    view = f"_promoguard_appended_{_tag()}"
    columns = sqlbuild.join(", ", (sqlbuild.sql("{c}", c=c) for c, _ in types))
    backend.con.execute(  # type: ignore[attr-defined]
        sqlbuild.sql(
            "CREATE VIEW {db}.main.{view} AS SELECT {columns} FROM ({kept_rows}) "
            "UNION ALL SELECT {columns} FROM {db}.main.{a}",
            db=database,
            view=view,
            columns=columns,
            kept_rows=kept_rows,
            a=added,
        )
    )
    with cache.lock:
        cache.temp_tables.extend(made)  # (the view goes with the scan's database)
    kept.name, kept.database = view, database
    if state.save:
        owner = backend.con.execute(  # type: ignore[attr-defined]
            "SELECT scan_id FROM kept_relations WHERE table_name = ? AND relation_key = ?",
            [previous, text],
        ).fetchone()
        state.written[text] = KeptDelta(
            previous,
            delta.key,
            None if removed is None else _write_out(backend, database, removed, state, text),
            _write_out(backend, database, added, state, text),
            types,
            None if owner is None else str(owner[0]),
        )


def _store(backend: object) -> str:
    """The name of the store's database on the scan's connection."""
    return backend.con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[attr-defined]


def previous_copy(tables: Tables, key: Hashable) -> ir.Table | None:
    """The scan since's copy of the kept relation ``key`` (as :func:`shared`'s ``fold`` gets it
    as ``previous``), read through ``tables``; None when this scan folds from no such copy (a
    full scan, another key, a copy its releases did not write). For a check's kept-evidence hook
    that must know what the scan since found (BRUSH001: each block's shops)."""
    cache = tables.scan
    state = cache.kept if cache is not None else None
    if state is None or state.new is None:
        return None
    name = state.previous.get(key_text(key))
    return None if name is None else tables.backend.table(name)


def _new_rows(tables: Tables, cache: ScanCache) -> Tables:
    """``tables`` holding only the rows added since the scan the kept copies are from (the
    scan's ``_promoguard_new_*`` views); a table with none added is empty."""
    from promoguard.engine.base import Tables as _Tables

    database, views = cache.database, cache.new_views

    class _NewRows(_Tables):
        def _canonical(self, name: str) -> ir.Table:
            import ibis

            whole = super()._canonical(name)  # the model's columns, also in an older store
            if name not in views:
                return whole.filter(ibis.literal(False))
            rows = self.backend.table(views[name], database=(database, "main"))
            missing = {
                c: ibis.null().cast(whole.schema()[c])
                for c in whole.columns
                if c not in rows.columns
            }
            if missing:
                rows = rows.mutate(**missing)
            return rows.select(*whole.columns)

    return _NewRows(tables.backend)


#: DuckDB types a Parquet file gives back exactly (others are written as text: HUGEINT would
#: come back a DOUBLE)
_PARQUET_EXACT = {
    "BOOLEAN",
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "VARCHAR",
    "BLOB",
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
}


def _write_out(backend: object, database: str, name: str, state: KeptState, text: str) -> KeptFile:
    """Write the scan's table ``name`` (in ``database``) to a Parquet file of ``state``'s."""
    from promoguard import sqlbuild

    types = _column_types(backend, name, database)
    path = state.new_file(text)
    columns = sqlbuild.join(
        ", ",
        (
            sqlbuild.sql("{c}", c=c)
            if t in _PARQUET_EXACT or t.startswith("DECIMAL")
            else sqlbuild.sql("CAST({c} AS VARCHAR) AS {c}", c=c)
            for c, t in types
        ),
    )
    backend.con.execute(  # type: ignore[attr-defined]
        sqlbuild.sql(
            "COPY (SELECT {columns} FROM {db}.main.{t}) TO {path} (FORMAT parquet, "
            "COMPRESSION snappy)",
            columns=columns,
            db=database,
            t=name,
            path=sqlbuild.literal(path),
        )
    ).fetchall()
    return KeptFile(path, types)


def _column_types(
    backend: object, table: str, database: str | None = None
) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a table of the store (or of ``database``), in order."""
    con = backend.con  # type: ignore[attr-defined]
    if database is None:
        database = con.execute("SELECT current_database()").fetchone()[0]
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [database, table],
    ).fetchall()
    return [(str(c), str(t)) for c, t in rows]


def _new_views(backend: object, database: str, marks: Mapping[str, int]) -> dict[str, str]:
    """Views (in the scan's ``database``) of each canonical table's rows at or past its mark in
    ``marks`` (row positions: DuckDB ``rowid``, the rows added since the marks were taken)."""
    from promoguard import sqlbuild
    from promoguard.model import TABLE_NAMES

    con = backend.con  # type: ignore[attr-defined]
    store = con.execute("SELECT current_database()").fetchone()[0]
    have = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
            "AND schema_name = 'main'",
            [store],
        ).fetchall()
    }
    views = {}
    for table in TABLE_NAMES:
        if table not in have or table not in marks:
            continue
        view = f"_promoguard_new_{table}"
        con.execute(
            sqlbuild.sql(
                "CREATE VIEW {db}.main.{view} AS SELECT * FROM {store}.main.{table} "
                "WHERE rowid >= {mark}",
                db=database,
                view=view,
                store=store,
                table=table,
                mark=int(marks[table]),
            )
        )
        views[table] = view
    return views


def found_entities(tables: Tables, entity_type: str) -> Mapping[str, pa.Table] | None:
    """Within a scan whose finders have all run: check code -> found rows of checks finding
    ``entity_type``; else None."""
    cache = tables.scan
    if cache is None or not cache.found:
        return None
    out: dict[str, pa.Table] = {}
    for code, (etype, rows) in cache.found.items():
        if "entity_type" in rows.column_names:  # a check that finds several kinds of entity
            kinds = rows.column("entity_type").to_pylist()
            # as the engine reads it: a blank entity_type is the check's own
            keep = [i for i, k in enumerate(kinds) if (k or etype) == entity_type]
            out[code] = rows.take(pa.array(keep, pa.int64()))
        elif etype == entity_type:
            out[code] = rows
    return out
