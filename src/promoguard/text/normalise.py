"""Normalise untrusted text so that filter-dodging spellings match, and map offsets back.

What normalising undoes, in order:

1. NFKC and case folding, so full-width ``ＶＸ``, ``Ｖ信`` and ``ＢＥＳＴ`` read as ``vx``, ``v信``,
   ``best`` (one C-level ``str.translate`` with a table built once for the Basic Multilingual Plane);
   in the same table, traditional characters of the lexicons' terms read as simplified
   (``國家級`` as ``国家级``) and curly apostrophes as ``'``;
2. emoji hearts used for the letter V (``❤信``, ``加💗``) read as ``v``;
3. zero-width characters, variation selectors and the enclosing keycap (5️⃣ is 5) are dropped;
   so are emoji slipped between the characters of a word one by one (直🔥降🔥一🔥百 is 直降一百:
   three or more characters, each alone between emoji), while an emoji beside a longer word
   stays a break (袜子🔥弹🔥软 is not 子弹; 最🔥好 is TEXT001's own evasion pattern);
4. separators slipped between Chinese characters (``最*好``, ``微 信``, ``最.好``, ``加 V``) are dropped.
   Only runs touching a Han character go: spaces between English words stay, so word boundaries
   still mean something.

The normalised text keeps a way back: ``Normalised.span(start, end)`` returns the original offsets
of a normalised span, so evidence quotes what the text really says.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

#: A stand-in for characters to drop; removed with the separators so offsets are tracked once.
_DROP = "\x00"

#: Invisible characters inserted to split a word for a filter but not for a reader.
ZERO_WIDTH = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c"
    "\u206d\u206e\u206f\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09"
    "\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"
    # the enclosing keycap: 5️⃣ (5, a variation selector, U+20E3) is a 5 drawn in a box (打5⃣️折)
    "\u20e3"
)

#: Hearts stand in for "V" (微信 is "V信"; "加❤" is "加V").
HEARTS = "\u2661\u2665\u2764\u2763\u2765\U0001f493\U0001f494\U0001f495\U0001f496\U0001f497\U0001f498\U0001f499\U0001f49a\U0001f49b\U0001f49c\U0001f49d\U0001f49e\U0001f5a4\U0001f90d\U0001f90e\U0001f9e1"

#: Characters slipped between the characters of a word to dodge a filter (after NFKC).
SEPARATORS = " \t\r\n*.·•‧∙⋅・-_|/\\~^#`'\"“”‘’、=\u3000…⋯"
#: Chinese punctuation kept as written (NFKC would make it ASCII): it is sentence punctuation, not
#: a dodge, and leaving it alone keeps most Chinese text out of the slow mapping path.
KEEP = "！（），：；？\u3000…⋯"

#: Traditional characters read as their simplified forms (國家級 is 国家级, 降血壓 is 降血压,
#: 治療 is 治疗): the traditional forms of the characters the built-in lexicons' terms are written
#: with, and only forms never used in simplified text (so no 乾, 著 or 覆). A user's own
#: lexicon may be written in either script: its terms are read through the same table.
TRADITIONAL = (
    "萬專業產僅儀價優會內兒關軍農減幾擊創別製務勵醫單衛衞壓廚發髮隻臺檯颱後聽噴迴國圖場壺處備復複"
    "頭獎嬰寶對導塵巔帶庫彈強徹憶總癒搶攝敵斷無時顯曬術機殺權桿極槍櫃標檢稜歡氣測漲點燒獨獵現電"
    "暢療癢監禮竊筆係繫紅級線終繞絕網緻薦藥褲見記設證評話賬貨購費賴贈轉達過運進選遙針鋼鑽鉛"
    "銬銷錯間隊際險頂領顆馬馳"
)
SIMPLIFIED = (
    "万专业产仅仪价优会内儿关军农减几击创别制务励医单卫卫压厨发发只台台台后听喷回国图场壶处备复复"
    "头奖婴宝对导尘巅带库弹强彻忆总愈抢摄敌断无时显晒术机杀权杆极枪柜标检棱欢气测涨点烧独猎现电"
    "畅疗痒监礼窃笔系系红级线终绕绝网致荐药裤见记设证评话账货购费赖赠转达过运进选遥针钢钻铅"
    "铐销错间队际险顶领颗马驰"
)

#: Curly and modifier apostrophes read as the ASCII one (world’s best is world's best).
APOSTROPHES = "\u2018\u2019\u02bc\u2032"

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A run of separators between a Han character and a Han character or ASCII letter/digit (either
# order), or any run of dropped characters.
_SEP_CLASS = re.escape(SEPARATORS)
# Written to start with the separator class, so the regex engine skips ahead to separators fast.
_S = f"[{_SEP_CLASS}{_DROP}]"
_REMOVABLE = re.compile(
    rf"{_S}(?:(?<=[{_HAN}]{_S}){_S}*(?=[{_HAN}a-z0-9])"
    rf"|(?<=[a-z0-9]{_S}){_S}*(?=[{_HAN}])"
    rf"|(?<={_DROP}){_DROP}*)"
)


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    """BMP characters whose NFKC + case fold differs from themselves (built once, ~50 ms)."""
    table: dict[int, str] = {}
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        out = unicodedata.normalize("NFKC", ch).casefold()
        if out != ch:
            table[cp] = out
    for cp in range(ord("A"), ord("Z") + 1):
        table[cp] = chr(cp + 32)
    for trad, simp in zip(TRADITIONAL, SIMPLIFIED, strict=True):
        table[ord(trad)] = simp
    for ch in APOSTROPHES:
        table[ord(ch)] = "'"
    for ch in ZERO_WIDTH:
        table[ord(ch)] = _DROP
    for ch in HEARTS:
        table[ord(ch)] = "v"
    for ch in KEEP:
        table.pop(ord(ch), None)
    return table


@lru_cache(maxsize=1)
def _relevant() -> re.Pattern[str]:
    """Characters that ``str.lower`` alone does not fold as the table does."""
    cps = sorted(cp for cp, out in _table().items() if out != chr(cp).lower())
    ranges: list[str] = []
    start = prev = cps[0]
    for cp in cps[1:] + [-1]:
        if cp == prev + 1:
            prev = cp
            continue
        ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(prev)) if prev > start else ""))
        start = prev = cp
    return re.compile("[" + "".join(ranges) + "]")


def _fold_char(ch: str) -> str:
    """One character through the same mapping (for characters outside the BMP too)."""
    if ch in HEARTS:
        return "v"
    if ch in ZERO_WIDTH:
        return _DROP
    mapped = _table().get(ord(ch))
    if mapped is not None:
        return mapped
    if ord(ch) > 0xFFFF:
        out = unicodedata.normalize("NFKC", ch).casefold()
        return out
    return ch


@dataclass(frozen=True)
class Normalised:
    """A normalised text and the way back to the original's offsets."""

    original: str
    text: str
    #: per normalised character, its original index (None: the identity before separator removal)
    _index: list[int] | None = field(default=None, repr=False)
    #: (normalised position, cumulative removed count) after each removed run
    _cuts: list[int] = field(default_factory=list, repr=False)
    _cut_sums: list[int] = field(default_factory=list, repr=False)

    def position(self, i: int) -> int:
        """Original offset of normalised offset ``i`` (``i == len(text)`` maps to the end)."""
        if i >= len(self.text):
            return len(self.original)
        k = bisect.bisect_right(self._cuts, i)
        j = i + (self._cut_sums[k - 1] if k else 0)
        return self._index[j] if self._index is not None else j

    def joined(self, start: int, end: int) -> bool:
        """Whether nothing was removed between normalised offsets ``start`` <= ``end`` (no space
        or separator the writer left there: 音质最佳 续航 joins into one run)."""
        return self.position(end) - self.position(start) == end - start

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the normalised ``[start, end)`` (end exclusive)."""
        if end <= start:
            s = self.position(start)
            return s, s
        return self.position(start), self.position(end - 1) + 1


def _expand(text: str) -> tuple[str, list[int]]:
    """Slow path for texts where folding changes the length (…, ㎏, ß): map char by char."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        mapped = _fold_char(ch)
        out.append(mapped)
        index.extend([i] * len(mapped))
    return "".join(out), index


def normalise(text: str) -> Normalised:
    """Normalise ``text`` (see the module docstring); never raises on odd input."""
    folded = text.translate(_table())
    index: list[int] | None = None
    if len(folded) != len(text) or _ASTRAL.search(text) is not None:
        # astral letters (𝐁𝐄𝐒𝐓) fold only through NFKC, character by character
        folded, index = _expand(text)
    if index is not None and _EMOJI.search(folded) is not None:
        folded = _drop_interleaved(folded)
    cuts: list[int] = []
    sums: list[int] = []
    if _DROP in folded or _needs_separator_pass(folded):
        pieces: list[str] = []
        last = 0
        removed = 0
        for m in _REMOVABLE.finditer(folded):
            pieces.append(folded[last : m.start()])
            removed += m.end() - m.start()
            last = m.end()
            cuts.append(m.start() - (removed - (m.end() - m.start())))
            sums.append(removed)
        if cuts:
            pieces.append(folded[last:])
            folded = "".join(pieces)
    return Normalised(text, folded, index, cuts, sums)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
#: pictographs outside the BMP (🔥💥👉): a text holding one always takes the full mapping path
#: (``special``), so dropping them changes nothing the first pass selects. BMP symbols (✅⭐✨⚡)
#: are left alone: the first pass reads their texts as they are. Not 🔟 or 💯: they say a number.
_EMOJI_CLASS = "\U0001f000-\U0001f4ae\U0001f4b0-\U0001f51e\U0001f520-\U0001faff"
_EMOJI = re.compile(f"[{_EMOJI_CLASS}]")
#: a word spelt one character at a time between emoji: 直🔥降🔥一🔥百, 加🔥微🔥信, 1🔥3🔥8…: a stretch
#: of three or more characters, each standing alone (an emoji gap, a separator, punctuation or
#: the text's edge on either side of it). A character joined to a word on one side is a bullet
#: list's item, not a letter of a dodge: 袜子🔥弹🔥软🔥透气 keeps its breaks (子弹 is no word in
#: it), and so does 最🔥好 (TEXT001 reads that one as the evasion it is). The gaps are possessive
#: (``*+``, ``++``): a long run of emoji that ends without a character costs one pass, not a
#: search of every way to split it.
_W = f"[{_HAN}a-z0-9]"
_PAD = f"[{_SEP_CLASS}{_DROP}]*+"
_GAP = f"{_PAD}(?:[{_EMOJI_CLASS}]{_PAD})++"
_INTERLEAVED = re.compile(f"(?<!{_W}){_W}(?:{_GAP}{_W}){{2,}}(?!{_W})")


def _drop_interleaved(folded: str) -> str:
    """``folded`` with the emoji of each interleaved run read as dropped characters."""
    return _INTERLEAVED.sub(lambda m: _EMOJI.sub(_DROP, m.group()), folded)


_SEP_NEAR_HAN = re.compile(rf"[{_HAN}][{_SEP_CLASS}]|[{_SEP_CLASS}][{_HAN}]")


def _needs_separator_pass(folded: str) -> bool:
    return _SEP_NEAR_HAN.search(folded) is not None


def fold_plain(text: str) -> str:
    """Case and separators only: what ``normalise`` gives for text without special characters.

    For a quick first pass over many texts at once; texts where ``special`` finds something need
    ``normalise`` itself.
    """
    return _REMOVABLE.sub("", text.lower())


@lru_cache(maxsize=1)
def _special() -> re.Pattern[str]:
    return re.compile(f"{_relevant().pattern}|[\U00010000-\U0010ffff]")


@lru_cache(maxsize=1)
def special_table() -> np.ndarray:
    """Per code point, whether ``special`` finds it (a lookup table for many texts at once)."""
    table = np.zeros(0x110000, dtype=bool)
    for cp, out in _table().items():
        if out != chr(cp).lower():
            table[cp] = True
    table[0x10000:] = True
    return table


def special(text: str) -> Iterator[int]:
    """Offsets of characters that ``fold_plain`` would not fold as ``normalise`` does (full-width
    letters, zero-width characters, hearts, anything outside the BMP)."""
    for m in _special().finditer(text):
        yield m.start()
