"""Claims that are phrases, not words: efficacy guarantees with a number, and 最-superlatives graded
by what follows them.

A lexicon lists words; ``一盒见效``, ``三天即愈``, ``7天见效`` and ``两周治愈`` are one claim with a
number in it (Advertising Law Art. 16(1)-(2): no assertion or guarantee of efficacy), so they are a
pattern here. A ``最`` + adjective is a superlative, but what it describes decides how bad it is
(SAMR's 2023 enforcement guide on absolute terms): ``最高温度 60℃`` or ``最新款`` states the
product's own attribute or its place in time and is not in itself an absolute claim about the
market, so it is reported at low severity with that reason; ``最大优惠`` or ``最低价`` compares with
everyone else and stays a superlative.

Both work on normalised text (NFKC, lower case: ``７天`` is ``7天``) and return matcher ``Hit``s,
so the rules treat them like lexicon hits.
"""

from __future__ import annotations

import re

from promoguard.text.matcher import Hit
from promoguard.text.normalise import Normalised

_CN_NUM = r"[0-9]+|[一二两三四五六七八九十百几半]+"
_UNIT = r"天|日|周|星期|个月|月|年|盒|瓶|贴|次|个?疗程|剂|粒|袋|片|针|个?小时"
_RESULT = r"见效|显效|起效|生效|治愈|痊愈|康复|根治|除根|断根|即愈|好转|消失|止痛|止痒"
#: "7天见效", "一盒见效", "三天即愈", "两周治愈", "1个疗程根治", "服用一周即可痊愈"
EFFICACY = re.compile(
    rf"(?:{_CN_NUM})\s?(?:{_UNIT})(?:内|之内|左右)?(?:就|即|便|可|即可|就能|能|就可以|保证|必)?"
    rf"(?:{_RESULT})"
    r"|(?:100%|百分之百|百分百)(?:有效|治愈|根治|见效|康复|安全)"
    r"|(?:works|results) in [0-9]+ (?:days?|hours?|weeks?)"
    # a success rate against a disease (100% success rate for nail fungus); a tool's success rate
    # for a car make is none
    r"|(?:100|9[0-9](?:\.[0-9]+)?)% success rate (?:for|in|against|on|treating|curing)"
    r" (?:[a-z'-]+ ){0,2}?(?:fungus|acne|eczema|psoriasis|warts?|diabetes|cancer|arthritis|pain"
    r"|insomnia|hair loss|infections?|herpes|gout|ha?emorrhoids|tinnitus|rosacea|migraines?"
    r"|allergies|asthma|obesity|depression|anxiety)\b"
)

#: 多/少/快 left out: 最多/最少 are purchase limits (每人最多2件) and 最快 a delivery estimate far
#: more often than a claim over other goods
_ADJ = "新高低大小长短轻薄厚宽窄强佳"
#: 最 + adjective: the superlative whose object decides its grade
SUPERLATIVE = re.compile(rf"最[{_ADJ}](?!人民法院|人民检察院|法院|检察院)")  # 最高人民法院: a court
#: what makes it the product's own attribute: a measure, a model or a number right after it
_ATTRIBUTE = re.compile(
    r"\s?(?:款|版|型|代|一代|系列|上市|到货|温度|容量|功率|转速|续航|速度|重量|尺寸|承重|耐温|耐压"
    r"|电压|电流|档|亮度|分辨率|刷新率|像素|风速|风量|压力|频率|扬程|流量|高度|长度|宽度|厚度"
    r"|深度|载重|里程|时速|可达|支持|可调|约|为|是)?(?=\s?[:：]?\s?[-−]?[0-9])"
    r"|\s?(?:款|版|型号|一代|系列|上市|到货)"
)

#: the measures a few words may qualify before the number (最大输出功率100W, 最低制冷温度-20℃,
#: 最大可容纳15.6寸, 最小起订量500个, 最大码4XL): what ends the qualifier must be a measure, so
#: 最佳选择 2024新款 (a claim, then a model year) is not one
_MEASURE = (
    r"温度|容量|功率|转速|续航|速度|重量|尺寸|承重|耐温|耐压|电压|电流|档位|档|亮度|分辨率|刷新率"
    r"|像素|风速|风量|压力|频率|扬程|流量|高度|长度|宽度|厚度|深度|载重|里程|时速|开口|口径|输出"
    r"|输入|容纳|起订量|订量|码数|尺码|码|吸力|扭矩|行程|角度|倍率|容积|面积|噪音|音量|功耗|负载"
    r"|水压|水温|距离|射程|范围|视角|焦距|光圈|带宽|网速|速率|温差|湿度|浓度|含量|度数|瓦数|时长"
    r"|时间|待机|电量|负荷|荷载|孔径|直径|半径|周长|跨度|间距|人数|层数|段数"
)
_ATTRIBUTE_LONG = re.compile(
    rf"(?P<qualifier>[\u4e00-\u9fff]{{0,4}}?)(?:{_MEASURE})"
    r"(?:可达|达到|达|为|是|约|可调|支持)?(?=\s?[:：]?\s?[-−]?[0-9])"
)
#: a qualifier holding one of these is about the price or the market, not a measure
#: (最高立减50元, 最低到手价9.9, 最大优惠力度50%)
_NOT_A_MEASURE = re.compile(
    r"价|元|优惠|惠|折|减|省|补贴|返|让利|降|便宜|划算|实惠|只要|仅|低至|到手|券|销|人气|好评|排名"
    r"|性价比|收益|利|回报|赔|奖|赢|送|卖|单|热|火|满|力度|端|级|效果|性能|配置|品质|质量|选择|礼物"
)
#: a market named right before 最 makes it a comparison whatever follows (全网最大吸力25000Pa,
#: 行业最低噪音20dB, 同级别最大扭矩 400N.m: a reviewer's cases)
_MARKET_BEFORE = re.compile(
    r"(?:全网|行业|业内|同级别?|同行|同类|同价位|市面上?|史上|全球|全国|世界|国内|全场|全城)$"
)
#: what 最佳 says of a food or a plant's own window (最佳食用期, 最佳赏味期: a label's words)
_OWN_WINDOW = re.compile(
    r"\s?(?:食用期|赏味期|饮用期|观赏期|品尝期|食用时间|饮用时间|播种期|采收期|观赏时间|保存温度"
    r"|储存温度|使用温度)"
)

#: the reason a graded superlative's finding carries
OWN_ATTRIBUTE_REASON = (
    "states the product's own attribute or its place in time, not a claim over other goods "
    "(SAMR 2023 enforcement guide on absolute terms): low severity, still reported"
)


def _hits(code: str, category: str, term: str, nt: Normalised, pattern: re.Pattern[str]):
    for m in pattern.finditer(nt.text):
        os_, oe = nt.span(m.start(), m.end())
        yield Hit(code, category, term or m.group(), m.start(), m.end(), os_, oe)


#: words one of which every EFFICACY match holds (a result, a percentage, an English phrase):
#: a text without any cannot match, and looking for them is cheaper than the pattern
_EFFICACY_NEEDS = (
    *_RESULT.split("|"),
    # the percentage guarantees by what follows them (有效, or 安全 after the percentage; the
    # others are results): bare "100%" held no gate of the first pass, which then dropped
    # "100%安全" before the close read (every 100%纯棉 would be selected by it)
    "有效",
    *(p + "安全" for p in ("100%", "百分之百", "百分百")),
    "works in ",
    "results in ",
    "success rate",
)


#: what "生效" (takes effect) is said of on every Double-11 page when it is no product's efficacy:
#: a coupon, a membership or a prepaid card, an insurance policy, an activated service
#: (领券后24小时内生效, 会员卡购买后1天生效, 投保后30天生效). Named words, not single characters: 卡 is
#: also 卡路里 and 保 also 保健, whose "7天生效" is the claim
_TAKES_EFFECT_OF = re.compile(
    r"券|红包|会员|月卡|季卡|年卡|次卡|储值卡|礼品卡|投保|保单|保险|保障期|激活|开通|订阅|权益|积分"
)
#: where a clause ends (a full stop inside a number does not end one); the text rules split by it
CLAUSE_END = re.compile(r"[,!?;。！？，；\n]|\.(?![0-9])")
#: a condition in a clause (如果不能降血糖，无条件退款; if it's not the best): a negation there is
#: a guarantee or a boast, not a notice
CONDITION = re.compile(r"如果|若|假如|要是|\bif\b|\bunless\b")


def clause_start(text: str, at: int, reach: int) -> int:
    """Where the clause holding offset ``at`` starts, read at most ``reach`` characters back (a
    long text costs each hit the same)."""
    since = max(0, at - reach)
    return max((m.end() for m in CLAUSE_END.finditer(text, since, at)), default=since)


#: a title of a work: 《最好的告别》 (a book), 《史上最强弟子兼一》 (a manga)
_TITLE = re.compile(r"《[^《》\n]{1,40}》")
#: ... when the text sells a work (shops also bracket claims for emphasis: 《全网最低价》 假一赔十)
_WORK = re.compile(
    # (not 正版, 卷 or a bare 著: licensed goods, 卷纸 10卷, 效果显著)
    r"(?<![显卓昭])著(?!名|称|作权)|作者|出版|小说|漫画|电影|专辑|dvd|图书|书籍|绘本|译者|主演|导演"
    r"|演唱|唱片|剧集|电视剧|动画|全集|isbn|平装|精装|光盘|蓝光|丛书|科普|读物|教材"
)


def titles_of_works(text: str) -> list[tuple[int, int]]:
    """The spans of the titles of works (《…》) in a normalised text that sells one; none else."""
    if "《" not in text or not _WORK.search(text):
        return []
    return [m.span() for m in _TITLE.finditer(text)]


def _of_a_coupon_or_service(text: str, hit: Hit) -> bool:
    """Whether a "…生效" hit is said of a coupon, membership, card or policy in its clause."""
    if not hit.term.endswith("生效"):
        return False
    starts = [m.end() for m in CLAUSE_END.finditer(text, 0, hit.start)]
    clause = text[starts[-1] if starts else 0 : hit.start]
    return bool(_TAKES_EFFECT_OF.search(clause))


def efficacy_hits(nt: Normalised) -> list[Hit]:
    """Efficacy guarantees written as a number and a result (TEXT002 ``efficacy_guarantee``); a
    "…生效" said of a coupon, membership, card or policy is no efficacy (it takes effect)."""
    text = nt.text
    if not any(w in text for w in _EFFICACY_NEEDS):
        return []
    hits = _hits("TEXT002", "efficacy_guarantee", "", nt, EFFICACY)
    return [h for h in hits if not _of_a_coupon_or_service(text, h)]


def superlative_hits(nt: Normalised) -> list[Hit]:
    """Every ``最`` + adjective, as ``own_attribute`` when a measure or a model follows it, else as
    an ordinary ``superlative`` (TEXT001)."""
    out = []
    text = nt.text
    for m in SUPERLATIVE.finditer(text):
        own = _ATTRIBUTE.match(text, m.end())
        market = _MARKET_BEFORE.search(text, max(0, m.start() - 4), m.start())
        if market:
            own = None
        # 最强性能 120万分 is a claim whatever follows; and a qualifier the writer set apart
        # (音质最佳 续航30小时: a gap the normaliser closed) starts a phrase of its own
        apart = not nt.joined(m.end() - 1, m.end())
        # ... a predicate after its noun, that is (音质最佳 续航…); a title's spaced words (电烤箱
        # 最高 温度 230℃) keep the measure after the gap
        after_noun = m.start() > 0 and nt.joined(m.start() - 1, m.start())
        after_noun = after_noun and "\u4e00" <= text[m.start() - 1] <= "\u9fff"
        if apart and after_noun and own is not None and own.group().strip():
            own = None
        joined = own is None and not apart and not market
        if joined and m.group() != "最强":
            long = _ATTRIBUTE_LONG.match(text, m.end())
            # a qualifier runs over no gap the writer left (最高品质 功率2000W: a claim, then a
            # measure)
            if (
                long
                and not _NOT_A_MEASURE.search(long.group("qualifier"))
                and nt.joined(m.end(), long.end() - 1)
            ):
                own = long
        if own is None and joined and m.group() == "最佳":
            own = _OWN_WINDOW.match(text, m.end())
        end = own.end() if own else m.end()
        os_, oe = nt.span(m.start(), end)
        category = "own_attribute" if own else "superlative"
        out.append(Hit("TEXT001", category, nt.text[m.start() : end], m.start(), end, os_, oe))
    return out


#: TEXT001 categories by how grave the claim is (the finding takes its gravest hit)
GRADES = {"own_attribute": "low", "superlative": "medium", "first": "medium"}
GRAVE = {"comparative": "high", "state_endorsement": "high"}
#: TEXT001 categories that lower a finding to ``low`` when they are all it holds, with the reason
#: each gives (the rule sets them on a hit by where it sits: ``text001_absolute_advertising_terms``)
LOWERED = {
    "own_attribute": OWN_ATTRIBUTE_REASON,
    "title_of_work": (
        "inside the title of a book, film or song (《…》), which names a work rather than "
        "claiming anything of the goods: low severity, still reported"
    ),
    "negated": (
        "the term is denied where it is written (不敢说最好, we make no claim to be the best): "
        "low severity, still reported"
    ),
    "gift_slogan": (
        "a gift's words about a person (World's Best Grandma, 致最好的老师), not a claim about "
        "the goods: low severity, still reported"
    ),
}


def grade_absolute(hits: list[Hit]) -> tuple[str | None, str | None]:
    """A TEXT001 finding's severity from its hits, and the reason, when not the pack's.

    Comparative and state-endorsement claims are ``high``; a text whose only absolute terms state
    the product's own attribute, sit in a title of a work, are denied or are a gift's words about a
    person (``LOWERED``) is ``low`` with the reasons; anything else keeps the pack's
    severity (None, None). A hit covered by a longer hit (``最低`` inside ``最低价``) does not
    count on its own.
    """
    live = [
        h
        for h in hits
        if not any(
            o is not h
            and o.start <= h.start
            and h.end <= o.end
            and (o.end - o.start) > (h.end - h.start)
            for o in hits
        )
    ]
    cats = {h.category for h in live}
    if cats & set(GRAVE):
        return "high", (
            "a comparative claim over other goods or an endorsement by the state "
            "(Advertising Law Art. 9(2)-(3))"
        )
    if cats and cats <= LOWERED.keys():
        return "low", "; ".join(LOWERED[c] for c in sorted(cats))
    return None, None
