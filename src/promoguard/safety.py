"""Outputs that never harm: untrusted text made safe for terminals, spreadsheets and HTML, files
holding personal data kept owner-only, and outputs that never overwrite inputs.

Everything PromoGuard reads is untrusted (platform exports, merchant names, review texts, file
names in a folder someone sent). These helpers are the one place that says what "safe" means for
each place such text ends up; ``docs/security.md`` lists where each is used and how it is tested.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from promoguard.errors import PromoGuardError

#: C0 controls (but not tab/newline, handled by the callers' line rules), DEL and C1 controls:
#: ESC starts ANSI sequences that can clear a screen or fake output; CR overwrites a line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Unicode bidirectional controls (embeddings, overrides, isolates, marks): U+202E can make
#: "exe.txt" read as "txt.exe" and reorder a merchant's name on screen.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI}]")
#: A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, as the
#: start of another cell or line): ``=cmd|' /C calc'!A0`` runs a program in some spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _codepoint(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group(0)):04X}>"


def terminal_safe(text: object) -> str:
    """``text`` fit to print on a terminal: control characters and bidi controls shown escaped.

    ``\\x1b[2J`` becomes the visible text ``\\x1b[2J``; U+202E becomes ``<U+202E>``; tab and
    newline become ``\\t`` and ``\\n`` (a name is printed on one line).
    """
    s = str(text)
    s = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), s)
    s = s.replace("\t", "\\t").replace("\n", "\\n")
    return _BIDI.sub(_codepoint, s)


def bidi_safe(text: str) -> str:
    """``text`` (HTML or plain) with every bidi control replaced by a visible ``<U+XXXX>`` marker.

    Applied to the whole rendered report: no template needs a bidi control, so replacing all of
    them cannot break markup, and no value can reorder what is shown around it.
    """
    return _BIDI.sub(lambda m: f"&lt;U+{ord(m.group(0)):04X}&gt;", text)


def spreadsheet_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'`` (shown as text).

    Only text is touched: a number ``-5`` stays a number; the text ``-5`` becomes ``'-5``
    (OWASP's advice for CSV injection).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) passed through spreadsheet_cell."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(spreadsheet_cell, na_action="ignore").astype(object)
    out.columns = [spreadsheet_cell(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8", **options: object) -> Path:
    """Write ``frame`` as a spreadsheet-safe CSV, owner-only (it may hold personal data).

    Every CSV PromoGuard writes goes through here (``encoding="utf-8-sig"`` for a BOM that
    spreadsheets use to tell UTF-8); ``options`` go to ``DataFrame.to_csv``.
    """
    with private_file(path, encoding=encoding) as fh:
        spreadsheet_safe(frame).to_csv(fh, index=False, **options)  # type: ignore[arg-type]
    return path


class private_file:  # noqa: N801 -- used like open()
    """Open ``path`` for writing text, created with mode 0600 (an existing file is made 0600)."""

    def __init__(self, path: Path, mode: str = "w", encoding: str | None = "utf-8") -> None:
        self.path, self.mode, self.encoding = Path(path), mode, encoding

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to a file that already exists
        kwargs = {"newline": ""} if "b" not in self.mode else {}
        enc = None if "b" in self.mode else self.encoding
        self.fh = os.fdopen(fd, self.mode, encoding=enc, **kwargs)
        return self.fh

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def make_private(path: Path) -> Path:
    """Make a file written by a library we do not control owner-only."""
    os.chmod(path, 0o600)
    return path


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return a.samefile(b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


#: the first bytes of a SQLite database, and DuckDB's magic at offset 8 of its file
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"


def is_database_file(path: Path) -> bool:
    """Whether ``path`` is an existing SQLite or DuckDB database file (read from its header)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:  # absent, a folder, unreadable: nothing to lose here
        return False
    return head.startswith(_SQLITE_MAGIC) or head[8:12] == _DUCKDB_MAGIC


def _inside(path: Path, folder: Path) -> bool:
    try:
        return folder.is_dir() and path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def refuse_overwrite(out: Path, *inputs: tuple[str, Path | None]) -> None:
    """Refuse an output path that is one of the inputs (same file, by any path or link), a file
    inside an input folder (a lake's manifest or part files, a pack's YAML), a DuckDB store's
    write-ahead log, or any existing database file (a case database, another store).

    ``report --store v.duckdb --out v.duckdb`` would replace the evidence with HTML;
    ``report --store lake --out lake/_manifest.json`` the whole lake; ``--out cases.db`` the case
    database and its audit trail.
    """
    out = Path(out)
    for name, src in inputs:
        if src is None or str(src) == ":memory:":
            continue
        src = Path(src)
        if _same(out, src) or (src.is_file() and _same(out, Path(f"{src}.wal"))):
            raise PromoGuardError(
                f"--out {out} is the {name} itself; refusing to overwrite an input "
                "(choose another path)"
            )
        if _inside(out, src):
            raise PromoGuardError(
                f"--out {out} is inside the {name} {src}; refusing to write among an input's "
                "files (choose a path outside it)"
            )
    if is_database_file(out):
        raise PromoGuardError(
            f"--out {out} is a database (a store or a case database); refusing to overwrite it "
            "(choose another path)"
        )
