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
from decimal import Decimal
from typing import Any

import duckdb
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


def _canonical_instants(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Instants as ``YYYY-MM-DDTHH:MM:SS[.frac]Z`` in UTC, trailing zeros of the fraction cut."""
    naive = pc.cast(col, pa.timestamp("us"), safe=False)  # UTC wall clock, microseconds
    text = pc.strftime(naive, format="%Y-%m-%dT%H:%M:%S")  # %S carries ".ffffff" at us
    text = pc.replace_substring_regex(text, pattern=r"(\.\d*[1-9])0+$", replacement=r"\1")
    text = pc.replace_substring_regex(text, pattern=r"\.0+$", replacement="")
    return pc.binary_join_element_wise(text, "Z", "")


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
    group = pc.cast(table.column(by), pa.string())
    order = [n for n in sorted(table.column_names) if n != by]
    key_table = pa.table({"\x00group": group, **{f"k{i}": keys[n] for i, n in enumerate(order)}})
    idx = pc.sort_indices(
        key_table,
        sort_keys=[(c, "ascending", "at_start") for c in key_table.column_names],
    )
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


def freeze_canonical(document: dict[str, Any]) -> tuple[str, str]:
    """:func:`freeze` for a document whose values are canonical already (from
    :func:`canonical_value` or :func:`canonical_groups`): the same bytes, without a second pass."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def freeze(document: dict[str, Any]) -> tuple[str, str]:
    """Return ``(sha256_hex, canonical_json_text)`` of an evidence document."""
    text = canonical_json(document)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


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
