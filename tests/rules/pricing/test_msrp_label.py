"""The MSRP label test of PRICE001-005 (``_is_msrp_label``) on DuckDB: full-width letters, an
ideographic space and a typographic apostrophe read as their ASCII, Latin terms as words,
negations, and no label at all. It no longer translates the label (DuckDB's translate cost 0.4 s a
call at city scale): these are the cases the translation was there for."""

from __future__ import annotations

import ibis
import pytest

from promoguard.rules.pricing._shared import MSRP_LABELS, _is_msrp_label, plain_text

LABELS = [*MSRP_LABELS, "manufacturer's suggested price"]

CASES = [
    ("MSRP", True),
    ("msrp", True),
    ("ＭＳＲＰ", True),  # full-width capitals
    ("ｍｓｒｐ", True),
    ("原价（ＲＲＰ）", True),
    ("Was (RRP)", True),
    (" 建议零售价 ", True),
    ("原价（厂商建议零售价）", True),
    ("划线价为厂商指导价", True),
    ("Manufacturer’s suggested price", True),  # a typographic apostrophe
    ("MANUFACTURER＇S\u3000SUGGESTED PRICE", True),  # full-width apostrophe, ideographic space
    ("TRRPX", False),  # the letters inside another word
    ("ＴＲＲＰＸ", False),
    ("RRP2", False),
    ("ＲＲＰ２", False),
    ("原价", False),
    ("was", False),
    ("划线价，非建议零售价", False),
    ("Was (not RRP)", False),
    ("Ｗａｓ (ＮＯＴ ＲＲＰ)", False),
    ("no RRP", False),
    ("RRP: none", True),  # "none" is no negation word
    ("", False),
    (None, False),
]


@pytest.fixture(scope="module")
def read():
    con = ibis.duckdb.connect()
    t = ibis.memtable({"label": [c for c, _ in CASES]}, schema={"label": "string"})
    out = con.execute(t.select(said=_is_msrp_label(t.label, LABELS)))
    return list(out["said"])


@pytest.mark.parametrize("i", range(len(CASES)), ids=[repr(c) for c, _ in CASES])
def test_msrp_label(read, i):
    assert bool(read[i]) is CASES[i][1], CASES[i]


def test_the_terms_may_be_written_full_width_in_the_pack():
    con = ibis.duckdb.connect()
    t = ibis.memtable({"label": ["原价（rrp）", "原价"]})
    out = con.execute(t.select(said=_is_msrp_label(t.label, ["ＲＲＰ "])))
    assert list(out["said"]) == [True, False]


def test_plain_text_translates_only_what_is_wide():
    con = ibis.duckdb.connect()
    t = ibis.memtable({"s": ["北辰\u3000ＢＣ-360", "Kettle K2", None]}, schema={"s": "string"})
    out = con.execute(t.select(p=plain_text(t.s)))
    assert list(out["p"])[:2] == ["北辰 bc-360", "kettle k2"]
    assert out["p"].isna().tolist()[2]
