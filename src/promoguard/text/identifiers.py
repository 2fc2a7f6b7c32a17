"""Personal identifiers found in normalised text, validated rather than merely shaped right.

- mainland resident identity numbers (GB 11643-1999): 18 characters, a real province code, a birth
  date that exists and is not in the future, and the ISO 7064 MOD 11-2 check character;
- mainland mobile numbers: 11 digits in a number segment that carriers have been allocated;
- bank card numbers: 16 to 19 digits, an issuer prefix of a card scheme, and the Luhn check;
- e-mail addresses: a sane local part, a domain of valid labels and a known top-level domain;
- after their cue only (护照, passport; HKID, 身份证): passport numbers (no check character of their
  own) and Hong Kong identity card numbers (their check character; kind ``resident_id``).

The finders run on text from ``promoguard.text.normalise`` (lower case, half-width), which is why
the ID pattern looks for a lower-case ``x``. Digits may be grouped by spaces or hyphens.

The same numbers written to slip past a filter are read as a person reads them (``_loose``), and
validated the same way:

- digits read out in Chinese numerals, lower case, 大写 or 幺 for 1 (一三九…, 壹叁捌…, 幺八零…),
  alone or mixed with Arabic digits (一五零68四七29三1): a run that is exactly the number;
- groups split by a dot, an underscore, a symbol or emoji (191.0638.4752, 130🌟9362🌟7518), and
  grouped in other ways than the strict patterns know (310115 1995 0428 2368, 1101-0519-8511-
  2220-35, 6212 2630 8023 0025 313): every group at least two digits (three for a card; an ID's
  last may be one digit and its x), and a mobile only as 3-4-4, 3-8 or 7-4;
- a mobile split by anything but spaces and hyphens (a letter, a dot, a symbol, emoji:
  159x8630y1724, 139.1234.5678) only as 3-4-4 and after a phone cue (手机, 号码, 电话, tel, a word
  of its own): without one, 150x2000x1800 is a size, 159·2026·0101 a code, 139.2026.0115 a
  version, 159✅1299✅1599 three prices, and 139.12345678 a decimal;
- a number read out in stated segments (前三位139，中间1728，后四位4563; 身份证前六位…): the
  first segment's length as stated, each later one after its own label (中间, 后四位, 最后, 末…);
- an e-mail address with ``@`` or the dot written out (name#qq.com, name 艾特 163 点 com, name at
  gmail dot com), only after a mailbox cue (邮箱, email) a few characters before it.
"""

from __future__ import annotations

import bisect
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


#: the worked examples GB 11643-1999 itself prints (a woman born 1949-12-31 in Beijing's Chaoyang
#: district; a man born 1880 in Chaozhou, older than any living person): they are quoted wherever
#: the number's rules are explained, and stand for no one
PUBLISHED_SAMPLE_IDS = frozenset({"11010519491231002x", "440524188001010014"})
#: local parts of an organisation's functional mailbox (service@, kefu@, hr@): a role, whoever
#: reads it, not a person
ROLE_MAILBOXES = frozenset(
    [
        "service",
        "services",
        "support",
        "info",
        "contact",
        "contactus",
        "sales",
        "admin",
        "hr",
        "kefu",
        "help",
        "hello",
        "marketing",
        "business",
        "bd",
        "pr",
        "press",
        "media",
        "office",
        "noreply",
        "no-reply",
        "feedback",
        "webmaster",
        "postmaster",
        "billing",
        "invoice",
        "finance",
        "jobs",
        "job",
        "careers",
        "recruit",
        "recruitment",
        "zhaopin",
        "hezuo",
        "tousu",
        "shouhou",
        "cs",
        "customerservice",
        "customercare",
        "partner",
        "partners",
        "cooperation",
        "enquiry",
        "enquiries",
        "inquiry",
        "orders",
        "order",
        "shop",
        "store",
        "legal",
        "privacy",
        "abuse",
        "security",
        "ir",
        "team",
    ]
)
#: public mail services where anyone registers a mailbox of any name (kefu@qq.com may be a
#: person's): a role name there says nothing
FREE_MAIL_DOMAINS = frozenset(
    [
        "qq.com",
        "vip.qq.com",
        "foxmail.com",
        "163.com",
        "vip.163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "189.cn",
        "wo.cn",
        "aliyun.com",
        "tom.com",
        "21cn.com",
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.com.hk",
        "yahoo.com.tw",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "mail.com",
        "yandex.com",
        "naver.com",
    ]
)


def not_personal(ident: Identifier) -> str | None:
    """Why a validated identifier relates to no natural person (PIPL Art. 4: personal information
    is information about an identified or identifiable natural person), or None: a standard's own
    printed sample number, or an organisation's functional mailbox on its own domain."""
    if ident.kind == "resident_id":
        v = re.sub(r"[^0-9x]", "", _digits(ident.value.lower()))
        if v in PUBLISHED_SAMPLE_IDS:
            return "the sample number GB 11643-1999 prints"
    if ident.kind == "email":
        local, _, domain = ident.value.lower().partition("@")
        if local in ROLE_MAILBOXES and domain not in FREE_MAIL_DOMAINS:
            return "an organisation's functional mailbox on its own domain"
    return None


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

KINDS = ("resident_id", "mobile", "bank_card", "email", "passport")


def find_identifiers(
    text: str,
    kinds: tuple[str, ...] = KINDS,
    runs: bool | None = None,
    cues: bool | None = None,
) -> list[Identifier]:
    """Valid identifiers in normalised ``text``; an ID number is never also read as a card.

    ``runs``: whether ``text`` may hold a run of digits only a loose reading finds (eleven
    digits, Arabic or Chinese, with something but Arabic digits among them), when the caller
    knows (the first pass counts them for a whole batch); None: looked for here. ``cues``:
    whether it holds a word a cue reading needs (``has_cue``), when the caller has looked."""
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
    if runs is None:
        runs = _MAYBE_LOOSE.search(text) is not None
    if cues is None:
        cues = has_cue(text)
    if runs or cues:
        # the strict finds and the ID-shaped numbers set aside stand: a loose reading only adds
        taken += [(i.start, i.end) for i in found]
        found += _loose(text, kinds, taken, runs)
    found.sort(key=lambda i: (i.start, i.end))
    return found


# -- numbers written to slip past a filter ---------------------------------------------------------

#: digits as they are read out in Chinese: the ordinary numerals, the financial (大写) forms in both
#: scripts, 〇/零 for 0 and 幺 for 1 (as 1 is said on the phone). 两, 十, 百 are not digits of a
#: number read out, so a run holding one is no identifier (两百, 十一月).
ZH_DIGITS = {
    **dict.fromkeys("〇零", "0"),
    **dict.fromkeys("一壹幺", "1"),
    **dict.fromkeys("二贰貳", "2"),
    **dict.fromkeys("三叁參", "3"),
    **dict.fromkeys("四肆", "4"),
    **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆陸", "6"),
    **dict.fromkeys("七柒", "7"),
    **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖", "9"),
}
_ZH_TO_DIGIT = str.maketrans(ZH_DIGITS)
#: a digit, Arabic or Chinese (a character class body)
DIGIT_CHARS = "0-9" + "".join(ZH_DIGITS)
_D = f"[{DIGIT_CHARS}]"
#: what may stand between the groups of a number: one separator or symbol (✅, ★), a run of
#: emoji, or one letter (kept only for a mobile after a phone cue)
_SYMBOLS = "\u2190-\u2bff"
_ASTRAL_EMOJI = "\U0001f000-\U0001faff"
_GAP = f"(?:[ .·_\\-]|[{_SYMBOLS}]|[{_ASTRAL_EMOJI}]+|[a-z])"
#: a maximal run of digit groups (and an ID's final x), not inside a longer word or number
_LOOSE_RUN = re.compile(
    f"(?<![{DIGIT_CHARS}a-z+])(?:\\+?86[ .-]?)?{_D}++(?:{_GAP}{_D}++)*+x?+(?![{DIGIT_CHARS}a-z])"
)
#: the cheap gate: eleven digits, at most one other character between two of them (what every
#: loose number but one split by a run of emoji holds; such a text is never cheap anyway)
MAYBE_LOOSE = f"{_D}(?:(?:[{_ASTRAL_EMOJI}]++|[^{DIGIT_CHARS}\x1e])?+{_D}){{10,}}"
_MAYBE_LOOSE = re.compile(MAYBE_LOOSE)
#: eleven digits held together only by what may stand between groups: what every loose run
#: that can be read as an identifier holds (no lookbehind: searched within a longer run)
LOOSE_SHAPE = re.compile(f"{_D}(?:(?:[ .·_\\-{_SYMBOLS}a-z]|[{_ASTRAL_EMOJI}]+)?{_D}){{10}}")
_GROUP = re.compile(_D + "+")
#: a phone cue a few characters before a number split by letters, dots or symbols (a word of its
#: own: not the phone of iphone, nor the 号码 of 型号码)
_PHONE_CUE = re.compile(
    r"(?:手机|电话|(?<!型)号码|联系方式|(?<![a-z])(?:tel|phone|mobile|cell|whatsapp))[^0-9]{0,6}$"
)
#: groupings a mobile is written in (3-4-4, 3-8, 7-4, or whole)
_MOBILE_GROUPS = {(11,), (3, 4, 4), (3, 8), (7, 4)}


def _digits(s: str) -> str:
    return s.translate(_ZH_TO_DIGIT)


class _Spans:
    """Spans taken, asked whether a span overlaps one in O(log n) (a long chat export holds
    thousands of numbers: a pairwise look was quadratic, 5.8 s for 200k characters)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self.starts = [a for a, _ in spans]
        self.reach: list[int] = []  # the furthest end among the spans up to each
        far = -1
        for _, b in spans:
            far = max(far, b)
            self.reach.append(far)

    def overlaps(self, s: int, e: int) -> bool:
        i = bisect.bisect_left(self.starts, e) - 1
        return i >= 0 and self.reach[i] > s


def _loose(
    text: str, kinds: tuple[str, ...], taken_list: list[tuple[int, int]], runs: bool = True
) -> list[Identifier]:
    """The identifiers written in the looser ways of the module docstring (canonical digits as
    the value), none overlapping ``taken_list`` (what the strict patterns found or set aside);
    runs of digits only with ``runs``, the readings that need a cue (前三位, 邮箱) always."""
    out: list[Identifier] = []
    taken = _Spans(taken_list)
    for m in _LOOSE_RUN.finditer(text) if runs else ():
        s, e = m.span()
        # one group of Arabic digits is what the strict patterns read (order numbers, mostly)
        if (m.group().isascii() and m.group().isdigit()) or taken.overlaps(s, e):
            continue
        ident = _read_run(text, m, kinds)
        if ident is not None:
            out.append(ident)
    if "位" in text:
        out += [i for i in _segments(text, kinds) if not taken.overlaps(i.start, i.end)]
    if "email" in kinds and _MAIL_CUE.search(text):
        out += _spelt_emails(text)
    if "passport" in kinds and ("护照" in text or "passport" in text):
        out += [
            Identifier("passport", m.start(1), m.end(1), m.group(1))
            for m in _PASSPORT.finditer(text)
        ]
    if "resident_id" in kinds:
        out += _hk_ids(text, taken)
    return out


def _read_run(text: str, m: re.Match[str], kinds: tuple[str, ...]) -> Identifier | None:
    run = m.group()
    body = run[:-1] if run.endswith("x") else run
    prefixed = body.startswith(("+86", "86")) and len(_digits(body)) > 11
    if prefixed:
        body = re.sub(r"^\+?86[ .-]?", "", body)
    found = _GROUP.findall(body)
    groups = [len(g) for g in found]
    digits = _digits("".join(found))
    letters = bool(re.search("[a-z]", body))
    plain = not letters and all(c.isdigit() or c in " -" for c in run.lstrip("+"))
    if run.endswith("x"):
        # only an ID ends in x (its last group may be one digit and the x: 3101 1519 9504 2810 4x)
        if "resident_id" in kinds and not letters and min(groups[:-1], default=2) >= 2:
            v = digits + "x"
            if valid_resident_id(v):
                return Identifier("resident_id", m.start(), m.end(), v)
        return None
    n = len(digits)
    if n == 11 and "mobile" in kinds and valid_mobile(digits):
        shape = tuple(groups)
        gaps = set(_GROUP.sub("", body))
        if letters or not gaps <= set(" -"):
            # split by letters, dots, symbols or emoji: 3-4-4 after a phone cue only (a code
            # 159·2026·0101, a version 139.2026.0115, three prices 159✅1299✅1599, a size
            # 150x2000x1800 read the same; 3-8 and 7-4 with a dot are decimals: 139.12345678)
            cue = _PHONE_CUE.search(text, max(0, m.start() - 12), m.start())
            if shape == (3, 4, 4) and cue and gaps != {"x"}:
                return Identifier("mobile", m.start(), m.end(), digits)
            return None
        if shape in _MOBILE_GROUPS and not (plain and shape == (11,)):
            return Identifier("mobile", m.start(), m.end(), digits)
        return None
    if letters or prefixed:
        return None
    if n == 18 and min(groups) >= 2 and _id_shaped(digits):
        # an ID-shaped number is never a card (see find_identifiers)
        if "resident_id" in kinds and valid_resident_id(digits):
            return Identifier("resident_id", m.start(), m.end(), digits)
        return None
    if 16 <= n <= 19 and "bank_card" in kinds and min(groups) >= 3 and valid_card(digits):
        return Identifier("bank_card", m.start(), m.end(), digits)
    return None


# -- a number read out in stated segments -------------------------------------------------------

_ZH_COUNT = {
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_COUNT = r"(?:[2-9]|1[0-2]|[二两三四五六七八九十]|十[一二])"
#: the words a first segment is announced with: each is a key of the first pass
#: (``SEGMENT_CUES``), so a text holding a segmented number is always read closely
SEGMENT_CUES = tuple(
    f"前{n}位" for n in [*"23456789", "10", "11", "12", *"二两三四五六七八九十", "十一", "十二"]
)
_FIRST_SEGMENT = re.compile(rf"前({_COUNT})位(?:数字|号码|数)?(?:是|为|:)?({_D}+)")
#: a later segment: its label (中间, 后四位, 最后, 末四位 …), then its digits, a few characters on
_NEXT_SEGMENT = re.compile(
    rf"[,，、;；: ]{{0,2}}(?:然后|接着|再|和)?(?:是)?"
    rf"(中间|之后|接下来|后面|后|最后|末|尾号?)(?:({_COUNT})位)?(?:数字|号码|数|是|为|:){{0,2}}({_D}+x?)"
)


def _count(s: str | None) -> int | None:
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if s.startswith("十") and len(s) == 2:
        return 10 + _ZH_COUNT[s[1]]
    return _ZH_COUNT[s]


def _segments(text: str, kinds: tuple[str, ...]) -> list[Identifier]:
    out: list[Identifier] = []
    for m in _FIRST_SEGMENT.finditer(text):
        if len(m.group(2)) != _count(m.group(1)):
            continue
        digits, end = _digits(m.group(2)), m.end()
        for _ in range(3):
            n = _NEXT_SEGMENT.match(text, end)
            if n is None:
                break
            stated = _count(n.group(2))
            if stated is not None and stated != len(n.group(3)):
                break
            digits += _digits(n.group(3))
            end = n.end()
            if end < len(text) and re.match(f"{_D}|[a-z]", text[end]) or "x" in digits[:-1]:
                break
            kind = _segment_kind(digits, kinds)
            if kind is not None:
                out.append(Identifier(kind, m.start(), end, digits))
                break
    return out


def _segment_kind(digits: str, kinds: tuple[str, ...]) -> str | None:
    if len(digits) == 11 and "mobile" in kinds and valid_mobile(digits):
        return "mobile"
    if len(digits) == 18 and "resident_id" in kinds and valid_resident_id(digits):
        return "resident_id"
    if 16 <= len(digits) <= 19 and "bank_card" in kinds and valid_card(digits):
        return "bank_card" if not (len(digits) == 18 and _id_shaped(digits)) else None
    return None


# -- an e-mail address spelt out ---------------------------------------------------------------

#: the mailbox cues a spelt address must follow (keys of the first pass: ``MAIL_CUES``)
MAIL_CUES = ("邮箱", "信箱", "email", "e-mail")
_MAIL_CUE = re.compile("邮箱|信箱|e-?mail")
_SPELT_EMAIL = re.compile(
    r"(?<![a-z0-9._%+-])([a-z0-9][a-z0-9._%+-]{0,63}) ?(?:#|艾特|\(at\)|\[at\]|(?<= )at(?= )) ?"
    r"([a-z0-9-]+(?: ?(?:\.|点|\(dot\)|\[dot\]|(?<= )dot(?= )) ?[a-z0-9-]+)+)(?![a-z0-9-])"
)
_SPELT_DOT = re.compile(r" ?(?:\.|点|\(dot\)|\[dot\]|dot) ?")


def _spelt_emails(text: str) -> list[Identifier]:
    out = []
    for m in _SPELT_EMAIL.finditer(text):
        if not _MAIL_CUE.search(text, max(0, m.start() - 12), m.start()):
            continue
        # "at" as a word stands for @ only with the dots spelt too: 'alerts at www.acme.com' and
        # 'sign up at news.acme.com' are a website
        if re.search(r"(?<=[ ])at(?=[ ])", m.group()) and "." in m.group(2):
            continue
        value = f"{m.group(1)}@{_SPELT_DOT.sub('.', m.group(2))}"
        if valid_email(value):
            out.append(Identifier("email", m.start(), m.end(), value))
    return out


# -- numbers a cue names: passports, Hong Kong identity cards ------------------------------------

#: the words a passport number follows (keys of the first pass): a passport number has no check
#: character of its own, so only the cue makes 1-2 letters and 7-8 digits one (E12345678, EA1234567,
#: K12345678; nine digits for a US one)
PASSPORT_CUES = ("护照", "passport")
_PASSPORT = re.compile(
    r"(?:护照|passport)(?:号码|证号|号| ?no\.?| ?number)?[ :：#]{0,3}"
    r"(?<![a-z0-9])([a-z]{1,2}[0-9]{7,8}|[0-9]{9})(?![a-z0-9])"
)
#: the words a Hong Kong identity card number follows (keys of the first pass)
HKID_CUES = ("hkid", "身份证", "identity card", "id card")
_HKID = re.compile(
    r"(?:hkid|身份证|identity card|id card)(?:号码|号| ?no\.?| ?number)?[ :：#]{0,3}"
    # (the check character in brackets, or glued: 'a123456 3' is a code and a count)
    r"(?<![a-z0-9])([a-z]{1,2})([0-9]{6})(?: ?[(（]([0-9a])[)）]|([0-9a]))(?![a-z0-9])"
)
#: every word a cue reading needs (segments, spelt addresses, passports, HK identity cards)
_CUE_GATE = re.compile("位|邮箱|信箱|e-?mail|护照|passport|hkid|身份证|identity card|id card")


def has_cue(text: str) -> bool:
    """Whether normalised ``text`` holds a word one of the cue readings needs."""
    return _CUE_GATE.search(text) is not None


def valid_hkid(letters: str, digits: str, check: str) -> bool:
    """A Hong Kong identity card number's check character (a weighted sum modulo 11; a single
    letter counts as a space, 36, before it)."""
    values = [36] * (2 - len(letters)) + [ord(c) - ord("a") + 10 for c in letters.lower()]
    total = sum(
        v * w for v, w in zip(values + [int(d) for d in digits], range(9, 1, -1), strict=True)
    )
    want = (11 - total % 11) % 11
    return check.lower() == ("a" if want == 10 else str(want))


def _hk_ids(text: str, taken: _Spans) -> list[Identifier]:
    if not ("hkid" in text or "身份证" in text or "card" in text):
        return []
    out = []
    for m in _HKID.finditer(text):
        check = m.group(3) or m.group(4)
        s, e = m.start(1), m.end()
        if valid_hkid(m.group(1), m.group(2), check) and not taken.overlaps(s, e):
            out.append(Identifier("resident_id", s, e, m.group(1) + m.group(2) + check))
    return out
