"""Run checks against a store on an engine, and turn what they find into findings.

DuckDB reads the store in place. Spark gets the store's canonical tables exported to Parquet (UTC
instants, exact decimals) and registered as temporary views; the checks are the same Ibis code,
so both engines give the same findings, ids and evidence hashes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from promoguard import __version__
from promoguard import store as store_mod
from promoguard.engine import backends, registry
from promoguard.engine.base import (
    COVERAGE_METADATA,
    FOUND_COLUMNS,
    SEVERITIES,
    Check,
    GroupRows,
    ScanContext,
    Tables,
)
from promoguard.engine.cache import KeptCopies, KeptFile, KeptState, key_text, scan_cache
from promoguard.engine.evidence import (
    EVIDENCE_SCHEMA,
    FrozenEvidence,
    SpillFiles,
    canonical_json,
    canonical_json_group_table,
    canonical_value,
    cut_templates,
    fill_groups,
    group_templates,
    json_column,
    json_objects,
    parquet_rows,
    write_parquet,
)
from promoguard.engine.packs import Pack, load_pack
from promoguard.errors import CheckError, interrupted
from promoguard.hugepages import no_hugepage_stalls
from promoguard.model import ENTITY_TYPES, FINDING_COLUMNS
from promoguard.text.mask import mask_array

ENGINES = ("duckdb", "spark")
FINDING_NAMES = [c.name for c in FINDING_COLUMNS]
#: ``progress(step, done, total)``: what the scan is doing, for a caller that shows it
Progress = Callable[[str, int, int], None]


@dataclass
class CheckRun:
    code: str
    findings: int
    seconds: float
    error: str | None = None
    #: where ``seconds`` went: the finder, the evidence queries, freezing (JSON and SHA-256)
    parts: dict[str, float] = field(default_factory=dict)
    #: kept evidence (``Check.evidence_touched``): how many findings took the document of the
    #: scan since's same finding instead of proving it again (None: none could)
    carried: int | None = None


class HeldFindings:
    """A scan's findings as Arrow, in the checks' order, held off the Python heap: each check's
    findings table, and once more than ``spill_bytes`` are held, Parquet files in a private
    temporary folder (at twice the city a scan's 1.4M findings were ~1 GB of Arrow, and ~1.5 GB
    more as a pandas frame, until it ended). The store reads the files back with SQL when the
    scan is saved (:meth:`parts`); :meth:`to_arrow` reads them whole."""

    SPILL_BYTES = 64 * 2**20

    def __init__(self, spill_bytes: int | None = None) -> None:
        self._spill_bytes = self.SPILL_BYTES if spill_bytes is None else spill_bytes
        self._tables: list[pa.Table] = []
        self._held = 0
        self._files: list[str] = []
        self._rows = 0
        self._spill_files = SpillFiles("promoguard-findings-")

    def stage(self, table: pa.Table) -> pa.Table | str:
        """What a worker thread hands :meth:`add` later: a large table written to a Parquet
        file now, a small one as it is. Safe to call from several threads."""
        if table.nbytes <= self._spill_bytes // 4:
            return table
        path = self._spill_files.new_file()
        write_parquet(table, path)
        return path

    def add(self, table: pa.Table | str) -> None:
        """Add a check's findings (in the checks' order), or a file :meth:`stage` wrote."""
        if isinstance(table, str):
            self._flush()  # files and tables stay in the order they were added
            self._files.append(table)
            self._rows += parquet_rows(table)
            return
        if not table.num_rows:
            return
        self._tables.append(table)
        self._held += table.nbytes
        self._rows += table.num_rows
        if self._held > self._spill_bytes:
            self._flush()

    def _flush(self) -> None:
        if not self._tables:
            return
        path = self._spill_files.new_file()
        write_parquet(pa.concat_tables(self._tables), path)
        self._files.append(path)
        self._tables, self._held = [], 0

    def parts(self) -> tuple[list[str], pa.Table]:
        """(Parquet files, then the findings still in memory), in the checks' order."""
        memory = pa.concat_tables(self._tables) if self._tables else FINDINGS_SCHEMA.empty_table()
        return list(self._files), memory

    def to_arrow(self, columns: list[str] | None = None) -> pa.Table:
        import pyarrow.parquet as pq

        files, memory = self.parts()
        tables = [*(pq.read_table(f, columns=columns) for f in files), memory]
        if columns is not None:
            tables[-1] = memory.select(columns)
        return pa.concat_tables(tables)

    def __len__(self) -> int:
        return self._rows


class ScanResult:
    """What a scan found: its findings (a pandas frame, built when first read: a scan keeps them
    in Arrow and Parquet, :class:`HeldFindings`), what each check did, the frozen evidence."""

    def __init__(
        self,
        scan_id: str,
        pack: str,
        engine: str,
        findings: pd.DataFrame | HeldFindings,
        runs: list[CheckRun] | None = None,
        evidence: Mapping[str, str] | None = None,
        coverage: dict[str, dict[str, Any]] | None = None,
        seal: str = "",
        marks: dict[str, int] | None = None,
    ) -> None:
        self.scan_id = scan_id
        self.pack = pack
        self.engine = engine
        self._held: HeldFindings | None = None
        self._frame: pd.DataFrame | None = None
        if isinstance(findings, HeldFindings):
            self._held = findings
        else:
            self._frame = findings
        self.runs: list[CheckRun] = runs if runs is not None else []
        #: sha256 -> canonical JSON (a FrozenEvidence from a scan: the documents in Arrow)
        self.evidence: Mapping[str, str] = evidence if evidence is not None else {}
        #: check code -> {"status": "ran", "rows": N, ...} or {"status": "skipped", ...}
        self.coverage: dict[str, dict[str, Any]] = coverage if coverage is not None else {}
        self.seal = seal  # the scan seal (integrity.py), once saved
        #: rows per canonical table the scan read (a DuckDB file; ``store.row_marks``)
        self.marks = marks
        #: the kept relations the scan wrote (``engine.cache``), for the store when it is saved
        self.kept: list[KeptCopies] = []

    @property
    def findings(self) -> pd.DataFrame:
        """The findings as a DataFrame of FINDING_NAMES, typed as the store's read back."""
        if self._frame is None:
            assert self._held is not None
            self._frame = self._held.to_arrow().to_pandas()
        return self._frame

    @findings.setter
    def findings(self, frame: pd.DataFrame) -> None:
        self._frame, self._held = frame, None

    @property
    def finding_count(self) -> int:
        if self._frame is None and self._held is not None:
            return len(self._held)
        return len(self.findings)

    def findings_arrow(self, columns: list[str] | None = None) -> pa.Table:
        """The findings (or some of their columns) as Arrow, without a pandas frame."""
        if self._frame is None and self._held is not None:
            return self._held.to_arrow(columns)
        table = pa.Table.from_pandas(self.findings, preserve_index=False)
        return table.select(columns) if columns is not None else table

    def findings_parts(self) -> tuple[list[str], pa.Table | pd.DataFrame]:
        """(Parquet files, then the rest) of the findings, for the store to read with SQL."""
        if self._frame is None and self._held is not None:
            return self._held.parts()
        return [], self.findings

    def summary(self) -> dict[str, Any]:
        by_code: dict[str, int] = {}
        if self.finding_count:
            codes = self.findings_arrow(["check_code"]).column("check_code")
            counts = pc.value_counts(codes)
            by_code = {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}
        return {
            "scan_id": self.scan_id,
            "pack": self.pack,
            "engine": self.engine,
            "findings": int(self.finding_count),
            "by_check": {r.code: int(by_code.get(r.code, 0)) for r in self.runs},
            "seconds": {r.code: round(r.seconds, 3) for r in self.runs},
            "coverage": self.coverage,
            "not_checked": sorted(
                c for c, v in self.coverage.items() if v.get("status") == "skipped"
            ),
        }


def coverage_text(cover: dict[str, Any] | None) -> str:
    """How a check's coverage reads to a person: "not checked (no price_observations)", "1,204
    rows", "1,204 rows; 1,600 not scored (...)"."""
    if not cover:
        return ""
    if cover.get("status") == "skipped":
        return f"not checked ({cover.get('reason', 'no data')})"
    text = f"{int(cover.get('rows', 0)):,} rows"
    if cover.get("not_scored"):
        text += f"; {int(cover['not_scored']):,} not scored ({cover.get('reason', '')})"
    return text


# -- coverage ------------------------------------------------------------------------------------


def requirements(check: Check) -> tuple[str, ...]:
    """What ``check`` cannot judge anything without (``Check.requires``, else its first table)."""
    if check.requires:
        return tuple(check.requires)
    return check.reads[:1]


def check_coverage(tables: Tables, check: Check, counts: dict[str, int | None]) -> dict[str, Any]:
    """Whether the store holds what ``check`` needs: ``{"status": "ran", "rows": N}`` (N: rows of
    its first requirement) or ``{"status": "skipped", "reason": "no texts"}``. ``counts`` caches
    the row counts across the checks of a scan."""
    rows = None
    for need in requirements(check):
        if need not in counts:
            counts[need] = _count(tables, need)
        n = counts[need]
        if not n:
            return {"status": "skipped", "reason": f"no {need.replace('|', ' or ')}"}
        rows = n if rows is None else rows
    return {"status": "ran", "rows": int(rows or 0)}


def _count(tables: Tables, need: str) -> int | None:
    """Rows of a table, or non-empty values of ``table.column``; None when it does not exist."""
    if "|" in need:  # any of several tables will do (REVIEW002 reads texts or reviews)
        parts = [_count(tables, one) for one in need.split("|")]
        return sum(p or 0 for p in parts) if any(p is not None for p in parts) else None
    name, _, column = need.partition(".")
    try:
        t = tables[name]
        if column:
            if column not in t.columns:
                return None
            t = t.filter(t[column].notnull())
        return int(tables.to_arrow(t.aggregate(n=t.count())).column("n")[0].as_py())
    except CheckError:
        raise
    except Exception as exc:  # the table is not in this store (an older store, another view)
        if interrupted(exc):  # Ctrl-C stopped the count: not a table that is absent
            raise
        return None


def _empty_found(check: Check) -> pa.Table:
    return pa.table({c: pa.array([], pa.string()) for c in FOUND_COLUMNS})


# -- running -------------------------------------------------------------------------------------


def _params_digest(params: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(params).encode()).hexdigest()[:16]


def finding_id(
    pack: str, check: Check, entity_id: str, params: dict[str, Any], entity_type: str | None = None
) -> str:
    """Stable: the same pack, check, entity and parameters always give the same id."""
    return _finding_id(
        pack, check.code, entity_type or check.entity_type, entity_id, _params_digest(params)
    )


def _finding_id(pack: str, code: str, entity_type: str, entity_id: str, params_digest: str) -> str:
    """:func:`finding_id` with the parameters' digest computed once per check, not per finding."""
    key = f"{pack}\x1f{code}\x1f{entity_type}\x1f{entity_id}\x1f{params_digest}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def _found_rows(check: Check, tables: Tables, params: dict[str, Any], ctx: ScanContext) -> pa.Table:
    if check.is_relational:
        expr = check.find(tables, params, ctx)
        found = tables.to_arrow(expr)
    else:
        found = check.find_local(tables, params, ctx)
    missing = [c for c in FOUND_COLUMNS if c not in found.column_names]
    missing += [
        c for c in (*check.observed_columns, *check.expected_columns) if c not in found.column_names
    ]
    if missing:
        raise CheckError(f"{check.code} returned no column(s) {missing}")
    meta = found.schema.metadata
    found = found.cast(
        pa.schema(
            [
                pa.field(f.name, pa.string()) if f.name in (*FOUND_COLUMNS, "entity_type") else f
                for f in found.schema
            ],
            metadata=meta,
        )
    )
    # one finding per entity: a check that returns an entity twice keeps the first in id order
    found = found.sort_by([("entity_id", "ascending")])
    if found.num_rows:
        ids = found.column("entity_id").to_pylist()
        keep = [i for i, e in enumerate(ids) if i == 0 or e != ids[i - 1]]
        if len(keep) != len(ids):
            found = found.take(keep)
    return found


def _evidence_rows(
    check: Check, tables: Tables, found: pa.Table, params: dict[str, Any], ctx: ScanContext
) -> dict[str, pa.Table]:
    """evidence name -> the canonical JSON list of each entity's rows (``g``: entity_id, ``j``)."""
    out: dict[str, pa.Table] = {}
    if not found.num_rows:
        return out
    view = f"_found_{check.code.lower()}_{uuid.uuid4().hex[:8]}"
    found_expr = backends.register_arrow(tables.backend, view, found)
    try:
        for name, expr in check.evidence(tables, found_expr, params, ctx).items():
            if isinstance(expr, GroupRows):  # each group's JSON once, copied to its findings
                grouped = _Grouped.pull(check, tables, expr, name)
                out[name] = fill_groups(grouped.templates, grouped.groups, grouped.cut)
                continue
            # canonical JSON built column by column in Arrow, not value by value in Python
            out[name] = canonical_json_group_table(_masked(check, name, tables.to_arrow(expr)))
    finally:
        backends.unregister(tables.backend, view)
    return out


def _masked(check: Check, ev_name: str, rows: pa.Table) -> pa.Table:
    """``rows`` of a check's evidence ``ev_name`` with the identifiers of its free-text columns
    (``Check.masked_evidence``) masked."""
    for name in check.masked_evidence.get(ev_name, ()):
        at = rows.schema.get_field_index(name)
        if at < 0:
            raise CheckError(f"{check.code}'s evidence {ev_name!r} has no column {name!r} to mask")
        rows = rows.set_column(at, name, mask_array(rows.column(name)))
    return rows


@dataclass
class _Grouped:
    """A check's :class:`~promoguard.engine.base.GroupRows` evidence, pulled: each group's JSON
    (``templates``, :func:`~promoguard.engine.evidence.group_templates`), each finding's group
    (``groups``: ``entity_id``, ``group_id`` as text) and how many rows its group has (``rows``,
    beside ``groups``: what the finding's document lists)."""

    templates: pa.Table
    groups: pa.Table
    rows: pa.Array
    #: the templates cut at their blanks (:func:`cut_templates`), once for all of the check's parts
    cut: tuple[pa.Array, pa.Array]

    @classmethod
    def pull(cls, check: Check, tables: Tables, value: GroupRows, ev_name: str) -> _Grouped:
        rows = _masked(check, ev_name, tables.to_arrow(value.rows))
        if "group_id" not in rows.column_names or "entity_id" in rows.column_names:
            raise CheckError(
                f"{check.code}'s group evidence rows need a group_id column and no entity_id"
            )
        pulled = tables.to_arrow(value.groups.select("entity_id", "group_id"))
        groups = pa.table(
            {
                "entity_id": pc.cast(pulled.column("entity_id"), pa.string()).combine_chunks(),
                "group_id": pc.cast(pulled.column("group_id"), pa.string()).combine_chunks(),
            }
        )
        if pc.count_distinct(groups.column("entity_id")).as_py() < groups.num_rows:
            raise CheckError(f"{check.code}'s group evidence puts an entity in two groups")
        templates = group_templates(rows)
        sizes = pc.value_counts(pc.cast(rows.column("group_id"), pa.string()).combine_chunks())
        at = pc.index_in(groups.column("group_id"), value_set=sizes.field("values"))
        per_entity = pc.fill_null(pc.take(sizes.field("counts"), at), 0)
        return cls(templates, groups, per_entity, cut_templates(templates))

    def of(self, entities: pa.Array | pa.ChunkedArray) -> _Fill:
        """The evidence rows of the findings of ``entities``, in their order, not yet written
        out (:class:`_Fill`): :func:`_freeze_findings` writes each into its document."""
        at = pc.index_in(_one_chunk(entities), value_set=self.groups.column("entity_id"))
        group = pc.take(self.groups.column("group_id"), at)
        g, pieces = self.cut
        return _Fill(pieces, _one_chunk(pc.index_in(group, value_set=g)))

    def rows_of(self, entities: pa.Array | pa.ChunkedArray) -> Any:
        """Rows each of ``entities``' documents lists (0: none), as int64 numpy."""
        at = pc.index_in(entities, value_set=self.groups.column("entity_id"))
        n = pc.fill_null(pc.take(self.rows, at), 0)
        return n.to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class _Fill:
    """A group evidence table's rows of some found rows, not written out: per found row (in
    their order) the position of its group's template among ``pieces`` (null: its group has no
    rows), and each template cut at its blanks (:func:`cut_templates`). A finding's rows are
    its template's pieces with its entity id's JSON between them (:func:`fill_groups`' text);
    :func:`_freeze_findings` writes them straight into the documents, the pieces of each group
    given once to the join rather than copied out per finding and joined twice more (REVIEW001's
    ~250 MB of cluster rows: taken, joined with the ids, taken again into the found rows' order
    and joined into the documents, ~0.7 CPU s of the one-day increment)."""

    pieces: pa.Array
    at: pa.Array

    def take(self, indices: pa.Array) -> _Fill:
        return _Fill(self.pieces, _one_chunk(pc.take(self.at, indices)))

    def slice(self, lo: int, n: int) -> _Fill:
        return _Fill(self.pieces, self.at.slice(lo, n))


#: Evidence rows (all of a check's evidence tables) frozen at once: a check with more is proved
#: in parts of its found rows, so what its evidence and documents hold outside the engine does
#: not grow with the season (REVIEW001's cluster texts and BRUSH001's rings were 4 GB at twice
#: the city, beside each other). PROMOGUARD_EVIDENCE_PART_ROWS overrides (tests use a few).
EVIDENCE_PART_ROWS = 300_000
#: ... and at most this many found rows in one part (their observed/expected JSON)
FOUND_PART_ROWS = 200_000


def _part_rows() -> tuple[int, int]:
    wanted = os.environ.get("PROMOGUARD_EVIDENCE_PART_ROWS", "").strip()
    if wanted and not wanted.isdigit():
        raise CheckError(f"PROMOGUARD_EVIDENCE_PART_ROWS={wanted!r} is not a whole number")
    if wanted:
        return max(1, int(wanted)), max(1, int(wanted))
    return EVIDENCE_PART_ROWS, FOUND_PART_ROWS


def _evidence_in_parts(
    check: Check,
    view: Tables,
    found: pa.Table,
    params: dict[str, Any],
    ctx: ScanContext,
    database: str,
) -> Iterator[tuple[pa.Table, dict[str, pa.Table | _Fill], float]]:
    """``(found rows, evidence of those rows, seconds)`` in parts of ``found`` (DuckDB).

    Each evidence query runs once, on all the found rows (a finding's evidence may depend on the
    other findings: REVIEW001 quotes the first members of a cluster), into a table of the
    scan's database, in the engine's capped memory. Then each part's rows are read out and turned
    into JSON: a finding's document reads only its own entity's rows, so freezing in parts gives
    the same bytes as freezing all at once, with the rows of one part in Python at a time.
    """
    started = time.perf_counter()
    if not found.num_rows:
        yield found, {}, time.perf_counter() - started
        return
    backend = view.backend
    tag = uuid.uuid4().hex[:8]
    name = f"_found_{check.code.lower()}_{tag}"
    found_expr = backends.register_arrow(backend, name, found)
    kept: dict[str, str] = {}
    grouped: dict[str, _Grouped] = {}
    try:
        for ev_name, expr in check.evidence(view, found_expr, params, ctx).items():
            if isinstance(expr, GroupRows):
                # the groups' rows and each finding's group, pulled now (the found view goes
                # below): each group's JSON is written once, and copied per part
                grouped[ev_name] = _Grouped.pull(check, view, expr, ev_name)
                continue
            kept[ev_name] = backends.materialise(backend, expr, database)  # type: ignore[assignment]
        backends.unregister(backend, name)
        name = ""
        max_ev, max_found = _part_rows()
        total = sum(int(pc.sum(g.rows).as_py() or 0) for g in grouped.values())
        for table in kept.values():
            total += _table_rows(backend, table, database)
        if total <= max_ev and found.num_rows <= max_found:
            bounds = [(0, found.num_rows)]
        else:  # evidence rows per found row: where to cut the parts
            per_row = np.zeros(found.num_rows, np.int64)
            entities = found.column("entity_id")
            for table in kept.values():
                t = backends.kept_table(backend, table, database)
                counts = view.to_arrow(t.group_by("entity_id").aggregate(n=t.count()))
                at = pc.index_in(entities, value_set=counts.column("entity_id").cast(entities.type))
                n = pc.take(counts.column("n"), at)
                per_row += pc.fill_null(n, 0).to_numpy(zero_copy_only=False).astype(np.int64)
            for g in grouped.values():  # as many rows as if each finding's were written out
                per_row += g.rows_of(entities)
            bounds = _part_bounds(per_row, max_ev, max_found)
        elapsed = time.perf_counter() - started
        for lo, hi in bounds:
            started = time.perf_counter()
            part = found.slice(lo, hi - lo)
            ev: dict[str, pa.Table | _Fill] = {}
            for ev_name, g in grouped.items():
                ev[ev_name] = g.of(part.column("entity_id"))
            if len(bounds) == 1:
                for ev_name, table in kept.items():
                    rows = view.to_arrow(backends.kept_table(backend, table, database))
                    ev[ev_name] = canonical_json_group_table(_masked(check, ev_name, rows))
                    del rows
            else:
                ids = backends.register_arrow(
                    backend, f"_part_{tag}", pa.table({"entity_id": part.column("entity_id")})
                )
                try:
                    for ev_name, table in kept.items():
                        t = backends.kept_table(backend, table, database)
                        rows = view.to_arrow(t.filter(t.entity_id.isin(ids.entity_id)))
                        ev[ev_name] = canonical_json_group_table(_masked(check, ev_name, rows))
                        del rows
                finally:
                    backends.unregister(backend, f"_part_{tag}")
            yield part, ev, elapsed + time.perf_counter() - started
            elapsed = 0.0
            del ev
    finally:
        if name:
            backends.unregister(backend, name)
        for table in kept.values():
            backend.con.execute(f'DROP TABLE IF EXISTS "{database}".main."{table}"')


def _table_rows(backend: Any, name: str, database: str) -> int:
    """Rows of the table :func:`~promoguard.engine.backends.materialise` made in the scan's
    database, counted by the engine from its own SQL: through an Ibis expression (the table's
    schema looked up, the count compiled and read back as Arrow) each cost ~10 ms of Python, and
    a one-day increment counts ~40 evidence tables, most of a few thousand rows."""
    from promoguard import sqlbuild

    sql = sqlbuild.sql("SELECT count(*) FROM {d}.main.{t}", d=database, t=name)
    return int(backend.con.execute(str(sql)).fetchall()[0][0])


def _part_bounds(per_row: Any, max_ev: int, max_found: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` ranges of found rows, each with at most ``max_ev`` evidence rows and
    ``max_found`` found rows (a bigger single row alone)."""
    bounds, lo, held = [], 0, 0
    for i, size in enumerate(per_row.tolist()):
        if i > lo and (held + size > max_ev or i - lo >= max_found):
            bounds.append((lo, i))
            lo, held = i, 0
        held += size
    bounds.append((lo, len(per_row)))
    return bounds


#: Rough seconds of a check's finder, and of its evidence and freezing, on the city season
#: (on two threads; docs/benchmarks/season.md). They only order the work of a scan on several
#: threads, the longest first so that the last to finish is a short one; unknown checks count
#: 1 s. Results never depend on them.
_FIND_COST = {
    "BRUSH001": 31, "SHIP004": 27, "REVIEW002": 12, "BRUSH002": 10, "TEXT001": 9,
    "REVIEW003": 8, "REVIEW001": 7, "PARCEL001": 4.6, "BRUSH003": 4.3, "PRICE003": 3.5,
    "SHIP002": 3, "COUPON004": 2.5, "PRICE001": 1.9, "PRICE002": 1.8, "TEXT006": 1.8,
    "PRIZE001": 1.7, "SHIP003": 1.5, "SHIP005": 1.5, "COUPON003": 1.5, "TEXT002": 1.4,
    "LIC001": 1.4, "PRICE004": 1.3, "SHIP001": 1.2,
}  # fmt: skip
_EVIDENCE_COST = {
    "REVIEW001": 9, "SHIP004": 8, "BRUSH003": 5, "BRUSH001": 4.8, "SHIP003": 4.4,
    "REVIEW003": 3.9, "SHIP002": 3.5, "PARCEL001": 3.3, "SHIP001": 2.7, "COUPON004": 2.3,
    "PRICE001": 1.9, "LIC001": 1.9, "SHIP005": 1.6, "PRICE003": 1.4, "PRICE002": 1.3,
    "BRUSH002": 1.1,
}  # fmt: skip

#: Checks whose finder holds the GIL and much memory outside DuckDB (a graph peel, MinHash, the
#: text engine, pandas frames of every review): two of them at once would only share one core
#: and add their peaks, so at most one runs at a time, beside checks DuckDB computes. Likewise
#: the two largest evidence sets (every found order's scans, every duplicate's cluster texts).
_HEAVY_FIND = frozenset({"BRUSH001", "BRUSH002", "REVIEW001", "REVIEW002", "REVIEW003", "TEXT001"})
_HEAVY_EVIDENCE = frozenset({"SHIP004", "REVIEW001"})
#: ... but in a scan ``--since`` that folds its kept relations (the season-wide part of a
#: one-day increment), the finders read the day's changes to the season's relations: their
#: peaks are small (the city day's increment peaks at ~3 GB in all) and most of their time is
#: the engine's folds, so they run side by side, the costliest first by what each costs there
#: (seconds of the city day's increment, each alone: docs/benchmarks/season.md, sessions 42-43)
_FOLDED_FIND_COST = {
    "REVIEW003": 3.3, "BRUSH001": 2.1, "BRUSH003": 2.1, "BRUSH002": 1.5, "REVIEW001": 1.0,
}  # fmt: skip


class _Line:
    """Tasks (check positions) in the order to start them; a free thread takes the first it
    may: any task, but a heavy one only while no other heavy one runs."""

    def __init__(self, order: list[int], heavy: set[int]) -> None:
        self._pending = list(order)
        self._heavy = heavy
        self._heavy_running = False
        self._cond = threading.Condition()

    def take(self) -> int:
        with self._cond:
            while True:
                for k, i in enumerate(self._pending):
                    if i not in self._heavy or not self._heavy_running:
                        del self._pending[k]
                        self._heavy_running |= i in self._heavy
                        return i
                self._cond.wait()  # only heavy tasks left, and one runs

    def finish(self, i: int) -> None:
        if i in self._heavy:
            with self._cond:
                self._heavy_running = False
                self._cond.notify_all()


#: threads a DuckDB scan runs its checks on (PROMOGUARD_SCAN_THREADS overrides; 1: one by one)
DEFAULT_SCAN_THREADS = 2


def scan_threads(tables: Tables, n_checks: int) -> int:
    """How many threads run this scan's checks: several only on DuckDB, when every cursor of
    the database sees the tables the checks read (``backends.can_share_cursors``)."""
    wanted = os.environ.get("PROMOGUARD_SCAN_THREADS", "").strip()
    if wanted and not wanted.isdigit():
        raise CheckError(f"PROMOGUARD_SCAN_THREADS={wanted!r} is not a whole number")
    n = int(wanted) if wanted else min(DEFAULT_SCAN_THREADS, os.cpu_count() or 1)
    n = max(1, min(n, n_checks))
    if n > 1 and not backends.can_share_cursors(tables.backend):
        return 1
    return n


def _folds(kept: KeptState | None) -> bool:
    """Whether the scan folds kept relations from the scan since's copies with the rows added
    since (the whole-store part of ``scan --since``; a scoped group is handed relations folded
    already, with no new rows of its own)."""
    return kept is not None and bool(kept.new) and bool(kept.previous)


def _by_cost(checks: Sequence[Check], cost: Mapping[str, float]) -> list[int]:
    """Positions of ``checks``, the costliest first (ties: in the checks' order)."""
    return sorted(range(len(checks)), key=lambda i: (-cost.get(checks[i].code, 1.0), i))


@no_hugepage_stalls
def run_checks(
    tables: Tables,
    checks: Sequence[Check],
    pack: Pack,
    *,
    engine: str,
    scan_id: str,
    detected_at: dt.datetime,
    progress: Progress | None = None,
    coverage_of: dict[str, dict[str, Any]] | None = None,
    kept: KeptState | None = None,
    findings_spill_bytes: int | None = None,
) -> ScanResult:
    """Run ``checks`` on ``tables`` with ``pack``'s settings; ``progress(step, done, total)`` is
    told what runs (two steps per check: its finder, then its evidence). ``coverage_of`` gives a
    check's coverage when ``tables`` are a part of the store (an incremental scan's merchants):
    whether it runs is decided on the whole store, not on the part.

    On DuckDB the checks run on :func:`scan_threads` threads, each with its own cursor of the
    same database: a Python-bound finder (a graph peel, MinHash, text matching) runs beside one
    the engine computes, and evidence queries beside freezing. Every result is collected in the
    checks' order, so the findings, the runs and the progress calls are the same whatever order
    the threads finish in.

    ``kept`` (only where ``tables`` are the whole store): kept relations fold from the copies it
    names, and with ``kept.save`` are written for the store (``ScanResult.kept``).

    ``findings_spill_bytes``: the findings held in memory before they go to Parquet files
    (:class:`HeldFindings`; None: its default), for a caller that reads them back at once.
    """
    ctx = ScanContext(pack=pack.name, engine=engine, timezone=pack.timezone, extra=pack.settings)
    evidence = FrozenEvidence()
    frozen = HeldFindings(findings_spill_bytes)  # each check's findings, in the checks' order
    runs: list[CheckRun] = []
    coverage: dict[str, dict[str, Any]] = {}
    total = 2 * len(checks)
    done = 0
    #: check code -> findings whose evidence document was carried from the kept scan's
    carried_of: dict[str, int] = {}

    def tell(step: str) -> None:
        if progress is not None:
            progress(step, done, total)

    # Every finder runs before any evidence query, so that evidence can share one pass over the
    # big tables for the entities all checks found (e.g. the scans of every found order's
    # parcels); relations shared between checks live in the engine until the scan ends.
    with scan_cache(tables, kept) as cache:
        n_threads = scan_threads(tables, len(checks)) if cache.database else 1
        params_of = {check.code: pack.parameters_for(check) for check in checks}
        counts: dict[str, int | None] = {}
        cover_s: dict[str, float] = {}
        for check in checks:  # coverage first, on this connection: cheap counts, in order
            started = time.perf_counter()
            if coverage_of is not None and check.code in coverage_of:
                coverage[check.code] = dict(coverage_of[check.code])
            else:
                coverage[check.code] = check_coverage(tables, check, counts)
            cover_s[check.code] = time.perf_counter() - started
        with (
            backends.worker_tables(tables, n_threads) as views,
            ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="promoguard-scan") as pool,
        ):
            free: queue.SimpleQueue[Tables] = queue.SimpleQueue()
            for view in views:
                free.put(view)

            def on_a_cursor(fn: Callable[..., Any], *args: Any) -> Any:
                # one cursor per running task: never two tasks on one connection at once
                view = free.get()
                try:
                    return fn(view, *args)
                finally:
                    free.put(view)
                    # what a check's Arrow tables held goes back to the system now, not when
                    # the allocator gets to it: two checks' peaks at once must fit the cap
                    pa.default_memory_pool().release_unused()

            def find(view: Tables, check: Check) -> tuple[pa.Table, dict[str, Any], float]:
                started = time.perf_counter()
                cover = dict(coverage[check.code])
                if cover["status"] == "ran":
                    found = _found_rows(check, view, params_of[check.code], ctx)
                    meta = (found.schema.metadata or {}).get(COVERAGE_METADATA)
                    if meta:
                        cover.update(json.loads(meta))
                        found = found.replace_schema_metadata(None)
                else:
                    found = _empty_found(check)
                return found, cover, time.perf_counter() - started

            def prove(
                view: Tables, check: Check
            ) -> tuple[pa.Table, list[pa.Table | str], float, float]:
                params, found = params_of[check.code], cache.found[check.code][1]
                if cache.database is None:  # Spark, or no scan database: the check whole
                    started = time.perf_counter()
                    ev = _evidence_rows(check, view, found, params, ctx)
                    evidence_s = time.perf_counter() - started
                    findings, documents, freeze_s = _freeze_findings(
                        check, pack, params, found, ev, scan_id, detected_at
                    )
                    # large documents to a file now: the checks finish out of order, and each
                    # check's documents wait for the ones before it to be added in order
                    staged = [evidence.stage(documents)]
                    return frozen.stage(findings), staged, evidence_s, freeze_s
                evidence_s = freeze_s = 0.0
                findings_parts: list[pa.Table] = []
                staged: list[pa.Table | str] = []
                started = time.perf_counter()
                carry = _evidence_carry(check, pack, view, found, params, ctx, cache)
                to_prove = found
                if carry is not None and carry.carried is not None:
                    keep = pc.is_valid(carry.carried)
                    to_prove = found.filter(pc.invert(keep))
                    part, _, part_s = _freeze_findings(
                        check,
                        pack,
                        params,
                        found.filter(keep),
                        {},
                        scan_id,
                        detected_at,
                        carried=carry.carried.filter(keep),
                        heads=_taken(carry.heads, pc.indices_nonzero(keep))
                        if carry.heads is not None
                        else None,
                    )
                    findings_parts.append(part)
                    freeze_s += part_s
                    carried_of[check.code] = part.num_rows
                    for documents in carry.documents or ():
                        staged.append(evidence.stage(documents))
                evidence_s += time.perf_counter() - started
                for found_part, ev, ev_s in _evidence_in_parts(
                    check, view, to_prove, params, ctx, cache.database
                ):
                    evidence_s += ev_s
                    part, documents, part_s = _freeze_findings(
                        check, pack, params, found_part, ev, scan_id, detected_at
                    )
                    freeze_s += part_s
                    findings_parts.append(part)
                    staged.append(evidence.stage(documents))
                    del ev, documents
                findings = (
                    pa.concat_tables(findings_parts) if findings_parts else _findings_table({})
                )
                if len(findings_parts) > 1 and carry is not None and carry.carried is not None:
                    # in the found rows' order (by entity), as a full scan lists them
                    findings = findings.sort_by([("entity_id", "ascending")])
                if carry is not None:
                    carry.keep(findings)
                return frozen.stage(findings), staged, evidence_s, freeze_s

            def run_all(
                fn: Callable[..., Any], order: list[int], heavy: frozenset[str]
            ) -> list[Future]:
                # a phase's tasks, taken in ``order`` by whichever thread is free (a heavy one
                # only while no other heavy one runs); results kept by the check's position
                futures: list[Future] = [Future() for _ in checks]
                line = _Line(order, {i for i, c in enumerate(checks) if c.code in heavy})

                def step() -> None:
                    i = line.take()
                    try:
                        futures[i].set_result(on_a_cursor(fn, checks[i]))
                    except BaseException as exc:
                        futures[i].set_exception(exc)
                    finally:
                        line.finish(i)

                for _ in checks:
                    pool.submit(step)
                return futures

            try:
                cost, heavy = (
                    ({**_FIND_COST, **_FOLDED_FIND_COST}, frozenset())
                    if _folds(cache.kept)
                    else (_FIND_COST, _HEAVY_FIND)
                )
                finding = run_all(find, _by_cost(checks, cost), heavy)
                find_seconds: dict[str, float] = {}
                for i, check in enumerate(checks):
                    tell(f"{check.code} {check.name}")
                    found, cover, find_s = finding[i].result()
                    coverage[check.code] = cover
                    cache.found[check.code] = (check.entity_type, found)
                    find_seconds[check.code] = cover_s[check.code] + find_s
                    done += 1
                proving = run_all(prove, _by_cost(checks, _EVIDENCE_COST), _HEAVY_EVIDENCE)
                for i, check in enumerate(checks):
                    tell(f"{check.code} {check.name} (evidence)")
                    check_findings, staged, evidence_s, freeze_s = proving[i].result()
                    frozen.add(check_findings)
                    for documents in staged:
                        evidence.add(documents)
                    find_s = find_seconds[check.code]
                    parts = {"find": find_s, "evidence": evidence_s, "freeze": freeze_s}
                    n_found = cache.found[check.code][1].num_rows
                    runs.append(
                        CheckRun(
                            check.code,
                            n_found,
                            find_s + evidence_s + freeze_s,
                            None,
                            parts,
                            carried_of.get(check.code),
                        )
                    )
                    done += 1
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        tell("done")
    result = ScanResult(scan_id, pack.name, engine, frozen, runs, evidence, coverage)
    copies = kept.copies() if kept is not None else None
    if copies is not None:
        result.kept.append(copies)
    return result


#: The version of the frozen documents' format: a document is carried from a scan only under the
#: same one (bump it with any change to what :func:`_freeze_findings` or the canonical JSON
#: writes: the carried documents were written by the scan since's code).
DOCUMENT_FORMAT = "1"
#: the kept relation holding each finding's head digest and evidence hash (kept evidence)
HEADS_COLUMNS = [
    ("finding_id", "VARCHAR"),
    ("head_sha256", "VARCHAR"),
    ("evidence_sha256", "VARCHAR"),
]


def heads_key(check: Check, params: dict[str, Any]) -> str:
    """The key text of ``check``'s evidence heads among a scan's kept relations."""
    return key_text(
        (
            "evidence_heads",
            check.code,
            _params_digest(params),
            DOCUMENT_FORMAT,
            str(getattr(check, "evidence_version", "1")),
        )
    )


@dataclass
class _Carry:
    """A check's kept evidence in one scan: per found row, its head digest, and the evidence
    hash it carries from the scan since (``carried``: null where it is proved again; None:
    nothing is carried); ``keep`` writes the heads for the next scan when this one is saved."""

    check: Check
    text: str
    digests: pa.Array
    carried: pa.Array | None
    state: KeptState
    #: the found rows' heads (None: no found rows), for freezing the carried ones
    heads: _Heads | None = None
    #: documents made for rows whose head moved and whose rows were carried (re-headed)
    documents: list[pa.Table] | None = None

    def keep(self, findings: pa.Table) -> None:
        if not self.state.save:
            return
        heads = pa.table(
            {
                "finding_id": _one_chunk(findings.column("finding_id")),
                "head_sha256": self.digests,
                "evidence_sha256": _one_chunk(findings.column("evidence_sha256")),
            }
        )
        path = self.state.new_file(self.text)
        import pyarrow.parquet as pq

        pq.write_table(heads, path, compression="snappy")
        with self.state._lock:
            self.state.written[self.text] = KeptFile(path, list(HEADS_COLUMNS))


def _evidence_carry(
    check: Check,
    pack: Pack,
    view: Tables,
    found: pa.Table,
    params: dict[str, Any],
    ctx: ScanContext,
    cache: Any,
) -> _Carry | None:
    """Kept evidence (docs/kept.md): for a check with ``evidence_touched``, in a scan that keeps
    relations (DuckDB), each found row's head digest; and in a scan ``--since`` S whose copies
    hold the check's heads, which rows carry S's document.

    A row carries S's ``evidence_sha256`` when S has the same finding (``finding_id``: pack,
    check, entity, parameters), with the same head (the document up to its evidence rows: the
    found row, observed, expected; compared by digest), and the check's ``evidence_touched``
    does not name its entity: the document a full re-scan writes for it is then S's, byte for
    byte (the head is the same text, the rows are the same rows by the hook's promise), and the
    store holds it already. With another head (a count or a score moved) and the same conditions
    otherwise, S's rows are put under the new head (:func:`_reheaded`), for a check whose
    evidence picks rows by entity alone (``evidence_rows_by_entity``). A row the hook names, which
    S found and whose rows the check's ``evidence_appended`` says are S's plus some new ones,
    takes S's rows with the new ones put in their places, under the new head (:func:`_appended`).
    Every other row is proved again."""
    hook = getattr(check, "evidence_touched", None)
    state = cache.kept
    if hook is None or state is None or cache.database is None:
        return None
    text = heads_key(check, params)
    table = state.previous.get(text) if state.new is not None else None
    if not state.save and table is None:
        return None
    heads = _heads(check, pack, params, found.combine_chunks()) if found.num_rows else None
    digests = _head_digests(heads) if heads is not None else pa.array([], pa.string())
    carry = _Carry(check, text, digests, None, state, heads)
    if table is None or not found.num_rows:
        return carry
    from promoguard import sqlbuild
    from promoguard.engine.cache import _new_rows

    before = view.backend.con.sql(
        str(sqlbuild.sql("SELECT finding_id, head_sha256, evidence_sha256 FROM {t}", t=table))
    ).to_arrow_table()
    entities = _one_chunk(found.column("entity_id"))
    assert heads is not None
    ids = pa.array(heads.ids, pa.string())
    at = pc.index_in(ids, value_set=_one_chunk(before.column("finding_id")))
    old_heads = _one_chunk(pc.take(_one_chunk(before.column("head_sha256")), at))
    old_shas = _one_chunk(pc.take(_one_chunk(before.column("evidence_sha256")), at))
    name = f"_touched_{check.code.lower()}_{uuid.uuid4().hex[:8]}"
    found_expr = backends.register_arrow(view.backend, name, found)
    grown: pa.Array = pa.array([], pa.int64())
    growth: tuple[str, pa.Table, int] | None = None
    try:
        new = _new_rows(view, cache)
        touched = hook(view, new, found_expr, params, ctx)
        if not isinstance(touched, (pa.Array, pa.ChunkedArray)):
            touched = view.to_arrow(touched.select("entity_id")).column("entity_id")
        touched = _one_chunk(pc.cast(touched, pa.string()))
        # the named rows S found too: their documents may be S's rows and the new ones
        # (:func:`_appended`), for a check that says which rows were added
        append = getattr(check, "evidence_appended", None)
        grown = pc.indices_nonzero(pc.and_(pc.is_valid(at), pc.is_in(entities, value_set=touched)))
        if append is not None and len(grown):
            given = append(view, new, found_expr, params, ctx)
            if given is not None:
                table_name, rows, cap = given
                growth = (table_name, view.to_arrow(rows), int(cap))
    finally:
        backends.unregister(view.backend, name)
    same = pc.fill_null(pc.equal(old_heads, digests), False)
    untouched = pc.and_(pc.is_valid(at), pc.invert(pc.is_in(entities, value_set=touched)))
    keep = pc.and_(same, untouched)
    shas: list[str | None] = pc.if_else(keep, old_shas, pa.scalar(None, pa.string())).to_pylist()
    # the rows are S's but the head moved (a count, a score): S's rows under the new head, when
    # the check picks them by entity alone (else a moved found column may pick other rows)
    moved = pc.indices_nonzero(pc.and_(untouched, pc.invert(same)))
    if not (len(moved) and getattr(check, "evidence_rows_by_entity", False)):
        moved = pa.array([], pa.uint64())
    if growth is not None:  # only the named rows with added rows of their own
        with_rows = pc.unique(_one_chunk(pc.cast(growth[1].column("entity_id"), pa.string())))
        grown = pc.filter(grown, pc.is_in(pc.take(entities, grown), value_set=with_rows))
    if not len(moved) and (growth is None or not len(grown)):
        carry.carried = pa.array(shas, pa.string())
        return carry
    docs = _previous_documents(
        view.backend.con,
        pa.concat_arrays(
            [
                pc.take(old_shas, moved),
                pc.take(old_shas, grown) if growth else pa.array([], pa.string()),
            ]
        ),
    )
    carry.documents = []

    def take(positions: pa.Array, made: _Made) -> None:
        # the documents made for the rows at ``positions`` (of ``found``) are carried
        picked = positions.to_pylist()
        where, digests, documents = made
        for j, sha in zip(where, digests, strict=True):
            shas[picked[j]] = sha
        carry.documents += documents  # type: ignore[operator]

    if len(moved):
        take(
            moved,
            _reheaded(
                docs, _taken(heads, moved), pc.take(old_shas, moved), pc.take(old_heads, moved)
            ),
        )
    if growth is not None and len(grown):
        take(
            grown,
            _appended(
                docs,
                _taken(heads, grown),
                pc.take(old_shas, grown),
                pc.take(old_heads, grown),
                *growth,
            ),
        )
    carry.carried = pa.array(shas, pa.string())
    return carry


def _previous_documents(con: Any, shas: pa.Array) -> pa.Table:
    """``evidence_sha256, document`` of the store's documents named by ``shas`` (the scan
    since's, for :func:`_reheaded` and :func:`_appended`)."""
    from promoguard import sqlbuild

    name = f"_rehead_{uuid.uuid4().hex[:8]}"
    con.register(name, pa.table({"evidence_sha256": shas}))
    try:
        # the rows by their hashes first, then their documents by row id: a semi-join on the
        # hashes reads every document of the store (1.8 GB of text at city scale, 0.45-1.7 s for
        # BRUSH001's 2,700), the row ids only the row groups that hold the wanted ones
        at = con.sql(
            str(
                sqlbuild.sql(
                    "SELECT rowid AS r FROM evidence "
                    "WHERE evidence_sha256 IN (SELECT evidence_sha256 FROM {w})",
                    w=name,
                )
            )
        ).to_arrow_table()
    finally:
        con.unregister(name)
    con.register(name, at)
    try:
        return con.sql(
            str(
                sqlbuild.sql(
                    "SELECT evidence_sha256, document FROM evidence "
                    "WHERE rowid IN (SELECT r FROM {w})",
                    w=name,
                )
            )
        ).to_arrow_table()
    finally:
        con.unregister(name)


def _reheaded(docs: pa.Table, h: _Heads, old_shas: pa.Array, old_heads: pa.Array) -> _Made:
    """Documents of the scan since (``old_shas``, among ``docs``: :func:`_previous_documents`)
    given the new heads ``h``: each is cut after its head (:func:`_kept_documents`: taken only
    when its head and the whole still hash as S kept them, else that row is proved again), and
    the new head put before its rows. Returns the rows re-headed (positions in ``h``), their new
    hashes and ``(evidence_sha256, document)`` of the new documents."""
    heads_now = _joined(h, 0, len(old_shas), None)
    head_ends = _offsets(heads_now)
    head_data = memoryview(heads_now.buffers()[2])
    made = _Made()
    for i, rest in _kept_documents(docs, h, old_shas, old_heads):
        made.add(i, [head_data[head_ends[i] : head_ends[i + 1]], rest])
    return made.done()


def _kept_documents(
    docs: pa.Table,
    h: _Heads,
    old_shas: pa.Array,
    old_heads: pa.Array,
    wanted: Callable[[int], bool] | None = None,
) -> Iterator[tuple[int, memoryview]]:
    """S's documents among ``docs`` that are what S kept, for the rows of ``h`` (``old_shas``:
    each row's document, ``old_heads``: the digest of its head then): (position in ``h``, the
    bytes after its head, read in place from the Arrow buffer). A document is cut after its
    head (at the first ``pack_params`` text) and given only when the head hashes to the row's
    old head digest and the whole to its name (else edited since: proved again); with
    ``wanted``, only for the positions it accepts (the others are not hashed)."""
    rows_of = {sha: i for i, sha in enumerate(old_shas.to_pylist())}  # (one row per document)
    expected = old_heads.to_pylist()
    cut = len(h.pack_params.encode())
    sha256 = hashlib.sha256
    for chunk_shas, chunk_docs in zip(
        docs.column("evidence_sha256").chunks, docs.column("document").chunks, strict=True
    ):
        if not len(chunk_docs):
            continue
        ends = _offsets(chunk_docs)
        data = memoryview(chunk_docs.buffers()[2])
        # where each document's head ends: in bytes, as the offsets count
        cuts = pc.find_substring(chunk_docs, pattern=h.pack_params).to_pylist()
        for k, sha in enumerate(chunk_shas.to_pylist()):
            at, i = cuts[k], rows_of.get(sha)
            if at is None or at < 0 or i is None or (wanted is not None and not wanted(i)):
                continue
            split = ends[k] + at + cut
            head = sha256(data[ends[k] : split])
            if head.hexdigest() != expected[i]:
                continue  # not the head it was: proved again
            rest = data[split : ends[k + 1]]
            head.update(rest)
            if head.hexdigest() != sha:
                continue  # S's document no longer hashes to its name (edited): proved again
            yield i, rest


class _Made:
    """Documents made from pieces (a new head, S's bytes, new rows' text): per document its
    position, its SHA-256 and its text, joined into Arrow string arrays of at most
    ``_FREEZE_CHUNK_BYTES`` each (int32 offsets) once they are all made."""

    def __init__(self) -> None:
        self.where: list[int] = []
        self.digests: list[str] = []
        self.documents: list[pa.Table] = []
        self._pieces: list[list[Any]] = []  # the documents not yet joined
        self._held = 0  # their bytes

    def add(self, i: int, pieces: list[Any]) -> None:
        digest = hashlib.sha256()
        size = 0
        for piece in pieces:
            digest.update(piece)
            size += len(piece)
        if self._held and self._held + size > _FREEZE_CHUNK_BYTES:
            self._flush()
        self._pieces.append(pieces)
        self._held += size
        self.where.append(i)
        self.digests.append(digest.hexdigest())

    def _flush(self) -> None:
        if self._pieces:
            n = len(self._pieces)
            self.documents.append(_documents(self.digests[len(self.digests) - n :], self._pieces))
            self._pieces, self._held = [], 0

    def done(self) -> _Made:
        self._flush()
        return self

    def __iter__(self) -> Iterator[Any]:
        # (where, digests, documents): as a caller unpacks what was made
        return iter((self.where, self.digests, self.documents))


#: column types whose JSON text :func:`_appended` reads back exactly (a string, an integer, an
#: instant, a boolean, or null): no nested value, so a row object's ``{`` is the only one
_APPENDABLE_TYPES = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_integer,
    pa.types.is_timestamp,
    pa.types.is_boolean,
)


def _appended(
    docs: pa.Table,
    h: _Heads,
    old_shas: pa.Array,
    old_heads: pa.Array,
    name: str,
    added: pa.Table,
    cap: int,
) -> _Made:
    """Documents of the scan since (``old_shas``, among ``docs``) with rows added: the new head
    ``h``, then S's rows of the evidence table ``name`` with ``added``'s rows of the same entity
    put in their canonical places (module docstring of :mod:`~promoguard.engine.evidence`).

    The check's promise (``evidence_appended``): for each entity with rows in ``added``, when S's
    document lists ``n`` rows and ``added`` holds ``k`` of it, with ``n + k <= cap``, its evidence
    now is exactly those ``n + k`` rows, in the one table ``name``. Only the added rows are
    written as JSON; S's rows are copied as their text, and each added row finds its place by
    a binary search among them (a few of S's rows read back per added row, not all of them). A
    row is proved again (left out of the result) when its document does not hash to its name,
    its head is not the one S kept, its rows object is not one non-empty list of ``name``,
    ``n + k > cap``, or a row read back is not what the search expects. Returns the rows made
    (positions in ``h``), their new hashes and ``(evidence_sha256, document)`` of the new
    documents."""
    columns = added.column_names
    if (
        "entity_id" not in columns
        or not added.num_rows
        or not all(any(ok(f.type) for ok in _APPENDABLE_TYPES) for f in added.schema)
    ):
        return _Made()
    opening = (_dumps(name) + ":[").encode()
    closing = b"]}}"
    # the added rows of each entity, as their JSON text (what a full scan writes for each row)
    entity_ids = _one_chunk(pc.cast(added.column("entity_id"), pa.string())).to_pylist()
    texts = _one_chunk(json_objects(added)).to_pylist()
    new_of: dict[str, list[str]] = {}
    for entity, text in zip(entity_ids, texts, strict=True):
        new_of.setdefault(entity, []).append(text)
    # S's documents that are what S kept, of entities with added rows: (position in h, the
    # rows' list between its brackets, read in place)
    kept: list[tuple[int, memoryview]] = []

    def has_new(i: int) -> bool:
        return h.entities[i] in new_of

    for i, rest in _kept_documents(docs, h, old_shas, old_heads, has_new):
        if (
            len(rest) <= len(opening) + len(closing)
            or rest[: len(opening)] != opening
            or rest[len(rest) - len(closing) :] != closing
        ):
            continue  # no rows, or not a list of ``name``
        kept.append((i, rest[len(opening) : len(rest) - len(closing)]))
    if not kept:
        return _Made()
    # where each of S's rows starts in its list: at each '{"' followed by the first key's first
    # character. Values are scalars, so a '{' outside a string opens a row; inside a string a
    # '{' is followed by the string's next character (a '"' inside a string is escaped) or by
    # its closing quote, and that by ',' or '}' (or ']' after a list's last row), never by a
    # character of a key's name (checked: not one of those)
    first = ("{" + _dumps(sorted(columns)[0])[:2]).encode()
    if first[-1:] in (b",", b"}", b"]", b'"', b":"):
        return _Made()
    row_starts: list[Any] = []
    broken = np.zeros(len(kept), np.bool_)
    for d, (_, kept_body) in enumerate(kept):
        # each list searched in place (joining them first to search once cost a copy of ~60 MB
        # at city scale, ~0.06 s more)
        buf = np.frombuffer(kept_body, np.uint8)
        hits = np.flatnonzero(buf[: max(len(buf) - len(first) + 1, 0)] == first[0])
        for j in range(1, len(first)):
            hits = hits[buf[hits + j] == first[j]]
        # each row but a list's first follows "}," (the one before it closed)
        later = hits[hits > 0]
        broken[d] = bool(
            (later < 2).any()
            or (buf[later - 1] != ord(",")).any()
            or (buf[later - 2] != ord("}")).any()
        )
        row_starts.append(hits)
    key = _row_key([c for c in sorted(columns) if c != "entity_id"], added.schema)
    heads_now = _joined(h, 0, len(old_shas), None)
    head_ends = _offsets(heads_now)
    head_data = memoryview(heads_now.buffers()[2])
    made = _Made()
    comma = b","
    for d, (i, body) in enumerate(kept):
        starts = row_starts[d]
        n = len(starts)
        entity = h.entities[i]
        fresh = new_of[entity]
        if broken[d] or not n or starts[0] != 0 or n + len(fresh) > cap:
            continue
        bounds = [*starts.tolist(), len(body) + 1]  # row r is body[bounds[r] : bounds[r+1] - 1]
        try:
            places = _places(body, bounds, entity, [(key(json.loads(t)), t) for t in fresh], key)
        except (ValueError, TypeError, KeyError):
            continue  # a row not read back as a row of these columns: proved again
        pieces: list[Any] = [head_data[head_ends[i] : head_ends[i + 1]], opening]
        done = 0  # S's rows written so far
        for p, text in places:
            if p > done:
                pieces += [body[bounds[done] : bounds[p] - 1], comma]
                done = p
            pieces += [text.encode(), comma]
        if done < n:
            pieces.append(body[bounds[done] : bounds[n] - 1])
        else:
            pieces.pop()  # (the last comma)
        pieces.append(closing)
        made.add(i, pieces)
    return made.done()


def _row_key(names: list[str], schema: pa.Schema) -> Callable[[dict[str, Any]], tuple]:
    """The canonical order of an evidence row (module docstring of
    :mod:`~promoguard.engine.evidence`) as a Python key of its JSON values: the columns but
    ``entity_id`` by name, nulls first, strings by code point, integers and booleans by value,
    instants (``_APPENDABLE_TYPES``' only text of another type) by their UTC time."""
    instants = {f.name for f in schema if pa.types.is_timestamp(f.type)}

    def key(row: dict[str, Any]) -> tuple:
        out: list[Any] = []
        for name in names:
            v = row[name]
            if v is None:
                out.append((False, 0))
            elif name in instants:  # (ValueError: not a canonical instant)
                out.append((True, dt.datetime.fromisoformat(v)))
            else:
                out.append((True, v))
        return tuple(out)

    return key


def _places(
    body: memoryview,
    bounds: list[int],
    entity: str,
    fresh: list[tuple[tuple, str]],
    key: Callable[[dict[str, Any]], tuple],
) -> list[tuple[int, str]]:
    """Each added row's place among S's sorted rows (``body``, row ``r`` at ``bounds[r] :
    bounds[r + 1] - 1``): (how many of S's rows go before it, its text), in order. S's rows are
    read back only where the binary searches look, each once; one of another entity is an
    error."""
    seen: dict[int, tuple] = {}

    def old(r: int) -> tuple:
        if r not in seen:
            row = json.loads(bytes(body[bounds[r] : bounds[r + 1] - 1]))
            if row["entity_id"] != entity:
                raise ValueError(f"row {r} is another entity's")
            seen[r] = key(row)
        return seen[r]

    # S's last row is read back whatever the searches look at: a rows object holding more than
    # the one list (another table after it, which the row starts do not show when its rows
    # begin with another key) leaves that table inside the last row's bounds, which then is no
    # row (an error: proved again), and a new row put before it would copy that table unchanged
    old(len(bounds) - 2)
    out: list[tuple[int, str]] = []
    for k, text in sorted(fresh, key=lambda kt: kt[0]):
        lo, hi = 0, len(bounds) - 1
        while lo < hi:  # the first of S's rows not before it
            mid = (lo + hi) // 2
            if old(mid) < k:
                lo = mid + 1
            else:
                hi = mid
        out.append((lo, text))
    return out


def _documents(digests: list[str], pieces: list[list[Any]]) -> pa.Table:
    """``(evidence_sha256, document)`` of documents given as their UTF-8 pieces, joined once
    (taken as text without checking them again: Arrow text cut and joined at ASCII characters)."""
    offsets = np.zeros(len(pieces) + 1, np.int32)
    np.cumsum([sum(len(p) for p in doc) for doc in pieces], out=offsets[1:])
    text = pa.StringArray.from_buffers(
        len(pieces),
        pa.py_buffer(offsets),
        pa.py_buffer(b"".join([p for doc in pieces for p in doc])),
    )
    return pa.table(
        [pa.chunked_array([pa.array(digests, pa.string())]), pa.chunked_array([text])],
        schema=EVIDENCE_SCHEMA,
    )


def _offsets(values: pa.Array) -> list[int]:
    """The value boundaries of a string array (``len + 1`` of them, from its first value)."""
    wide = pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type)
    raw = memoryview(values.buffers()[1]).cast("q" if wide else "i")
    return raw[values.offset : values.offset + len(values) + 1].tolist()


#: at most this many bytes of documents are joined in one Arrow string array (offsets are int32)
_FREEZE_CHUNK_BYTES = 256 * 2**20


@dataclass
class _Heads:
    """What a check's found rows put in their documents before the evidence rows (``rows``):
    the pieces :func:`_freeze_findings` joins, written once per found row."""

    entity_col: pa.Array
    entities: list[str]
    etypes: list[str]
    #: the findings' ids (:func:`_finding_id`)
    ids: list[str]
    severities: list[str]
    observed: pa.Array
    expected: pa.Array
    #: the document's JSON of entity_id, entity_type, expected, found and observed
    parts: list[pa.Array]
    #: the text before the entity id, and between the observed JSON and the rows object
    head: str
    pack_params: str


def _heads(check: Check, pack: Pack, params: dict[str, Any], found: pa.Table) -> _Heads:
    """The found rows' own parts of their documents (the found row, observed, expected)."""
    severity = pack.severity_for(check)
    entity_col = _one_chunk(found.column("entity_id"))
    entities = entity_col.to_pylist()
    etypes = _filled(found, "entity_type", check.entity_type)
    unknown = set(etypes) - set(ENTITY_TYPES)
    if unknown:
        raise CheckError(f"{check.code} returned entity_type {sorted(unknown, key=str)[0]!r}")
    severities = _filled(found, "severity", severity)
    unknown = set(severities) - set(SEVERITIES)
    if unknown:
        raise CheckError(f"{check.code} returned severity {sorted(unknown, key=str)[0]!r}")
    observed_cols = list(dict.fromkeys(check.observed_columns))
    expected_cols = list(dict.fromkeys(check.expected_columns))
    texts: dict[str, Any] = {}  # each column's JSON, written once for observed/expected/found
    observed = _one_chunk(json_objects(found, observed_cols, texts))
    if "severity_reason" in found.column_names:
        # why this finding's severity is not the pack's: in the JSON, the hash and the report
        reasons = found.column("severity_reason")
        if pa.types.is_string(reasons.type) or pa.types.is_large_string(reasons.type):
            given = pc.fill_null(pc.greater(pc.utf8_length(reasons), 0), False).to_pylist()
        else:
            given = [bool(v) for v in reasons.to_pylist()]
        if any(given):
            plain = found.drop_columns(["severity_reason"])
            with_reason = plain.append_column(
                "severity_reason",
                pa.array([str(v) if v else None for v in reasons.to_pylist()], pa.string()),
            )
            # the reason as text: not the found column's own JSON (kept for "found")
            own = {k: v for k, v in texts.items() if k != "severity_reason"}
            reasoned = json_objects(with_reason, [*observed_cols, "severity_reason"], own)
            observed = _one_chunk(
                pc.if_else(pa.array(given, pa.bool_()), _one_chunk(reasoned), observed)
            )
    expected = _one_chunk(json_objects(found, expected_cols, texts))
    found_json = _one_chunk(json_objects(found, None, texts))
    del texts
    etype_arr = pa.array(etypes, pa.string())
    # never null, unlike the rows' pieces (written as nothing where null)
    parts: list[pa.Array] = [
        _one_chunk(json_column(entity_col)),
        _one_chunk(json_column(etype_arr)),
        expected,
        found_json,
        observed,
    ]
    head = '{"check_code":' + _dumps(check.code) + ',"entity_id":'
    pack_params = ',"pack":' + _dumps(pack.name) + ',"parameters":'
    pack_params += _dumps(canonical_value(params)) + ',"rows":{'
    digest = _params_digest(params)
    ids = [
        _finding_id(pack.name, check.code, etype, entity, digest)
        for etype, entity in zip(etypes, entities, strict=True)
    ]
    return _Heads(
        entity_col, entities, etypes, ids, severities, observed, expected, parts, head, pack_params
    )


#: a group's template with more pieces than this is joined per finding, not given as scalars
_SCALAR_PIECES = 256


def _joined(h: _Heads, lo: int, hi: int, rows: list[pa.Array | _Fill] | None) -> pa.Array:
    """Rows ``lo:hi``'s documents (with ``rows``' pieces, sliced to ``lo:hi`` already; a
    :class:`_Fill` names one template, or none, for all of them: :func:`_fill_runs`), or their
    heads (``rows`` None: the document up to its rows object's first member)."""
    e, t, x, f, o = (p.slice(lo, hi - lo) for p in h.parts)
    tail: list[Any] = []
    for p in rows if rows is not None else ():
        if not isinstance(p, _Fill):
            tail.append(p)
            continue
        k = p.at[0].as_py() if len(p.at) else None
        if k is None:  # no rows of this table (its key piece is null too): nothing written
            continue
        pieces = p.pieces[k].as_py()
        if len(pieces) > _SCALAR_PIECES:  # many rows: one list join, as fill_groups does
            tail.append(pc.binary_join(pc.take(p.pieces, p.at), e))
            continue
        # the template's pieces as scalars, the finding's id between them: its rows written
        # once, into the document (fill_groups' text, without copying the pieces per finding)
        for i, piece in enumerate(pieces):
            tail += [piece, e] if i < len(pieces) - 1 else [piece]
    if rows is not None:
        tail.append("}}")
    # the keys in sorted order, as json.dumps(sort_keys=True) writes them
    return pc.binary_join_element_wise(
        h.head,
        e,
        ',"entity_type":',
        t,
        ',"expected":',
        x,
        ',"found":',
        f,
        ',"observed":',
        o,
        h.pack_params,
        *tail,
        "",
        null_handling="replace",
        null_replacement="",
    )


def _digests(doc: pa.Array) -> list[str]:
    """The SHA-256 of each string's UTF-8 bytes, read from the Arrow buffer (no Python str)."""
    ends = _offsets(doc)
    data = memoryview(doc.buffers()[2])
    sha256 = hashlib.sha256
    return [sha256(data[ends[i] : ends[i + 1]]).hexdigest() for i in range(len(doc))]


def _size_bounds(
    pieces: list[pa.Array | _Fill],
    runs: list[tuple[int, int]] | None = None,
    entity: pa.Array | None = None,
) -> list[tuple[int, int]]:
    """Rows per Arrow string array: each array's documents stay under 2 GiB (int32 offsets);
    within ``runs`` (ranges of rows, each a part of its own: :func:`_fill_runs`). ``entity``:
    each row's entity id as JSON, written between the pieces of a :class:`_Fill`'s template."""
    sizes: Any = 0
    for p in pieces:
        if isinstance(p, _Fill):
            assert entity is not None
            sizes = sizes + _fill_sizes(p, entity)
        else:
            lengths = pc.fill_null(pc.binary_length(p), 0).to_numpy(zero_copy_only=False)
            sizes = sizes + lengths.astype("int64")
    bounds: list[tuple[int, int]] = []
    for a, b in runs if runs is not None else [(0, len(sizes))]:
        bounds += [(a + lo, a + hi) for lo, hi in _chunk_bounds(sizes[a:b], _FREEZE_CHUNK_BYTES)]
    return bounds


def _fill_sizes(fill: _Fill, entity: pa.Array) -> Any:
    """Bytes of each row's rows text of ``fill``: its template's pieces and its id between."""
    pieces = fill.pieces
    lengths = pc.binary_length(pieces.flatten()).to_numpy(zero_copy_only=False).astype("int64")
    offsets = pieces.offsets.to_numpy().astype("int64") - int(pieces.offsets[0].as_py())
    # each template's bytes and blanks (one fewer than its pieces); a template has one piece
    # at least (cut_templates of a text gives the text)
    total = np.add.reduceat(lengths, offsets[:-1]) if len(lengths) else np.zeros(0, "int64")
    blanks = np.diff(offsets) - 1
    at = fill.at
    k = pc.fill_null(at, 0).to_numpy(zero_copy_only=False).astype("int64")
    has = pc.is_valid(at).to_numpy(zero_copy_only=False)
    if not len(total):
        return np.zeros(len(at), "int64")
    ids = pc.binary_length(entity).to_numpy(zero_copy_only=False).astype("int64")
    return np.where(has, total[k] + blanks[k] * ids, 0)


def _fill_runs(
    rows: list[pa.Array | _Fill],
) -> tuple[Any, list[tuple[int, int]] | None]:
    """(A permutation of the rows putting together those whose every :class:`_Fill` names the
    same template, and the ranges of rows alike after it), or (None, None) without a fill."""
    fills = [p for p in rows if isinstance(p, _Fill)]
    if not fills:
        return None, None
    keys = [pc.fill_null(f.at, -1).to_numpy(zero_copy_only=False).astype("int64") for f in fills]
    order = np.lexsort(keys[::-1]) if len(keys) > 1 else np.argsort(keys[0], kind="stable")
    n = len(order)
    change = np.zeros(n, bool)
    if n:
        change[0] = True
        for key in keys:
            ordered = key[order]
            change[1:] |= ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(change).tolist()
    return order, list(zip(starts, [*starts[1:], n], strict=True))


def _head_digests(h: _Heads) -> pa.Array:
    shas: list[str] = []
    for lo, hi in _size_bounds(h.parts):
        shas += _digests(_joined(h, lo, hi, None))
    return pa.array(shas, pa.string())


def _freeze_findings(
    check: Check,
    pack: Pack,
    params: dict[str, Any],
    found: pa.Table,
    ev: dict[str, pa.Table | _Fill],
    scan_id: str,
    detected_at: dt.datetime,
    carried: pa.Array | None = None,
    heads: _Heads | None = None,
) -> tuple[pa.Table, pa.Table, float]:
    """One check's findings and frozen evidence documents (``evidence_sha256``,
    ``document``), and the seconds it took.

    The document of a finding is the canonical JSON (:func:`~promoguard.engine.evidence.freeze`)
    of ``{check_code, pack, entity_type, entity_id, parameters, observed, expected, found,
    rows}``. Every part is written column by column in Arrow (the found row, observed, expected,
    each evidence table's rows per entity, joined to the found rows by entity) and the parts are
    joined in Arrow too: Python only hashes each document's UTF-8 bytes, read from the Arrow
    buffer (no Python string per document: at city scale they were ~2 GB of UCS-2/UCS-4 text).

    ``carried`` (per found row, or None): the ``evidence_sha256`` of a document the store holds
    already that this one would equal (kept evidence, :func:`_evidence_carry`): the row's
    finding takes it, and no document is written for it (``ev`` need not hold its rows).
    ``heads``: :func:`_heads` of ``found``, when the caller has them already.
    """
    started = time.perf_counter()
    n = found.num_rows
    if not n:
        return _findings_table({}), EVIDENCE_SCHEMA.empty_table(), time.perf_counter() - started
    found = found.combine_chunks()
    h = heads if heads is not None else _heads(check, pack, params, found)
    shas: list[str | None]
    documents: list[pa.Array] = []
    if carried is None:
        rebuilt = None
        shas = []
    else:
        carried = _one_chunk(carried)
        shas = carried.to_pylist()
        rebuilt = pc.indices_nonzero(pc.is_null(carried))
    made: list[str] = []  # each document's hash, in the documents' order
    if rebuilt is None or len(rebuilt):
        own = h if rebuilt is None else _taken(h, rebuilt)
        if rebuilt is not None:  # a group's rows not written out are the found rows', in order
            ev = {k: v.take(rebuilt) if isinstance(v, _Fill) else v for k, v in ev.items()}
        rows = _rows_json(own.entity_col, ev)
        # the found row of each document: the rows proved, in the order their documents are
        # written (grouped by their groups' templates when a group's rows are not written out)
        where = np.arange(n) if rebuilt is None else rebuilt.to_numpy()
        order, runs = _fill_runs(rows)
        if order is not None:
            own = _taken(own, pa.array(order))
            rows = [p.take(pa.array(order)) for p in rows]
            where = where[order]
        for lo, hi in _size_bounds([*own.parts, *rows], runs, own.parts[0]):
            doc = _joined(own, lo, hi, [p.slice(lo, hi - lo) for p in rows])
            documents.append(doc)
            made.extend(_digests(doc))
        if rebuilt is None and order is None:
            shas = made
        else:
            if rebuilt is None:
                shas = [None] * n
            for at, sha in zip(where.tolist(), made, strict=True):
                shas[at] = sha
    sha_arr = pa.array(shas, pa.string())
    findings = _findings_table(
        {
            "finding_id": pa.array(h.ids, pa.string()),
            "scan_id": _repeat(scan_id, n),
            "check_code": _repeat(check.code, n),
            "pack": _repeat(pack.name, n),
            "entity_type": pa.array(h.etypes, pa.string()),
            "entity_id": h.entity_col,
            "merchant_id": found.column("merchant_id"),
            "platform_id": found.column("platform_id"),
            "severity": pa.array(h.severities, pa.string()),
            "observed": h.observed,
            "expected": h.expected,
            "legal_basis": _repeat(pack.legal_basis_for(check), n),
            "evidence_sha256": sha_arr,
            "detected_at": pa.repeat(pa.scalar(detected_at, pa.timestamp("us", tz="UTC")), n),
        }
    )
    if not documents:
        return findings, EVIDENCE_SCHEMA.empty_table(), time.perf_counter() - started
    frozen = pa.table(
        [pa.chunked_array([pa.array(made, pa.string())]), pa.chunked_array(documents, pa.string())],
        schema=EVIDENCE_SCHEMA,
    )
    return findings, frozen, time.perf_counter() - started


def _taken(h: _Heads, at: pa.Array) -> _Heads:
    """The heads of the rows at positions ``at``."""
    pick = at.to_pylist()
    return _Heads(
        _one_chunk(pc.take(h.entity_col, at)),
        [h.entities[i] for i in pick],
        [h.etypes[i] for i in pick],
        [h.ids[i] for i in pick],
        [h.severities[i] for i in pick],
        _one_chunk(pc.take(h.observed, at)),
        _one_chunk(pc.take(h.expected, at)),
        [_one_chunk(pc.take(p, at)) for p in h.parts],
        h.head,
        h.pack_params,
    )


def _rows_json(entities: pa.Array, ev: dict[str, pa.Table | _Fill]) -> list[pa.Array | _Fill]:
    """Per found entity, the members of its document's ``rows`` object: ``"name":[...]`` for each
    evidence table (names sorted) that has rows for it, joined by commas; as pieces (two per
    table: the member's ``,"name":`` and its list, null where the entity has no rows of that
    table) that the document's join writes in place, nulls as nothing (joining them here first,
    and cutting the first comma, copied every document's rows twice more). A group table's rows
    not written out (:class:`_Fill`, in ``entities``' order) stay so: :func:`_joined` writes them."""
    pieces: list[pa.Array | _Fill] = []
    earlier = None  # per entity: a member written before this table's
    for name in sorted(ev):
        groups = ev[name]
        key = _dumps(name) + ":"
        if isinstance(groups, _Fill):
            if len(groups.at) != len(entities):
                raise CheckError(f"evidence {name!r}: {len(groups.at)} rows for {len(entities)}")
            present = pc.is_valid(groups.at)
            text: pa.Array | _Fill = groups
        else:
            at = pc.index_in(entities, value_set=groups.column("g"))
            present = pc.is_valid(at)
            text = _one_chunk(pc.take(groups.column("j"), at))
        if earlier is None:
            head = pc.if_else(present, key, pa.scalar(None, pa.string()))
            earlier = present
        else:
            head = pc.if_else(
                present, pc.if_else(earlier, "," + key, key), pa.scalar(None, pa.string())
            )
            earlier = pc.or_(earlier, present)
        pieces += [_one_chunk(head), text]
    return pieces


def _chunk_bounds(sizes: Any, limit: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` row ranges whose ``sizes`` add up to at most ``limit`` (a bigger row alone)."""
    bounds, lo, held = [], 0, 0
    for i, size in enumerate(sizes.tolist()):
        if held and held + size > limit:
            bounds.append((lo, i))
            lo, held = i, 0
        held += size
    bounds.append((lo, len(sizes)))
    return bounds


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _repeat(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


#: the findings of a scan as Arrow: the store's string columns and an instant
FINDINGS_SCHEMA = pa.schema(
    [
        pa.field(c.name, pa.timestamp("us", tz="UTC") if c.name == "detected_at" else pa.string())
        for c in FINDING_COLUMNS
    ]
)


def _findings_table(columns: dict[str, Any]) -> pa.Table:
    """The findings table of columns given as lists or Arrow arrays (a missing one: empty)."""
    return pa.table(
        [
            col.cast(f.type)
            if isinstance(col, (pa.Array, pa.ChunkedArray))
            else pa.array(col, f.type)
            for f in FINDINGS_SCHEMA
            for col in [columns.get(f.name, [])]
        ],
        schema=FINDINGS_SCHEMA,
    )


def _filled(found: pa.Table, column: str, default: str) -> list[str]:
    """A found column's values with blanks (null, "") read as ``default``."""
    if column not in found.column_names:
        return [default] * found.num_rows
    return [v or default for v in found.column(column).to_pylist()]


def _dumps(value: Any) -> str:
    """canonical_json of values that are canonical already."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def choose_checks(pack: Pack, codes: str | Sequence[str] | None) -> list[Check]:
    enabled = set(pack.enabled_codes())
    known = {c.code for c in registry.all_checks()}
    if codes:
        chosen = registry.select(codes)
        outside = [c.code for c in chosen if c.code not in enabled]
        if outside:
            raise CheckError(f"pack {pack.name!r} does not enable {', '.join(outside)}")
        return chosen
    return [registry.get(c) for c in sorted(enabled & known)]


def scan(
    store_path: str | Path,
    pack: str | Path = "cn",
    *,
    engine: str = "duckdb",
    checks: str | Sequence[str] | None = None,
    spark_master: str | None = None,
    save: bool = True,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan a store with a pack's checks on an engine; keep the findings in the store.

    ``spark_master`` (with ``engine="spark"``): the master to run on, or None for the Spark
    session already running in this process, else local[*] (``backends.spark_session``)."""
    if engine not in ENGINES:
        raise CheckError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if not Path(store_path).exists():
        raise CheckError(f"no store at {store_path}; run `promoguard ingest` first")
    from promoguard import lakeview

    if lakeview.is_lake(store_path):  # (lake.scan imports this module: no call back to it)
        raise CheckError(
            f"{store_path} is a Parquet lake: scan it with promoguard.lake.scan "
            "(the `promoguard scan` command does), which writes its findings as a batch"
        )
    the_pack = load_pack(pack)
    chosen = choose_checks(the_pack, checks)
    started, detected_at, scan_id = scan_clock()
    # Compute with a read-only connection: readers (report, verify, a duckdb shell) are not
    # locked out for the whole scan. The results go in with one short write at the end.
    con = store_mod.connect(store_path, read_only=True)
    try:
        marks = store_mod.row_marks(con)  # what this scan reads, for a later `scan --since`
        tables_cm = (
            backends.duckdb_tables(con)
            if engine == "duckdb"
            else backends.spark_tables(con, spark_master, beside=store_path)
        )
        with tables_cm as tables:
            result = run_checks(
                tables,
                chosen,
                the_pack,
                engine=engine,
                scan_id=scan_id,
                detected_at=detected_at,
                progress=progress,
                # a saved scan keeps its kept relations for the next `scan --since`
                kept=KeptState(save=save) if engine == "duckdb" else None,
            )
        result.marks = marks
    finally:
        con.close()
    if save:
        con = _writer(store_path)
        try:
            save_result(con, result, the_pack, started)
        finally:
            con.close()
    return result


def scan_clock() -> tuple[dt.datetime, dt.datetime, str]:
    """A new scan's exact start, the second its findings are detected at, and its id.

    The scan is recorded as started at the exact instant: stores order their scans by it to
    find the latest, and two scans begun in the same second (a scan, a fix, a re-scan) would
    otherwise be ordered by the random part of their ids, so that "the latest" was the older
    one half the time. Findings keep the whole second (they are sealed with it).
    """
    started = dt.datetime.now(dt.UTC)
    detected_at = started.replace(microsecond=0)
    return started, detected_at, f"scan-{detected_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


#: How long the final write waits for readers (a report, a duckdb shell) to let go of the store.
WRITE_WAIT_SECONDS = 60.0


def _writer(store_path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection for the final save, waiting a while for readers to finish."""
    from promoguard.errors import StoreBusy

    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    while True:
        try:
            return store_mod.connect(store_path)
        except StoreBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ran_with(pack: Pack, check: Check) -> dict[str, str]:
    """What ``check``'s findings are made with besides the rows: the pack's name (in each
    finding and its id), the severity and legal basis it writes into each finding, the time
    zone its calendar days are cut in, its resolved parameters and the pack's settings (what a
    finder reads beside them). A saved scan records it per check (its coverage entry's
    ``ran_with``): ``scan --since`` carries a check's findings only from a scan that ran it so.

    The long parts as digests (the record is per check of every scan); the short ones as they
    are, so that a person reading a scan's coverage sees which part differs. The currency and
    the engine are left out: no finding reads the one, and the engines give the same findings."""
    params = pack.parameters_for(check)
    return {
        "pack": pack.name,
        "severity": pack.severity_for(check),
        "legal_basis": _digest(pack.legal_basis_for(check)),
        "timezone": pack.timezone,
        "parameters": _digest(params),
        "settings": _digest(dict(pack.settings)),
        # a parameter names a file by its path: an edit in place leaves the path as it was
        "inputs": _digest([_file_digest(f) for f in check.input_files(params)]),
        # the code that made the findings: an upgrade or an edited rule is not carried over
        "code": _code_digest(type(check)),
    }


def _code_files(cls: type) -> list[str]:
    """The source files the findings of ``cls`` may come from: every module of PromoGuard (a
    rule's own file, and the shared helpers, matchers and graph code it calls, which its class
    does not name), and the rule's own file when it is a plugin's. Any change to the code runs
    every check whole once (``scan --since``), which an upgrade should."""
    import inspect

    out = list(_package_files())
    with contextlib.suppress(TypeError, OSError):
        own = inspect.getsourcefile(cls)
        if own and own not in out:
            out.append(own)
    return out


def _code_digest(cls: type) -> str:
    return _digest([__version__, _files_digest(tuple(_code_files(cls)))])


@functools.lru_cache(maxsize=64)
def _files_digest(files: tuple[str, ...]) -> str:
    # once per process and set of files (the code a process runs is the code it imported),
    # not ~200 stat calls for every check of every scan
    return _digest([_file_digest(f) for f in files])


@functools.lru_cache(maxsize=1)
def _package_files() -> tuple[str, ...]:
    root = Path(__file__).resolve().parent.parent  # the promoguard package
    return tuple(str(p) for p in sorted(root.rglob("*.py")))


def _file_digest(path: str) -> list[str]:
    """A file's name and the SHA-256 of its bytes ("missing" if it cannot be read: the scan
    says why when it reads it). Kept per (path, size, modification time)."""
    try:
        st = os.stat(path)
    except OSError:
        return [Path(path).name, "missing"]
    return [Path(path).name, _bytes_digest(path, st.st_size, st.st_mtime_ns)]


@functools.lru_cache(maxsize=512)
def _bytes_digest(path: str, size: int, mtime_ns: int) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _digest(value: Any) -> str:
    """The first 16 hex digits of the SHA-256 of ``value``'s canonical JSON (as finding ids
    digest the parameters)."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:16]


def saved_coverage(result: ScanResult, pack: Pack) -> dict[str, dict[str, Any]]:
    """The coverage a saved scan records: each check's entry (what data it had) with what it
    ran with (:func:`ran_with`), for every check the scan ran or carried."""
    out: dict[str, dict[str, Any]] = {}
    for run in result.runs:
        entry = dict(result.coverage.get(run.code) or {})
        entry["ran_with"] = ran_with(pack, registry.get(run.code))
        out[run.code] = entry
    return out


def save_result(
    con: duckdb.DuckDBPyConnection, result: ScanResult, pack: Pack, started: dt.datetime
) -> None:
    params = {
        c.code: pack.parameters_for(registry.get(c.code)) for c in result.runs
    }  # what the scan ran with, for the record
    # the findings as the scan holds them (Parquet files, then Arrow): no pandas frame
    files, findings = result.findings_parts()
    # findings, evidence and seals in one transaction: a scan is never visible unsealed
    result.seal = store_mod.save_scan(
        con,
        scan_id=result.scan_id,
        pack=result.pack,
        engine=result.engine,
        checks=[r.code for r in result.runs],
        parameters=json.dumps(canonical_value(params), ensure_ascii=False, sort_keys=True),
        started_at=started,
        findings=findings,
        findings_files=files,
        evidence=result.evidence,
        coverage=json.dumps(
            canonical_value(saved_coverage(result, pack)), ensure_ascii=False, sort_keys=True
        ),
        marks=result.marks,
        kept=result.kept,
    )
    for copies in result.kept:  # in the store now: the scan's files go
        copies.close()


def write_findings(findings: pd.DataFrame, out: str | Path) -> Path:
    """Write findings to Parquet or CSV, chosen by the file's extension."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    from promoguard.safety import make_private, write_csv

    if path.suffix.lower() == ".parquet":
        findings.to_parquet(path, index=False)
        make_private(path)  # findings quote names and texts: owner-only
    elif path.suffix.lower() == ".csv":
        write_csv(findings, path)  # formula-safe cells, owner-only
    else:
        raise CheckError(f"--out must end in .parquet or .csv, not {path.suffix or '(none)'}")
    return path
