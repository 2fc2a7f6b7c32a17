"""Chunked output: one file per canonical table, appended shard by shard.

Columns and types come from ``promoguard.model``. Internally times are int64 seconds (UTC),
money and percentages int64 hundredths, and ``NA`` (int64 min) / ``None`` mean NULL.
CSV: ISO 8601 UTC with ``Z`` and 2-decimal strings. Parquet: ``timestamp[us, tz=UTC]`` and
``decimal128(18,2)`` / ``decimal128(7,2)``; one row group per shard.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from promoguard import model
from promoguard.model import Kind

NA = np.iinfo(np.int64).min
FORMATS = ("csv", "parquet")
_TEXTUAL = (Kind.ID, Kind.TEXT, Kind.ENUM, Kind.CURRENCY)
#: Kinds held as Python objects (None = NULL) rather than int64 with NA.
_OBJECTS = (*_TEXTUAL, Kind.FLAG)


class Coded:
    """A text column stored as small-integer codes into a fixed vocabulary (cities, carriers...)."""

    def __init__(self, codes: np.ndarray, values: np.ndarray | list[str]) -> None:
        self.codes = np.asarray(codes, dtype=np.int32)
        self.values = np.asarray(values).astype(str)

    def __len__(self) -> int:
        return len(self.codes)

    def to_arrow(self) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(self.codes), pa.array(self.values)).cast(
            pa.string()
        )


def _valid(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object:
        return np.not_equal(arr, None)
    if arr.dtype.kind == "U":
        return np.ones(len(arr), dtype=bool)
    return arr != NA


def _decimal(values: np.ndarray, valid: np.ndarray, precision: int) -> pa.Array:
    """decimal128(precision, 2) straight from int64 hundredths (exact, no float)."""
    v = np.where(valid, values, 0).astype(np.int64)
    words = np.empty((len(v), 2), dtype=np.int64)
    words[:, 0] = v
    words[:, 1] = v >> 63
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little").tobytes())
    return pa.Array.from_buffers(
        pa.decimal128(precision, 2), len(v), [bitmap, pa.py_buffer(words.tobytes())]
    )


def _hundredths_text(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.array([], dtype=object)
    v = np.where(valid, values, 0)
    s = np.char.add(
        np.char.add((v // 100).astype(str), "."), np.char.zfill((v % 100).astype(str), 2)
    )
    out = s.astype(object)
    out[~valid] = None
    return out


def _iso(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    if len(values) == 0:
        return np.array([], dtype=object)
    s = np.char.add(
        np.datetime_as_string(np.where(valid, values, 0).astype("datetime64[s]"), unit="s"), "Z"
    )
    out = s.astype(object)
    out[~valid] = None
    return out


def to_arrow(table: model.Table, cols: dict[str, np.ndarray], fmt: str) -> pa.Table:
    arrays, fields = [], []
    n = len(next(iter(cols.values()))) if cols else 0
    for c in table.columns:
        if c.name not in cols:
            if not c.nullable:
                raise KeyError(f"simulator does not produce required column {table.name}.{c.name}")
            cols = {
                **cols,
                c.name: np.full(n, None, dtype=object)
                if c.kind in _OBJECTS
                else np.full(n, NA, dtype=np.int64),
            }
        arr = cols[c.name]
        if isinstance(arr, Coded):
            a = arr.to_arrow()
            arrays.append(a)
            fields.append(pa.field(c.name, a.type, nullable=c.nullable))
            continue
        valid = _valid(arr)
        if c.kind in (Kind.MONEY, Kind.PERCENT):
            a = (
                _decimal(arr, valid, 18 if c.kind is Kind.MONEY else 7)
                if fmt == "parquet"
                else pa.array(_hundredths_text(arr, valid), pa.string())
            )
        elif c.kind is Kind.TIMESTAMP:
            a = (
                pa.array(
                    np.where(valid, arr, 0) * 1_000_000, pa.timestamp("us", tz="UTC"), mask=~valid
                )
                if fmt == "parquet"
                else pa.array(_iso(arr, valid), pa.string())
            )
        elif c.kind in (Kind.COUNT, Kind.WEIGHT):
            a = pa.array(np.where(valid, arr, 0), pa.int64(), mask=~valid)
        elif c.kind is Kind.RATING:
            a = pa.array(np.where(valid, arr, 0).astype(np.int16), pa.int16(), mask=~valid)
        elif c.kind is Kind.FLAG:
            # CSV writes true/false, which ingest reads back; Parquet keeps a real boolean.
            a = pa.array(list(arr), pa.bool_())
        else:
            try:
                a = pa.array(arr, pa.string())
            except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
                raise TypeError(f"{table.name}.{c.name}: {exc}") from exc
        arrays.append(a)
        fields.append(pa.field(c.name, a.type, nullable=c.nullable))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


class TableWriter:
    """Appends chunks of every canonical table (plus ground_truth.csv) to files in ``out``."""

    def __init__(self, out: Path, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use csv or parquet")
        self.out, self.fmt = out, fmt
        out.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, Any] = {}
        self.rows: dict[str, int] = {t.name: 0 for t in model.TABLES}
        self._truth = open(out / "ground_truth.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._truth_csv = csv.writer(self._truth, lineterminator="\n")
        self._truth_csv.writerow(model.GROUND_TRUTH_COLUMNS)
        self.truth_counts: dict[str, int] = {}

    def path(self, name: str) -> Path:
        return self.out / f"{name}.{self.fmt}"

    def write(self, name: str, cols: dict[str, np.ndarray]) -> None:
        self.write_arrow(name, to_arrow(model.table(name), cols, self.fmt))

    def write_arrow(self, name: str, t: pa.Table) -> None:
        w = self._writers.get(name)
        if w is None:
            if self.fmt == "parquet":
                w = pq.ParquetWriter(self.path(name), t.schema, compression="snappy")
            else:
                w = pacsv.CSVWriter(
                    self.path(name),
                    t.schema,
                    write_options=pacsv.WriteOptions(quoting_style="needed"),
                )
            self._writers[name] = w
        w.write_table(t)
        self.rows[name] += t.num_rows

    def write_truth(self, rows: list[tuple[str, str, str]], pack: str = "cn") -> None:
        for code, etype, eid in sorted(set(rows)):
            self._truth_csv.writerow((code, etype, eid, pack))
            self.truth_counts[code] = self.truth_counts.get(code, 0) + 1

    def close(self) -> None:
        for name in self.rows:
            if name not in self._writers:  # a table no shard produced still gets its header
                self.write(
                    name,
                    {
                        c.name: np.array(
                            [],
                            dtype=object if c.kind in _OBJECTS else np.int64,
                        )
                        for c in model.table(name).columns
                    },
                )
        for w in self._writers.values():
            w.close()
        self._truth.close()
