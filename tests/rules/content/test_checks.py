"""The content checks on a hand-made store, through the real engine, on DuckDB (and Spark)."""

from __future__ import annotations

import hashlib
import json

import pytest
from tests import spark_env
from tests.support import run_check

from promoguard.engine import evidence as ev
from promoguard.engine.packs import load_pack
from promoguard.errors import CheckError

from .conftest import CODES, card, expected


def _found(result, code: str) -> set[tuple[str, str]]:
    f = result.findings
    f = f[f.check_code == code]
    return set(zip(f.entity_type, f.entity_id, strict=True))


@pytest.mark.parametrize("code", CODES)
def test_each_code_finds_exactly_its_texts(content_con, code):
    result = run_check(content_con, code)
    want = expected(code)
    if code == "TEXT001":
        want |= {("text", "T099")}  # an ad with no listing: platform from the merchant
    assert _found(result, code) == want


def test_findings_carry_platform_observed_and_verifiable_evidence(content_con):
    result = run_check(content_con, "TEXT001,TEXT005,REVIEW002")
    f = result.findings.set_index(["check_code", "entity_id"])
    row = f.loc[("TEXT001", "T002")]
    assert row.platform_id == "P1" and row.merchant_id == "M1" and row.entity_type == "text"
    assert json.loads(row.observed) == {"matched": "最*好", "match_count": 1}
    assert "广告法" in row.legal_basis and "Art. 9(3)" in row.legal_basis
    doc = json.loads(result.evidence[row.evidence_sha256])
    assert ev.freeze(doc)[0] == row.evidence_sha256
    (text_row,) = doc["rows"]["text"]
    assert text_row["content"] == "山野坚果 最*好 的年货"
    (span,) = json.loads(text_row["spans"])
    # the span points at the original text, separator included
    assert (span["start"], span["end"], span["matched"]) == (5, 8, "最*好")
    assert f.loc[("TEXT001", "T099")].platform_id == "P2"
    # personal data is located in the finding, never copied into it
    pii = f.loc[("TEXT005", "T042")]
    assert json.loads(pii.observed)["matched"] == "bank_card"
    pii_doc = result.evidence[pii.evidence_sha256]
    assert "622202" not in pii_doc  # nowhere in the evidence document
    (pii_row,) = json.loads(pii_doc)["rows"]["text"]
    original = f"退款请打到这张卡 {card()}"
    assert pii_row["content"] == f"退款请打到这张卡 [CARD ****{card()[-4:]}]"
    assert pii_row["content_sha256"] == hashlib.sha256(original.encode()).hexdigest()
    review = f.loc[("REVIEW002", "R1")]
    assert review.entity_type == "review" and review.merchant_id == "M1"
    rdoc = json.loads(result.evidence[review.evidence_sha256])
    assert rdoc["rows"]["review"][0]["text"].startswith("商家说五星好评返5元")


def test_other_rules_quote_a_texts_identifiers_masked(content_con):
    """TEXT005 masks a number in its own evidence; TEXT004 (the number is the lure), TEXT001 and
    REVIEW002 quote the same texts, and must not copy the number back in."""
    result = run_check(content_con, "TEXT001,TEXT004,REVIEW002")
    f = result.findings.set_index(["check_code", "entity_id"])
    cases = {
        ("TEXT004", "T044"): ("收件人电话 138-1234-5678", "收件人电话 [PHONE ****5678]"),
        ("TEXT001", "T047"): (
            f"全网最低价 退款打到 {card()}",
            f"全网最低价 退款打到 [CARD ****{card()[-4:]}]",
        ),
        ("REVIEW002", "R5"): (
            "五星好评返现10元，商家电话13912345678",
            "五星好评返现10元，商家电话[PHONE ****5678]",
        ),
    }
    for key, (original, masked) in cases.items():
        row = f.loc[key]
        doc = result.evidence[row.evidence_sha256]
        for digits in ("1234-5678", "13912345678", card()[:10]):
            assert digits not in row.observed and digits not in doc, (key, digits)
        (quoted,) = next(iter(json.loads(doc)["rows"].values()))
        text, sha = (
            (quoted["text"], quoted["text_sha256"])
            if key[0] == "REVIEW002"
            else (quoted["content"], quoted["content_sha256"])
        )
        assert text == masked
        assert sha == hashlib.sha256(original.encode()).hexdigest()
    assert json.loads(f.loc[("TEXT004", "T044")].observed)["matched"] == "[PHONE ****5678]"
    # a text without identifiers is quoted as it is, with no hash beside it
    (plain,) = json.loads(result.evidence[f.loc[("TEXT004", "T030")].evidence_sha256])["rows"][
        "text"
    ]
    assert plain["content"] == "加微信 abcd1234 领优惠" and plain["content_sha256"] is None


def test_packs_outside_china_keep_their_own_rules(content_con):
    enabled = load_pack("eu").enabled_codes()
    assert "TEXT004" not in enabled  # no legal basis in the EU: disabled
    eu = run_check(content_con, [c for c in CODES if c in enabled], "eu")
    assert "TEXT004" not in set(eu.findings.check_code)
    # (TEXT004 was not asked for above: asked for, the EU pack refuses it)
    with pytest.raises(CheckError, match="does not enable TEXT004"):
        run_check(content_con, "TEXT004", "eu")
    assert _found(eu, "TEXT005") == expected("TEXT005")
    assert _found(eu, "REVIEW002") == expected("REVIEW002")
    assert set(eu.findings[eu.findings.check_code == "REVIEW002"].legal_basis) == {
        "Directive 2005/29/EC (Unfair Commercial Practices Directive) (2019-11-27) Annex I No. 23c [EU]"
    }


def test_a_users_lexicon_extends_a_check(content_con, tmp_path):
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    lex = pack_dir / "mine.csv"
    lex.write_text("term,code,category\n年货,TEXT001,superlative\n", encoding="utf-8")
    (pack_dir / "pack.yaml").write_text("pack: mine\nextends: cn\n", encoding="utf-8")
    (pack_dir / "content.yaml").write_text(
        "checks:\n  TEXT001:\n    parameters:\n      extra_lexicons: {value: ./mine.csv}\n",
        encoding="utf-8",
    )
    result = run_check(content_con, "TEXT001", pack_dir)
    row = result.findings.set_index("entity_id").loc["T002"]
    assert json.loads(row.observed)["matched"] == "最*好; 年货"
    # the extension is TEXT001's alone: in one scan with TEXT003 (whose shared pass has no
    # extra lexicon) TEXT001 still reads its words, also in a text only they select (T023), and
    # TEXT003 does not read a TEXT003 row of TEXT001's file (小黄车, T051)
    lex.write_text(
        "term,code,category\n年货,TEXT001,superlative\n大容量,TEXT001,superlative\n"
        "小黄车,TEXT003,管制刀具\n",
        encoding="utf-8",
    )
    both = run_check(content_con, "TEXT001,TEXT003", pack_dir)
    text001 = both.findings[both.findings.check_code == "TEXT001"].set_index("entity_id")
    assert json.loads(text001.loc["T002"].observed)["matched"] == "最*好; 年货"
    assert json.loads(text001.loc["T023"].observed)["matched"] == "大容量"
    assert _found(both, "TEXT003") == expected("TEXT003")


def test_a_packs_parameters_narrow_what_a_check_reports(content_con):
    """text_kinds, phone_is_lure and pii_kinds, set by a pack, are obeyed: each code keeps only
    what they still cover, and the rest of its findings stay."""
    overrides = {
        "TEXT001": {"text_kinds": ["ad"]},
        "TEXT004": {"phone_is_lure": False},
        "TEXT005": {"pii_kinds": ["email"]},
    }
    result = run_check(content_con, "TEXT001,TEXT004,TEXT005", "cn", overrides)
    assert _found(result, "TEXT001") == {("text", t) for t in ("T003", "T047", "T099")}
    assert _found(result, "TEXT004") == expected("TEXT004") - {("text", "T044")}
    assert _found(result, "TEXT005") == {("text", "T045")}


@pytest.mark.spark
def test_spark_gives_the_same_findings_and_evidence(content_con):
    # REVIEW002 reads texts and reviews (both entity types, both evidence queries); each Spark
    # query costs seconds, and the other codes share the same pull and the same Python matching
    duck = run_check(content_con, "REVIEW002")
    spark = run_check(content_con, "REVIEW002", engine="spark", spark_master=spark_env.MASTER)
    cols = ["finding_id", "entity_type", "entity_id", "observed", "expected", "evidence_sha256"]
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert len(a) == 6  # R5 quotes a phone number: its masked text is compared too
    assert a.equals(b), (a, b)


def test_a_phrase_found_by_several_terms_counts_once(content_con):
    # R1 '商家说五星好评返5元…': the lexicon's 五星好评返 and 好评返 and the review word paid with
    # 返 are four raw hits of one place
    result = run_check(content_con, "REVIEW002")
    f = result.findings.set_index(["check_code", "entity_id"])
    assert json.loads(f.loc[("REVIEW002", "R1")].observed) == {
        "matched": "五星好评返",
        "match_count": 1,
    }
