"""One Aho-Corasick pass over a normalised text for every lexicon at once.

Each lexicon term is normalised the same way as the text, so ``最佳`` in the lexicon also matches
``最 佳``, ``最*佳`` and ``ＢＥＳＴ``-style spellings in the text. A hit is kept only when

- a term that begins (ends) with a Latin letter or digit is not glued to another one there (``best``
  does not match inside ``bestow``; ``vx`` does not match inside ``vxyz``; a plural ``s`` is fine), and
- no allow-list term (``ALLOW``: 最近, 第一次, 唯品会 ...) covers it (an ``ALLOW`` row of the same
  spelling switches a term off).

Hits carry normalised and original offsets, so evidence quotes the text as it was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ahocorasick

from promoguard.text.lexicon import ALLOW, Term
from promoguard.text.normalise import Normalised, normalise

CONTEXT_CHARS = 20
#: codes whose hits steer matching but are never reported
SILENT = frozenset({ALLOW, "TRIGGER"})


@dataclass(frozen=True)
class Hit:
    code: str
    category: str
    term: str  # the lexicon's term (or a detector's kind)
    start: int  # normalised offsets [start, end)
    end: int
    ostart: int  # original offsets [ostart, oend)
    oend: int
    allowed_categories: frozenset[str] = frozenset()
    source: str = ""


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _plural(norm: str, end: int) -> bool:
    """An English plural right after a term ("stun guns", "cures") still counts as the term."""
    if not norm[end - 1].isalpha():
        return False
    for suffix in ("s", "es"):
        after = end + len(suffix)
        if norm.startswith(suffix, end) and (after >= len(norm) or not _ascii_alnum(norm[after])):
            return True
    return False


class Matcher:
    """All lexicon terms in one automaton; ``scan`` returns the hits that survive the context."""

    def __init__(self, terms: Iterable[Term]) -> None:
        by_key: dict[str, list[Term]] = {}
        for t in terms:
            key = normalise(t.term).text.strip()
            if key:
                by_key.setdefault(key, []).append(t)
        self.terms = by_key
        self._automaton = ahocorasick.Automaton()
        for key, ts in by_key.items():
            # what ``scan`` asks of every occurrence, answered once per key: its length, whether
            # it begins/ends with a Latin letter or digit, whether it is an allow-list word, and
            # the hits it makes once placed (none for words that only steer matching)
            reported = tuple(t for t in ts if t.code not in SILENT)
            self._automaton.add_word(
                key,
                (
                    key,
                    tuple(ts),
                    len(key),
                    _ascii_alnum(key[0]),
                    _ascii_alnum(key[-1]),
                    any(t.code == ALLOW for t in ts),
                    reported,
                    any(t.code == "TRIGGER" for t in ts),
                ),
            )
        if by_key:
            self._automaton.make_automaton()
        self._empty = not by_key

    def raw_iter(self, norm: str):
        """(end index, terms) of every occurrence, no context applied (for a first pass)."""
        if self._empty:
            return
        for last, value in self._automaton.iter(norm):
            yield last, value[1]

    def raw_hits(self, norm: str) -> list[tuple[int, int, tuple[Term, ...]]]:
        """(start, end, terms) of every occurrence of a term in normalised text, boundaries kept."""
        if self._empty:
            return []
        return [(s, e, value[1]) for s, e, value in self._placed(norm)]

    def _placed(self, norm: str) -> list[tuple[int, int, tuple[Any, ...]]]:
        """(start, end, automaton value) of every occurrence whose boundaries hold."""
        out: list[tuple[int, int, tuple[Any, ...]]] = []
        n = len(norm)
        for last, value in self._automaton.iter(norm):
            end = last + 1
            start = end - value[2]
            if value[3] and start > 0 and _ascii_alnum(norm[start - 1]):
                continue
            if value[4] and end < n and _ascii_alnum(norm[end]) and not _plural(norm, end):
                continue
            out.append((start, end, value))
        return out

    def scan(self, text: str | Normalised) -> tuple[Normalised, list[Hit]]:
        """Normalise (unless given normalised text) and return the surviving hits, in order."""
        nt, hits, _ = self.scan_gated(text)
        return nt, hits

    def scan_gated(self, text: str | Normalised) -> tuple[Normalised, list[Hit], frozenset[str]]:
        """``scan``, and the pattern gates (``TRIGGER`` terms, by their normalised key) the text
        holds: a phrase pattern whose gates are all absent need not be searched."""
        nt = text if isinstance(text, Normalised) else normalise(text)
        if self._empty:
            return nt, [], frozenset()
        raw = self._placed(nt.text)
        if not raw:
            return nt, [], frozenset()
        allow = [(s, e) for s, e, value in raw if value[5]]
        # hits of codes that are not checks (allow-list words, pattern triggers) are not reported
        hits: list[Hit] = []
        gated = []
        for s, e, value in raw:
            if value[7]:
                gated.append(value[0])
            reported = value[6]
            if not reported:
                continue
            if allow and any(a <= s and e <= b for a, b in allow):
                continue
            os_, oe = nt.span(s, e)
            for t in reported:
                hits.append(
                    Hit(t.code, t.category, t.term, s, e, os_, oe, t.allowed_categories, t.source)
                )
        hits.sort(key=lambda h: (h.start, h.end, h.code, h.term))
        return nt, hits, frozenset(gated)


def context(original: str, ostart: int, oend: int, width: int = CONTEXT_CHARS) -> str:
    """The original text around a span, for evidence (it stays data: escaped where rendered)."""
    left = max(0, ostart - width)
    right = min(len(original), oend + width)
    return ("…" if left else "") + original[left:right] + ("…" if right < len(original) else "")
