"""What one scan keeps: relations several checks share, and every check's found rows.

The cache travels with the scan's :class:`~promoguard.engine.base.Tables` (``tables.scan``), not in
module state: a check's ``find`` called outside a scan gets ``None`` there and computes the plain
expression; the rows are the same either way.
"""

from __future__ import annotations

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
class ScanCache:
    """What one scan keeps in the engine: shared relations, and every check's found rows."""

    relations: dict[Hashable, ir.Table] = field(default_factory=dict)
    #: DuckDB temporary tables holding the relations, dropped when the scan ends
    temp_tables: list[str] = field(default_factory=list)
    #: check code -> (entity type, found rows); filled by the engine once all finders have run
    found: dict[str, tuple[str, pa.Table]] = field(default_factory=dict)


@contextmanager
def scan_cache(tables: Tables) -> Iterator[ScanCache]:
    """Keep shared relations for the duration of one scan, then drop them from the engine."""
    cache = ScanCache()
    tables.scan = cache
    try:
        yield cache
    finally:
        tables.scan = None
        backends.drop_temporaries(tables.backend, cache.temp_tables)
        cache.relations.clear()
        cache.found.clear()


def shared(tables: Tables, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
    """``build()``, computed once per scan and kept in the engine; outside a scan, ``build()``.

    ``key`` names the relation and every parameter it depends on.
    """
    cache = tables.scan
    if cache is None:
        return build()
    if key not in cache.relations:
        expr = build()
        kept = backends.materialise(tables.backend, expr)
        if kept is None:
            cache.relations[key] = expr
        else:
            name, table = kept
            cache.temp_tables.append(name)
            cache.relations[key] = table
    return cache.relations[key]


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
