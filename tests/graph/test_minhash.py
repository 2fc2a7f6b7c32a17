"""MinHash's batch normalisation reads every text exactly as ``normalise`` reads it alone."""

import random

import numpy as np
import pytest

from promoguard.graph import minhash


def test_every_bmp_character_the_fast_path_reads_normalises_as_alone():
    _keep, slow = minhash._tables()
    fast = [chr(cp) for cp in range(0x10000) if not slow[cp] and cp != 0x1E]
    assert len(fast) > 40_000  # CJK, ASCII, punctuation: nearly every review is read fast
    assert minhash.normalise_many(fast) == [minhash.normalise(c) for c in fast]


@pytest.mark.parametrize(
    "text",
    [
        "cafe\u0301 good",  # a combining accent composes with the letter before it
        "\u1100\u1161\u11a8 좋아요",  # Hangul jamo compose into one syllable
        "ΟΔΟΣ ΟΔΟΣ.",  # a final sigma lower-cases by its context
        "ＶＸ：ａｂｃ１２３",  # full-width letters fold to ASCII
        "ﬁne ㎏ ①",  # ligature, unit, circled digit
        "好评\U0001d401\U0001f600返现",  # outside the BMP
        "a\x1eb",  # the record mark itself
        "",
        None,
    ],
)
def test_texts_the_fast_path_cannot_read_are_normalised_alone(text):
    texts = ["好评返现，物流很快！！", text, "Good  value_for money!!"]
    assert minhash.normalise_many(texts) == [minhash.normalise(t) for t in texts]


def test_random_texts_normalise_as_alone_across_chunks():
    rng = random.Random(7)
    pool = (
        list("好评返现物流很快质量不错，。！？、 ")
        + list("abcXYZ019_-.!@ ")
        + ["ＡＢ", "１２", "！", "\u0301", "\u0308", "Σ", "ß", "İ", "\u1161", "\u11a8", "\u1100"]
        + ["\u200b", "\ufe0f", "❤", "㎏", "①", "\U0001f600", "\U0001d400", "ﬃ", "…"]
    )
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 25))) for _ in range(3000)]
    texts[100] = None
    # (no record mark in the pool: a chunk holding one is read text by text, as tested above)
    got = minhash.normalise_many(texts, chunk=257)
    assert got == [minhash.normalise(t) for t in texts]
    # and signatures over them are the per-text ones
    h, owner = minhash.shingle_hashes(got, 3)
    h2, owner2 = minhash.shingle_hashes([minhash.normalise(t) for t in texts], 3)
    assert np.array_equal(h, h2) and np.array_equal(owner, owner2)
