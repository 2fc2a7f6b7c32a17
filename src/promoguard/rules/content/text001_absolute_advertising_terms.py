"""TEXT001 absolute-advertising-terms: Absolute or superlative advertising terms (最佳, 国家级, No.1)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from promoguard.engine.base import CheckDoc
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.normalise import Normalised, normalise
from promoguard.text.patterns import (
    CLAUSE_END,
    CONDITION,
    GRAVE,
    clause_start,
    grade_absolute,
    superlative_hits,
    titles_of_works,
)
from promoguard.text.rules import Prepared, lexicon_hits

# -- claims that are phrases, not words (each alternative holds a gate of pattern_gates.csv:
# the first pass reads a text closely only when it holds one; ``GATES`` below, held by a test) --

_IN_CLAUSE = r"[^,!?;。！？，；\n]"
#: the rival goods a comparative claim beats, named as such (市面所有同类产品, 一切千元机, 所有竞品):
#: a verb beating 所有/一切 alone beats grease, mosquitoes or nuts (横扫所有顽固油污, 干翻所有蚊子,
#: 碾压所有坚果 a nutcracker, 平安胜过一切: a reviewer's cases)
_RIVAL_NOUN = (
    r"同行|同类|竞品|同级|同价位|同档|友商|对手|其他品牌|其它品牌|别家|各大品牌|大牌|国际大牌"
    r"|进口品牌|进口产品|进口|千元机|万元机|市面(?!价)"
)
_ALL_ZH = rf"(?:市面上?的?)?(?:所有|一切|全部|任何|各大)?(?:{_RIVAL_NOUN})"
#: 秒杀 is also a flash sale (秒杀所有商品, 秒杀全部5折, 秒杀大牌口红: a sale of big brands' goods):
#: it beats only rivals named as such
_RIVALS_ZH = r"(?:同行|同类|竞品|同级|同价位|友商|对手|市面(?!价)|其他品牌|其它品牌|别家)"
_BETTER_ZH = r"好|强|棒|优秀|耐用|好用|有效|管用|出色|划算|便宜|实惠|专业|安全"
#: superiority over every rival (Art. 9(3); naming none is no excuse): 吊打一切千元机, 碾压市面所有
#: 同类产品, 完胜所有竞品, 效果远超同类, 比任何一款国际大牌都好用
COMPARATIVE_ZH = re.compile(
    rf"(?:吊打|碾压|完胜|远超|超越|胜过|力压|干翻|横扫){_ALL_ZH}"
    rf"|秒杀{_RIVALS_ZH}"
    rf"|比(?:市面上?的?)?(?:任何|所有|其他|其它|一切|同类|别家|别的|国际大牌|进口|大牌)"
    # not the past or the shop's own range (比任何时候都更安全, 整箱购买比其他规格更实惠)
    r"(?!时候|时|规格|套餐|颜色|尺码|方法|款式|型号|版本|季节|年份|口味|容量|包装|包数|数量|色号|克重|款"
    r"|链接|号|尺寸|配色)"
    rf"{_IN_CLAUSE}{{0,10}}?(?:都|还|更)要?(?:{_BETTER_ZH})"
)
#: a rank written to dodge the word list: 销量第1, 全网NO 1, 行业TOP 1, 销量diyi, 第①品牌 (NFKC
#: reads ① as 1); not an order of events or a landmark (全国第1站 a tour's stop, 全球第一高楼 a
#: model of a tower), nor a bare 第1名 (a trophy, the first buyer: 第1名免单)
RANK_ZH = re.compile(
    r"(?:销量|全网|全国|行业|排名|全球|世界|中国|品类|类目|人气)"
    r"(?:第[1一]|no\.?\s?1|top\.?\s?1|diyi|di1)"
    r"(?![0-9]|届|站|季|次|个|高楼|高峰|天|期|集|轮|场|批|家|座|条|位)"
    r"|第1品牌"
)
#: 最 spelt in pinyin or by a homophone, or split by an emoji: zui低价, ZUI佳, 最dī价, 醉好用, 全网罪低,
#: 最🔥好用 (陶醉, 喝醉 and 麻醉 are not 最)
EVADED_ZH = re.compile(
    r"(?<![a-z])zui(?:低|好|佳|强|高端|便宜|畅销|先进|受欢迎|权威|棒)"  # not ZUI 优化 (an OS)
    r"|(?:最|(?<![a-z])zui)\s?d[iīíǐì]\s?(?:价|jia)"
    r"|(?<![陶沉心喝麻灌宿微不口])醉(?:好|低价|强|便宜)"  # not 醉优级 (桃花醉, GB grade 优级)
    r"|(?:全网|史上|全国|全球)罪低|罪低价"
    r"|最[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]+(?:好|佳|优|强|低价?|便宜|畅销)"
)
_EN_BETTER = (
    r"(?:cheaper|better|stronger|faster|whiter|brighter|softer|quieter|longer[- ]lasting"
    r"|more (?:effective|powerful|comfortable|durable|reliable))"
)
_EN_ALL = (
    r"(?:any(?:one|where| other| competitor| rival| brand)?|all (?:other|the others"
    r"|the competition|competitors|rivals|brands)|every(?:one| other| competitor| rival| brand)"
    r"|the competition)"  # not "all the rest": Better Than All the Rest (a song's line)
    # ... nor the maker's own range (faster than any previous generation; quieter than any other
    # fan in our range)
    r"(?! (?:previous|earlier|older)\b)(?![\w\s'-]{0,30}\b(?:in|from|of) our\b)"
)
#: superiority over every rival, in English: whiter teeth than any other strip, cheaper than anyone,
#: outperforms every competitor, beats all other brands, nothing cleans better, over all others
EN_COMPARATIVE = re.compile(
    rf"(?<![\w-]){_EN_BETTER}(?: [\w'-]+){{0,3}}? than {_EN_ALL}\b"
    r"|(?<![\w-])(?:outperforms?|outlasts?|outsells?|outclasses?|beats?|surpasses?) (?:all|every|any)"
    r" (?:other|competing|competitors?|rivals?|brands?|products?|others)\b"
    r"|(?<![\w-])nothing (?:cleans|works|performs|cuts|washes|protects) better\b"
    r"|(?<![\w-])over all others\b"
    r"|(?<![\w-])clinically proven (?:best|better|superior|most|#1|number one)\b"
)
_EN_EST = (
    "cheapest|lowest|best|finest|strongest|fastest|greatest|largest|biggest|smallest|lightest"
    "|thinnest|brightest|quietest|toughest|safest|purest|freshest|softest|healthiest|tastiest"
    "|highest|longest|smartest|sharpest|warmest|cleanest"
)
_EN_MOST = (
    "powerful|comfortable|effective|advanced|popular|trusted|reliable|durable|accurate|efficient"
    "|loved|innovative|luxurious|affordable|comprehensive|versatile"
)
_EN_PLACES = "world|uk|us|usa|country|nation|industry|universe|business|america|britain|europe"
#: "in the US", never "in us" (a pronoun; Largest size in US chart is 3XL)
_EN_IN_PLACE = (
    r"in the (?:world|uk|us|usa|country|nation|industry|universe|business)"
    r"|in (?:uk|usa|america|britain|europe)"
)
#: what a superlative over a market is not said of: a way, a size, a place or a person (Cheapest
#: way to ship in the US, highest mountain in the world, The Greatest Salesman in the World)
_EN_NOT_GOODS = (
    r"(?!(?:way|ways|method|option|size|sizes|mountain|peak|building|tower|river|lake|city|place"
    r"|man|woman|men|women|salesman|person|people|player|team|athlete|animal|country|point|mine"
    r"|producer|producers|sport|breed|kids|scientists?|chefs?|show|island|beach|airport)\b)"
)
#: "of any" with a category, not a kind (works best on hard floors of any type)
_EN_OF_ANY = r"of any (?!(?:type|kind|sort|size|colou?r|shape|age|length|style|brand)\b)[\w-]+"
#: an objective superlative over a whole market: strongest glue in the world, highest quality
#: protein powder on the market, longest lasting battery of any smartwatch, the most powerful
#: carpet cleaner you can buy, fastest-charging charger ever made
EN_SUPERLATIVE = re.compile(
    rf"(?<![\w#-])(?:{_EN_EST}|most (?:{_EN_MOST})|best[- ](?:rated|selling|reviewed)"
    r"|highest[- ]quality|top[- ]rated|number one|no\. ?1|#1)"
    rf"(?:[ -]{_EN_NOT_GOODS}[\w'-]+){{0,4}}? (?:{_EN_IN_PLACE}|on (?:the )?(?:market|planet|earth)"
    rf"|(?:you|money) can buy|(?<!we )(?<!we've )(?<!have )ever (?:made|created|built|sold)"
    rf"|{_EN_OF_ANY})\b"
)
#: a price beaten nowhere: cheapest anywhere, guaranteed lowest price online, best price on eBay
EN_PRICE = re.compile(
    r"(?<![\w-])(?:cheapest|lowest[- ]priced?s?|best[- ]priced?s?)"
    rf"(?:[ -]{_EN_NOT_GOODS}[\w'-]+){{0,3}}?"
    r" (?:anywhere|online|on (?:ebay|amazon|the (?:market|internet|web|high street))"
    rf"|{_EN_IN_PLACE}|in town|guaranteed)\b"
    r"|(?<![\w-])guaranteed lowest prices?\b"
)
#: a nation's or the world's favourite: America's Favorite Mattress, Britain's No.1, the world's
#: most comfortable chair
EN_NATION = re.compile(
    r"(?<![\w-])(?:america|britain|uk|europe|australia|canada|world|nation|country)'s"
    rf" (?:favou?rite|best|most (?:{_EN_MOST})|no\. ?1|#1|number one|top|leading"
    r"|cheapest|finest)\b"  # not World's Strongest Man, Australia's Biggest Morning Tea (events)
    # nor people or places (the world's leading sleep scientists, the country's top chefs)
    r"(?! (?:[\w-]+ )?(?:scientists?|chefs?|experts?|doctors?|athletes?|players?|teams?|cities"
    r"|companies|universities|schools|poems|minds|authors?|destinations?)\b)"
)
#: (pattern, category) of the phrase claims; a rank is a comparative claim like 销量第一
#: (pattern, category, what every match holds: a search cheaper than the pattern) of the phrase
#: claims; a text without it is not searched (the search was most of TEXT001's time)
PHRASES = (
    (
        COMPARATIVE_ZH,
        "comparative",
        "吊打|碾压|完胜|远超|超越|胜过|力压|干翻|横扫|秒杀|比(?:市面|任何|所有|其他|其它|一切|同类|别家"
        "|别的|国际|进口|大牌)",
    ),
    # a rank is like 销量第一
    (RANK_ZH, "comparative", "(?:销量|全网|全国|行业|排名|全球|世界|中国|品类|类目|人气)|第1品牌"),
    (
        EVADED_ZH,
        "superlative",
        r"zui|醉|罪|最\s?d|最[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]",
    ),
    (
        EN_COMPARATIVE,
        "comparative",
        " than |outperform|outlast|outsell|outclass|surpass|beat|nothing |over all others"
        "|clinically proven",
    ),
    (
        EN_SUPERLATIVE,
        "superlative",
        "in the (?:world|uk|us|country|nation|industry|universe|business)"
        "|in (?:uk|usa|america|britain|europe)|on (?:the )?(?:market|planet|earth)|can buy"
        "|ever (?:made|created|built|sold)|of any ",
    ),
    (EN_PRICE, "superlative", "cheapest|lowest[- ]price|best[- ]price"),
    (EN_NATION, "superlative", "'s "),
)


#: the words every phrase match holds one of (pattern_gates.csv has each: a test holds it)
def _words(line: str, sep: str = " ") -> tuple[str, ...]:
    return tuple(line.split(sep))


#: per phrase pattern (in the order of PHRASES), the gates every match of it holds one of
GATES_BY_PATTERN = (
    (
        *_words("吊打 碾压 完胜 远超 超越 胜过 力压 干翻 横扫 秒杀"),
        *(
            f"比{w}"
            for w in _words("市面 任何 所有 其他 其它 一切 同类 别家 别的 国际大牌 进口 大牌")
        ),
    ),
    (
        *(f"{w}第1" for w in _words("量 网 国 业 名 球 界 类 目 气")),
        *_words("第1品牌 diyi di1 no1 top1 no.1"),
        *_words("no 1|top 1", "|"),
        *(f"{w}第一" for w in _words("销量 全网 全国 行业 排名 世界 中国 全球 人气 品类 类目")),
    ),
    _words("zui 醉 罪低 dī价 dí价 dǐ价 dì价 di价 dijia dījia 最"),
    (
        *_words("than any|than anyone|than anywhere|than all|than every|than everyone", "|"),
        "than the competition",
        *_words("outperform outperforms outlast outlasts outsell outsells"),
        *_words("outclass outclasses surpass surpasses"),
        *(f"{b} {a}" for b in ("beat", "beats") for a in ("all", "every", "any")),
        *(f"nothing {v}" for v in _words("cleans works performs cuts washes protects")),
        "over all others",
        "clinically proven",
    ),
    (
        *(
            f"in the {p}"
            for p in _words("world uk us usa country nation industry universe business")
        ),
        *(f"in {p}" for p in _words("uk usa america britain europe")),
        *_words("on the market|on market|on the planet|on planet|on earth|on the earth", "|"),
        *_words(
            "you can buy|money can buy|ever made|ever created|ever built|ever sold|of any", "|"
        ),
    ),
    (
        *_words("cheapest|lowest price|lowest prices|lowest priced|best price|best prices", "|"),
        "best priced",
    ),
    tuple(
        f"{n}'s" for n in _words("america britain uk europe australia canada world nation country")
    ),
)
GATES = tuple(g for gates in GATES_BY_PATTERN for g in gates)


_NEEDS = tuple(re.compile(needs) for _, _, needs in PHRASES)
#: what any of them holds: most texts hold nothing, and are searched once
_ANY_NEED = re.compile("|".join(f"(?:{needs})" for _, _, needs in PHRASES))


#: the gates as the matcher keys them (a prepared text's ``gates``) ...
_GATE_KEYS = frozenset(normalise(g).text.strip() for g in GATES)
#: ... and those each pattern's matches hold (a test holds every match to them)
_PATTERN_KEYS = tuple(
    frozenset(normalise(g).text.strip() for g in gates) for gates in GATES_BY_PATTERN
)
#: gate key -> the patterns it opens
_PATTERNS_OF: dict[str, tuple[int, ...]] = {
    k: tuple(i for i, keys in enumerate(_PATTERN_KEYS) if k in keys) for k in _GATE_KEYS
}


def phrase_hits(nt: Normalised, gates: frozenset[str] | None = None) -> list[Hit]:
    """The phrase claims of ``PHRASES`` in a normalised text (a text holding none of a pattern's
    gates cannot match it; ``gates``: the prepared text's, or None to search for them)."""
    text = nt.text
    out: list[Hit] = []
    if gates is None:
        if not _ANY_NEED.search(text):
            return out
        chosen: Iterable[int] = range(len(PHRASES))
    else:
        # the first pass's automaton has found the gates already: the patterns they open
        found = gates & _GATE_KEYS
        if not found:
            return out
        chosen = sorted({i for k in found for i in _PATTERNS_OF[k]})
    for i in chosen:
        pattern, category, _ = PHRASES[i]
        # every match holds the pattern's words too (a cheap search: most texts with a 最 hold
        # no 最 spelt another way)
        if not _NEEDS[i].search(text):
            continue
        for m in pattern.finditer(text):
            os_, oe = nt.span(m.start(), m.end())
            out.append(Hit("TEXT001", category, m.group(), m.start(), m.end(), os_, oe))
    return out


# -- where a term sits: what lowers it (patterns.LOWERED gives each its reason) ----------------

#: a gift's words about a person: World's Best Grandma, Best Dad Ever, 致最好的老师
_PERSON_EN = (
    "dad|daddy|father|mum|mom|mommy|mother|grandma|grandpa|granny|grandad|grandmother"
    "|grandfather|nana|papa|teacher|boss|friend|sister|brother|wife|husband|daughter|son|aunt"
    "|auntie|uncle|nurse|coach|godmother|godfather|dog mom|dog dad|cat mom|cat dad"
)
GIFT_SLOGAN = re.compile(
    # (the world's, #1 or number one, or "the best X" with a gift named: not "the best coach for
    # every runner" said of a watch; see _GIFT_EN)
    rf"(?<![\w-])(?:(?:world|america|britain)'s |the |#1 |number one )?"
    rf"(?:best|greatest|okayest|coolest) (?:{_PERSON_EN})s?"
    # not goods named after the person (The Best Mom Jeans, Nurse Shoes, a Coach Tote)
    r"(?! (?:jeans|shoes?|tote|bags?|handbags?|purse|wallet|boots?|sneakers?|scrubs|watch|clogs)\b)"
    r"(?: ever| in the (?:world|universe|business|galaxy|office))?\b"
)
#: ... and in Chinese, a gift's words to a person, with the gift named (致最好的老师; not 宝贝, which
#: on a shop page is the listed item, nor 你最好的教练 said of a smart skipping rope)
GIFT_SLOGAN_ZH = re.compile(
    r"(?:致|送给|献给|给)最好的(?:老师|妈妈|爸爸|妈咪|老爸|老妈|爷爷|奶奶|外公|外婆|朋友|闺蜜|兄弟|姐妹|老婆|老公|爱人|师父)"
)
_GIFT_EN = re.compile(
    r"\b(?:mug|shirt|t-shirt|tee|hoodie|gift|present|engraved|printed|sign|plaque|card|keychain"
    r"|ornament|sticker|pillow|frame)s?\b"
)
_GIFT_ZH = re.compile(r"送给|致|礼物|礼品|生日|节日|教师节|母亲节|父亲节|刻字|定制|纪念")
#: said right before a term, these deny it (不敢说最好, 本品不是万能的, no claim to be the best)
_DENIED_BY = re.compile(
    r"(?:不敢说|不敢称|不敢自称|不自称|不称|并非|(?<!是)不是|不算|谈不上|称不上|算不上|不做|不用"
    r"|不使用|不说)"
    r"(?:是|自己是|什么)?$"
    r"|(?:no claims? to be|not claim(?:ing)? to be|don't claim to be|do not claim to be"
    r"|never claim(?:ed)? to be|not) (?:the |a )?$"
)
#: ... unless the clause makes the denial a boast (不是最好的不卖: only the best is sold), a
#: condition (如果不是最好的, if it's not the best) or a question (Not the best? Full refund)
_BOAST_AFTER = re.compile(
    r"不敢?卖|不上架|不发货|不发|不要钱|不收钱|不推荐|不做|免单|退款|退差价|差价|返还|价保|refund|free"
)
#: where the boast is looked for: to the end of the denial's sentence (不是最好的，我们不卖！)
_SENTENCE_END = re.compile(r"[!?。！？\n]|\.(?![0-9])")


def _denied(text: str, hit: Hit) -> bool:
    before = text[clause_start(text, hit.start, 40) : hit.start]
    if not _DENIED_BY.search(before) or CONDITION.search(before):
        return False
    after = CLAUSE_END.search(text, hit.end)
    if after and after.group() in "?？":  # a question (Not the best? Full refund) denies nothing
        return False
    end = _SENTENCE_END.search(text, hit.end)
    return not _BOAST_AFTER.search(text, hit.end, end.start() if end else len(text))


def _where_it_sits(text: str, hits: list[Hit]) -> list[Hit]:
    """Each hit as a title's, a gift slogan's or a denied one when it sits so (patterns.LOWERED)."""
    titles = titles_of_works(text)
    slogans = [
        m.span()
        for m in GIFT_SLOGAN.finditer(text)
        if not m.group().startswith("the ") or _GIFT_EN.search(text)
    ]
    if _GIFT_ZH.search(text):
        slogans += [m.span() for m in GIFT_SLOGAN_ZH.finditer(text)]
    out = []
    for h in hits:
        # a rival beaten or the state's name is never a title's (《销量第一》, 《国家机关专供》:
        # shops bracket claims for emphasis)
        if h.category not in GRAVE and any(s <= h.start and h.end <= e for s, e in titles):
            h = dataclasses.replace(h, category="title_of_work")
        elif any(s <= h.start and h.end <= e for s, e in slogans):
            h = dataclasses.replace(h, category="gift_slogan")
        elif _denied(text, h):
            h = dataclasses.replace(h, category="negated")
        out.append(h)
    return out


@register
class AbsoluteTerms(ContentCheck):
    code = "TEXT001"
    name = "absolute-advertising-terms"
    title = "Absolute or superlative advertising terms (最佳, 国家级, No.1)"
    severity = "medium"
    rule = "no absolute terms such as 国家级, 最高级, 最佳 in advertising"
    parameters = (
        _kinds_param(
            ("listing_title", "listing_description", "livestream", "ad", "chat"),
            "text kinds read as advertising (live commerce and product pages are advertising)",
        ),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds merchant texts that use absolute or superlative terms: 最佳, 最好, 国家级, "
            "最高级, 顶级, 第一品牌, 全网最低, NO.1, also when split by separators (最*好, 最 好) "
            "or written full-width, and claims that are phrases: superiority over every rival "
            "(吊打一切千元机, 比任何大牌都好用, whiter than any other strip), ranks and 最 spelt to "
            "dodge the word list (销量第1, 全网NO 1, zui低价, 醉好用, 最🔥好用), and English claims "
            "over a market (strongest glue in the world, cheapest anywhere, America's favorite). "
            "Ordinary words that contain the same characters (最近, 最后, 第一次, 首先, 顶部, "
            "唯品会, 最高人民法院, 万能角度尺, #1 Phillips) are not flagged. Graded by context "
            "(SAMR's 2023 guide on absolute terms): a comparative claim over other goods (全网第一, "
            "行业领先) or an endorsement by the state or its staff (国家领导人推荐, 政府机关专供, "
            "Art. 9(2)) is high; a text whose only terms state the product's own attribute "
            "(最新款, 最高温度 60℃, 最大输出功率65W), sit in the title of a work (《最好的告别》), "
            "are a gift's words about a person (World's Best Grandma) or are denied where written "
            "(不敢说最好) is low, with the reason in the finding; anything else takes the pack's "
            "severity."
        ),
        why=(
            "China's Advertising Law Art. 9(3) forbids advertising that uses 国家级, 最高级, 最佳 "
            "and terms like them; elsewhere an objective superlative (No.1, best ever) is "
            "misleading unless substantiated."
        ),
        example="A listing title '【双11】山野羽绒服 全网最低 品质最 好' (TEXT001: 全网最低, 最 好).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """Lexicon terms, and every 最 + adjective the lexicon does not already cover (graded by
        what follows it: a measure or a model makes it the product's own attribute)."""
        hits = lexicon_hits(prep, self.code)
        words = list(hits)
        for h in superlative_hits(prep.nt):
            # a measure after the term (最佳发酵温度40℃) makes the lexicon's 最佳 its own attribute
            if not any(o.start <= h.start < o.end for o in words) or (
                h.category == "own_attribute"
                # a word of the lexicon no longer than 最X itself (最佳, not 最高端: 最高端配置功率)
                and all(o.end - o.start <= 2 for o in words if o.start <= h.start < o.end)
            ):
                hits.append(h)
        for h in phrase_hits(prep.nt, prep.gates):
            if not any(o.start <= h.start and h.end <= o.end for o in hits):
                hits.append(h)
        if not hits:
            return hits
        return sorted(_where_it_sits(prep.nt.text, hits), key=lambda h: (h.start, h.end))

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        return grade_absolute(hits)
