"""Honest merchant texts (titles, descriptions, ads, live-stream transcripts, chats) and reviews.

Every honest fragment here was chosen to contain none of the injected patterns; the hard
negatives (words that contain characters of banned terms, numbers that fail their checksums)
are added on purpose by ``hard_negative_*``.
"""

from __future__ import annotations

import numpy as np

from promoguard.simulate.world import BRANDS, CATEGORIES

ZH_TITLE_TAGS = ("【双11】", "【预售】", "【新品】", "【官方旗舰】", "", "", "【包邮】")
ZH_ATTRS = (
    "轻薄款",
    "加厚款",
    "经典款",
    "2026新款",
    "大容量",
    "家庭装",
    "礼盒装",
    "便携款",
    "升级版",
)
EN_ATTRS = (
    "lightweight",
    "classic",
    "2026 edition",
    "family pack",
    "gift box",
    "portable",
    "upgraded",
)
ZH_DESC = (
    "支持七天无理由退货。",
    "下单后48小时内发货。",
    "详情请咨询在线客服。",
    "本店商品均为正品。",
    "包装简约环保。",
    "颜色以实物为准。",
    "尺码请参考详情页尺码表。",
    "收到后请检查外包装。",
    "保质期见包装。",
    "使用前请阅读说明书。",
    "节日期间物流可能稍慢，敬请谅解。",
    "欢迎收藏店铺。",
)
EN_DESC = (
    "Free returns within 7 days.",
    "Ships within 48 hours of payment.",
    "Contact customer service for details.",
    "Genuine product.",
    "Eco-friendly packaging.",
    "Colours may vary slightly from photos.",
    "Please read the manual before use.",
    "Deliveries may be slower during the festival.",
)
ZH_AD = (
    "双11狂欢，{brand}{noun}限时优惠！",
    "{brand}{noun}，品质生活好选择。",
    "{brand}新品{noun}上市，欢迎选购。",
    "关注{brand}店铺，领取双11优惠券。",
)
EN_AD = (
    "Double 11 deals on {brand} {noun}!",
    "{brand} {noun}: quality for every day.",
    "New {brand} {noun} now in store.",
    "Follow {brand} for Double 11 coupons.",
)
ZH_LIVE = (
    "欢迎来到{brand}直播间，",
    "今天给大家介绍这款{noun}，",
    "家人们看一下这个做工，",
    "原价{ref}元，今天直播间{price}元，",
    "原价{ref}元，直降{cut}元，到手{price}元，",
    "点击下方小黄车就可以下单，",
    "有问题可以在评论区留言，",
    "这款{noun}我自己也在用，",
    "喜欢的话点个关注，",
    "尺码不确定的可以问客服，",
)
EN_LIVE = (
    "Welcome to the {brand} live room, ",
    "today we have this {noun}, ",
    "look at the finish, ",
    "regular price {ref} yuan, today {price} yuan in the live room, ",
    "tap the cart below to order, ",
    "ask your questions in the comments, ",
)
ZH_CHAT = (
    "亲，您的订单已经安排发货了。",
    "亲，尺码建议选大一码。",
    "您好，这款有现货的。",
    "亲，快递一般三到五天送达。",
    "好的，已为您备注。",
    "亲，收到货有问题随时联系我们。",
    "您好，支持七天无理由退货的。",
    "亲，双11当天付款的订单会按顺序发出哦。",
)
EN_CHAT = (
    "Hi, your order has been dispatched.",
    "Hi, we suggest one size up.",
    "Yes, this is in stock.",
    "Delivery usually takes 3-5 days.",
    "Noted, thanks!",
    "Contact us anytime if there is a problem.",
)
ZH_REVIEW = (
    "质量不错",
    "物流很快",
    "包装很好",
    "和描述一致",
    "性价比高",
    "颜色好看",
    "尺码合适",
    "味道不错",
    "用了几天感觉还可以",
    "客服态度好",
    "第二次购买了",
    "送朋友的，朋友很喜欢",
    "有点小瑕疵但能接受",
    "比想象中小一点",
    "发货有点慢",
    "做工一般",
    "还会回购",
    "双11价格划算",
    "孩子很喜欢",
    "家里人都说好",
)
EN_REVIEW = (
    "good quality",
    "fast delivery",
    "well packed",
    "as described",
    "good value",
    "nice colour",
    "fits well",
    "tastes good",
    "works fine after a week",
    "friendly service",
    "bought it again",
    "smaller than expected",
    "shipping was slow",
    "would buy again",
)
ZH_BAD_REVIEW = ("质量很差", "和图片不一样", "用了两天就坏了", "不推荐", "退货了")
EN_BAD_REVIEW = ("poor quality", "not like the photos", "broke after two days", "not recommended")

#: Hard negatives: legitimate words containing characters of banned terms (TEXT001/TEXT002/TEXT003/
#: TEXT006), and numbers that look like ID/card/phone numbers but fail their checks (TEXT005).
HN_ZH = (
    "最近很多顾客回购。",
    "这是我们店第一次参加双11。",
    "首先感谢大家的支持。",
    "顶部有拉链设计。",
    "同款在唯品会也有售。",
    "最后提醒大家注意查收。",
    "活动第一天发货较多。",
)
#: honest mentions that a keyword rule for off-platform lures (TEXT004) or for review rewards
#: (REVIEW002, 返现) would flag: the platform's own payment options and customer service, music
#: apps, platform or card-issuer rebates that have nothing to do with reviews
HN_ZH_PLATFORM = (
    "支持微信支付和支付宝。",
    "本平台支持微信付款，下单更方便。",
    "售后问题请联系平台官方客服。",
    "平台满300返现30元，可与店铺券叠加。",
    "使用指定银行信用卡支付满200返现20元（以发卡行规则为准）。",
    "上市以来好评如潮。",
)
#: per-category honest products whose names contain a banned-goods keyword (TEXT003); only goods
#: that are plainly lawful to sell: a bullet-shaped lipstick, an overt baby monitor (a covert
#: eavesdropping device, 窃听器, is not)
HN_ZH_BY_CATEGORY = {
    "cosmetics": ("经典子弹头口红，显色持久。",),
    "electronics": ("婴儿监听器，宝宝哭闹及时提醒。", "支持QQ音乐、网易云音乐一键连接。"),
}
HN_ZH_TOYS = ("治愈系毛绒设计，摆在床头很可爱。",)
HN_ZH_KNIFE = ("厨房刀具请放在儿童够不到的地方。",)


def pick(rng: np.random.Generator, pool: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(pool, dtype=object)[rng.integers(0, len(pool), n)]


def yuan(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


def noun(cat: int, idx: int, lang: str) -> str:
    c = CATEGORIES[cat]
    words = c.zh if lang == "zh" else c.en
    return words[idx % len(words)]


def title(rng: np.random.Generator, cat: int, idx: int, brand: int, lang: str) -> str:
    if lang == "zh":
        return (
            f"{ZH_TITLE_TAGS[rng.integers(len(ZH_TITLE_TAGS))]}{BRANDS[brand]}{noun(cat, idx, 'zh')} "
            f"{ZH_ATTRS[rng.integers(len(ZH_ATTRS))]}"
        )
    return f"{BRANDS[brand]} {noun(cat, idx, 'en')} {EN_ATTRS[rng.integers(len(EN_ATTRS))]}"


def description(rng: np.random.Generator, cat: int, idx: int, brand: int, lang: str) -> str:
    k = int(rng.integers(2, 5))
    if lang == "zh":
        body = "".join(rng.choice(ZH_DESC, size=k, replace=False))
        return f"{BRANDS[brand]}{noun(cat, idx, 'zh')}。{body}"
    return f"{BRANDS[brand]} {noun(cat, idx, 'en')}. " + " ".join(
        rng.choice(EN_DESC, size=k, replace=False)
    )


def ad(rng: np.random.Generator, cat: int, idx: int, brand: int, lang: str) -> str:
    pool = ZH_AD if lang == "zh" else EN_AD
    return pool[rng.integers(len(pool))].format(brand=BRANDS[brand], noun=noun(cat, idx, lang))


def livestream(
    rng: np.random.Generator, cat: int, idx: int, brand: int, lang: str, price: int, ref: int
) -> str:
    pool = ZH_LIVE if lang == "zh" else EN_LIVE
    if ref <= price:  # "直降 N" needs a real cut from the stated base
        pool = tuple(x for x in pool if "{cut}" not in x)
    k = min(int(rng.integers(4, 7)), len(pool) - 1)
    parts = list(rng.choice(pool[1:], size=k, replace=False))
    text = pool[0] + "".join(parts)
    return text.format(
        brand=BRANDS[brand],
        noun=noun(cat, idx, lang),
        ref=yuan(ref),
        price=yuan(price),
        cut=yuan(max(ref - price, 0)),
    )


def chat(rng: np.random.Generator, lang: str) -> str:
    pool = ZH_CHAT if lang == "zh" else EN_CHAT
    return " ".join(rng.choice(pool, size=int(rng.integers(1, 3)), replace=False))


def review_text(rng: np.random.Generator, lang: str, bad: bool) -> str:
    if lang == "zh":
        pool = ZH_BAD_REVIEW if bad else ZH_REVIEW
        k = int(rng.integers(1, 4))
        return "，".join(rng.choice(pool, size=min(k, len(pool)), replace=False)) + "。"
    pool = EN_BAD_REVIEW if bad else EN_REVIEW
    k = int(rng.integers(1, 3))  # at most 2 phrases: honest reviews stay under 50 characters
    s = ", ".join(rng.choice(pool, size=min(k, len(pool)), replace=False))
    return s[0].upper() + s[1:] + "."
