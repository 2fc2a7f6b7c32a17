"""The content rules' building blocks over one text: the one pass, lexicon hits, identifiers, and
the few patterns that combine them.

``ContentRules.prepare`` normalises a text once, runs the one Aho-Corasick pass for every lexicon
and validates identifiers when the text has digits or an ``@``; ``prepare_many`` does it for a
batch, skipping texts that cannot raise a finding. Each rule (``promoguard/rules/content/``)
then decides from the prepared text with the functions below:

- :func:`lexicon_hits`: a code's lexicon hits (absolute terms, prohibited items);
- :func:`by_category`: the hits by ``(code, category)`` (claims, lures, cues);
- :func:`handles_after`: an account ID or number right after a contact cue (微信: abc_123);
- :func:`identifier_hits`: validated identifiers of some kinds (mobile, resident ID, card, e-mail);
- :func:`unbased_claims`: urgency, or a price comparison with no base price in its clause or the
  clause before (``直降500`` alone, but not ``原价399，直降100``);
- :func:`rewards_for_reviews`: a ``reward_offer`` (好评返现), a ``review_cue`` followed in the
  same clause by a ``reward_cue``, or the steps of a 好评返现 card around a review word.

It works on plain strings and knows no rule: the checks, the masker and the benchmark share it.
"""

from __future__ import annotations

import functools
import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ahocorasick
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from promoguard.text.identifiers import (
    HKID_CUES,
    LOOSE_SHAPE,
    MAIL_CUES,
    MAYBE_LOOSE,
    PASSPORT_CUES,
    SEGMENT_CUES,
    ZH_DIGITS,
    Identifier,
    find_identifiers,
    has_cue,
)
from promoguard.text.lexicon import ALLOW, Term
from promoguard.text.matcher import Hit, Matcher
from promoguard.text.normalise import (
    _HAN,
    SEPARATORS,
    Normalised,
    fold_plain,
    normalise,
    special_table,
)
from promoguard.text.patterns import CLAUSE_END, clause_start

#: an account ID or number right after a contact cue (微信: abc_123, QQ 12345678)
_HANDLE = re.compile(
    r"[\s:：=]{0,3}(?:(?:id|号码|账号|号|群|是|为)[\s:：=]{0,3}){0,2}"
    r"(?:(?=[-_a-z0-9]*[0-9_])[a-z][-_a-z0-9]{4,19}|[1-9][0-9]{4,11})(?![-_a-z0-9])"
)
_NUM = r"(?:[0-9]+|[一二两三四五六七八九十几]+)"
#: what stock is counted in (最后三单, 还剩5件)
_STOCK_UNIT = r"[单件份组套台瓶箱]"
#: an amount said in Chinese numerals, with its unit (一百多, 两百, 十块: not 一点, 一半, 一家)
_ZH_AMOUNT = r"[一二两三四五六七八九十几]+(?:[百千万]|块|元)"
#: an amount as said live: 200, 1k+, 1.2万, 一百多 (the currency sign before it allowed); digits
#: followed by a measure are not money (省3个小时, 便宜2度电)
#: an amount in digits: 200, 1,299, 1.2万, 2k (the currency sign before it allowed)
_DIGIT_AMOUNT = r"[$£€¥]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?[k千万]?"
_AMOUNT = (
    rf"(?:{_DIGIT_AMOUNT}"
    r"(?![0-9k千万]|[.,][0-9]| ?(?:个|小时|分钟|天|次|倍|年|步|度|斤|公里|寸))"
    rf"|{_ZH_AMOUNT})"
)
#: a number said in English words as well as digits (ends in ten minutes)
_ENUM = r"(?:[0-9]+|a few|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty)"
URGENCY = re.compile(
    # 最后三单, 最后30秒！, 最后一分钟了; 最后一个 only when what follows is not another noun (最后一个了,
    # 最后一个名额: not 最后一个环节, 最后一个款式 — the running order of the stream), and the last
    # minute only as a deadline (not 最后一分钟给大家讲讲售后)
    rf"最后{_NUM}(?:{_STOCK_UNIT}|个(?:名额|了|啦|喽|咯|哦|啊|(?![{_HAN}]))"
    rf"|(?:秒|分钟|小时)(?:了|啦|啊|喽|(?![{_HAN}0-9a-z])))"
    rf"|[仅只就]剩(?:最后)?{_NUM}|还剩(?:最后)?{_NUM}{_STOCK_UNIT}"
    # a price's deadline in minutes: 十分钟后我们就下架, 三分钟之后恢复原价, 一分钟后这个价格就没了
    rf"|{_NUM}分钟(?:后|之后|以后)[^,!?;。，！？；]{{0,8}}?(?:涨价|恢复|下架|改价|价格?就没)"
    r"|错过[^,!?;。，！？；]{0,4}?再等"
    rf"|only (?:like |about |around |maybe )?{_ENUM} left"
    r"|last [0-9]+ (?:units?|items?|pieces?|pairs?|sets?)|[0-9]+ left in stock"
    rf"|(?:deal|price|sale|offer|discount|promo)s?[a-z' ]{{0,12}}?ends? in {_ENUM} "
    r"(?:minutes?|mins?|hours?|seconds?)"
    rf"|(?:for )?the next {_ENUM} (?:minutes?|mins?|hours?) only"
    r"|price (?:goes|will go|is going) back up|price goes up (?:after|when|once|at|tomorrow|tonight)"
    r"|(?:this |the )?price (?:disappears|expires)"
)
COMPARISON = re.compile(
    # 直降500, 省了一百多, 便宜了整整150, 省了1k+ (not 节省300元电费, 浙江省一家工厂)
    rf"(?<![江东西南北海徽建苏川州林宁肃夏节])(?:直降|立减|降价|省|便宜)了?(?:整整)?{_AMOUNT}"
    r"|[$£€¥]?[0-9]+ ?(?:yuan|元|块|rmb|%|bucks|dollars|percent)? ?(?:off|0ff)(?![a-z])"
    r"|[一二三四五六七八九两][折]|(?<![0-9])[1-9](?:\.[0-9])?折"
    r"|sav(?:e|ing) (?:[$£€¥][0-9]+|[0-9]+ ?(?:bucks|dollars|yuan|元|块|%|percent))"
    r"|(?<![a-z])(?:down|slashed(?: it| the price)? by) "
    r"(?:[$£€¥][0-9]+|[0-9]+ ?(?:%|percent|bucks|dollars))"
    # the evasions of live rooms: 五 zhe (五折), 原价好几百 (a base with no amount)
    r"|[0-9一二三四五六七八九] ?zhe(?![a-z])|原价(?:好|要)?几[百千]"
    r"|价的一半|比(?:这|我们|直播间)[^,!?;。，！？；]{0,3}贵(?:好多|很多|多了|不少|一倍)"
)
#: a base price: its label, then (within a few words that are not a comparison) its amount; or,
#: in English, the amount before the label ($70 list price)
_BASE_GAP = r"(?:(?!便宜|降|减|省|低|少|off|less|cheaper)[^0-9,!?;。，！？；]){0,8}?"
_BASE_AMOUNT = rf"(?:{_DIGIT_AMOUNT}|[一二两三四五六七八九十百千万]+[块元])"
BASE = re.compile(
    r"(?:原价|日常(?:售)?价|专柜(?:售)?价|划线价|门店价|市场价|平时(?:售)?价|平常价|吊牌价|指导价"
    r"|标价|零售价|官网价|最低价|平时[^0-9,!?;。，！？；]{0,6}?卖|单买[^0-9,!?;。，！？；]{0,4}?是"
    r"|regular(?:ly)?(?: price)?|usual(?:ly)?(?: price)?|original price|list price|retail price"
    r"|everyday price|normally|msrp|rrp|listed at|was)"
    rf"{_BASE_GAP}{_BASE_AMOUNT}"
    r"|[$£€¥][0-9][0-9,]*(?:\.[0-9]+)? (?:list|regular|retail|original) price"
)
_FIRST_NUMBER = re.compile(r"([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]+)?([k千万])?")
_SCALE = {"k": 1_000, "千": 1_000, "万": 10_000}


def _amount(text: str) -> float | None:
    """The first amount in digits of a base or a comparison, with its thousands and scale (1,299;
    3千; 1.2万; 2k); None: none, a percentage or a discount rate (the cut is then not compared)."""
    m = _FIRST_NUMBER.search(text)
    if m is None or "%" in text or "percent" in text or "折" in text:
        return None
    value = float(m.group(1).replace(",", "") + (m.group(2) or ""))
    return value * _SCALE.get(m.group(3) or "", 1)


#: TEXT006's category for an urgency word negated right before it (没有倒计时)
URGENCY_DENIED = "urgency_denied"
#: a negation just before a word, in its clause (没有倒计时, 不会马上涨价, there's no last chance)
_NEGATOR = re.compile(
    r"(?:(?<![要可这])(?:没有|没|不是|不会|不搞|不|无|并非)|(?<![a-z])(?:no|not|never|isn't)) ?$"
)
#: a rhetorical question asserts what it seems to deny (这不就剩3件了嘛, 可不是最后三单了吗)
_RHETORICAL = re.compile(r"[吗嘛么]")
#: joins texts for the first pass: not a separator, so nothing is glued across it
RECORD = "\x1e"
#: a reward word raises a finding only after a review word
REWARD_CUE = ("REVIEW002", "reward_cue")
#: REVIEW002's words that count only between a review word and a reward (截图, 联系客服, 凭, 即可,
#: and get): they tie the reward to the review across the clauses of a card's steps, and a text
#: with none of the review words has no finding whatever they say (so not in the first pass)
REVIEW_LINK = ("REVIEW002", "review_link")
#: REVIEW002's rewards that are money (返现, 现金, 免单, cashback): they tie to a review word
#: before them in the sentence without a link (a buyer's 送了赠品 or 店铺红包 does not)
REWARD_CASH = ("REVIEW002", "reward_cash")
#: REVIEW002's words that disclaim the practice (不参与, 拒绝, 违规, we do not): a hit in their
#: sentence is kept at a lower severity, never dropped (docs/exemptions.md)
REVIEW_DISCLAIMER = ("REVIEW002", "disclaimer")
#: REVIEW002's disclaimers of one thing (不搞返现, 不搞五星): they reach only their own clause (我们不搞返现，
#: 五星好评晒图送运费险: the next clause offers something else, the usual way round the rule)
REVIEW_DISCLAIMER_HERE = ("REVIEW002", "disclaimer_here")
#: REVIEW002's words that prove a review after a reward told first (条件, 截图, proof)
REVIEW_PROOF = ("REVIEW002", "review_proof")
#: the REVIEW002 categories that only qualify a review word's hit: never in the first pass
_QUALIFIERS = (
    REWARD_CUE,
    REVIEW_LINK,
    REWARD_CASH,
    REVIEW_DISCLAIMER,
    REVIEW_DISCLAIMER_HERE,
    REVIEW_PROOF,
)
#: words without which the TEXT006 patterns cannot match: the first pass looks for these in its
#: automaton instead of running the patterns over every text
TRIGGER = "TRIGGER"
TRIGGERS = (
    "最后", "剩", "left", "last", "直降", "立减", "降价", "省", "便宜", "off", "0ff", "折", "save", "saving",
    "分钟后", "分钟之后", "分钟以后", "错过", "ends in", "end in", "minutes only", "minute only",
    "mins only", "min only", "hours only", "hour only", "price goes", "price will go", "price is going",
    "price disappears", "price expires", "down $", "down £", "down €", "down ¥", "down 1", "down 2",
    "down 3", "down 4", "down 5", "down 6", "down 7", "down 8", "down 9", "slashed", "zhe", "原价几",
    "原价好几", "原价要几", "价的一半", "比这", "比我们", "比直播间",
)  # fmt: skip
#: a run of digits (with the separators numbers are written with) long enough to be an identifier
_DIGIT_RUN = re.compile(r"[0-9][0-9 +x-]{9,}")
#: eleven digits, Arabic or Chinese, at most one character between two (identifiers.MAYBE_LOOSE):
#: every number the loose readings find (一三九…, 191.0638.4752, 159x8630y1724) holds one
_LOOSE_RUN = re.compile(MAYBE_LOOSE)
#: what a text must hold for a strict identifier (``find_identifiers``): four digits
_DIGITS = re.compile(r"[0-9]{4}")
#: how far before a loose run a phone cue or a +86 is looked for
_LOOSE_BACK = 16
#: words without which a number read out in segments (前三位…) or an e-mail address spelt out
#: (邮箱 name#qq.com) is not read: keys of the first pass only, never hits
IDENTIFIER_GATES = (*SEGMENT_CUES, *MAIL_CUES, *PASSPORT_CUES, *HKID_CUES)


def _regex_hits(code: str, category: str, pattern: re.Pattern[str], nt: Normalised) -> list[Hit]:
    out = []
    for m in pattern.finditer(nt.text):
        os_, oe = nt.span(m.start(), m.end())
        out.append(Hit(code, category, m.group(), m.start(), m.end(), os_, oe))
    return out


def _clauses(text: str) -> list[int]:
    """Start offsets of the clauses of ``text``."""
    return [0] + [m.end() for m in CLAUSE_END.finditer(text)]


def _sentences(text: str) -> list[int]:
    """Start offsets of the sentences of ``text`` (:data:`SENTENCE_END`)."""
    return [0] + [m.end() for m in SENTENCE_END.finditer(text)]


def _clause_of(starts: Sequence[int], pos: int) -> int:
    lo, hi = 0, len(starts)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= pos:
            lo = mid
        else:
            hi = mid
    return lo


@dataclass(frozen=True)
class Prepared:
    """The one pass over a text: normalised text, lexicon hits, validated identifiers."""

    nt: Normalised
    hits: list[Hit]
    ids: list[Identifier]
    #: the pattern gates the text holds (their normalised keys); None: not known, and a phrase
    #: pattern searches the text itself
    gates: frozenset[str] | None = None

    @property
    def empty(self) -> bool:
        return not self.hits and not self.ids


class _FirstPass:
    """The first pass's automaton, run over UTF-8 bytes.

    pyahocorasick finds a character among a node's children one by one, so the root's width
    (the distinct first characters of the terms, ~125 here) sets the cost of every character of
    text. In UTF-8 every Chinese character starts with one of a few lead bytes, so the root holds
    ~30 entries; the text gets longer, the pass still gets faster. UTF-8 is self-synchronising,
    so an encoded term matches the encoded text exactly where the term matches the text.

    Compiled (``_first_jit``: a byte DFA in a loop that releases the GIL) when numba is there;
    pyahocorasick over the bytes as a Latin-1 string otherwise, or with PROMOGUARD_NO_JIT=1.
    """

    def __init__(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._automaton = ahocorasick.Automaton()
        for key in keys:
            self._automaton.add_word(key.encode("utf-8").decode("latin-1"), key)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()
        self._dfa = None
        encoded = [k.encode("utf-8") for k in keys]
        if not self._empty and not any(RECORD.encode() in k for k in encoded):
            self._dfa = _compiled_automaton(tuple(encoded))

    def owners(self, norm: str) -> Iterator[int]:
        """Indexes of the texts (joined by RECORD) in which some term occurs."""
        if self._empty:
            return iter(())
        data = norm.encode("utf-8")
        if self._dfa is not None:
            delta, accepting, marked_records = self._dfa
            codes = np.frombuffer(data, dtype=np.uint8)
            n_records = norm.count(RECORD) + 1
            marked = marked_records(codes, delta, accepting, ord(RECORD), n_records)
            return iter(np.flatnonzero(marked).tolist())
        ends = [end for end, _key in self._automaton.iter(data.decode("latin-1"))]
        if not ends:
            return iter(())
        # a match's text: how many record marks come before it (numpy, not a count per match)
        records = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord(RECORD))
        return iter(np.searchsorted(records, ends, side="left").tolist())


@functools.cache
def _compiled_automaton(keys: tuple[bytes, ...]) -> tuple[Any, Any, Any] | None:
    """(transitions, accepting, the compiled loop) for ``keys``, built once per key set; None
    without numba or with PROMOGUARD_NO_JIT=1."""
    if os.environ.get("PROMOGUARD_NO_JIT") == "1":
        return None
    try:
        from promoguard.text._first_jit import byte_automaton, marked_records
    except ImportError:  # pragma: no cover - numba is a dependency; an old venv may lack it
        return None
    delta, accepting = byte_automaton(keys)
    return delta, accepting, marked_records


#: characters ``ContentRules.maybe`` leaves out of texts and keys: every character the first
#: pass's fold may drop (it drops some of them, in some places; dropping all only adds texts)
_SKIPPED = SEPARATORS
_HAN_CHAR = re.compile(f"[{_HAN}]")


@functools.cache
def _prefilter(keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    """(transitions, accepting, literal transitions, literal accepting, skip, mark, the compiled
    loop) of ``ContentRules.maybe``; None without numba or with PROMOGUARD_NO_JIT=1.

    The fold drops separator runs only next to a Han character, so a key holding a separator
    and no Han character occurs in the folded text only as it is written: those keys are looked
    for literally (``#1`` stripped of its ``#`` would select every text with a 1). Every other
    key is looked for with the separators left out of key and text alike."""
    if os.environ.get("PROMOGUARD_NO_JIT") == "1":
        return None
    try:
        from promoguard.text._first_jit import byte_automaton, maybe_candidates
    except ImportError:  # pragma: no cover - numba is a dependency; an old venv may lack it
        return None
    dropped = {ord(c): None for c in _SKIPPED}
    stripped, literal = [], []
    for key in keys:
        if key.translate(dropped) != key and not _HAN_CHAR.search(key):
            literal.append(key.encode("utf-8"))
        elif key.translate(dropped):
            stripped.append(key.translate(dropped).encode("utf-8"))
        else:  # nothing but separators (and Han): cannot tell
            return None
    delta, accepting = byte_automaton(tuple(stripped))
    lit_delta, lit_accepting = byte_automaton(tuple(literal))
    digitish, skip = _digit_tables()
    return (
        delta,
        accepting,
        lit_delta,
        lit_accepting,
        skip,
        _marked(),
        digitish,
        maybe_candidates,
    )


@functools.cache
def _digit_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per code point, whether it is a digit, Arabic or Chinese (一, 壹, 幺 …), and whether the
    first pass's fold may drop it (:data:`_SKIPPED`)."""
    skip = np.zeros(0x110000, dtype=bool)
    for c in _SKIPPED:
        skip[ord(c)] = True
    digitish = np.zeros(0x110000, dtype=bool)
    for c in "0123456789" + "".join(ZH_DIGITS):
        digitish[ord(c)] = True
    return digitish, skip


@functools.cache
def _loose_classes() -> np.ndarray:
    """Per code point, its class for :func:`_first_jit.loose_records` (0: any other)."""
    from promoguard.text import _first_jit as jit

    classes = np.zeros(0x110000, dtype=np.uint8)
    for c in _SKIPPED:
        classes[ord(c)] = jit.LOOSE_JOIN if c in " -" else jit.LOOSE_SKIPPED
    # NUL (normalise's stand-in for a dropped character) is dropped by the plain fold anywhere:
    # counted as a gap it broke a run the fold joins (壹叁捌 NUL → 23681949 escaped the batch)
    classes[0] = jit.LOOSE_SKIPPED
    classes[ord("+")] = jit.LOOSE_PLUS
    for c in "0123456789":
        classes[ord(c)] = jit.LOOSE_DIGIT
    for c in ZH_DIGITS:
        classes[ord(c)] = jit.LOOSE_ZH_DIGIT
    classes[ord(RECORD)] = jit.LOOSE_RECORD
    return classes


@functools.cache
def _loose_kernel() -> Any:
    """The compiled :func:`_first_jit.loose_records`; None without numba or with
    PROMOGUARD_NO_JIT=1 (the loose runs are then searched for in the whole batch)."""
    if os.environ.get("PROMOGUARD_NO_JIT") == "1":
        return None
    try:
        from promoguard.text._first_jit import loose_records
    except ImportError:  # pragma: no cover - numba is a dependency; an old venv may lack it
        return None
    return loose_records


@functools.cache
def _marked() -> np.ndarray:
    """Per code point, whether a text holding it is always read by the first pass itself: what
    ``special`` finds, characters outside ASCII that ``str.lower`` changes (the compiled pass
    lower-cases ASCII only), the record mark and NUL."""
    mark = special_table().copy()
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        if ch.lower() != ch:
            mark[cp] = True
    mark[ord(RECORD)] = True
    mark[0] = True
    return mark


def _loose_positions(norm: str) -> list[int]:
    """Where in ``norm`` a run of digits read loosely holds an identifier (``find_identifiers``
    over the run and what the loose readings look at around it: a +86 or a phone cue before it,
    an x after it)."""
    out = []
    for m in _LOOSE_RUN.finditer(norm):
        g = m.group()
        # digits, spaces and hyphens only: the digit-run pass has read it (an x, a letter
        # slipped into a mobile, needs the cue before it); and without eleven digits held
        # together by what may stand between groups, no loose reading finds anything
        if not g.strip("0123456789 +-") or not LOOSE_SHAPE.search(g):
            continue
        if find_identifiers(norm[max(0, m.start() - _LOOSE_BACK) : m.end() + 2]):
            out.append(m.start())
    return out


def _owners(joined: str, positions: list[int]) -> Iterator[int]:
    """The index of the text each position of ``joined`` falls in (texts joined by RECORD)."""
    k = prev = 0
    for pos in sorted(positions):
        k += joined.count(RECORD, prev, pos)
        prev = pos
        yield k


class ContentRules:
    """The lexicons compiled once; ``prepare`` makes the one pass over a text."""

    def __init__(self, terms: Iterable[Term]) -> None:
        terms = list(terms)
        triggers = [Term(t, TRIGGER, "pattern_gate") for t in TRIGGERS]
        self.matcher = Matcher([*terms, *triggers])
        # the first pass needs fewer words: allow-list words only ever remove hits, and a reward
        # word (送, free), a link (截图) or a disclaimer counts only after or around a review
        # word, which selects the text by itself
        first = [t for t in terms if t.code != ALLOW and (t.code, t.category) not in _QUALIFIERS]
        gates = [Term(t, TRIGGER, "identifier_gate") for t in IDENTIFIER_GATES]
        self._first_keys = tuple(Matcher([*first, *triggers, *gates]).terms)
        self.first = _FirstPass(self._first_keys)

    def maybe(self, column: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
        """Per text of a string column, whether the first pass could select it (never fewer
        texts than it selects; None: cannot tell, read them all).

        Compiled (``_first_jit.maybe_candidates``), over the column's UTF-8 buffer as it is: the
        texts it leaves out never become Python strings, and the GIL is free meanwhile. At city
        scale ~90% of 1.07M merchant texts and ~99% of 1.22M reviews are left out here.
        """
        found = _prefilter(self._first_keys)
        if found is None:
            return None
        delta, accepting, literal, literal_accepting, skip, mark, digitish, kernel = found
        arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_large_string(arr.type):
            width = np.int64
        elif pa.types.is_string(arr.type):
            width = np.int32
        else:
            return None
        n = len(arr)
        if n == 0:
            return np.zeros(0, dtype=bool)
        _validity, offsets_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=width)[arr.offset : arr.offset + n + 1]
        data = (
            np.frombuffer(data_buf, dtype=np.uint8)
            if data_buf is not None and data_buf.size
            else np.zeros(1, dtype=np.uint8)
        )
        out = kernel(
            data,
            offsets.astype(np.int64),
            delta,
            accepting,
            literal,
            literal_accepting,
            skip,
            mark,
            digitish,
        )
        if arr.null_count:
            out &= pc.is_valid(arr).to_numpy(zero_copy_only=False)
        return out

    def prepare(self, text: str, runs: bool | None = None) -> Prepared:
        """Normalise once, one Aho-Corasick pass, identifiers (``find_identifiers`` reads only
        texts with digits, Chinese ones too, an @ or a cue). ``runs``: whether the text may hold
        a number only a loose reading finds, when the first pass knows (``find_identifiers``)."""
        nt, hits, gates = self.matcher.scan_gated(text)
        t = nt.text
        if runs is None:
            runs = _LOOSE_RUN.search(t) is not None
        ids: list[Identifier] = []
        cues = has_cue(t)
        if runs or cues or "@" in t or _DIGITS.search(t):
            ids = find_identifiers(t, runs=runs, cues=cues)
        return Prepared(nt, hits, ids, gates)

    def prepare_many(self, texts: Sequence[str], batch: int = 8192) -> list[Prepared | None]:
        """``prepare`` for every text that could raise a finding, None for the rest.

        A first pass reads a whole batch of texts joined into one string (case folding, one
        separator pass, one automaton pass over its UTF-8 bytes, a scan for digit runs and for
        characters that need the full mapping: all in C), notes which texts hold anything that
        could matter, and only those go through ``prepare``. The first pass only ever
        over-selects, so the result is the same as preparing every text.
        """
        out: list[Prepared | None] = [None] * len(texts)
        for i in range(0, len(texts), batch):
            chunk = texts[i : i + batch]
            cands, runs = self._first_pass(chunk)
            for k in sorted(cands):
                out[i + k] = self.prepare(chunk[k], runs=None if runs is None else k in runs)
        return out

    def _candidates(self, chunk: Sequence[str]) -> set[int]:
        return self._first_pass(chunk)[0]

    def _first_pass(self, chunk: Sequence[str]) -> tuple[set[int], set[int] | None]:
        """The texts of ``chunk`` the full analysis reads, and of those the ones that may hold
        a number only a loose reading finds (None: not known; ``find_identifiers`` looks)."""
        joined = RECORD.join(chunk)
        if joined.count(RECORD) != len(chunk) - 1:  # a text holds the record mark itself
            return set(range(len(chunk))), None
        # texts with characters that need the full mapping are read closely whatever they say
        # (looked up code point by code point in numpy: the same characters ``special`` finds)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        odd = np.flatnonzero(special_table()[codes])
        cands: set[int] = set()
        if len(odd):
            records = np.flatnonzero(codes == ord(RECORD))
            cands.update(np.searchsorted(records, odd, side="left").tolist())
        # the texts that may hold a number read out loosely (一三九…, 191.0638.4752): compiled,
        # over the code points (skipped separators not counted: never fewer than in the fold);
        # a text with special characters may fold into one (full-width digits): it is looked at
        kernel = _loose_kernel()
        loose = runs = None
        if kernel is not None:
            level = kernel(codes, _loose_classes(), len(chunk))
            loose = np.flatnonzero(level == 2)
            runs = set(np.flatnonzero(level).tolist()) | cands
        del codes
        norm = fold_plain(joined)
        cands.update(self.first.owners(norm))
        positions: list[int] = []
        for m in _DIGIT_RUN.finditer(norm):
            g = m.group()
            if g.isdigit():
                # a bare run of digits can only be one identifier, the whole run (the patterns
                # need non-digits around it): an 11/13-digit mobile, an 18-digit ID or a card
                n = len(g)
                if not (n in (11, 13, 18) or (16 <= n <= 19 and g[0] in "3456")):
                    continue
            elif len(g) - g.count(" ") - g.count("-") - g.count("+") - g.count("x") < 11:
                continue
            # the 1-character margins are what the identifier patterns look at
            if find_identifiers(norm[max(0, m.start() - 1) : m.end() + 1]):
                positions.append(m.start())
        # numbers read out in Chinese numerals or split by dots, letters or symbols: the run and
        # what the loose readings look at around it (a +86 or a phone cue before, an x after)
        if loose is None:
            positions += _loose_positions(norm)
        else:
            # each text folds alone as it folds in the batch (nothing is dropped across a mark)
            cands.update(
                [
                    k
                    for k in loose.tolist()
                    if k not in cands and _loose_positions(fold_plain(chunk[k]))
                ]
            )
        at = norm.find("@")
        while at >= 0:
            positions.append(at)
            at = norm.find("@", at + 1)
        cands.update(_owners(norm, positions))
        return cands, runs


# -- what the rules combine ----------------------------------------------------------------------


def lexicon_hits(prep: Prepared, code: str) -> list[Hit]:
    """The text's lexicon hits of ``code``, in text order."""
    return [h for h in prep.hits if h.code == code]


def by_category(prep: Prepared) -> dict[tuple[str, str], list[Hit]]:
    """The text's lexicon hits by ``(code, category)``."""
    out: dict[tuple[str, str], list[Hit]] = {}
    for h in prep.hits:
        out.setdefault((h.code, h.category), []).append(h)
    return out


def handles_after(
    prep: Prepared, cues: Iterable[Hit], code: str, category: str = "contact_id"
) -> list[Hit]:
    """For each cue (微信, QQ) followed by an account ID or number, a hit over cue and handle."""
    nt = prep.nt
    out = []
    for h in cues:
        m = _HANDLE.match(nt.text, h.end)
        if m:
            os_, oe = nt.span(h.start, m.end())
            out.append(Hit(code, category, nt.text[h.start : m.end()], h.start, m.end(), os_, oe))
    return out


def identifier_hits(
    prep: Prepared, code: str, kinds: Iterable[str], category: str | None = None
) -> list[Hit]:
    """A hit per validated identifier of ``kinds``; its category is ``category`` or its kind, its
    term the kind (never the identifier itself)."""
    wanted = set(kinds)
    out = []
    for i in prep.ids:
        if i.kind in wanted:
            os_, oe = prep.nt.span(i.start, i.end)
            out.append(Hit(code, category or i.kind, i.kind, i.start, i.end, os_, oe))
    return out


def _negated(text: str, h: Hit) -> bool:
    """Whether a negation stands right before ``h`` in its clause, and the clause is no
    rhetorical question."""
    start = clause_start(text, h.start, 12)
    if not _NEGATOR.search(text, start, h.start):
        return False
    end = CLAUSE_END.search(text, h.end)
    return _RHETORICAL.search(text, h.end, end.start() if end else len(text)) is None


def unbased_claims(prep: Prepared, code: str) -> list[Hit]:
    """Urgency (lexicon or pattern; negated where written: kept as ``URGENCY_DENIED``), and price
    comparisons with no base price in their sentence or the clause before; where a lexicon word
    lies inside a longer pattern match, the longer."""
    nt, by_cat = prep.nt, by_category(prep)
    urgent = by_cat.get((code, "urgency"), [])
    comparisons = by_cat.get((code, "comparison"), [])
    # every URGENCY and COMPARISON match holds a trigger word: without one, neither can match
    if any(t in nt.text for t in TRIGGERS):
        urgent = urgent + _regex_hits(code, "urgency", URGENCY, nt)
        comparisons = comparisons + _regex_hits(code, "comparison", COMPARISON, nt)
    unbased: list[Hit] = []
    if comparisons:
        # a base counts in the comparison's clause, the two before it or the one after, in its
        # sentence: live hosts say base, today's price, then the cut (原价128，今天直播间108，
        # 直降20) or the cut, then its base (30% off the $70 list price); a base said further
        # back, or a cut as large as the base (原价229元…今天立减300), is no base for the claim
        starts, sentences = _clauses(nt.text), _sentences(nt.text)
        bases = [
            (_clause_of(starts, m.start()), _clause_of(sentences, m.start()), _amount(m.group()))
            for m in BASE.finditer(nt.text)
        ]
        for h in comparisons:
            c, sentence = _clause_of(starts, h.start), _clause_of(sentences, h.start)
            cut = _amount(h.term)
            if not any(
                (bc == c or bc == c - 1 or (bs == sentence and c - 2 <= bc <= c + 1))
                and (cut is None or base is None or cut < base)
                for bc, bs, base in bases
            ):
                unbased.append(h)
    # an urgency word negated where it is written (没有倒计时, 不会恢复原价) is kept as denied: the
    # rule's grade lowers it; a denial elsewhere (不是我吓唬你们，真的只剩20单) changes nothing
    urgent = [replace(h, category=URGENCY_DENIED) if _negated(nt.text, h) else h for h in urgent]
    found = sorted(urgent + unbased, key=lambda h: (h.start, h.end, h.term))
    # the lexicon's 直降 and the pattern's 直降500 are one claim: keep the longer
    return [
        h
        for h in found
        if not any(
            o is not h
            and o.start <= h.start
            and h.end <= o.end
            and (o.end - o.start) > (h.end - h.start)
            for o in found
        )
    ]


#: where a sentence ends (a card's numbered steps and line breaks are gone from normalised
#: Chinese text, so they do not end one; a clause's comma does not either)
SENTENCE_END = re.compile(r"[!?;。！？；]|\.(?![0-9])")
#: an amount of money: a reward by itself once something ties it to a review (返你两块钱, $10)
MONEY = re.compile(
    r"[$¥￥]\s?[0-9]+(?:\.[0-9]+)?"
    r"|(?<![0-9.])[0-9]+(?:\.[0-9]+)?(?:-[0-9]+)?\s?(?:元|块钱?|rmb|yuan|dollars?|usd|bucks)(?![a-z])"
    r"|[一二两三四五六七八九十]+(?:元|块钱?)"
)
#: a verb that pays right before an amount (返5元, 退你10块, 奖励2元, receive $10, 人人可以赢取10元,
#: you can win $20): money then, but not a prize won at a contest (:data:`_CONTEST`)
_PAYS = re.compile(
    r"(?:返|退|奖励|补偿?|拿回?|打款|转账?|领取?|送|获得|立减|赢取?"
    r"|(?<![a-z])(?:receive|get|earn|win|refund(?: of)?|send you(?: a)?))"
    r"\s?(?:您|你|我|现金)?\s?(?:价值)?\s?(?:a\s)?$"
)
#: a reward word with an amount right before it (5元红包, $10 gift card): money too
_AMOUNT_BEFORE = re.compile(rf"(?:{MONEY.pattern})\s?(?:现金|amazon|paypal)?\s?$")
#: what a unit of the card window is: a Chinese character or a Latin word (an English card says
#: in 60 characters what a Chinese one says in 15)
_UNIT = re.compile(rf"[{_HAN}]|[a-z0-9]+")
#: a reward told as past (还送了个小礼物, 返了5元, 收到红包): what a buyer got, not a price offered
#: for a review (a review word's own clause still counts: 好评送了小礼品 reads as the offer)
_PAST = re.compile(r"(?:还|也)(?:送|给|返|退)|(?:送|返|给|发|寄|退|领|取|拿)了|(?<![将会可能])收到")
#: every place :data:`_PAST` matches, overlapping ones too (each is two characters long, so where
#: one starts tells where it ends)
_PAST_AT = re.compile(rf"(?=(?:{_PAST.pattern}))")
#: a review changed or removed, written around the bad review (中评能帮忙删掉吗, 把差评删了, 改差评,
#: delete my negative review, take down your 1-star review, changed my review to five stars): a
#: ``review_change`` as the lexicon's fixed phrases are, found where a ``bad_review`` word is
_BAD_REVIEW = r"(?:差评|中评|低分|一星|二星|两星|1星|2星)"
#: (删不掉, 改不了: a review that cannot be changed is no offer to change it)
_CHANGE_VERB = r"(?:删除?|删掉|改成?|修改|撤回|撤销|撤掉)(?!不)"
_CHANGE = re.compile(
    rf"{_BAD_REVIEW}[^，,。！？!?;；]{{0,6}}?{_CHANGE_VERB}|{_CHANGE_VERB}[^，,。！？!?;；]{{0,3}}?{_BAD_REVIEW}"
    r"|(?:remov|delet|take down|taking down|took down|chang|updat|edit|revis)[a-z]*\s"
    r"(?:(?:it|your|my|the|this|that)\s)?(?:(?:[1-3][ -]star|one[ -]star|two[ -]star|negative|bad|low)"
    r"\s)?(?:review|feedback|rating)"
)

#: a change asked for without naming the review, which the sentence or the one before names (看到您
#: 给了中评，影响我们店铺了，能麻烦修改一下吗; We saw your 2-star review. If you are willing to remove
#: it, ...): a request (麻烦, 能否, 请) before the verb and nothing after it but 一下/吗 (能帮忙改一下
#: 地址吗 asks for an address), or an English change of "it"; see :func:`_asked_of_a_bad_review`
_CHANGE_ASK = re.compile(
    r"(?:麻烦|帮忙|帮我们|能否|可否|能不能|可不可以|请您?|求求?您?)[^，,。！？!?;；]{0,4}?"
    r"(?:修改|改|删除?|删掉|撤回|撤销)(?:一下|下|掉)?(?=吗|嘛|呢|好吗|可以吗|行吗|[，,。！？!?;；]|$)"
    r"|\b(?:(?:remov|delet|chang|updat|edit|revis)[a-z]*\s(?:it|that)|tak(?:e|ing) (?:it|that) down)\b"
    # (remove it from the box, change it for a new one: the thing bought, not the review)
    r"(?!\s(?:from|out|off|of|for|with|into)\b)"
)
#: a bad review as the text names it, for :data:`_CHANGE_ASK` (the lexicon's English ones besides)
_BAD_REVIEW_AT = re.compile(_BAD_REVIEW)

#: a reward paid for a purchase right before it (下单再送, 满199返现20, 买二送一): the review
#: word before it is the buyer's, not the reward's condition (a next order's discount for the
#: review, 下次下单立减5元, still is one)
_FOR_PURCHASE = re.compile(
    r"(?:(?<!下次)(?<!再次)下单|首单|拍下|购买|买[一二两三四五1-5]?件?|满[0-9]+(?:元|件)?|加购|收藏店铺)"
    r"(?:后|就|再|即|可|立|都|还)?(?:立减|减|返现?|送|领)?(?:价值)?\s?$"
)
#: the review's reason between a review word and a reward in its clause: the reward is not what
#: the review is paid with (给好评是因为快递送得快, a positive review because the free sample was
#: nice); across clauses a reason is left to the disclaimers (不是因为返现 lowers, never drops)
_REASON = re.compile(r"因为|由于|because")
#: the other condition of an after-sales template between a review word and a reward (满意请给五星
#: 好评，不满意请联系客服，我们为您退款): the reward is for the problem, not the review
_OTHERWISE = re.compile(
    r"不满意|有问题|有任何问题|质量问题|any (?:issue|problem)|not satisfied|not happy|unhappy"
    r"|problems? with"
)
#: an action asked besides a review (follow our page, like, subscribe, tag a friend): a link after
#: it in its clause is that action's (English; see :meth:`_Card.of`)
_OTHER_ASK = re.compile(
    r"\b(?:follow|like (?:us|our|this)|subscribe|tag|sign up|join|repost|retweet"
    r"|share (?:this|our|the) (?:post|page))\b"
)
#: a clause that opens by paying (返红包, 送小礼物, 下次送你个小红包, 赠送饮品, 参与抽奖): right after the review word's
#: clause it is the review's price, money or not
_PAYS_AT_CLAUSE = re.compile(
    # (the shop may say who pays: 我这边给您发个小红包, 我们会送您; a bare 我 pays only you: 好评，我
    # 送礼品给客户的 is a buyer's own gift)
    r"\s?(?:我这边|我们这边|小店|本店|店家|商家|客服这边|客服|我们?(?:会|将)?(?=给(?:您|你|亲)|[返送赠发](?:您|你)))?"
    r"(?:会|将)?"
    r"(?:下次|以后)?(?:就|即|可|立即?|马上|再|多)?(?:给(?:您|你|亲)\s?)?(?:返|送|赠送?|领|奖励?|发)(?:您|你|亲们?|大家|各位|宝宝们?)?\s?"
    r"(?:一|1)?(?:个|份|张|只|枚|杯|瓶)?(?:小)?\s?"
    # or by entering a draw, the draw's word being the reward itself (五星好评晒图，参与抽iPhone;
    # 还可赢取; 即可抽奖); a clause that names a draw with no one entering it (感谢好评，抽奖活动
    # 今晚开始) is news of the draw, not its price
    # (参与抽奖的宝宝们请查看中奖名单 tells those who entered a draw its result, not an entry offered;
    # 抽样, 抽检 sample goods)
    r"|\s?(?:(?:还|就|即|再)(?:可以?|能)?|可以?)(?=参与抽|抽(?![样检查])|赢|有机会)"
    r"|\s?(?=参与抽(?!奖的[^，,。！？!?;；]{0,6}?(?:查看|中奖|名单|开奖|结果))|赢取)"
)


#: a negation right before a reward word: the reward is not given
_NOT_GIVEN = re.compile(
    r"(?:不会|不再|没有|绝不|从不|并不|也不|都不|一律不|\bnever|\bwon't|\bwill not|\bdo not"
    r"|\bdon't)\s?$"
)
#: a verb or reward word that wins something
_WINS = re.compile(r"赢|win")
#: a contest won right before a sum (用这个球拍比赛赢500元奖金, win $500 in the local tournament):
#: its prize, not a sum paid for the review (a draw is a contest too, but a reward word itself)
_CONTEST = re.compile(r"比赛|大赛|锦标赛|赛事|球赛|竞赛|tournament|championship|league|\brace\b")


def _contest(text: str, at: int) -> bool:
    """Whether a contest is named in the clause before ``at`` (a few words back)."""
    before = text[max(0, at - 24) : at]
    return bool(_CONTEST.search(re.split(r"[，,。！？!?;；]", before)[-1]))


#: what stands before a plural review word that names reviews others wrote (Read our 5-star
#: reviews, Over 1,000 five-star reviews, thanks for all the positive reviews): a boast, not a
#: review asked for (leave 5-star reviews, all 5-star reviews receive, the first 50 five-star
#: reviews get, screenshots of 5-star reviews still are)
_BOAST_BEFORE = re.compile(
    r"(?:\b(?:our|read|see|check out)|\bthanks? (?:you )?for (?:all )?(?:the|your)"
    r"|\b(?:over|more than|nearly|almost) [0-9][0-9,.]*k?\+?|[0-9]{1,3}(?:,[0-9]{3})+\+?|[0-9]+k\+?"
    r"|\b(?:hundreds|thousands|dozens|tons|lots) of)\s$"
)


def _boast(text: str, c: Hit) -> bool:
    """Whether English review word ``c`` is plural after :data:`_BOAST_BEFORE`: reviews that
    exist, not one asked for."""
    return (
        c.term.isascii()
        and text.startswith(("s", "es"), c.end)
        and bool(_BOAST_BEFORE.search(text, max(0, c.start - 32), c.start))
        # ... unless the buyer is asked to add theirs (Hundreds of 5-star reviews! Leave yours
        # and get a free gift)
        and not _ADD_YOURS.search(text, c.end, c.end + 40)
    )


_ADD_YOURS = re.compile(r"\b(?:leave|add|write|post|share|drop) (?:yours|one|your own)\b")


def _money(text: str, r: Hit) -> bool:
    """Whether a reward (a word or an amount) is money: a ``reward_cash`` word is passed in by
    the caller; here an amount after a paying verb, or a reward word with an amount beside it."""
    before = text[max(0, r.start - 12) : r.start]
    if r.category == "amount":
        m = _PAYS.search(before)
        return bool(m) and not (_WINS.match(m.group()) and _contest(text, r.start))
    if _WINS.search(r.term) and _contest(text, r.start):
        return False
    after = MONEY.match(text, r.end) or MONEY.match(text, r.end + 1)
    return bool(after or _AMOUNT_BEFORE.search(before))


#: at most this many rewards are weighed on each side of a review word, a multiple of the card
#: window (a card has a few; an emoji reward takes no unit): untrusted long texts stay linear
_REWARDS_PER_UNIT = 2


class _Units:
    """The units of a text (:data:`_UNIT`), counted between two offsets by bisection."""

    def __init__(self, text: str) -> None:
        found = list(_UNIT.finditer(text))
        self.starts = [m.start() for m in found]
        self.ends = [m.end() for m in found]

    def between(self, start: int, end: int) -> int:
        """The units overlapping ``[start, end)``, as ``_UNIT.findall(text, start, end)`` counts
        them (a word cut by either end is one)."""
        if end <= start:
            return 0
        return bisect_left(self.starts, end) - bisect_right(self.ends, start)


@dataclass(frozen=True)
class _Card:
    """What :func:`_card` reads of a text, worked out once for all its review words."""

    text: str
    window: int
    units: _Units
    sentences: list[int]
    starts: list[int]
    rewards: list[Hit]
    reward_starts: list[int]
    cash: frozenset[tuple[int, int]]
    #: the links' starts, and the smallest end of the links from each on (suffix minimum)
    link_starts: list[int]
    link_min_end: list[int]
    #: the same of the links that reach past their sentence (:meth:`linked`)
    far_starts: list[int]
    far_min_end: list[int]
    proofs: list[Hit]
    proof_starts: list[int]
    #: where the text tells something as past (:data:`_PAST_AT`)
    past_at: list[int]
    #: where the text names an after-sales problem (:data:`_OTHERWISE`): starts and ends
    otherwise_at: list[int]
    otherwise_end: list[int]

    @classmethod
    def of(
        cls, text: str, starts: list[int], rewards: list[Hit], by_cat: dict, code: str, window: int
    ) -> _Card:
        # a link told as past (领取了优惠券) is what happened, not what to do for the reward
        links = sorted(
            (h for h in by_cat.get((code, "review_link"), []) if not text.startswith("了", h.end)),
            key=_at,
        )
        min_end = _suffix_min([h.end for h in links])
        # a link after another action asked in its clause ties the reward to that action, not to
        # a review word in an earlier sentence (Please leave us a review. Follow our page for a
        # chance to win: the chance is the follow's); with a review word in the clause it is both
        asks = [m.start() for m in _OTHER_ASK.finditer(text)] if links else []
        cue_at = sorted(h.start for h in by_cat.get((code, "review_cue"), [])) if asks else []
        sentences = _sentences(text)

        def far(h: Hit) -> bool:
            since = starts[_clause_of(starts, h.start)]
            i = bisect_left(asks, since)
            if not (i < len(asks) and asks[i] < h.start):
                # a link that opens its sentence with the action asked after it (For a chance to
                # win a gift card, sign up for our newsletter) is that action's too
                s = _clause_of(sentences, h.start)
                end = sentences[s + 1] if s + 1 < len(sentences) else len(text)
                k = bisect_left(asks, h.end)
                opens = not text[sentences[s] : h.start].strip()
                if not (opens and k < len(asks) and asks[k] < end):
                    return True
            j = bisect_left(cue_at, since)
            return j < len(cue_at) and cue_at[j] < h.start

        far_links = [h for h in links if far(h)]
        proofs = sorted(by_cat.get((code, "review_proof"), []), key=_at)
        otherwise = list(_OTHERWISE.finditer(text))
        return cls(
            text,
            window,
            _Units(text),
            _sentences(text),
            starts,
            rewards,
            [r.start for r in rewards],
            frozenset((h.start, h.end) for h in by_cat.get((code, "reward_cash"), [])),
            [h.start for h in links],
            min_end,
            [h.start for h in far_links],
            _suffix_min([h.end for h in far_links]),
            proofs,
            [h.start for h in proofs],
            [m.start() for m in _PAST_AT.finditer(text)],
            [m.start() for m in otherwise],
            [m.end() for m in otherwise],
        )

    def past(self, r: Hit) -> bool:
        """Whether the words of ``r``'s clause up to and just after it tell the reward as past."""
        i = bisect_left(self.past_at, self.starts[_clause_of(self.starts, r.start)])
        return i < len(self.past_at) and self.past_at[i] + 2 <= r.end + 1

    def money(self, r: Hit) -> bool:
        return (r.start, r.end) in self.cash or _money(self.text, r)

    def otherwise(self, start: int, end: int) -> bool:
        """Whether an after-sales problem is named inside ``[start, end)``."""
        i = bisect_left(self.otherwise_at, start)
        return i < len(self.otherwise_at) and self.otherwise_end[i] <= end

    def for_purchase(self, r: Hit) -> bool:
        """Whether ``r`` is paid for a purchase told right before it (下单再送, 满199返现)."""
        return bool(_FOR_PURCHASE.search(self.text[max(0, r.start - 12) : r.start]))

    def opens_clause(self, c: Hit, r: Hit) -> bool:
        """Whether ``r`` is paid at the opening of the clause right after ``c``'s (给好评，返红包)."""
        at = _clause_of(self.starts, r.start)
        if at != _clause_of(self.starts, c.start) + 1:
            return False
        m = _PAYS_AT_CLAUSE.match(self.text, self.starts[at])
        return m is not None and m.end() == r.start

    def linked(self, start: int, end: int, sentence_end: int) -> bool:
        """Whether a link lies inside ``[start, end)``: one inside ``start``'s sentence (which
        ends at ``sentence_end``), or one that reaches past it."""
        return _inside(self.link_starts, self.link_min_end, start, min(end, sentence_end)) or (
            end > sentence_end and _inside(self.far_starts, self.far_min_end, start, end)
        )

    def proved(self, c: Hit) -> tuple[bool, int | None]:
        """What proves review word ``c`` for a reward told before it: whether a proof follows
        ``c`` within the window (条件：五星好评), and the start of the last proof right before
        ``c`` (a free gift for a 5-star review, send proof of a five-star review) or None."""
        i = bisect_left(self.proof_starts, c.end)
        after = i < len(self.proofs) and (
            self.units.between(c.end, self.proofs[i].start) <= self.window
        )
        best = None
        # a proof is a few words: one that starts this far back cannot end right before ``c``
        for h in reversed(self.proofs[max(0, i - 4 * _REWARDS_PER_UNIT) : i]):
            if self.units.between(h.start, c.start) > 3 + 16:
                break
            if h.end <= c.start and self.units.between(h.end, c.start) <= 3:
                best = h.start if best is None else max(best, h.start)
        return after, best

    def before(self, at: int) -> list[Hit]:
        """The rewards that end before ``at`` within the window, in text order."""
        out = []
        cap = _REWARDS_PER_UNIT * self.window
        i = bisect_left(self.reward_starts, at)
        for r in reversed(self.rewards[max(0, i - cap) : i]):
            if r.end <= at:
                if self.units.between(r.end, at) > self.window:
                    break
                out.append(r)
        return out[::-1]

    def after(self, at: int) -> list[Hit]:
        """The rewards that start at or after ``at`` within the window, in text order."""
        out = []
        i = bisect_left(self.reward_starts, at)
        for r in self.rewards[i : i + _REWARDS_PER_UNIT * self.window]:
            if self.units.between(at, r.start) > self.window:
                break
            out.append(r)
        return out


def _at(h: Hit) -> tuple[int, int]:
    return (h.start, h.end)


def _suffix_min(values: list[int]) -> list[int]:
    """Each value replaced by the smallest of it and the values after it."""
    for i in range(len(values) - 2, -1, -1):
        values[i] = min(values[i], values[i + 1])
    return values


def _inside(starts: list[int], min_end: list[int], start: int, end: int) -> bool:
    """Whether one of the spans (sorted starts, suffix-minimum ends) lies inside ``[start, end)``."""
    i = bisect_left(starts, start)
    return i < len(min_end) and min_end[i] <= end


def rewards_for_reviews(
    prep: Prepared, code: str, window: int, card_window: int | None = None
) -> list[Hit]:
    """REVIEW002's hits, each over a review word and the reward it is paid with:

    - a ``reward_offer`` (好评返现) by itself;
    - a ``review_cue`` followed within ``window`` characters of the same clause by a
      ``reward_cue`` (五星好评送小礼品);
    - with ``card_window`` (units: a Chinese character or a Latin word), the steps of a card: a
      review word followed by a reward (a ``reward_cue`` or an amount of money, not told as past)
      later in its sentence when the reward is money (``reward_cash``: 返现; a paying verb before
      an amount: 返5元), or further on, across sentences, when a ``review_link`` stands between
      them (截图, 联系客服, and we will send you); a reward told first and its conditions after it
      (5元红包等你拿！条件：五星好评+晒图) when a ``review_proof`` (条件, 截图, proof) follows the
      review word, any reward when the proof sits right before it (a free gift for a 5-star
      review); and a ``review_change`` (改成好评, 删除差评, or :data:`_CHANGE` around a
      ``bad_review`` word: 中评能帮忙删掉吗; or a change asked without naming the review of a bad
      review named in its sentence or the one before: :data:`_CHANGE_ASK`) with any reward or
      amount on either side of it, past or not (a buyer's report of being paid to change a review
      counts).

    A reward is not the review's price when it is told as past, paid for a purchase told right
    before it (下单再送, 满199返现20), or for an after-sales problem between them (不满意请联系客服，
    我们为您退款); in the review word's clause, nor when the review's reason stands between them
    (好评是因为快递送得快). A reward word opening the clause right after the review word's with a
    paying verb (给好评，返红包) needs no link.

    A hit with a ``disclaimer`` (本店不参与, 不是因为) in its clauses or the clauses beside them in
    its sentence is kept, as category ``disclaimed``: the rule's grade lowers it (see
    :func:`_disclaimed`).

    Every review word looks at the rewards near it by bisection, at most a few per unit of the
    card window on each side, so a long text of repeated words costs time in its length."""
    nt, by_cat = prep.nt, by_category(prep)
    text = nt.text
    found = list(by_cat.get((code, "reward_offer"), []))
    cues = [c for c in by_cat.get((code, "review_cue"), []) if not _boast(text, c)]
    changes = by_cat.get((code, "review_change"), [])
    if card_window is not None and (by_cat.get((code, "bad_review")) or cues or changes):
        changes = changes + _regex_hits(code, "review_change", _CHANGE, nt)
        changes += _asked_of_a_bad_review(code, nt, by_cat.get((code, "bad_review"), []))
        changes.sort(key=_at)
    # a reward said not to be given (五星好评也不会送任何东西, we won't send gifts) is none
    words = sorted(
        (
            r
            for r in by_cat.get((code, "reward_cue"), [])
            if not _NOT_GIVEN.search(text, max(0, r.start - 12), r.start)
        ),
        key=_at,
    )
    if not (cues or changes) or not (words or card_window is not None):
        return _disclaimed(found, by_cat, code, text, nt=nt)
    starts = _clauses(text)
    word_starts = [r.start for r in words]
    card = None
    if card_window is not None:
        rewards = sorted(words + _regex_hits(code, "amount", MONEY, nt), key=_at)
        card = _Card.of(text, starts, rewards, by_cat, code, card_window)

    spans: set[tuple[int, int]] = set()

    def hit(a: Hit, b: Hit) -> None:
        first, last = (a, b) if a.start <= b.start else (b, a)
        if (first.start, last.end) in spans:  # a change found by the lexicon and the pattern
            return
        spans.add((first.start, last.end))
        os_, oe = nt.span(first.start, last.end)
        found.append(
            Hit(
                code,
                "review_for_reward",
                text[first.start : last.end],
                first.start,
                last.end,
                os_,
                oe,
            )
        )

    for c in cues:
        clause = _clause_of(starts, c.start)
        i = bisect_left(word_starts, c.end)
        paid = None
        if i < len(words) and words[i].start <= c.end + window:
            r = words[i]
            if (
                _clause_of(starts, r.start) == clause
                and not _REASON.search(text, c.end, r.start)
                and not _OTHERWISE.search(text, c.end, r.start)
                # a verb that tells how, not what is given (快递送得快, 送的赠品是正品)
                and not (r.end - r.start == 1 and text.startswith(("的", "得"), r.end))
            ):
                paid = r
        if paid is None and card is not None:
            paid = _card(c, card)
        if paid is not None:
            hit(c, paid)
    if card is not None:
        for ch in changes:
            # the nearest reward on either side (the one before on a tie)
            near = card.before(ch.start)[-1:] + card.after(ch.end)[:1]
            if near:
                hit(ch, min(near, key=lambda r: abs(r.start - ch.start)))
    return _disclaimed(found, by_cat, code, text, starts, card.sentences if card else None, nt)


def _asked_of_a_bad_review(code: str, nt: Normalised, bad: list[Hit]) -> list[Hit]:
    """The :data:`_CHANGE_ASK` requests with a bad review named before them in their sentence or
    the one before it: a change asked of that review (a request with no bad review near it, 麻烦
    改一下, is about something else)."""
    asks = _regex_hits(code, "review_change", _CHANGE_ASK, nt)
    if not asks:
        return []
    text = nt.text
    at = sorted([b.start for b in bad] + [m.start() for m in _BAD_REVIEW_AT.finditer(text)])
    if not at:
        return []
    sentences = _sentences(text)
    out = []
    for a in asks:
        since = sentences[max(0, _clause_of(sentences, a.start) - 1)]
        i = bisect_left(at, since)
        if i < len(at) and at[i] < a.start:
            out.append(a)
    return out


def _card(c: Hit, card: _Card) -> Hit | None:
    """The first reward a review word ``c`` pays for on a card (see :func:`rewards_for_reviews`):
    one after it first (the card's steps), then one told before it."""
    sentence = _clause_of(card.sentences, c.start)
    sentence_end = (
        card.sentences[sentence + 1] if sentence + 1 < len(card.sentences) else len(card.text)
    )
    for r in card.after(c.end):
        if card.past(r) or card.for_purchase(r) or card.otherwise(c.end, r.start):
            continue
        money = card.money(r)
        if _clause_of(card.sentences, r.start) == sentence and (money or card.opens_clause(c, r)):
            return r
        # an amount a link leads to is a reward only when paid (截图为证，比实体店便宜30元 is not)
        if card.linked(c.end, r.end, sentence_end) and (money or r.category != "amount"):
            return r
    # told first: money, then the review word and what proves it after it (条件：五星好评, email
    # proof), or right before it (send proof of a five-star review, $20 refund for a five-star
    # review); after the rewards that follow, so that a sum disclaimed before the review word
    # (我们不搞好评返现哈，您收到后给个带图好评，截图发我，送您一个手机支架) does not stand for the
    # gift offered after it
    after, right_before = card.proved(c)
    if after or right_before is not None:
        for r in card.before(c.start):
            money = card.money(r) or r.category == "amount"
            # money told first and proved after the review word; any reward before a proof
            # that ties it to the review word right after it (a free gift for a 5-star review)
            if (money and after) or (right_before is not None and r.end <= right_before):
                return r
    return None


def _names_a_sum(text: str, h: Hit) -> bool:
    """Whether hit ``h`` holds an amount of money or is followed by one (五星就返10元)."""
    return bool(MONEY.search(text, h.start, h.end) or MONEY.match(text, h.end))


#: a phrase that denies a reward of its own (也不送, 一律不参加, 也没有)
_DENIES = re.compile(r"不|没有|没|拒绝|禁止|杜绝|抵制|\bno\b|\bnot\b|\bnever\b")


def _space_gaps(nt: Normalised) -> list[int]:
    """The normalised offsets where the normaliser removed a space (a phrase boundary the writer
    left between Chinese words), in order."""
    out = []
    original = nt.original
    prev = nt.position(0) if nt.text else 0
    for i in range(1, len(nt.text)):
        at = nt.position(i)
        if at > prev + 1 and any(c.isspace() for c in original[prev + 1 : at]):
            out.append(i)
        prev = at
    return out


#: a clause that turns against the one before it: a disclaimer there does not reach it
_CONTRAST = re.compile(r"\s?(?:但是?|不过|可是|只要|然而|but|however|yet)")


def _disclaimed(
    found: list[Hit],
    by_cat: dict,
    code: str,
    text: str,
    starts: list[int] | None = None,
    ends: list[int] | None = None,
    nt: Normalised | None = None,
) -> list[Hit]:
    """``found`` in text order, a hit beside a ``disclaimer`` re-categorised ``disclaimed``: a
    disclaimer counts for a hit in its own clauses or the clauses right before and after them, in
    the same sentence (好评返现属于违规行为，本店不参与; 温馨提示：好评返现违法，本店拒绝一切…);
    the clause before does not reach a hit whose clause turns against it (本店不做好评返现，但五星
    好评晒图可领小礼品: the second is an offer) nor one that names a sum (不要求您写好评，给个五星
    就返10元)."""
    disclaimers = by_cat.get((code, "disclaimer"), [])
    here = by_cat.get((code, "disclaimer_here"), [])
    if found and (disclaimers or here):
        # the clause and sentence starts, when the caller has not worked them out already
        starts = _clauses(text) if starts is None else starts
        ends = _sentences(text) if ends is None else ends
        # the disclaimers' clauses by sentence, in order: a hit asks its sentence by bisection
        at: dict[int, list[int]] = {}
        for d in disclaimers:
            at.setdefault(_clause_of(ends, d.start), []).append(_clause_of(starts, d.start))
        for clauses in at.values():
            clauses.sort()
        own = sorted((_clause_of(starts, d.start), d.start, d.end) for d in here)
        # a disclaimer of one thing reaches only its own phrase: where the writer left a space
        # between two phrases of a title (不搞好评返现 五星好评晒图送运费险) the normaliser joined
        # them into one clause, and the second is an offer of its own
        gaps = _space_gaps(nt) if (here and nt is not None) else []

        def apart(a: int, b: int) -> bool:
            """Whether a space the normaliser removed lies between offsets a <= b (a gap at g is
            the space before character g)."""
            i = bisect_left(gaps, a)
            return i < len(gaps) and gaps[i] <= b

        def phrase_of(h: Hit) -> tuple[int, int]:
            """The span between the spaces the writer left around ``h``."""
            i = bisect_right(gaps, h.start)
            return (gaps[i - 1] if i else 0), (gaps[i] if i < len(gaps) else len(text))

        def disclaimed(h: Hit) -> bool:
            first, last = _clause_of(starts, h.start), _clause_of(starts, max(h.start, h.end - 1))
            j = bisect_left(own, (first, -1, -1))
            while j < len(own) and own[j][0] <= last:
                _, ds, de = own[j]
                if not (apart(de, h.start) if de <= h.start else apart(h.end, ds)):
                    return True
                # ... unless the hit's own phrase denies too (本店不做好评返现 晒图好评也不送红包)
                if _DENIES.search(text, *phrase_of(h)):
                    return True
                j += 1
            # the clause before reaches neither a clause that turns against it nor a sum offered
            # (不要求您写好评，给个五星就返10元: the second clause is an offer of its own)
            if not (_CONTRAST.match(text, starts[first]) or _names_a_sum(text, h)):
                first -= 1
            clauses = at.get(_clause_of(ends, h.start), [])
            i = bisect_left(clauses, first)
            return i < len(clauses) and clauses[i] <= last + 1

        found = [replace(h, category="disclaimed") if disclaimed(h) else h for h in found]
    return sorted(found, key=_at)


__all__ = [
    "ContentRules",
    "Prepared",
    "by_category",
    "handles_after",
    "identifier_hits",
    "lexicon_hits",
    "normalise",
    "rewards_for_reviews",
    "unbased_claims",
]
