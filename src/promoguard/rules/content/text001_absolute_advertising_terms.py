"""TEXT001 absolute-advertising-terms: Absolute or superlative advertising terms (最佳, 国家级, No.1)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from promoguard.engine.base import CheckDoc
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, ContentCheck, _kinds_param
from promoguard.text.matcher import Hit
from promoguard.text.normalise import Normalised
from promoguard.text.patterns import CLAUSE_END, grade_absolute, superlative_hits
from promoguard.text.rules import Prepared, lexicon_hits

# -- claims that are phrases, not words (each alternative holds a gate of pattern_gates.csv:
# the first pass reads a text closely only when it holds one; ``GATES`` below, held by a test) --

_IN_CLAUSE = r"[^,!?;。！？，；\n]"
#: "all the others": what a comparative claim beats (市面所有同类产品, 一切千元机, 所有竞品)
_ALL_ZH = r"(?:市面上?(?:的|所有|一切|全部)?|全网|所有|一切|全部|同类|同级|同价位|同行|竞品|其他|其它|任何|各大|国际大牌|大牌|进口)"
#: 秒杀 is also a flash sale (秒杀所有商品, 秒杀全部5折): it beats only rivals named as such
_RIVALS_ZH = r"(?:同行|同类|竞品|同级|同价位|市面|各大|国际大牌|大牌|一切)"
_BETTER_ZH = r"好|强|棒|优秀|耐用|好用|有效|管用|出色|划算|便宜|实惠|专业|安全"
#: superiority over every rival (Art. 9(3); naming none is no excuse): 吊打一切千元机, 碾压市面所有
#: 同类产品, 完胜所有竞品, 效果远超同类, 比任何一款国际大牌都好用
COMPARATIVE_ZH = re.compile(
    rf"(?:吊打|碾压|完胜|远超|超越|胜过|力压|干翻|横扫){_ALL_ZH}"
    rf"|秒杀{_RIVALS_ZH}"
    rf"|比(?:市面上?的?)?(?:任何|所有|其他|其它|一切|同类|别家|别的|国际大牌|进口|大牌)"
    rf"{_IN_CLAUSE}{{0,10}}?(?:都|还|更)要?(?:{_BETTER_ZH})"
)
#: a rank written to dodge the word list: 销量第1, 全网NO 1, 行业TOP 1, 销量diyi, 第①品牌 (NFKC
#: reads ① as 1)
RANK_ZH = re.compile(
    r"(?:销量|全网|全国|行业|排名|全球|世界|中国|品类|类目|人气)"
    r"(?:第[1一]|no\.?\s?1|top\.?\s?1|diyi|di1)(?![0-9])"
    r"|第1(?:品牌|名)"
)
#: 最 spelt in pinyin or by a homophone, or split by an emoji: zui低价, ZUI佳, 最dī价, 醉好用, 全网罪低,
#: 最🔥好用 (陶醉, 喝醉 and 麻醉 are not 最)
EVADED_ZH = re.compile(
    r"(?<![a-z])zui\s?(?:低|好|佳|优|强|高端|便宜|畅销|先进|受欢迎|权威|棒)"
    r"|(?:最|(?<![a-z])zui)\s?d[iīíǐì]\s?(?:价|jia)"
    r"|(?<![陶沉心喝麻灌宿微])醉(?:好|佳|低价|优|强|便宜)"
    r"|(?:全网|史上|全国|全球)罪低|罪低价"
    r"|最[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]+(?:好|佳|优|强|低价?|便宜|畅销)"
)
_EN_BETTER = (
    r"(?:cheaper|better|stronger|faster|whiter|brighter|softer|quieter|longer[- ]lasting"
    r"|more (?:effective|powerful|comfortable|durable|reliable))"
)
_EN_ALL = (
    r"(?:any(?:one|where| other| competitor| rival| brand)?|all (?:other|the others|the rest"
    r"|the competition|competitors|rivals|brands)|every(?:one| other| competitor| rival| brand)"
    r"|the (?:rest|competition))"
)
#: superiority over every rival, in English: whiter teeth than any other strip, cheaper than anyone,
#: outperforms every competitor, beats all other brands, nothing cleans better, over all others
EN_COMPARATIVE = re.compile(
    rf"(?<![\w-]){_EN_BETTER}(?: [\w'-]+){{0,3}}? than {_EN_ALL}\b"
    r"|(?<![\w-])(?:outperforms?|outlasts?|outsells?|outclasses?|beats?|surpasses?) (?:all|every|any)"
    r" (?:other|competing|competitors?|rivals?|brands?|products?|others)\b"
    r"|(?<![\w-])nothing (?:cleans|works|performs|cuts|washes|protects) better\b"
    r"|(?<![\w-])nothing (?:compares|beats|comes close)\b"
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
#: an objective superlative over a whole market: strongest glue in the world, highest quality
#: protein powder on the market, longest lasting battery of any smartwatch, the most powerful
#: carpet cleaner you can buy, fastest-charging charger ever made
EN_SUPERLATIVE = re.compile(
    rf"(?<![\w#-])(?:{_EN_EST}|most (?:{_EN_MOST})|best[- ](?:rated|selling|reviewed)"
    r"|highest[- ]quality|top[- ]rated|number one|no\. ?1|#1)"
    rf"(?:[ -][\w'-]+){{0,4}}? (?:in (?:the )?(?:{_EN_PLACES})|on (?:the )?(?:market|planet|earth)"
    r"|(?:you|money) can buy|ever (?:made|created|built|sold)|of any [\w-]+)\b"
)
#: a price beaten nowhere: cheapest anywhere, guaranteed lowest price online, best price on eBay
EN_PRICE = re.compile(
    r"(?<![\w-])(?:cheapest|lowest[- ]priced?s?|best[- ]priced?s?)(?:[ -][\w'-]+){0,3}?"
    r" (?:anywhere|online|on (?:ebay|amazon|the (?:market|internet|web|high street))"
    rf"|in (?:the )?(?:{_EN_PLACES}|town)|guaranteed)\b"
    r"|(?<![\w-])guaranteed lowest prices?\b"
)
#: a nation's or the world's favourite: America's Favorite Mattress, Britain's No.1, the world's
#: most comfortable chair
EN_NATION = re.compile(
    r"(?<![\w-])(?:america|britain|uk|europe|australia|canada|world|nation|country)'s"
    rf" (?:favou?rite|best|most (?:{_EN_MOST})|no\. ?1|#1|number one|top|leading"
    r"|cheapest|fastest|strongest|biggest|largest|finest|greatest)\b"
)
#: (pattern, category) of the phrase claims; a rank is a comparative claim like 销量第一
PHRASES = (
    (COMPARATIVE_ZH, "comparative"),
    (RANK_ZH, "comparative"),
    (EVADED_ZH, "superlative"),
    (EN_COMPARATIVE, "comparative"),
    (EN_SUPERLATIVE, "superlative"),
    (EN_PRICE, "superlative"),
    (EN_NATION, "superlative"),
)
#: the words every phrase match holds one of (pattern_gates.csv has each: a test holds it)
GATES = (
    *["吊打", "碾压", "完胜", "远超", "超越", "胜过", "力压", "干翻", "横扫", "秒杀"],
    *(
        f"比{w}"
        for w in [
            "市面",
            "任何",
            "所有",
            "其他",
            "其它",
            "一切",
            "同类",
            "别家",
            "别的",
            "国际大牌",
            "进口",
            "大牌",
        ]
    ),
    *(f"{w}第1" for w in ["量", "网", "国", "业", "名", "球", "界", "类", "目", "气"]),
    *["第1品牌", "第1名", "diyi", "di1", "zui", "醉", "罪低"],
    "no 1",
    "no1",
    "top 1",
    "no.1",
    "top1",
    "销量第一",
    "全网第一",
    "全国第一",
    "行业第一",
    "排名第一",
    "世界第一",
    "中国第一",
    "全球第一",
    "人气第一",
    "品类第一",
    "类目第一",
    *["dī价", "dí价", "dǐ价", "dì价", "di价", "dijia", "dījia"],
    "最",
    *[
        "than any",
        "than anyone",
        "than anywhere",
        "than all",
        "than every",
        "than everyone",
        "than the rest",
    ],
    "than the competition",
    *["outperform", "outperforms", "outlast", "outlasts", "outsell", "outsells"],
    *["outclass", "outclasses", "surpass", "surpasses"],
    *(f"{b} {a}" for b in ("beat", "beats") for a in ("all", "every", "any")),
    *(
        f"nothing {v}"
        for v in ["cleans", "works", "performs", "cuts", "washes", "protects", "compares", "beats"]
    ),
    "nothing comes close",
    "over all others",
    "clinically proven",
    *(f"in {t}{p}" for p in _EN_PLACES.split("|") for t in ("", "the ")),
    "on the market",
    "on market",
    "on the planet",
    "on planet",
    "on earth",
    "on the earth",
    "you can buy",
    "money can buy",
    "ever made",
    "ever created",
    "ever built",
    "ever sold",
    "of any",
    *[
        "cheapest",
        "lowest price",
        "lowest prices",
        "lowest priced",
        "best price",
        "best prices",
        "best priced",
    ],
    *(
        f"{n}'s"
        for n in [
            "america",
            "britain",
            "uk",
            "europe",
            "australia",
            "canada",
            "world",
            "nation",
            "country",
        ]
    ),
)


def phrase_hits(nt: Normalised) -> list[Hit]:
    """The phrase claims of ``PHRASES`` in a normalised text (a text holding none of ``GATES``
    cannot hold one)."""
    text = nt.text
    out = []
    for pattern, category in PHRASES:
        for m in pattern.finditer(text):
            os_, oe = nt.span(m.start(), m.end())
            out.append(Hit("TEXT001", category, m.group(), m.start(), m.end(), os_, oe))
    return out


# -- where a term sits: what lowers it (patterns.LOWERED gives each its reason) ----------------

#: a title of a work: 《最好的告别》 (a book), 《史上最强弟子兼一》 (a manga)
_TITLE = re.compile(r"《[^《》\n]{1,40}》")
#: a gift's words about a person: World's Best Grandma, Best Dad Ever, 致最好的老师
_PERSON_EN = (
    "dad|daddy|father|mum|mom|mommy|mother|grandma|grandpa|granny|grandad|grandmother"
    "|grandfather|nana|papa|teacher|boss|friend|sister|brother|wife|husband|daughter|son|aunt"
    "|auntie|uncle|nurse|coach|godmother|godfather|dog mom|dog dad|cat mom|cat dad"
)
GIFT_SLOGAN = re.compile(
    rf"(?<![\w-])(?:(?:world|america|britain)'s |the |#1 |number one )?best (?:{_PERSON_EN})s?"
    r"(?: ever| in the world)?\b"
    r"|最好的(?:老师|妈妈|爸爸|妈咪|老爸|老妈|爷爷|奶奶|外公|外婆|朋友|闺蜜|兄弟|姐妹|老婆|老公|爱人|宝贝|师父|教练)"
)
#: said right before a term, these deny it (不敢说最好, 本品不是万能的, no claim to be the best)
_DENIED_BY = re.compile(
    r"(?:不敢说|不敢称|不敢自称|不自称|不称|并非|不是|不算|谈不上|称不上|算不上|不做|不用|不使用|不说)"
    r"(?:是|自己是|什么)?$"
    r"|(?:no claims? to be|not claim(?:ing)? to be|don't claim to be|do not claim to be"
    r"|never claim(?:ed)? to be|not) (?:the |a )?$"
)
#: ... unless the clause makes the denial a boast (不是最好的不卖: only the best is sold), a
#: condition (如果不是最好的, if it's not the best) or a question (Not the best? Full refund)
_BOAST_AFTER = re.compile(
    r"不卖|不上架|不发货|不发|不要钱|不收钱|不推荐|不做|免单|退款|refund|free"
)
_CONDITION = re.compile(r"如果|若|要是|假如|\bif\b|\bunless\b")


def _denied(text: str, hit: Hit) -> bool:
    starts = [m.end() for m in CLAUSE_END.finditer(text, max(0, hit.start - 40), hit.start)]
    begin = starts[-1] if starts else max(0, hit.start - 40)
    before = text[begin : hit.start]
    if not _DENIED_BY.search(before) or _CONDITION.search(before):
        return False
    after = CLAUSE_END.search(text, hit.end)
    if after and after.group() in "?？":  # a question (Not the best? Full refund) denies nothing
        return False
    return not _BOAST_AFTER.search(text, hit.end, after.start() if after else len(text))


def _where_it_sits(text: str, hits: list[Hit]) -> list[Hit]:
    """Each hit as a title's, a gift slogan's or a denied one when it sits so (patterns.LOWERED)."""
    titles = [m.span() for m in _TITLE.finditer(text)] if "《" in text else []
    slogans = [m.span() for m in GIFT_SLOGAN.finditer(text)]
    out = []
    for h in hits:
        if any(s <= h.start and h.end <= e for s, e in titles):
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
                and all(o.end <= h.end for o in words if o.start <= h.start < o.end)
            ):
                hits.append(h)
        for h in phrase_hits(prep.nt):
            if not any(o.start <= h.start and h.end <= o.end for o in hits):
                hits.append(h)
        if not hits:
            return hits
        return sorted(_where_it_sits(prep.nt.text, hits), key=lambda h: (h.start, h.end))

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        return grade_absolute(hits)
