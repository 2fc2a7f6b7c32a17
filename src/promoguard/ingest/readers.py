"""Finding the table files in a folder, telling their encoding, and describing how DuckDB reads them.

Python never holds a table in memory: it looks at a small sample (the header line, the first
64 KiB for the encoding) and, only for a non-UTF-8 file, re-encodes it to UTF-8 in 1 MiB chunks
into a temporary file. DuckDB's own readers then parse the file.
"""

from __future__ import annotations

import codecs
import csv
import errno
import gzip
import io
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import duckdb
from charset_normalizer import from_bytes

from promoguard.errors import IngestError, first_line
from promoguard.model import TABLE_NAMES
from promoguard.sqlbuild import Sql, literal, sql

#: File name endings we read, and the format each one means.
SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
}
SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
#: Encodings charset-normalizer may pick for us; anything else is read as UTF-8 and its bad lines
#: are quarantined (we do not guess a Western code page for a file of unknown origin).
DETECTABLE = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "hz": "gb18030"}
#: A line DuckDB will read; a longer one is quarantined with a reason.
MAX_LINE_BYTES = 16 * 1024 * 1024
#: The csv module's field size limit while we parse: its default (131,072 characters) would refuse
#: a long but valid cell (a review text, a description) that DuckDB's reader stores. 2**31 - 1 is
#: the largest value every platform's C ``long`` holds; no readable record comes near it.
CSV_FIELD_LIMIT = 2**31 - 1
_field_limit_lock = threading.Lock()
_field_limit_users = 0  # readers now parsing with the raised limit
_field_limit_before = csv.field_size_limit()  # the limit they found


@dataclass
class SourceFile:
    """One table file found in the folder, and what we learned about it before reading."""

    table: str
    path: Path  # the file as found
    fmt: str  # csv | jsonl | parquet
    encoding: str = "utf-8"
    read_path: Path | None = None  # the UTF-8 file DuckDB reads (a temp copy when transcoded)
    temp_fd: int | None = None  # the open, unnamed temp file behind read_path (see private_temp)
    columns: dict[str, str] = field(default_factory=dict)  # canonical column -> source column
    source_columns: list[str] = field(default_factory=list)  # every column name the file has
    extra_columns: list[str] = field(default_factory=list)
    #: JSON Lines with a lone CR or mixed line ends: the temp table of its lines (see ``prepare``)
    lines: str | None = None
    #: JSON Lines keys of model columns that some line holds twice (that line is quarantined)
    doubled_keys: list[str] = field(default_factory=list)

    @property
    def readable(self) -> Path:
        return self.read_path or self.path

    def close(self) -> None:
        """Release the transcoded copy (an unnamed file: closing it frees it)."""
        if self.temp_fd is not None:
            os.close(self.temp_fd)
            self.temp_fd = None


def private_temp(tmp: Path, name: str) -> tuple[int | None, Path]:
    """A temp file for a transcoded copy that no exit can leave behind: (fd, path to read it by).

    On Linux the file is made with O_TMPFILE: it never has a name in any folder, DuckDB reads it
    through ``/proc/self/fd/N``, and the kernel frees it when the process ends, even when killed.
    Elsewhere it is a named file in the ingest's private (0700) temp folder, removed with it on
    any normal exit.
    """
    flag = getattr(os, "O_TMPFILE", None)
    proc = Path("/proc/self/fd")
    if flag is not None and proc.is_dir():
        try:
            fd = os.open(tmp, flag | os.O_RDWR, 0o600)
            return fd, proc / str(fd)
        except OSError:  # a file system without O_TMPFILE support
            pass
    return None, tmp / name


def table_file_name(name: str) -> tuple[str, str] | None:
    """``orders.csv.gz`` -> (``orders``, ``csv``); None when the name is not a table file. The
    name is read in any case, as its column names are (``ORDERS.CSV``: a Windows export)."""
    lower = name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            stem = lower[: -len(suffix)]
            if stem in TABLE_NAMES:
                return stem, SUFFIXES[suffix]
            return None
    return None


def discover(src: Path) -> tuple[list[SourceFile], list[str]]:
    """The table files in ``src`` (sorted by name) and the names of everything else (ignored)."""
    if not src.exists():
        raise IngestError(f"no such folder: {src}")
    if not src.is_dir():
        raise IngestError(f"not a folder: {src}")
    found: list[SourceFile] = []
    ignored: list[str] = []
    for entry in sorted(src.iterdir(), key=lambda p: p.name):
        match = table_file_name(entry.name) if entry.is_file() else None
        if match is None:
            ignored.append(entry.name)
        else:
            found.append(SourceFile(table=match[0], path=entry, fmt=match[1]))
    if not found:
        known = ", ".join(f"{t}.csv" for t in TABLE_NAMES[:3])
        raise IngestError(f"no canonical table file in {src} (expected names like {known}, ...)")
    return found, ignored


def _open_bytes(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


@contextmanager
def file_errors(path: Path) -> Iterator[None]:
    """Damaged files (not gzip, a cut-short gzip, undecodable text) as one-line ``IngestError``s.

    A truncated gzip raises EOFError, which the command line would otherwise print as a bare
    "Aborted."; nothing of such a file is ingested (the rest of it is gone, and a partial table
    would pass for a whole one).
    """
    try:
        yield
    except gzip.BadGzipFile as exc:
        raise IngestError(f"{path.name}: not a gzip file ({exc}); nothing was ingested") from None
    except (EOFError, zlib.error) as exc:
        raise IngestError(
            f"{path.name}: the gzip data is damaged or cut short ({exc}); nothing was ingested"
        ) from None
    except UnicodeError as exc:
        raise IngestError(f"{path.name}: cannot be decoded: {exc}; nothing was ingested") from None


def check_encoding(name: str) -> str:
    """The codec ``name`` as given, refused in one line when it is not a text encoding.

    ``base64``, ``rot13``, ``zlib_codec`` and friends are Python codecs but transforms, not
    character sets: they cannot decode a CSV file.
    """
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise IngestError(f"unknown encoding {name!r}") from None
    if not getattr(info, "_is_text_encoding", True):
        raise IngestError(f"{name!r} is not a text encoding (it is a transform such as base64)")
    return name


def _looks_utf16(sample: bytes) -> bool:
    """A BOM-less UTF-16 sample: most of its ASCII text has a NUL byte beside every character."""
    return len(sample) >= 4 and sample.count(0) >= len(sample) // 4


def detect_encoding(path: Path) -> str:
    """The encoding of a text file, judged from its first 64 KiB (a BOM wins; then UTF-8)."""
    with file_errors(path), _open_bytes(path) as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_utf16(sample):
        raise IngestError(
            f"{path.name}: looks like UTF-16 without a byte-order mark; name its byte order "
            "with --encoding utf-16-le or --encoding utf-16-be"
        )
    try:
        # final=False: a sample cut inside a multi-byte character is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample).best()
    guess = best.encoding.lower().replace("-", "").replace("_", "") if best else ""
    if guess in DETECTABLE:
        return DETECTABLE[guess]
    # A GBK export with a few corrupt bytes confuses whole-sample detection; judge by line.
    return "gb18030" if _mostly_gb(sample) else "utf-8"


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _mostly_gb(sample: bytes) -> bool:
    """Whether at least 90% of the sample's non-ASCII lines are GB18030 and not UTF-8."""
    lines = [line for line in sample.split(b"\n")[:-1] if not line.isascii()]
    gb = sum(1 for line in lines if _decodes(line, "gb18030") and not _decodes(line, "utf-8"))
    return bool(lines) and gb >= 0.9 * len(lines)


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def transcode(path: Path, encoding: str, out: Path, fd: int | None = None) -> None:
    """Re-encode ``path`` to UTF-8 at ``out`` in chunks.

    Bytes that are not valid in ``encoding`` are written through unchanged (surrogateescape), so
    the line holding them is still invalid UTF-8 and DuckDB quarantines it; nothing is replaced.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
    target = os.fdopen(os.dup(fd), "wb") if fd is not None else out.open("wb")
    with _open_bytes(path) as src, target as dst:
        while chunk := src.read(CHUNK_BYTES):
            dst.write(decoder.decode(chunk).encode("utf-8", "surrogateescape"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8", "surrogateescape"))


@contextmanager
def csv_field_limit() -> Iterator[None]:
    """Parse with the csv module's field size limit raised to ``CSV_FIELD_LIMIT``; then restore it.

    The limit is process-global. Users are counted under a lock: the first one in raises it, the
    last one out puts back the value it found, so two ingests in threads (or two readers alive
    in one thread) never lower it under each other's feet. The lock is held only to count, not
    while parsing.
    """
    global _field_limit_users, _field_limit_before
    with _field_limit_lock:
        if _field_limit_users == 0:
            _field_limit_before = csv.field_size_limit()
            csv.field_size_limit(max(_field_limit_before, CSV_FIELD_LIMIT))
        _field_limit_users += 1
    try:
        yield
    finally:
        with _field_limit_lock:
            _field_limit_users -= 1
            if _field_limit_users == 0:
                csv.field_size_limit(_field_limit_before)


def _csv_header(path: Path) -> list[str]:
    with _open_bytes(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        try:
            with csv_field_limit():
                return next(csv.reader(text))
        except StopIteration:
            return []
        except csv.Error as exc:
            raise IngestError(f"{path.name}: cannot read the header line: {exc}") from None


def lines_reader(path: Path, params: list[object], rejects: tuple[str, str] | None = None) -> Sql:
    """DuckDB's reader of a JSON Lines file as one text column ``j``, one row per line.

    Not strict: a stray carriage return must not stop the read (every line is kept anyway).
    With ``rejects`` the lines it refuses (bad bytes, over-long) go to those tables; without,
    they are skipped. It ends a line at a lone CR too: a file holding one (or mixing CRLF and
    LF line ends) is read by ``recover.recover_jsonl`` instead (see ``needs_lf_reader``; ``prepare`` is handed it).
    """
    params.append(str(path))
    keep = (
        sql(
            "store_rejects=true, rejects_table={table}, rejects_scan={scan}",
            table=literal(rejects[0]),
            scan=literal(rejects[1]),
        )
        if rejects
        else Sql("ignore_errors=true")
    )
    return sql(
        "read_csv(?, columns={{'j': 'VARCHAR'}}, header=false, auto_detect=false, "
        "delim='\\x01', quote='', escape='', strict_mode=false, max_line_size={max_line}, "
        "buffer_size={buffer}, {keep})",
        max_line=MAX_LINE_BYTES,
        buffer=4 * MAX_LINE_BYTES,
        keep=keep,
    )


def needs_lf_reader(path: Path) -> bool:
    """Whether DuckDB's line reader would split a JSON Lines file at other places than its LFs.

    It ends a line at a lone CR too (a CR is whitespace between JSON tokens, so one object
    became two refused "lines"), and in a file whose first line ends in LF, each later CRLF ends
    a line and then an empty one. So: a CR that is not the first half of a CRLF, or CRLF and
    bare LF line ends in one file. Read in 1 MiB chunks at C speed (one count per chunk of a file
    without CR): a clean file costs one read.
    """
    carry = b""
    crlf = bare_lf = False
    with _open_bytes(path) as fh:
        while chunk := fh.read(CHUNK_BYTES):
            data = carry + chunk
            carry = b"\r" if data.endswith(b"\r") else b""  # its LF may start the next chunk
            if carry:
                data = data[:-1]
            crs = data.count(b"\r")
            if not crs:  # the common case: one count, and a look for the first LF
                bare_lf = bare_lf or b"\n" in data
            else:
                pairs = data.count(b"\r\n")
                if crs != pairs:
                    return True
                crlf = True
                bare_lf = bare_lf or data.count(b"\n") > pairs
            if crlf and bare_lf:
                return True
    return False  # a CR that ends the file splits nothing


#: what DuckDB says when a write fails for want of disk (or a disk that went read-only, or a
#: database a failed write invalidated): the store's problem, never the source's
_DISK_FAILURES = (
    "Could not write file",
    "No space left on device",
    "Disk quota exceeded",
    "Read-only file system",
)
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def disk_failed(exc: BaseException) -> bool:
    """Whether ``exc`` (a DuckDB error) is a failed write of the store or its working files (a
    full disk): the batch is fine and would go in on a mended disk. A source that cannot be read
    is not this (DuckDB says "Could not read" or names what it could not parse)."""
    if isinstance(exc, duckdb.FatalException):
        return True
    text = str(exc)
    if "database has been invalidated" in text:
        return True
    # only errors of the input-output kind (IOException, TransactionException): an error that
    # quotes a sender's text (a value, a name) holding these words must stay the batch's, or
    # that batch would stay claimed and stop watch every time it is tried
    return isinstance(exc, duckdb.OperationalError) and any(s in text for s in _DISK_FAILURES)


def _jsonl_keys(con: duckdb.DuckDBPyConnection, source: SourceFile) -> tuple[list[str], set[str]]:
    """Column names of a JSON Lines file: every key of every line that is an object.

    Returns the keys (those of the first object line in its order, then the others by name)
    and the keys some line holds twice. One pass over the file by DuckDB: each line's key list,
    then only the distinct lists are unnested (a file has few). Lines that are not objects, or
    that the reader refuses, have no keys (they are quarantined when staged).
    """
    params: list[object] = []
    if source.lines is not None:
        relation = sql("(SELECT _line, j FROM {lines})", lines=source.lines)
        first_order = Sql("ORDER BY _line ")
    else:
        relation = lines_reader(source.readable, params, None)
        first_order = Sql("")
    keys = Sql("try(json_keys(j))")
    try:
        rows = con.execute(
            sql(
                """SELECT k, max(n) > 1 FROM (
                  SELECT id, k, count(*) AS n FROM (
                    SELECT id, unnest(ks) AS k FROM (
                      SELECT row_number() OVER () AS id, ks
                      FROM (SELECT DISTINCT {keys} AS ks FROM {relation})))
                  GROUP BY id, k)
                GROUP BY k ORDER BY k""",
                keys=keys,
                relation=relation,
            ),
            params,
        ).fetchall()
        first = con.execute(
            sql(
                "SELECT {keys} FROM {relation} WHERE len({keys}) > 0 {order}LIMIT 1",
                keys=keys,
                relation=relation,
                order=first_order,
            ),
            params,
        ).fetchone()
    except duckdb.Error as exc:
        if disk_failed(exc):  # the pass spilled to a full disk: the store's problem (load.py)
            raise
        raise IngestError(
            f"{source.path.name}: cannot be read: {first_line(exc)}; nothing was ingested"
        ) from None
    ordered = list(dict.fromkeys(first[0])) if first else []
    seen = set(ordered)
    ordered += [k for k, _ in rows if k not in seen]
    return ordered, {k for k, twice in rows if twice}


def _parquet_columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    try:
        rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise IngestError(f"{path.name}: not a readable Parquet file ({first_line(exc)})") from None
    return [r[0] for r in rows]


def prepare(
    con: duckdb.DuckDBPyConnection,
    source: SourceFile,
    wanted: list[str],
    tmp: Path,
    encoding: str | None,
    lines_table: str = "_pg_lines",
    *,
    read_lines: Callable[[duckdb.DuckDBPyConnection, Path, str], int],
) -> None:
    """Settle the encoding (transcoding when needed) and map the file's columns to ``wanted``.

    Column names are matched after trimming and lower-casing; a name the model does not know is
    an extra column (ignored, reported). Two names for one column (``name`` and ``NAME``) refuse
    the file. A JSON Lines key of a column given twice in one line costs that line only: it is
    listed in ``source.doubled_keys`` and the staging query quarantines each line holding it twice.

    JSON Lines are LF-separated. DuckDB's line reader also ends a line at a lone CR (and at the
    CR of a CRLF in a file whose first line ends in LF), so such a file has its lines read by
    Python into the temp table ``lines_table`` instead (``source.lines``; the caller drops it)
    by ``read_lines`` (``recover.recover_jsonl``, handed in: that module reads files through
    this one, so this one does not import it).
    """
    doubled: set[str] = set()
    if source.fmt in ("csv", "jsonl"):
        source.encoding = check_encoding(encoding) if encoding else detect_encoding(source.path)
        if not _is_utf8(source.encoding):
            source.temp_fd, source.read_path = private_temp(tmp, f"{source.path.name}.utf8")
            with file_errors(source.path):
                transcode(source.path, source.encoding, source.read_path, source.temp_fd)
        if source.fmt == "csv":
            with file_errors(source.path):
                header = _csv_header(source.readable)
        else:
            with file_errors(source.path):
                if needs_lf_reader(source.readable):
                    source.lines = lines_table  # set first: a failed read is cleaned up too
                    read_lines(con, source.readable, lines_table)
            header, doubled = _jsonl_keys(con, source)
    else:
        source.encoding = "parquet"
        header = _parquet_columns(con, source.path)
    source.source_columns = header
    for name in header:
        canonical = name.strip().lower()
        if canonical in wanted:
            if canonical in source.columns:
                raise IngestError(
                    f"{source.path.name}: column {canonical!r} appears twice "
                    f"(as {source.columns[canonical]!r} and {name!r})"
                )
            if name in doubled:
                source.doubled_keys.append(name)
            source.columns[canonical] = name
        else:
            source.extra_columns.append(name)
