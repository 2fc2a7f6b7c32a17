"""MinHash's batch normalisation reads every text exactly as ``normalise`` reads it alone."""

import random

import numpy as np
import pytest

from promoguard.graph import minhash


def test_every_bmp_character_the_fast_path_reads_normalises_as_alone():
    _keep, kind, _read_as = minhash._tables()
    fast = [chr(cp) for cp in range(0x10000) if kind[cp] != minhash.SLOW and cp != 0x1E]
    assert len(fast) > 40_000  # CJK, ASCII, punctuation: nearly every review is read fast
    assert minhash.normalise_many(fast) == [minhash.normalise(c) for c in fast]
    # ... and so are the characters it reads through the fold (look-alikes, traditional), in
    # one text (a batch of them) and each beside plain ones
    folded = [chr(cp) for cp in range(0x10000) if kind[cp] == minhash.FOLDED]
    assert len(folded) > 3_500
    assert "這" in folded and "В" in folded and "о" in folded
    texts = ["".join(folded), *(f"好评{c}Ab" for c in folded)]
    assert minhash.normalise_many(texts) == [minhash.normalise(t) for t in texts]


def test_a_batch_with_and_without_folded_characters_reads_each_text_as_alone():
    texts = ["這個產品很好", "这个产品很好", "Grеat", "plain text", "質量&quot;好&quot;", "ΟΔΟΣ"]
    for k in range(len(texts)):
        batch = texts[k:] + texts[:k]
        assert minhash.normalise_many(batch) == [minhash.normalise(t) for t in batch]
    assert minhash.normalise_many(["這個產品很好"]) == minhash.normalise_many(["这个产品很好"])


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
        "质量&quot;超好&quot;&amp;发货快&#65292;&#x597D;评",  # HTML entities an export left in
        "Grеat prоduct, АВС",  # Cyrillic е, о, А, В, С among Latin letters
        "ο καλός ΡΟΔΟΣ",  # Greek
        "這個產品質量很好，物流也快",  # traditional Chinese
        "乾坤 於是 著名",  # characters simplified text writes too, beside simplified ones
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
        + ["&amp;", "&quot;", "&#22909;", "&", "а", "О", "ρ", "Ν"]
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


def test_pairs_of_one_text_kept_without_comparing_are_the_compared_pairs():
    # rows of a few texts repeated and interleaved (the same signature many times, as the rows
    # of one review text have), near copies, and unrelated texts: labels with ``same`` (an id
    # per text) equal the labels from comparing every candidate pair
    rng = random.Random(11)
    base = "宝贝收到了质量超级好跟描述的一模一样物流超快五星好评推荐给大家"
    texts = [
        base,
        base.replace("超级", "非常"),
        base[::-1],
        "包装破损了客服也不回复消息等了三天才发货",
    ]
    texts += ["".join(rng.choice(base) for _ in range(30)) for _ in range(40)]
    which = np.array([rng.randrange(len(texts)) for _ in range(2000)])
    h, owner = minhash.shingle_hashes(texts, 3)
    _present, sig_t = minhash.signatures(h, owner, len(texts), 64)
    sig = sig_t[which]
    # ids that differ for two texts of equal signatures are allowed too (only equal ids matter)
    plain = minhash.near_duplicate_clusters(sig, 16, 0.6)
    assert np.array_equal(minhash.near_duplicate_clusters(sig, 16, 0.6, same=which), plain)
    assert len(np.unique(plain)) < len(texts)  # some texts did link


def test_rows_of_equal_signatures_between_a_different_row_are_not_linked_by_the_shortcut():
    # a bucket pairs neighbours in row order: A, B, A' (A' a copy of A, B sharing every band
    # key with A but one row) pairs A-B and B-A', never A-A' directly. The shortcut keeps only
    # pairs the comparison keeps, so whether A and A' link is decided as before.
    a = np.arange(64, dtype=np.uint32)[None, :]
    b = a.copy()
    b[0, 0] = 999  # agrees on 63 of 64, shares 15 of 16 bands with A
    c = (a + 1000).astype(np.uint32)  # unrelated
    sig = np.concatenate([a, b, a, c, b])
    same = np.array([0, 1, 0, 2, 1])
    plain = minhash.near_duplicate_clusters(sig, 16, 0.99)
    assert np.array_equal(minhash.near_duplicate_clusters(sig, 16, 0.99, same=same), plain)
    # B agrees with A on 63 of 64, short of 0.99 (63.36): only the copies link (A with A' in
    # the band B leaves, B with B')
    assert plain.tolist() == [0, 1, 0, 3, 1]


def test_a_similarity_above_one_links_no_copies_with_the_shortcut_either():
    sig = np.zeros((3, 64), np.uint32)
    same = np.zeros(3, np.int64)
    plain = minhash.near_duplicate_clusters(sig, 16, 1.5)
    assert np.array_equal(plain, [0, 1, 2])
    assert np.array_equal(minhash.near_duplicate_clusters(sig, 16, 1.5, same=same), plain)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("宝贝收到了&#xFF0C;质量&quot;超级好&quot;", "宝贝收到了，质量“超级好”"),
        ("Fast shipping &amp; great quality", "Fast shipping & great quality"),
        ("Grеat prоduct, wоrks as dеscribed", "Great product, works as described"),  # Cyrillic
        ("ΒΕST ΒUY ΕVΕR", "best buy ever"),  # Greek capitals
        ("ΑΡΡΚΟΜΕΤΗ", "appkometh"),  # Greek Α Ρ Κ Ο Μ Ε Τ Η: Latin capitals' look-alikes
        ("сору уоur рhоnе", "copy your phone"),  # Cyrillic с о р у е
        # a copy passed through a simplified-to-traditional converter
        ("收到貨了，這個保溫杯真的很不錯，物流超快", "收到货了，这个保温杯真的很不错，物流超快"),
        ("質量過關，發貨速度很快，客服態度好", "质量过关，发货速度很快，客服态度好"),
    ],
)
def test_entities_and_look_alike_letters_read_as_what_a_buyer_sees(a, b):
    assert minhash.normalise(a) == minhash.normalise(b)
    assert minhash.normalise_many([a, b]) == [minhash.normalise(b)] * 2


def test_simplified_text_reads_as_it_is_written():
    """The table reads only characters simplified text never writes: 乾坤, 於 (a surname), 夥伴
    and 覆盖 stay as written, so no two simplified texts become one that were not."""
    for text in (
        "乾坤大挪移",
        "於先生说很好",
        "夥伴们都喜欢",
        "覆盖全国",
        "著名品牌",
        "后来又买了",
    ):
        assert minhash.normalise(text) == text


def test_different_words_stay_different():
    """The map reads look-alikes as Latin; it does not make different words one."""
    pairs = [("хорошо", "good"), ("&lt;b&gt;", "b"), ("пакет", "naket"), ("AT&T", "ATT")]
    assert [minhash.normalise(a) == minhash.normalise(b) for a, b in pairs] == [
        False,
        True,  # (tags: '<b>' is punctuation around b, as it is without the entities)
        False,
        True,  # (an ampersand is punctuation, as before)
    ]
