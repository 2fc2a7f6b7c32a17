"""The traditional-to-simplified character table (OpenCC's, read from the pinned package)."""

from promoguard.text import scripts


def test_traditional_characters_read_as_simplified():
    assert scripts.to_simplified("這個產品質量很好，發貨快，國家級認證") == (
        "这个产品质量很好，发货快，国家级认证"
    )
    # a character with several candidates reads as the first (畫: 画 划; 線: 线 缐; 買: 买 𧹒)
    assert scripts.to_simplified("買畫線") == "买画线"
    # a few thousand characters, each read as one character
    table = scripts.traditional_to_simplified()
    assert 3_500 < len(table) < 5_000
    assert all(len(chr(k)) == 1 and len(v) == 1 for k, v in table.items())


def test_characters_simplified_text_writes_are_left_as_written():
    # 乾 (乾坤), 於 (a surname), 夥, 徵, 覆, 藉: OpenCC lists each among its own candidates or as
    # the simplified form of another; 后, 发, 台 are simplified characters themselves
    kept = "乾於夥徵覆藉后发台著"
    # 藴 and 醖: OpenCC's traditional table maps them (to 蕴, 酝) but its simplified table has them
    # as simplified characters with traditional forms (藴 -> 蘊), so they are kept too
    kept += "藴醖"
    assert scripts.to_simplified(kept) == kept
    table = scripts.traditional_to_simplified()
    assert not set(map(ord, kept)) & set(table)
    # and nothing is mapped onto a character the table would map again
    assert not {ord(v) for v in table.values()} & set(table)
