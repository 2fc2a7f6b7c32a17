"""The text engine from the laws' own wording: normalisation, matching, allow-lists, identifiers."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rules.content.conftest import card, valid_id, wrong_id

from promoguard.errors import CheckError
from promoguard.rules.content._shared import analyse_text, decide_all
from promoguard.text.identifiers import (
    find_identifiers,
    id_check_char,
    luhn_ok,
    valid_card,
    valid_email,
    valid_mobile,
    valid_resident_id,
)
from promoguard.text.lexicon import Term, load_terms, read_lexicon
from promoguard.text.matcher import Matcher
from promoguard.text.normalise import normalise
from promoguard.text.rules import ContentRules


@functools.cache
def _shared_rules() -> ContentRules:
    """The built-in lexicons compiled once for the helpers (0.2 s a build: once per case added
    minutes to the suite)."""
    return ContentRules(load_terms())


def codes(text: str, **kw) -> set[str]:
    return set(analyse_text(text, **kw))


def decided(code: str, text: str, kind: str, category: str | None = None):
    """One rule's hits on ``text`` (of ``kind``, in ``category``) and its grade of them."""
    from promoguard.rules.content._shared import content_rules

    ((rule, params),) = content_rules((code,), None)
    hits = rule.decide(_shared_rules().prepare(text), kind, category, params)
    return hits, rule.grade(hits)


# -- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("最*好", "最好"),
        ("最.好", "最好"),
        ("微 信", "微信"),
        ("最\u200b好", "最好"),  # zero-width space
        ("最\u3000佳", "最佳"),  # ideographic space
        ("ＮＯ．１", "no.1"),  # full-width
        ("加 V", "加v"),
        ("V 信", "v信"),  # a letter before the separator, a Han character after it
        ("138-微信", "138微信"),
        ("❤信", "v信"),
        ("加💗", "加v"),
        ("打5\ufe0f\u20e3折", "打5折"),  # a keycap digit (5️⃣) is the digit
        ("𝐁𝐄𝐒𝐓 price", "best price"),  # mathematical bold letters
        ("best price", "best price"),  # spaces between English words stay
        ("138 1234 5678", "138 1234 5678"),  # digits keep their grouping
        ("國家級", "国家级"),  # traditional characters of the lexicons' terms
        ("降血壓，治療失眠", "降血压，治疗失眠"),
        ("world’s best", "world's best"),  # a curly apostrophe
    ],
)
def test_normalise_undoes_filter_dodging(raw, norm):
    assert normalise(raw).text == norm


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        # a word spelt one character at a time between emoji: the emoji drop
        ("家人们 直🔥降🔥一🔥百", "家人们直降一百"),
        ("加🔥微🔥信", "加微信"),
        ("1🔥3🔥8🔥0🔥0🔥1🔥3🔥8🔥0🔥0🔥0", "13800138000"),
        ("直💥降💥💥一\ufe0f💥百", "直降一百"),  # a gap of several emoji and a variation selector
        ("直 🔥 降 🔥 一 🔥 百", "直降一百"),  # spaces beside the emoji
        # a character joined to a word on one side is a list's item: its breaks stay
        ("男士袜子🔥弹力透气", "男士袜子🔥弹力透气"),
        ("袜子🔥弹🔥软🔥透气", "袜子🔥弹🔥软🔥透气"),  # 子 and 弹 are no word here
        ("海军🔥刺🔥绣🔥条纹衫", "海军🔥刺🔥绣🔥条纹衫"),
        ("跑步鞋子🔥弹🔥软🔥轻🔥透气", "跑步鞋子🔥弹软轻🔥透气"),  # only the lone ones join
        ("最🔥好用", "最🔥好用"),  # TEXT001 reads this one as the evasion it is
        ("满299🔥减50🔥再送🔥赠品", "满299🔥减50🔥再送🔥赠品"),
        ("限🔥时🔥打🔟折", "限时打🔟折"),  # 🔟 says a number: it stays
        # BMP symbols are read as written (the first pass reads their texts without mapping)
        ("直✅降✅一✅百", "直✅降✅一✅百"),
    ],
)
def test_emoji_slipped_into_a_word_drop_but_bullets_between_phrases_stay(raw, norm):
    assert normalise(raw).text == norm


def test_a_word_spelt_between_emoji_is_found_and_a_bullet_list_is_not():
    # each rule sees through the dodge...
    assert "TEXT006" in codes("家人们 直🔥降🔥一🔥百，冲", kind="livestream")
    assert "TEXT004" in codes("有问题 加🔥微🔥信 聊", kind="chat")
    assert "TEXT005" in codes("中奖的张伟 1🔥3🔥9🔥1🔥2🔥3🔥4🔥5🔥6🔥7🔥8", kind="livestream")
    # ...and emoji bullets glue no false word out of a list's items (a reviewer's probes)
    for text, category in [
        ("男士袜子🔥弹力透气🔥吸汗防臭", "apparel"),
        ("男士袜子🔥弹🔥软🔥透气🔥不起球", "apparel"),  # 子弹 (TEXT003, critical)
        ("冻干零食超人气🔥狗🔥猫🔥通用", "pet"),  # 气狗
        ("海军🔥刺🔥绣🔥条纹衫", "apparel"),  # 军刺
        ("艾灸理疗🔥效🔥果🔥看得见", "health"),  # 疗效 (TEXT002)
        ("营养补充增加🔥微🔥量🔥元素", "food"),  # 加微 (TEXT004)
        ("这双鞋独立🔥减🔥震🔥科技", "apparel"),  # 立减 (TEXT006)
        ("单独🔥家🔥用🔥两相宜", "home"),  # 独家 (TEXT001)
        ("人气🔥狗粮🔥鸡肉味", "pet"),
    ]:
        assert not codes(text, kind="livestream", category=category), text
    # the offsets still quote the original, emoji and all
    nt = normalise("好物 直🔥降🔥一🔥百!")
    start = nt.text.index("直降")
    assert nt.original[slice(*nt.span(start, start + 4))] == "直🔥降🔥一🔥百"


def test_long_runs_of_emoji_do_not_stall_the_normaliser():
    """A hostile text of emoji runs between lone characters: the first cut of the emoji gap
    backtracked through every way to split a run (("好" + "🔥" * 600) * 3 took 7.7 s, growing
    with the fourth power of the run); the possessive gaps read it in one pass."""
    import signal

    def stalled(*_):
        raise TimeoutError("normalise stalled on runs of emoji")

    old = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(20)
    try:
        nt = normalise(("好" + "🔥" * 2000) * 3 + "好好")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    # three lone 好 join; the last run of emoji stays before the joined 好好
    assert nt.text == "好好好" + "🔥" * 2000 + "好好"


@pytest.mark.parametrize(
    "raw", ["全网最　低 ok", "a……最\u200b*好b", "x ＶＸ：ab_123 y", "ß最 好😀❤信", "plain text"]
)
def test_offsets_map_back_to_the_original(raw):
    nt = normalise(raw)
    for i in range(len(nt.text)):
        s, e = nt.span(i, i + 1)
        assert 0 <= s < e <= len(raw)
        # the original span folds to the normalised character
        assert nt.text[i] in normalise(raw[s:e]).text or raw[s:e] in ("ß",)


@given(st.text(max_size=60))
def test_normalise_never_fails_and_spans_stay_in_bounds(raw):
    nt = normalise(raw)
    s, e = nt.span(0, len(nt.text))
    assert 0 <= s <= e <= len(raw)


# -- TEXT001: Advertising Law Art. 9(3) ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["品质最佳", "国家级工艺", "最高级面料", "最好的羽绒服", "最*好", "最 好", "最.好", "全网最　低",
     "ＮＯ．１ 品牌", "N0.1 brand", "best ever", "#1 in the world", "the best in the world",
     "國家級品質 羽絨服", "The world’s best down jacket"],
)  # fmt: skip
def test_absolute_terms_are_flagged(text):
    assert "TEXT001" in codes(text)


@pytest.mark.parametrize(
    "text",
    ["最近很多顾客回购", "最后提醒大家注意查收", "首先感谢大家", "顶部有拉链设计", "同款在唯品会也有售",
     "这是我们店第一次参加双11", "活动第一天发货较多", "最好在阴凉处保存", "Latest model, top zipper.",
     "First time joining Double 11.", "Bestow a gift", "Recently restocked.",
     # the same words in traditional characters
     "最近很多人回購", "最後提醒大家注意查收", "這是我們店第一次參加雙11", "第一步：打開包裝",
     "唯一的缺點是貴"],
)  # fmt: skip
def test_ordinary_words_are_not_flagged(text):
    assert "TEXT001" not in codes(text)


# -- TEXT002: Arts. 16-18, category aware ----------------------------------------------------


def test_a_tea_may_not_promise_a_cure_but_a_medical_device_may_state_its_use():
    assert "TEXT002" in codes("喝了降血压", category="food")
    assert "TEXT002" in codes("喝了降血压", category=None)  # no listing: no exemption
    assert "TEXT002" not in codes("辅助降血压", category="medical_device")
    # efficacy guarantees are barred for drugs and devices too (Art. 16(1)-(2))
    assert "TEXT002" in codes("包治百病", category="medical_device")
    assert "TEXT002" in codes("治愈率99%", category="drug")
    assert "TEXT002" not in codes("治愈系毛绒设计", category="toys")
    assert "TEXT002" in codes("This serum cures eczema", category="cosmetics")
    assert "TEXT002" not in codes("A secure lid", category="home")
    assert "TEXT002" not in codes("Dog treats, chicken flavour", category="food")
    assert "TEXT002" not in codes("Dry cured ham", category="food")
    assert "TEXT002" in codes("This balm treats eczema", category="cosmetics")
    assert "TEXT002" in codes("蜂蜜水每天一杯，降血壓、治療失眠", category="food")  # traditional


@pytest.mark.parametrize(
    "text",
    ["果树病虫害防治 杀虫剂", "白蚁防治药", "防治蚜虫 红蜘蛛 杀螨剂", "玉米田除草剂 草害防治"]
    + ["杀菌剂 防治白粉病 霜霉病", "防治病虫害 园艺喷雾器"]
    # a reviewer's pesticide wording, still flagged after the first rows
    + ["防治各种病虫害 果树蔬菜通用", "防治多种病虫害", "病虫害综合防治", "病虫害的防治"]
    + ["防治蚧壳虫 多肉专用", "多菌灵 防治腐烂病", "防治稻瘟病 纹枯病", "防治晚疫病 黑星病"]
    + ["防治锈病"]
    # a crop between 防治 and the pest (session 24)
    + ["防治水稻病虫害 高效杀虫剂", "防治小麦锈病", "杀菌剂 防治葡萄霜霉病", "防治柑橘红蜘蛛"]
    + ["防治番茄的晚疫病", "吡虫啉 防治果树蚜虫", "防治水稻纹枯病 稻瘟病 杀菌剂"]
    # a plant disease the allow rows do not name, after one they do: still a pesticide's list
    + ["防治稻瘟病 纹枯病 稻曲病", "防治蚜虫 缺素症黄叶", "防治病虫害 对人畜低毒"]
    # crop pests and plant diseases the rows did not name (session 25)
    + ["防治水稻稻飞虱", "吡蚜酮 防治稻飞虱 叶蝉", "防治稻纵卷叶螟 二化螟", "防治菜青虫 小菜蛾"]
    + ["防治棉铃虫", "防治地老虎 蛴螬 韭蛆", "防治根结线虫", "防治小麦赤霉病", "枯萎病防治"]
    + ["防治番茄青枯病 软腐病", "防治立枯病 猝倒病", "防治黄瓜蔓枯病 早疫病"],
)
def test_pest_weed_and_plant_disease_control_is_no_medical_claim(text):
    """防治 of pests, weeds or plant diseases is what a pesticide does: no human disease."""
    assert "TEXT002" not in codes(text, category="home")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("艾草贴 防治病虫害 降血压", "home"),  # the pest words beside it do not hide 降血压
        ("防治高血压", "food"),
        ("预防治疗失眠", "food"),
        ("护颈枕 防治 颈椎病", "home"),
        ("驱蚊 防治皮肤病", "home"),
        ("驱蚊液 防治蚊虫叮咬引起的皮炎湿疹", "home"),  # mosquitoes are no allowed pest
        ("花露水 蚊虫防治 治疗湿疹", "home"),
        # a reviewer's: 害虫/虫害 are mosquitoes, lice and mites too, 病害 people's and animals'
        # diseases (an allow row of those words had hidden each of these)
        ("驱蚊液 防治害虫叮咬引起的皮炎", "home"),
        ("宝宝紫草膏，防治虫害叮咬后的皮炎湿疹", "cosmetics"),
        ("灭虱香波 头虱等害虫防治", "cosmetics"),
        ("防治害虫，预防登革热疟疾", "home"),
        ("肠道寄生虫害防治", "food"),
        ("硫磺皂 皮肤病害防治", "cosmetics"),
        ("牙膏 口腔病害防治", "cosmetics"),
        ("蜂胶 防治病害 增强免疫", "food"),
        ("益生菌饲料添加剂 畜禽病害防治", "pet"),
        # diseases people have too are no plant words: 溃疡病 (胃溃疡), 炭疽病, 病毒病
        ("养胃茶 防治溃疡病", "food"),
        ("防治病毒病 增强免疫", "food"),
        ("防治各种病虫害 降血压", "home"),
        # a person or an animal where a crop would stand, or a crop beside a human claim
        ("防治老人高血压", "food"),
        ("防治宝宝湿疹", "cosmetics"),
        ("防治水稻病虫害 降血压", "home"),
        ("防治小麦过敏", "food"),
        # a reviewer's: the crop's pest, then a disease of people or animals in the same breath
        ("防治小麦锈病和糖尿病", "food"),
        ("防治水稻病虫害、高血压、糖尿病", "food"),
        ("吃富硒大米 防治水稻病虫害 高血压", "food"),
        ("枯草芽孢杆菌 防治黄瓜根腐病、猪鸡腹泻", "home"),
        ("EM菌原液 防治水稻病虫害及畜禽疾病 鱼虾肠炎", "home"),
        ("木醋液 防治黄瓜病虫害和脚气 灰指甲", "home"),
        ("苦参碱 防治蔬菜蚜虫，宠物狗猫螨虫皮肤病", "home"),
        # ... and where an allow row had read the 防治 as pest control already
        ("防治锈病和糖尿病", "food"),
        ("枯草芽孢杆菌 防治根腐病、猪鸡腹泻", "home"),
        ("木醋液 防治蔬菜病虫害和脚气 灰指甲", "home"),
        ("病虫害防治 兼治高血压", "food"),
        # ... and after the crop pests of session 25
        ("防治稻飞虱和高血压", "food"),
        ("防治水稻稻飞虱 降血压", "home"),
        ("防治菜青虫、糖尿病", "food"),
        ("赤霉病防治 兼治失眠", "food"),
    ],
)
def test_disease_control_of_people_stays_a_medical_claim(text, category):
    assert "TEXT002" in codes(text, category=category)


def _text002(text: str, category: str):
    return decided("TEXT002", text, "listing_description", category)


@pytest.mark.parametrize(
    ("innocent", "claim"),
    [# a blind set's listings (session 29): each claim beside a text of its words that is lawful
     # for its category, or that names the disease without claiming to treat it
     (("food", "海鲜礼盒 痛风患者慎食"), ("food", "菊苣栀子茶 降尿酸 痛风克星")),
     (("food", "三高人群请遵医嘱饮食"), ("food", "降 三 高 茶 血 压 血 脂 血 糖 一 起 调")),
     (("medical_device", "血糖仪 降糖治疗期间监测血糖用"), ("food", "苦荞茶 降糖茶 每天一杯")),
     (("cosmetics", "防脱生发洗发液 特殊化妆品注册"), ("food", "九蒸九晒黑芝麻丸 治白发 防脱生发")),
     (("drug", "阿司匹林肠溶片 预防脑梗 请遵医嘱"), ("food", "日本工艺纳豆粉 溶解血栓 预防脑梗心梗")),
     (("drug", "流感疫苗 预防流感"), ("health_food", "维生素C泡腾片 增强免疫力 预防新冠病毒和甲流")),
     (("drug", "安神补脑胶囊 用于失眠 请遵医嘱"), ("drug", "安神补脑胶囊 治疗失眠 当晚见效")),
     (("electronics", "Win11专业版激活码 永久激活 秒发 无效全额退款"), ("medical_device", "医用冷敷贴 7天祛痘 无效退款")),
     (("pet", "Dog treats with pumpkin, gentle on tummies"),
      ("baby", "Baltic Amber Teething Necklace – Treats Colic, Acid Reflux and Eczema Naturally")),
     (("drug", "COVID-19 vaccine: prevents COVID-19 in people aged 12 and over"),
      ("health_food", "Elderberry Zinc Gummies – Prevents COVID-19 and Flu")),
     (("electronics", "Car Key Programmer OBD2 Tool 100% Success Rate for Toyota Honda"),
      ("drug", "Antifungal solution cures nail fungus – 100% effective")),
     (("medical_device", "FDA-cleared TENS unit for temporary pain relief"),
      ("medical_device", "TENS Unit – 100% Pain Relief Guaranteed on First Use or Full Refund")),
     (("health_food", "Blood sugar test strips sold separately"),
      ("health_food", "Blood Sugar Formula – Guaranteed to Normalize Your A1C in 30 Days")),
     (("cosmetics", "UV Cure Gel Nail Polish – Cures in 60 Seconds Under LED Lamp"),
      ("cosmetics", "This balm cures in 3 days!")),
     (("health_food", "Vitamin B12 Gummies. *This product is not intended to diagnose, treat, cure, "
                      "or prevent any disease."),
      ("health_food", "Vitamin B12 Gummies cure fatigue. *This product is not intended to diagnose, "
                      "treat, cure, or prevent any disease."))],
)  # fmt: skip
def test_claims_found_and_their_lawful_look_alikes_clear(innocent, claim):
    assert _text002(innocent[1], innocent[0])[0] == [], innocent
    assert _text002(claim[1], claim[0])[0], claim


@pytest.mark.parametrize(
    ("innocent", "claim"),
    [# a disease written in full is a name (a warning names it); spelt in pinyin it dodges the
     # platforms' filters, which only a claim needs to (a blind set's listings, session 29)
     (("health_food", "高血压人群慎用，孕妇禁用"), ("health_food", "高xue压人群 早晚一粒 稳稳降下来")),
     (("food", "痛风患者慎食，尿酸高者少吃"), ("food", "痛 feng 的朋友 尿 suan 高 就喝这个 关节不再肿")),
     (("food", "糖尿病人请遵医嘱食用"), ("food", "🍬尿bing的家人们看过来👀 这个苦荞粉吃了 空腹值直接降下来")),
     (("baby", "湿疹宝宝请先咨询医生"), ("baby", "宝宝 shi 疹 膏 涂上红痒马上下去")),
     (("apparel", "前列腺术后护理请遵医嘱"), ("apparel", "前 列 xian 问 题 穿 上 这 条 磁 疗 内 裤 就 好 了"))],
)  # fmt: skip
def test_a_disease_spelt_to_dodge_filters_is_a_claim_its_name_is_not(innocent, claim):
    assert _text002(innocent[1], innocent[0])[0] == [], innocent
    assert _text002(claim[1], claim[0])[0], claim


@pytest.mark.parametrize(
    ("category", "text"),
    [("food", "0蔗糖苏打水 本品为普通食品，不具有降血糖作用，不能代替药物。"),
     ("cosmetics", "补水面膜 提醒：化妆品不能消炎、不能治疗痘痘。本品仅具补水保湿作用。"),
     ("health_food", "Our gummies do not cure anything, they just taste good."),
     ("health_food", "叶黄素 不具有降三高作用"),
     ("health_food", "复合维生素片 本品不能代替药物治疗疾病"),
     # a third reviewer's notices: the goods named right before the negation, a caution before it
     ("cosmetics", "茶树精油香皂 温馨提示：这款香皂不能治疗痤疮，严重请就医"),
     ("cosmetics", "Tea tree soap. Please note: this soap does not cure acne or eczema."),
     ("food", "蜂蜜 若血糖偏高请谨慎食用，本品不具有降血糖作用")],
)  # fmt: skip
def test_a_negated_claim_is_reported_low_with_the_reason(category, text):
    hits, (severity, reason) = _text002(text, category)
    assert hits and severity == "low" and "negated" in reason


@pytest.mark.parametrize(
    ("category", "text"),
    [("food", "本品为普通食品，不能代替药物，但能降血糖"),
     ("food", "不具有副作用，降血糖效果好"),
     ("health_food", "Not a drug, but it cures insomnia.")],
)  # fmt: skip
def test_a_claim_beside_a_negation_of_something_else_stays_high(category, text):
    hits, (severity, _reason) = _text002(text, category)
    assert hits and severity is None, text


@pytest.mark.parametrize(
    ("category", "text"),
    [# a reviewer's lawful listings against the first cut of the blind set's terms (session 29):
     # words that hold 防脱/生发, drugs named in cautions, sugar taken out of a recipe, a cleaner
     # that works the same day, a key that is refunded, tools, the fight against COVID, pet treats
     ("apparel", "S925纯银耳钉女 硅胶耳堵防脱落 睡觉不用摘"),
     ("home", "不锈钢S钩 防脱扣设计 挂衣服挂包不掉落"),
     ("apparel", "韩国ins风女生发夹 一字夹刘海夹 学生发饰"),
     ("electronics", "充电宝 10000毫安 充电时产生发热属正常现象"),
     ("health_food", "铬酵母片 注意事项：正在服用降糖药物者请在医生指导下食用"),
     ("health_food", "纳豆激酶胶囊 注意：正在服用抗凝、溶栓药物者及孕妇慎用"),
     ("food", "冷冻海鲜大虾 温馨提示：海鲜嘌呤高，易导致尿酸结晶，痛风患者慎食"),
     ("home", "家用汗蒸房 使用后若感头晕请静坐休息，待血压恢复正常后再起身"),
     ("food", "元气森林气泡水 全新配方 降糖30% 口感不变"),
     ("home", "管道疏通剂 强力溶解头发油污 当天见效"),
     ("electronics", "Steam游戏兑换码 自动发货 激活码无效全额退款"),
     ("home", "EPA-registered disinfectant wipes, effective against COVID-19 virus on hard surfaces"),
     ("apparel", "Unisex T-shirt - 10% of proceeds donated to the fight against COVID-19"),
     ("pet", "Low Purine Dog Treats Gout Friendly for Dalmatians"),
     ("pet", "Horse Treats Colic Safe Low Sugar Apple Flavor"),
     ("cosmetics", "生姜防脱洗发水 特殊化妆品 防脱生发"),
     ("health_food", "Vitamin D3 gummies. This product is not intended to diagnose, treat, cure or "
                     "prevent disease.")],
)  # fmt: skip
def test_a_reviewers_lawful_listings_stay_clear(category, text):
    assert _text002(text, category)[0] == [], text


@pytest.mark.parametrize(
    ("clear", "claim"),
    [# a third reviewer's lost claims (session 30), each beside a look-alike that stays clear
     (("health_food", "铬酵母片 注意事项：正在服用降糖药物者请在医生指导下食用"),
      ("health_food", "天然降血压药 纯中药配方 芹菜籽胶囊")),
     (("health_food", "降血压药物与本品同服请遵医嘱"), ("health_food", "本品可替代降血压药 长期服用")),
     (("food", "苦荞茶 500g 荞麦香浓"), ("food", "降糖降压 苦荞茶 500g")),
     (("cosmetics", "生姜防脱洗发水 特殊化妆品 防脱生发"), ("food", "防脱生发 黑芝麻丸 即食")),
     (("home", "管道疏通剂 强力溶解头发油污 当天见效"), ("food", "当天见效 清肠润肠 果蔬酵素")),
     (("electronics", "Win11专业版激活码 永久激活 秒发 无效全额退款"), ("food", "无效全额退款 减肥茶 刮油去脂")),
     (("food", "冷冻海鲜大虾 温馨提示：海鲜嘌呤高，易导致尿酸结晶，痛风患者慎食"),
      ("food", "溶解尿酸结晶 樱桃浓缩汁")),
     (("home", "Disinfectant spray, protects against COVID-19 on hard surfaces"),
      ("health_food", "Offers protection against COVID-19, immune support gummies")),
     (("electronics", "Car Key Programmer OBD2 Tool 100% Success Rate for Toyota Honda"),
      ("health_food", "100% success rate for nail fungus, tea tree oil drops")),
     (("food", "全麦面包 降低血糖生成指数 低GI 代餐"), ("food", "苦瓜代餐粉 降低血糖 控糖")),
     (("home", "UV resin cures in 24 hours, clear casting"), ("health_food", "Toothache gel cures in 30 seconds, clove oil")),
     (("home", "Epoxy resin cures in 2 minutes"), ("cosmetics", "Headache balm cures in 2 hours")),
     (("pet", "Low Purine Dog Treats Gout Friendly for Dalmatians"),
      ("pet", "Hemp oil for dogs treats arthritis and joint pain"))],
)  # fmt: skip
def test_a_third_reviewers_lost_claims_are_found_and_their_look_alikes_clear(clear, claim):
    assert _text002(clear[1], clear[0])[0] == [], clear
    hits, (severity, _) = _text002(claim[1], claim[0])
    assert hits and severity is None, claim  # the pack's severity (high)


@pytest.mark.parametrize(
    "text",
    [
        "This product is not intended to treat or cure any disease.",
        "This product is not intended to diagnose, treat, cure, or mitigate any disease.",
    ],
)
def test_the_supplement_disclaimer_written_another_way_is_low(text):
    hits, (severity, reason) = _text002(text, "health_food")
    assert hits and severity == "low" and reason
    # the same disclaimer beside a cure claimed of the goods keeps the finding high
    hits, (severity, _) = _text002("These gummies cure insomnia. " + text, "health_food")
    assert severity is None


@pytest.mark.parametrize(
    ("category", "text"),
    [# a negation that is rhetoric, a condition or said of someone else is no notice; a cure in
     # seconds with no gel or lamp is a cure; the same families written another way
     ("health_food", "If it doesn't cure your nail fungus in 30 days, full refund!"),
     ("food", "桑叶茶 如果不能降血糖，无条件退款"),
     ("health_food", "What doctors can't cure, nature can. Turmeric for arthritis"),
     ("health_food", "Big Pharma can't cure your insomnia. Our sleep gummies can."),
     ("health_food", "苦瓜肽片 糖尿病真的不能治愈吗？试试这款，血糖稳稳的"),
     ("health_food", "灰指甲克星 没有治愈不了的灰指甲 一瓶搞定"),
     ("health_food", "医院无法根治的湿疹 用它一周就好了"),
     # the goods named elsewhere in the sentence do not make someone else's negation theirs
     ("health_food", "【产品介绍】医院无法根治的湿疹，用它一周就好了"),
     ("health_food", "Doctors say they can't cure tinnitus. This formula says otherwise."),
     ("health_food", "Headache Relief Roll-On with peppermint oil, cures in 60 seconds"),
     ("health_food", "Hangover & migraine patch - cure in 90 seconds"),
     ("health_food", "纳豆激酶 清除血栓 软化血管 通血管"),
     ("food", "黑芝麻丸 白发变黑发 治脱发"),
     ("health_food", "降xue压 降xue糖 老人必备"),
     ("health_food", "Reverses Type 2 Diabetes Naturally in 90 Days"),
     ("health_food", "Elderberry syrup prevents influenza and colds"),
     ("health_food", "Guaranteed to lower blood sugar or your money back")],
)  # fmt: skip
def test_a_reviewers_claims_stay_high(category, text):
    hits, (severity, _reason) = _text002(text, category)
    assert hits and severity is None, text


def test_the_traditional_table_folds_only_what_the_lexicons_need():
    """Each traditional character read as simplified is the form of a character some built-in
    term is written with, and none is itself in a term (it would be read away)."""
    from promoguard.text.normalise import SIMPLIFIED, TRADITIONAL

    written = "".join(t.term for t in load_terms())
    assert len(TRADITIONAL) == len(SIMPLIFIED) == len(set(TRADITIONAL))
    for trad, simp in zip(TRADITIONAL, SIMPLIFIED, strict=True):
        assert simp in written and trad not in written and trad != simp, trad


def test_the_pack_decides_which_categories_may_state_indications():
    rules = ContentRules(load_terms())
    prep = rules.prepare("降血压")
    narrow = {"TEXT002": {"medical_categories": ["drug"]}}
    assert "TEXT002" in decide_all(prep, category="medical_device", params=narrow)
    assert "TEXT002" not in decide_all(prep, category="drug", params=narrow)


# -- TEXT003 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["另有仿真枪出售", "管制刀具现货", "窃听器", "迷药", "stun guns for sale", "仿真手枪 钢珠",
     "窃听器 监听器 远程", "远程监听器 手机控制", "气枪铅弹", "子弹 散装", "手枪式电击器"],
)  # fmt: skip
def test_prohibited_items(text):
    assert "TEXT003" in codes(text)


@pytest.mark.parametrize(
    "text",
    ["厨房刀具请放在儿童够不到的地方", "夏日水枪玩具", "water gun toy", "手枪钻 电动工具",
     # ordinary goods named with a gun, bullet or monitor word (a reviewer's store)
     "主播直播声卡 耳返监听器 套装", "子弹咖啡 生酮 防弹咖啡", "手枪式喷壶 园艺浇花",
     "气动吹气枪 除尘气枪", "男士子弹内裤 莫代尔"],
)  # fmt: skip
def test_look_alike_goods_are_not_prohibited(text):
    assert "TEXT003" not in codes(text)


# -- TEXT004 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["加微信 abcd123 领优惠", "V信：abcd123", "薇信 kk2233 私聊", "加QQ 12345678 更便宜", "私下转账可以再便宜",
     "点击 t.cn/AbCdEf 领券", "加vx ab_cd12", "详情见 dwz.cn/xyzabc", "微 信 号: shop_8848", "❤信 kk5678",
     "add me on WeChat abc123", "cheaper via WhatsApp, message me", "details at bit.ly/xyz",
     "电话 13812345678", "QQ群 12345678", "WeChat ID: abc_123", "微信号是 shop_8848"],
)  # fmt: skip
def test_lures_off_the_platform(text):
    assert "TEXT004" in codes(text)


@pytest.mark.parametrize(
    "text",
    ["支持微信支付和支付宝", "WeChat Pay accepted", "亲，收到货有问题随时联系我们。", "另有仿真枪出售，需要私聊。",
     "QQ音乐会员", "visit the shop at ant.cn/about", "wechat payment accepted"],
)  # fmt: skip
def test_platform_words_that_are_not_lures(text):
    assert "TEXT004" not in codes(text)


def test_a_phone_number_is_a_lure_only_when_the_pack_says_so():
    rules = ContentRules(load_terms())
    prep = rules.prepare("电话 13812345678")
    assert "TEXT004" in decide_all(prep)
    assert "TEXT004" not in decide_all(prep, params={"TEXT004": {"phone_is_lure": False}})


# -- TEXT005: validated identifiers ------------------------------------------------------------


def test_resident_id_needs_the_gb11643_check_character_and_a_real_birth_date():
    assert id_check_char("11010519491231002") == "x"  # the standard's own example
    assert valid_resident_id("11010519491231002X")
    assert valid_resident_id(valid_id())
    assert not valid_resident_id(wrong_id())
    assert not valid_resident_id("110105" + "19490231" + "002" + "0")  # 31 Feb
    body = "110105" + "20991231" + "002"
    assert not valid_resident_id(body + id_check_char(body), today=dt.date(2026, 11, 29))
    body = "991105" + "19900101" + "002"
    assert not valid_resident_id(body + id_check_char(body))  # no province 99
    body = "110105" + "18991231" + "002"
    assert not valid_resident_id(body + id_check_char(body))  # born before 1900


def test_cards_pass_luhn_and_carry_an_issuer_prefix():
    assert luhn_ok("4111111111111111") and valid_card("4111 1111 1111 1111")
    # doubled digits over 9 (8 -> 16 -> 7): 4111... doubles none of them
    assert luhn_ok("4012888888881881") and not luhn_ok("4012888888881882")
    assert not valid_card("4111111111111112")
    assert valid_card(card()) and not valid_card(card(valid=False))
    # an order number that passes Luhn is still no card: no scheme issues under 2
    order = card("202611119876543")
    assert luhn_ok(order) and not valid_card(order)


def test_mobiles_and_emails():
    assert valid_mobile("138-1234-5678") and valid_mobile("+86 13812345678")
    assert not valid_mobile("12812345678") and not valid_mobile("1381234567")
    assert valid_email("li.ming@example.com")
    assert not valid_email("li..ming@example.com") and not valid_email("a@b.notatld")


def test_identifiers_in_text_and_what_is_not_one():
    text = normalise(
        f"身份证 {valid_id()}，卡号 {card()}，电话 138 1234 5678，邮箱 a.b@qq.com，"
        f"作废证件 {wrong_id()}，订单号 2026111198765432，运单 SF1234567890123"
    ).text
    kinds = [i.kind for i in find_identifiers(text)]
    assert kinds == ["resident_id", "bank_card", "mobile", "email"]


def test_an_id_with_a_wrong_check_character_is_never_read_as_a_card():
    # Gansu's IDs start 62, UnionPay's prefix for 18-digit cards: a wrong check character that
    # happens to pass Luhn would be a valid card (Shanghai's 31 is no card prefix at all)
    as_card = 0
    for n in range(200):
        body = f"6201022002{(n % 12) + 1:02d}{(n % 28) + 1:02d}{n % 1000:03d}"
        for c in "0123456789":
            if c == id_check_char(body):
                continue
            wrong = body + c
            as_card += valid_card(wrong)
            assert find_identifiers(wrong) == [], wrong
    assert as_card > 150  # most bodies have a wrong check digit that passes Luhn


# -- TEXT006: live streams ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["直降500！", "今天立减300！", "最后三单！", "仅剩2件，手慢无！", "库存告急，只剩5单！", "比原价便宜一半！",
     "比平时便宜一半！", "half the usual price!", "only 2 left!", "last 3 units, hurry!", "300 off today only!"],
)  # fmt: skip
def test_livestream_urgency_and_baseless_comparisons(text):
    assert "TEXT006" in codes(text, kind="livestream")
    assert "TEXT006" not in codes(text, kind="listing_description")


@pytest.mark.parametrize(
    "text",
    ["原价299元，今天直播间199元，点击小黄车", "原价399元，直降200元", "regular price 299 yuan, today 199 yuan",
     "最后提醒大家注意查收", "欢迎来到直播间"],
)  # fmt: skip
def test_a_comparison_with_its_base_is_not_flagged(text):
    assert "TEXT006" not in codes(text, kind="livestream")


def _text006(text: str):
    return decided("TEXT006", text, "livestream")


@pytest.mark.parametrize(
    "text",
    [# a blind set's live-room claims the first patterns missed (session 32), and the same shapes
     # in other words: amounts said aloud, savings, countdowns and a price that ends with the stream
     "我跟你们说，这一单拍下来你们省了一百多！", "整整便宜了两百多块钱，去吃顿火锅不香吗？", "这台冰箱到手省了1k+",
     "今天骨折价，错过就真没了", "今天 zhi jiang 两百哈，你们懂的", "今天是限时五 zhe 哈",
     "今天打5\ufe0f\u20e3折！", "原价好几百呢，今天直播间只要99", "今天这个价是官方指导价的一半都不到",
     "去超市买一瓶都要比这贵好多，我们这一箱才99", "比原价便宜了整整150块，拍它！",
     "倒计时三分钟！三分钟之后恢复原价！", "还有最后30秒！改价了", "最后一分钟了家人们", "十分钟后我们就下架",
     "下播就恢复原价，只有今晚有这个价！", "限时抢购，错过今天再等一年！", "后台显示就剩8单了", "库存不多了家人们",
     "库存真的快见底了", "已经快卖光了宝宝们", "最后一个了，拍完就没了",
     "Guys, this serum is HALF OFF right now!", "We slashed it by 60 bucks today", "sixty dollars off, 60 dollars off",
     "Prices are down 30 percent for the stream only", "You're saving $20 on this blender", "save $20, guys", "直降500，冲",
     "Save big on the full set today!", "It's way cheaper than on Amazon, go check",
     "5\ufe0f\u20e30\ufe0f\u20e3% 0FF guys!!", "Price goes back up after the stream",
     "The moment I go offline this price disappears", "this price expires at the end of the stream",
     "there's only like 4 left", "We're almost sold out guys, last few units", "This deal ends in 10 minutes",
     "Flash price for the next five minutes only, then it's back to regular."],
)  # fmt: skip
def test_livestream_claims_said_the_way_live_rooms_say_them(text):
    hits, (severity, _reason) = _text006(text)
    assert hits and severity is None, text


@pytest.mark.parametrize(
    "text",
    [# the blind set's lawful look-alikes (session 32): the base a sentence away, said in words,
     # before the label in English, a competitor's own price; the running order of the stream
     "宝宝们，原价128，今天直播间108，直降20，就这么多", "单买一瓶是79，两瓶一起拍是138，相当于第二瓶省了20",
     "原价三百九十九块，今天直降两百块，到手一百九十九。", "这个锅日常售价459，今天直降100，359拍下就发",
     "平时我们店里卖89一瓶，今天直播间立减20，69到手", "某东自营今天标价259，我们直播间229，比它便宜30",
     "It's 30% off the $70 list price, so $49 at checkout.",
     "Our everyday price is $25, you're getting it for $20 today, so 20% off that.",
     "Amazon has it listed at $45 right now, we're at $39, so six bucks less than Amazon",
     "It was $50, now $30, so you save $20, guys!", "Normally £40 on our website, it's £30 here, so a tenner off",
     "今天最后一个环节，我们来回答一下弹幕里的问题", "最后一个款式给大家介绍一下", "今天给大家准备了12款新品，现在讲到第5款了",
     "超级福袋还有两分钟开奖", "Last item in today's lineup, guys", "No rush, we have plenty in stock",
     # a reviewer's lawful sentences against the session's first patterns: measures, places, time,
     # the stream's own schedule, a base in the sentence before or written with its thousands
     "I went down 2 sizes", "size down 1", "scroll down 2 pages", "能省一点是一点", "我们在浙江省一家工厂生产",
     "节省一半的时间", "能不能便宜一点", "敷十五分钟以后痘痘就没了", "木耳泡十分钟后就涨开了", "一分钟之后我们结束抽奖",
     "还剩两个链接没上", "还剩十分钟我们就下播了", "最后一分钟给大家讲讲售后", "省3个小时", "省30个小时", "节省300元电费",
     "for the next 5 minutes I'll show you how to fold it", "Our stream ends in 10 minutes, thanks for watching",
     "the price goes up with the size", "saving 3 hours a week", "加绒款比这个贵20块", "型号ZJ300的锅",
     "原价399元。今天直播间直降100！", "Regular price $40. Today $10 off.", "原价3千，今天直降500",
     "原价1.2万，直降3000", "list price $1,299, today save $300"],
)  # fmt: skip
def test_a_stated_base_or_another_sense_of_last_is_no_livestream_claim(text):
    hits, _ = _text006(text)
    assert not hits, (text, hits)


@pytest.mark.parametrize(
    "text",
    [# the shape of the lawful ones above, but the base said three or more clauses back (what the
     # blind sets call a base far away) or smaller than the cut itself
     "原价59元，今天直播间59元，有问题可以在评论区留言，喜欢的话点个关注，直降20！",
     "regular price 949 yuan, tap the cart below, look at the finish, today we have sheet masks, 300 off!",
     "原价229元，今天直播间229元，今天立减300！", "原价99，直降150，家人们冲", "原价500，今天省了2k",
     "原价1,299，直降1,500"],
)  # fmt: skip
def test_a_base_far_back_or_below_the_cut_is_no_base(text):
    hits, _ = _text006(text)
    assert hits, text


def test_a_negated_urgency_word_is_low_and_a_pseudo_denial_is_not():
    hits, (severity, reason) = _text006("没有倒计时，没有秒杀，你们考虑好了再下单")
    assert hits and severity == "low" and "negated" in reason
    # the same word after a denial of something else: a countdown, at the pack's severity
    for text in ("不催你们啊，不催，但是倒计时还有两分钟", "不是我吓唬你们，真的只剩最后20单",
                 "别着急别着急，不过说实话库存真的快见底了", "不会恢复原价？会的，倒计时三分钟",
                 # rhetorical questions assert what they seem to deny; 'kimono' is no 'no'
                 "这不就剩3件了嘛", "可不是最后三单了吗", "我这不是倒计时了嘛", "要不最后三单给你们送个赠品",
                 # (those read as no denial at all: 这不, 可不, 要不; these do, but for the 吗 or 嘛)
                 "难道不是最后三单吗", "都不是最后三单了嘛",
                 "This silk kimono last 3 pieces"):  # fmt: skip
        hits, (severity, _reason) = _text006(text)
        assert hits and severity is None, text


# -- REVIEW002 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["好评返现", "晒图返现5元", "五星好评返5元", "五星好评送小礼品", "好评截图找客服领红包",
     "leave a 5-star review and get a refund of 5 yuan", "5-star review = cashback",
     "post a photo review for a gift",
     # filter-dodging spellings: h = 好, f = 返 in pinyin
     "h评f现", "亲，好评f现哦",
     # a prize draw is a reward: entered for the review, or won with money
     "Leave a 5-star review and we'll enter you in our monthly draw to win $100",
     "Post a photo review for a chance to win a $50 gift card", "五星好评截图发客服，赢取50元红包"],
)  # fmt: skip
def test_rewards_for_good_reviews(text):
    assert "REVIEW002" in codes(text)


@pytest.mark.parametrize(
    "text",
    ["好评如潮，下单送运费险", "质量不错，送朋友的", "五颗星推荐给大家！", "加vx abcd123 返现", "五星级酒店同款 送拖鞋",
     "Free returns within 7 days.", "Thanks for the review. Free returns within 7 days."],
)  # fmt: skip
def test_rewards_without_a_review_condition(text):
    assert "REVIEW002" not in codes(text)


# Cards and chats as they are written (a helper's corpus, built apart from the rule from penalty
# decisions, press reports and Amazon insert cards; /tmp corpus of session 26): the reward comes
# clauses after the review word, told first, or for a review changed. Each was missed before.
CARDS = [
    "五星好评+晒图，截图发客服，返5元红包",
    "全五星10字好评+截图给微信客服返现1元+晒图再返现1元",  # 天津北辰 penalty decision
    "5星好评宝贝、描述相符5分，截图给微信客服，可领取红包5元",  # 杭州 "5星好评卡"
    "好评15字并晒图，找客服领取3元红包",  # 崇川区 case
    "亲，给个五星带图带字的好评，再加店铺微信发好评截图，跟老板玩把石头剪刀布：赢了2.8元红包",
    "亲～给个好评呗，返你两块钱哈",
    "大众点评写15字好评+3张图，凭截图免费领甜品一份",
    "吃饭的时候服务员让我们发三张图加15字好评，才送免费冰粉",
    "全五星好评并追评（满15字），加客服微信 xy_shop88，送精美小礼品一份",
    "5元红包等你拿！条件：五星好评+晒图，评完找客服",
    "亲，麻烦帮忙把中评改成好评可以吗？改好后我这边补偿您10元红包",
    "客服一直打电话让我把差评改成好评，说给我退10块钱",
    "您好，看到您给了差评，我们可以给您部分退款20元，麻烦您删除差评哦",
    "Leave us a 5-star review on Amazon, email a screenshot to us, and we'll send you a FREE gift!",
    "Give us a five-star rating and a rave review, send us your email address, and we'll send "
    "you a $20 PayPal credit.",
    "The box came with a card offering a $20 refund for a five-star review.",
    "Tucked in the box was a card: redeem a $19 gift card, just send proof of a five-star review.",
    "If you could update your rating to 5 stars, we will refund you $15 right away.",
    # a reviewer's held-out cases (session 27): a paying verb opening the next clause, prizes,
    # 补/转 before a sum, a review changed, 免单, English offers with a link
    "给好评，返红包",
    "给个5⭐好评，送小礼物🎁",
    "全五星好评可参与抽奖，奖品有iPhone",
    "亲，麻烦把评价改成五星呗，我给你补20块",
    "客服主动加我微信，说给五星就给我转8块钱，我没理",
    "买家秀征集：上传买家秀+好评，送价值29元的收纳盒",
    "记住啊家人们，收到货五星好评，我们抽20个人免单",
    "给五颗星的宝宝们，私我发红包",
    "Leave a five-star review and we'll enter you into a draw to win an iPad",
    "Hi! If you leave a 5 star review, I'll include a bonus print in your next order :)",
    # a second reviewer's blind cases (session 27): a bad review changed for pay, written around
    # it; a reward told first and tied by 'for a'; a red envelope offered in the next clause
    "亲，这个中评能帮忙删掉吗？我们补偿您10元",
    "差评后商家打电话来说给我退20块让我把差评删了",
    "客服一直骚扰我要我改差评，说可以给我补偿15元红包",
    "The seller offered me $15 back if I changed my review to five stars.",
    "If you take down your 1-star review we'll refund your money in full.",
    "Got an insert card offering a free gift for a 5-star review. Gave it 3 stars anyway.",
    "帮忙给个好评呗，给你发个红包",
    "五星好评晒单后联系客服领取京豆200个",
    # spellings that dodge filters (hp: 好评's pinyin initials)
    "好p返现3元",
    "hp返x，加v详聊",
    "好ping截图返3元",
    "hào评fǎn现，联系kf",
    # a third reviewer's blind cases (session 27): food and points, 下次送你个, English wording
    "到店写五星好评，即送招牌甜品一份",
    "签收后给个五星好评，下次送你个小红包",
    "到店消费后写五星好评，赠送饮品一杯，需出示评价页面",
    "Leave a glowing review and get $5 cashback",
    "DM us a screenshot of your 5-star review for a 15% off code.",
]
#: the same words where nothing pays for a review: a buyer's account of a gift, a shop red
#: envelope or a refund, statistics, a bank card's cashback, a review invitation
NOT_CARDS = [
    "五星好评！物流快，还送了赠品",
    "已经给了好评，客服态度很好，还送了小礼物",
    "五星好评，联系客服换了颜色，还送了个小礼物",
    "好评，用了店铺红包很划算",
    "好评，领取了优惠券买的，很划算",
    "给了好评，退款也很快处理了",
    "五星好评，149元买的很值，联系客服很耐心",
    "店铺好评率99.8%，放心购买，下单送运费险",
    "这家店好评都挺真实的，我是用信用卡返现活动买的，划算",
    "亲们的好评是我们最大的动力，下单即送运费险",
    "期待您的五星好评！有问题请联系客服，我们会第一时间处理",
    "Get $10 off for a limited time!",
    "Thanks for your 5-star review! Free returns within 30 days.",
    # a reviewer's held-out cases (session 27): ordinary words, purchases, after-sales, reasons
    "包装精美，好评送人很有面子",
    "五星好评送货速度快",
    "衣服很好看，好评返图一张",
    "5星好评返场！上次卖爆的款今晚8点返场",
    "给好评是因为快递送得快",
    "评价说送的赠品是正品，我收到的也是",
    "买家秀都很好看，下单再送一个发圈",
    "五星好评，赶上了店铺满199返现20的活动，很划算",
    "五星好评，截图为证，比实体店便宜30元",
    "好评，联系客服改了地址，运费10元也退回来了",
    "好评，第二次回购了，联系客服领取了会员优惠券",
    "满意请给五星好评，不满意请联系客服，我们为您退款或换货",
    "五星好评是对我们最大的鼓励！有问题找客服，保证给您满意答复，支持七天无理由退款",
    "Thanks for your purchase. Positive feedback is appreciated; if there's any issue contact us "
    "for a refund.",
    "I left a positive review because the free sample was nice, not because anyone asked.",
    # a bad review beside a refund is no change paid for
    "差评删不掉，退款也不给",
    "给了差评，商家改了发货方式，还退了5元运费",
    "差评后商家主动退款20元",
    "Edit your review anytime. Refunds within 30 days.",
    "Update: the seller sent a replacement for free after my negative review",
    # hp the brand, p图 the photo edit
    "HP打印机返厂维修，五星好评",
    "这张图好p，效果不错",
    # a good review given to the shop (送给 a person, not a gift)
    "五星好评送给用心的商家",
    "好评送给卖家，发货超快",
]


@pytest.mark.parametrize(
    ("innocent", "offer"),
    [("五星好评，下单再送一个发圈", "五星好评晒图，再送一个发圈"),
     ("五星好评，下单立减5元", "好评晒图，下次下单立减5元"),
     ("五星好评，满199返现20", "五星好评，好评满20字返现5元"),
     ("满意请给五星好评，不满意请联系客服，我们为您退款", "满意请给五星好评，联系客服返5元"),
     ("给好评是因为快递送得快", "给好评就送小礼物"),
     ("好评，送的红包很大", "好评，送您一个小红包"),
     ("好评，送朋友很合适", "好评，返红包"),
     ("五星好评，截图为证，比实体店便宜30元", "五星好评截图给客服，返30元"),
     ("收到货给好评，拿了1.5元的红包", "亲，好评后截图找客服，拿1.5元"),
     ("好评送人很有面子", "好评送小礼物"),
     ("五星好评送给用心的商家", "五星好评送给您一个红包"),
     ("99%好评！下单即送价值39元的保温杯", "五星好评晒图，即送价值39元的保温杯"),
     # a draw entered for the review is its price; a draw announced beside thanks is not
     ("感谢大家的好评，抽奖活动今晚开始", "五星好评晒图，就能参与抽奖"),
     ("店铺好评很多，抽奖活动今晚八点开始", "五星好评晒图，参与抽iPhone15"),
     ("好评率高，抽纸很软", "晒图好评抽iPhone"),
     ("Our giveaway is open to everyone. Thanks for all the 5-star reviews",
      "Leave us a 5-star review to be entered into our giveaway"),
     # a change asked of a bad review the sentence before names; a change of something else
     ("差评说尺码偏小，我们已修改尺码表，补偿您5元优惠券",
      "亲，看到您给了中评，影响我们店铺了，能麻烦修改一下吗？给您补偿10元"),
     ("给了差评，客服问能帮忙改一下地址吗，运费10元我出", "给了差评，客服问能帮忙改一下吗，补偿10元"),
     ("麻烦改一下收货时间，谢谢，送您5元券", "这个差评麻烦改一下，谢谢，送您5元券"),
     ("Sorry about your negative review. Please remove it from the box carefully; we will send a "
      "$10 voucher for the trouble.",
      "We saw your 2-star review. If you are willing to remove it, we will refund you $10.")],
)  # fmt: skip
def test_what_keeps_a_reward_from_a_review_leaves_an_offer_of_the_same_shape(innocent, offer):
    """A purchase before the reward (下单再送, 满199返现), an after-sales problem, the review's
    reason, a verb telling how (送的), a reward told as past and an ordinary word (送人) each keep a
    reward from the review word before it; the same sentence offering the reward for the review
    is still found."""
    assert "REVIEW002" not in codes(innocent, kind="review"), innocent
    assert "REVIEW002" in codes(offer, kind="review"), offer


@pytest.mark.parametrize(
    ("innocent", "offer"),
    [# a reviewer's look-alikes of the draws (session 29): tissue drawn from its box, a prize won
     # at a match, trust won, goods sampled, those who entered a draw, reviews read
     ("好评率99%的抽取式面巾纸", "五星好评晒图，抽取10名幸运顾客送免单"),
     ("五星好评！用这个球拍比赛赢500元奖金", "五星好评晒图还可赢取500元"),
     ("好评，钓鱼比赛赢取500元奖金", "好评晒图，赢取500元红包"),
     ("Great twin $40 pack, five star review", "Five star review and get $40 back"),
     ("It helped me win $500 in the local tournament, 5-star review from me",
      "Leave a 5-star review for a chance to win $500"),
     ("好评不断赢取顾客信赖", "五星好评晒图，赢取顾客专属红包"),
     ("好评率高，参与抽样检测全部合格", "五星好评晒图，参与抽iPhone15"),
     ("感谢大家的好评，参与抽奖的宝宝们请查看中奖名单", "五星好评晒图，参与抽奖的机会人人有"),
     ("Read our 5-star reviews and enter our giveaway!", "Leave a 5-star review and enter our giveaway!"),
     ("Over 1,000 five-star reviews. Enter our monthly draw for a chance to win $100.",
      "Leave a five-star review to be entered into our monthly draw for a chance to win $100."),
     ("Please leave us a review if you enjoyed it. Follow our page for a chance to win a free gift!",
      "Please leave us a review and we'll enter you into our draw to win a free gift!"),
     ("全网好评fx系列镜头", "好评f现5元"),
     # a blind set's offers (session 29) beside look-alikes of their words
     ("一家人吃霸王餐，好评", "好评抽霸王餐：每天从五星带图评价中抽一位，下单免费。"),
     ("好评如潮，下单即有机会获得限量赠品", "写下您的好评，即有机会抽中价值299元的礼盒"),
     ("Read our Google reviews and get 10% off your first order",
      "Leave us a 5-star Google review and show it to your server to get a free dessert tonight!"),
     ("Our video reviews show how to install it. Free shipping on all orders",
      "Leave a video review and get your money back: full refund once your review goes live."),
     ("Please share your feedback so we can improve. Free returns within 30 days.",
      "Share your honest feedback with a photo and we'll send you a free thank-you gift!"),
     ("Drop a line if the size is wrong and we'll mail you a free exchange label.",
      "Drop a review with at least 20 words and a photo, and we'll mail you a free replacement "
      "filter."),
     ("Every order with a photo = 1 entry into our summer giveaway.",
      "Every 5-star review with a photo = 1 entry into our summer giveaway."),
     ("评分系统升级，改成5分制，好评送达更快", "亲，麻烦把评分改成5分吧，改好后我们再多送您一个替换刷头"),
     ("亲，收到后给个评价，截图找客服查物流哦", "亲，收到后给个h评，截图找客服领f现哦")],
)  # fmt: skip
def test_draws_and_dodged_words_leave_their_look_alikes_clear(innocent, offer):
    """Each reward or review word added for a draw, a filter dodge or a blind set's offer finds
    its offer and leaves a look-alike that shares its words clear."""
    assert "REVIEW002" not in codes(innocent, kind="review"), innocent
    assert "REVIEW002" in codes(offer, kind="review"), offer


@pytest.mark.parametrize(
    ("innocent", "offer"),
    [# a second reviewer's look-alikes of the words above (session 29): durations and rating
     # scales, warranties in a title, a video or Google review read, shop-wide free delivery, a
     # ticket's entry, an award, an after-sales reply
     ("默认定时30分钟，可以改成5分钟，下单送量杯", "亲，麻烦把评分改成5分吧，改好后我们再多送您一个替换刷头"),
     ("大众点评评分改为5分制后本店仍是4.8分，到店消费送饮料一杯", "亲，差评改为5分后，联系客服送饮料一杯"),
     ("酒店大堂改成五星标准装修，入住送双早", "亲，麻烦把评价改成五星，入住送双早"),
     ("海尔冰箱 五星服务 送货入户 延保3年", "五星好评晒图 送三年延保"),
     ("Bluetooth Speaker – see video review – free shipping",
      "Bluetooth Speaker – leave a video review – free gift"),
     ("Rated 4.8 on Google Reviews | Free delivery and a free gift with every order",
      "Leave us a Google review | a free gift with every review"),
     ("Post your review – free returns within 30 days", "Post your review – free gift within 30 days"),
     ("Drop a review below 👇 Free shipping on orders over $35",
      "Drop a review below and get free shipping on your next order"),
     ("Share your feedback with our support team and we'll send you a replacement or a refund.",
      "Share your honest feedback and we'll send you a free thank-you gift."),
     ("Please leave a review if you enjoyed the show! Your ticket includes entry into the "
      "after-party and a free drink.",
      "Please leave a review if you enjoyed the show! Show it to the bar staff for a free drink."),
     ("Please leave a Google review — we're in the running for Best Local Restaurant 2024!",
      "Please leave a Google review — reviewers are in the draw for a $50 voucher!"),
     # offers the first fixes had lost, beside the look-alikes those fixes were for: a prize won
     # for the review is money, a chance after the review's own sentence, plural requests
     ("好评，钓鱼比赛赢取500元奖金", "给五星好评的宝宝，每人都能赢取20元"),
     ("It helped me win $500 in the local tournament, 5-star review from me",
      "Leave a 5-star review on Amazon, email us the link, and you can win $20."),
     ("Please leave us a review if you enjoyed it. Follow our page for a chance to win a free gift!",
      "Leave us a 5-star review. Every review this month goes into the hat for a chance to win a "
      "free dinner."),
     ("Please leave us a review if you enjoyed it. Like our page for a chance to win a free gift!",
      "Leave us a review and tag a friend for a chance to win a free hamper!"),
     ("Read our 5-star reviews and enter our giveaway!", "All 5-star reviews receive a $10 PayPal refund."),
     ("Over 1,000 five-star reviews. Free shipping and a free gift today.",
      "The first 50 five-star reviews get a free gift!"),
     ("Thanks for all the 5-star reviews! Order today and get $20 back.",
      "Send us screenshots of 5-star reviews to get $5 back per review."),
     ("全网好评fx系列镜头", "好评fx 3元，带图5元"),
     ("感谢大家的好评，参与抽奖的宝宝们请查看中奖名单", "好评晒图，参与抽奖的宝宝人人有礼")],
)  # fmt: skip
def test_a_second_reviewers_look_alikes_stay_clear_and_lost_offers_are_found(innocent, offer):
    assert "REVIEW002" not in codes(innocent, kind="review"), innocent
    assert "REVIEW002" in codes(offer, kind="review"), offer


@pytest.mark.parametrize("text", CARDS)
def test_a_reward_clauses_after_the_review_word_is_found(text):
    rules = ContentRules(load_terms())
    (prep,) = rules.prepare_many([text])  # the first pass selects it too
    assert prep is not None and "REVIEW002" in decide_all(prep, kind="review"), text
    assert "REVIEW002" in codes(text, kind="listing_description")


@pytest.mark.parametrize("text", NOT_CARDS)
def test_a_review_word_beside_an_unrelated_reward_is_not_found(text):
    assert "REVIEW002" not in codes(text, kind="review")
    assert "REVIEW002" not in codes(text, kind="listing_description")


def test_a_gift_told_as_past_is_not_a_price_but_the_same_gift_offered_is():
    assert "REVIEW002" not in codes("五星好评，联系客服换了颜色，还送了个小礼物")
    assert "REVIEW002" in codes("五星好评，联系客服，送个小礼物")
    assert "REVIEW002" not in codes("好评，领取了优惠券买的")
    assert "REVIEW002" in codes("好评后领取优惠券一张")


def test_the_card_window_bounds_how_far_the_reward_may_sit():
    from promoguard.rules.content._shared import content_rules

    ((rule, params),) = content_rules(("REVIEW002",), None)
    rules = ContentRules(load_terms())
    far = "五星好评+晒图，截图发客服" + "，" + "快递很快质量很好" * 5 + "，返5元红包"
    assert rule.decide(rules.prepare(far), None, None, params) == []
    assert rule.decide(rules.prepare(far), None, None, {**params, "card_window": 80})


def _review002(text: str):
    return decided("REVIEW002", text, "listing_description")


@pytest.mark.parametrize(
    "text",
    ["好评返现属于违规行为，本店不参与", "温馨提示：好评返现违法，本店拒绝一切刷单及好评返现行为",
     "本店承诺：评价不返现、不送礼，所有评价均为买家真实反馈", "给五星是因为真的好用，不是因为什么返现",
     "评价送淘金币：每条有效评价可获10金币，好评差评都算",
     "郑重声明：本店从未做过好评返现，请勿相信冒充客服的信息",
     "We never ask for 5-star reviews in exchange for gifts or refunds.",
     "市场监管总局通报：某网店以好评返现诱导消费者评价，被罚款2万元",
     "Per Amazon policy we can't offer gifts or refunds for a positive review, but we'd love "
     "your honest feedback.",
     "本店无任何好评返现活动，如有人以本店名义联系您请勿相信",
     "物流很快，好评，返现活动是平台的，跟评价无关",
     "防骗提醒：近期有人冒充客服，称“好评返现需先付保证金”，请勿上当",
     "本店不做好评送菜，请大家真实评价，不要为了送东西给好评",
     "我们家不搞五星好评返现那一套，家人们用得好自然会回来。",
     # a reward said not to be given is none (a third reviewer's case)
     "本店不做好评返现，五星好评也不会送任何东西，请按真实感受评价"],
)  # fmt: skip
def test_a_disclaimer_lowers_the_finding_and_says_why(text):
    hits, (severity, reason) = _review002(text)
    assert hits, text  # reported, not dropped
    assert severity == "low" and "disclaims" in reason


@pytest.mark.parametrize(
    "text",
    ["本店不做好评返现，但五星好评晒图可联系客服领取小礼品",  # the offer turns against it
     "好评返现，拒绝差评",  # 拒绝 alone disclaims nothing
     "五星好评返5元。本店不参与任何刷单",  # another sentence
     # a sum offered in its own clause: the clause before does not disclaim it
     "亲，不要求您写好评，给个五星就返10元",
     "好评返现是违规的，所以我们私下操作：五星好评截图加微信返5元",
     # a disclaimer of one thing reaches only its clause: the next one offers something else
     "我们不搞返现，五星好评晒图送运费险一份",
     "咱家不搞五星那一套，带图追评截图发客服，送您一包湿巾",
     "我们不搞返现，好评截图发客服，抽一台iPhone",
     "亲，我们不搞好评返现哈，您收到后给个带图好评，截图发我，送您一个手机支架"],
)  # fmt: skip
def test_an_offer_beside_a_disclaimer_of_something_else_stays_high(text):
    hits, (severity, _reason) = _review002(text)
    assert hits and severity is None, text


# -- lexicons and matcher ----------------------------------------------------------------------


def test_one_automaton_reports_every_lexicons_hits_with_original_offsets():
    m = Matcher([Term("最好", "TEXT001", "superlative"), Term("微信", "TEXT004", "contact_cue")])
    nt, hits = m.scan("我们 最 * 好，加微 信")
    assert [(h.code, nt.original[h.ostart : h.oend]) for h in hits] == [
        ("TEXT001", "最 * 好"),
        ("TEXT004", "微 信"),
    ]


def test_an_allow_row_overrides_a_term_of_the_same_spelling():
    terms = [*load_terms(), Term("顶级", "ALLOW", "ordinary_word")]
    assert "TEXT001" in analyse_text("顶级面料")
    assert "TEXT001" not in analyse_text("顶级面料", terms=terms)


def test_every_builtin_term_has_a_code_a_source_and_a_basis():
    terms = load_terms()
    assert len(terms) > 250
    for t in terms:
        assert t.code in {
            "ALLOW",
            "TEXT001",
            "TEXT002",
            "TEXT003",
            "TEXT004",
            "TEXT006",
            "REVIEW002",
            "TRIGGER",  # pattern gates: pick texts for the phrase patterns, never a finding
        }
        assert t.source, t
        assert t.code == "ALLOW" or t.legal_basis, t
    derived = [t for t in terms if "fwwdn" in t.source]
    assert derived and all(t.code == "TEXT003" for t in derived)


def test_a_malformed_lexicon_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("word,kind\nx,y\n", encoding="utf-8")
    with pytest.raises(CheckError, match="missing column"):
        read_lexicon(bad)
    with pytest.raises(CheckError, match="not found"):
        read_lexicon(tmp_path / "none.csv")
    # a source with an unquoted comma lost its tail in silence; now it is named
    loose = tmp_path / "loose.csv"
    loose.write_text(
        "term,code,category,lang,severity,allowed_categories,legal_basis,source\n"
        "x,TEXT001,superlative,*,high,,Art. 9,a source (one, two)\n",
        encoding="utf-8",
    )
    with pytest.raises(CheckError, match=r"loose.csv row 2 \(x\): more values than columns"):
        read_lexicon(loose)
    # a comment line starts with "# " (or is a lone "#"); a term may itself start with "#" (#1)
    commented = tmp_path / "commented.csv"
    commented.write_text(
        "# TEXT001, a comment\nterm,code,category\n#\n#1,TEXT001,superlative\n", encoding="utf-8"
    )
    assert [t.term for t in read_lexicon(commented)] == ["#1"]


# -- the batched first pass never loses a finding ------------------------------------------------

FRAGMENTS = [
    "最好", "最 好", "最近", "第一次", "唯品会", "治愈系", "降血压", "仿真枪", "水枪玩具", "加微信 abc123",
    "V信：", "shop_8848", "私下转账", "t.cn/AbC", "13812345678", "138 1234 5678", "li@example.com",
    "好评", "返现", "送", "review", "free gift", "直降500", "原价299元", "最后三单", "only 2 left",
    "𝐁𝐄𝐒𝐓 ever", "❤信 kk5678", "ＮＯ．１", "……", "\u200b", "，", "。", " ", "*", "abc", "2026111198765432",
    "100%", "安全", "百分百", "服用", "7天", "生效", "见效",
    "截图", "联系客服", "5元", "$10", "条件", "改成好评", "不参与", "才送", "还送了", "for a", "proof",
    # numbers read out loosely (TEXT005): Chinese numerals, dots, symbols, letters, segments
    "一三八", "零零一三", "八零零零", "壹叁捌", "幺", "138", "0013", "8000", ".", "⭐", "🌟", "a",
    "手机", "前三位", "中间", "后四位", "邮箱", "wang#qq.com", "艾特", "163点com", "护照号 E12345678",
    "HKID A123456(3)", "passport",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join), max_size=12))
def test_prepare_many_finds_what_preparing_each_text_finds(texts):
    rules = ContentRules(load_terms())
    many = rules.prepare_many(texts, batch=5)
    for text, prep in zip(texts, many, strict=True):
        for kind in ("livestream", "chat"):
            alone = decide_all(rules.prepare(text), kind=kind, category="food")
            batched = decide_all(prep, kind=kind, category="food") if prep else {}
            assert batched == alone, text


def test_every_word_a_phrase_pattern_needs_holds_a_gate_of_the_first_pass():
    """The phrase patterns (patterns.py) run only on texts the first pass selects, and it selects
    them by the gates of pattern_gates.csv: each word one of which every efficacy match holds
    (``_EFFICACY_NEEDS``), and the 最 every superlative starts with, must hold a gate."""
    from promoguard.text import patterns
    from promoguard.text.rules import TRIGGERS

    gates = {normalise(t.term).text.strip() for t in load_terms() if t.code == "TRIGGER"}
    gates |= set(TRIGGERS)
    assert patterns.SUPERLATIVE.pattern.startswith("最")
    for word in [*patterns._EFFICACY_NEEDS, "最"]:
        assert any(g in normalise(word).text for g in gates), word


@pytest.mark.parametrize("text", ["纯天然野生蜂蜜，100%安全", "百分之百安全 放心吃", "服用7天生效"])
def test_the_first_pass_selects_what_the_patterns_flag(text):
    import pyarrow as pa

    rules = ContentRules(load_terms())
    assert "TEXT002" in decide_all(rules.prepare(text), category="food")
    column = pa.array(["物流很快", text], pa.string())
    maybe = rules.maybe(column)
    assert maybe is None or list(maybe) == [False, True]
    (prep,) = rules.prepare_many([text])
    assert prep is not None and "TEXT002" in decide_all(prep, category="food")


def test_real_hotel_reviews_offer_no_rewards():
    """1,600 real reviews (Ott et al.'s opinion-spam corpus): none offers a reward for a review,
    though many mention reviews and free things ("I already wrote a review about all the free
    stuff")."""
    folder = Path(__file__).resolve().parents[3] / "shared" / "data" / "opspam" / "op_spam_v1.4"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared data sets sit beside the project)")
    texts = [f.read_text(errors="replace") for f in sorted(folder.rglob("*.txt"))]
    assert len(texts) == 1600
    rules = ContentRules(load_terms())
    flagged = [
        t[:80]
        for t, prep in zip(texts, rules.prepare_many(texts), strict=True)
        if prep is not None and decide_all(prep, kind="review", codes=("REVIEW002",))
    ]
    assert flagged == []


def test_the_first_pass_lookup_table_marks_what_special_finds():
    """The numpy table the first pass looks special characters up in agrees with ``special``'s
    pattern on every code point but the surrogates (never in a decoded text)."""
    from promoguard.text.normalise import special, special_table

    table = special_table()
    chars = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    found = np.zeros(0x110000, dtype=bool)
    codes = np.array([ord(c) for c in chars], dtype=np.int64)
    found[codes[list(special(chars))]] = True
    assert np.array_equal(found[codes], table[codes])
    assert table[ord("Ａ")] and table[0x1F600] and not table[ord("好")] and not table[ord("a")]


def test_texts_with_special_characters_are_candidates_wherever_they_sit_in_a_batch():
    rules = ContentRules(load_terms())
    plain = ["物流很快"] * 7
    for at in range(7):
        texts = list(plain)
        texts[at] = "ＮＯ．１好货"  # full width: read closely, and a finding (TEXT001)
        many = rules.prepare_many(texts, batch=3)
        assert [p is not None for p in many] == [i == at for i in range(7)]
        assert decide_all(many[at], kind="chat") == decide_all(
            rules.prepare(texts[at]), kind="chat"
        )


# -- the compiled first pass marks the texts pyahocorasick finds -------------------------------

KEY_ALPHABET = ["a", "b", "ab", "好", "好评", "评", "返", "é", "\x1f"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(KEY_ALPHABET), min_size=1, max_size=4).map("".join),
        min_size=1,
        max_size=8,
    ),
    st.lists(
        st.lists(st.sampled_from(KEY_ALPHABET), max_size=8).map("".join), min_size=1, max_size=10
    ),
)
def test_the_compiled_first_pass_marks_the_texts_the_automaton_finds(keys, texts):
    """Overlapping keys, keys inside keys, multi-byte characters that share lead bytes, texts
    where a key ends right at a record mark: the byte DFA marks the same texts."""
    from promoguard.text import rules as text_rules

    first = text_rules._FirstPass(keys)
    assert first._dfa is not None
    joined = text_rules.RECORD.join(texts)
    compiled = sorted(set(first.owners(joined)))
    first._dfa = None  # pyahocorasick over the bytes as Latin-1
    assert compiled == sorted(set(first.owners(joined)))
    assert compiled == [i for i, t in enumerate(texts) if any(k in t for k in keys)]


MAYBE_FRAGMENTS = [
    *FRAGMENTS, "#1", "# 1", "#*1", "第一", "第 一", "NO.1", "No. 1", "最*好", "汉", "a", "1", "x",
    "-", " ", "、", "…", "ＡＢＣ", "İ", "Ж", "\x1e", "\x00", "@", "12345 67890", "1x2x3x4x5x",
    "一三八零", "零一三八", "壹", "X", "⭐", ".", "#", "138", "0013", "前3位", "前 三 位", "EMAIL",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(MAYBE_FRAGMENTS), max_size=8).map("".join), max_size=20))
def test_the_compiled_prefilter_keeps_every_text_the_first_pass_selects(texts):
    """``maybe`` over the Arrow column never drops a text ``_candidates`` selects (keys written
    with separators, separators slipped into keys, upper case, digit runs, odd characters)."""
    import pyarrow as pa

    rules = ContentRules(load_terms())
    column = pa.array([t if i % 7 else None for i, t in enumerate(texts)], pa.string())
    maybe = rules.maybe(column.slice(0)) if len(texts) else rules.maybe(column)
    assert maybe is not None and len(maybe) == len(texts)
    plain = [t if i % 7 else "" for i, t in enumerate(texts)]
    for i, text in enumerate(plain):
        if rules._candidates([text]):  # the text alone (a batch holding a record mark: all)
            assert maybe[i], text
    if plain and not any("\x1e" in t for t in plain):
        for k in rules._candidates(plain):
            assert maybe[k], plain[k]
    # the same through a sliced, large_string column
    if len(texts) > 2:
        sliced = rules.maybe(column.cast(pa.large_string()).slice(1))
        assert list(sliced) == list(maybe[1:])


def test_every_urgency_or_comparison_match_holds_a_trigger_word():
    """``unbased_claims`` runs URGENCY and COMPARISON only on texts holding a TRIGGERS word: on
    random texts made of the patterns' own pieces, whatever either matches holds one."""
    import random

    from promoguard.text import rules as text_rules

    rng = random.Random(11)
    pieces = ["最后", "剩", "仅", "只", "only ", "a few", " left", "last ", " units", " items"]
    pieces += [" in stock", "直降", "立减", "降价", "省", "便宜", " off", "off", "yuan", "元"]
    pieces += ["块", "rmb", "%", "折", "一", "八", "两", "几", "8", "3", ".5", "save ", "原价"]
    pieces += ["399", "，", " ", "单", "件", "份", "pairs", "sets", "a", "最", "后"]
    # session 32's pieces: deadlines, amounts said aloud, English savings, slang
    pieces += [
        "分钟",
        "后",
        "之后",
        "涨价",
        "恢复",
        "下架",
        "价格就没",
        "错过",
        "再等",
        "还",
        "秒",
        "了",
    ]
    pieces += ["deal ", "ends in ", "end in ", "ten", " minutes", " only", "the next ", "for "]
    pieces += ["price goes back up", "price goes up after", "this price ", "disappears", "expires"]
    pieces += [
        "down ",
        "slashed by ",
        "$",
        "20",
        " percent",
        " bucks",
        "saving ",
        "0ff",
        " zhe",
        "zhe",
    ]
    pieces += [
        "原价好几百",
        "几",
        "百",
        "千",
        "万",
        "1k",
        "了",
        "整整",
        "价的一半",
        "比这",
        "比我们",
        "贵",
        "好多",
    ]
    pieces += ["like ", "the "]
    matched = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        norm = normalise(text).text
        if text_rules.URGENCY.search(norm) or text_rules.COMPARISON.search(norm):
            matched += 1
            assert any(t in norm for t in text_rules.TRIGGERS), norm
    assert matched > 500


UNIT_FRAGMENTS = [
    "好评",
    "返",
    "5元",
    "$10",
    " ",
    "，",
    "。",
    "review",
    "five star",
    "🎁",
    "了",
    "12",
    "-",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(UNIT_FRAGMENTS), max_size=12).map("".join),
    st.integers(0, 40),
    st.integers(0, 40),
)
def test_the_card_window_counts_units_as_the_pattern_does(text, a, b):
    """REVIEW002's card counts units by bisection over one pass (so a long text stays linear):
    between any two offsets the same count as ``_UNIT.findall`` over the slice, a Latin word cut
    by either end counted once."""
    from promoguard.text import rules as text_rules

    units = text_rules._Units(text)
    start, end = min(a, len(text)), min(b, len(text))
    assert units.between(start, end) == len(text_rules._UNIT.findall(text, start, end))


PAST_FRAGMENTS = [
    "还送了",
    "送了",
    "也给",
    "将收到",
    "收到",
    "红包",
    "返",
    "，",
    "5元",
    "好评",
    "了",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PAST_FRAGMENTS), min_size=1, max_size=10).map("".join))
def test_a_reward_told_as_past_is_read_from_one_pass_as_a_search_would(text):
    """Whether a reward's clause tells it as past is looked up in the places found once (overlapping
    ones too: 还送了); for every reward-sized span it agrees with searching the clause up to just
    after the reward."""
    from promoguard.text import rules as text_rules
    from promoguard.text.matcher import Hit

    card = text_rules._Card.of(text, text_rules._clauses(text), [], {}, "REVIEW002", 40)
    for start in range(len(text)):
        for end in range(start + 1, min(len(text), start + 3) + 1):
            clause = card.starts[text_rules._clause_of(card.starts, start)]
            expected = text_rules._PAST.search(text, clause, min(len(text), end + 1))
            hit = Hit("REVIEW002", "reward_cue", text[start:end], start, end, start, end)
            assert card.past(hit) == bool(expected), (text, start, end)


@pytest.mark.parametrize(
    ("clear_or_low", "offer"),
    [
        # a disclaimer of one thing reaches only its own phrase: a space the writer left between
        # two phrases of a title ends it (a third reviewer's case, session 30)
        ("不搞好评返现", "不搞好评返现 五星好评晒图送运费险"),
        # a link opening a sentence with another action asked after it is that action's
        (
            "Leave a review! For a chance to win a $50 gift card, sign up for our newsletter",
            "Please leave a review. For a chance to win a $50 gift card, leave a review with a photo",
        ),
        # reviews others wrote, counted, are a boast; reviews asked for with a gift are an offer
        (
            "Hundreds of 5-star reviews and a free gift with every order",
            "Leave 5-star reviews and get a free gift",
        ),
        # feedback asked for, a discount on the next visit, a free extended warranty
        ("Share your feedback with us so we can improve", "Share your feedback with us to get a $10 gift card"),
        ("10% off your next visit for members", "Leave us a review and get 10% off your next visit"),
        ("五星服务 延保3年", "五星好评 免费延保一年"),
    ],
)  # fmt: skip
def test_a_third_reviewers_review002_cases(clear_or_low, offer):
    hits, (severity, _) = _review002(clear_or_low)
    assert not hits or severity == "low", clear_or_low
    hits, (severity, _) = _review002(offer)
    assert hits and severity is None, offer  # the pack's severity


# -- blind sets written without the code (session 30), each claim beside look-alikes ----------


@pytest.mark.parametrize(
    ("category", "text"),
    [("apparel", "艾草发热护膝 驱寒治风湿 关节炎克星 老寒腿"),
     ("health_food", "Apricot kernel B17 capsules kill cancer cells naturally"),
     ("food", "降 压 茶 纯天然 中老年 血 压 稳 稳 的"),
     ("drug", "Hemorrhoid cream – 100% cure guaranteed, never comes back"),
     ("home", "通鼻贴 过min性鼻yan克星 一贴通气"),
     ("cosmetics", "私处洗液 妇*科炎症 一洗就好 告别异味"),
     ("health_food", "Ashwagandha gummies – treats anxiety and depression without drugs"),
     ("home", "Anti-radiation EMF blanket protects your baby from cancer during pregnancy"),
     ("health_food", "Colloidal silver 500ppm – kills viruses and treats infections naturally"),
     ("food", "Organic hibiscus tea – naturally lowers high blood pressure, 20 tea bags"),
     ("food", "牛蒡茶 三高人群福音 血管清道夫 中老年"),
     ("baby", "儿童益生菌 预防手足口病 增强抵抗力"),
     ("baby", "Baltic amber teething necklace – relieves teething pain and reduces fever"),
     ("health_food", "葡萄籽胶囊 预防乳腺增生 调理内分泌"),
     ("cosmetics", "Castor oil hair serum reverses alopecia – guaranteed regrowth"),
     ("home", "Himalayan salt lamp purifies air and relieves asthma and allergies"),
     ("home", "Detox foot pads draw out toxins, treat diabetes and high blood pressure"),
     ("home", "预防近视 护眼台灯 国AA级")],
)  # fmt: skip
def test_a_blind_sets_claims_are_found(category, text):
    hits, (severity, _) = _text002(text, category)
    assert hits and severity is None, text  # the pack's severity (high)


@pytest.mark.parametrize(
    ("category", "text"),
    [("pet", "Low Purine Dog Treats Gout Friendly for Dalmatians"),
     ("home", "Disinfectant kills 99.9% of viruses and bacteria"),
     ("home", "Thermal cover protects your plants from cold and frost"),
     ("home", "社区治理 手册 政治经济学"),
     ("apparel", "Heated gloves for people with arthritis, touchscreen compatible"),
     ("home", "Spring fever sale: 20% off all garden tools"),
     ("home", "The best gift for a mom fighting cancer: a cozy blanket"),
     ("apparel", "近视眼镜 镜框 男女款"),
     ("home", "多菌灵杀菌剂 防治月季黑斑病白粉病 园艺用"),
     ("drug", "苯磺酸氨氯地平片 用于高血压 凭处方购买"),
     ("medical_device", "Blood pressure monitor, upper arm, clinically validated")],
)  # fmt: skip
def test_a_blind_sets_look_alikes_are_clear(category, text):
    assert _text002(text, category)[0] == [], text


@pytest.mark.parametrize(
    ("category", "text"),
    [("food", "云南普洱熟茶 本品为普通食品 不具有降血压降血脂功效"),  # both claims of the list
     ("pet", "猫咪营养膏 非兽药 不能治疗疾病 猫咪生病请及时就医"),
     ("food", "Keto snack bars, low carb – not intended to treat diabetes or any medical condition")],
)  # fmt: skip
def test_a_blind_sets_denials_are_low(category, text):
    hits, (severity, reason) = _text002(text, category)
    assert hits and severity == "low" and reason, text


@pytest.mark.parametrize(
    "text",
    ["好评截图发我，就能参加我们店的幸运大转盘，100%中奖哦",
     "亲，haoping fanxian 2元，截图发我就行",
     "晒单五星，加客服领取hb～",
     "给个⭐⭐⭐⭐⭐，我这边给您发个小红包哈",
     "Hi! If you could leave us a 5-star review, we'd be happy to send you a free gift. "
     "Just reply with the screenshot.",
     "Inside the box was a card promising a free product if I left a five-star review.",
     "VIP Gift: Leave a 5★ review → email screenshot → get a free phone case!",
     "If you leave a 5 star review I'll send you a coupon code for 30% off your next purchase :)",
     "Like it? Rate 5 stars with photo, DM us the screenshot, and get $3 back!",
     "Review giveaway: every customer who posts a 5-star photo review is entered to win an iPad.",
     "Leave us 5 ⭐ and get $$ back 💸 DM the pic"],
)  # fmt: skip
def test_a_blind_sets_review_offers_are_found(text):
    hits, (severity, _) = _review002(text)
    assert hits and severity is None, text


@pytest.mark.parametrize(
    "text",
    ["五星好评，我们发货很快",
     "HP打印机 hp返厂维修 原装墨盒",
     "HP打印机 返现50元 官方旗舰",
     "Read our 5 ★ reviews. Use coupon code WELCOME10 for 10% off",
     "Leave a review! Use coupon code SAVE10 on your next order",
     "If you leave the lid open, the battery drains. Rate 5 stars if you like it",
     "Please leave a review. If there's any problem, I'll send you a replacement",
     "好评如潮 幸运大转盘活动进行中"],
)  # fmt: skip
def test_a_blind_sets_review_look_alikes_are_clear(text):
    assert _review002(text)[0] == [], text


def test_a_buyer_saying_the_shop_ran_no_cashback_is_low():
    hits, (severity, _) = _review002("这家店没有搞好评返现的卡片，东西本身就好，真心推荐。")
    assert hits and severity == "low"


def test_every_disease_gate_is_a_pattern_gate_and_gates_decide_as_the_search_would():
    from promoguard.rules.content.text002_medical_claims_for_non_medical_goods import (
        DISEASE_GATES,
        DISEASE_PHRASE,
        _disease_phrases,
    )

    gates = {normalise(t.term).text.strip() for t in load_terms() if t.code == "TRIGGER"}
    assert {normalise(g).text.strip() for g in DISEASE_GATES} <= gates
    rules = ContentRules(load_terms())
    texts = [
        "艾草发热护膝 驱寒治风湿 关节炎克星",
        "Ashwagandha gummies – treats anxiety and depression",
        "Anti-radiation blanket protects your baby from cancer",
        "儿童益生菌 预防手足口病",
        "物流很快 质量不错",
    ]
    for text in texts:
        prep = rules.prepare(text)
        for m in DISEASE_PHRASE.finditer(prep.nt.text):
            assert any(normalise(g).text.strip() in m.group() for g in DISEASE_GATES), m.group()
        assert _disease_phrases(prep.nt, prep.gates) == _disease_phrases(prep.nt, None), text


# -- a reviewer's cases against the blind sets' first cut (session 30) -------------------------


def _review002_kind(text: str, kind: str):
    return decided("REVIEW002", text, kind)


@pytest.mark.parametrize(
    ("category", "text"),
    [('software', 'Norton 360 antivirus protects your PC from malware infections and ransomware'),
     ('garden', 'Copper fungicide prevents fungal infections on tomatoes and roses'),
     ('home', 'Disinfectant spray kills cold and flu viruses on hard surfaces'),
     ('toys', '1000-piece jigsaw puzzle – beat cabin fever this winter!'),
     ('apparel', 'I Beat Cancer survivor T-shirt, 100% cotton'),
     ('home', 'Pink ribbon mug – every purchase helps fight breast cancer: $5 donated to breast cancer research'),
     ('automotive', 'Level 2 portable EV charger – eliminates range anxiety on road trips'),
     ('health_food', 'Do not use if you are taking medication to lower blood pressure.'),
     ('electronics', 'Wide-range cuff reduces blood pressure reading errors caused by a loose fit'),
     ('health_food', 'Oat beta-glucan reduces the blood sugar rise after meals when eaten with a meal.'),
     ('food', 'Sugar-free chocolate treats safe for diabetes diets'),
     ('cosmetics', 'Oil-control primer reduces shine on acne-prone skin'),
     ('home', "Relieves cancer patients' hair loss anxiety: soft cotton chemo caps"),
     ('toys', '儿童医生玩具套装，过家家给娃娃治感冒'),
     ('sports', '泳镜可配近视度数，告别近视看不清的烦恼'),
     ('home', '发货通知：本仓库远离中风险地区，正常发货')],
)  # fmt: skip
def test_a_reviewers_text002_look_alikes_are_clear(category, text):
    assert _text002(text, category)[0] == [], text


@pytest.mark.parametrize(("category", "text"), [('books', '《告别失眠》认知行为疗法自助手册 平装')])  # fmt: skip
def test_a_claim_in_the_title_of_a_book_sold_is_low(category, text):
    hits, (severity, _) = _text002(text, category)
    assert hits and severity == "low", text


@pytest.mark.parametrize(
    ("category", "text"),
    [('health_food', '本品不能根治，缓解鼻炎效果非常明显'),
     ('health_food', '本品不能代替药物治疗，专治风湿骨痛'),
     ('health_food', 'It does not cure, relieves asthma symptoms fast'),
     ('food', '告别三高，血管年轻10岁'),
     ('food', '预防心脑血管疾病'),
     ('food', '治好多年的风湿痛'),
     ('health_food', "Reduces the risk of Alzheimer's and dementia"),
     ('health_food', 'Combats diabetes and high blood sugar')],
)  # fmt: skip
def test_a_reviewers_text002_claims_are_found(category, text):
    hits, (severity, _) = _text002(text, category)
    assert hits and severity is None, text


@pytest.mark.parametrize(
    ("kind", "text"),
    [('listing_title', '【惠普官方】购HP返500元京东E卡 HP战66笔记本'),
     ('listing_title', '买HP有礼 惠普暗影精灵9 游戏本'),
     ('review', '五星！HP送的鼠标也很好用，打印速度快'),
     ('listing_title', '★★★★★送礼佳品★★★★★ 新疆和田大枣 礼盒装'),
     ('listing_description', 'Luxury 5★ resort – free breakfast included'),
     ('listing_title', '★★★★★幸运大转盘抽奖道具 年会活动'),
     ('listing_description', '★★★★★ Bestseller ★★★★★ Buy 2 get 1 free'),
     ('listing_description', '⭐⭐⭐⭐⭐ Save $$ back-to-school deal on backpacks'),
     ('listing_description', 'Star sticker pack: ⭐⭐⭐⭐⭐ reward chart stickers for kids, free shipping'),
     ('review', '⭐⭐⭐⭐⭐ Got it as a gift for my wife'),
     ('review', '⭐⭐⭐⭐⭐ 赠品也很好'),
     ('review', '★★★★★ Used coupon code SAVE10, arrived fast'),
     ('review', '好评，我送礼品给客户的，包装很大气'),
     ('chat', '谢谢好评，我们送小礼品是一直都有的，每单都有')],
)  # fmt: skip
def test_a_reviewers_review002_look_alikes_are_clear(kind, text):
    assert _review002_kind(text, kind)[0] == [], text


@pytest.mark.parametrize(
    ("kind", "text"),
    [('listing_description', 'Rate five stars and receive a free gift'),
     ('chat', '亲给个五星好评哦，我们会送您一份小礼品'),
     ('chat', '亲给个五星好评哦，客服这边给您发个小红包'),
     ('chat', 'Leave us a 5-star review and we can send you a free gift.'),
     ('chat', 'A free bottle for you when you leave a 5 star review!'),
     ('chat', '好评晒图参与幸运转盘，100%中奖')],
)  # fmt: skip
def test_a_reviewers_review002_offers_are_found(kind, text):
    hits, (severity, _) = _review002_kind(text, kind)
    assert hits and severity is None, text


# -- a final reviewer's cases against the session's code (session 30) --------------------------


def _grade(code: str, text: str, category, kind: str):
    from promoguard.rules.content._shared import content_rules

    ((rule, params),) = content_rules((code,), None)
    hits = rule.decide(_shared_rules().prepare(text), kind, category, params)
    return hits, rule.grade(hits)


@pytest.mark.parametrize(
    ("code", "category", "kind", "text"),
    [('TEXT001', 'home', 'listing_title', '限时秒杀 市面价299元 活动价仅需99元 手慢无'),
     ('TEXT001', 'electronics', 'listing_title', '联想小新Pad Pro ZUI 优化 护眼屏 学习平板'),
     ('TEXT001', 'electronics', 'listing_description', 'Up to 30% faster than any previous generation, with all-day battery life'),
     ('TEXT001', 'electronics', 'listing_description', 'The lightest ThinkPad we have ever built, at just 980 g'),
     ('TEXT001', 'books', 'listing_title', 'The Greatest Show on Earth: The Evidence for Evolution by Richard Dawkins, Paperback'),
     ('TEXT001', 'beauty', 'listing_description', 'Dead Sea Salt, harvested from the lowest point on Earth, rich in minerals'),
     ('TEXT001', 'food', 'listing_description', '100% Arabica beans from Brazil, the largest coffee producer in the world'),
     ('TEXT001', 'sports', 'listing_description', 'Soccer is the most popular sport in the world - this size 5 match ball is FIFA Basic certified'),
     ('TEXT001', 'books', 'listing_title', "Why We Sleep by Matthew Walker, one of the world's leading sleep scientists (Paperback)"),
     ('TEXT001', 'food', 'listing_title', '低度果酒 微醺不醉 好喝不上头 女生甜酒'),
     ('TEXT001', 'food', 'listing_title', '米酒 甜而不醉 好喝 320ml'),
     ('TEXT001', 'beauty', 'listing_description', '比其他色号更显白 这支比其他色号更好用'),
     ('TEXT001', 'home', 'chat', '亲 这个链接比其他链接都便宜哦 同一款的'),
     ('TEXT001', 'electronics', 'listing_title', '电烤箱 家用 最高 温度 230℃ 40L'),
     ('TEXT002', 'food', 'listing_description', 'Three grams of soluble fiber daily from whole grain oat foods, in a diet low in saturated fat and cholesterol, may reduce the risk of heart disease.'),
     ('TEXT002', 'home', 'listing_description', 'Paint Conditioner - reduces brush strokes and lap marks for a smooth professional finish'),
     ('TEXT002', 'home', 'listing_title', 'Lysol Disinfectant Spray, kills 99.9% of viruses and bacteria, kills COVID-19 virus when used as directed'),
     ('TEXT002', 'apparel', 'listing_title', 'Nobody Fights Alone Cancer Support T-Shirt, unisex'),
     ('REVIEW002', 'food', 'listing_description', 'Tell us how we did! Share your feedback in our 2-minute survey and get 10% off your next visit.'),
     ('REVIEW002', 'electronics', 'listing_title', '好评率98% 购机享免费延保一年 官方正品'),
     ('REVIEW002', 'home', 'listing_description', '本店不做好评返现 晒图好评也不送红包'),
     ('REVIEW002', 'home', 'listing_title', '不做好评返现 不刷好评 好评有礼一律不参加'),
     ('REVIEW002', 'home', 'chat', '亲 我们店不做好评返现的 晒图返现也没有的哦')],
)  # fmt: skip
def test_a_final_reviewers_look_alikes_are_clear_or_low(code, category, kind, text):
    hits, (severity, _) = _grade(code, text, category, kind)
    assert not hits or severity == "low", text


@pytest.mark.parametrize(
    ("code", "category", "kind", "text"),
    [('TEXT001', 'home', 'listing_title', '不是最低价 买贵退差价'),
     ('TEXT001', 'electronics', 'listing_title', '吹风机 最高品质 功率2000W 负离子护发'),
     ('TEXT001', 'home', 'listing_title', '水晶球音乐盒 送女友最佳礼物 高度15cm'),
     ('TEXT001', 'electronics', 'listing_description', 'Smart running watch - the best coach for every runner, GPS, heart rate'),
     ('TEXT001', 'electronics', 'listing_title', '小度学习机 孩子最好的老师 六一儿童节生日礼物'),
     ('TEXT001', 'toys', 'listing_title', '《全网最低价》 正版授权 假一赔十'),
     ('TEXT002', 'food', 'listing_title', '桑叶茶 《降血糖》 效果显著'),
     ('TEXT002', 'health_food', 'listing_description', '本品不能代替药物 降血压降血脂'),
     ('TEXT002', 'food', 'listing_title', '苦瓜茶 好吃 降三高 药食同源 正品'),
     ('TEXT002', 'cosmetics', 'listing_title', '宝宝湿疹膏 使用方便 治湿疹 药膏 纯中药'),
     ('REVIEW002', 'home', 'listing_description', 'Hundreds of 5-star reviews! Leave yours and get a free gift')],
)  # fmt: skip
def test_a_final_reviewers_violations_keep_the_pack_severity(code, category, kind, text):
    hits, (severity, _) = _grade(code, text, category, kind)
    assert hits and severity in (None, "high"), text
