"""Integrity of a store: every finding bound to its evidence, every scan to its findings.

A scan seals what it wrote, in the same transaction that writes it:

* each finding gets a **finding seal**: SHA-256 over every column of the finding row
  (``finding_seals``), among them ``evidence_sha256``, the hash of the evidence document it points
  at; ``verify`` re-hashes every such document, so editing a severity, an observed value or the
  document, or pointing the finding at another document, is caught and names the finding. The seal
  is written ``v2:<hex>``. Scans sealed before session 10 (a bare ``<hex>``) sealed the document's
  text inside each finding seal (``finding_seal_sql``), which hashed every document again for
  every scan that carried it (at city scale 1.7 GB, most of a daily save); ``verify`` checks each
  finding by the form its seal was written in, so older stores verify as they always did;
* the scan gets a **scan seal**: SHA-256 over the scan's row (pack, engine, checks, parameters,
  times, count) and the sorted (finding id, finding seal) pairs (``scan_seals``). Deleting or
  adding a finding, together with its seal or not, changes it.

``verify`` recomputes all of it from the store and names each finding, document or scan that is
changed, missing or added. The seals are plain SHA-256, not keyed: someone who can write the store
and recomputes every level can forge a consistent store. Against that, keep the scan seal that
``scan`` prints somewhere else (a case file, a notice) and give it to ``verify --expect``.

Fields are length-prefixed before hashing (``12:scan-2026...``) so that no value can move text
into its neighbour and keep the hash; NULL is ``-``, distinct from the empty string ``0:``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from promoguard.model import FINDING_COLUMNS
from promoguard.sqlbuild import Sql, column, join, literal, sql

FINDING_SEALS_SQL = """
CREATE TABLE IF NOT EXISTS finding_seals (
  scan_id VARCHAR NOT NULL,
  finding_id VARCHAR NOT NULL,
  seal_sha256 VARCHAR NOT NULL
)"""

SCAN_SEALS_SQL = """
CREATE TABLE IF NOT EXISTS scan_seals (
  scan_id VARCHAR NOT NULL,
  findings BIGINT NOT NULL,
  seal_sha256 VARCHAR NOT NULL,
  sealed_at TIMESTAMPTZ NOT NULL
)"""

SCAN_FIELDS = ("scan_id", "pack", "engine", "checks", "parameters", "started_at", "findings")


def _field(expr: Sql) -> Sql:
    """A value as text that cannot run into its neighbour: ``<length>:<text>``, or ``-`` for NULL."""
    text = sql("CAST({e} AS VARCHAR)", e=expr)
    return sql("coalesce(CAST(length({t}) AS VARCHAR) || ':' || {t}, '-')", t=text)


def _instant(expr: Sql) -> Sql:
    # Independent of the session time zone and of how a client prints a TIMESTAMPTZ.
    return sql("strftime(timezone('UTC', {e}), '%Y-%m-%dT%H:%M:%S.%fZ')", e=expr)


def _finding_text(alias: str) -> Sql:
    parts = []
    for c in FINDING_COLUMNS:
        expr = column(alias, c.name)
        parts.append(_field(_instant(expr) if c.duckdb_type == "TIMESTAMPTZ" else expr))
    return join(" || '|' || ", parts)


def finding_seal_sql(f: str = "f", e: str = "e") -> Sql:
    """SQL for a finding's seal as scans sealed it before session 10 (version 1), over finding row
    ``f`` and its evidence row ``e`` (may be NULL): kept to verify those scans."""
    return sql(
        "sha256({text} || '#' || {document})",
        text=_finding_text(f),
        document=_field(column(e, "document")),
    )


#: how a finding seal of version 2 begins (a version 1 seal is 64 hex digits)
ROW_SEAL = "v2:"


def row_seal_sql(f: str = "f") -> Sql:
    """SQL for a finding's seal (version 2): ``v2:`` and SHA-256 over finding row ``f`` alone.

    The row holds ``evidence_sha256``; the document is bound to it by its own hash, which
    ``verify`` recomputes for every document a finding names (and names the finding when its
    document no longer hashes to it, or is gone). Hashing the document's text into every finding
    seal again, as version 1 did, adds nothing to that and cost most of a daily save."""
    return sql("{prefix} || sha256({text})", prefix=literal(ROW_SEAL), text=_finding_text(f))


def _scan_text(s: str) -> Sql:
    return join(
        " || '|' || ",
        (
            _field(_instant(column(s, n)) if n == "started_at" else column(s, n))
            for n in SCAN_FIELDS
        ),
    )


def scan_seal_sql(scan: str = "s", seals: str = "finding_seals") -> Sql:
    """SQL for the scan seal of scans row ``scan`` over the finding seals table ``seals``."""
    pairs = sql(
        "(SELECT coalesce(string_agg(x.finding_id || ':' || x.seal_sha256, ',' "
        "ORDER BY x.finding_id, x.seal_sha256), '') FROM {seals} x "
        "WHERE x.scan_id = {scan_id})",
        seals=seals,
        scan_id=column(scan, "scan_id"),
    )
    return sql("sha256({text} || '#' || {pairs})", text=_scan_text(scan), pairs=pairs)


_FIRST_DOCUMENT = Sql(
    "QUALIFY row_number() OVER (PARTITION BY f.scan_id, f.finding_id ORDER BY e.document) = 1"
)


def _first_document(con: duckdb.DuckDBPyConnection, f_where: Sql, args: list) -> Sql:
    """The clause that keeps one row per finding of the findings-evidence join: its first
    document. It is needed only when the join can repeat a finding (a document hash stored twice,
    or a finding id twice in a scan: neither is written by a scan, but a store edited by hand
    may hold them); then it sorts every joined document (at city scale 1.7 GB of text for 720k
    findings: 33 of the seal query's 43 CPU s). When neither repeats, every finding has at most one
    row and the seals are the same without it."""
    repeated = con.execute(
        sql(
            """SELECT (SELECT count(*) FROM (SELECT evidence_sha256 FROM evidence
                   GROUP BY evidence_sha256 HAVING count(*) > 1))
               + (SELECT count(*) FROM (SELECT f.scan_id, f.finding_id FROM findings f {f_where}
                   GROUP BY f.scan_id, f.finding_id HAVING count(*) > 1))""",
            f_where=f_where,
        ),
        args,
    ).fetchone()[0]
    return _FIRST_DOCUMENT if repeated else Sql("")


def initialise(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(FINDING_SEALS_SQL)
    con.execute(SCAN_SEALS_SQL)


def seal_scan(con: duckdb.DuckDBPyConnection, scan_id: str, version: int = 2) -> str:
    """Seal the findings and the row of scan ``scan_id`` (run inside the scan's own transaction).

    Returns the scan seal (print it, keep it elsewhere: ``verify --expect`` checks against it).
    ``version=1`` seals as scans did before session 10 (each document's text inside each finding
    seal): only to make such a store in tests.
    """
    initialise(con)
    con.execute("DELETE FROM finding_seals WHERE scan_id = ?", [scan_id])
    con.execute("DELETE FROM scan_seals WHERE scan_id = ?", [scan_id])
    if version == 2:
        con.execute(
            sql(
                """INSERT INTO finding_seals
            SELECT f.scan_id, f.finding_id, {seal} FROM findings f WHERE f.scan_id = ?""",
                seal=row_seal_sql(),
            ),
            [scan_id],
        )
    elif version == 1:
        con.execute(
            sql(
                """INSERT INTO finding_seals
            SELECT f.scan_id, f.finding_id, {seal}
            FROM findings f LEFT JOIN evidence e ON e.evidence_sha256 = f.evidence_sha256
            WHERE f.scan_id = ? {first}""",
                seal=finding_seal_sql(),
                first=_first_document(con, Sql("WHERE f.scan_id = ?"), [scan_id]),
            ),
            [scan_id],
        )
    else:
        raise ValueError(f"no finding seal of version {version}")
    con.execute(
        sql(
            """INSERT INTO scan_seals
        SELECT s.scan_id, s.findings, {seal}, ?
        FROM scans s WHERE s.scan_id = ?""",
            seal=scan_seal_sql(),
        ),
        [dt.datetime.now(dt.UTC), scan_id],
    )
    row = con.execute("SELECT seal_sha256 FROM scan_seals WHERE scan_id = ?", [scan_id]).fetchone()
    return row[0] if row else ""


@dataclass
class Problem:
    kind: str  # changed | missing | added | unsealed
    what: str  # finding | evidence | scan
    id: str
    detail: str

    def __str__(self) -> str:
        return f"{self.what} {self.id}: {self.kind} ({self.detail})"


@dataclass
class Verification:
    scans: int = 0
    findings: int = 0
    evidence: int = 0
    problems: list[Problem] = field(default_factory=list)
    seals: dict[str, str] = field(default_factory=dict)  # scan id -> scan seal (as recomputed)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "scans": self.scans,
            "findings": self.findings,
            "evidence": self.evidence,
            "seals": self.seals,
            "problems": [p.__dict__ for p in self.problems],
        }


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()[0]
    )


def verify(
    con: duckdb.DuckDBPyConnection,
    scan_id: str | None = None,
    expect: str | None = None,
    limit: int = 1000,
) -> Verification:
    """Re-hash every evidence document, finding and scan (or one scan) and name what differs.

    ``expect``: a scan seal kept outside the store; the scan (``scan_id``, or the only scan)
    must have it. At most ``limit`` problems are listed per kind (the counts are exact).
    """
    result = Verification()
    sealed = _has(con, "finding_seals") and _has(con, "scan_seals")
    where = Sql("WHERE scan_id = ?" if scan_id else "")
    args = [scan_id] if scan_id else []
    scans = [
        r[0] for r in con.execute(sql("SELECT scan_id FROM scans {w}", w=where), args).fetchall()
    ]
    result.scans = len(scans)
    result.findings = con.execute(
        sql("SELECT count(*) FROM findings {w}", w=where), args
    ).fetchone()[0]

    def add(kind: str, what: str, rows: list[tuple]) -> None:
        for r in rows[:limit]:
            result.problems.append(Problem(kind, what, str(r[0]), str(r[1])))

    # Evidence documents that no longer hash to their name (edited in place).
    scope = Sql(
        "evidence_sha256 IN (SELECT evidence_sha256 FROM findings WHERE scan_id = ?)"
        if scan_id
        else "true"
    )
    result.evidence = con.execute(
        sql("SELECT count(*) FROM evidence WHERE {scope}", scope=scope), args
    ).fetchone()[0]
    changed_documents = con.execute(
        sql(
            """SELECT evidence_sha256,
               coalesce('the document hashes to ' || sha256(document), 'the document is NULL')
        FROM evidence WHERE {scope} AND sha256(document) IS DISTINCT FROM evidence_sha256
        ORDER BY 1""",
            scope=scope,
        ),
        args,
    ).fetchall()
    add("changed", "evidence", changed_documents)
    f_where = Sql("WHERE f.scan_id = ?" if scan_id else "")
    # Findings whose document is gone (deleted, or renamed together with a rewritten hash).
    missing_documents = con.execute(
        sql(
            """SELECT f.evidence_sha256, 'named by finding ' || f.finding_id
        FROM findings f ANTI JOIN evidence e ON e.evidence_sha256 = f.evidence_sha256
        {f_where} ORDER BY 1, 2""",
            f_where=f_where,
        ),
        args,
    ).fetchall()
    add("missing", "evidence", missing_documents)
    if not sealed:
        for s in scans:
            result.problems.append(
                Problem("unsealed", "scan", s, "the store has no seals: made before sealing")
            )
        return result
    # Findings against their seals, each recomputed in the form it was sealed in: a row seal
    # (v2) over the row alone, and no longer equal when its document changed or is gone (found
    # above, by re-hashing every document); an older seal (v1) over the row and the document.
    con.execute(
        sql(
            "CREATE OR REPLACE TEMP TABLE _pg_sealed AS SELECT * FROM finding_seals x {s_where}",
            s_where=Sql("WHERE x.scan_id = ?" if scan_id else ""),
        ),
        args,
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _pg_bad (evidence_sha256 VARCHAR)")
    bad = sorted({r[0] for r in changed_documents} | {r[0] for r in missing_documents})
    if bad:
        con.executemany("INSERT INTO _pg_bad VALUES (?)", [[b] for b in bad])
    rows_sealed = sql(
        "(SELECT scan_id, finding_id FROM _pg_sealed WHERE starts_with(seal_sha256, {p}))",
        p=literal(ROW_SEAL),
    )
    con.execute(
        sql(
            """CREATE OR REPLACE TEMP TABLE _pg_now AS
        SELECT f.scan_id, f.finding_id,
               CASE WHEN f.evidence_sha256 IN (SELECT evidence_sha256 FROM _pg_bad)
                    THEN {prefix} || 'its evidence document is changed or missing'
                    ELSE {row_seal} END AS seal
        FROM findings f SEMI JOIN {rows_sealed} v USING (scan_id, finding_id) {f_where}""",
            prefix=literal(ROW_SEAL),
            row_seal=row_seal_sql(),
            rows_sealed=rows_sealed,
            f_where=f_where,
        ),
        args,
    )
    older = con.execute(
        sql(
            "SELECT count(*) FROM _pg_sealed WHERE NOT starts_with(seal_sha256, {p})",
            p=literal(ROW_SEAL),
        )
    ).fetchone()[0]
    # the rest: v1 seals recomputed over row and document; with none (a store sealed since
    # session 10), only findings with no seal are left, named "added" whatever they hash to, so
    # they need no join with the documents (nor its check for repeats over the whole store)
    con.execute(
        sql(
            """INSERT INTO _pg_now
        SELECT f.scan_id, f.finding_id, {seal} AS seal
        FROM findings f {evidence}
        ANTI JOIN {rows_sealed} v ON v.scan_id = f.scan_id AND v.finding_id = f.finding_id
        {f_where} {first}""",
            seal=finding_seal_sql() if older else Sql("NULL"),
            evidence=Sql(
                "LEFT JOIN evidence e ON e.evidence_sha256 = f.evidence_sha256" if older else ""
            ),
            rows_sealed=rows_sealed,
            f_where=f_where,
            first=_first_document(con, f_where, args) if older else Sql(""),
        ),
        args,
    )
    try:
        add(
            "changed",
            "finding",
            con.execute(
                """SELECT n.finding_id, 'scan ' || n.scan_id || ': the row or its evidence differs'
                FROM _pg_now n JOIN _pg_sealed s USING (scan_id, finding_id)
                WHERE n.seal <> s.seal_sha256 ORDER BY 1"""
            ).fetchall(),
        )
        add(
            "missing",
            "finding",
            con.execute(
                """SELECT s.finding_id, 'scan ' || s.scan_id || ': sealed, no longer in findings'
                FROM _pg_sealed s ANTI JOIN _pg_now n USING (scan_id, finding_id) ORDER BY 1"""
            ).fetchall(),
        )
        add(
            "added",
            "finding",
            con.execute(
                """SELECT n.finding_id, 'scan ' || n.scan_id || ': in findings, never sealed'
                FROM _pg_now n ANTI JOIN _pg_sealed s USING (scan_id, finding_id) ORDER BY 1"""
            ).fetchall(),
        )
        # A finding row stored twice (it shows twice in every report): the seals are compared by
        # scan and finding id, so a copy of a sealed row would otherwise pass.
        add(
            "added",
            "finding",
            con.execute(
                sql(
                    """SELECT f.finding_id,
                    'scan ' || f.scan_id || ': stored ' || count(*) || ' times'
                FROM findings f {f_where} GROUP BY f.scan_id, f.finding_id
                HAVING count(*) > 1 ORDER BY 1""",
                    f_where=f_where,
                ),
                args,
            ).fetchall(),
        )
        # Scans: the scan seal over the seals as they are now (catches seals deleted or added
        # along with their findings, and edits to the scans row).
        rows = con.execute(
            sql(
                """SELECT s.scan_id, {seal} AS now, z.seal_sha256,
                z.findings, (SELECT count(*) FROM _pg_sealed x WHERE x.scan_id = s.scan_id)
            FROM scans s LEFT JOIN scan_seals z USING (scan_id)
            {s_where} ORDER BY 1""",
                seal=scan_seal_sql("s", "_pg_sealed"),
                s_where=Sql("WHERE s.scan_id = ?" if scan_id else ""),
            ),
            args,
        ).fetchall()
    finally:
        for t in ("_pg_now", "_pg_sealed", "_pg_bad"):
            con.execute(sql("DROP TABLE IF EXISTS {t}", t=Sql(t)))
    for sid, now, kept, count, sealed_count in rows:
        result.seals[sid] = kept or now
        if kept is None:
            result.problems.append(Problem("unsealed", "scan", sid, "the scan has no seal"))
        elif now != kept:
            detail = "its row or its set of findings differs from what was sealed"
            if count != sealed_count:
                detail = f"sealed with {count} findings, {sealed_count} seals remain"
            result.problems.append(Problem("changed", "scan", sid, detail))
    orphan_seals = con.execute(
        sql(
            "SELECT scan_id, 'a scan seal for a scan no longer in scans' FROM scan_seals "
            "ANTI JOIN scans USING (scan_id) {w} ORDER BY 1",
            w=where,
        ),
        args,
    ).fetchall()
    add("missing", "scan", orphan_seals)
    if expect is not None:
        target = scan_id or (scans[0] if len(scans) == 1 else None)
        if target is None:
            result.problems.append(
                Problem("unsealed", "scan", "?", "--expect needs --scan when the store has many")
            )
        elif result.seals.get(target) != expect:
            result.problems.append(
                Problem(
                    "changed",
                    "scan",
                    target,
                    f"its seal is {result.seals.get(target)}, not the expected {expect}",
                )
            )
    return result
