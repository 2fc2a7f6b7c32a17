"""What one scan keeps: relations several checks share, and every check's found rows.

The cache travels with the scan's :class:`~promoguard.engine.base.Tables` (``tables.scan``), not in
module state: a check's ``find`` called outside a scan gets ``None`` there and computes the plain
expression; the rows are the same either way.

A scan may run its checks in several threads, each with its own cursor on the same DuckDB
database (``engine.run``). The cache is shared by them: a shared relation is built once, under a
lock of its own, into an in-memory database attached for the scan (every cursor of the database
sees it, unlike a temporary table, which only its own connection sees), and each thread reads it
through its own cursor.
"""

from __future__ import annotations

import threading
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


@dataclass
class _Kept:
    """One shared relation: built once (``lock``), then a table name or an expression."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str | None = None  # a table in the scan's database (DuckDB)
    expr: ir.Table | None = None  # the expression itself (Spark recomputes it where used)


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


@contextmanager
def scan_cache(tables: Tables) -> Iterator[ScanCache]:
    """Keep shared relations for the duration of one scan, then drop them from the engine."""
    cache = ScanCache()
    if tables.backend.name == "duckdb":
        cache.database = backends.attach_scratch(tables.backend, f"_promoguard_scan_{_tag()}")
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


def shared(tables: Tables, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
    """``build()``, computed once per scan and kept in the engine; outside a scan, ``build()``.

    ``key`` names the relation and every parameter it depends on. Threads of one scan asking
    for the same key wait for the first to build it; each gets it bound to its own cursor.
    """
    cache = tables.scan
    if cache is None:
        return build()
    with cache.lock:
        kept = cache.relations.setdefault(key, _Kept())
    with kept.lock:
        if kept.name is None and kept.expr is None:
            expr = build()
            made = backends.materialise(tables.backend, expr, cache.database)
            if made is None:
                kept.expr = expr
            else:
                kept.name = made
                with cache.lock:
                    cache.temp_tables.append(made)
    if kept.name is not None:
        return backends.kept_table(tables.backend, kept.name, cache.database)
    return kept.expr  # type: ignore[return-value]


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
