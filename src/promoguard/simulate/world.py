"""The world of one shard: platforms, merchants, listings, licences and buyers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promoguard.simulate import geo
from promoguard.simulate.calendar import DAY, utc


@dataclass(frozen=True)
class Category:
    name: str
    licence_type: str | None  # the licence a merchant needs to sell it (cn pack), None if none
    price_median: float  # CNY
    price_sigma: float
    weight_min_g: int  # PARCEL001: a parcel lighter than this is a token (empty) parcel
    weight_median_g: int
    share: float  # share of merchants whose main category this is
    zh: tuple[str, ...]  # product nouns
    en: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "apparel",
        None,
        189,
        0.6,
        100,
        600,
        0.16,
        ("羽绒服", "卫衣", "牛仔裤", "羊毛衫", "运动鞋", "连衣裙"),
        ("down jacket", "hoodie", "jeans", "wool sweater", "sneakers", "dress"),
    ),
    Category(
        "electronics",
        None,
        899,
        0.9,
        100,
        900,
        0.13,
        ("蓝牙耳机", "充电宝", "机械键盘", "智能手表", "平板电脑", "扫地机器人"),
        (
            "bluetooth earbuds",
            "power bank",
            "mechanical keyboard",
            "smart watch",
            "tablet",
            "robot vacuum",
        ),
    ),
    Category(
        "home",
        None,
        129,
        0.7,
        150,
        1500,
        0.11,
        ("四件套", "保温杯", "收纳箱", "不粘锅", "乳胶枕", "香薰机"),
        (
            "bedding set",
            "thermos",
            "storage box",
            "non-stick pan",
            "latex pillow",
            "aroma diffuser",
        ),
    ),
    Category(
        "toys",
        None,
        99,
        0.6,
        80,
        700,
        0.07,
        ("积木", "毛绒玩具", "拼图", "遥控车", "水枪玩具"),
        ("building blocks", "plush toy", "jigsaw puzzle", "RC car", "water gun toy"),
    ),
    Category(
        "food",
        "food_business",
        59,
        0.5,
        100,
        1200,
        0.14,
        ("坚果礼盒", "牛肉干", "挂耳咖啡", "大米", "蜂蜜", "螺蛳粉"),
        (
            "mixed nuts gift box",
            "beef jerky",
            "drip coffee",
            "rice",
            "honey",
            "river snail noodles",
        ),
    ),
    Category(
        "health_food",
        "health_food",
        199,
        0.5,
        80,
        400,
        0.10,
        ("鱼油软胶囊", "蛋白粉", "维生素C片", "益生菌", "钙片"),
        (
            "fish oil softgels",
            "protein powder",
            "vitamin C tablets",
            "probiotics",
            "calcium tablets",
        ),
    ),
    Category(
        "cosmetics",
        "cosmetics",
        259,
        0.6,
        50,
        300,
        0.14,
        ("精华液", "面霜", "口红", "防晒霜", "面膜"),
        ("serum", "face cream", "lipstick", "sunscreen", "sheet masks"),
    ),
    Category(
        "medical_device",
        "medical_device",
        299,
        0.6,
        100,
        800,
        0.07,
        ("电子血压计", "额温枪", "血糖仪", "制氧机", "按摩仪"),
        (
            "blood pressure monitor",
            "forehead thermometer",
            "glucose meter",
            "oxygen concentrator",
            "massager",
        ),
    ),
    Category(
        "alcohol",
        "alcohol_retail",
        329,
        0.7,
        400,
        1600,
        0.08,
        ("白酒", "红酒", "精酿啤酒", "黄酒"),
        ("baijiu", "red wine", "craft beer", "yellow wine"),
    ),
)
CATEGORY_NAMES = np.array([c.name for c in CATEGORIES])
CATEGORY_SHARE = np.array([c.share for c in CATEGORIES]) / sum(c.share for c in CATEGORIES)
LICENSED = np.array([c.licence_type is not None for c in CATEGORIES])
LICENCE_TYPE = np.array([c.licence_type or "" for c in CATEGORIES])
WEIGHT_MIN = np.array([c.weight_min_g for c in CATEGORIES])
WEIGHT_MEDIAN = np.array([c.weight_median_g for c in CATEGORIES])

PLATFORMS: tuple[tuple[str, str], ...] = (
    ("P1", "山海商城 Shanhai Mall"),
    ("P2", "鲸选 WhaleSelect"),
    ("P3", "拼拼乐 PinPinLe"),
)
PLATFORM_WEIGHTS = np.array([0.45, 0.35, 0.20])
BRANDS = (
    "山野",
    "木子",
    "云朵",
    "北极星",
    "小满",
    "青禾",
    "若水",
    "大橙",
    "星河",
    "森林先生",
    "Aurora",
    "Kiwi&Co",
    "Nordlys",
    "Maple",
    "Orbit",
)


@dataclass
class World:
    """Arrays describing one shard's actors (index = position; ids are the string arrays)."""

    shard: int
    merchant_id: np.ndarray
    merchant_platform: np.ndarray  # platform index
    merchant_city: np.ndarray  # origin city index
    merchant_registered: np.ndarray  # seconds
    merchant_category: np.ndarray  # main category index
    merchant_promise_null: np.ndarray  # bool: no promised_dispatch_by on its orders
    merchant_live: np.ndarray  # bool: runs live streams
    merchant_popularity: np.ndarray  # demand multiplier
    popular_merchant: int
    listing_id: np.ndarray
    listing_merchant: np.ndarray  # merchant index
    listing_category: np.ndarray  # category index
    listing_base_cents: np.ndarray  # regular price
    listing_demand: np.ndarray  # base orders per day
    listing_brand: np.ndarray  # brand index
    listing_noun: np.ndarray  # noun index within the category
    buyer_id: np.ndarray
    buyer_weight: np.ndarray  # relative activity
    buyer_address: np.ndarray  # address index (households share one)
    buyer_device: np.ndarray  # device index
    buyer_device2: np.ndarray  # a second device or -1
    address_city: np.ndarray  # city of each address
    n_addresses: int
    n_devices: int

    def device_ids(self, idx: np.ndarray) -> np.ndarray:
        return _ids(f"DV{self.shard:03d}", idx)

    def address_ids(self, idx: np.ndarray) -> np.ndarray:
        return _ids(f"AD{self.shard:03d}", idx)


def _ids(prefix: str, idx: np.ndarray, width: int = 6) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.asarray(idx).astype(str), width))


def round_price(cents: np.ndarray) -> np.ndarray:
    """Shop-style prices: whole yuan ending in 9 (or .90 below 20 yuan)."""
    yuan = np.maximum(cents / 100.0, 1.0)
    big = (np.floor(yuan / 10) * 10 + 9) * 100
    small = (np.floor(yuan) + 0.9) * 100
    return np.where(yuan >= 20, big, small).astype(np.int64)


def build_world(
    rng: np.random.Generator,
    shard: int,
    n_merchants: int,
    listings_per_merchant: float,
    n_buyers: int,
    demand: float,
) -> World:
    m = n_merchants
    cat = rng.choice(len(CATEGORIES), size=m, p=CATEGORY_SHARE)
    popularity = rng.lognormal(0.0, 0.6, size=m)
    popular = 0  # merchant 0 is hugely popular: a hard negative for the brushing checks
    popularity[popular] = 6.0
    n_list = 1 + rng.poisson(listings_per_merchant - 1, size=m)
    n_list[popular] = 18
    lm = np.repeat(np.arange(m), n_list)
    lcat = cat[lm].copy()
    # 12% of merchants also sell one listing of another category (LIC001 scope cases need this).
    second = rng.random(m) < 0.12
    first_of = np.concatenate([[0], np.cumsum(n_list)[:-1]])
    for j in np.flatnonzero(second & (n_list > 1)):
        lcat[first_of[j] + n_list[j] - 1] = rng.integers(len(CATEGORIES))
    nl = len(lm)
    med = np.array([c.price_median for c in CATEGORIES])[lcat]
    sig = np.array([c.price_sigma for c in CATEGORIES])[lcat]
    base = round_price(med * np.exp(rng.normal(0, 1, nl) * sig) * 100)
    # cheaper goods sell more; the merchant's popularity multiplies every listing
    ldemand = demand * popularity[lm] * rng.lognormal(0, 0.5, nl) * (med / base * 100) ** 0.3
    n_noun = np.array([len(c.zh) for c in CATEGORIES])
    noun = (rng.random(nl) * n_noun[lcat]).astype(np.int64)

    weight = rng.lognormal(0, 1.0, n_buyers)
    # households: the first 12% of buyers live in consecutive groups of 2-4 sharing one address
    addr = np.arange(n_buyers)
    n_hh_buyers = int(n_buyers * 0.12)
    sizes = rng.integers(2, 5, size=n_hh_buyers)
    heads = np.cumsum(np.concatenate([[0], sizes]))
    heads = heads[heads < n_hh_buyers]
    addr[:n_hh_buyers] = heads[np.searchsorted(heads, np.arange(n_hh_buyers), side="right") - 1]
    n_addr = n_buyers
    acity = rng.choice(len(geo.CITIES), size=n_addr, p=geo.DEST_WEIGHTS)
    dev2 = np.where(rng.random(n_buyers) < 0.05, n_buyers + np.arange(n_buyers), -1)
    registered = utc("2018-01-01T00:00:00") + (
        rng.random(m) * (utc("2026-08-01T00:00:00") - utc("2018-01-01T00:00:00"))
    )
    return World(
        shard=shard,
        merchant_id=_ids(f"M{shard:03d}", np.arange(m), 5),
        merchant_platform=rng.choice(len(PLATFORMS), size=m, p=PLATFORM_WEIGHTS),
        merchant_city=rng.choice(len(geo.CITIES), size=m, p=geo.ORIGIN_WEIGHTS),
        merchant_registered=(registered // DAY * DAY).astype(np.int64),
        merchant_category=cat,
        merchant_promise_null=rng.random(m) < 0.25,
        merchant_live=rng.random(m) < 0.4,
        merchant_popularity=popularity,
        popular_merchant=popular,
        listing_id=_ids(f"L{shard:03d}", np.arange(nl)),
        listing_merchant=lm,
        listing_category=lcat,
        listing_base_cents=base,
        listing_demand=ldemand,
        listing_brand=rng.integers(len(BRANDS), size=nl),
        listing_noun=noun,
        buyer_id=_ids(f"B{shard:03d}", np.arange(n_buyers)),
        buyer_weight=weight,
        buyer_address=addr,
        buyer_device=np.arange(n_buyers),
        buyer_device2=dev2,
        address_city=acity,
        n_addresses=n_addr,
        n_devices=2 * n_buyers,
    )
