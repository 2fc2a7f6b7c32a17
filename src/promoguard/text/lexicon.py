"""Lexicons: the project's own lists of terms, each with its check, legal basis and source.

A lexicon is a CSV file (UTF-8, header row) with these columns:

``term``
    the word or phrase as written in the law or in practice (it is normalised before matching);
``code``
    the check it feeds (``TEXT001`` ... ``TEXT006``, ``REVIEW002``) or ``ALLOW`` for an ordinary word
    that contains a banned sequence (最近, 第一次): a hit lying wholly inside an ``ALLOW`` hit is dropped;
``category``
    what kind of term it is inside its check (``superlative``, ``cure``, ``lure``, ``contact_cue``,
    ``urgency``, ...); checks use it to combine cues;
``lang``
    ``zh`` / ``en`` / ``*``;
``severity``
    ``low`` / ``medium`` / ``high`` / ``critical`` (informative; the pack sets the finding's);
``allowed_categories``
    listing categories that may lawfully use the term, separated by ``;`` (a registered medical
    device may state its indications; a tea may not promise a cure);
``legal_basis``
    the rule the term breaks (law and article);
``source``
    where the term comes from (the article's own wording, a regulator's guidance, a seed list).

Users add their own lexicons by pointing the pack at a file (``extra_lexicons: [./mine.csv]``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from promoguard.errors import CheckError

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
COLUMNS = (
    "term",
    "code",
    "category",
    "lang",
    "severity",
    "allowed_categories",
    "legal_basis",
    "source",
)
REQUIRED = ("term", "code", "category")
ALLOW = "ALLOW"


@dataclass(frozen=True)
class Term:
    term: str
    code: str
    category: str
    lang: str = "*"
    severity: str = "medium"
    allowed_categories: frozenset[str] = frozenset()
    legal_basis: str = ""
    source: str = ""
    file: str = ""


def read_lexicon(path: str | Path) -> list[Term]:
    """Read one lexicon CSV; a malformed file is a one-line error naming the file and row."""
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"lexicon {path} not found")
    terms: list[Term] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        # comment lines start with "# " (a term may itself start with "#", as "#1" does)
        reader = csv.DictReader(
            row for row in fh if not (row.startswith("# ") or row.strip() == "#")
        )
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise CheckError(f"lexicon {path.name}: missing column(s) {', '.join(missing)}")
        for n, row in enumerate(reader, start=2):
            term = (row.get("term") or "").strip()
            code = (row.get("code") or "").strip().upper()
            if not term or not code:
                raise CheckError(f"lexicon {path.name} row {n}: term and code are required")
            if row.get(None):  # a value with an unquoted comma: its tail would be lost
                raise CheckError(
                    f"lexicon {path.name} row {n} ({term}): more values than columns; "
                    "quote a value that holds a comma"
                )
            allowed = (row.get("allowed_categories") or "").strip()
            terms.append(
                Term(
                    term=term,
                    code=code,
                    category=(row.get("category") or "").strip(),
                    lang=(row.get("lang") or "*").strip() or "*",
                    severity=(row.get("severity") or "medium").strip() or "medium",
                    allowed_categories=frozenset(
                        c.strip() for c in allowed.split(";") if c.strip()
                    ),
                    legal_basis=(row.get("legal_basis") or "").strip(),
                    source=(row.get("source") or "").strip(),
                    file=path.name,
                )
            )
    return terms


def builtin_files() -> list[Path]:
    return sorted(LEXICON_DIR.glob("*.csv"))


@lru_cache(maxsize=8)
def _load(files: tuple[tuple[str, int, int], ...]) -> tuple[Term, ...]:
    out: list[Term] = []
    for p, _size, _mtime in files:
        out.extend(read_lexicon(p))
    return tuple(out)


def _stamp(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (path, -1, -1)  # read_lexicon says what is wrong with it
    return (path, st.st_size, st.st_mtime_ns)


def load_terms(extra: Iterable[str | Path] | None = None) -> Sequence[Term]:
    """The built-in lexicons plus any extra files (cached per set of files, each by its path,
    size and modification time: a process that scans again, such as ``watch``, reads a lexicon
    edited in place since)."""
    paths = [str(p) for p in builtin_files()]
    paths += [str(Path(p).resolve()) for p in (extra or [])]
    return _load(tuple(_stamp(p) for p in paths))
