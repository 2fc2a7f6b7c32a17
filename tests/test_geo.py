"""The city table covers the simulator's cities with the same coordinates; distances are real."""

from __future__ import annotations

import pytest

from promoguard import geo
from promoguard.simulate import geo as sim_geo


def test_every_simulator_city_is_known_with_the_same_coordinates():
    coords = geo.coordinates()
    for name, lat, lon, _hub in sim_geo.CITIES:
        assert name in coords, f"{name} missing from promoguard.geo"
        assert coords[name] == pytest.approx((lat, lon), abs=0.01)


def test_distances_and_name_matching():
    assert geo.distance_km("上海", "北京") == pytest.approx(1068, abs=10)
    assert geo.distance_km(" São Paulo ".replace("ã", "a"), "rio de janeiro") == pytest.approx(
        361, abs=10
    )
    assert geo.distance_km("上海", "Atlantis") is None
    pairs = geo.pair_distances()
    rows = list(zip(pairs["from_city"], pairs["to_city"], pairs["distance_km"], strict=True))
    assert ("上海", "上海", 0.0) in rows
    # no pair crosses countries: a Chinese parcel is never judged against a Brazilian city
    assert "sao paulo" not in {
        t for f, t in zip(pairs["from_city"], pairs["to_city"], strict=True) if f == "上海"
    }
    # every ordered pair of one country, each distance rounded to 0.1 km (and in whole tenths)
    per_country = {}
    for _name, _lat, _lon, country in geo.CITIES:
        per_country[country] = per_country.get(country, 0) + 1
    assert len(rows) == sum(n * n for n in per_country.values())
    sh_bj = rows.index(("上海", "北京", 1067.4))
    assert pairs["distance_dkm"][sh_bj] == 10674
    assert ("北京", "上海", 1067.4) in rows
    # nothing unknown, nothing missing: no city, no distance
    assert geo.normalise_city(None) is None
    assert geo.distance_km(None, "上海") is None and geo.distance_km("上海", None) is None


def test_haversine_is_the_great_circle_on_a_6371_km_earth():
    quarter = 6371.0 * 3.141592653589793 / 2  # a quarter of a great circle
    assert geo.haversine_km(0, 0, 0, 90) == pytest.approx(quarter, abs=0.01)
    assert geo.haversine_km(0, 0, 90, 0) == pytest.approx(quarter, abs=0.01)
    assert geo.haversine_km(90, 0, -90, 0) == pytest.approx(2 * quarter, abs=0.01)
    assert geo.haversine_km(10, 20, -30, 40) == pytest.approx(4935.80, abs=0.01)
    assert geo.haversine_km(-30, 40, 10, 20) == geo.haversine_km(10, 20, -30, 40)
    assert geo.distance_km("上海", "北京") == pytest.approx(1067.36, abs=0.01)


#: how shops and carriers write a city: each is the table's bare name
SPELLINGS = [
    ("上海市", "上海"),
    (" 深圳市南山区 ", "深圳"),
    ("北京市朝阳区", "北京"),
    ("浙江省杭州市", "杭州"),
    ("广东省深圳市宝安区", "深圳"),
    ("广西壮族自治区南宁市", "南宁"),
    ("Shanghai", "上海"),
    ("SHENZHEN", "深圳"),
    ("Xi'an", "西安"),
    ("上海", "上海"),
    (" Sao Paulo ", "sao paulo"),
    # a district of Chongqing is a place of its own (万州 to 渝中: 230 km); the city alone is not
    ("重庆市万州区", "重庆市万州区"),
    ("重庆市渝中区", "重庆市渝中区"),
    ("重庆市", "重庆"),
    # a name two cities share is not taken for either: Suzhou is 苏州 or 宿州, Fuzhou 福州 or 抚州
    ("Suzhou", "suzhou"),
    ("fuzhou", "fuzhou"),
    # a district without 市, a space before 市, "City" after an English name, a curly
    # apostrophe (a reviewer's spellings, each "delivered to another city" before)
    ("上海浦东新区", "上海"),
    ("吉林省长春朝阳区", "长春"),
    ("上海 市", "上海"),
    ("浙江省 杭州市", "杭州"),
    ("Shanghai City", "上海"),
    ("Xi\u2019an", "西安"),
    # a county named after its city lies in it; the bay named after Hangzhou is Ningbo's
    ("长沙县", "长沙"),
    ("湖南省长沙县", "长沙"),
    ("南昌县", "南昌"),
    ("乌鲁木齐县", "乌鲁木齐"),
    ("杭州湾新区", "宁波"),
    ("浙江省杭州湾新区", "宁波"),
    ("宁波杭州湾新区", "宁波"),
    ("宁波市杭州湾新区", "宁波"),
    ("浙江省宁波市杭州湾新区", "宁波"),
    # a county-level city is its prefecture: a carrier scans 昆山市 where the buyer wrote 苏州
    ("慈溪市杭州湾新区", "宁波"),
    ("浙江省慈溪市杭州湾新区", "宁波"),
    ("昆山市", "苏州"),
    ("江苏省昆山市", "苏州"),
    ("五常市", "哈尔滨"),
    ("萧山区", "杭州"),
    ("杭州市萧山区", "杭州"),
    # with the province, after its prefecture without 市, a zone named after it, an old name
    # (a reviewer's spellings of the first version)
    ("浙江省萧山区", "杭州"),
    ("苏州昆山市", "苏州"),
    ("苏州昆山", "苏州"),
    ("昆山开发区", "苏州"),
    ("萧山经济技术开发区", "杭州"),
    ("慈溪杭州湾新区", "宁波"),
    ("横县", "南宁"),
    ("广东省佛山市顺德区", "佛山"),
    ("顺德区", "佛山"),
    # ... but 安宁区 is Lanzhou's (not 安宁市, Kunming's), and Huludao's 龙港区 is not 龙港市
    # (Wenzhou's): a county-level city's name and 区 is a district elsewhere
    ("安宁区", "安宁区"),
    ("甘肃省兰州市安宁区", "兰州"),
    ("龙港区", "龙港区"),
    ("安宁市", "昆明"),
    # other zones named after the bay lie in cities the table does not hold (上虞: Shaoxing)
    ("杭州湾上虞经济技术开发区", "杭州湾上虞经济技术开发区"),
    ("上海杭州湾经济技术开发区", "上海"),
    # ... but not a district of Chongqing, a bare 区 or a name two cities share
    ("重庆渝中区", "重庆渝中区"),
    ("上海区", "上海区"),
    ("Suzhou City", "suzhou city"),
    # an autonomous prefecture, a prefecture or a league by its full name is its short name,
    # with the province before it or a county-level city after it (a blind set's spelling)
    ("恩施土家族苗族自治州", "恩施"),
    ("湖北省恩施土家族苗族自治州", "恩施"),
    ("恩施土家族苗族自治州利川市", "恩施"),
    ("西双版纳傣族自治州", "西双版纳"),
    ("阿坝藏族羌族自治州", "阿坝"),
    ("伊犁哈萨克自治州", "伊犁"),
    ("西藏自治区阿里地区", "阿里"),
    ("兴安盟", "兴安"),
    ("广西壮族自治区", "广西壮族自治区"),
    # ... but one named like a province keeps its 州: 青海's 海南 is not 海南省 (a reviewer's case)
    ("青海省海南藏族自治州", "海南州"),
    ("海南藏族自治州", "海南州"),
    # ... and by its short name with 州 alone, as buyers write it; a city named with 州 is no
    # autonomous prefecture, nor is a two-character name before 州 that is none
    ("恩施州", "恩施"),
    ("湖北省恩施州", "恩施"),
    ("恩施州利川市", "恩施"),
    ("湘西州", "湘西"),
    ("黔东南州", "黔东南"),
    ("西双版纳州", "西双版纳"),
    ("海南州", "海南州"),
    ("青海省海南州", "海南州"),
    ("杭州", "杭州"),
    ("杭州市", "杭州"),
    ("浙江省温州市", "温州"),
    ("梧桐州", "梧桐州"),
    # nothing to cut to, or not a city of the table: as written (trimmed, lower case)
    ("市", "市"),
    ("浙江省市", "浙江省市"),
    ("Atlantis", "atlantis"),
    ("  ", None),
]


@pytest.mark.parametrize(("raw", "city"), SPELLINGS)
def test_a_city_written_with_shi_district_province_or_in_pinyin_is_the_bare_city(raw, city):
    assert geo.normalise_city(raw) == city


def test_distances_know_a_city_however_it_is_written():
    assert geo.distance_km("上海市", "北京市朝阳区") == geo.distance_km("上海", "北京")
    assert geo.distance_km("Shanghai", "深圳市南山区") == geo.distance_km("上海", "深圳")


def test_the_engines_normalise_every_spelling_as_geo_does(tiny_store):
    # the checks compare cities in SQL (rules._relations.with_city, through the season's
    # spellings): a spelling the two forms disagreed on would be one city to the distance
    # table and another to the destination test
    from tests.rules.logistics.helpers import order, tables

    from promoguard.engine.backends import duckdb_tables
    from promoguard.rules._relations import city_spellings, with_city

    raw = [r for r, _ in SPELLINGS] + ["上海市\u3000", "\u3000", "北京\n"]
    orders = [order(f"o{i}", city=r) for i, r in enumerate(raw)]
    con = tiny_store(tables(orders=orders))
    with duckdb_tables(con) as t:
        o = with_city(t.orders, "ship_to_city", "city", city_spellings(t))
        rows = t.to_arrow(o.select("order_id", "city")).to_pylist()
    got = {r["order_id"]: r["city"] for r in rows}
    assert [got[f"o{i}"] for i in range(len(raw))] == [geo.normalise_city(r) for r in raw]


def test_a_season_spelling_every_city_as_the_table_does_is_not_joined(tiny_store):
    from tests.rules.logistics.helpers import order, tables

    from promoguard.engine.backends import duckdb_tables
    from promoguard.rules._relations import city_spellings

    con = tiny_store(tables(orders=[order("a", city="上海"), order("b", city=" 北京 ")]))
    with duckdb_tables(con) as t:
        assert city_spellings(t) is None
