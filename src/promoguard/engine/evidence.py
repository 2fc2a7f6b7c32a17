"""Evidence frozen as canonical JSON, addressed by its SHA-256.

The same rows must give the same bytes whatever engine produced them, so values are normalised
before hashing: decimals keep their scale as text, instants become UTC ISO 8601 with a ``Z``,
floats are rounded to 9 significant digits, mappings are sorted and row lists are put in a
canonical order.

The engine canonicalises evidence rows column by column in Arrow (:func:`canonical_groups`), which
gives exactly the values :func:`canonical_value` gives row by row, and orders each entity's rows
of one evidence table canonically:

* by the columns other than ``entity_id``, taken in the order of their names (sorted by code
  point), each ascending, nulls first;
* strings by code point (UTF-8 bytes), integers, decimals and dates by value, instants by their
  UTC microsecond, floats by their 9-significant-digit value, booleans false before true, and any
  other value (lists, structs, durations) by its canonical JSON text.

The order depends only on the canonical values and the column names, never on the engine or the
row order it returned, so DuckDB and Spark freeze the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tempfile
import threading
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def canonical_value(value: Any) -> Any:
    """A JSON-ready value that is the same for the same datum on every engine."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value == int(value) and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.9g}")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # engines hand back UTC instants; some drop the zone
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return canonical_value(value.item())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return canonical_value(value.to_pydatetime())
    return str(value)


def canonical_json(obj: Any) -> str:
    return json.dumps(
        canonical_value(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


#: microseconds of 1000-01-01 and 10000-01-01 UTC: between them every year has four digits
_FOUR_DIGIT_YEARS = (-30610224000 * 10**6, 253402300800 * 10**6)


def _canonical_instants(col: pa.ChunkedArray, quote: bool = False) -> pa.ChunkedArray:
    """Instants as ``YYYY-MM-DDTHH:MM:SS[.frac]Z`` in UTC, trailing zeros of the fraction cut
    (``quote``: between double quotes, as their JSON text).

    Arrow's ``strftime`` takes ~5 s per million values (a third of a city scan's evidence time),
    so the text is put together from whole seconds cast to text and the fraction's digits;
    ``strftime`` stays for years outside 1000-9999, where the two might not agree.
    """
    naive = pc.cast(col, pa.timestamp("us"), safe=False)  # UTC wall clock, microseconds
    micros = pc.cast(naive, pa.int64())
    span = pc.min_max(micros).as_py()
    if span["min"] is None or (
        _FOUR_DIGIT_YEARS[0] <= span["min"] and span["max"] < _FOUR_DIGIT_YEARS[1]
    ):
        return _instants_text(micros, quote)
    text = pc.strftime(naive, format="%Y-%m-%dT%H:%M:%S")  # %S carries ".ffffff" at us
    text = pc.replace_substring_regex(text, pattern=r"(\.\d*[1-9])0+$", replacement=r"\1")
    text = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
    text = pc.binary_join_element_wise(text, "Z", "")
    return _json_strings(text) if quote else text


def _instants_text(micros: pa.ChunkedArray, quote: bool = False) -> pa.ChunkedArray:
    """:func:`_canonical_instants` of epoch microseconds, years 1000-9999."""

    micros = micros.combine_chunks() if isinstance(micros, pa.ChunkedArray) else micros
    missing = pc.is_null(micros).to_numpy(zero_copy_only=False)
    m = pc.fill_null(micros, 0).to_numpy()
    frac = m % 1_000_000  # floored: 1969-12-31T23:59:59.999999 is second -1 and 999999 us
    seconds = pa.array((m - frac) // 1_000_000, pa.timestamp("s"), mask=missing)
    # "YYYY-MM-DD HH:MM:SS": with four-digit years the space is byte 10 (replacing it by
    # position, not by search: a tenth of the CPU)
    whole = pc.binary_replace_slice(
        pc.cast(seconds, pa.string()), start=10, stop=11, replacement="T"
    )
    q = '"' if quote else ""
    if not frac.any():  # whole seconds (most evidence): no fraction to write
        return pa.chunked_array([pc.binary_join_element_wise(q, whole, "Z" + q, "")])
    digits = pc.utf8_rtrim(pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), 6, "0"), "0")
    dot = pc.if_else(pa.array(frac != 0), ".", "")
    return pa.chunked_array([pc.binary_join_element_wise(q, whole, dot, digits, "Z" + q, "")])


def _canonical_column(
    col: pa.ChunkedArray,
) -> tuple[pa.ChunkedArray | list[Any], pa.ChunkedArray]:
    """(canonical values, sort key) of one column: values stay Arrow when Arrow can hold them
    canonically, else become a Python list of canonical values."""
    t = col.type
    if pa.types.is_decimal(t):
        return pc.cast(col, pa.string()), col
    if pa.types.is_timestamp(t):
        return _canonical_instants(col), pc.cast(
            pc.cast(col, pa.timestamp("us"), safe=False), pa.int64()
        )
    if pa.types.is_date(t):
        return pc.cast(col, pa.string()), col
    if pa.types.is_large_string(t):
        col = pc.cast(col, pa.string())
        return col, col
    if (
        pa.types.is_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    ):
        return col, col
    values = [canonical_value(v) for v in col.to_pylist()]
    if pa.types.is_floating(t):
        key = pa.array([None if v is None else float(v) for v in values], pa.float64())
    else:
        key = pa.array(
            [
                None if v is None else json.dumps(v, sort_keys=True, ensure_ascii=False)
                for v in values
            ],
            pa.string(),
        )
    return values, pa.chunked_array([key])


def _sort_key(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """:func:`_canonical_column`'s sort key alone: for the types Arrow orders canonically, without
    writing the values' text (an instant's text was written for its key and thrown away)."""
    t = col.type
    if pa.types.is_timestamp(t):
        return pc.cast(pc.cast(col, pa.timestamp("us"), safe=False), pa.int64())
    if (
        pa.types.is_decimal(t)
        or pa.types.is_date(t)
        or pa.types.is_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    ):
        return col
    return _canonical_column(col)[1]


def _group_order(
    table: pa.Table, by: str, keys: dict[str, pa.Array | pa.ChunkedArray]
) -> tuple[pa.ChunkedArray, pa.Array]:
    """(each row's group as text, the row order that puts each group's rows together, in
    canonical order: by group, then by every other column's sort key, names sorted)."""
    group = pc.cast(table.column(by), pa.string())
    order = [n for n in sorted(table.column_names) if n != by]
    key_table = pa.table({"\x00group": group, **{f"k{i}": keys[n] for i, n in enumerate(order)}})
    idx = pc.sort_indices(
        key_table,
        sort_keys=[(c, "ascending", "at_start") for c in key_table.column_names],
    )
    return group, idx


def canonical_groups(table: pa.Table, by: str = "entity_id") -> dict[str, list[dict[str, Any]]]:
    """Rows of ``table`` as canonical dicts, grouped by ``str(by)`` and put in canonical order
    (see the module docstring); the values equal :func:`canonical_value` of each cell."""
    if table.num_rows == 0:
        return {}
    arrow_cols: dict[str, pa.ChunkedArray] = {}
    py_cols: dict[str, list[Any]] = {}
    keys: dict[str, pa.ChunkedArray] = {}
    for name in table.column_names:
        values, key = _canonical_column(table.column(name))
        if isinstance(values, list):
            py_cols[name] = values
        else:
            arrow_cols[name] = values
        keys[name] = key
    group, idx = _group_order(table, by, keys)
    rows = pa.table(arrow_cols).take(idx).to_pylist() if arrow_cols else [{} for _ in idx]
    if py_cols:
        positions = idx.to_pylist()
        for name, values in py_cols.items():
            for row, i in zip(rows, positions, strict=True):
                row[name] = values[i]
    groups = pc.take(group, idx).to_pylist()
    out: dict[str, list[dict[str, Any]]] = {}
    for g, row in zip(groups, rows, strict=True):
        out.setdefault(g, []).append(row)
    return out


def _dumps(value: Any) -> str:
    """The JSON text of a canonical value, as ``freeze`` writes it inside a document."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


#: the bytes of a character ``json.dumps(s, ensure_ascii=False)`` writes escaped: quote,
#: backslash, a control character (U+0000-U+001F); every other character it writes as it is. In
#: UTF-8 these are single bytes that occur in no other character's encoding (a multi-byte
#: sequence has only bytes >= 0x80), so a string needs escaping iff its bytes hold one of them.
_ESCAPED_BYTES = np.zeros(256, np.bool_)
_ESCAPED_BYTES[:0x20] = True
_ESCAPED_BYTES[[ord('"'), ord("\\")]] = True


def _escaped_rows(values: pa.Array) -> Any:
    """Where ``values`` (a string array) holds a string ``json`` would escape: a numpy bool mask,
    or None when it holds none. One look at the array's UTF-8 bytes, not a search per string."""
    data_buffer = values.buffers()[2]
    if data_buffer is None or not len(values):
        return None
    large = pa.types.is_large_string(values.type)
    offsets = np.frombuffer(values.buffers()[1], np.int64 if large else np.int32)
    offsets = offsets[values.offset : values.offset + len(values) + 1]
    data = np.frombuffer(data_buffer, np.uint8)[offsets[0] : offsets[-1]]
    # almost always clean: three reductions over the bytes tell so ~10x faster than the table
    # look-up below (63 -> 7 ms for BRUSH001's 216k entity ids)
    if not len(data) or (
        data.min() >= 0x20 and not (data == ord('"')).any() and not (data == ord("\\")).any()
    ):
        return None
    hits = np.flatnonzero(_ESCAPED_BYTES[data])
    if not len(hits):
        return None
    # the string each byte is in: the last whose start is at or before it (empty ones skipped)
    rows = np.searchsorted(offsets, hits + offsets[0], side="right") - 1
    escaped = np.zeros(len(values), np.bool_)
    escaped[rows] = True
    if values.null_count:  # a null's slot may span bytes: it stays null
        escaped &= values.is_valid().to_numpy(zero_copy_only=False)
    return escaped if escaped.any() else None


def _json_strings(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Each string as ``json.dumps(s, ensure_ascii=False)`` writes it (null stays null).

    Almost no evidence string holds a character ``json`` escapes (:data:`_ESCAPED_BYTES`), and
    the text of one that holds none is the string between quotes: one look at the bytes finds
    the few that do, which ``json`` itself writes (escaping every string with Arrow instead took
    four passes over all of the text, ~6 thread-seconds of a city scan)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    quote, nothing = pa.scalar('"', values.type), pa.scalar("", values.type)
    text = pc.binary_join_element_wise(quote, values, quote, nothing)
    escaped = _escaped_rows(values)
    if escaped is None:
        return text
    mask = pa.array(escaped, pa.bool_())
    exact = [json.dumps(v, ensure_ascii=False) for v in pc.filter(values, mask).to_pylist()]
    return pc.replace_with_mask(text, mask, pa.array(exact, values.type))


def _json_parts(col: pa.ChunkedArray) -> tuple[str, pa.ChunkedArray | pa.Array, str]:
    """``(open, text, close)``: each cell's JSON text (:func:`_json_column`) is ``open + text +
    close``. For a column of strings none of which is null or escaped, and of instants none of
    which is null, the text is the value itself and the quotes are ``open`` and ``close``: they
    go into the object's literal text (:func:`json_objects`), so the column is not copied once
    more between quotes (a third of the CPU of writing BRUSH001's 216k evidence rows)."""
    t = col.type
    if col.null_count == 0 and len(col):
        if pa.types.is_timestamp(t):
            return '"', _canonical_instants(col), '"'
        if pa.types.is_string(t):
            values = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
            if _escaped_rows(values) is None:
                return '"', values, '"'
    return "", _json_column(col), ""


def _json_column(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """The JSON text of each cell's canonical value (``null`` for a null), computed column-wise:
    the same text ``json.dumps`` gives the value :func:`canonical_value` gives the cell."""
    if pa.types.is_floating(col.type):
        return _float_json(col)
    if pa.types.is_timestamp(col.type):  # quoted as they are written: no character to escape
        return pc.fill_null(_canonical_instants(col, quote=True), "null")
    values, _ = _canonical_column(col)
    if isinstance(values, list):  # lists, structs, ...: canonical values from Python
        return pa.array([_dumps(v) for v in values], pa.string())
    t = values.type
    if pa.types.is_string(t):
        text = _json_strings(values)
    elif pa.types.is_integer(t):
        text = pc.cast(values, pa.string())
    elif pa.types.is_boolean(t):
        text = pc.if_else(values, "true", "false")
    elif pa.types.is_null(t):
        return pa.array(["null"] * len(values), pa.string())
    else:  # pragma: no cover - _canonical_column keeps only the types above in Arrow
        return pa.array([_dumps(v) for v in values.to_pylist()], pa.string())
    return pc.fill_null(text, "null")


def _float_json(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """:func:`_float_texts` of a column of floats, each distinct value written once: the values
    are encoded as a dictionary in Arrow, its values written in Python and taken back per row
    (nulls: ``null``). Scores and shares repeat: REVIEW003's 52k findings hold ~200k floats of
    ~6.5k values, whose writing value by value was most of the JSON of its found rows. (Arrow
    puts 0.0 and -0.0, or two NaNs, under one entry at most: their texts are the same, 0 and
    null.)"""
    values = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    encoded = pc.dictionary_encode(values)
    texts = pa.array(_float_texts(encoded.dictionary.to_pylist()), pa.string())
    return pc.fill_null(pc.take(texts, encoded.indices), "null")


def _float_texts(values: list[float | None]) -> list[str]:
    """``json.dumps(canonical_value(v))`` of each float: ``null``, an integer, or the repr of
    the value rounded to 9 significant digits (``json`` writes a float as ``float.__repr__``).
    A value seen before is not written again: scores and ratios repeat a lot."""
    memo: dict[float, str] = {}
    out: list[str] = []
    for v in values:
        if v is None:
            out.append("null")
            continue
        text = memo.get(v)
        if text is None:
            c = canonical_value(v)
            text = "null" if c is None else repr(c)
            if v == v:  # (a NaN equals nothing, not even itself)
                memo[v] = text
        out.append(text)
    return out


#: the JSON text of each cell's canonical value (``null`` for a null), column-wise
json_column = _json_column


def json_objects(
    table: pa.Table,
    columns: list[str] | None = None,
    texts: dict[str, Any] | None = None,
    before: Any = None,
    after: Any = None,
) -> pa.ChunkedArray:
    """Per row, the canonical JSON object of ``columns`` (default: all), keys sorted: the text
    ``json.dumps(canonical_value(row), sort_keys=True, ...)`` gives, built column by column.
    ``texts`` keeps each column's JSON text for the next call on the same table (a caller may
    give a column's JSON text; it keeps :func:`_json_parts` of the others). ``before`` and
    ``after`` (text per row, when given) are written around each object in the same pass."""
    names = sorted(table.column_names if columns is None else columns)
    texts = {} if texts is None else texts
    parts: list[Any] = [] if before is None else [before]
    if not names:
        parts.append(pa.array(["{}"] * table.num_rows, pa.string()))
    literal = ""  # text between two columns' values, written as one scalar
    for i, name in enumerate(names):
        if name not in texts:
            texts[name] = _json_parts(table.column(name))
        text = texts[name]
        opening, values, closing = text if isinstance(text, tuple) else ("", text, "")
        literal += ("{" if i == 0 else ",") + _dumps(str(name)) + ":" + opening
        parts += [literal, values]
        literal = closing
    if names:
        parts.append(literal + "}")
    if after is not None:
        parts.append(after)
    out = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")
    return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])


#: the canonical JSON of each group's rows: ``g`` (the group), ``j`` (its JSON list)
GROUPS_SCHEMA = pa.schema([("g", pa.string()), ("j", pa.string())])


def canonical_json_group_table(
    table: pa.Table, by: str = "entity_id", texts: dict[str, Any] | None = None
) -> pa.Table:
    """:func:`canonical_json_groups` as Arrow (:data:`GROUPS_SCHEMA`), one row per group: the
    engine joins it to the found rows in Arrow, and the texts never become Python strings.
    ``texts`` gives some columns' JSON text in place of their values' (:func:`json_objects`):
    :func:`group_templates` writes a blank where each finding's entity id goes."""
    if table.num_rows == 0:
        return GROUPS_SCHEMA.empty_table()
    # one chunk: sorting and taking from contiguous arrays is a third faster than from the
    # engine's batches (1.1M rows of REVIEW001's cluster texts: 5.0 -> 3.4 s)
    table = table.combine_chunks()
    keys = {name: _sort_key(table.column(name)) for name in table.column_names}
    _, idx = _group_order(table, by, keys)
    table = table.take(idx)
    # the groups read from the taken rows (taking the group column apart took it twice)
    groups = _one_array(pc.cast(table.column(by), pa.string()))
    # sorted by group first, so each group's rows are one run, in canonical order: a list per run
    # (offsets where the group changes), no hash aggregation
    n = len(groups)
    starts = np.zeros(1, np.int64)
    if n > 1:
        after, before = groups.slice(1), groups.slice(0, n - 1)
        nulls_differ = pc.not_equal(pc.is_null(after), pc.is_null(before))
        differs = pc.coalesce(pc.not_equal(after, before), nulls_differ)
        starts = np.concatenate(
            [starts, np.flatnonzero(differs.to_numpy(zero_copy_only=False)) + 1]
        )
    # each row's JSON written in canonical order (the rows taken first, not their longer text),
    # with the list's "[" or "," before it and "]" after a group's last row: a group's list is
    # then its rows' texts one after another (one copy of the text, where joining the rows
    # with commas and then bracketing each list took two more)
    first, last = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    first[starts] = True
    last[np.append(starts[1:], n) - 1] = True
    texts = {name: pc.take(text, idx) for name, text in (texts or {}).items()}
    rows = json_objects(
        table,
        None,
        texts,
        before=pc.if_else(pa.array(first), "[", ","),
        after=pc.if_else(pa.array(last), "]", ""),
    )
    # (reading each group's text in place from the rows' buffer instead of this copy saved
    # ~0.1 s here but cost ~0.25 s more in freezing BRUSH001's documents: not kept)
    offsets = pa.array(np.append(starts, n), pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, _one_array(rows)), "")
    return pa.table([groups.take(pa.array(starts)), joined], schema=GROUPS_SCHEMA)


#: stands where each finding's entity id goes in its group's JSON (:func:`group_templates`): a
#: control character, which the canonical JSON of every value and name writes escaped
#: (``\u0001``), so it occurs nowhere else in the text
_BLANK = "\x01"


def group_templates(rows: pa.Table) -> pa.Table:
    """Each group's evidence rows (``rows``: ``group_id`` and the rows' own columns, as
    :class:`~promoguard.engine.base.GroupRows` gives them) as one canonical JSON list per group
    (:data:`GROUPS_SCHEMA`, ``g``: the group), with a blank where each row's ``entity_id`` goes
    for :func:`fill_groups` to fill in.

    The text is the one :func:`canonical_json_group_table` writes for any finding of the group
    from its expanded rows (the group's rows, each with the finding's ``entity_id``): a group's
    rows are ordered by their columns other than ``entity_id``, which are the group's alone, so
    every finding of a group lists its rows in the same order.
    """
    if "entity_id" in rows.column_names or "group_id" not in rows.column_names:
        raise ValueError(
            f"group evidence rows need a group_id column and no entity_id: {rows.column_names}"
        )
    if rows.num_rows == 0:
        return GROUPS_SCHEMA.empty_table()
    # the group as the table's entity_id (grouped and left out of each group's row order), its
    # JSON text the blank
    named = rows.rename_columns(["entity_id" if n == "group_id" else n for n in rows.column_names])
    blank = pa.array([_BLANK] * rows.num_rows, pa.string())
    return canonical_json_group_table(named, "entity_id", {"entity_id": blank})


def cut_templates(templates: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Each group's template (:func:`group_templates`) cut at its blanks: (the groups, each one's
    pieces), for :func:`fill_groups` to join around each finding's id; cut once per check when
    its findings are filled a part at a time."""
    return _one_array(templates.column("g")), pc.split_pattern(
        _one_array(templates.column("j")), _BLANK
    )


def fill_groups(
    templates: pa.Table, groups: pa.Table, cut: tuple[pa.Array, pa.Array] | None = None
) -> pa.Table:
    """Each finding's evidence rows (:data:`GROUPS_SCHEMA`, ``g``: its entity id) from its group's
    template (:func:`group_templates`; ``cut``: :func:`cut_templates` of it, when already made):
    ``groups`` holds each finding's ``entity_id`` and ``group_id``; a finding whose group has no
    rows gets none."""
    if not templates.num_rows or not groups.num_rows:
        return GROUPS_SCHEMA.empty_table()
    entity = _one_array(pc.cast(groups.column("entity_id"), pa.string()))
    # each group's text cut at its blanks once, then joined per finding with its own id's JSON
    # (cutting each finding's copy instead: several times the CPU at city scale)
    g, pieces = cut or cut_templates(templates)
    at = pc.index_in(pc.cast(groups.column("group_id"), pa.string()), value_set=g)
    text = pc.binary_join(pc.take(pieces, at), _one_array(_json_column(entity)))
    out = pa.table([entity, _one_array(text)], schema=GROUPS_SCHEMA)
    return out.filter(pc.is_valid(out.column("j")))


def _one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def canonical_json_groups(table: pa.Table, by: str = "entity_id") -> dict[str, str]:
    """``{group: json text of canonical_groups(table, by)[group]}``: the same bytes as dumping
    :func:`canonical_groups`' row lists, without building a Python dict per row."""
    groups = canonical_json_group_table(table, by)
    return dict(zip(groups.column("g").to_pylist(), groups.column("j").to_pylist(), strict=True))


def freeze_canonical(document: dict[str, Any]) -> tuple[str, str]:
    """:func:`freeze` for a document whose values are canonical already (from
    :func:`canonical_value` or :func:`canonical_groups`): the same bytes, without a second pass."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def freeze(document: dict[str, Any]) -> tuple[str, str]:
    """Return ``(sha256_hex, canonical_json_text)`` of an evidence document."""
    text = canonical_json(document)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


EVIDENCE_SCHEMA = pa.schema([("evidence_sha256", pa.string()), ("document", pa.string())])


class FrozenEvidence(Mapping[str, str]):
    """A scan's frozen evidence documents, ``sha256 -> canonical JSON``, held off the heap.

    A city-scale scan freezes about 2 GB of documents. Held as Python strings they took twice
    that (UCS-2 for any CJK text, an object per string) until the scan was saved. Here each
    check's documents are an Arrow table, and once more than ``spill_bytes`` are held they go
    to a Parquet file in a private temporary folder, which the store reads back with SQL when
    the scan is saved (:meth:`parts`). Reading it as a mapping (tests, small scans) builds the
    dict on demand.

    A scan's documents are unique by construction (each names its check and entity), so a
    document is added once; :meth:`to_arrow` still keeps one row per hash.
    """

    SPILL_BYTES = 256 * 2**20

    def __init__(self, spill_bytes: int | None = None) -> None:
        self._tables: list[pa.Table] = []
        self._held = 0
        self._spill_bytes = self.SPILL_BYTES if spill_bytes is None else spill_bytes
        self._files: list[str] = []
        self._spilled_rows = 0
        self._spill_files = SpillFiles("promoguard-evidence-")
        self._dict: dict[str, str] | None = None
        #: parts absorbed whole: kept alive because their spill files live in their folders
        self._adopted: list[FrozenEvidence] = []

    def add(self, table: pa.Table | str) -> None:
        """Add documents (columns ``evidence_sha256``, ``document``), or a file :meth:`stage`
        wrote."""
        if isinstance(table, str):
            self._files.append(table)
            self._spilled_rows += parquet_rows(table)
            self._dict = None
            return
        if not table.num_rows:
            return
        self._tables.append(table.select(["evidence_sha256", "document"]).cast(EVIDENCE_SCHEMA))
        self._held += table.nbytes
        self._dict = None
        if self._held > self._spill_bytes:
            self._spill()

    def stage(self, table: pa.Table) -> pa.Table | str:
        """What a worker thread hands :meth:`add` later: large documents written to a Parquet
        file now (a scan's threads finish out of order, and the engine adds each check's
        documents in the checks' order: held until then they piled up in memory), small ones
        as they are. Safe to call from several threads."""
        if table.nbytes <= self._spill_bytes // 8:
            return table
        path = self._spill_files.new_file()
        write_parquet(
            table.select(["evidence_sha256", "document"]).cast(EVIDENCE_SCHEMA),
            path,
            documents=True,
        )
        return path

    def absorb(self, other: Mapping[str, str]) -> None:
        """Take in another scan part's documents without reading them into Python strings:
        a FrozenEvidence's spill files and Arrow tables are adopted as they are (and the other
        kept alive, since its temporary folder goes with it); a plain mapping becomes a table."""
        if isinstance(other, FrozenEvidence):
            if other is self:
                return
            self._files.extend(other._files)
            self._spilled_rows += other._spilled_rows
            self._adopted.append(other)
            for table in other._tables:
                self._tables.append(table)
                self._held += table.nbytes
            self._dict = None
            if self._held > self._spill_bytes:
                self._spill()
            return
        if len(other):
            self.add(
                pa.table(
                    {
                        "evidence_sha256": pa.array(list(other), pa.string()),
                        "document": pa.array(list(other.values()), pa.string()),
                    }
                )
            )

    def _spill(self) -> None:
        path = self._spill_files.new_file()
        held = pa.concat_tables(self._tables)
        write_parquet(held, path, documents=True)
        self._files.append(path)
        self._spilled_rows += held.num_rows
        self._tables, self._held = [], 0

    def parts(self) -> tuple[list[str], pa.Table]:
        """(Parquet files, the documents still in memory): every document, each once."""
        memory = pa.concat_tables(self._tables) if self._tables else EVIDENCE_SCHEMA.empty_table()
        return list(self._files), memory

    def to_arrow(self) -> pa.Table:
        """Every document once: ``evidence_sha256``, ``document``."""
        import pyarrow.parquet as pq

        files, memory = self.parts()
        table = pa.concat_tables([*(pq.read_table(f) for f in files), memory])
        if pc.count_distinct(table.column("evidence_sha256")).as_py() < table.num_rows:
            # the same document twice (one hash, one text): keep its first row
            first = pc.index_in(
                table.column("evidence_sha256"), value_set=table.column("evidence_sha256")
            )
            table = table.filter(pc.equal(first, pa.array(range(table.num_rows), pa.int32())))
        return table

    def _as_dict(self) -> dict[str, str]:
        if self._dict is None:
            table = self.to_arrow()
            self._dict = dict(
                zip(
                    table.column("evidence_sha256").to_pylist(),
                    table.column("document").to_pylist(),
                    strict=True,
                )
            )
        return self._dict

    def __getitem__(self, sha256: str) -> str:
        return self._as_dict()[sha256]

    def __iter__(self) -> Iterator[str]:
        return iter(self._as_dict())

    def __len__(self) -> int:
        return self._spilled_rows + sum(t.num_rows for t in self._tables)


class SpillFiles:
    """Names for Parquet part files in a private temporary folder, made on first use (mkdtemp:
    owner-only) and removed with this object; safe to call from several threads. What
    :class:`FrozenEvidence` and the scan's held findings spill to."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()
        self._made = 0  # files named so far

    def new_file(self) -> str:
        with self._lock:
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix=self._prefix)
            self._made += 1
            return f"{self._folder.name}/part-{self._made:04d}.parquet"


def write_parquet(table: pa.Table, path: str, documents: bool = False) -> None:
    """``documents``: staged evidence documents and their hashes. Their strings are all different,
    so neither a dictionary nor min/max statistics of each page are worth their CPU; and they are
    a scan's ~2 GB of evidence, read back once when it is saved, so compressed with snappy (a
    third less CPU than zstd's level 1 each way, for temporary files about twice as large)."""
    import pyarrow.parquet as pq

    if documents:
        pq.write_table(
            table, path, compression="snappy", use_dictionary=False, write_statistics=False
        )
    else:
        pq.write_table(table, path, compression="zstd", compression_level=1)


def parquet_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def read_evidence(con: duckdb.DuckDBPyConnection, sha256: str) -> dict[str, Any]:
    """Read a frozen evidence document back, verifying that its bytes still hash to its name."""
    row = con.execute(
        "SELECT document FROM evidence WHERE evidence_sha256 = ? LIMIT 1", [sha256]
    ).fetchone()
    if row is None:
        raise KeyError(f"no evidence {sha256}")
    text = row[0]
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != sha256:
        raise ValueError(f"evidence {sha256} is corrupt: its content hashes to {actual}")
    return json.loads(text)
