"""Masking: no valid ID, card, mobile or e-mail survives; digits that are not personal data stay."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rules.content.conftest import REVIEWS, TEXTS, card, valid_id, wrong_id
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.text.identifiers import find_identifiers, id_check_char, luhn_ok
from promoguard.text.mask import Masker
from promoguard.text.normalise import normalise


def _survivors(text: str) -> list[str]:
    return [i.kind for i in find_identifiers(normalise(text).text)]


def test_each_kind_is_masked_and_other_digits_are_kept():
    m = Masker(key=b"k")
    text = (
        f"身份证{valid_id()}，卡号 {card()}，电话 138-1234-5678，邮箱 li.ming@example.com；"
        f"订单号 2026111198765432，作废证件 {wrong_id()}，价格 1299.00 元"
    )
    out = m.mask(text)
    assert _survivors(out) == []
    assert "2026111198765432" in out and wrong_id() in out and "1299.00" in out
    assert "[ID:" in out and "[EMAIL:" in out
    assert f"****{card()[-4:]}]" in out and "****5678]" in out
    assert dict(m.counts) == {"resident_id": 1, "bank_card": 1, "mobile": 1, "email": 1}
    # a mobile inside an e-mail starts with it: the longer (the e-mail) is masked, once, and no
    # part of either is left showing (not "[PHONE ****5678]@qq.com", nor both tokens)
    inner = Masker(key=b"k")
    assert inner.mask("邮箱 13912345678@qq.com 谢谢") == (
        f"邮箱 {inner.token('email', '13912345678@qq.com')} 谢谢"
    )
    assert dict(inner.counts) == {"email": 1}


def test_tokens_are_stable_under_a_key_and_differ_across_keys():
    a, b = Masker(key=b"one"), Masker(key=b"one")
    assert a.mask("电话13812345678") == b.mask("电话 138 1234 5678".replace(" ", ""))
    assert a.mask(f"x {valid_id()}") != Masker(key=b"two").mask(f"x {valid_id()}")
    assert a.mask("a +86 138-1234-5678") == a.mask("a 13812345678")


def test_full_width_and_spaced_numbers_are_masked_in_place():
    m = Masker(key=b"k")
    wide = "".join(chr(ord(c) + 0xFEE0) for c in "13812345678")
    out = m.mask(f"电话：{wide}，谢谢")
    assert out.startswith("电话：[PHONE:") and out.endswith("****5678]，谢谢")
    assert _survivors(m.mask(f"card {card()[:4]} {card()[4:8]} {card()[8:12]} {card()[12:]}")) == []


def test_text_without_personal_data_is_returned_unchanged():
    m = Masker()
    # as written, not as normalised: full-width letters, capitals and separators stay
    for text in (
        None,
        "",
        "原价299元，今天直播间199元",
        "order no. 2026111198765432",
        "Order No. ２０２６ 最*好 ＶＸ",
    ):
        assert m.mask(text) == text


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def personal(draw) -> str:
    kind = draw(st.sampled_from(["id", "card", "mobile"]))
    if kind == "id":
        year = draw(st.integers(1930, 2010))
        body = f"{draw(st.sampled_from(['110101', '310104', '440305', '510107']))}{year}"
        body += f"{draw(st.integers(1, 12)):02d}{draw(st.integers(1, 28)):02d}"
        body += f"{draw(st.integers(0, 999)):03d}"
        return body + id_check_char(body).upper()
    if kind == "card":
        body = "62" + "".join(draw(digits) for _ in range(13))
        return next(body + d for d in "0123456789" if luhn_ok(body + d))
    return "1" + draw(st.sampled_from("3456789")) + "".join(draw(digits) for _ in range(9))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(personal(), min_size=1, max_size=4),
    st.lists(st.sampled_from(["，", " ", "亲", "电话", "号码: ", "。"]), min_size=5, max_size=5),
)
def test_no_valid_identifier_survives(values, glue):
    text = "".join(g + v for g, v in zip(glue, values, strict=False)) + "谢谢"
    out = Masker(key=b"k").mask(text)
    assert _survivors(out) == []
    for v in values:
        assert v not in out


def test_mask_command_writes_masked_texts_and_reviews(content_con, tmp_path):
    path = content_con.execute("PRAGMA database_list").fetchall()[0][2]
    content_con.execute(
        "INSERT INTO reviews VALUES ('R7', 'L1', 'B3', NULL, 5, now(), '快递员电话13912345678')"
    )
    content_con.close()
    out = tmp_path / "shared"
    result = CliRunner().invoke(app, ["mask", "--store", path, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # the store's texts and its one text without a listing; its reviews, R9 and the one added here
    assert summary["rows"] == {"texts": len(TEXTS) + 1, "reviews": len(REVIEWS) + 2}
    # T044, R5 and R7
    assert summary["masked"]["mobile"] == 3 and summary["masked"]["resident_id"] == 1
    texts = pd.read_csv(out / "texts.csv", dtype=str)
    reviews = pd.read_csv(out / "reviews.csv", dtype=str)
    for content in list(texts.content) + list(reviews.text.dropna()):
        assert _survivors(content) == [], content
    kept = texts.set_index("text_id").content
    assert "2026111198765432" in kept["T046"] and wrong_id() in kept["T041"]
    assert kept["T001"] == "山野坚果礼盒 品质最佳"
    assert set(texts.columns) == {
        "text_id",
        "kind",
        "merchant_id",
        "listing_id",
        "created_at",
        "lang",
        "content",
    }
    assert texts.created_at.iloc[0].endswith("Z")


def test_mask_command_fails_in_one_line(tmp_path):
    result = CliRunner().invoke(
        app, ["mask", "--store", str(tmp_path / "none.duckdb"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "no store" in result.stderr


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40), personal()), min_size=1, max_size=8))
def test_mask_array_masks_each_value_as_the_masker_does(values):
    """The column form skips texts with no number and no @ (they cannot hold an identifier):
    it must give what masking every value gives, digits of any script included."""
    import pyarrow as pa

    from promoguard.text.mask import mask_array

    tricky = ["电话①③⑧①②③④⑤⑥⑦⑧", "电话 𝟏𝟑𝟖𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", "li＠example.com", "好评如潮"]
    # read out in Chinese (and its compatibility forms), spelt out after a mailbox cue
    tricky += [
        "恭喜一三八零零一三八零零零",
        "恭喜⼀三八零零⼀三八零零零",
        "她邮箱 wangfang#qq点com",
    ]
    tricky += ["EMAIL: wang.fang at gmail dot com"]
    values = values + tricky
    want = [Masker(hashed=False).mask(v) for v in values]
    assert mask_array(pa.array(values, pa.string())).to_pylist() == want


def test_mask_array_takes_dictionary_and_null_columns():
    import pyarrow as pa

    from promoguard.text.mask import mask_array

    assert mask_array(pa.array([None, None])).to_pylist() == [None, None]
    coded = pa.array(["电话13912349876", "电话13912349876", "好"]).dictionary_encode()
    assert mask_array(coded).to_pylist() == ["电话[PHONE ****9876]"] * 2 + ["好"]


def test_mask_array_looks_at_squared_digits_and_mathematical_letters():
    """A reviewer's probes: a mobile in squared ideographs (🈩 🈔 🈪 read 一 二 三) and an address
    after a cue in mathematical bold letters were copied unmasked into other checks' evidence."""
    import pyarrow as pa

    from promoguard.text.mask import mask_array

    squared = {"1": "\U0001f229", "2": "\U0001f214", "3": "\U0001f22a"}
    phone = "联系 " + "".join(squared[c] for c in "13112312312") + " 谢谢"
    mail = "\U0001d41e\U0001d426\U0001d41a\U0001d422\U0001d425: wang#qq.com"
    out = mask_array(pa.array([phone, mail, "普通文字"])).to_pylist()
    assert out[0] == "联系 [PHONE ****2312] 谢谢"
    assert "wang" not in out[1] and "[EMAIL" in out[1]
    assert out[2] == "普通文字"
