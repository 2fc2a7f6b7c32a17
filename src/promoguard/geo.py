"""Real city coordinates (China and Brazil) and great-circle distances between them.

The logistics checks need the distance between two scanned cities to tell a real trajectory from an
impossible one. Names are matched after ``normalise_city`` (trimmed, lower-cased, and a Chinese
city brought to the bare name of this table: carriers and shops write ``上海市``, ``深圳市南山区``,
``浙江省杭州市`` or ``Shanghai`` for the same city), so Brazilian names match Olist's lower-case,
unaccented spelling. The Chinese list covers every city of the simulator (promoguard.simulate.geo)
and more.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

#: (name, latitude, longitude, country). Coordinates of the city centre, three decimals.
CITIES: tuple[tuple[str, float, float, str], ...] = (
    # China: municipalities, provincial capitals and the big e-commerce warehouse towns
    ("北京", 39.904, 116.407, "CN"),
    ("天津", 39.084, 117.201, "CN"),
    ("上海", 31.230, 121.474, "CN"),
    ("重庆", 29.563, 106.551, "CN"),
    ("石家庄", 38.042, 114.515, "CN"),
    ("太原", 37.871, 112.549, "CN"),
    ("呼和浩特", 40.842, 111.749, "CN"),
    ("沈阳", 41.806, 123.432, "CN"),
    ("大连", 38.914, 121.615, "CN"),
    ("长春", 43.817, 125.324, "CN"),
    ("哈尔滨", 45.803, 126.535, "CN"),
    ("南京", 32.060, 118.797, "CN"),
    ("苏州", 31.299, 120.585, "CN"),
    ("无锡", 31.491, 120.312, "CN"),
    ("杭州", 30.274, 120.155, "CN"),
    ("宁波", 29.868, 121.544, "CN"),
    ("温州", 27.994, 120.699, "CN"),
    ("义乌", 29.306, 120.075, "CN"),
    ("合肥", 31.821, 117.227, "CN"),
    ("福州", 26.075, 119.296, "CN"),
    ("厦门", 24.480, 118.089, "CN"),
    ("莆田", 25.454, 119.008, "CN"),  # the shoe trade's warehouse town
    ("南昌", 28.683, 115.858, "CN"),
    ("济南", 36.651, 117.120, "CN"),
    ("青岛", 36.067, 120.383, "CN"),
    ("郑州", 34.746, 113.625, "CN"),
    ("武汉", 30.593, 114.305, "CN"),
    ("长沙", 28.228, 112.939, "CN"),
    ("广州", 23.129, 113.264, "CN"),
    ("深圳", 22.543, 114.058, "CN"),
    ("东莞", 23.021, 113.752, "CN"),
    ("佛山", 23.022, 113.122, "CN"),
    ("南宁", 22.817, 108.366, "CN"),
    ("海口", 20.044, 110.199, "CN"),
    ("成都", 30.573, 104.066, "CN"),
    ("贵阳", 26.647, 106.630, "CN"),
    ("昆明", 25.038, 102.718, "CN"),
    ("拉萨", 29.652, 91.172, "CN"),
    ("西安", 34.341, 108.940, "CN"),
    ("兰州", 36.061, 103.834, "CN"),
    ("西宁", 36.617, 101.778, "CN"),
    ("银川", 38.487, 106.231, "CN"),
    ("乌鲁木齐", 43.825, 87.617, "CN"),
    # Brazil: state capitals and the big cities of Olist's sellers and customers
    ("sao paulo", -23.551, -46.633, "BR"),
    ("rio de janeiro", -22.907, -43.173, "BR"),
    ("belo horizonte", -19.917, -43.935, "BR"),
    ("brasilia", -15.794, -47.882, "BR"),
    ("salvador", -12.977, -38.501, "BR"),
    ("fortaleza", -3.732, -38.527, "BR"),
    ("recife", -8.048, -34.877, "BR"),
    ("curitiba", -25.429, -49.271, "BR"),
    ("porto alegre", -30.035, -51.218, "BR"),
    ("manaus", -3.119, -60.022, "BR"),
    ("belem", -1.456, -48.490, "BR"),
    ("goiania", -16.686, -49.265, "BR"),
    ("campinas", -22.906, -47.061, "BR"),
    ("guarulhos", -23.454, -46.534, "BR"),
    ("santos", -23.961, -46.333, "BR"),
    ("sao bernardo do campo", -23.691, -46.565, "BR"),
    ("santo andre", -23.664, -46.538, "BR"),
    ("osasco", -23.532, -46.792, "BR"),
    ("ribeirao preto", -21.178, -47.810, "BR"),
    ("sorocaba", -23.502, -47.458, "BR"),
    ("niteroi", -22.883, -43.104, "BR"),
    ("florianopolis", -27.595, -48.548, "BR"),
    ("vitoria", -20.315, -40.312, "BR"),
    ("natal", -5.795, -35.209, "BR"),
    ("joao pessoa", -7.119, -34.845, "BR"),
    ("maceio", -9.665, -35.735, "BR"),
    ("aracaju", -10.947, -37.073, "BR"),
    ("teresina", -5.089, -42.802, "BR"),
    ("sao luis", -2.530, -44.303, "BR"),
    ("cuiaba", -15.601, -56.097, "BR"),
    ("campo grande", -20.469, -54.620, "BR"),
    ("porto velho", -8.761, -63.900, "BR"),
    ("macapa", 0.035, -51.070, "BR"),
    ("boa vista", 2.820, -60.672, "BR"),
    ("rio branco", -9.975, -67.810, "BR"),
    ("palmas", -10.184, -48.334, "BR"),
)

#: English / pinyin names of the Chinese cities above (lower case, as normalised), to the name of
#: the table: an order exported in English says ``Shanghai`` where the carrier scans ``上海``.
CITY_ALIASES: dict[str, str] = {
    "beijing": "北京",
    "peking": "北京",
    "tianjin": "天津",
    "shanghai": "上海",
    "chongqing": "重庆",
    "shijiazhuang": "石家庄",
    "taiyuan": "太原",
    "hohhot": "呼和浩特",
    "huhehaote": "呼和浩特",
    "shenyang": "沈阳",
    "dalian": "大连",
    "changchun": "长春",
    "harbin": "哈尔滨",
    "haerbin": "哈尔滨",
    "nanjing": "南京",
    "wuxi": "无锡",
    "hangzhou": "杭州",
    "ningbo": "宁波",
    "wenzhou": "温州",
    "yiwu": "义乌",
    "hefei": "合肥",
    "xiamen": "厦门",
    "putian": "莆田",
    "nanchang": "南昌",
    "jinan": "济南",
    "qingdao": "青岛",
    "zhengzhou": "郑州",
    "wuhan": "武汉",
    "changsha": "长沙",
    "guangzhou": "广州",
    "canton": "广州",
    "shenzhen": "深圳",
    "dongguan": "东莞",
    "foshan": "佛山",
    "nanning": "南宁",
    "haikou": "海口",
    "chengdu": "成都",
    "guiyang": "贵阳",
    "kunming": "昆明",
    "lhasa": "拉萨",
    "lasa": "拉萨",
    "xi'an": "西安",
    "xian": "西安",
    "lanzhou": "兰州",
    "xining": "西宁",
    "yinchuan": "银川",
    "urumqi": "乌鲁木齐",
    "wulumuqi": "乌鲁木齐",
}

#: County-level cities (县级市) that lie in a city of the table, and a few former ones that are
#: now its districts and still written alone (萧山, 吴江): a carrier scans ``昆山市`` where the
#: buyer wrote ``苏州``, and both are Suzhou. Written alone, with ``市`` or (a district now)
#: ``区``; 义乌 is in the table itself. (Prefecture of each: the national division codes,
#: GB/T 2260, 2023.)
COUNTY_LEVEL_CITIES = {
    **dict.fromkeys(("常熟", "张家港", "昆山", "太仓", "吴江"), "苏州"),
    **dict.fromkeys(("江阴", "宜兴"), "无锡"),
    **dict.fromkeys(("建德", "萧山", "余杭", "富阳", "临安", "临平"), "杭州"),
    **dict.fromkeys(("余姚", "慈溪", "奉化"), "宁波"),
    **dict.fromkeys(("瑞安", "乐清", "龙港"), "温州"),
    "巢湖": "合肥",
    **dict.fromkeys(("福清", "长乐"), "福州"),
    **dict.fromkeys(("胶州", "平度", "莱西", "即墨"), "青岛"),
    "章丘": "济南",
    **dict.fromkeys(("巩义", "荥阳", "新密", "新郑", "登封"), "郑州"),
    # 宁乡县 until 2017, 横县 until 2021: written so in older address books
    **dict.fromkeys(("浏阳", "宁乡", "宁乡县"), "长沙"),
    **dict.fromkeys(("横州", "横县"), "南宁"),
    **dict.fromkeys(("番禺", "花都", "增城", "从化"), "广州"),
    **dict.fromkeys(("顺德", "南海"), "佛山"),
    **dict.fromkeys(("都江堰", "彭州", "邛崃", "崇州", "简阳"), "成都"),
    "清镇": "贵阳",
    "安宁": "昆明",
    "灵武": "银川",
    **dict.fromkeys(("辛集", "晋州", "新乐"), "石家庄"),
    "古交": "太原",
    "新民": "沈阳",
    **dict.fromkeys(("瓦房店", "庄河", "普兰店"), "大连"),
    **dict.fromkeys(("榆树", "德惠", "公主岭", "九台"), "长春"),
    **dict.fromkeys(("尚志", "五常", "双城", "阿城"), "哈尔滨"),
}
#: those of them that are districts now, written with ``区`` too (``萧山区``)
NOW_DISTRICTS = (
    *("吴江", "萧山", "余杭", "富阳", "临安", "临平", "奉化", "长乐", "即墨", "章丘"),
    *("番禺", "花都", "增城", "从化", "顺德", "南海", "普兰店", "九台", "双城", "阿城"),
)

#: County-level cities the table holds as cities of their own (warehouse towns: their distances
#: matter), and the prefecture each lies in (GB/T 2260): a carrier that scans ``金华市`` where the
#: buyer wrote ``义乌`` delivered to the same place. Compared through :func:`same_prefecture`.
TABLE_COUNTY_LEVEL_CITIES = {"义乌": "金华"}

#: the nationalities in the full names of autonomous prefectures (``恩施土家族苗族自治州``,
#: ``甘孜藏族自治州``, ``伊犁哈萨克自治州``): the short name is what comes before them
CN_NATIONALITIES = (
    *("土家族", "苗族", "藏族", "彝族", "傣族", "景颇族", "哈尼族", "白族", "壮族", "布依族"),
    *("侗族", "朝鲜族", "回族", "蒙古族", "蒙古", "哈萨克", "柯尔克孜", "傈僳族", "羌族"),
)
#: a prefecture-level unit that is no ``市``: an autonomous prefecture (``…自治州``), a
#: prefecture (``阿里地区``) or a league (``兴安盟``), with the province before it and a
#: county or city after it or not; ``short`` is the name it is written by alone (恩施, 阿里)
CN_PREFECTURE_UNIT = (
    r"^(?:[^省市区]+(?:省|自治区))?(?P<short>[^省市区县州盟]{2,}?)"
    rf"(?:{'|'.join(CN_NATIONALITIES)})*(?:自治州|地区|盟)"
)
#: autonomous prefectures whose short name is a province's (青海省海南藏族自治州 is not 海南省)
PREFECTURES_NAMED_LIKE_PROVINCES = frozenset({"海南"})
#: the 30 autonomous prefectures by their short names, as they are also written with 州 alone
#: (恩施州, 湘西州, 黔东南州: a province's own press and its buyers write them so)
_AUTONOMOUS_PREFECTURE_NAMES = (
    "恩施 湘西 黔东南 黔南 黔西南 凉山 甘孜 阿坝 大理 红河 文山 楚雄 德宏 怒江 迪庆 西双版纳 延边 临夏 "
    "甘南 海北 黄南 海南 果洛 玉树 海西 昌吉 博尔塔拉 巴音郭楞 克孜勒苏 伊犁"
)
CN_AUTONOMOUS_PREFECTURES = frozenset(_AUTONOMOUS_PREFECTURE_NAMES.split())
#: an autonomous prefecture by its short name and 州 (``湖北省恩施州``, ``恩施州利川市``); the
#: short name must be one of :data:`CN_AUTONOMOUS_PREFECTURES` (杭州 and 苏州 are no such)
CN_PREFECTURE_ZHOU = r"^(?:[^省市区]+(?:省|自治区))?(?P<short>[^省市区县州盟]{2,}?)州(?!市)"
#: a province or autonomous region written before the city (``浙江省杭州市``, ``广西壮族自治区南宁市``)
CN_PROVINCE_PREFIX = r"^[^省市区]+(省|自治区)"
#: Not aliased: ``suzhou`` (苏州 or 宿州) and ``fuzhou`` (福州 or 抚州) name two cities each.
#: A municipality the size of a province, whose districts lie hundreds of km apart (万州 to 渝中,
#: 230 km): with a district it stays as written (a district there is a place of its own).
WIDE_MUNICIPALITIES = ("重庆",)
#: ``市`` and whatever follows it (a district or county: ``深圳市南山区``, ``上海市浦东新区``)
CN_CITY_SUFFIX = r"市.*$"
#: a district or county written after the city without ``市`` (``上海浦东新区``, ``长沙县``)
CN_DISTRICT_END = ("区", "县")
#: spaces between two Chinese characters (``上海 市``, ``浙江省 杭州市``): a typing habit, no word break
CN_INNER_SPACE = r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])"
#: what an English name puts after the city (``Shanghai City``, ``Shanghai Shi``)
LATIN_CITY_SUFFIXES = (" city", " shi")
#: apostrophes written curly or as a modifier letter (``Xi’an``), read as ``'``
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

EARTH_RADIUS_KM = 6371.0


def normalise_city(name: str | None) -> str | None:
    """The form city names are compared in (None stays None; blank is None): trimmed and
    lower-cased; a Chinese city without the province before it and without ``市`` and the
    district after it (``广东省深圳市南山区`` is ``深圳``; but ``重庆市万州区`` stays:
    :data:`WIDE_MUNICIPALITIES`), or a district written without ``市`` after a city of the table
    (``上海浦东新区``); an autonomous prefecture, prefecture or league by its short name
    (``恩施土家族苗族自治州`` is ``恩施``: :data:`CN_PREFECTURE_UNIT`); spaces between Chinese characters dropped (``上海 市``); an English or
    pinyin name of a Chinese city of the table (:data:`CITY_ALIASES`, with ``City`` or ``Shi``
    after it, a curly apostrophe read as ``'``) as the table writes it.

    The checks compare cities through ``promoguard.rules._relations.city_spellings``, which
    puts each distinct stored spelling through this function once (tests/test_geo.py holds
    the engines' forms to it)."""
    if name is None:
        return None
    name = " ".join(str(name).split()).lower().translate(APOSTROPHES)
    name = re.sub(CN_INNER_SPACE, "", name)
    # 恩施土家族苗族自治州 (利川市) is 恩施, 西藏自治区阿里地区 is 阿里, 兴安盟 is 兴安, and 恩施州
    # (an autonomous prefecture's short name with 州) is 恩施; a short name that is a province's
    # (青海's 海南藏族自治州) keeps its 州 (a reviewer's case)
    unit = re.match(CN_PREFECTURE_UNIT, name)
    if unit is None:
        unit = re.match(CN_PREFECTURE_ZHOU, name)
        if unit is not None and unit["short"] not in CN_AUTONOMOUS_PREFECTURES:
            unit = None
    if unit is not None:
        short = unit["short"]
        name = f"{short}州" if short in PREFECTURES_NAMED_LIKE_PROVINCES else short
    if "市" in name:
        city = re.sub(CN_PROVINCE_PREFIX, "", name)
        if not any(city.startswith(f"{w}市") and city != f"{w}市" for w in WIDE_MUNICIPALITIES):
            city = re.sub(CN_CITY_SUFFIX, "", city)
        # a name that is only ``市`` (or starts with it) keeps what it is: no city to cut to
        name = city.strip() or name
    elif name.endswith(CN_DISTRICT_END):
        # the province dropped, as above (浙江省萧山区 is 萧山区, which is Hangzhou's)
        bare = re.sub(CN_PROVINCE_PREFIX, "", name)
        name = _city_of_district(bare) or bare or name
    for suffix in LATIN_CITY_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in CITY_ALIASES:
            name = name[: -len(suffix)]
    name = CITY_ALIASES.get(name, name)
    return _prefecture(name) or None


def same_prefecture(city: ir.StringValue) -> ir.StringValue:
    """A normalised city as an Ibis value, with a county-level city the table holds on its own
    (:data:`TABLE_COUNTY_LEVEL_CITIES`: 义乌) read as its prefecture (金华): two cities compare
    equal this way when they are one place, in either direction."""
    import ibis

    pairs = [(city == c, p) for c, p in sorted(TABLE_COUNTY_LEVEL_CITIES.items())]
    return ibis.cases(*pairs, else_=city) if pairs else city


def _county_level(name: str) -> str | None:
    """The prefecture of a county-level city (:data:`COUNTY_LEVEL_CITIES`), or of one now a
    district written with ``区`` (``萧山区``); None otherwise (安宁区 is Lanzhou's, not 安宁市:
    only the former cities now districts take ``区``)."""
    base = name.removesuffix("区") if name.removesuffix("区") in NOW_DISTRICTS else name
    return COUNTY_LEVEL_CITIES.get(base)


def _prefecture(name: str) -> str:
    """``name``, or the prefecture of the county-level city it names, alone (慈溪市杭州湾新区 ->
    慈溪 -> 宁波) or after its prefecture without ``市`` (苏州昆山, 杭州萧山)."""
    county = _county_level(name)
    if county is not None:
        return county
    for city in _PREFECTURES:
        if name.startswith(city) and _county_level(name[len(city) :]) == city:
            return city
    return name


#: Places whose names start with a city of the table but lie elsewhere, longest first: the bay
#: is no part of Hangzhou. 杭州湾新区 is Ningbo's (in Cixi); the other zones named after the bay
#: lie in cities the table does not hold (杭州湾上虞经济技术开发区: Shaoxing), so they stay as
#: written (None).
NAMED_AFTER_ANOTHER_CITY: dict[str, str | None] = {"杭州湾新区": "宁波", "杭州湾": None}


def _city_of_district(name: str) -> str | None:
    """The Chinese city of the table a district or county written without ``市`` lies in
    (``上海浦东新区``, ``苏州工业园区``: the longest city name it starts with, something after it;
    or the county named after its city, ``长沙县``), or None (no such city; or one of
    :data:`WIDE_MUNICIPALITIES`, whose districts are places).

    A city's name and ``区`` alone is not taken for the city: a district of one city may share
    a name with another city (北京's 朝阳区 and the city 朝阳); a county named after a city
    (长沙县, 南昌县) lies in that city."""
    for prefix, city in NAMED_AFTER_ANOTHER_CITY.items():
        if name.startswith(prefix):
            return city  # None: as written
    # (a county-level city names its zones too: 昆山开发区, 萧山经济技术开发区)
    cities = [
        c
        for c in (*_cn_cities(), *COUNTY_LEVEL_CITIES)
        if name.startswith(c) and (len(name) > len(c) + 1 or name == f"{c}县")
    ]
    best = max(cities, key=len, default=None)
    best = COUNTY_LEVEL_CITIES.get(best, best) if best is not None else None
    return None if best in WIDE_MUNICIPALITIES else best


#: the prefectures :data:`COUNTY_LEVEL_CITIES` names, longest first
_PREFECTURES = sorted(set(COUNTY_LEVEL_CITIES.values()), key=len, reverse=True)


@cache
def _cn_cities() -> tuple[str, ...]:
    return tuple(n for n, _, _, country in CITIES if country == "CN")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, h))))


@cache
def coordinates() -> dict[str, tuple[float, float]]:
    """normalised city name -> (lat, lon)."""
    return {normalise_city(n): (lat, lon) for n, lat, lon, _ in CITIES}  # type: ignore[misc]


def distance_km(a: str | None, b: str | None) -> float | None:
    """Distance between two named cities, or None when either is unknown."""
    coords = coordinates()
    pa, pb = coords.get(normalise_city(a) or ""), coords.get(normalise_city(b) or "")
    if pa is None or pb is None:
        return None
    return haversine_km(*pa, *pb)


@cache
def pair_distances() -> dict[str, list]:
    """Every ordered pair of known cities of one country with its distance rounded to 0.1 km.

    Checks join scans to this table in the engine; computing the distances here, once, keeps the
    figures identical on DuckDB and Spark (no engine trigonometry whose last digit may differ).
    """
    out: dict[str, list] = {"from_city": [], "to_city": [], "distance_km": [], "distance_dkm": []}
    for a, lat_a, lon_a, ca in CITIES:
        for b, lat_b, lon_b, cb in CITIES:
            if ca != cb:
                continue
            out["from_city"].append(normalise_city(a))
            out["to_city"].append(normalise_city(b))
            tenths = round(haversine_km(lat_a, lon_a, lat_b, lon_b) * 10)
            out["distance_km"].append(tenths / 10)
            out["distance_dkm"].append(tenths)  # whole tenths of a km, for exact arithmetic
    return out
