"""Mask personal data in text, so texts can be shared with the least personal data needed.

Every validated identifier (``promoguard.text.identifiers``: resident ID, bank card, mobile,
e-mail, passport; found on the normalised text, so full-width digits, spaced-out numbers and the
looser spellings it reads, 一三八… or name#qq.com, count too) is replaced in the original text by
a token:

- ``[ID:3fa2c1]``, ``[EMAIL:3fa2c1]``, ``[PASSPORT:3fa2c1]``: a keyed hash only;
- ``[CARD:3fa2c1 ****1234]``, ``[PHONE:3fa2c1 ****5678]``: the keyed hash and the last four digits,
  as receipts show them.

The hash is an HMAC-SHA256 under a key: the same number gives the same token within one export
(so a regulator can see that two chats name the same person) but, without the key, the token
cannot be turned back into the number by trying every possible ID. Digits that are not personal
data (prices, order numbers, an ID with a wrong check character) are kept as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from promoguard.text.identifiers import KINDS, ZH_DIGITS, find_identifiers
from promoguard.text.normalise import normalise

LABELS = {
    "resident_id": "ID",
    "bank_card": "CARD",
    "mobile": "PHONE",
    "email": "EMAIL",
    "passport": "PASSPORT",
}
KEEP_LAST4 = {"bank_card", "mobile"}


@dataclass
class Masker:
    """Masks identifiers with tokens under one key (random unless given)."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    kinds: tuple[str, ...] = KINDS
    counts: Counter[str] = field(default_factory=Counter)
    #: False: tokens carry no hash (``[ID]``, ``[CARD ****1234]``), for evidence that must be the
    #: same bytes on every run
    hashed: bool = True

    def token(self, kind: str, value: str) -> str:
        canonical = re.sub(r"[\s+-]", "", value).lower()
        if kind == "mobile" and len(canonical) == 13 and canonical.startswith("86"):
            canonical = canonical[2:]
        label = LABELS[kind]
        if self.hashed:
            mac = hmac.new(self.key, f"{kind}:{canonical}".encode(), hashlib.sha256)
            label = f"{label}:{mac.hexdigest()[:6]}"
        if kind in KEEP_LAST4:
            return f"[{label} ****{canonical[-4:]}]"
        return f"[{label}]"

    def mask(self, text: str | None) -> str | None:
        """``text`` with every validated identifier replaced by its token (None stays None)."""
        if not text:
            return text
        nt = normalise(text)
        found = find_identifiers(nt.text, self.kinds)
        if not found:
            return text
        pieces: list[str] = []
        last = 0
        # a mobile can sit inside an e-mail (13812345678@qq.com): of two identifiers starting
        # together the longer is masked, so no part of either is left showing
        for ident in sorted(found, key=lambda i: (i.start, -i.end)):
            start, end = nt.span(ident.start, ident.end)
            if start < last:  # inside one already masked
                continue
            pieces.append(text[last:start])
            pieces.append(self.token(ident.kind, ident.value))
            last = end
            self.counts[ident.kind] += 1
        pieces.append(text[last:])
        return "".join(pieces)


#: How findings, evidence and reports quote a text: tokens without a hash, the same bytes on every
#: run, as frozen evidence needs (one instance for all of them)
QUOTES = Masker(hashed=False)


def mask_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A string column with each value's identifiers masked (``Masker(hashed=False)``): each
    distinct value is masked once; nulls stay null."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_null(values.type):
        return values
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())  # a dictionary or a string view: as plain strings
    distinct = pc.unique(values)
    # only a text with a number (any script: ①, ３, 𝟑 fold to digits; 一, 壹 read out), an @ or a
    # mailbox cue can hold an identifier: the others are not normalised in Python at all
    maybe = pc.fill_null(pc.match_substring_regex(distinct, _MAYBE_IDENTIFIER), False)
    texts = distinct.to_pylist()
    flags = maybe.to_pylist()
    masked = pa.array(
        [QUOTES.mask(v) if f else v for v, f in zip(texts, flags, strict=True)],
        pa.string(),
    )
    return pc.take(masked, pc.index_in(values, value_set=distinct)).cast(values.type)


#: what a text holding a validated identifier must contain (RE2): a number of any script, an @,
#: a digit read out in Chinese (identifiers.ZH_DIGITS, and the compatibility forms NFKC reads as
#: ideographs: ⼀, ㆒, ㈠, ㊀, 零, and the squared ones, 🈩 🈔 🈪), or a mailbox cue (an address
#: spelt out has no @ and may have no digit; letters of the mathematical alphabets, 𝐞𝐦𝐚𝐢𝐥, are
#: looked at whatever they say: a reviewer's probes found both copied unmasked into evidence).
#: Other look-alike letters for "email" are not looked for here; TEXT005's own evidence is
#: masked by the masker itself, value by value.
_MAYBE_IDENTIFIER = (
    r"[\p{N}@＠﹫箱"
    + "".join(ZH_DIGITS)
    + r"\x{2F00}-\x{2FDF}\x{3190}-\x{319F}\x{3200}-\x{32FF}\x{F900}-\x{FAFF}"
    + r"\x{1F200}-\x{1F2FF}\x{1D400}-\x{1D7FF}]"
    + r"|(?i)[eｅ][-－﹣]?[mｍ][aａ][iｉ][lｌ]"
)
