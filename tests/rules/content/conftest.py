"""A small hand-made store of merchant texts and reviews, written from the laws' own wording."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import listing

from promoguard.text.identifiers import id_check_char, luhn_ok


def valid_id(body17: str = "11010119900307123") -> str:
    return body17 + id_check_char(body17).upper()


def wrong_id(body17: str = "11010119900307123") -> str:
    good = id_check_char(body17)
    return body17 + next(c for c in "0123456789" if c != good)


def card(body15: str = "622202123456789", valid: bool = True) -> str:
    return next(body15 + d for d in "0123456789" if luhn_ok(body15 + d) == valid)


LISTINGS = [
    # listing_id, merchant_id, platform_id, category
    ("L1", "M1", "P1", "food"),
    ("L2", "M2", "P1", "medical_device"),
    ("L3", "M3", "P2", "cosmetics"),
    ("L4", "M4", "P2", "toys"),
    ("L5", "M5", "P1", "home"),
]

#: text_id, kind, merchant_id, listing_id, lang, content, codes it must raise (and no other)
TEXTS = [
    # TEXT001: Advertising Law Art. 9(3)
    ("T001", "listing_title", "M1", "L1", "zh", "山野坚果礼盒 品质最佳", {"TEXT001"}),
    ("T002", "listing_title", "M1", "L1", "zh", "山野坚果 最*好 的年货", {"TEXT001"}),
    ("T003", "ad", "M1", "L1", "zh", "国家级工艺，全网最　低", {"TEXT001"}),
    (
        "T004",
        "listing_description",
        "M3",
        "L3",
        "en",
        "The BEST in the world, ＮＯ．１ serum",
        {"TEXT001"},
    ),
    ("T005", "listing_description", "M1", "L1", "zh", "最近很多顾客回购。首先感谢大家。", set()),
    (
        "T006",
        "listing_description",
        "M1",
        "L1",
        "zh",
        "同款在唯品会也有售，第一次参加双11。",
        set(),
    ),
    ("T007", "listing_description", "M4", "L4", "zh", "顶部有拉链设计，最后提醒大家查收。", set()),
    # TEXT002: Art. 17 / 18
    (
        "T010",
        "listing_description",
        "M1",
        "L1",
        "zh",
        "蜂蜜每天一勺，降血压，治愈失眠",
        {"TEXT002"},
    ),
    (
        "T011",
        "listing_description",
        "M2",
        "L2",
        "zh",
        "电子理疗仪，用于缓解疼痛，辅助治疗颈椎病",
        set(),
    ),
    ("T012", "ad", "M2", "L2", "zh", "包治百病，治愈率99%", {"TEXT002"}),
    ("T013", "listing_description", "M4", "L4", "zh", "治愈系毛绒设计，摆在床头很可爱。", set()),
    ("T014", "listing_description", "M3", "L3", "en", "This cream cures eczema.", {"TEXT002"}),
    ("T015", "listing_description", "M3", "L3", "en", "A secure pump bottle.", set()),
    # pest control is no human disease; the pest words beside a disease claim do not hide it
    ("T016", "listing_title", "M5", "L5", "zh", "果树病虫害防治 杀虫剂", set()),
    ("T017", "listing_title", "M5", "L5", "zh", "艾草贴 防治病虫害 降血压", {"TEXT002"}),
    # TEXT003
    ("T020", "chat", "M5", "L5", "zh", "另有仿真枪出售，需要私聊。", {"TEXT003"}),
    ("T021", "chat", "M5", "L5", "zh", "管 制 刀 具 现货", {"TEXT003"}),
    ("T022", "listing_description", "M5", "L5", "zh", "厨房刀具请放在儿童够不到的地方。", set()),
    ("T023", "listing_title", "M4", "L4", "zh", "夏日水枪玩具 大容量", set()),
    ("T024", "chat", "M5", "L5", "en", "We also sell stun guns, ask us.", {"TEXT003"}),
    # TEXT004
    ("T030", "chat", "M1", "L1", "zh", "加微信 abcd1234 领优惠", {"TEXT004"}),
    ("T031", "chat", "M1", "L1", "zh", "V信：shop_8848", {"TEXT004"}),
    ("T032", "chat", "M1", "L1", "zh", "❤信 kk5678 私聊", {"TEXT004"}),
    ("T033", "listing_description", "M1", "L1", "zh", "点击 t.cn/AbCdEf 领券", {"TEXT004"}),
    ("T034", "chat", "M1", "L1", "zh", "私下转账可以再便宜", {"TEXT004"}),
    ("T035", "chat", "M1", "L1", "zh", "支持微信支付和支付宝。", set()),
    ("T036", "chat", "M1", "L1", "en", "Pay by bank transfer outside the platform", {"TEXT004"}),
    # TEXT005 (a mobile number is also a lure: TEXT004)
    ("T040", "chat", "M1", "L1", "zh", f"收件人身份证号 {valid_id()}", {"TEXT005"}),
    ("T041", "chat", "M1", "L1", "zh", f"证件号 {wrong_id()} 已作废", set()),
    ("T042", "chat", "M1", "L1", "zh", f"退款请打到这张卡 {card()}", {"TEXT005"}),
    ("T043", "chat", "M1", "L1", "zh", f"卡号 {card(valid=False)}", set()),
    ("T044", "chat", "M1", "L1", "zh", "收件人电话 138-1234-5678", {"TEXT005", "TEXT004"}),
    ("T045", "chat", "M1", "L1", "en", "buyer email li.ming@example.com", {"TEXT005"}),
    ("T046", "chat", "M1", "L1", "zh", "订单号 2026111198765432，物流单号 SF1234567890123", set()),
    # a claim beside a card number: TEXT001 quotes the text, the card masked
    ("T047", "ad", "M1", "L1", "zh", f"全网最低价 退款打到 {card()}", {"TEXT001", "TEXT005"}),
    # TEXT006: live streams only
    ("T050", "livestream", "M1", "L1", "zh", "家人们，直降500！最后三单！", {"TEXT006"}),
    ("T051", "livestream", "M1", "L1", "zh", "原价399元，今天直播间199元，点击小黄车下单", set()),
    ("T052", "livestream", "M1", "L1", "zh", "原价399元，直降200元", set()),
    ("T053", "livestream", "M1", "L1", "en", "only 2 left! half the usual price!", {"TEXT006"}),
    ("T054", "listing_description", "M1", "L1", "zh", "仅剩2件，手慢无！", set()),
    ("T055", "livestream", "M1", "L1", "zh", "比原价便宜一半！", {"TEXT006"}),
    # REVIEW002 in merchant texts
    ("T060", "listing_description", "M1", "L1", "zh", "好评返现，晒图返现5元", {"REVIEW002"}),
    ("T061", "chat", "M1", "L1", "zh", "五星好评送小礼品哦", {"REVIEW002"}),
    (
        "T062",
        "chat",
        "M1",
        "L1",
        "en",
        "Leave a 5-star review and get a refund of 5 yuan",
        {"REVIEW002"},
    ),
    ("T063", "listing_description", "M1", "L1", "zh", "好评如潮。下单送运费险。", set()),
]

#: review_id, listing_id, text, codes
REVIEWS = [
    ("R1", "L1", "商家说五星好评返5元，质量不错。", {"REVIEW002"}),
    ("R2", "L1", "质量不错，送朋友的，朋友很喜欢。", set()),
    ("R3", "L3", "The seller said: 5-star review = cashback. Good value.", {"REVIEW002"}),
    ("R4", "L3", "五颗星推荐给大家！", set()),
    ("R5", "L1", "五星好评返现10元，商家电话13912345678", {"REVIEW002"}),
]

CODES = ("TEXT001", "TEXT002", "TEXT003", "TEXT004", "TEXT005", "TEXT006", "REVIEW002")


def expected(code: str) -> set[tuple[str, str]]:
    out = {("text", t[0]) for t in TEXTS if code in t[6]}
    out |= {("review", r[0]) for r in REVIEWS if code in r[3]}
    return out


@pytest.fixture
def content_con(tiny_store):
    when = dt.datetime(2026, 11, 11, tzinfo=dt.UTC)
    return tiny_store(
        {
            "platforms": [
                {"platform_id": "P1", "name": "山海商城"},
                {"platform_id": "P2", "name": "鲸选"},
            ],
            "merchants": [
                {"merchant_id": m, "platform_id": p, "name": f"shop {m}"} for _, m, p, _ in LISTINGS
            ]
            + [{"merchant_id": "M9", "platform_id": "P2", "name": "no listing"}],
            "listings": [listing(lid, m, p, cat, f"title {lid}") for lid, m, p, cat in LISTINGS],
            "texts": [
                {
                    "text_id": t,
                    "kind": k,
                    "merchant_id": m,
                    "listing_id": lid,
                    "created_at": when,
                    "lang": lang,
                    "content": c,
                }
                for t, k, m, lid, lang, c, _ in TEXTS
            ]
            + [
                {
                    "text_id": "T099",
                    "kind": "ad",
                    "merchant_id": "M9",
                    "listing_id": None,
                    "created_at": when,
                    "lang": "zh",
                    "content": "顶级好货 全网最低价",
                }
            ],
            "reviews": [
                {
                    "review_id": r,
                    "listing_id": lid,
                    "buyer_id": "B1",
                    "order_id": None,
                    "rating": 5,
                    "created_at": when,
                    "text": text,
                }
                for r, lid, text, _ in REVIEWS
            ]
            + [
                {
                    "review_id": "R9",
                    "listing_id": "L1",
                    "buyer_id": "B2",
                    "order_id": None,
                    "rating": 4,
                    "created_at": when,
                    "text": None,
                }
            ],
        }
    )
