"""Run checks against a store on an engine, and turn what they find into findings.

DuckDB reads the store in place. Spark gets the store's canonical tables exported to Parquet (UTC
instants, exact decimals) and registered as temporary views; the checks are the same Ibis code,
so both engines give the same findings, ids and evidence hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from promoguard import store as store_mod
from promoguard.engine import backends, registry
from promoguard.engine.base import (
    COVERAGE_METADATA,
    FOUND_COLUMNS,
    ROW_SEVERITY_COLUMNS,
    SEVERITIES,
    Check,
    ScanContext,
    Tables,
)
from promoguard.engine.cache import scan_cache
from promoguard.engine.evidence import (
    canonical_groups,
    canonical_json,
    canonical_value,
    freeze_canonical,
)
from promoguard.engine.packs import Pack, load_pack
from promoguard.errors import CheckError
from promoguard.model import ENTITY_TYPES, FINDING_COLUMNS

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


@dataclass
class ScanResult:
    scan_id: str
    pack: str
    engine: str
    findings: pd.DataFrame
    runs: list[CheckRun] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)  # sha256 -> canonical JSON
    #: check code -> {"status": "ran", "rows": N, ...} or {"status": "skipped", "reason": ...}
    coverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    seal: str = ""  # the scan seal (integrity.py), once saved
    #: rows per canonical table the scan read (a DuckDB file; ``store.row_marks``), kept with it
    marks: dict[str, int] | None = None

    def summary(self) -> dict[str, Any]:
        by_code = self.findings.groupby("check_code").size().to_dict() if len(self.findings) else {}
        return {
            "scan_id": self.scan_id,
            "pack": self.pack,
            "engine": self.engine,
            "findings": int(len(self.findings)),
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
    except Exception:  # the table is not in this store (an older store, another engine's view)
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
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """entity_id -> {evidence name -> rows}."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    if not found.num_rows:
        return out
    view = f"_found_{check.code.lower()}_{uuid.uuid4().hex[:8]}"
    found_expr = backends.register_arrow(tables.backend, view, found)
    try:
        for name, expr in check.evidence(tables, found_expr, params, ctx).items():
            # canonicalised and ordered column by column in Arrow, not value by value in Python
            for entity, erows in canonical_groups(tables.to_arrow(expr)).items():
                out[entity][name] = erows
    finally:
        backends.unregister(tables.backend, view)
    return out


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
) -> ScanResult:
    """Run ``checks`` on ``tables`` with ``pack``'s settings; ``progress(step, done, total)`` is
    told what runs (two steps per check: its finder, then its evidence). ``coverage_of`` gives a
    check's coverage when ``tables`` are a part of the store (an incremental scan's merchants):
    whether it runs is decided on the whole store, not on the part."""
    ctx = ScanContext(pack=pack.name, engine=engine, timezone=pack.timezone, extra=pack.settings)
    records: list[dict[str, Any]] = []
    evidence: dict[str, str] = {}
    runs: list[CheckRun] = []
    coverage: dict[str, dict[str, Any]] = {}
    total = 2 * len(checks)
    done = 0

    def tell(step: str) -> None:
        if progress is not None:
            progress(step, done, total)

    # Every finder runs before any evidence query, so that evidence can share one pass over the
    # big tables for the entities all checks found (e.g. the scans of every found order's
    # parcels); relations shared between checks live in the engine until the scan ends.
    with scan_cache(tables) as cache:
        params_of = {check.code: pack.parameters_for(check) for check in checks}
        find_seconds: dict[str, float] = {}
        counts: dict[str, int | None] = {}
        for check in checks:
            tell(f"{check.code} {check.name}")
            started = time.perf_counter()
            if coverage_of is not None and check.code in coverage_of:
                cover = dict(coverage_of[check.code])
            else:
                cover = check_coverage(tables, check, counts)
            if cover["status"] == "ran":
                found = _found_rows(check, tables, params_of[check.code], ctx)
                meta = (found.schema.metadata or {}).get(COVERAGE_METADATA)
                if meta:
                    cover.update(json.loads(meta))
                    found = found.replace_schema_metadata(None)
            else:
                found = _empty_found(check)
            coverage[check.code] = cover
            cache.found[check.code] = (check.entity_type, found)
            find_seconds[check.code] = time.perf_counter() - started
            done += 1
        # Freezing (Python: JSON, SHA-256) of one check's findings runs in a worker thread while
        # the engine (which releases the GIL) answers the next check's evidence queries.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="promoguard-freeze") as freezer:
            pending = []
            for check in checks:
                tell(f"{check.code} {check.name} (evidence)")
                started = time.perf_counter()
                params, found = params_of[check.code], cache.found[check.code][1]
                ev = _evidence_rows(check, tables, found, params, ctx)
                seconds = find_seconds[check.code] + time.perf_counter() - started
                job = freezer.submit(
                    _freeze_findings, check, pack, params, found, ev, scan_id, detected_at
                )
                pending.append((check, found, seconds, job))
            for check, found, seconds, job in pending:
                check_records, check_evidence, freeze_s = job.result()
                records.extend(check_records)
                evidence.update(check_evidence)
                runs.append(CheckRun(check.code, found.num_rows, seconds + freeze_s))
                done += 1
        tell("done")
    findings = pd.DataFrame.from_records(records, columns=FINDING_NAMES)
    return ScanResult(scan_id, pack.name, engine, findings, runs, evidence, coverage)


def _freeze_findings(
    check: Check,
    pack: Pack,
    params: dict[str, Any],
    found: pa.Table,
    ev: dict[str, dict[str, list[dict[str, Any]]]],
    scan_id: str,
    detected_at: dt.datetime,
) -> tuple[list[dict[str, Any]], dict[str, str], float]:
    """One check's finding records and frozen evidence documents, and the seconds it took."""
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    evidence: dict[str, str] = {}
    severity = pack.severity_for(check)
    legal = pack.legal_basis_for(check)
    canonical_params = canonical_value(params)
    params_digest = _params_digest(params)
    # found rows canonical in Arrow too; one row per entity, so one per group
    canonical_found = canonical_groups(found)
    for row in found.select(
        [
            c
            for c in (
                "entity_id",
                "merchant_id",
                "platform_id",
                "entity_type",
                *ROW_SEVERITY_COLUMNS,
            )
            if c in found.column_names
        ]
    ).to_pylist():
        entity = row["entity_id"]
        crow = canonical_found[entity][0]
        # a check may find several kinds of entity (REVIEW002: texts and reviews)
        etype = row.get("entity_type") or check.entity_type
        if etype not in ENTITY_TYPES:
            raise CheckError(f"{check.code} returned entity_type {etype!r}")
        observed = {c: crow[c] for c in check.observed_columns}
        expected = {c: crow[c] for c in check.expected_columns}
        row_severity = row.get("severity") or severity
        if row_severity not in SEVERITIES:
            raise CheckError(f"{check.code} returned severity {row_severity!r}")
        if row.get("severity_reason"):
            # why this finding's severity is not the pack's: in the JSON, the hash and the report
            observed["severity_reason"] = str(row["severity_reason"])
        document = {
            "check_code": check.code,
            "pack": pack.name,
            "entity_type": etype,
            "entity_id": entity,
            "parameters": canonical_params,
            "observed": observed,
            "expected": expected,
            "found": crow,
            "rows": ev.get(entity, {}),
        }
        sha, text = freeze_canonical(document)
        evidence[sha] = text
        records.append(
            {
                "finding_id": _finding_id(pack.name, check.code, etype, entity, params_digest),
                "scan_id": scan_id,
                "check_code": check.code,
                "pack": pack.name,
                "entity_type": etype,
                "entity_id": entity,
                "merchant_id": row["merchant_id"],
                "platform_id": row["platform_id"],
                "severity": row_severity,
                "observed": _dumps(observed),
                "expected": _dumps(expected),
                "legal_basis": legal,
                "evidence_sha256": sha,
                "detected_at": detected_at,
            }
        )
    return records, evidence, time.perf_counter() - started


def _dumps(canonical: dict[str, Any]) -> str:
    """canonical_json of values that are canonical already."""
    return json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


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
    spark_master: str = "local[*]",
    save: bool = True,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan a store with a pack's checks on an engine; keep the findings in the store."""
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
    detected_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    scan_id = f"scan-{detected_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
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
            )
        result.marks = marks
    finally:
        con.close()
    if save:
        con = _writer(store_path)
        try:
            save_result(con, result, the_pack, detected_at)
        finally:
            con.close()
    return result


#: How long the final write waits for readers (a report, a duckdb shell) to let go of the store.
WRITE_WAIT_SECONDS = 60.0


def _writer(store_path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection for the final save, waiting a while for readers to finish."""
    from promoguard.errors import StoreError

    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    while True:
        try:
            return store_mod.connect(store_path)
        except StoreError as exc:
            if "in use by another process" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def save_result(
    con: duckdb.DuckDBPyConnection, result: ScanResult, pack: Pack, started: dt.datetime
) -> None:
    params = {
        c.code: pack.parameters_for(registry.get(c.code)) for c in result.runs
    }  # what the scan ran with, for the record
    # findings, evidence and seals in one transaction: a scan is never visible unsealed
    result.seal = store_mod.save_scan(
        con,
        scan_id=result.scan_id,
        pack=result.pack,
        engine=result.engine,
        checks=[r.code for r in result.runs],
        parameters=json.dumps(canonical_value(params), ensure_ascii=False, sort_keys=True),
        started_at=started,
        findings=result.findings,
        evidence=result.evidence,
        coverage=json.dumps(canonical_value(result.coverage), ensure_ascii=False, sort_keys=True),
        marks=result.marks,
    )


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
