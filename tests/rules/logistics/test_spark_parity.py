"""The six checks give the same findings, ids and evidence on DuckDB and Spark."""

from __future__ import annotations

import pytest
from tests.support import listing, run_check

from .helpers import order, tables

CODES = "SHIP001,SHIP002,SHIP003,SHIP004,PARCEL001,LIC001"


def _tables():
    t = tables(
        orders=[
            order("never", declared=5),
            order("shared_a", listing="l_food", declared=1, promised=20),
            order("shared_b", listing="l_app", declared=1),
            order("late", promised=10, city="北京"),
            order("fast", city="Urumqi"),  # the city's other spellings: one city on both engines
            order("token", listing="l_cos"),
            order("alc", listing="l_alc", paid=30),
            order("undispatched", status="paid", promised=3),
            # 181,746.1 s late: 50.485 h sits on a rounding edge and has a fraction of a second
            order("edge", declared=0),
            # one buyer's orders merged into one parcel (SHIP002 low, with its reason)
            order("merged_a", buyer="b5", declared=1) | {"buyer_address_id": "A5"},
            order("merged_b", buyer="b5", declared=1) | {"buyer_address_id": "A5"},
            # PARCEL001: a voided label (not reported), an invoice beside a heavy parcel and a
            # SIM card on a complete journey (low, with their reasons), 莆田 -> 兰州 direct
            order("voided", status="cancelled"),
            order("invoice", listing="l_app"),
            order("sim", listing="l_sim", merchant="m1"),
            order("putian", listing="l_app"),
            # a Chinese category path read as the pack's home goods (150 g); an accessory not
            order("cooker", listing="l_cooker", merchant="m1"),
            order("head", listing="l_head", merchant="m1"),
            # SHIP002: a number recycled three years later, its later use shared by two buyers
            order("rec_old", buyer="b20", paid=-3 * 24 * 365, declared=-3 * 24 * 365 + 2),
            order("rec_a", buyer="b21", declared=2),
            order("rec_b", buyer="b22", paid=5, declared=7),
            # SHIP004: to 金华 in three parcels, delivered in 义乌, 杭州 and 金华 (杭州 is elsewhere)
            order("three", city="金华"),
        ],
        shipments=[
            ("never", "ZTO", "N", 500),
            ("shared_a", "ZTO", "S", 500),
            ("shared_b", "ZTO", "S", None),
            ("late", "SF", "L", 500),
            ("fast", "SF", "F", 500),
            ("token", "YTO", "T", 12),
            ("alc", "YTO", "A", 900),
            ("edge", "JD", "E", 500),
            ("merged_a", "ZTO", "M", 900),
            ("merged_b", "ZTO", "M", 900),
            ("voided", "ZTO", "V", 0),
            ("invoice", "JD", "I1", 3200),
            ("invoice", "EMS", "I2", 20),
            ("sim", "EMS", "C", 20),
            ("putian", "STO", "P", 900),
            ("cooker", "EMS", "K1", 30),
            ("head", "EMS", "K2", 40),
            ("rec_old", "STO", "R", 150),
            ("rec_a", "STO", "R", 150),
            ("rec_b", "STO", "R", 150),
            ("rec_none", "STO", "R", 150),
            *[
                ("three", "YD", f"Y{i}", 500) for i in range(3)
            ],  # an order the store does not hold: unknown payment
        ],
        events=[
            ("ZTO", "S", 2, "pickup", "义乌"),
            ("ZTO", "S", 30, "delivered", "哈尔滨"),
            ("SF", "L", 20, "pickup", "上海"),
            ("SF", "L", 30, "transit", "南京"),
            ("SF", "L", 44, "delivered", "北京市朝阳区"),
            ("SF", "F", 5, "pickup", "上海"),
            ("SF", "F", 6, "transit", "乌鲁木齐"),
            ("SF", "F", 30, "delivered", "新疆维吾尔自治区乌鲁木齐市"),
            ("YTO", "T", 2, "pickup", "杭州"),
            ("YTO", "T", 12, "delivered", "上海"),
            ("YTO", "A", 32, "pickup", "杭州"),
            ("YTO", "A", 90, "delivered", "上海"),
            ("JD", "E", 50.485 + 0.1 / 3600, "pickup", "杭州"),
            ("JD", "E", 52, "transit", "乌鲁木齐"),  # 3,268 km in 1.5 h: speed on an edge too
            ("JD", "I1", 5, "pickup", "苏州"),
            ("JD", "I1", 13, "transit", "广州"),
            ("JD", "I1", 40, "delivered", "广州"),
            ("EMS", "I2", 5, "pickup", "广州"),
            ("EMS", "I2", 13, "transit", "广州"),
            ("EMS", "I2", 20, "delivered", "广州"),
            ("EMS", "C", 5, "pickup", "广州"),
            ("EMS", "C", 13, "transit", "广州"),
            ("EMS", "C", 42, "transit", "北京"),
            ("EMS", "C", 48, "delivered", "北京"),
            ("STO", "P", 5, "pickup", "莆田"),
            ("STO", "P", 46, "delivered", "兰州"),
            *[
                e
                for i, city in enumerate(("义乌", "杭州", "金华"))
                for e in (
                    ("YD", f"Y{i}", 5, "pickup", "广州"),
                    ("YD", f"Y{i}", 40, "delivered", city),
                )
            ],
        ],
        licences=[("L1", "m1", "food_business", -1000, 10, "food")],
    )
    t["listings"].append(listing("l_sim", "m1", "P1", "通信/号卡", "手机卡"))
    t["listings"].append(listing("l_cooker", "m1", "P1", "家电/电饭煲", "电饭煲"))
    t["listings"].append(listing("l_head", "m1", "P1", "家电/电饭煲配件/密封圈", "密封圈"))
    return t


@pytest.mark.spark
@pytest.mark.slow  # one Spark session, about 30 Spark queries (finders and evidence)
def test_spark_matches_duckdb_for_every_logistics_and_licensing_check(tiny_store):
    con = tiny_store(_tables())
    duck = run_check(con, CODES)
    spark = run_check(con, CODES, engine="spark")
    by_code = duck.findings.groupby("check_code").size().to_dict()
    # the store holds a case of every code, so parity is not vacuous
    assert set(by_code) == set(CODES.split(",")), by_code
    cols = ["finding_id", "entity_id", "severity", "observed", "expected", "evidence_sha256"]
    f = duck.findings
    merged = f[f.entity_id.isin(["merged_a", "merged_b"]) & (f.check_code == "SHIP002")]
    assert list(merged.severity) == ["low", "low"]  # the graded rows are compared too
    assert "three" in set(f[f.check_code == "SHIP004"].entity_id)
    r = f[f.check_code == "SHIP002"].set_index("entity_id").severity.to_dict()
    assert "rec_old" not in r and r["rec_a"] == r["rec_b"] == "high", r
    p = f[f.check_code == "PARCEL001"].set_index("entity_id").severity.to_dict()
    assert "voided" not in p and p["invoice"] == p["sim"] == "low" and p["putian"] == "high", p
    assert p["cooker"] == "high" and "head" not in p, p
    a = duck.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    b = spark.findings.sort_values("finding_id")[cols].reset_index(drop=True)
    assert a.equals(b), a.compare(b) if a.shape == b.shape else (a, b)
    assert duck.evidence == spark.evidence
    edge = duck.findings[
        (duck.findings.entity_id == "edge") & (duck.findings.check_code == "SHIP001")
    ]
    assert '"hours_to_pickup":50.49' in edge.observed.iloc[0]  # half up, on both engines
