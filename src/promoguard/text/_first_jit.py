"""The text engine's first pass compiled (numba): which texts of a batch hold a first-pass key.

pyahocorasick walks its trie in Python-visible steps and holds the GIL: over the city's 1.07M
merchant texts and 1.22M reviews (~250 MB of UTF-8) it was ~1.5 CPU seconds, on the scan's
critical path while the other scan thread waited for the interpreter. Here the same keys become
a deterministic automaton over bytes (a full transition table: state x byte, failure links
folded in), run by a compiled loop that releases the GIL. A text is marked when any key ends in
it: exactly the texts the pyahocorasick pass finds, since both report every occurrence of every
key (tests compare the two).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np
from numba import njit


def byte_automaton(keys: Iterable[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(transitions, accepting) of the Aho-Corasick automaton of ``keys`` as a byte DFA:
    ``transitions[state, byte]`` is the next state, ``accepting[state]`` whether some key ends
    there (directly or through a failure link)."""
    children: list[dict[int, int]] = [{}]
    accepting = [False]
    for key in keys:
        node = 0
        for b in key:
            nxt = children[node].get(b)
            if nxt is None:
                nxt = len(children)
                children[node][b] = nxt
                children.append({})
                accepting.append(False)
            node = nxt
        accepting[node] = True
    n = len(children)
    delta = np.zeros((n, 256), np.int32)
    fail = np.zeros(n, np.int32)
    acc = np.array(accepting, dtype=np.bool_)
    for b, child in children[0].items():
        delta[0, b] = child
    queue = deque(children[0].values())
    while queue:
        state = queue.popleft()
        # every byte without a child goes where the failure state goes
        delta[state] = delta[fail[state]]
        for b, child in children[state].items():
            fail[child] = delta[fail[state], b]
            acc[child] = acc[child] or acc[fail[child]]
            delta[state, b] = child
            queue.append(child)
    return delta, acc


@njit(cache=True, nogil=True)
def marked_records(
    data: np.ndarray, delta: np.ndarray, accepting: np.ndarray, record: int, n_records: int
) -> np.ndarray:
    """Per record of ``data`` (UTF-8 texts joined by the byte ``record``, which no key holds),
    whether a key occurs in it."""
    marked = np.zeros(n_records, np.bool_)
    state = 0
    rec = 0
    for i in range(data.shape[0]):
        b = data[i]
        if b == record:
            rec += 1
        state = delta[state, b]
        if accepting[state]:
            marked[rec] = True
    return marked


@njit(cache=True, nogil=True)
def maybe_candidates(
    data: np.ndarray,
    offsets: np.ndarray,
    delta: np.ndarray,
    accepting: np.ndarray,
    literal: np.ndarray,
    literal_accepting: np.ndarray,
    skip: np.ndarray,
    mark: np.ndarray,
    digitish: np.ndarray,
) -> np.ndarray:
    """Per text of an Arrow string column (UTF-8 ``data``, ``offsets``), whether the first pass
    could select it: a character ``mark`` names; a run of ten or more of ``[0-9 +xX-]`` that
    starts with a digit; eleven ``digitish`` characters (Arabic or Chinese digits) with at most
    one character between two, the ``skip`` characters not counted; an ``@``; a key of ``delta``
    in the text with ASCII lower-cased and the ``skip`` characters left out (the keys likewise);
    or a key of ``literal`` in the text with ASCII lower-cased. Never less than the first pass."""
    n = offsets.shape[0] - 1
    out = np.zeros(n, np.bool_)
    for t in range(n):
        i = offsets[t]
        end = offsets[t + 1]
        state = 0
        lit = 0
        run = 0
        loose = 0
        gap = 2
        while i < end:
            b = data[i]
            if b < 0x80:
                cp = np.int64(b)
                width = 1
            elif b < 0xE0:
                cp = (np.int64(b & 0x1F) << 6) | np.int64(data[i + 1] & 0x3F)
                width = 2
            elif b < 0xF0:
                cp = (
                    (np.int64(b & 0x0F) << 12)
                    | (np.int64(data[i + 1] & 0x3F) << 6)
                    | np.int64(data[i + 2] & 0x3F)
                )
                width = 3
            else:
                cp = (
                    (np.int64(b & 0x07) << 18)
                    | (np.int64(data[i + 1] & 0x3F) << 12)
                    | (np.int64(data[i + 2] & 0x3F) << 6)
                    | np.int64(data[i + 3] & 0x3F)
                )
                width = 4
            if mark[cp] or cp == 64:  # "@"
                out[t] = True
                break
            # a digit starts or extends a run; a space, +, - or x only extends one
            digit = 48 <= cp <= 57
            joins = cp == 32 or cp == 43 or cp == 45 or cp == 120 or cp == 88
            run = run + 1 if digit or (run > 0 and joins) else 0
            if run >= 10:
                out[t] = True
                break
            # digits read out loosely (一三九…, 159x8630y1724): one other character between two
            if digitish[cp]:
                loose = loose + 1 if gap <= 1 else 1
                gap = 0
                if loose >= 11:
                    out[t] = True
                    break
            elif not skip[cp]:
                gap += 1
            if width == 1:
                c = b + 32 if 65 <= b <= 90 else b
                lit = literal[lit, c]
                if literal_accepting[lit]:
                    out[t] = True
                    break
                if not skip[cp]:
                    state = delta[state, c]
                    if accepting[state]:
                        out[t] = True
                        break
            else:
                keep = not skip[cp]
                for k in range(width):
                    lit = literal[lit, data[i + k]]
                    if literal_accepting[lit]:
                        out[t] = True
                    if keep:
                        state = delta[state, data[i + k]]
                        if accepting[state]:
                            out[t] = True
                if out[t]:
                    break
            i += width
    return out


#: the classes of :func:`loose_records`' table (``LOOSE_*``): every other character is 0
LOOSE_DIGIT, LOOSE_ZH_DIGIT, LOOSE_JOIN, LOOSE_PLUS, LOOSE_SKIPPED, LOOSE_RECORD = 1, 2, 3, 4, 5, 6


@njit(cache=True, nogil=True)
def loose_records(codes: np.ndarray, classes: np.ndarray, n_records: int) -> np.ndarray:
    """Per record of ``codes`` (code points of texts joined by a record mark), what its runs of
    eleven digits hold besides Arabic digits; a run: digits, Arabic or Chinese, at most one
    character between two, characters the first pass's fold may drop (``LOOSE_JOIN``,
    ``LOOSE_SKIPPED``) not counted. 2: some character other than a space, + or - (a Chinese
    digit, a dot, a letter, a symbol: a number only a loose reading finds), 1: spaces, + or -
    only (a grouping the loose readings know too), 0: no such run, or Arabic digits alone (what
    the strict patterns read). ``classes``: per code point, its ``LOOSE_*`` class or 0."""
    level = np.zeros(n_records, np.uint8)
    rec = 0
    loose = 0
    gap = 2
    odd = False
    gapped = False
    for i in range(codes.shape[0]):
        c = classes[codes[i]]
        if c == 0:
            gap += 1
            gapped = True
            odd = True
        elif c <= LOOSE_ZH_DIGIT:
            if gap > 1:
                loose = 0
                odd = False
                gapped = False
            loose += 1
            gap = 0
            if c == LOOSE_ZH_DIGIT:
                odd = True
            if loose >= 11:
                if odd:
                    level[rec] = 2
                elif gapped and level[rec] == 0:
                    level[rec] = 1
        elif c == LOOSE_RECORD:
            rec += 1
            loose = 0
            gap = 2
            odd = False
            gapped = False
        else:
            gapped = True
            if c == LOOSE_PLUS:
                gap += 1
            elif c == LOOSE_SKIPPED:
                odd = True
    return level
