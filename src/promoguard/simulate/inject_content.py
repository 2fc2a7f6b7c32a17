"""Content injections: TEXT001-006 and REVIEW002 in merchant texts, REVIEW001/002 in reviews.

Each injected phrase is drawn from the pools below (documented in docs/simulator.md), so a check
engineer can see exactly which surface forms -- including evasions -- the labels cover.
"""

from __future__ import annotations

import numpy as np

# TEXT001: absolute / superlative terms (Advertising Law art. 9(3)), with evasions
TEXT001_ZH = (
    "最好",
    "最佳",
    "第一品牌",
    "国家级",
    "最高级",
    "顶级",
    "极品",
    "全网最低",
    "销量第一",
    "最*好",
    "最 好",
    "最　佳",
    "全网最　低",
    "ＮＯ．１",
)
TEXT001_EN = ("best ever", "No.1", "#1 in the world", "the best in the world", "N0.1 brand")
# TEXT002: medical / efficacy claims for goods that may not make them
TEXT002_ZH = ("治愈失眠", "根治脱发", "抗癌", "降血压", "包治百病", "降血糖", "治疗湿疹")
TEXT002_EN = ("cures insomnia", "prevents cancer", "lowers blood pressure", "cures eczema")
# TEXT003: prohibited items offered
TEXT003_ZH = ("仿真枪", "管制刀具", "迷药", "窃听器", "气枪铅弹", "电击器")
TEXT003_EN = ("gun silencer", "stun gun", "listening bug", "knockout drops")
# TEXT004: lure off-platform (contact or payment)
TEXT004_ZH = (
    "加微信 {w} 领优惠",
    "V信：{w}",
    "薇信 {w} 私聊",
    "加QQ {q} 更便宜",
    "私下转账可以再便宜",
    "点击 t.cn/{s} 领券",
    "加vx {w} 返现",
    "详情见 dwz.cn/{s}",
)
TEXT004_EN = (
    "add me on WeChat {w} for a better price",
    "pay by bank transfer outside the platform",
    "cheaper via WhatsApp, message me",
    "details at bit.ly/{s}",
)
# REVIEW002: rewards for good reviews
REVIEW002_ZH = (
    "好评返现",
    "晒图返现5元",
    "五星好评返5元",
    "五星好评送小礼品",
    "好评截图找客服领红包",
)
REVIEW002_EN = (
    "leave a 5-star review and get a refund of 5 yuan",
    "5-star review = cashback",
    "post a photo review for a gift",
)
# TEXT006: live-stream comparison without a base, or urgency
TEXT006_ZH = (
    "比原价便宜一半！",
    "直降500！",
    "今天立减300！",
    "最后三单！",
    "仅剩2件，手慢无！",
    "库存告急，只剩5单！",
    "比平时便宜一半！",
)
TEXT006_EN = (
    "half the usual price!",
    "only 2 left!",
    "last 3 units, hurry!",
    "300 off today only!",
)

TEXT002_CATEGORIES = ("food", "health_food", "cosmetics", "apparel")
REVIEW001_TEMPLATES_ZH = (
    "这款{n}真的太好用了，{a}，已经推荐给{w}了，下次活动还会再来买，五颗星推荐给大家！",
    "收到货第一时间就试了，{n}质量{a}，包装也很用心，{w}都说好，强烈推荐这家店铺！",
)
REVIEW001_TEMPLATES_EN = (
    "This {n} is absolutely amazing, {a}, I already recommended it to {w} and will buy again next sale!",
    "Received it yesterday and tried it at once, the {n} is {a}, {w} love it too, highly recommend this shop!",
)
R001_A_ZH = ("超级好", "非常好", "特别好", "真的好", "很不错")
R001_W_ZH = ("朋友", "家人", "同事", "闺蜜", "室友")
R001_A_EN = ("super good", "really great", "very nice", "excellent", "so good")
R001_W_EN = ("my friends", "my family", "my colleagues", "my sister", "my roommates")


def _pick(rng: np.random.Generator, pool: tuple[str, ...]) -> str:
    return pool[int(rng.integers(len(pool)))]


def resident_id(rng: np.random.Generator, valid: bool) -> str:
    """An 18-character PRC resident ID; ``valid`` decides whether the GB 11643 check digit is right."""
    region = _pick(rng, ("110101", "310104", "440305", "330106", "510107", "420106"))
    birth = f"{int(rng.integers(1960, 2005))}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    body = region + birth + f"{int(rng.integers(0, 1000)):03d}"
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * k for c, k in zip(body, w, strict=True)) % 11]
    if not valid:
        check = "10X98765432"[("10X98765432".index(check) + 1 + int(rng.integers(0, 9))) % 11]
    return body + check


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def card_number(rng: np.random.Generator, valid: bool) -> str:
    """A 16-digit bank card number (UnionPay 62 prefix) that passes Luhn iff ``valid``."""
    body = "62" + "".join(str(int(d)) for d in rng.integers(0, 10, 13))
    for last in "0123456789":
        if luhn_ok(body + last) == valid:
            return body + last
    raise AssertionError("unreachable")


def mobile(rng: np.random.Generator) -> str:
    return (
        "1" + str(int(rng.integers(3, 10))) + "".join(str(int(d)) for d in rng.integers(0, 10, 9))
    )


def order_number(rng: np.random.Generator) -> str:
    """A 16-digit order number that fails Luhn and contains no 1[3-9]xxxxxxxxx run (hard negative)."""
    while True:
        s = "2026" + "".join(str(int(d)) for d in rng.integers(0, 10, 12))
        import re

        if not luhn_ok(s) and not re.search(r"1[3-9]\d{9}", s):
            return s


def _handle(rng: np.random.Generator) -> dict[str, str]:
    letters = "abcdefghjkmnpqrstuvwxyz"
    w = "".join(letters[int(i)] for i in rng.integers(0, len(letters), 4)) + str(
        int(rng.integers(100, 9999))
    )
    return {
        "w": w,
        "q": str(int(rng.integers(10_000_000, 999_999_999))),
        "s": "".join(letters[int(i)] for i in rng.integers(0, len(letters), 6)),
    }


#: real mail providers (a check must not rely on a placeholder domain)
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com")


def phrase(rng: np.random.Generator, code: str, lang: str) -> tuple[str, set[str]]:
    """One violating phrase for ``code`` and the set of codes it carries."""
    zh = lang == "zh"
    if code == "TEXT001":
        return _pick(rng, TEXT001_ZH if zh else TEXT001_EN), {code}
    if code == "TEXT002":
        return _pick(rng, TEXT002_ZH if zh else TEXT002_EN), {code}
    if code == "TEXT003":
        item = _pick(rng, TEXT003_ZH if zh else TEXT003_EN)
        return (f"另有{item}出售，需要私聊。" if zh else f"We also sell {item}, ask us."), {code}
    if code == "TEXT004":
        return _pick(rng, TEXT004_ZH if zh else TEXT004_EN).format(**_handle(rng)), {code}
    if code == "TEXT005":
        kind = int(rng.integers(4))
        if kind == 0:
            v = resident_id(rng, True)
            return (f"收件人身份证号 {v}" if zh else f"ID number {v}"), {code}
        if kind == 1:
            v = card_number(rng, True)
            return (f"退款请打到这张卡 {v}" if zh else f"refund to card {v}"), {code}
        if kind == 2:
            name = "".join("abcdefgh"[int(i)] for i in rng.integers(0, 8, 6))
            domain = _pick(rng, EMAIL_DOMAINS)
            return (f"买家邮箱 {name}@{domain}" if zh else f"buyer email {name}@{domain}"), {code}
        # a mobile number in a chat is also a lure off the platform (TEXT004)
        return (f"收件人电话 {mobile(rng)}" if zh else f"recipient phone {mobile(rng)}"), {
            code,
            "TEXT004",
        }
    if code == "REVIEW002":
        return _pick(rng, REVIEW002_ZH if zh else REVIEW002_EN), {code}
    if code == "TEXT006":
        return _pick(rng, TEXT006_ZH if zh else TEXT006_EN), {code}
    raise ValueError(code)


def invalid_resident_id(rng: np.random.Generator) -> str:
    """An 18-digit ID with a wrong check digit that also fails Luhn (so no card rule fires)."""
    while True:
        v = resident_id(rng, False)
        # the digit run a card rule sees: all 18 digits, or the 17 before a trailing X
        if not luhn_ok(v[:17] if v.endswith("X") else v):
            return v


def hard_negative(rng: np.random.Generator, lang: str, category: str) -> str:
    """A legitimate phrase that a careless check would flag."""
    from promoguard.simulate.texts import (
        HN_ZH,
        HN_ZH_BY_CATEGORY,
        HN_ZH_KNIFE,
        HN_ZH_PLATFORM,
        HN_ZH_TOYS,
    )

    k = int(rng.integers(7))
    if k >= 5 and lang == "zh":
        special = HN_ZH_BY_CATEGORY.get(category)
        if k == 6 and special:
            return _pick(rng, special)
        return _pick(rng, HN_ZH_PLATFORM)
    if k == 0:
        return f"订单号 {order_number(rng)}" if lang == "zh" else f"order no. {order_number(rng)}"
    if k == 1:
        return (
            f"证件号 {invalid_resident_id(rng)} 已作废"
            if lang == "zh"
            else f"voided reference {card_number(rng, False)}"
        )
    if category == "toys" and lang == "zh":
        return HN_ZH_TOYS[0]
    if category == "home" and lang == "zh":
        return HN_ZH_KNIFE[0]
    if lang == "zh":
        return _pick(rng, HN_ZH)
    return _pick(
        rng, ("First time joining Double 11.", "Latest model, top zipper.", "Recently restocked.")
    )


def review001_group(rng: np.random.Generator, lang: str, noun: str, k: int) -> list[str]:
    """k near-duplicate review texts: one template, small word swaps."""
    tpl = _pick(rng, REVIEW001_TEMPLATES_ZH if lang == "zh" else REVIEW001_TEMPLATES_EN)
    a_pool, w_pool = (R001_A_ZH, R001_W_ZH) if lang == "zh" else (R001_A_EN, R001_W_EN)
    out = []
    for _ in range(k):
        t = tpl.format(n=noun, a=_pick(rng, a_pool), w=_pick(rng, w_pool))
        if rng.random() < 0.5:
            t = t.rstrip("！!") + ("~" if rng.random() < 0.5 else "!!")
        out.append(t)
    return out
