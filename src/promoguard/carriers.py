"""Carrier names: the spellings exports and carrier feeds use for one carrier, read as one code.

A shipment and its carrier's scans meet on ``(carrier, tracking_no)``. Platform exports name the
carrier in their own way (a Taobao export ``顺丰速运``, a JD one ``京东快递``), carrier feeds in
theirs (Cainiao's ``SF``, kuaidi100's ``shunfeng``, an English feed ``SF Express``): read as
written, a parcel's scans never met its shipment, and SHIP001 reported every such parcel as never
picked up. Ingest stores a known spelling as its carrier's code (``lexicons/carriers/carriers.csv``: one row
per carrier, its code, names and the aliases real feeds use, with their source) and keeps an unknown
one as written; the ingest summary says what it read as what.

A spelling is compared by its key (:func:`key`): NFKC (full-width letters as ASCII), case-folded,
runs of blanks as one (``SF Express`` = ``sf  express`` = ``ＳＦ　Ｅｘｐｒｅｓｓ``). Punctuation is
kept: without it, Shippo's ``la_poste`` (France) would be kuaidi100's ``laposte`` (Senegal), and
Cainiao's ``JT`` (极兔) the brand ``J&T`` that several national companies share. Two carriers
never share a key (a test holds the table to it): a code that means one carrier in one feed and
another in another is left out, not guessed.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from promoguard.errors import PromoGuardError

LEXICON = Path(__file__).with_name("lexicons") / "carriers" / "carriers.csv"
REQUIRED = ("code", "name_zh", "name_en", "aliases", "source")
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class Carrier:
    code: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    source: str


def key(name: str) -> str:
    """What two spellings of one carrier have in common: NFKC, case-folded, blanks trimmed and
    each run of them one space (``ＳＦ　Express`` -> ``sf express``)."""
    return _BLANKS.sub(" ", unicodedata.normalize("NFKC", name).casefold()).strip()


def read(path: Path = LEXICON) -> list[Carrier]:
    """The carriers of a carriers CSV; a malformed file is a one-line error naming the row."""
    carriers: list[Carrier] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(row for row in fh if not row.startswith("#"))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise PromoGuardError(f"{path.name}: missing column(s) {', '.join(missing)}")
        for n, row in enumerate(reader, start=2):
            code = (row["code"] or "").strip()
            if not code:
                raise PromoGuardError(f"{path.name} row {n}: a carrier needs a code")
            aliases = tuple(a.strip() for a in (row["aliases"] or "").split(";") if a.strip())
            carriers.append(
                Carrier(
                    code=code,
                    name_zh=(row["name_zh"] or "").strip(),
                    name_en=(row["name_en"] or "").strip(),
                    aliases=aliases,
                    source=(row["source"] or "").strip(),
                )
            )
    return carriers


def spellings(carrier: Carrier) -> tuple[str, ...]:
    """Every spelling that reads as ``carrier``: its code, names and aliases."""
    names = (carrier.code, carrier.name_zh, carrier.name_en, *carrier.aliases)
    return tuple(n for n in names if n)


def table(carriers: list[Carrier]) -> dict[str, str]:
    """key -> code over every spelling; two carriers sharing a key is an error (not a guess)."""
    out: dict[str, str] = {}
    for c in carriers:
        for name in spellings(c):
            k = key(name)
            if not k:
                raise PromoGuardError(f"carrier {c.code}: the spelling {name!r} has no letters")
            if out.setdefault(k, c.code) != c.code:
                raise PromoGuardError(
                    f"carriers {out[k]} and {c.code} share the spelling {name!r} (key {k!r})"
                )
    return out


@functools.cache
def _codes() -> dict[str, str]:
    return table(read())


def canonical(name: str) -> str:
    """The code of the carrier ``name`` spells, or ``name`` itself when no known carrier does."""
    return _codes().get(key(name), name)
