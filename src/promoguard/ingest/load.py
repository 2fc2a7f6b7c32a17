"""Loading a folder of table files into the store: all or nothing.

Phase 1, outside any store transaction (the store is not touched), for each file in reference
order (a table after the tables it points at):

1. stage it (``validate.stage_query``): typed values plus a reason for every refused row; a CSV
   DuckDB's strict reader refuses anything of is read again line by line (``recover``), so that
   every physical line is a row or a quarantined line of its own;
2. collect the lines DuckDB's JSON Lines reader rejected (bad bytes, over-long lines).

Phase 2, one transaction, for each staged file:

3. among the good rows, a repeated key keeps its first row; the later ones are quarantined;
4. a good row whose key is already stored is ``unchanged`` when identical, else quarantined;
5. insert the rest, write the quarantine and the ingest log, count orphans.

Any failure rolls the whole ingest back: the store is exactly as it was.
"""

from __future__ import annotations

import graphlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import Progress

from promoguard import carriers
from promoguard import store as store_mod
from promoguard.errors import IngestError, StoreError, first_line
from promoguard.ingest import normalise, readers, recover
from promoguard.ingest.report import FileReport, IngestReport, TableCounts
from promoguard.ingest.validate import RAW_LIMIT, StageQuery, stage_query
from promoguard.model import TABLES, TABLES_BY_NAME, Kind, Table
from promoguard.sqlbuild import Sql, column, ident, idents, join, literal, sql

DUPS = "_pg_dups"
DUP_KEYS = "_pg_dup_keys"
#: Progress goes to stderr, so that ``--json`` keeps stdout one JSON object.
console = Console(stderr=True)


@dataclass
class Staged:
    """A source file read and validated into temp tables, waiting to be loaded."""

    table: Table
    source: readers.SourceFile
    prefix: str  # temp tables: <prefix>_stage, <prefix>_rejects, <prefix>_reject_lines, ...
    first_line: int
    rejected: int = 0  # lines the reader refused
    explicit_lines: bool = False  # the stage has ``_line`` (a CSV read again by ``recover``)
    #: (column, spelling, code, rows): carrier names stored as their carrier's code
    renamed: list[tuple[str, str, str, int]] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def stage(self) -> str:
        return f"{self.prefix}_stage"

    @property
    def reject_lines(self) -> str:
        return f"{self.prefix}_reject_lines"

    @property
    def rejects(self) -> tuple[str, str]:
        return f"{self.prefix}_rejects", f"{self.prefix}_rejects_scan"

    @property
    def column_names(self) -> str:
        return f"{self.prefix}_column_names"

    @property
    def recovered(self) -> str:
        return f"{self.prefix}_recovered"

    def temp_tables(self) -> list[str]:
        return [self.stage, self.reject_lines, *self.rejects, self.column_names, self.recovered]


def _shown(name: str) -> str:
    """A file name (untrusted) fit for the progress line: no escapes, no rich markup."""
    from rich.markup import escape

    from promoguard.safety import terminal_safe

    return escape(terminal_safe(name))


def load_order() -> list[str]:
    """Table names ordered so every table comes after the tables it references."""
    graph = {t.name: {r.table for r in t.references if r.table != t.name} for t in TABLES}
    return list(graphlib.TopologicalSorter(graph).static_order())


def check_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> str:
    row = con.execute(
        "SELECT name FROM pg_timezone_names() WHERE lower(name) = lower(?) LIMIT 1", [tz]
    ).fetchone()
    if row is None:
        raise IngestError(f"unknown time zone {tz!r} (use an IANA name such as Asia/Shanghai)")
    return row[0]


@contextmanager
def session_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> Iterator[None]:
    """Naive timestamps cast to TIMESTAMPTZ are read in the session zone: set it, then restore."""
    before = con.execute("SELECT current_setting('TimeZone')").fetchone()[0]
    con.execute(f"SET TimeZone = '{tz}'")  # tz is a name from pg_timezone_names(), not user text
    try:
        yield
    finally:
        # In a failed transaction this cannot run; _ingest restores the zone after the rollback.
        with suppress(duckdb.TransactionException):
            con.execute(f"SET TimeZone = '{before.replace(chr(39), '')}'")


#: A text file under this many bytes is staged without DuckDB's common-subexpression pass. The
#: validation query is large (~87 KB of SQL for orders) and that pass alone costs ~0.13 CPU s of
#: its planning, which it pays back only past ~100k rows (1M orders: 2.0 CPU s of staging with
#: it, 3.1 without). Without it a small orders file stages in ~60% of the CPU, the 16 tables'
#: small files in 85-92% (benchmarks/ingest_small.py): a day's exports, an analyst's sample.
SMALL_FILE_BYTES = 2 << 20
#: how much larger a gzipped text file reads than it is (CSV exports compress ~5-10 times)
GZIP_RATIO = 8


def _small(source: readers.SourceFile) -> bool:
    """Whether ``source`` is a CSV or JSON Lines file small enough to plan without CSE."""
    if source.fmt == "parquet":  # compressed columns: its bytes say little of its rows
        return False
    try:
        size = source.path.stat().st_size
    except OSError:
        return False
    if source.path.name.lower().endswith(".gz"):
        size *= GZIP_RATIO
    return size < SMALL_FILE_BYTES


@contextmanager
def planned_for(con: duckdb.DuckDBPyConnection, source: readers.SourceFile) -> Iterator[None]:
    """The stage query of a small file planned without common subexpressions, then restored.

    Only how the query is planned changes, never what it computes: the pass reuses a value an
    expression needs twice instead of computing it again, which on a few thousand rows costs
    less than looking for it."""
    if not _small(source):
        yield
        return
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0]
    off = ",".join(o for o in (before, "common_subexpressions") if o)
    con.execute(f"SET disabled_optimizers = '{off}'")  # optimizer names: no user text
    try:
        yield
    finally:
        with suppress(duckdb.TransactionException):
            con.execute(f"SET disabled_optimizers = '{before.replace(chr(39), '')}'")


def _same(names: list[str], left: str, right: str) -> Sql:
    """Equality of the named columns of two aliases, NULL comparing equal to NULL."""
    return join(
        " AND ",
        (sql("{a} IS NOT DISTINCT FROM {b}", a=column(left, n), b=column(right, n)) for n in names),
    )


def _key_match(table: Table, left: str, right: str) -> Sql:
    """Key equality where NULL key parts compare equal."""
    return _same(table.key, left, right)


def _all_match(table: Table, left: str, right: str) -> Sql:
    return _same(table.column_names, left, right)


def _raw_of_typed(table: Table, alias: str) -> Sql:
    fields = join(", ", (sql("{c} := {v}", c=c, v=column(alias, c)) for c in table.column_names))
    return sql("left(to_json(struct_pack({fields})), {limit})", fields=fields, limit=RAW_LIMIT)


class _Lines:
    """Line numbers of stage rows: position in the stage, shifted past lines DuckDB rejected."""

    def __init__(self, con: duckdb.DuckDBPyConnection, staged: Staged):
        self.staged = staged
        self.base = con.execute(
            sql("SELECT coalesce(min(rowid), 0) FROM {stage}", stage=staged.stage)
        ).fetchone()[0]

    def sql(self, rowid: Sql) -> Sql:
        """The line number of the stage row whose rowid is ``rowid``."""
        if self.staged.explicit_lines:  # a recovered CSV carries each row's physical line
            return sql(
                "(SELECT _l._line FROM {stage} _l WHERE _l.rowid = {rowid})",
                stage=self.staged.stage,
                rowid=rowid,
            )
        k = sql("({rowid} - {base})", rowid=rowid, base=self.base)
        first = self.staged.first_line
        if not self.staged.rejected:
            return sql("({k} + {first})", k=k, first=first)
        # g = good rows before reject j; good row k sits after every reject with g <= k.
        return sql(
            "({k} + {first} + (SELECT count(*) FROM {lines} WHERE g <= {k}))",
            k=k,
            first=first,
            lines=self.staged.reject_lines,
        )


def _drop(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    for name in names:
        con.execute(sql("DROP TABLE IF EXISTS {name}", name=name))


def stage_file(
    con: duckdb.DuckDBPyConnection, index: int, table: Table, source: readers.SourceFile, tz: str
) -> Staged:
    """Read and validate one file into temp tables. Writes nothing to the store.

    Runs outside the store transaction, so a file DuckDB's strict CSV parser rejects as a whole
    can still be staged another way (every line quarantined) instead of failing the ingest.
    """
    missing = [c for c in table.required if c not in source.columns]
    # A JSON Lines file with no key on any line (empty, blank or broken lines only) has no
    # header to refuse: each of its lines is quarantined with its reason instead.
    keyless = source.fmt == "jsonl" and not source.source_columns
    if missing and not keyless:
        raise IngestError(
            f"{source.path.name}: missing required column {', '.join(missing)}; "
            "nothing was ingested"
        )
    staged = Staged(table, source, prefix=f"_pg_{index}", first_line=2)
    _drop(con, staged.temp_tables())
    query: StageQuery = stage_query(table, source, staged.stage, staged.rejects)
    with session_timezone(con, tz), planned_for(con, source):
        try:
            con.execute(query.sql, query.params)
            damaged = source.fmt == "csv" and _count(con, staged.rejects[0]) > 0
        except duckdb.InvalidInputException as exc:
            # Only the reader's own refusal is blamed on the file; an error in our SQL (a binder
            # error, say) must surface, not quarantine the lines of a good file.
            if source.fmt != "csv":
                raise IngestError(
                    f"{source.path.name}: cannot be read: {first_line(exc)}"
                ) from None
            damaged = True
        if damaged:
            # DuckDB's account of a damaged CSV can lose lines (an unterminated quote swallows
            # the rest of the file into one rejected "line"); read it again line by line. Clean
            # files never come here, so the fast path costs nothing more.
            _drop(con, staged.temp_tables())
            recover.recover_csv(con, source.readable, source.source_columns, staged.recovered)
            query = stage_query(table, source, staged.stage, staged.rejects, staged.recovered)
            con.execute(query.sql, query.params)
            con.execute(sql("DROP TABLE {name}", name=staged.recovered))
            staged.explicit_lines = True
    if query.explicit_lines:
        staged.explicit_lines = True
    if source.lines is not None:  # the lines recover_jsonl read: staged now, not needed
        _drop(con, [source.lines])
        source.lines = None
    staged.first_line = query.first_line
    _carrier_codes(con, staged)
    if query.rejects:
        _stage_rejects(con, staged)
        if staged.rejected:
            with readers.file_errors(source.path):
                _whole_reject_lines(con, staged)
    return staged


RENAMES = "_pg_carrier_renames"


def _carrier_codes(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Store each known spelling of a carrier (``顺丰速运``, ``shunfeng``) as its code (``SF``) in
    the staged good rows, and note what was read as what (``promoguard.carriers``).

    The spellings are looked up once each (a file holds a few), in Python, and only the rows of
    a spelling that changes are updated (by a join to those spellings, passed as parameters):
    a feed already written in codes costs one GROUP BY of the column.
    """
    for col in staged.table.columns:
        if not col.carrier:
            continue
        counts = con.execute(
            sql(
                "SELECT {c}, count(*) FROM {stage} WHERE _reason IS NULL AND {c} IS NOT NULL "
                "GROUP BY ALL",
                c=ident(col.name),
                stage=staged.stage,
            )
        ).fetchall()
        changes = [(raw, carriers.canonical(raw), n) for raw, n in counts]
        changes = sorted((r, code, n) for r, code, n in changes if code != r)
        if not changes:
            continue
        _drop(con, [RENAMES])
        con.execute(sql("CREATE TEMP TABLE {t} (raw VARCHAR, code VARCHAR)", t=ident(RENAMES)))
        con.executemany(
            sql("INSERT INTO {t} VALUES (?, ?)", t=ident(RENAMES)), [(r, c) for r, c, _ in changes]
        )
        con.execute(
            sql(
                "UPDATE {stage} SET {c} = r.code FROM {t} r "
                "WHERE {stage}._reason IS NULL AND {stage}.{c} = r.raw",
                stage=staged.stage,
                c=ident(col.name),
                t=ident(RENAMES),
            )
        )
        _drop(con, [RENAMES])
        staged.renamed += [(col.name, r, code, n) for r, code, n in changes]


def _check_written_alike(
    con: duckdb.DuckDBPyConnection, staged: list[Staged], stored: Mapping[str, str] | None
) -> None:
    """Refuse a batch for a store whose rows were read before ingest read carrier names as
    codes (``顺丰速运`` stored as written) or took a spreadsheet's ``="…"`` off the ids.

    This batch's rows are read the new way: in such a store the same export would be stored a
    second time beside its old rows (a scan's key holds its carrier; ``="123"`` and ``123`` are
    two orders), and a shipment written one way would never meet a scan written the other. A
    store written since holds neither (ingest never stores them), so what is stored is the sign.
    Every table, not only those the batch adds to: a carrier feed's batch meets the shipments
    stored before it, a batch of shipments the orders. Their carrier and id columns: a column
    scan each (DuckDB skips most blocks of an id column by their min and max: ~0.5 s on the city
    store, mostly the carriers' DISTINCT).
    """
    if not staged:
        return
    for table in TABLES:
        name = table.name
        relation = (stored or {}).get(name, name)
        for col in table.columns:
            if col.carrier:
                spelled = con.execute(
                    sql(
                        "SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL", c=col.name, t=relation
                    )
                ).fetchall()
                old = sorted(v for (v,) in spelled if carriers.canonical(v) != v)
                if old:
                    raise IngestError(
                        f"the store holds {name}.{col.name} {old[0]!r} as written, which ingest "
                        f"now reads as {carriers.canonical(old[0])} (the store was written "
                        "before): ingest the exports into a new store (docs/ingest.md, Carrier "
                        "names); nothing was ingested"
                    )
            elif col.kind is Kind.ID:
                guarded = con.execute(
                    sql(
                        "SELECT {c} FROM {t} WHERE {test} LIMIT 1",
                        c=col.name,
                        t=relation,
                        test=Sql(normalise.guarded(ident(col.name))),
                    )
                ).fetchall()
                if guarded:
                    raise IngestError(
                        f"the store holds {name}.{col.name} values read before ingest took a "
                        f'spreadsheet\'s ="…" off ({guarded[0][0]!r} is stored): ingest the '
                        "exports into a new store (docs/ingest.md, Spreadsheet text guards); "
                        "nothing was ingested"
                    )


def _whole_reject_lines(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Put each refused JSON Lines line's whole text in ``raw``.

    DuckDB's rejects table cuts a line at 10,000 characters; the lines it refuses (bad bytes, a
    line over the size limit) are few, so they are read again from the file by number.
    """
    wanted = {
        r[0]
        for r in con.execute(sql("SELECT line FROM {lines}", lines=staged.reject_lines)).fetchall()
    }
    found: list[tuple[str, int]] = []
    for number, (line, oversize) in enumerate(recover._lines(staged.source.readable), start=1):
        if number in wanted:
            text = line[: recover.OVERSIZE_RAW] if oversize else recover._strip_eol(line)
            found.append((recover._shown(text), number))
            if len(found) == len(wanted):
                break
    if found:
        con.executemany(
            sql("UPDATE {lines} SET raw = ? WHERE line = ?", lines=staged.reject_lines),
            [list(f) for f in found],
        )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(sql("SELECT count(*) FROM {table}", table=table)).fetchone()[0]


def _stage_rejects(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Lines the reader refused, one row per line (whatever its error count), with ``g``."""
    # The CSV reader names columns c0, c1, ...; map them back to the file's header names.
    con.execute(sql("CREATE TEMP TABLE {t} (pos VARCHAR, name VARCHAR)", t=staged.column_names))
    source = staged.source
    if source.fmt == "csv" and source.source_columns:
        con.executemany(
            sql("INSERT INTO {t} VALUES (?, ?)", t=staged.column_names),
            [[f"c{i}", n] for i, n in enumerate(source.source_columns)],
        )
    con.execute(
        sql(
            """CREATE TEMP TABLE {lines} AS
        SELECT line, line - {first} - (row_number() OVER (ORDER BY line) - 1) AS g,
          reason, column_name, raw
        FROM (SELECT line,
                'unreadable line: ' ||
                  string_agg(lower(error_type) || ' (' || error_message || ')', '; ') AS reason,
                first(n.name) AS column_name,
                left(ltrim(first(csv_line), chr(10) || chr(13)), {limit}) AS raw
              FROM {rejects} r LEFT JOIN {names} n ON n.pos = r.column_name
              GROUP BY line)""",
            lines=staged.reject_lines,
            first=staged.first_line,
            limit=RAW_LIMIT,
            rejects=staged.rejects[0],
            names=staged.column_names,
        )
    )
    staged.rejected = _count(con, staged.reject_lines)


def load_staged(
    con: duckdb.DuckDBPyConnection,
    ingest_id: str,
    staged: Staged,
    stored: Mapping[str, str] | None = None,
) -> TableCounts:
    """Move a staged file into the store (inside the caller's transaction).

    ``stored`` names, per table, the relation holding every row already stored when that is not
    the table new rows are inserted into (a Parquet lake: its files plus this batch's rows).
    """
    table, stage = staged.table, staged.stage
    name = staged.source.path.name
    target = ident(table.name)
    existing = (stored or {}).get(table.name, table.name)  # a name: quoted where used
    lines = _Lines(con, staged)

    # Repeated keys within the file: the first good row wins. Most files have none, and a hash
    # table of every key costs more than sorting the keys' hashes once (equal keys have equal
    # hashes), so the pass over every row looks for a hash seen twice; only when there is one are
    # the keys behind it grouped, and the first row of each repeated key looked up by a join to
    # those few keys (NULL key parts compare equal).
    _drop(con, [DUPS, DUP_KEYS])
    keys = idents(table.key)
    repeated_hashes = con.execute(
        sql(
            """SELECT count(*) FROM (
              SELECT h, lag(h) OVER (ORDER BY h) AS before
              FROM (SELECT hash({keys}) AS h FROM {stage} WHERE _reason IS NULL))
            WHERE h = before""",
            keys=keys,
            stage=stage,
        )
    ).fetchone()[0]
    con.execute(
        sql(
            "CREATE TEMP TABLE {dup_keys} AS SELECT {keys} FROM {stage} "
            "WHERE {good} GROUP BY ALL HAVING count(*) > 1",
            dup_keys=DUP_KEYS,
            keys=keys,
            stage=stage,
            good=Sql("_reason IS NULL" if repeated_hashes else "false"),
        )
    )
    if _count(con, DUP_KEYS):
        con.execute(
            sql(
                """CREATE TEMP TABLE {dups} AS SELECT {d_keys}, min(s.rowid) AS _first
            FROM {dup_keys} d JOIN {stage} s ON {match}
            WHERE s._reason IS NULL GROUP BY ALL""",
                dups=DUPS,
                d_keys=join(", ", (column("d", k) for k in table.key)),
                dup_keys=DUP_KEYS,
                stage=stage,
                match=_key_match(table, "s", "d"),
            )
        )
        con.execute(
            sql(
                """UPDATE {stage} SET _reason = {reason} || {first_line},
                _column = {key}, _raw = {raw}
            FROM {dups} d
            WHERE {match} AND {stage}.rowid > d._first
              AND {stage}._reason IS NULL""",
                stage=stage,
                reason=literal(f"duplicate key ({', '.join(table.key)}): first seen at line "),
                first_line=lines.sql(column("d", "_first")),
                key=literal(table.key[0]),
                raw=_raw_of_typed(table, stage),
                dups=DUPS,
                match=_key_match(table, stage, "d"),
            )
        )
    _drop(con, [DUPS, DUP_KEYS])

    # Keys already in the store: identical rows are unchanged, different ones are refused.
    unchanged = 0
    store_has_rows = con.execute(
        sql("SELECT count(*) FROM (SELECT 1 FROM {existing} LIMIT 1)", existing=existing)
    ).fetchone()[0]
    if store_has_rows:
        con.execute(
            sql(
                """UPDATE {stage} SET _reason = 'key already stored with different values',
                _column = {key}, _raw = {raw}
            FROM {existing} s
            WHERE {match} AND {stage}._reason IS NULL
              AND NOT ({same})""",
                stage=stage,
                key=literal(table.key[0]),
                raw=_raw_of_typed(table, stage),
                existing=existing,
                match=_key_match(table, stage, "s"),
                same=_all_match(table, stage, "s"),
            )
        )
        unchanged = con.execute(
            sql(
                """SELECT count(*) FROM {stage} v WHERE _reason IS NULL
                AND EXISTS (SELECT 1 FROM {existing} s WHERE {match})""",
                stage=stage,
                existing=existing,
                match=_key_match(table, "v", "s"),
            )
        ).fetchone()[0]
    new_rows = sql(
        "SELECT {columns} FROM {stage} v WHERE _reason IS NULL{not_stored}",
        columns=idents(table.column_names),
        stage=stage,
        not_stored=sql(
            " AND NOT EXISTS (SELECT 1 FROM {existing} s WHERE {match})",
            existing=existing,
            match=_key_match(table, "v", "s"),
        )
        if store_has_rows
        else Sql(""),
    )
    inserted = con.execute(
        sql(
            "INSERT INTO {target} ({columns}) {new_rows}",
            target=target,
            columns=idents(table.column_names),
            new_rows=new_rows,
        )
    ).fetchone()[0]

    # Quarantine: rows refused by a rule, then lines the reader refused.
    con.execute(
        sql(
            """INSERT INTO quarantine
        SELECT ?, ?, ?, {line}, _column, _reason, _raw
        FROM {stage} v WHERE _reason IS NOT NULL""",
            line=lines.sql(column("v", "rowid")),
            stage=stage,
        ),
        [ingest_id, table.name, name],
    )
    if staged.rejected:
        con.execute(
            sql(
                "INSERT INTO quarantine SELECT ?, ?, ?, line, column_name, reason, raw "
                "FROM {lines}",
                lines=staged.reject_lines,
            ),
            [ingest_id, table.name, name],
        )
    count, refused = con.execute(
        sql("SELECT count(*), count(_reason) FROM {stage}", stage=stage)
    ).fetchone()
    counts = TableCounts(
        read=count + staged.rejected,
        stored=count - refused,
        quarantined=refused + staged.rejected,
        unchanged=unchanged,
    )
    if inserted + unchanged != counts.stored:  # a broken invariant must never pass silently
        raise IngestError(
            f"{name}: internal count mismatch (inserted {inserted} + unchanged {unchanged} "
            f"!= stored {counts.stored}); nothing was ingested"
        )
    # a DuckDB file keeps the three-argument call (tests stand in for it with that signature)
    counts.orphans = (
        _count_orphans(con, table, stage, stored) if stored else _count_orphans(con, table, stage)
    )
    con.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ingest_id,
            table.name,
            name,
            staged.source.encoding,
            staged.started,
            datetime.now(UTC),
            counts.read,
            counts.stored,
            counts.quarantined,
            counts.orphans,
        ],
    )
    return counts


def _count_orphans(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    stage: str,
    stored: Mapping[str, str] | None = None,
) -> int:
    """Stored rows of this file whose reference (with every part present) does not resolve."""
    tests = []
    for ref in table.references:
        referenced = (stored or {}).get(ref.table, ref.table)
        present = join(" AND ", (sql("{c} IS NOT NULL", c=column("v", c)) for c in ref.columns))
        target_empty = not con.execute(
            sql("SELECT count(*) FROM (SELECT 1 FROM {referenced} LIMIT 1)", referenced=referenced)
        ).fetchone()[0]
        if target_empty:  # e.g. prices exported without their listings: no join needed
            tests.append(sql("({present})", present=present))
            continue
        match = join(
            " AND ",
            (
                sql("{t} = {v}", t=column("t", tc), v=column("v", c))
                for c, tc in zip(ref.columns, ref.target_columns, strict=True)
            ),
        )
        tests.append(
            sql(
                "({present} AND NOT EXISTS (SELECT 1 FROM {referenced} t WHERE {match}))",
                present=present,
                referenced=referenced,
                match=match,
            )
        )
    if not tests:
        return 0
    return con.execute(
        sql(
            "SELECT count(*) FROM {stage} v WHERE _reason IS NULL AND ({tests})",
            stage=stage,
            tests=join(" OR ", tests),
        )
    ).fetchone()[0]


def _real_path(path: Path | str) -> Path:
    """``path`` with its links resolved; made absolute only, when they loop (``resolve`` raises:
    the code that opens the path then says what is wrong, in one line)."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def check_store_outside(src: Path | str, store: Path | str, *, lake: bool = False) -> None:
    """Refuse, before anything is created, a store that would sit among the files it is fed from.

    A store file (or a lake folder) inside the source folder, or the source folder itself, mixes
    outputs with inputs: the next ingest of that folder lists them, a store named like a table
    file would be read as one, and a lake's files would land beside the exports. For a lake, the
    source folder inside the lake is refused as well. Paths are compared after resolving links.
    """
    if str(store) == ":memory:":
        return
    source, target = _real_path(src), _real_path(store)
    why = "a store must not mix with the files it is read from; put the store outside it"
    if target == source:
        raise IngestError(f"the store {store} is the source folder {src}: {why}")
    if target.is_relative_to(source):
        raise IngestError(f"the store {store} is inside the source folder {src}: {why}")
    if lake and source.is_relative_to(target):
        raise IngestError(f"the source folder {src} is inside the lake {store}: {why}")


def ingest_dir(
    src: Path | str,
    store: Path | str | duckdb.DuckDBPyConnection,
    *,
    tz: str = "UTC",
    encoding: str | None = None,
    adapter: str | None = None,
    progress: bool = False,
    stored: Mapping[str, str] | None = None,
    ingest_id: str | None = None,
) -> IngestReport:
    """Validate every canonical table file in ``src`` and load it into ``store`` in one transaction.

    Good rows are stored, bad rows quarantined with file, line, column and reason. A file missing
    a required column, an unknown time zone or encoding, or any other failure raises
    ``IngestError`` and leaves the store exactly as it was. A store inside ``src`` is refused
    before anything is created (``check_store_outside``). ``ingest_id`` names the ingest (a new
    uuid by default): ``watch`` chooses it when it claims a batch, to find the batch's ingest in
    the store after a stop however the batch folder was named.
    """
    src = Path(src)
    if not isinstance(store, duckdb.DuckDBPyConnection):
        check_store_outside(src, store)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="promoguard-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        folder = src
        if adapter is not None:
            from promoguard.ingest.adapters import run_adapter

            folder = tmp / "adapted"
            folder.mkdir()
            run_adapter(adapter, src, folder)
        owns = not isinstance(store, duckdb.DuckDBPyConnection)
        try:
            con = store_mod.connect(store) if owns else store  # type: ignore[arg-type]
            if not owns:
                store_mod.initialise(con)
        except duckdb.Error as exc:
            # the store's problem, whatever it is (a full disk, tables of another shape): the
            # batch is not at fault (watch keeps it claimed)
            raise StoreError(f"cannot open the store {store}: {first_line(exc)}") from None
        try:
            report = _ingest(
                con,
                folder,
                tmp,
                tz=tz,
                encoding=encoding,
                progress=progress,
                stored=stored,
                ingest_id=ingest_id,
            )
        except duckdb.Error as exc:  # the transaction was rolled back
            if readers.disk_failed(exc):  # the store's disk, not the batch: StoreError
                raise StoreError(
                    f"ingest failed writing to disk, the store is unchanged: {first_line(exc)}"
                ) from None
            raise IngestError(f"ingest failed, the store is unchanged: {first_line(exc)}") from None
        except OSError as exc:
            if exc.errno not in readers.DISK_ERRNOS:
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            raise StoreError(
                f"ingest failed writing to disk, the store is unchanged: {exc.strerror}{where}"
            ) from None
        finally:
            if owns:
                con.close()
    report.source = str(src)
    report.adapter = adapter
    report.seconds = round(time.perf_counter() - began, 3)
    return report


def _ingest(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    tmp: Path,
    *,
    tz: str,
    encoding: str | None,
    progress: bool,
    stored: Mapping[str, str] | None = None,
    ingest_id: str | None = None,
) -> IngestReport:
    sources, ignored = readers.discover(folder)
    try:
        return _ingest_sources(
            con, folder, tmp, sources, ignored, tz, encoding, progress, stored, ingest_id
        )
    finally:
        for source in sources:
            source.close()


def _ingest_sources(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    tmp: Path,
    sources: list[readers.SourceFile],
    ignored: list[str],
    tz: str,
    encoding: str | None,
    progress: bool,
    stored: Mapping[str, str] | None = None,
    ingest_id: str | None = None,
) -> IngestReport:
    tz = check_timezone(con, tz)
    order = {name: i for i, name in enumerate(load_order())}
    sources.sort(key=lambda s: (order[s.table], s.path.name))
    report = IngestReport(
        ingest_id=ingest_id or str(uuid.uuid4()), source=str(folder), tz=tz, ignored=ignored
    )
    insertion_order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[
        0
    ]
    zone = con.execute("SELECT current_setting('TimeZone')").fetchone()[0].replace("'", "")
    con.execute("SET preserve_insertion_order = true")  # line numbers depend on it
    staged: list[Staged] = []
    # a transient bar is for a terminal: elsewhere it shows nothing but leaves a blank line on
    # stderr, before the one line an error gets
    progress = progress and console.is_terminal
    bar = Progress(console=console, transient=True) if progress else nullcontext()
    failed = False
    try:
        with bar:
            task = bar.add_task("ingest", total=2 * len(sources)) if progress else None
            # Phase 1: read and validate every file into temp tables; the store is not touched.
            for index, source in enumerate(sources):
                table = TABLES_BY_NAME[source.table]
                if progress:
                    bar.update(task, description=f"read {_shown(source.path.name)}")
                readers.prepare(
                    con,
                    source,
                    table.column_names,
                    tmp,
                    encoding,
                    f"_pg_{index}_lines",
                    read_lines=recover.recover_jsonl,
                )
                staged.append(stage_file(con, index, table, source, tz))
                if progress:
                    bar.advance(task)
            _check_written_alike(con, staged, stored)
            # Phase 2: one transaction moves everything into the store, or nothing. Stage rows
            # already carry their positions (rowid), so inserts may run in any order: faster.
            con.execute("SET preserve_insertion_order = false")
            con.execute("BEGIN TRANSACTION")
            try:
                for item in staged:
                    if progress:
                        bar.update(task, description=f"load {_shown(item.source.path.name)}")
                    counts = load_staged(con, report.ingest_id, item, stored)
                    report.files.append(
                        FileReport(
                            table=item.table.name,
                            file=item.source.path.name,
                            format=item.source.fmt,
                            encoding=item.source.encoding,
                            counts=counts,
                            notes=_notes(item.source, counts) + _renamed_notes(item),
                            **FileReport.extras(item.source.extra_columns),
                        )
                    )
                    report.tables.setdefault(item.table.name, TableCounts()).add(counts)
                    if progress:
                        bar.advance(task)
                con.execute("COMMIT")
            except BaseException:
                # a failed write (a full disk) may have ended the transaction already; the error
                # to report is the write's, not this rollback's
                with suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
    except BaseException:
        failed = True
        raise
    finally:
        try:
            con.execute(f"SET preserve_insertion_order = {'true' if insertion_order else 'false'}")
            con.execute(f"SET TimeZone = '{zone}'")
            for item in staged:
                _drop(con, item.temp_tables())
            _drop(con, [s.lines for s in sources if s.lines is not None])
        except duckdb.Error:
            if not failed:  # else the error that stopped the ingest is the one to report
                raise
    return report


def _renamed_notes(staged: Staged, shown: int = 5) -> list[str]:
    """One note per carrier code the file's spellings were read as, naming the first few
    spellings (as data: quoted by repr) with their rows; a file of many spellings of one carrier
    gets one line, not one per spelling."""
    by_code: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for name, raw, code, n in staged.renamed:
        by_code.setdefault((name, code), []).append((raw, n))
    notes = []
    for (name, code), spelled in by_code.items():
        spelled.sort(key=lambda item: (-item[1], item[0]))
        rows = sum(n for _, n in spelled)
        named = ", ".join(f"{raw!r} ({n:,})" for raw, n in spelled[:shown])
        more = f" and {len(spelled) - shown:,} more spellings" if len(spelled) > shown else ""
        notes.append(
            f"{name} read as {code} in {rows:,} row{'s' if rows != 1 else ''}: {named}{more}"
        )
    return notes


def _notes(source: readers.SourceFile, counts: TableCounts) -> list[str]:
    """What a user should know about a file beyond its counts."""
    if source.fmt != "jsonl" or source.source_columns:
        return []
    if not counts.read:
        return ["empty file: no lines, nothing read"]
    return ["no line holds a JSON object with keys: every line is quarantined"]
