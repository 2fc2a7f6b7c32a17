"""TEXT001 on cases written apart from the simulator: a blind set's claims and look-alikes.

Each phrase claim is paired with a look-alike that stays clear, and each lowering (a measure, a
title of a work, a gift's words, a denial) with a claim of the same shape that is still reported
at the pack's severity or higher.
"""

from __future__ import annotations

import functools
import re

import pyarrow as pa
import pytest

from promoguard.rules.content._shared import content_rules
from promoguard.rules.content.text001_absolute_advertising_terms import GATES, PHRASES
from promoguard.text.lexicon import load_terms
from promoguard.text.normalise import normalise
from promoguard.text.patterns import LOWERED
from promoguard.text.rules import ContentRules

PACK = "pack"


@functools.cache
def _shared_rules() -> ContentRules:
    """The built-in lexicons compiled once (0.2 s a build)."""
    return ContentRules(load_terms())


@pytest.fixture(scope="module")
def text001():
    ((rule, params),) = content_rules(("TEXT001",), None)
    rules = ContentRules(load_terms())

    def grade(text: str) -> tuple[str | None, str | None]:
        """(severity, reason) of the finding on a listing text: (None, None) when none,
        ("pack", None) when it takes the pack's severity."""
        hits = rule.decide(rules.prepare(text), "listing_description", None, params)
        if not hits:
            return None, None
        severity, reason = rule.grade(hits)
        return severity or PACK, reason

    return grade


# -- claims of a blind set that the word list missed ------------------------------------------

COMPARATIVE = [
    "国产之光 吊打一切千元机 骁龙8Gen2 12+256G",
    "碾压市面所有同类产品 风行无线吸尘器 25000Pa",
    "同价位完胜所有竞品 机械键盘 热插拔 RGB 87键",
    "效果远超同类进口产品 益生菌 1000亿活菌 30袋",
    "比任何一款国际大牌都好用 粉底液 持妆24小时",
    "秒杀同类产品 的续航 充电宝 20000mAh",
    "销量第1 嵌入式洗碗机 13套 热风烘干",
    "零食大礼包 销量NO 1 30包 办公室解馋",
    "行业TOP 1 扫地机器人 激光导航",
    "销量diyi的 猫粮 全价成猫粮 10kg",
    "第①品牌 即食燕窝 孕妇滋补 礼盒6瓶",
    "Whiter teeth than any other strip on the market - 28 strips",
    "Cheaper than Amazon, cheaper than anyone - Switch OLED bundle",
    "Outperforms every competitor: 65W GaN charger",
    "Beats all other brands in independent tests - H7 LED bulbs",
    "Nothing cleans better - carpet shampoo 2L",
    "The only dog food vets recommend over all others - grain free",
    "Clinically proven best acne treatment - 2% salicylic acid serum",
]

SUPERLATIVE = [
    "zui低价 清仓 儿童雨靴 防滑 24-35码",
    "ZUI佳选择 儿童安全座椅 ISOFIX 0-12岁",
    "全网最dī价 304不锈钢保温饭盒 三层",
    "醉好用的卷发棒 32mm大卷 负离子不伤发",
    "全网罪低 空气净化器 除甲醛 CADR500",
    "最🔥好用的粉底刷 不吃粉 不掉毛",
    "Strongest glue in the world - bonds metal, wood, ceramic",
    "Highest quality protein powder on the market - 2lb whey isolate",
    "Longest lasting battery of any smartwatch - 21 days, AMOLED",
    "Nothing else: the most powerful carpet cleaner you can buy",
    "Fastest-charging 65W GaN charger ever made",
    "Cheapest anywhere! Men's running shoes, sizes 7-13",
    "Guaranteed lowest price online - 65 inch 4K TV",
    "Best price on eBay - genuine AirPods Pro 2, sealed",
    "America's Favorite Mattress - 12 inch hybrid memory foam",
    "World's most comfortable office chair - ergonomic mesh",
]


@pytest.mark.parametrize("text", COMPARATIVE)
def test_a_claim_over_every_rival_is_high(text001, text):
    assert text001(text)[0] == "high", text


@pytest.mark.parametrize("text", SUPERLATIVE)
def test_a_superlative_written_as_a_phrase_or_to_dodge_the_list_is_reported(text001, text):
    assert text001(text)[0] in (PACK, "high"), text


@pytest.mark.parametrize(
    "text",
    [
        "双11秒杀所有商品5折起 限时抢购",  # 秒杀: a flash sale of every item, no rival beaten
        "秒杀全部商品 前100名半价",
        "效果远超预期 回购三次的面膜",  # beyond expectations, no rival
        "比上一代更轻 全新升级 登山杖",  # against its own previous model
        "第1件原价 第2件半价 纸巾24包",  # the first item, not a rank
        "买2送1 第1天发货",
        "陶醉好时光 红酒礼盒 750ml*2",  # 陶醉, not 最
        "醉蟹 500g 绍兴特产",
        "Free of any parabens, gentle cleanser 200ml",
        "Ships anywhere in the world, tracked delivery",
        "The best way to clean your grill: stainless brush",
        "Heart rate monitor shows beats per minute",
        "Choose the cheapest shipping option at checkout",
        "Better than expected, solid build quality",
        "No. 2 pencils, pack of 12, HB",
    ],
)
def test_look_alikes_of_the_phrase_claims_are_clear(text001, text):
    assert text001(text) == (None, None), text


@pytest.mark.parametrize("text", ["政府机关专供 特级大红袍 礼盒装", "国务院特批 灵芝孢子粉 60粒"])
def test_organs_of_the_state_supplying_or_approving_are_high(text001, text):
    assert text001(text)[0] == "high"


# -- lowered with the reason, never dropped; a claim of the same shape still reported ---------


@pytest.mark.parametrize(
    ("lowered", "claim"),
    [
        # a measure after a qualifier: the product's own attribute
        ("快充充电器 最大输出功率65W", "快充充电器 最高立减50元"),
        ("车载冰箱 最低制冷温度-20℃ 25L", "车载冰箱 最低到手价9.9元"),
        ("双肩包 最大可容纳15.6寸笔记本", "双肩包 最大优惠力度50%"),
        ("纸箱 最小起订量500个 可定制", "纸箱 最强性能跑分120万"),
        ("连衣裙 最大码4XL 适合160斤", "连衣裙 最大的优惠 全场4折"),
        ("酸奶发酵菌 最佳发酵温度40-42℃", "蓝牙耳机 音质最佳 续航30小时"),
        ("挂耳咖啡 最佳赏味期：烘焙后7-30天", "挂耳咖啡 口感最佳 烘焙后7-30天"),
        ("暖风机 最高档位2000W", "最佳选择 2024新款 暖风机"),
    ],
)
def test_a_measure_makes_a_superlative_the_products_own_attribute(text001, lowered, claim):
    assert text001(lowered) == ("low", LOWERED["own_attribute"]), lowered
    assert text001(claim)[0] in (PACK, "high"), claim


@pytest.mark.parametrize(
    ("lowered", "claim"),
    [
        ("《最好的告别》阿图·葛文德 著 正版", "最好的告别礼物 正版 包邮"),
        ("《史上最强弟子兼一》漫画 全套", "史上最强 漫画收纳盒 全套"),
        ("《最好的我们》青春小说 正版平装", "《最好的我们》青春小说 全网最低价"),
        # a rival beaten or the state's name is never a title's, even where a work is sold
        ("《最强大脑》科普读物 正版", "《销量第一》青春小说 正版平装"),
    ],
)
def test_a_term_in_the_title_of_a_work_is_low(text001, lowered, claim):
    assert text001(lowered) == ("low", LOWERED["title_of_work"]), lowered
    assert text001(claim)[0] in (PACK, "high"), claim


@pytest.mark.parametrize(
    ("lowered", "claim"),
    [
        ("Mug printed 'World's Best Grandma' - 11oz ceramic", "World's Best Coffee - 1kg beans"),
        ("T-shirt: Best Dad in the World, cotton", "The best T-shirt in the world, cotton"),
        ("教师节定制保温杯 刻字“致最好的老师”", "教师节定制保温杯 最好的保温杯"),
        # "the best <person>" is a gift's words only where a gift is named (not of a watch), and
        # 给最好的妈妈 only with a gift's words (not of milk powder)
        (
            "Engraved keychain: the best dad ever",
            "GPS running watch, the best coach for every runner",
        ),
        ("母亲节礼物 送给最好的妈妈 丝巾", "孕妇奶粉 给最好的妈妈 营养配方"),
    ],
)
def test_a_gifts_words_about_a_person_are_low(text001, lowered, claim):
    assert text001(lowered) == ("low", LOWERED["gift_slogan"]), lowered
    assert text001(claim)[0] in (PACK, "high"), claim


@pytest.mark.parametrize(
    ("lowered", "claim"),
    [
        ("不敢说最好，只求每一件都用心做 羊毛毡钥匙扣", "不是最好的不卖 羊毛毡钥匙扣"),
        ("本品不是万能的，请按说明书使用 清洁喷雾", "如果不是最好的，全额退款 清洁喷雾"),
        ("We make no claim to be the best - just honest soap", "Not the best? Full refund - soap"),
        # a condition with no boast after it: still no denial
        ("我们不敢说最好 只是认真做 手工皂", "如果不是最好的，随时联系客服 清洁喷雾"),
    ],
)
def test_a_denied_term_is_low_and_a_boast_or_condition_is_no_denial(text001, lowered, claim):
    assert text001(lowered) == ("low", LOWERED["negated"]), lowered
    assert text001(claim)[0] in (PACK, "high"), claim


@pytest.mark.parametrize(
    ("clear", "claim"),
    [
        ("万能角度尺 0-320° 不锈钢 带游标", "万能角度尺 一尺万能 神器"),
        ("《最高人民法院司法解释汇编》2024年版", "最高端司法考试教材 2024年版"),
        ("酒类 唯一防伪码 扫码验真", "唯一正品渠道 扫码验真"),
        ("#1 Phillips screwdriver bit (PH1), pack of 10", "#1 rated screwdriver set"),
        ("Clipper guard #1, 3mm", "Clipper guard set, the #1 choice of barbers"),
    ],
)
def test_names_and_sizes_are_not_claims(text001, clear, claim):
    assert text001(clear) == (None, None), clear
    assert text001(claim)[0] in (PACK, "high"), claim


# -- the first pass reads every text a phrase claim is in -------------------------------------


def test_every_gate_is_a_pattern_gate_of_the_lexicon():
    gates = {normalise(t.term).text.strip() for t in load_terms() if t.code == "TRIGGER"}
    assert {normalise(g).text.strip() for g in GATES} <= gates


@pytest.mark.parametrize("text", COMPARATIVE + SUPERLATIVE)
def test_every_phrase_match_holds_a_gate_and_the_first_pass_selects_it(text):
    nt = normalise(text)
    matches = [m.group() for pattern, _, _ in PHRASES for m in pattern.finditer(nt.text)]
    for m in matches:
        assert any(normalise(g).text.strip() in m for g in GATES), m
    # and each holds one of the words its pattern is searched for only with, and a gate of its own
    from promoguard.rules.content.text001_absolute_advertising_terms import _PATTERN_KEYS

    for (pattern, _, needs), keys in zip(PHRASES, _PATTERN_KEYS, strict=True):
        for m in pattern.finditer(nt.text):
            assert re.search(needs, m.group()), (m.group(), needs)
            assert any(k in m.group() for k in keys), (m.group(), sorted(keys))
    rules = _shared_rules()
    (prep,) = rules.prepare_many([text])
    assert prep is not None
    maybe = rules.maybe(pa.array(["物流很快", text], pa.string()))
    assert maybe is None or list(maybe) == [False, True]


# -- a reviewer's cases against the first cut (session 30) -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "强力去污，横扫所有顽固油污",  # the verb beats grease, not a rival
        "电蚊拍 干翻所有蚊子 一拍一个",
        "轻松碾压所有坚果 不锈钢核桃夹",
        "出入平安 平安胜过一切 汽车挂件",
        "品牌日秒杀大牌口红 限时5折",  # a flash sale of big brands' lipstick
        "新升级儿童安全锁，比任何时候都更安全",  # against the past
        "整箱购买比其他规格更实惠",  # the shop's own pack sizes
        "冠军奖杯 第1名 第2名 第3名 可刻字",
        "每日前10名下单送赠品，第1名免单",
        "周杰伦嘉年华演唱会 全国第1站 纪念票根",
        "迪拜哈利法塔 全球第一高楼 金属拼装模型",
        "桃花醉优级浓香型白酒 500ml",
        "Nothing Compares 2 U - Sinead O'Connor 7\" vinyl single",
        "Nothing Beats a Jet2 Holiday funny meme T-shirt",
        "Mount Everest highest mountain in the world 1000 piece jigsaw puzzle",
        "The Greatest Salesman in the World by Og Mandino paperback",
        "World's Strongest Man 2023 official DVD",
        "Australia's Biggest Morning Tea charity tea towel",
        "Works best on hard floors of any type, microfiber mop",
        "Largest size in US chart is 3XL, please check measurements",
        "Cheapest way to ship in the US is USPS Ground Advantage",
        "Best Boss in the Business coffee mug",
    ],
)
def test_a_reviewers_look_alikes_are_clear_or_low(text001, text):
    assert text001(text)[0] in (None, "low"), text


@pytest.mark.parametrize(
    "text",
    [
        "全网最大吸力25000Pa 无线吸尘器",  # a market named before 最: a comparison
        "行业最低噪音20dB 静音风扇",
        "同级别最大扭矩 400N.m 电动扳手",
        "最高端配置功率2000W 破壁机",  # the lexicon's longer word is not a measure's
        "最佳效果时间3天 祛痘精华",
        "《全网最低价》 假一赔十",  # brackets for emphasis, no work sold
        "《销量第一》爆款保温杯",
        "《国家机关专供》 特级白酒 礼盒装",
        "本店只卖最好的宝贝 放心购买",  # 宝贝: the listed item
        "智能跳绳 你最好的教练",
        "不是最好的，我们不卖！",  # a boast, across the comma
        "不是最好的不敢卖给你",
        "是不是最好的，用过才知道",  # 是不是 asks, it does not deny
        "The Best Mom Jeans for Women high waisted stretch",
        "World's Best Nurse Shoes non slip comfortable",
        "The Best Coach Tote Bag genuine leather",
    ],
)
def test_a_reviewers_claims_keep_the_pack_severity_or_higher(text001, text):
    assert text001(text)[0] in (PACK, "high"), text


@pytest.mark.parametrize("text", COMPARATIVE + SUPERLATIVE + ["物流很快 质量不错", "最新款 T恤"])
def test_the_gates_the_first_pass_found_decide_as_the_search_would(text):
    """A prepared text knows its pattern gates (the automaton found them): the phrase claims
    read through them are the ones a search of the text finds."""
    from promoguard.rules.content.text001_absolute_advertising_terms import phrase_hits

    prep = _shared_rules().prepare(text)
    assert prep.gates is not None
    assert phrase_hits(prep.nt, prep.gates) == phrase_hits(prep.nt, None)
