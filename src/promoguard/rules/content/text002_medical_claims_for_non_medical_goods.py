"""TEXT002 medical-claims-for-non-medical-goods: Medical or efficacy claims the goods may not make."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from typing import Any

from promoguard.engine.base import CheckDoc, Parameter
from promoguard.engine.registry import register
from promoguard.rules.content._shared import _EXTRA, TEXT_KINDS_ALL, ContentCheck, _kinds_param
from promoguard.text.lexicon import LEXICON_DIR, read_lexicon
from promoguard.text.matcher import Hit
from promoguard.text.normalise import normalise
from promoguard.text.patterns import (
    CLAUSE_END,
    CONDITION,
    clause_start,
    efficacy_hits,
    titles_of_works,
)
from promoguard.text.rules import Prepared, lexicon_hits

#: Crops a pesticide names between 防治 and its pest (防治水稻病虫害, 防治小麦锈病): the allow
#: rows name 防治 beside the pest only, and a crop between them had left every such listing a
#: high disease claim. A crop, not a person or an animal: 防治老人高血压 stays a claim.
CROPS = (
    *("水稻", "稻田", "小麦", "麦田", "玉米", "大豆", "棉花", "油菜", "花生", "甘蔗", "烟草"),
    *("果树", "蔬菜", "花卉", "草坪", "茶树", "茶园", "林木", "苗木", "多肉", "月季", "兰花"),
    *("葡萄", "柑橘", "苹果", "梨树", "桃树", "香蕉", "草莓", "西瓜"),
    *("番茄", "西红柿", "黄瓜", "辣椒", "马铃薯", "土豆"),
)


@cache
def _crop_pest() -> re.Pattern[str]:
    """防治's continuation that names a crop and then a pest, weed or plant disease of the
    built-in allow rows (``防治X`` rows of pest control: the same words, one place)."""
    pests = _pests()
    crops = "|".join(map(re.escape, CROPS))
    return re.compile(rf"(?:{crops})(?:树|田|园)?的?(?:{'|'.join(map(re.escape, pests))})")


@cache
def _plant_words() -> re.Pattern[str]:
    """The allow rows' pests, weeds and plant diseases, wherever they stand."""
    return re.compile("|".join(map(re.escape, _pests())))


@cache
def _pests() -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                t.term.removeprefix("防治")
                for t in read_lexicon(LEXICON_DIR / "allow.csv")
                if t.term.startswith("防治") and "pests" in t.source
            },
            key=len,
            reverse=True,
        )
    )


#: What a disease of people or animals is written with (糖尿病, 肠炎, 腹泻, 高血压, 脚气): after
#: pest control, one of these (once the plant words are read away) means the 防治 also reaches
#: it (防治小麦锈病和糖尿病; EM菌 防治水稻病虫害及畜禽疾病): the claim stays.
#: Not a bare 病 or 症: plants have diseases the allow rows do not name (稻曲病, 缺素症).
_BODY = re.compile(
    "糖尿病|心脏病|皮肤病|传染病|疾病|炎|泻|癌|痛|瘤|疹|癣|血压|血糖|血脂|过敏|脚气|指甲|感冒|"
    "失眠|肥胖|免疫|胃|肠|肝|肾|肺"
)


@cache
def _plant_before() -> re.Pattern[str]:
    """A pest, weed or plant disease written just before 防治 (病虫害防治, 病虫害的防治)."""
    return re.compile(f"(?:{_plant_words().pattern})(?:的|综合)?$")


#: what follows "cure(s)" when a gel, resin or glue sets (Cures in 60 Seconds Under LED Lamp) ...
_SETS = re.compile(r"(?:s|d)?\s?in\s?[0-9]+\s?(?:s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?)\b")
#: ... and what the text names then (a headache roll-on that "cures in 60 seconds" claims a cure).
#: Not "gel" alone: a toothache gel that cures in 30 seconds claims a cure; a gel polish names its
#: polish or its lamp
_SETTING = re.compile(r"\b(?:uv|led|resin|epoxy|glue|adhesive|lamp|polish|varnish|coating)\b")
#: "treats" as a noun before a claim's words (Dog Treats Gout Friendly, Horse Treats Colic Safe)
_TREATS_NOUN = re.compile(
    r"\b(?:dog|cat|horse|pet|puppy|kitten|bird|parrot|rabbit|training|chew|dental|jerky|biscuit)"
    r"\s$"  # not "dogs": Hemp oil for dogs treats arthritis (a verb after the plural)
)
#: a claim negated right before it (本品不具有降血糖作用; 化妆品不能消炎; 不能代替药物治疗; do not
#: cure): a notice that the goods make no such claim, reported low with the reason (the words are
#: there for an officer to read: a negation costs nothing to write beside a claim) ...
_NEGATED = re.compile(
    r"(?:不具有|不具备|不能|不可|无法|并非|不是|不会|没有|\bnot|\bcannot|\bcan't|\bdoesn't|\bdon't"
    r"|\bdoes not|\bdo not)\s?(?:(?:代替|替代)(?:药物|药品)?|a |an |to |be used to )?$"
)
#: ... when the goods are what its sentence negates it of (本品, 化妆品, our gummies, it): not
#: doctors, a disease or a hospital (What doctors can't cure, 糖尿病真的不能治愈吗, 医院无法根治的湿疹)
_GOODS = re.compile(
    r"(?:本品|本产品|该产品|这款|此款|该款|化妆品|食品|保健品|膳食补充剂|[香肥]皂|面霜|面膜|非兽?药[品物]?|"
    r"\b(?:this|these|our) [a-z]+|\bit)[^，,。！？!?;；]{0,6}$"
)
#: the supplement disclaimer written another way (This product is not intended to treat or cure
#: any disease; ... diagnose, treat, cure, or mitigate any disease): a negation said of the goods
_NOT_INTENDED = re.compile(
    r"\bnot intended to (?:(?:diagnose|treat|cure|mitigate|prevent|heal)(?:,? or|,)? ){0,5}$"
)
#: a drug named in a caution (正在服用降糖药物者慎用; 纳豆激酶：服用抗凝、溶栓药物者慎用): the
#: claim's words and then 药, with the taking of it before them or a caution after them in the
#: clause; 天然降血压药 (the goods called a drug) is a claim
_DRUG_AFTER = re.compile(r"药")
_TAKING_BEFORE = re.compile(r"服用|使用|服|吃|停用|正在|配合|联用|同服|合用")
_CAUTION_AFTER = re.compile(r"慎用|慎食|遵医嘱|医生|勿|禁用|禁食|不宜|忌")
#: diseases a claim names in a phrase of its own (治风湿, 关节炎克星, 预防手足口病; kills cancer
#: cells, treats anxiety and depression, protects your baby from cancer): the lexicon lists
#: words, a claim is a verb and a disease. Not hair loss or grey hair (special cosmetics' uses,
#: rows of their own), colds (protects from cold: the weather), cholesterol (the EU authorises
#: "plant sterols have been shown to lower blood cholesterol"), germs or viruses (a disinfectant
#: kills them) or bare fungus (a shoe spray); "the fight against COVID" is a cause, not a claim
_DISEASE_ZH = (
    "类风湿|风湿|关节炎|过敏性鼻炎|鼻窦炎|鼻炎|咽炎|胃炎|肠炎|肝炎|肾炎|皮炎|湿疹|牛皮癣|银屑病|荨麻疹"
    "|白癜风|脚气|灰指甲|失眠|糖尿病|高血压|高血脂|高血糖|三高|痛风|颈椎病|腰椎病|腰间盘突出|椎间盘突出"
    "|骨质增生|骨质疏松|口腔溃疡|痔疮|哮喘|便秘|前列腺炎|妇科炎症|宫颈炎|阴道炎|手足口病|乳腺增生"
    "|甲状腺结节|癌症|肿瘤|痤疮|静脉曲张|老寒腿|中耳炎|肾结石|胆结石|贫血|抑郁症|焦虑症|老年痴呆"
    "|帕金森|心脑血管疾病|心脑血管病|脑梗|心梗|冠心病|弱视|白内障|青光眼|流感|感冒"
    # 中风 but not 中风险 (a medium-risk area); 近视 but not 近视眼镜/度数 (the glasses for it)
    "|中风(?!险)|近视(?!眼镜|度数|镜片|镜|看不清)"
)
_DISEASE_EN = (
    r"cancer(?: cells)?|tumou?rs?|diabetes|arthritis|asthma|allergies|depression"
    r"|(?<!cabin )(?<!range )(?<!spring )(?<!size )(?<!test )(?<!exam )(?<!travel )(?:anxiety|fever)"
    # infections of the body only: a PC's malware and a tomato's fungus are none
    r"|(?:urinary tract|yeast|ear|sinus|skin|chest|bladder|kidney) infections?|hypertension"
    r"|high blood pressure|blood pressure|blood sugar(?! rise)|eczema|psoriasis|acne|insomnia"
    r"|alopecia|flu(?! virus)|influenza(?! (?:a|b)\b| virus)|covid-19(?! virus)|covid(?!-19| virus)|the common cold|herpes|cold sores?|gout"
    r"|migraines?|dementia|alzheimer's|adhd|ibs|ha?emorrhoids|tinnitus|nail fungus|athlete's foot"
    r"|warts|rosacea|osteoporosis|obesity|sciatica|fibromyalgia|neuropathy|rheumatism|sinusitis"
    r"|bronchitis|ulcers?|constipation|candida|utis?|hepatitis|heart disease"
    r"|(?<!brush )(?<!paint )stroke(?!s? per)"
    r"|kidney stones"
)
#: ... said of a noun, not of the disease (acne-prone skin, blood pressure readings, diabetes
#: diets, cancer patients, flu season)
_NOT_THE_DISEASE = r"(?![- ](?:prone|friendly|patients?'?|readings?|diets?|season|safe|viruses?)\b)"
DISEASE_PHRASE = re.compile(
    rf"(?:治疗|根治|治好|医治|专治|主治|预防|防治|远离|告别|缓解|消除)"
    # 治好多年的风湿, 缓解咳嗽哮喘
    rf"(?:[\u4e00-\u9fff]{{1,4}}的|[\u4e00-\u9fff]{{1,2}})?(?:{_DISEASE_ZH})"
    rf"|治(?:{_DISEASE_ZH})"
    rf"|(?:{_DISEASE_ZH})(?:克星|一扫光|不见了|断根|除根)"
    # the goods' verb, not a cause's (helps fight breast cancer, the fight against COVID: see
    # _A_CAUSE) nor an idiom's (beat cabin fever)
    r"|(?<![\w-])(?:treats?|cures?|heals?|reverses?|prevents?|(?<!the )(?<!a )(?<!our )(?<!who )fights?"
    r"|kills?|relieves?|lowers?|(?<!may )reduces?(?: the risk of)?|eliminates?|eases?|combats?|stops?"
    r"|gets? rid of|protects? (?:[a-z']+ ){0,2}?from|protection from)"
    rf" (?:[a-z']+ ){{0,2}}?(?:{_DISEASE_EN}){_NOT_THE_DISEASE}\b"
)
#: a cause the goods support, not a claim (10% of proceeds donated to help fight breast cancer),
#: a warning about medicines (Do not use if you are taking medication to lower blood pressure),
#: a child's pretend play (过家家给娃娃治感冒)
_A_CAUSE = re.compile(
    r"donat|proceeds|charity|fundrais|awareness|survivor|research|nobody fights alone"
    r"|together we fight|(?:her|his|their|my|our) fight"
)
_MEDICINE_BEFORE = re.compile(
    r"(?:medications?|medicines?|drugs?|tablets|pills)(?: (?:used|taken|prescribed))? (?:to|that|for) $"
)
_PRETEND = re.compile(r"过家家|角色扮演|\bpretend\b|role play")
#: a medicine's side effects are no claim of the goods (side effects include lower blood pressure)
_SIDE_EFFECTS = re.compile(r"side effects?|副作用|不良反应")
#: the words every DISEASE_PHRASE match holds one of (pattern_gates.csv has each: a test holds it)
DISEASE_GATES = tuple(w for w in re.sub(r"\(\?!.*?\)", "", _DISEASE_ZH).split("|")) + (
    "cancer",
    "tumor",
    "tumour",
    "diabetes",
    "arthritis",
    "asthma",
    "allergies",
    "anxiety",
    "depression",
    "infection",
    "infections",
    "hypertension",
    "blood pressure",
    "blood sugar",
    "eczema",
    "psoriasis",
    "acne",
    "insomnia",
    "alopecia",
    "fever",
    "flu",
    "influenza",
    "covid",
    "common cold",
    "herpes",
    "cold sore",
    "cold sores",
    "gout",
    "migraine",
    "migraines",
    "dementia",
    "alzheimer's",
    "adhd",
    "ibs",
    "hemorrhoids",
    "haemorrhoids",
    "tinnitus",
    "nail fungus",
    "athlete's foot",
    "warts",
    "rosacea",
    "osteoporosis",
    "obesity",
    "sciatica",
    "fibromyalgia",
    "neuropathy",
    "rheumatism",
    "sinusitis",
    "bronchitis",
    "ulcer",
    "ulcers",
    "constipation",
    "candida",
    "hepatitis",
    "heart disease",
    "stroke",
    "strokes",
    "kidney stones",
    "uti",
    "utis",
    "tumors",
    "tumours",
)
_DISEASE_KEYS = frozenset(normalise(g).text.strip() for g in DISEASE_GATES)
_DISEASE_NEEDS = re.compile(
    "|".join(map(re.escape, sorted(set(DISEASE_GATES), key=len, reverse=True)))
)

#: how far back :func:`_negated` reads a negation's clause
_CLAUSE_REACH = 120
# ... and not as a condition (patterns.CONDITION): a guarantee (If it doesn't cure your nail
# fungus, full refund; 如果不能降血糖，无条件退款)


#: what joins two claims of one list (降血压、降血脂; 降血压和降血脂; 降血压降血脂)
#: (never a comma: 本品不能根治，缓解鼻炎效果非常明显 denies one thing and claims another)
_LISTED = re.compile(r"\s?(?:[、/]|和|及|与|或|以及|and|or)?\s?")


def _disease_phrases(nt, gates: frozenset[str] | None = None) -> list[Hit]:
    """The claims of :data:`DISEASE_PHRASE` in a normalised text (none without a disease's word:
    ``gates``, the prepared text's pattern gates, or a search when they are not known)."""
    text = nt.text
    if gates is not None and gates.isdisjoint(_DISEASE_KEYS):
        return []
    if gates is None and not _DISEASE_NEEDS.search(text):
        return []
    out = []
    cause = _A_CAUSE.search(text) is not None
    if _PRETEND.search(text):
        return out
    for m in DISEASE_PHRASE.finditer(text):
        if cause and m.group().startswith(("fight", "beat")):
            continue
        if _MEDICINE_BEFORE.search(text, max(0, m.start() - 32), m.start()):
            continue
        if _SIDE_EFFECTS.search(text, max(0, m.start() - 40), m.start()):
            continue
        os_, oe = nt.span(m.start(), m.end())
        out.append(Hit("TEXT002", "disease_claim", m.group(), m.start(), m.end(), os_, oe))
    return out


def _clause_around(text: str, h: Hit) -> tuple[str, str]:
    """The words of claim ``h``'s clause before it and after it (a bounded way each side)."""
    since = clause_start(text, h.start, _CLAUSE_REACH)
    end = CLAUSE_END.search(text, h.end, h.end + _CLAUSE_REACH)
    return text[since : h.start], text[h.end : end.start() if end else h.end + _CLAUSE_REACH]


def _gap(nt, start: int, end: int) -> bool:
    """Whether the normaliser removed something between normalised offsets ``start`` < ``end``
    (a space the writer left between two phrases of a title)."""
    return end > start and not nt.joined(start, end)


def _drug_in_a_caution(nt, h: Hit) -> bool:
    """Whether claim ``h`` names a drug in a caution (正在服用降糖药物者慎用), not the goods: 药 right
    after it (not the next phrase's: 好吃 降三高 药食同源), and the taking of it a few words before
    it or a caution after it in its clause."""
    text = nt.text
    if not _DRUG_AFTER.match(text, h.end) or _gap(nt, h.end - 1, h.end):
        return False
    before, after = _clause_around(text, h)
    return bool(_TAKING_BEFORE.search(before[-8:]) or _CAUTION_AFTER.search(after))


def _negated(text: str, h: Hit, nt=None) -> bool:
    """Whether claim ``h`` is negated right before it, of the goods, not as a condition (and,
    given the normalised text, with no space the writer left between them)."""
    m = _NEGATED.search(text, max(0, h.start - 16), h.start) or _NOT_INTENDED.search(
        text, max(0, h.start - 64), h.start
    )
    if not m or (nt is not None and m.end() > 0 and _gap(nt, m.end() - 1, h.start)):
        return False
    # the goods named right before the negation (本品不能, this soap does not), not anywhere in
    # its sentence (【产品介绍】医院无法根治的湿疹; Doctors say they can't cure: someone else's)
    # (a clause is read a bounded way back: a long text costs each claim the same)
    clause = text[clause_start(text, m.start(), _CLAUSE_REACH) : m.start()]
    # 不具有/不具备 (has no …) is said of the goods whatever the clause names (叶黄素 不具有降三高作用)
    # and so is "not intended to" (the supplement disclaimer's words, always said of the goods)
    of_goods = m.group().startswith(("不具有", "不具备", "not intended")) or _GOODS.search(clause)
    return bool(of_goods) and not CONDITION.search(clause)


@register
class MedicalClaims(ContentCheck):
    code = "TEXT002"
    name = "medical-claims-for-non-medical-goods"
    title = "Medical or efficacy claims the goods may not make"
    severity = "high"
    rule = "only drugs and medical devices may refer to treating disease; no guaranteed efficacy"
    parameters = (
        Parameter(
            "medical_categories",
            ["drug", "medical_device"],
            "listing categories that may state the disease they treat",
            basis="law",
        ),
        _kinds_param(TEXT_KINDS_ALL, "text kinds read"),
        _EXTRA,
    )
    doc = CheckDoc(
        what=(
            "Finds texts that claim to treat, cure or prevent disease (治愈失眠, 降血压, 抗癌, "
            "cures eczema, and a verb with a disease: 治风湿, 关节炎克星, 预防手足口病, treats anxiety, "
            "protects your baby from cancer) for goods whose listing category may not make such claims (food, "
            "health food, cosmetics, apparel), and efficacy guarantees (包治百病, 治愈率) for any "
            "goods. The category comes from the text's listing. 防治 of crop pests, weeds and "
            "plant diseases (防治蚜虫, 防治水稻病虫害, 杀菌剂 防治葡萄霜霉病) is a pesticide's "
            "wording, not a disease claim."
        ),
        why=(
            "Advertising Law Art. 17 allows only medical, drug and medical-device advertising to "
            "refer to treating disease; Art. 18 bars health food from claiming to prevent or "
            "treat disease; Art. 16 bars even drugs and devices from guaranteeing efficacy."
        ),
        example="A honey listing saying '每天一勺，降血压' (TEXT002: 降血压 for food).",
    )

    def decide(
        self, prep: Prepared, kind: str | None, category: str | None, params: dict[str, Any]
    ) -> list[Hit]:
        """A disease claim unless the listing's category may state indications; a guarantee of
        efficacy (or any claim a lexicon row bars outside its allowed categories) whatever it is.
        No listing, no exemption."""
        medical = set(params.get("medical_categories") or ())
        claims = []
        text = prep.nt.text
        words = lexicon_hits(prep, self.code)
        # a verb and a disease the lexicon does not list (治风湿, treats anxiety), read as its words
        words += [
            h
            for h in _disease_phrases(prep.nt, prep.gates)
            if not any(o.start < h.end and h.start < o.end for o in words)
        ]
        for h in words:
            if (
                h.term in ("cure", "cures")
                and _SETS.match(text, h.end)
                and _SETTING.search(text, max(0, h.start - 80), h.end + 80)
            ):
                continue  # a gel or resin that cures in 60 seconds under a lamp: it sets
            if h.term.startswith("treats ") and _TREATS_NOUN.search(
                text, max(0, h.start - 16), h.start
            ):
                continue  # a pet's treats, not a treatment
            if h.category == "disease_claim" and _drug_in_a_caution(prep.nt, h):
                continue  # a drug named in a caution: 正在服用降糖药物者请遵医嘱
            if h.term == "防治" and _crop_pest().match(text, h.end):
                # a pesticide's crop and pest (防治水稻病虫害), as the allow rows read 防治蚜虫;
                # what follows it is judged with them, below
                continue
            allowed = set(h.allowed_categories)
            if h.category == "disease_claim":
                allowed |= medical
            if category is None or category not in allowed:
                claims.append(h)
        if category is None or category not in medical:
            claims += self._pest_control_reaching_a_body(prep, claims)
        # a guarantee written as a number and a result (一盒见效, 三天即愈, 100%有效): never allowed
        claims += [
            h for h in efficacy_hits(prep.nt) if not any(o.start <= h.start < o.end for o in claims)
        ]
        claims.sort(key=lambda h: (h.start, h.end))
        negated: list[Hit] = []
        for h in claims:
            # a claim listed right after a negated one is negated with it (不具有降血压降血脂功效)
            # (never across a space the writer left: 本品不能代替药物 降血压降血脂 is the warning
            # health food must print, then a claim)
            follows = (
                negated
                and negated[-1].category == "negated"
                and _LISTED.fullmatch(text, negated[-1].end, h.start) is not None
                and not _gap(prep.nt, negated[-1].end - 1, h.start)
            )
            denied = follows or _negated(text, h, prep.nt)
            negated.append(replace(h, category="negated") if denied else h)
        # a claim in the title of a work sold (《告别失眠》 a book) names the work
        titles = titles_of_works(text)
        claims = [
            replace(h, category="title_of_work")
            if h.category != "negated" and any(s <= h.start and h.end <= e for s, e in titles)
            else h
            for h in negated
        ]
        return sorted(claims, key=lambda h: (h.start, h.end))

    def grade(self, hits: list[Hit]) -> tuple[str | None, str | None]:
        """Low when every claim is negated right before it (本品为普通食品，不具有降血糖作用;
        化妆品不能消炎): the text says the goods do not do it."""
        if hits and all(h.category == "negated" for h in hits):
            return "low", (
                "every claim is negated where it is written (不具有降血糖作用, 不能消炎, does not "
                "cure): most likely a notice that the goods make no such claim"
            )
        if hits and all(h.category in ("negated", "title_of_work") for h in hits):
            return "low", (
                "every claim is negated where it is written or sits in the title of a work sold "
                "(《告别失眠》, a book): most likely not a claim about the goods"
            )
        return None, None

    def _pest_control_reaching_a_body(self, prep: Prepared, claims: list[Hit]) -> list[Hit]:
        """防治 read as pest control (an allow row: 防治蚜虫, 病虫害防治; or a crop's pest:
        防治水稻病虫害) is a claim after all when a disease of people or animals follows it in the same
        text: the pest beside it does not cover what the 防治 goes on to (防治锈病和糖尿病, 防治
        根腐病、猪鸡腹泻, a reviewer's texts)."""
        text = prep.nt.text
        taken = {h.start for h in claims}
        found = []
        for m in re.finditer("防治", text):
            if m.start() in taken:
                continue
            beside = _plant_words().match(text, m.end()) or _crop_pest().match(text, m.end())
            before = _plant_before().search(text, 0, m.start())
            if not (beside or before):
                continue  # not pest control: the lexicon's own hit (or its allow row) decides
            if _BODY.search(_plant_words().sub("", text[m.end() :])):
                ostart, oend = prep.nt.span(m.start(), m.end())
                found.append(
                    Hit(self.code, "disease_claim", "防治", m.start(), m.end(), ostart, oend)
                )
        return found
