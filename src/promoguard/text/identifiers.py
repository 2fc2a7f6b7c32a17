"""Personal identifiers found in normalised text, validated rather than merely shaped right.

- mainland resident identity numbers (GB 11643-1999): 18 characters, a real province code, a birth
  date that exists and is not in the future, and the ISO 7064 MOD 11-2 check character;
- mainland mobile numbers: 11 digits in a number segment that carriers have been allocated;
- bank card numbers: 16 to 19 digits, an issuer prefix of a card scheme, and the Luhn check;
- e-mail addresses: a sane local part, a domain of valid labels and a known top-level domain.

The finders run on text from ``promoguard.text.normalise`` (lower case, half-width), which is why
the ID pattern looks for a lower-case ``x``. Digits may be grouped by spaces or hyphens.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10x98765432"
#: first two digits of a mainland (and HK/MO/TW-resident permit) identity number
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
#: mobile segments: the numbering plan gives 13x-19x to mobile service. Segments not yet in use
#: (154, 179, ...) are allocated over time, and a number shared in a chat is personal data either
#: way, so the whole range counts; the 11 digits must stand alone (not inside a longer number).
MOBILE_PREFIXES = frozenset(f"1{a}{b}" for a in range(3, 10) for b in range(10))
#: issuer prefixes by card length: 3 AmEx/JCB/Diners, 4 Visa, 5 Mastercard, 6 UnionPay/Discover;
#: 17 to 19 digits are only issued under UnionPay (62), JCB (35), Visa (4, 19 digits) and 6 (19)
CARD_PREFIXES: dict[int, tuple[str, ...]] = {
    16: ("3", "4", "5", "6"),
    17: ("62",),
    18: ("62", "35"),
    19: ("62", "4", "6"),
}
TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "cn",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "io",
        "co",
        "me",
        "tv",
        "cc",
        "top",
        "xyz",
        "vip",
        "shop",
        "online",
        "site",
        "store",
        "app",
        "dev",
        "ai",
        "uk",
        "de",
        "fr",
        "jp",
        "kr",
        "hk",
        "tw",
        "mo",
        "sg",
        "my",
        "au",
        "nz",
        "ca",
        "us",
        "eu",
        "ru",
        "it",
        "es",
        "nl",
        "be",
        "ch",
        "at",
        "se",
        "no",
        "dk",
        "fi",
        "pl",
        "cz",
        "pt",
        "br",
        "mx",
        "ar",
        "in",
        "id",
        "th",
        "vn",
        "ph",
        "ie",
        "il",
        "tr",
        "za",
        "ae",
        "sa",
    ]
)


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def valid_resident_id(value: str, today: dt.date | None = None) -> bool:
    """A GB 11643 18-character identity number with a valid region, birth date and check."""
    v = value.replace(" ", "").replace("-", "").lower()
    if len(v) != 18 or not v[:17].isdigit() or v[17] not in "0123456789x":
        return False
    if v[:2] not in PROVINCES:
        return False
    try:
        born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > (today or dt.date.today()):
        return False
    return id_check_char(v[:17]) == v[17]


def _id_shaped(value: str) -> bool:
    v = value.replace(" ", "").replace("-", "")
    if v[:2] not in PROVINCES:
        return False
    try:
        dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return True


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def valid_card(value: str) -> bool:
    d = re.sub(r"[ -]", "", value)
    prefixes = CARD_PREFIXES.get(len(d))
    return d.isdigit() and prefixes is not None and d.startswith(prefixes) and luhn_ok(d)


def valid_mobile(value: str) -> bool:
    d = re.sub(r"[ +-]", "", value)
    if d.startswith("86") and len(d) == 13:
        d = d[2:]
    return len(d) == 11 and d.isdigit() and d[:3] in MOBILE_PREFIXES


_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def valid_email(value: str) -> bool:
    if value.count("@") != 1:
        return False
    local, domain = value.lower().split("@")
    if not local or len(local) > 64 or local[0] == "." or local[-1] == "." or ".." in local:
        return False
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1] not in TLDS:
        return False
    return all(_LABEL.match(label) for label in labels)


@dataclass(frozen=True)
class Identifier:
    kind: str  # resident_id | mobile | bank_card | email
    start: int  # in the normalised text
    end: int
    value: str


_EDGE_L = r"(?<![0-9a-z])"
_EDGE_R = r"(?![0-9a-z])"
RESIDENT_ID = re.compile(
    _EDGE_L
    + r"[1-8][0-9]{5}[ -]?(?:18|19|20)[0-9]{2}[01][0-9][0-3][0-9][ -]?[0-9]{3}[0-9x]"
    + _EDGE_R
)
MOBILE = re.compile(_EDGE_L + r"(?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}" + _EDGE_R)
CARD = re.compile(_EDGE_L + r"[3-6][0-9]{3}(?:[ -]?[0-9]{4}){2}[ -]?[0-9]{4,7}" + _EDGE_R)
EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_HAS_DIGITS = re.compile(r"[0-9]{4}")

KINDS = ("resident_id", "mobile", "bank_card", "email")


def find_identifiers(text: str, kinds: tuple[str, ...] = KINDS) -> list[Identifier]:
    """Valid identifiers in normalised ``text``; an ID number is never also read as a card."""
    found: list[Identifier] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    if _HAS_DIGITS.search(text):
        if "resident_id" in kinds or "bank_card" in kinds:
            for m in RESIDENT_ID.finditer(text):
                # ID-shaped (region and birth date) is never read as a card, even with a wrong
                # check character: a mistyped ID is not a bank card
                if _id_shaped(m.group()):
                    taken.append(m.span())
                if valid_resident_id(m.group()) and "resident_id" in kinds:
                    found.append(Identifier("resident_id", m.start(), m.end(), m.group()))
        if "bank_card" in kinds:
            for m in CARD.finditer(text):
                if valid_card(m.group()) and free(*m.span()):
                    taken.append(m.span())
                    found.append(Identifier("bank_card", m.start(), m.end(), m.group()))
        if "mobile" in kinds:
            for m in MOBILE.finditer(text):
                if valid_mobile(m.group()) and free(*m.span()):
                    found.append(Identifier("mobile", m.start(), m.end(), m.group()))
    if "email" in kinds and "@" in text:
        for m in EMAIL.finditer(text):
            if valid_email(m.group()):
                found.append(Identifier("email", m.start(), m.end(), m.group()))
    found.sort(key=lambda i: (i.start, i.end))
    return found
