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
)

#: 多/少/快 left out: 最多/最少 are purchase limits (每人最多2件) and 最快 a delivery estimate far
#: more often than a claim over other goods
_ADJ = "新高低大小长短轻薄厚宽窄强"
#: 最 + adjective: the superlative whose object decides its grade
SUPERLATIVE = re.compile(rf"最[{_ADJ}]")
#: what makes it the product's own attribute: a measure, a model or a number right after it
_ATTRIBUTE = re.compile(
    r"\s?(?:款|版|型|代|一代|系列|上市|到货|温度|容量|功率|转速|续航|速度|重量|尺寸|承重|耐温|耐压"
    r"|电压|电流|档|亮度|分辨率|刷新率|像素|风速|风量|压力|频率|扬程|流量|高度|长度|宽度|厚度"
    r"|深度|载重|里程|时速|可达|支持|可调|约|为|是)?(?=\s?[:：]?\s?[-−]?[0-9])"
    r"|\s?(?:款|版|型号|一代|系列|上市|到货)"
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
    for m in SUPERLATIVE.finditer(nt.text):
        own = _ATTRIBUTE.match(nt.text, m.end())
        end = own.end() if own else m.end()
        os_, oe = nt.span(m.start(), end)
        category = "own_attribute" if own else "superlative"
        out.append(Hit("TEXT001", category, nt.text[m.start() : end], m.start(), end, os_, oe))
    return out


#: TEXT001 categories by how grave the claim is (the finding takes its gravest hit)
GRADES = {"own_attribute": "low", "superlative": "medium", "first": "medium"}
GRAVE = {"comparative": "high", "state_endorsement": "high"}


def grade_absolute(hits: list[Hit]) -> tuple[str | None, str | None]:
    """A TEXT001 finding's severity from its hits, and the reason, when not the pack's.

    Comparative and state-endorsement claims are ``high``; a text whose only absolute terms state
    the product's own attribute is ``low`` with the guide's reason; anything else keeps the pack's
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
    if cats and cats <= {"own_attribute"}:
        return "low", OWN_ATTRIBUTE_REASON
    return None, None
