"""Consumer alert drafts (消费提示): plain words about the season's most common abuses.

One draft per kind of abuse among the most frequent findings, in Chinese and English, written for
shoppers (what happened, how to spot it, what to do), never naming a merchant: a draft is for a
bureau to review and publish, and names belong in enforcement, not in an automatic text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: theme -> (check-code prefixes, zh title, zh text, en title, en text)
THEMES: tuple[tuple[str, tuple[str, ...], str, str, str, str], ...] = (
    (
        "fake-discounts",
        ("PRICE",),
        "警惕“先涨后降”的虚假折扣",
        "部分商品在促销前抬高价格，再以“原价”“划线价”标出大幅折扣。下单前请查看商品近期成交价或价格走势，"
        "不要只看划线价和折扣比例。发现虚构原价，可向平台投诉，或拨打12315举报。",
        "Beware of fake discounts: prices raised first, then 'cut'",
        "Some goods were priced up before the sale and then shown with a large discount from a "
        "'was' price they never sold at. Before you buy, look at the recent selling price or the "
        "price history, not only the struck-through price. Report a made-up 'was' price to the "
        "platform or to 12315.",
    ),
    (
        "coupons",
        ("COUPON",),
        "看清优惠券和满减的使用条件",
        "有的优惠券门槛、适用范围或有效期在结算时才出现，或与宣传不一致；“到手价”也可能无法实际达到。"
        "结算前请核对最终支付金额，保存页面截图，遇到不兑现的优惠可要求平台处理。",
        "Read the coupon conditions before you pay",
        "Some coupon thresholds, scopes or validity dates only appeared at checkout, or differed "
        "from what was advertised, and some 'final prices after coupons' could not be reached. "
        "Check the amount you actually pay, keep a screenshot, and ask the platform to honour a "
        "coupon that was not applied.",
    ),
    (
        "delivery",
        ("SHIP", "PARCEL"),
        "留意“已发货”却迟迟没有物流信息",
        "部分订单显示已发货，但快递迟迟没有揽收，或物流轨迹异常、包裹为空。请关注物流更新，"
        "超过承诺时间未发货或未送达，可以申请退款并向平台投诉。",
        "Watch for orders 'shipped' with no parcel moving",
        "Some orders were marked as shipped although no carrier picked them up, the tracking was "
        "impossible, or the parcel was empty. Follow the tracking; if the goods were not sent or "
        "delivered by the promised time, ask for a refund and complain to the platform.",
    ),
    (
        "fake-reviews",
        ("BRUSH", "REVIEW"),
        "销量和好评可能是刷出来的",
        "部分店铺存在刷单、雷同评价或“好评返现”。请不要只凭销量和好评率下单，多看带图的中差评和追评；"
        "收到“好评返现”卡片，可向平台举报。",
        "Sales counts and good reviews may be faked",
        "Some shops inflated their sales with fake orders, copied reviews, or paid buyers for "
        "five stars. Do not buy on sales counts and ratings alone: read the critical reviews "
        "with photos, and report 'cash back for a good review' cards to the platform.",
    ),
    (
        "false-publicity",
        ("TEXT",),
        "对“最”“第一”“根治”等宣传保持警惕",
        "部分商品宣传使用绝对化用语，声称普通商品有医疗功效，或引导到平台外私下交易。"
        "请不要相信夸大功效，不要脱离平台付款或添加私人联系方式。",
        "Be wary of 'best', 'number one' and 'cures' claims",
        "Some listings used absolute terms, claimed medical effects for ordinary goods, or tried "
        "to move buyers off the platform. Do not trust miracle claims, and never pay or chat "
        "outside the platform.",
    ),
    (
        "licences",
        ("LIC",),
        "购买需要许可的商品，先看经营资质",
        "部分店铺在没有有效许可证的情况下销售需要许可的商品（如食品、药品、医疗器械）。"
        "购买前请查看店铺公示的证照信息。",
        "Check the licence before buying regulated goods",
        "Some shops sold goods that need a licence (food, medicines, medical devices) without a "
        "valid one. Look at the licence the shop displays before you buy.",
    ),
    (
        "prizes",
        ("PRIZE",),
        "抽奖和红包活动，看清规则",
        "部分抽奖式促销没有公布奖项、中奖概率和兑奖方式，或在活动开始后修改规则。"
        "参加前请查看完整规则并截图保存。",
        "Prize draws and red envelopes: read the rules",
        "Some prize promotions did not publish the prizes, the odds or how to claim them, or "
        "changed the rules after the start. Read the full rules and keep a screenshot before you "
        "take part.",
    ),
)


def drafts(by_check: Sequence[tuple[str, int]], top: int = 4) -> list[dict[str, Any]]:
    """Drafts for the ``top`` most frequent kinds of abuse, most frequent first."""
    counts: dict[str, tuple[int, str]] = {}
    for code, n in by_check:
        for key, prefixes, *_ in THEMES:
            if code.startswith(prefixes):
                total, best = counts.get(key, (0, code))
                counts[key] = (total + n, best)
                break
    out = []
    for key, prefixes, zh_title, zh_text, en_title, en_text in THEMES:
        if key not in counts:
            continue
        n, code = counts[key]
        out.append(
            {
                "theme": key,
                "check_code": "/".join(prefixes),
                "findings": n,
                "title_zh": zh_title,
                "text_zh": zh_text,
                "title_en": en_title,
                "text_en": en_text,
            }
        )
    out.sort(key=lambda d: -d["findings"])
    return out[:top]
