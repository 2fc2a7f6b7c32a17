"""Line-level recovery of a CSV file that DuckDB's strict reader could not read cleanly.

The fast path (``validate.stage_query``) hands a CSV file to DuckDB's strict reader. When that
reader refuses anything at all (a ragged row, bad bytes, an unterminated quote, a bare carriage
return) its own account of the damage is not enough: an unterminated quote makes it swallow the
rest of the file into one rejected "line" cut at 10,000 characters, and some files it refuses
whole. So such a file is read again here, by physical line, and every physical line ends up in
exactly one place:

* a line (or a run of lines joined by a properly closed quoted field) with the header's number of
  fields is a record: it goes on to the ordinary value rules, stored or quarantined;
* any other line is quarantined on its own, with its full text and a reason; reading resumes at the
  next physical line. A quote that is not closed within ``MAX_RECORD_LINES`` lines (or by the end
  of the file) quarantines only the line that opened it.

Physical lines end at LF, CRLF or a lone CR (as DuckDB's line reader splits them); blank lines
are not rows. Nothing is written to disk: the recovered rows go to a temp table in batches.

``recover_jsonl`` reads a JSON Lines file holding a lone carriage return (or mixing CRLF and LF
line ends) the same way, but ends lines at LF only, as JSON Lines does: DuckDB's reader would end
them at the CR too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np

from promoguard.ingest.readers import MAX_LINE_BYTES, _open_bytes, csv_field_limit
from promoguard.sqlbuild import sql

#: A quoted field may hold line breaks, but a quote still open after this many lines is taken as
#: never closed (the line that opened it is quarantined; reading resumes on the next line). This
#: bounds the work per line, so a file of unbalanced quotes costs linear, not quadratic, time.
MAX_RECORD_LINES = 1000
BATCH_ROWS = 50_000
#: The text kept of a line over the line-size limit (its line number points at the rest).
OVERSIZE_RAW = 65536
#: How much of a JSON Lines file ``recover_jsonl`` splits into lines at a time.
LF_READ_BYTES = 8 * 1024 * 1024
BOM = b"\xef\xbb\xbf"


@dataclass
class Recovered:
    rows: int  # records and quarantined lines written to the temp table
    first_line: int  # the physical line of the first data row


def _lines(path: Path) -> Iterator[tuple[str, bool]]:
    """(line, oversize) per physical line, line ends kept; text decoded with surrogateescape.

    A line longer than MAX_LINE_BYTES characters is returned cut at that length with oversize
    True, and the rest of it is skipped.
    """
    with _open_bytes(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
        while line := text.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES and not line.endswith(("\n", "\r")):
                head = line[:MAX_LINE_BYTES]
                while (more := text.readline(MAX_LINE_BYTES)) and not more.endswith(("\n", "\r")):
                    pass
                yield head, True
            else:
                yield line, False


def _strip_eol(line: str) -> str:
    return line.rstrip("\r\n") if line.endswith(("\n", "\r")) else line


def _shown(text: str) -> str:
    """Text fit for a VARCHAR: bytes that were not UTF-8 shown as \\xNN, never replaced silently."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _valid(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


class _Unclosed(Exception):
    """The lines end inside a quoted field."""


def _parse(lines: list[str]) -> list[str] | None:
    """The fields of the one record made of ``lines``; None when they are not one whole record.

    Raises ``_Unclosed`` when the lines end inside a quoted field (more lines may close it).
    """
    try:
        parsed = list(csv.reader(lines, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise _Unclosed from None
        return None
    return parsed[0] if len(parsed) == 1 else None


def _fit(fields: list[str] | None, width: int) -> list[str] | None:
    """``fields`` without empty fields past the header's width.

    DuckDB's strict reader (the fast path) reads ``P1,Name,`` and ``P1,Name,,`` as two fields:
    trailing delimiters that add only empty fields hold nothing. This path does the same, so a
    line's fate never depends on whether another line of its file sent the file down here."""
    if fields is None or len(fields) <= width or any(fields[width:]):
        return fields
    return fields[:width]


def _reason(fields: list[str] | None, width: int, unclosed: bool) -> str | None:
    if fields is None:
        why = (
            "unterminated quotes (a quote opened on this line is not closed)"
            if unclosed
            else "invalid quoting (after a closing quote comes a comma or the line end)"
        )
    elif len(fields) > width:
        why = f"too many columns (expected {width} fields, found {len(fields)})"
    elif len(fields) < width:
        why = f"missing columns (expected {width} fields, found {len(fields)})"
    else:
        return None
    return f"unreadable line: {why}"


def records(path: Path, width: int) -> Iterator[tuple[int, list[str] | None, str | None, str]]:
    """(physical line, fields, reason, raw text) for each data row of the file.

    ``reason`` is set when the line is quarantined whole (``raw`` then holds the line); ``fields``
    is None when the line could not be split into fields at all.
    The header (the first non-blank line or record) is skipped. A valid cell may be longer than
    the csv module's default limit (131,072 characters): the limit is raised while this reads.
    """
    with csv_field_limit():
        yield from _records(path, width)


def _records(path: Path, width: int) -> Iterator[tuple[int, list[str] | None, str | None, str]]:
    source = _lines(path)
    pending: list[tuple[str, bool]] = []  # lines read ahead for a closing quote, given back
    number = 0  # physical line number of the last line taken
    header = True

    def take() -> tuple[str, bool] | None:
        nonlocal number
        item = pending.pop(0) if pending else next(source, None)
        if item is not None:
            number += 1
        return item

    while (item := take()) is not None:
        line, oversize = item
        start = number
        if oversize:
            reason = f"unreadable line: line size over maximum ({MAX_LINE_BYTES} bytes)"
            if not header:
                yield start, None, reason, _shown(line[:OVERSIZE_RAW])
            header = False
            continue
        if not _strip_eol(line).strip("\ufeff"):
            continue  # a blank line is not a row
        if not _valid(line):
            if not header:
                reason = "unreadable line: invalid encoding (bytes that are not UTF-8)"
                yield start, None, reason, _shown(_strip_eol(line))
            header = False
            continue
        group, unclosed = [line], False
        try:
            fields = _parse(group)
            if not header:
                fields = _fit(fields, width)
        except _Unclosed:
            # Read ahead for the closing quote. The record is kept only when it closes within
            # MAX_RECORD_LINES lines and has the header's width; otherwise only this first line
            # is refused and the lines read ahead are read again as lines of their own.
            fields, unclosed = None, True
            ahead: list[tuple[str, bool]] = []
            while len(ahead) < MAX_RECORD_LINES:
                nxt = pending.pop(0) if pending else next(source, None)
                if nxt is None:
                    break
                ahead.append(nxt)
                if nxt[1] or not _valid(nxt[0]):
                    break
                group.append(nxt[0])
                if nxt[0].count('"') % 2 == 0:
                    continue  # the quote state did not change on this line
                try:
                    fields = _parse(group)
                except _Unclosed:
                    continue
                if not header:
                    fields = _fit(fields, width)
                break
            if fields is not None and (header or len(fields) == width):
                unclosed = False
                number += len(group) - 1
                pending[:0] = ahead[len(group) - 1 :]
            else:
                fields = None
                group = [line]
                pending[:0] = ahead
        if header:
            header = False
            continue
        text = _strip_eol("".join(group))
        yield start, fields, _reason(fields, width, unclosed), text


def recover_csv(
    con: duckdb.DuckDBPyConnection, path: Path, header: list[str], table: str
) -> Recovered:
    """Write every data line of the CSV at ``path`` (with ``header``) into temp table ``table``.

    Columns: ``_line`` (physical line of the row's first line), ``_pre`` (why the line is refused,
    NULL for a record), ``_rawsrc`` (the line's text, only for refused lines), ``_precol`` (the
    first missing column of a short line), ``c0`` .. ``c<width-1>``.
    """
    import pyarrow as pa  # only a damaged file needs it: a clean ingest does not pay its import

    width = len(header)
    names = ["_line", "_pre", "_rawsrc", "_precol", *(f"c{i}" for i in range(width))]
    schema = pa.schema([("_line", pa.int64()), *((n, pa.string()) for n in names[1:])])
    cols = ", ".join(f'"{n}" {"BIGINT" if n == "_line" else "VARCHAR"}' for n in names)
    con.execute(f"CREATE TEMP TABLE {table} ({cols})")
    batch: list[list[object]] = [[] for _ in names]
    rows = 0
    first = 0

    def flush() -> None:
        if not batch[0]:
            return
        arrays = [pa.array(c, f.type) for c, f in zip(batch, schema, strict=True)]
        con.from_arrow(pa.Table.from_arrays(arrays, schema=schema)).insert_into(table)
        for c in batch:
            c.clear()

    for line, fields, reason, raw in records(path, width):
        first = first or line
        batch[0].append(line)
        batch[1].append(reason)
        batch[2].append(raw if reason else None)
        short = fields is not None and reason is not None and len(fields) < width
        batch[3].append(header[len(fields)] if short else None)
        values = fields if reason is None else [None] * width
        for i, v in enumerate(values):
            batch[4 + i].append(v)
        rows += 1
        if len(batch[0]) >= BATCH_ROWS:
            flush()
    flush()
    return Recovered(rows=rows, first_line=first or 2)


def _lf_batches(path: Path) -> Iterator[tuple[bytes, np.ndarray, np.ndarray]]:
    """The LF-separated lines of a file in batches: (data, starts, stops), line i being
    ``data[starts[i]:stops[i]]`` without its LF (or CRLF); a lone CR stays inside its line.

    The file is read in ``LF_READ_BYTES`` pieces and split by numpy, so no line costs a Python
    object. A line longer than MAX_LINE_BYTES is kept only in part (at least MAX_LINE_BYTES + 1
    bytes, so it is still seen to be over the limit) and the rest of it is skipped. The last line
    may have no LF after it (a CR that ends it stays). A byte-order mark at the start is dropped.
    """
    carry = b""  # the start of a line whose LF is still to come
    skipping = False  # inside the rest of a line over the limit
    first = True
    with _open_bytes(path) as fh:
        while True:
            chunk = fh.read(LF_READ_BYTES)
            end = not chunk
            if skipping and not end:
                at = chunk.find(b"\n")
                if at < 0:
                    continue
                chunk, skipping = chunk[at + 1 :], False
            data = carry + chunk if carry else chunk
            if first and not end and len(data) < len(BOM):
                carry = data  # too short to tell a byte-order mark yet
                continue
            if first:
                data, first = data.removeprefix(BOM), False
            arr = np.frombuffer(data, np.uint8)
            ends = np.flatnonzero(arr == 10)
            if end and len(data) and (not len(ends) or ends[-1] != len(data) - 1):
                ends = np.append(ends, len(data))  # the end of the file ends the last line
            if len(ends):
                starts = np.concatenate(([0], ends[:-1] + 1))
                stops = ends.copy()
                crlf = (stops > starts) & (stops < len(data))  # a CR before a real LF
                crlf[crlf] = arr[stops[crlf] - 1] == 13
                stops[crlf] -= 1
                yield data, starts, stops
            if end:
                return
            carry = data[ends[-1] + 1 :] if len(ends) else data
            if len(carry) > MAX_LINE_BYTES + 1:  # a line over the limit, its LF still to come
                yield carry, np.array([0]), np.array([len(carry)])
                carry, skipping = b"", True


def _line_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(text, reason, shown text) of one line: text None when the line is empty or refused."""
    if len(body) > MAX_LINE_BYTES:
        reason = f"unreadable line: line size over maximum ({MAX_LINE_BYTES} bytes)"
        return None, reason, _shown(body[:OVERSIZE_RAW].decode("utf-8", "surrogateescape"))
    try:
        return body.decode("utf-8") or None, None, None
    except UnicodeDecodeError:
        reason = "unreadable line: invalid encoding (bytes that are not UTF-8)"
        return None, reason, _shown(body.decode("utf-8", "surrogateescape"))


def recover_jsonl(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> int:
    """Write every LF-separated line of the JSON Lines file at ``path`` into temp table ``table``.

    DuckDB's line reader also ends a line at a lone carriage return, which would cut one object
    (a CR is whitespace between JSON tokens) into two refused "lines" and miscount the file (and
    at the CR of a CRLF, after a first line ended by LF); this reader ends lines at LF only, as
    JSON Lines says, and takes the CR of a CRLF as part of the line end.

    Columns: ``_line`` (the physical line), ``j`` (its text; NULL when empty or refused),
    ``_pre`` (why the line is refused whole: bytes that are not UTF-8, a line over the size
    limit) and ``_rawsrc`` (its text, for those). Returns the number of lines. A batch of lines
    is handed to Arrow as one buffer and checked as UTF-8 in one call; only a batch holding a
    bad line is looked at line by line.
    """
    import pyarrow as pa  # only such a file needs it: a clean ingest does not pay its import
    import pyarrow.compute as pc

    con.execute(sql("DROP TABLE IF EXISTS {table}", table=table))
    con.execute(
        sql(
            "CREATE TEMP TABLE {table} (_line BIGINT, j VARCHAR, _pre VARCHAR, _rawsrc VARCHAR)",
            table=table,
        )
    )
    number = 0  # lines written so far
    for data, starts, stops in _lf_batches(path):
        count = len(starts)
        lengths = stops - starts
        text = None
        if not (lengths > MAX_LINE_BYTES).any():
            # The lines' bytes side by side (their line ends left out) behind Arrow offsets.
            # Between two lines lies the first one's LF, or CR LF: leave those bytes out.
            keep = np.ones(stops[-1], bool)
            keep[stops[:-1]] = False
            keep[stops[:-1][starts[1:] - stops[:-1] == 2] + 1] = False
            values = np.frombuffer(data, np.uint8)[: stops[-1]][keep]
            offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
            lines = pa.LargeBinaryArray.from_buffers(
                pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(values)]
            )
            with suppress(pa.ArrowInvalid):  # bytes that are not UTF-8 somewhere in the batch
                valid = lines.cast(pa.large_string())
                text = pc.if_else(pc.equal(lengths, 0), pa.scalar(None, pa.large_string()), valid)
        if text is not None:
            refused = [pa.nulls(count, pa.string()), pa.nulls(count, pa.string())]
        else:  # a bad line in the batch: each line on its own
            fields = [_line_fields(data[a:b]) for a, b in zip(starts, stops, strict=True)]
            text = pa.array([f[0] for f in fields], pa.string())
            refused = [pa.array([f[i] for f in fields], pa.string()) for i in (1, 2)]
        numbers = pa.array(np.arange(number + 1, number + count + 1, dtype=np.int64))
        batch = pa.Table.from_arrays(
            [numbers, text, *refused], names=["_line", "j", "_pre", "_rawsrc"]
        )
        con.from_arrow(batch).insert_into(table)
        number += count
    return number
