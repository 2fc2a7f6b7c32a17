"""The staging query: one pass that reads a source file, types every column and says what is wrong.

It builds ``CREATE TEMP TABLE <stage> AS SELECT ...`` over DuckDB's reader for the file. The stage
holds each canonical column typed (NULL where refused), ``_reason`` (NULL for a good row; otherwise
``column: reason`` for each bad column, joined by ``; ``), ``_column`` (the first bad column) and
``_raw`` (the source row, only for bad rows). Row order is the file's order (DuckDB preserves
insertion order), so a row's position in the stage gives its line number.

User data never enters the SQL text: the file path and JSON keys are bound parameters, CSV columns
get positional names we make up (``c0``, ``c1``, ...), Parquet column names are quoted identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from promoguard.ingest import normalise
from promoguard.ingest.readers import MAX_LINE_BYTES, SourceFile
from promoguard.model import Table

#: Longest ``raw`` text kept in quarantine for one row. A readable line is at most
#: MAX_LINE_BYTES, and its fields as JSON at most a few times that, so this never cuts a readable
#: record: every refused line can be recovered from quarantine. (Only a line over the line-size
#: limit is cut, at 64 KiB, by ``recover``.)
RAW_LIMIT = 8 * MAX_LINE_BYTES


@dataclass
class StageQuery:
    sql: str
    params: list[object] = field(default_factory=list)
    first_line: int = 2  # the line number of the first data row
    rejects: bool = False  # whether DuckDB writes rejected lines to the rejects tables
    explicit_lines: bool = False  # the stage has a ``_line`` column (recovered CSV)


def ident(name: str) -> str:
    """A quoted SQL identifier (safe for any text: embedded quotes are doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _csv_reader(source: SourceFile, params: list[object], rejects: tuple[str, str]) -> str:
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(source.source_columns))) + "}"
    params.append(str(source.readable))
    return (
        f"read_csv(?, columns={columns}, header=true, auto_detect=false, delim=',', "
        f"quote='\"', escape='\"', strict_mode=true, max_line_size={MAX_LINE_BYTES}, "
        f"buffer_size={4 * MAX_LINE_BYTES}, store_rejects=true, "
        f"rejects_table='{rejects[0]}', rejects_scan='{rejects[1]}')"
    )


def _lines_reader(source: SourceFile, params: list[object], rejects: tuple[str, str]) -> str:
    """JSON Lines read as one text column per line (so a bad line is kept, with its number).

    Not strict: a stray carriage return must not stop the read (every line is kept anyway).
    """
    params.append(str(source.readable))
    return (
        f"read_csv(?, columns={{'j': 'VARCHAR'}}, header=false, auto_detect=false, "
        f"delim='\\x01', quote='', escape='', strict_mode=false, max_line_size={MAX_LINE_BYTES}, "
        f"buffer_size={4 * MAX_LINE_BYTES}, store_rejects=true, "
        f"rejects_table='{rejects[0]}', rejects_scan='{rejects[1]}')"
    )


def _layer0(
    table: Table, source: SourceFile, rejects: tuple[str, str], recovered: str | None = None
) -> StageQuery:
    """SELECT producing ``r__<col>`` VARCHAR per canonical column, ``_pre`` and ``_rawsrc``.

    ``recovered``: a temp table written by ``recover.recover_csv`` to read instead of the file
    (it also gives ``_line``, the physical line of each row).
    """
    params: list[object] = []
    cols: list[str] = []
    if source.fmt == "csv":
        position = {name: i for i, name in reversed(list(enumerate(source.source_columns)))}
        for col in table.columns:
            src = source.columns.get(col.name)
            expr = f"c{position[src]}" if src is not None else "NULL::VARCHAR"
            cols.append(f"{expr} AS {ident('r__' + col.name)}")
        if recovered is not None:
            sql = f"SELECT {', '.join(cols)}, _pre, _rawsrc, _line, _precol FROM {ident(recovered)} ORDER BY _line"  # noqa: S608
            return StageQuery(sql, params, first_line=2, explicit_lines=True)
        reader = _csv_reader(source, params, rejects)
        sql = f"SELECT {', '.join(cols)}, NULL::VARCHAR AS _pre, NULL::VARCHAR AS _rawsrc FROM {reader}"  # noqa: S608
        return StageQuery(sql, params, first_line=2, rejects=True)
    if source.fmt == "jsonl":
        reader = _lines_reader(source, params, rejects)
        for col in table.columns:
            src = source.columns.get(col.name)
            if src is None:
                cols.append(f"NULL::VARCHAR AS {ident('r__' + col.name)}")
            else:
                cols.append(
                    f"json_extract_string(CASE WHEN _ok THEN j END, ?) AS {ident('r__' + col.name)}"
                )
                params.append('$."' + src.replace("\\", "\\\\").replace('"', '\\"') + '"')
        # The path params must follow the reader's path param in text order: the reader is in the
        # FROM clause, after the select list, so put the column params first.
        params = params[1:] + params[:1]
        sql = (
            f"SELECT {', '.join(cols)}, "  # noqa: S608
            "CASE WHEN j IS NULL THEN 'empty line' WHEN NOT _ok THEN 'not a JSON object' END AS _pre, "
            "j AS _rawsrc FROM (SELECT j, coalesce(CASE WHEN json_valid(j) THEN json_type(j) END "
            f"= 'OBJECT', false) AS _ok FROM {reader})"
        )
        return StageQuery(sql, params, first_line=1, rejects=True)
    # Parquet: typed columns become text, then go through the same rules as any other file.
    for col in table.columns:
        src = source.columns.get(col.name)
        expr = f"CAST({ident(src)} AS VARCHAR)" if src is not None else "NULL::VARCHAR"
        cols.append(f"{expr} AS {ident('r__' + col.name)}")
    params.append(str(source.readable))
    sql = (
        f"SELECT {', '.join(cols)}, NULL::VARCHAR AS _pre, NULL::VARCHAR AS _rawsrc "  # noqa: S608
        "FROM read_parquet(?)"
    )
    return StageQuery(sql, params, first_line=1, rejects=False)


def stage_query(
    table: Table,
    source: SourceFile,
    stage: str,
    rejects: tuple[str, str],
    recovered: str | None = None,
) -> StageQuery:
    """The ``CREATE TEMP TABLE stage AS ...`` statement for one source file of ``table``."""
    base = _layer0(table, source, rejects, recovered)
    line = ", _line, _precol" if base.explicit_lines else ""
    pre_column = "_precol" if base.explicit_lines else "NULL"
    names = table.column_names
    # The already-canonical text of a column with a fast path (most values of a real export)
    # is typed straight from the raw text; the rest goes on, as ``s__``, to cleaning and the full
    # rules. For a fast value ``s__`` is NULL, so the cleaning costs next to nothing.
    slow, cleaned, values, checks = [], [], [], []
    for c in table.columns:
        raw, rest, text, typed = (ident(p + c.name) for p in ("r__", "s__", "c__", ""))
        fast = normalise.fast_path(raw, c)
        slow.append(
            f"CASE WHEN {fast[0]} THEN NULL ELSE {raw} END AS {rest}"
            if fast
            else f"{raw} AS {rest}"
        )
        cleaned.append(f"{normalise.clean(rest, c.kind)} AS {text}")
        value = normalise.value_sql(text, c)
        if fast:
            value = f"CASE WHEN {rest} IS NULL THEN {fast[1]} ELSE {value} END"
            # A canonical-looking text can still be refused (2026-02-30): diagnose the raw text.
            diagnosed = f"(CASE WHEN {rest} IS NULL THEN {raw} ELSE {text} END)"
            reason = (
                f"CASE WHEN {normalise.accepts(typed, c, table.name)} THEN NULL "
                f"ELSE {normalise.reason_sql(diagnosed, typed, c, table.name)} END"
            )
        else:
            reason = normalise.reason_sql(text, typed, c, table.name)
        values.append(f"CAST({value} AS {c.duckdb_type}) AS {typed}")
        checks.append(f"{reason} AS {ident('q__' + c.name)}")
    passthrough = ", ".join(ident("r__" + n) for n in names)
    cleaned_names = ", ".join(ident("c__" + n) for n in names)
    slow_names = ", ".join(ident("s__" + n) for n in names)
    # A good row (the common case) has no reason to join: one test of every check, no strings.
    all_good = " AND ".join(f"{ident('q__' + n)} IS NULL" for n in names)
    reasons = ", ".join(
        f"'{n}: ' || {ident('q__' + n)}" for n in names
    )  # column names come from the model
    first_bad = ", ".join(f"CASE WHEN {ident('q__' + n)} IS NOT NULL THEN '{n}' END" for n in names)
    if source.fmt != "jsonl":
        raw_source = (
            "to_json(struct_pack("
            + ", ".join(f"{ident(n)} := {ident('r__' + n)}" for n in names)
            + "))"
        )
        if base.explicit_lines:  # a line refused whole keeps its own text
            raw_source = f"coalesce(_rawsrc, CAST({raw_source} AS VARCHAR))"
    else:
        raw_source = "_rawsrc"
    sql = f"""
CREATE TEMP TABLE {ident(stage)} AS
SELECT {", ".join(ident(n) for n in names)}, _reason{line.replace(", _precol", "")},
  CASE WHEN _reason IS NULL THEN NULL WHEN _pre IS NOT NULL THEN {pre_column}
    ELSE coalesce({first_bad}) END AS _column,
  CASE WHEN _reason IS NOT NULL THEN left(coalesce({raw_source}, ''), {RAW_LIMIT}) END AS _raw
FROM (
  SELECT *, CASE WHEN _pre IS NOT NULL THEN _pre WHEN {all_good} THEN NULL
    ELSE concat_ws('; ', {reasons}) END AS _reason
  FROM (
    SELECT *, {", ".join(checks)}
    FROM (
      SELECT {", ".join(values)}, {cleaned_names}, {slow_names}, {passthrough}, _pre, _rawsrc{line}
      FROM (
        SELECT {", ".join(cleaned)}, {slow_names}, {passthrough}, _pre, _rawsrc{line}
        FROM (SELECT {", ".join(slow)}, {passthrough}, _pre, _rawsrc{line} FROM ({base.sql}))
      )
    )
  )
)"""  # noqa: S608
    return StageQuery(sql, base.params, base.first_line, base.rejects, base.explicit_lines)
