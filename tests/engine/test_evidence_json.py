"""The column-wise JSON of evidence rows (json_objects, canonical_json_group_table) against
``json.dumps(canonical_value(...))`` row by row, on hand-built hard values: the fast paths (a
string or instant column with no null and nothing to escape written bare, its quotes in the
object's literal text) must give the bytes the slow ones give: their SHA-256 are the evidence
hashes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from promoguard.engine import evidence as ev

UTC = dt.UTC


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


#: strings with nothing json escapes (the bare path) and one per character it does escape
CLEAN = ["", "a", "上海", "\U0001f600 non-BMP", "\u2028\u2029", "\x7f del", "é" * 40]
ESCAPED = ['quote "', "back\\slash", "ctl \x01", "nl\n", "\x00", "\x1f", 'x"\\\t']


def _instants(n: int) -> list[dt.datetime]:
    base = [
        dt.datetime(2026, 11, 22, 0, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # before the epoch, a fraction
        dt.datetime(2026, 3, 1, 12, 0, 0, 120000, tzinfo=UTC),  # trailing zeros cut
        dt.datetime(1000, 1, 1, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ]
    return [base[i % len(base)] for i in range(n)]


def _table(n: int = 24, nulls: bool = False, escapes: bool = False) -> pa.Table:
    strings = [CLEAN[i % len(CLEAN)] for i in range(n)]
    if escapes:
        strings[3] = ESCAPED[0]
        strings[n - 1] = ESCAPED[n % len(ESCAPED)]
    instants: list[Any] = _instants(n)
    if nulls:
        strings[5] = None  # type: ignore[call-overload]
        instants[2] = None
    floats = [
        0.1 + 0.2,  # 0.30000000000000004 -> 0.3
        1.0000000005,  # on the 9th digit's rounding edge
        123456789.5,
        -0.0,  # an integral float: 0
        2.0**53,  # integral but too big for an int: a float
        1e-300,
        float("nan"),
        float("inf"),
        -float("inf"),
        None,
    ]
    return pa.table(
        {
            "entity_id": [f"g{i % 5}" for i in range(n)],
            "s": pa.array(strings, pa.string()),
            "t": pa.array(instants, pa.timestamp("us", tz="UTC")),
            "ms": pa.array(_instants(n), pa.timestamp("ms", tz="UTC")),
            "f": pa.array([floats[i % len(floats)] for i in range(n)], pa.float64()),
            "i": pa.array([[2**63 - 1, -(2**63), 0, None][i % 4] for i in range(n)], pa.int64()),
            "d": pa.array([Decimal("1.50"), Decimal("-0.01"), None][i % 3] for i in range(n)),
            "b": pa.array([[True, False, None][i % 3] for i in range(n)]),
            "day": pa.array([dt.date(2026, 11, 11)] * n),
            'key "q"\\': pa.array([CLEAN[(i + 1) % len(CLEAN)] for i in range(n)]),
        }
    )


def _cases() -> list[pa.Table]:
    return [
        _table(),
        _table(nulls=True),
        _table(escapes=True),
        _table(nulls=True, escapes=True),
        _table(n=1),
    ]


@pytest.mark.parametrize("table", _cases())
def test_json_objects_are_json_dumps_of_each_canonical_row(table: pa.Table) -> None:
    want = [_dumps(ev.canonical_value(r)) for r in table.to_pylist()]
    assert ev.json_objects(table).to_pylist() == want
    # sliced (arrays with an offset) and in several chunks: the same text
    part = pa.Table.from_batches(table.slice(1).to_batches(max_chunksize=5), table.schema)
    assert ev.json_objects(part).to_pylist() == want[1:]
    # a column's text kept for the next call (the engine writes observed, expected, found)
    texts: dict[str, Any] = {}
    some = ["s", "t", "b"]
    first = ev.json_objects(table, some, texts).to_pylist()
    assert first == [_dumps({c: ev.canonical_value(r[c]) for c in some}) for r in table.to_pylist()]
    assert ev.json_objects(table, None, texts).to_pylist() == want


def test_a_bare_column_is_only_taken_when_nothing_needs_writing() -> None:
    clean = pa.chunked_array([pa.array(CLEAN)])
    assert ev._json_parts(clean)[0] == '"'
    for s in ESCAPED:  # one escaped character anywhere turns the column to json's own text
        col = pa.chunked_array([pa.array([*CLEAN, s])])
        opening, text, closing = ev._json_parts(col)
        assert (opening, closing) == ("", "")
        assert text.to_pylist()[-1] == json.dumps(s, ensure_ascii=False)
    with_null = pa.chunked_array([pa.array(["a", None])])
    assert ev._json_parts(with_null)[1].to_pylist() == ['"a"', "null"]
    # an instant column with a null: "null" unquoted
    t = pa.chunked_array([pa.array([None, dt.datetime(2026, 1, 1)], pa.timestamp("us"))])
    assert ev._json_parts(t)[1].to_pylist() == ["null", '"2026-01-01T00:00:00Z"']


@pytest.mark.parametrize("table", _cases())
def test_group_lists_are_json_dumps_of_each_groups_rows(table: pa.Table) -> None:
    groups = ev.canonical_groups(table)
    got = ev.canonical_json_group_table(table)
    assert got.column("g").to_pylist() == sorted(groups)
    assert dict(zip(got.column("g").to_pylist(), got.column("j").to_pylist(), strict=True)) == {
        g: _dumps(rows) for g, rows in groups.items()
    }
