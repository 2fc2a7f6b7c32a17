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

import json
from dataclasses import dataclass, field

from promoguard.ingest import normalise
from promoguard.ingest.readers import MAX_LINE_BYTES, SourceFile, lines_reader
from promoguard.model import Table
from promoguard.sqlbuild import Sql, ident, idents, join, literal, sql

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
    pre_column: bool = False  # the base query gives ``_precol``: the column a refused line names


def _csv_reader(source: SourceFile, params: list[object], rejects: tuple[str, str]) -> Sql:
    columns = join(
        ", ", (sql("{c}: 'VARCHAR'", c=literal(f"c{i}")) for i in range(len(source.source_columns)))
    )
    params.append(str(source.readable))
    return sql(
        "read_csv(?, columns={{{columns}}}, header=true, auto_detect=false, delim=',', "
        "quote='\"', escape='\"', strict_mode=true, max_line_size={max_line}, "
        "buffer_size={buffer}, store_rejects=true, "
        "rejects_table={table}, rejects_scan={scan})",
        columns=columns,
        max_line=MAX_LINE_BYTES,
        buffer=4 * MAX_LINE_BYTES,
        table=literal(rejects[0]),
        scan=literal(rejects[1]),
    )


def _jsonl_line_reasons(
    table: Table, source: SourceFile, params: list[object]
) -> tuple[Sql, Sql | None]:
    """Why a JSON Lines line is refused whole (``_pre``), and the column it names (``_precol``).

    An empty line, a line that is not a JSON object, and a line holding a model column's key
    twice (``source.doubled_keys``: JSON readers disagree on which value wins). The keys of a
    line are looked at only in a file where some line holds a key twice, so a clean file pays
    nothing. Appends the bound parameters (each key, its reason, its column) to ``params``.
    The column expression is None when no line names one.
    """
    why = [Sql("WHEN j IS NULL THEN 'empty line' WHEN NOT _ok THEN 'not a JSON object'")]
    named: list[Sql] = []
    canonical = {src: col for col, src in source.columns.items()}
    doubled = [k for k in table.column_names if source.columns.get(k) in source.doubled_keys]
    twice = Sql("WHEN _ok AND len(list_filter(json_keys(j), lambda k: k = ?)) > 1 THEN ?")
    for col in doubled:
        key = source.columns[col]
        why.append(twice)
        params.extend([key, f"key {json.dumps(key, ensure_ascii=False)} appears twice"])
    for col in doubled:
        named.append(twice)
        params.extend([source.columns[col], canonical[source.columns[col]]])
    reason = sql("CASE {whens} END", whens=join(" ", why))
    column = sql("CASE {whens} END", whens=join(" ", named)) if named else None
    return reason, column


def _layer0(
    table: Table, source: SourceFile, rejects: tuple[str, str], recovered: str | None = None
) -> StageQuery:
    """SELECT producing ``r__<col>`` VARCHAR per canonical column, ``_pre`` and ``_rawsrc``.

    ``recovered``: a temp table written by ``recover.recover_csv`` to read instead of the file
    (it also gives ``_line``, the physical line of each row).
    """
    params: list[object] = []
    cols: list[Sql] = []
    no_text = Sql("NULL::VARCHAR")
    if source.fmt == "csv":
        position = {name: i for i, name in reversed(list(enumerate(source.source_columns)))}
        for col in table.columns:
            src = source.columns.get(col.name)
            expr = ident(f"c{position[src]}") if src is not None else no_text
            cols.append(sql("{expr} AS {name}", expr=expr, name="r__" + col.name))
        if recovered is not None:
            query = sql(
                "SELECT {cols}, _pre, _rawsrc, _line, _precol FROM {recovered} ORDER BY _line",
                cols=join(", ", cols),
                recovered=recovered,
            )
            return StageQuery(query, params, first_line=2, explicit_lines=True, pre_column=True)
        reader = _csv_reader(source, params, rejects)
        query = sql(
            "SELECT {cols}, NULL::VARCHAR AS _pre, NULL::VARCHAR AS _rawsrc FROM {reader}",
            cols=join(", ", cols),
            reader=reader,
        )
        return StageQuery(query, params, first_line=2, rejects=True)
    if source.fmt == "jsonl":
        for col in table.columns:
            src = source.columns.get(col.name)
            if src is None:
                cols.append(sql("NULL::VARCHAR AS {name}", name="r__" + col.name))
            else:
                cols.append(
                    sql(
                        "json_extract_string(CASE WHEN _ok THEN j END, ?) AS {name}",
                        name="r__" + col.name,
                    )
                )
                params.append('$."' + src.replace("\\", "\\\\").replace('"', '\\"') + '"')
        is_object = Sql(
            "coalesce(CASE WHEN json_valid(j) THEN json_type(j) END = 'OBJECT', false) AS _ok"
        )
        why, pre_column = _jsonl_line_reasons(table, source, params)
        if source.lines is not None:
            # A file with a lone CR or mixed line ends: its LF-separated lines, read by
            # recover.recover_jsonl with their physical line numbers; a line refused there
            # keeps that reason and text.
            query = sql(
                "SELECT {cols}, coalesce(_pre, {why}) AS _pre, coalesce(_rawsrc, j) AS _rawsrc, "
                "_line, {pre_column} AS _precol "
                "FROM (SELECT *, {is_object} FROM {lines}) ORDER BY _line",
                cols=join(", ", cols),
                why=why,
                pre_column=pre_column or Sql("NULL::VARCHAR"),
                is_object=is_object,
                lines=source.lines,
            )
            return StageQuery(query, params, first_line=1, explicit_lines=True, pre_column=True)
        # The reader's path param follows the column params: it is in the FROM clause, after
        # the select list, in the text.
        precol = sql(", {p} AS _precol", p=pre_column) if pre_column else Sql("")
        reader = lines_reader(source.readable, params, rejects)
        query = sql(
            "SELECT {cols}, {why} AS _pre{precol}, j AS _rawsrc "
            "FROM (SELECT j, {is_object} FROM {reader})",
            cols=join(", ", cols),
            why=why,
            precol=precol,
            is_object=is_object,
            reader=reader,
        )
        return StageQuery(query, params, first_line=1, rejects=True, pre_column=bool(pre_column))
    # Parquet: typed columns become text, then go through the same rules as any other file.
    for col in table.columns:
        src = source.columns.get(col.name)
        expr = sql("CAST({src} AS VARCHAR)", src=src) if src is not None else no_text
        cols.append(sql("{expr} AS {name}", expr=expr, name="r__" + col.name))
    params.append(str(source.readable))
    query = sql(
        "SELECT {cols}, NULL::VARCHAR AS _pre, NULL::VARCHAR AS _rawsrc FROM read_parquet(?)",
        cols=join(", ", cols),
    )
    return StageQuery(query, params, first_line=1, rejects=False)


def stage_query(
    table: Table,
    source: SourceFile,
    stage: str,
    rejects: tuple[str, str],
    recovered: str | None = None,
) -> StageQuery:
    """The ``CREATE TEMP TABLE stage AS ...`` statement for one source file of ``table``."""
    base = _layer0(table, source, rejects, recovered)
    line_only = Sql(", _line" if base.explicit_lines else "")
    line = Sql(line_only + (", _precol" if base.pre_column else ""))
    pre_column = Sql("_precol" if base.pre_column else "NULL")
    names = table.column_names
    # The already-canonical text of a column with a fast path (most values of a real export)
    # is typed straight from the raw text; the rest goes on, as ``s__``, to cleaning and the full
    # rules. For a fast value ``s__`` is NULL, so the cleaning costs next to nothing.
    # (normalise writes expressions over the identifiers it is given; they are SQL, marked so.)
    slow: list[Sql] = []
    cleaned: list[Sql] = []
    values: list[Sql] = []
    checks: list[Sql] = []
    for c in table.columns:
        raw, rest, text, typed = (ident(p + c.name) for p in ("r__", "s__", "c__", ""))
        fast = normalise.fast_path(raw, c)
        slow.append(
            sql(
                "CASE WHEN {test} THEN NULL ELSE {raw} END AS {rest}",
                test=Sql(fast[0]),
                raw=raw,
                rest=rest,
            )
            if fast
            else sql("{raw} AS {rest}", raw=raw, rest=rest)
        )
        cleaned.append(sql("{e} AS {text}", e=Sql(normalise.clean(rest, c.kind)), text=text))
        value = Sql(normalise.value_sql(text, c))
        if fast:
            value = sql(
                "CASE WHEN {rest} IS NULL THEN {fast} ELSE {value} END",
                rest=rest,
                fast=Sql(fast[1]),
                value=value,
            )
            # A canonical-looking text can still be refused (2026-02-30): diagnose the raw text.
            diagnosed = sql(
                "(CASE WHEN {rest} IS NULL THEN {raw} ELSE {text} END)",
                rest=rest,
                raw=raw,
                text=text,
            )
            reason = sql(
                "CASE WHEN {ok} THEN NULL ELSE {why} END",
                ok=Sql(normalise.accepts(typed, c, table.name)),
                why=Sql(normalise.reason_sql(diagnosed, typed, c, table.name)),
            )
        else:
            reason = Sql(normalise.reason_sql(text, typed, c, table.name))
        values.append(
            sql(
                "CAST({value} AS {type}) AS {typed}",
                value=value,
                type=Sql(c.duckdb_type),
                typed=typed,
            )
        )
        checks.append(sql("{reason} AS {name}", reason=reason, name="q__" + c.name))
    passthrough = idents("r__" + n for n in names)
    cleaned_names = idents("c__" + n for n in names)
    slow_names = idents("s__" + n for n in names)
    # A good row (the common case) has no reason to join: one test of every check, no strings.
    all_good = join(" AND ", (sql("{q} IS NULL", q="q__" + n) for n in names))
    reasons = join(
        ", ", (sql("{label} || {q}", label=literal(f"{n}: "), q="q__" + n) for n in names)
    )
    first_bad = join(
        ", ",
        (sql("CASE WHEN {q} IS NOT NULL THEN {n} END", q="q__" + n, n=literal(n)) for n in names),
    )
    if source.fmt != "jsonl":
        raw_source = sql(
            "to_json(struct_pack({fields}))",
            fields=join(", ", (sql("{n} := {r}", n=n, r="r__" + n) for n in names)),
        )
        if base.explicit_lines:  # a line refused whole keeps its own text
            raw_source = sql("coalesce(_rawsrc, CAST({raw} AS VARCHAR))", raw=raw_source)
    else:
        raw_source = Sql("_rawsrc")
    query = sql(
        """
CREATE TEMP TABLE {stage} AS
SELECT {names}, _reason{line_only},
  CASE WHEN _reason IS NULL THEN NULL WHEN _pre IS NOT NULL THEN {pre_column}
    ELSE coalesce({first_bad}) END AS _column,
  CASE WHEN _reason IS NOT NULL THEN left(coalesce({raw_source}, ''), {limit}) END AS _raw
FROM (
  SELECT *, CASE WHEN _pre IS NOT NULL THEN _pre WHEN {all_good} THEN NULL
    ELSE concat_ws('; ', {reasons}) END AS _reason
  FROM (
    SELECT *, {checks}
    FROM (
      SELECT {values}, {cleaned_names}, {slow_names}, {passthrough}, _pre, _rawsrc{line}
      FROM (
        SELECT {cleaned}, {slow_names}, {passthrough}, _pre, _rawsrc{line}
        FROM (SELECT {slow}, {passthrough}, _pre, _rawsrc{line} FROM ({base}))
      )
    )
  )
)""",
        stage=stage,
        names=idents(names),
        line_only=line_only,
        pre_column=pre_column,
        first_bad=first_bad,
        raw_source=raw_source,
        limit=RAW_LIMIT,
        all_good=all_good,
        reasons=reasons,
        checks=join(", ", checks),
        values=join(", ", values),
        cleaned_names=cleaned_names,
        slow_names=slow_names,
        passthrough=passthrough,
        line=line,
        cleaned=join(", ", cleaned),
        slow=join(", ", slow),
        base=Sql(base.sql),
    )
    return StageQuery(
        query, base.params, base.first_line, base.rejects, base.explicit_lines, base.pre_column
    )
