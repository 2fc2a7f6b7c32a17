"""Near-duplicate texts by MinHash over character shingles, with LSH banding, all in numpy.

Character n-grams need no word segmentation, so the same code serves Chinese and English. Every
text becomes one array of code points; shingles are rolling polynomial hashes over it, each
permutation is a multiply-shift hash, and a text's signature is the minimum per permutation
(``np.minimum.reduceat``). Texts that agree on all rows of some band are candidates; a candidate
pair is kept when its signatures agree on at least ``similarity`` of the permutations (the MinHash
estimate of their Jaccard similarity). Kept pairs close into clusters by connected components.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from promoguard.graph.components import component_labels
from promoguard.text.scripts import traditional_to_simplified

_STRIP = re.compile(r"[\W_]+", re.UNICODE)
_SEED = 20261111
_PRIME = np.uint64(1_000_003)


#: letters of other scripts that look like Latin ones, as lower case gives them (Unicode TR39's
#: confusables, the Cyrillic and Greek letters a copied review swaps in so that it no longer
#: matches: 'Grеat prоduct' with a Cyrillic е and о), read as the Latin letter. A text in those
#: scripts is read through the same map, so two such texts compare as before.
_LOOKALIKE = str.maketrans(
    {
        # Cyrillic (lower case, and the lower forms of capitals that look Latin: В Н К М Т)
        "а": "a", "в": "b", "е": "e", "һ": "h", "н": "h", "і": "i", "ј": "j", "к": "k",
        "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y",
        "х": "x", "ԁ": "d", "ԝ": "w", "с": "c",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    }
)  # fmt: skip


@lru_cache(maxsize=1)
def _fold() -> dict[int, str]:
    """What ``normalise`` reads characters as after lower-casing: ``_LOOKALIKE``'s letters as
    Latin, and traditional Chinese characters as simplified (``text.scripts``: a copy passed
    through a converter, 這個產品 for 这个产品, is the same text)."""
    return {**traditional_to_simplified(), **_LOOKALIKE}


def normalise(text: str | None) -> str:
    """HTML entities decoded (an export that left '&quot;' or '&#22909;' in), NFKC, lower case,
    look-alike letters read as Latin and traditional Chinese as simplified (``_fold``), no spaces
    or punctuation: '好 评！！' and '好评!' compare equal, and so do 'good' and 'gоod' with a
    Cyrillic о, and '質量很好' and '质量很好'."""
    if not text:
        return ""
    return _normalised(html.unescape(text) if "&" in text else text)


def _normalised(text: str) -> str:
    """``normalise`` of a text whose entities are decoded."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text).lower().translate(_fold()))


#: joins texts for ``normalise_many``: a character ``normalise`` keeps out of every text
_RECORD = "\x1e"


#: ``_tables``' kinds of code point: read by the fast path as it is, read by the fast path
#: through ``_fold`` (a look-alike letter, a traditional character), or read by ``normalise``
FAST, FOLDED, SLOW = 0, 1, 2


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep, kind, read_as): per code point, whether ``normalise_many``'s fast path keeps it after
    lower-casing; its kind (``FAST``, ``FOLDED``: the fast path reads a text holding it, ``SLOW``:
    the text must go through ``normalise`` itself); and what the fast path reads it as once
    lower-cased (``_fold``'s character, else itself).

    The fast path is ``str.lower`` over a whole batch, then dropping what ``_STRIP`` drops and
    reading what is left through ``_fold``, a code point at a time. It equals ``normalise``
    (NFKC, lower, fold, strip) on every text made only of characters for which, alone, NFKC
    changes nothing, or turns them into nothing ``_STRIP`` keeps (full-width punctuation:
    '！' -> '!'), and which NFKC cannot combine with a neighbour: no combining mark, no second
    half of a composition (Hangul vowels and finals, a few Indic signs), in the character or in
    its decomposition. NFKC of such a text is the concatenation of its characters' NFKC,
    ``str.lower`` maps character by character but for a final sigma (a sigma is slow), ``_fold``
    maps one character to one, and the strip drops single characters (a folded character is a
    letter as its fold is). Everything else (full-width letters, ligatures, combining marks,
    sigma, anything outside the BMP) is slow: those texts, a handful in a million, are
    normalised one by one. So are the texts with an '&' (an HTML entity, maybe). A text in
    traditional characters, or in Russian (whose letters look Latin), is read fast: the fold is
    one numpy lookup, made only for a batch that holds such a character.
    ``tests/graph`` checks every BMP character.
    """
    fold = _fold()
    seconds = {0x1161 + i for i in range(21)} | {0x11A8 + i for i in range(27)}  # Hangul V, T
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<"):
            parts = d.split()
            if len(parts) == 2:
                seconds.add(int(parts[1], 16))
    keep = np.zeros(0x110000, dtype=bool)
    kind = np.full(0x110000, SLOW, dtype=np.uint8)
    read_as = np.arange(0x110000, dtype=np.uint32)
    for key, value in fold.items():
        read_as[key] = ord(value)
    for cp in range(0x10000):
        ch = chr(cp)
        keep[cp] = ch.isalnum()  # what ``_STRIP`` (``[\W_]``) leaves
        if 0xD800 <= cp <= 0xDFFF or cp == 0x3A3:  # surrogates; sigma (final form in context)
            continue
        d = unicodedata.normalize("NFKD", ch)
        if any(unicodedata.combining(x) or ord(x) in seconds for x in ch + d):
            continue
        nfkc = unicodedata.normalize("NFKC", ch)
        low = ch.lower()
        folded = low.translate(fold) != low
        if folded and (len(low) != 1 or nfkc != ch):
            continue  # (lowered to two characters, or NFKC first: ``normalise`` reads it)
        if nfkc == ch or (not _STRIP.sub("", nfkc.lower()) and low == ch):
            kind[cp] = FOLDED if folded else FAST
            if nfkc != ch:
                keep[cp] = False  # NFKC makes it something the strip drops
    kind[ord("&")] = SLOW
    keep[ord(_RECORD)] = True
    kind[ord(_RECORD)] = FAST
    return keep, kind, read_as


def normalise_many(texts: Sequence[str | None], chunk: int = 65_536) -> list[str]:
    """``[normalise(t) for t in texts]``, a batch at a time: one ``str.lower`` and one numpy
    pass over the code points of many texts joined (see ``_tables``), ``normalise`` itself only
    for the rare text the fast path cannot read."""
    keep, kind, read_as = _tables()
    out: list[str] = []
    for start in range(0, len(texts), chunk):
        part = [t or "" for t in texts[start : start + chunk]]
        joined = _RECORD.join(part)
        if joined.count(_RECORD) != len(part) - 1:  # a text holds the record mark itself
            out.extend(normalise(t) for t in part)
            continue
        # (a lone surrogate passes through to ``SLOW``: such a text is normalised alone)
        raw = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        kinds = kind[raw]
        top = int(kinds.max()) if len(kinds) else FAST
        codes = np.frombuffer(joined.lower().encode("utf-32-le", "surrogatepass"), np.uint32)
        codes = codes[keep[codes]]
        if top >= FOLDED and (top == FOLDED or (kinds == FOLDED).any()):
            codes = read_as[codes]  # look-alike letters as Latin, traditional as simplified
        done = codes.tobytes().decode("utf-32-le", "surrogatepass").split(_RECORD)
        if top == SLOW:
            odd = np.flatnonzero(kinds == SLOW)
            starts = np.flatnonzero(raw == ord(_RECORD)) + 1
            owners = np.searchsorted(starts, odd, side="right")
            for k in np.unique(owners).tolist():
                done[k] = normalise(part[k])
        out.extend(done)
    return out


_WIDE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def weighted_length(normalised: str) -> float:
    """Length in 'Chinese characters': a CJK character counts 1, any other character 1/3.

    A Chinese character carries about as much as three Latin letters, so one threshold serves
    reviews in both scripts (a 30-character Chinese sentence, a 90-letter English one).
    """
    wide = len(_WIDE.findall(normalised))
    return wide + (len(normalised) - wide) / 3.0


def weighted_lengths(texts: Sequence[str]) -> np.ndarray:
    """weighted_length of many texts at once (numpy over their code points)."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    if not lengths.sum():
        return lengths.astype(np.float64)
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    wide = (
        ((codes >= 0x2E80) & (codes <= 0x9FFF))
        | ((codes >= 0xAC00) & (codes <= 0xD7AF))
        | ((codes >= 0xF900) & (codes <= 0xFAFF))
    )
    owner = np.repeat(np.arange(len(texts)), lengths)
    n_wide = np.bincount(owner, weights=wide, minlength=len(texts))
    return n_wide + (lengths - n_wide) / 3.0


#: a run of one unit (of up to 16 characters: padding repeats a word or a short phrase, and a
#: bound keeps the search linear in the text) said three or more times over ('好好好好', '哈哈哈',
#: 'goodproductgoodproduct…')
_PADDING = re.compile(r"(.{1,16}?)\1{2,}", re.DOTALL)


def unpadded(normalised: str) -> str:
    """``normalised`` with every unit repeated three or more times in a row said once: what the
    text says, without the padding buyers add to reach the length a platform rewards ('好' forty
    times is '好'; 'good product' ten times is 'good product'). A word or a letter doubled, as
    natural text doubles them (很快很快, 'too'), stays."""
    return _PADDING.sub(r"\1", normalised)


def text_signatures(
    texts: Sequence[str], n: int, num_perm: int, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """(indices of texts that have shingles, their MinHash signatures), ``chunk`` texts at a time
    so memory stays bounded however many texts there are."""
    found, sigs = [], []
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        h, owner = shingle_hashes(part, n)
        present, sig = signatures(h, owner, len(part), num_perm)
        found.append(present + start)
        sigs.append(sig)
    if not found:
        return np.zeros(0, np.int64), np.zeros((0, num_perm), np.uint32)
    return np.concatenate(found), np.concatenate(sigs)


def _coefficients(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_SEED)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def shingle_hashes(texts: Sequence[str], n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every character n-gram of every text, and the index of the text it came from.

    Texts shorter than ``n`` have no shingles. Rolling polynomial hashes in wrapping uint64.
    """
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    total = int(lengths.sum())
    if total < n:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    h = np.zeros(total - n + 1, dtype=np.uint64)
    for k in range(n):
        h = h * _PRIME + codes[k : total - n + 1 + k]
    del codes
    text_start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)[: total - n + 1]
    keep = (np.arange(total - n + 1) - text_start[owner]) <= (lengths[owner] - n)
    return h[keep], owner[keep]


def signatures(
    h: np.ndarray, owner: np.ndarray, n_texts: int, num_perm: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of the texts that have shingles: (text indices, signatures uint32).

    ``owner`` must be ascending (as shingle_hashes returns it).
    """
    a, b = _coefficients(num_perm)
    present = np.flatnonzero(np.bincount(owner, minlength=n_texts) > 0)
    sig = np.empty((len(present), num_perm), dtype=np.uint32)
    if not len(present):
        return present, sig
    seg = np.searchsorted(owner, present)
    shift = np.uint64(32)
    for j in range(num_perm):
        hv = ((h * a[j] + b[j]) >> shift).astype(np.uint32)
        sig[:, j] = np.minimum.reduceat(hv, seg)
    return present, sig


def band_keys(sig: np.ndarray, bands: int) -> np.ndarray:
    """One key per text and LSH band (uint64, shape (texts, bands)): texts whose signatures agree
    on every row of a band share that band's key."""
    m, num_perm = sig.shape
    rows = num_perm // bands
    mix = np.random.default_rng(_SEED + 1).integers(1, 2**63, size=rows, dtype=np.uint64) | 1
    keys = np.zeros((m, bands), dtype=np.uint64)
    for band in range(bands):
        block = sig[:, band * rows : (band + 1) * rows].astype(np.uint64)
        key = np.zeros(m, dtype=np.uint64)
        for r in range(rows):
            key = (key ^ block[:, r]) * mix[r]
        keys[:, band] = key
    return keys


def agreement_needed(similarity: float, num_perm: int) -> int:
    """How many of the permutations two signatures must agree on to count as near duplicates."""
    return int(np.ceil(similarity * num_perm - 1e-9))


def near_duplicate_clusters(
    sig: np.ndarray, bands: int, similarity: float, same: np.ndarray | None = None
) -> np.ndarray:
    """Cluster label per row (smallest row index of its cluster) from LSH candidates.

    The candidates of every band are gathered first and each distinct pair compared once (a
    pair of near copies is a candidate in most bands): the same pairs kept, so the same
    components. ``same``: an id per row (at least 0), equal between two rows only when their
    signatures are equal (rows of the same text); then candidates of the same two ids, which
    agree on the same permutations, are compared once too (the rows of a few texts, repeated
    and interleaved, make most of the candidates).
    """
    m, num_perm = sig.shape
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    keys = band_keys(sig, bands)
    src_parts, dst_parts = [], []
    for band in range(bands):
        key = keys[:, band]
        # by key, ties in row order (what ``np.lexsort((np.arange(m), key))`` gives)
        order = np.argsort(key, kind="stable")
        same_key = key[order[1:]] == key[order[:-1]]
        src_parts.append(order[:-1][same_key])
        dst_parts.append(order[1:][same_key])
    i = np.concatenate(src_parts).astype(np.int64, copy=False)
    j = np.concatenate(dst_parts).astype(np.int64, copy=False)
    if not len(i):
        return component_labels(m, i, j)
    # what decides a pair: its two signatures (agreement is symmetric), named by row or by id
    a, b = (
        (i, j) if same is None else (np.asarray(same, np.int64)[i], np.asarray(same, np.int64)[j])
    )
    span = int(max(a.max(), b.max())) + 1
    if span <= 2**31:
        _codes, first, back = np.unique(
            np.minimum(a, b) * span + np.maximum(a, b), return_index=True, return_inverse=True
        )
    else:  # (ids too large to pair in an int64: every candidate compared)
        first, back = np.arange(len(i)), np.arange(len(i))
    agree = (sig[i[first]] == sig[j[first]]).sum(axis=1)
    ok = (agree >= agreement_needed(similarity, num_perm))[back.reshape(-1)]
    return component_labels(m, i[ok], j[ok])
