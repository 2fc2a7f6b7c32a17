"""LIC001: licensed categories, validity on the sale date, scope; per pack."""

from __future__ import annotations

import json

from tests.rules.logistics.helpers import found, order, tables
from tests.support import run_check


def test_lic001_validity_window_is_judged_at_the_sale(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("o1", listing="l_food", paid=50)],
            licences=[("L1", "m1", "food_business", 0, 40, None)],  # expired 10 h before the sale
        )
    )
    got = found(run_check(con, "LIC001"))
    assert set(got) == {"m1"}
    assert got["m1"]["unlicensed_orders"] == 1 and got["m1"]["categories"] == "food"


def test_lic001_valid_licence_open_ended_or_covering_is_fine(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("o1", listing="l_food", paid=50),
                order("o2", listing="l_food", paid=500),
                order("o3", listing="l_cos", paid=10),
            ],
            licences=[
                ("L1", "m1", "food_business", 0, None, None),  # open-ended, every category
                ("L2", "m1", "cosmetics", -100, 10, "cosmetics"),  # valid through the sale instant
            ],
        )
    )
    assert found(run_check(con, "LIC001")) == {}


def test_lic001_not_yet_valid_wrong_type_and_out_of_scope(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("early", listing="l_food", paid=5),  # licence starts at 10 h
                order("scope", listing="l_med", paid=20),  # m2's device licence covers apparel only
                order("alc", listing="l_alc", paid=20),  # m2 holds no alcohol licence
                order("app", listing="l_app", paid=20),  # apparel needs none
            ],
            licences=[
                ("L1", "m1", "food_business", 10, None, ""),
                ("L2", "m2", "medical_device", 0, None, "apparel; toys"),
                ("L3", "m2", "food_business", 0, None, None),  # wrong type for alcohol in cn
            ],
        )
    )
    result = run_check(con, "LIC001")
    f = result.findings.set_index("entity_id")
    assert set(f.index) == {"m1", "m2"}
    m2 = json.loads(f.loc["m2", "observed"])
    assert m2["categories"] == "alcohol;medical_device" and m2["unlicensed_orders"] == 2
    assert json.loads(f.loc["m2", "expected"]) == {
        "licence_types_required": "alcohol_retail;medical_device"
    }
    assert f.loc["m2", "platform_id"] == "P2"
    doc = json.loads(result.evidence[f.loc["m2", "evidence_sha256"]])
    assert sorted(r["licence_id"] for r in doc["rows"]["licences"]) == ["L2", "L3"]
    assert sorted(r["order_id"] for r in doc["rows"]["unlicensed_orders"]) == ["alc", "scope"]


def test_lic001_scope_matches_whole_items_not_substrings(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("o", listing="l_food", paid=5)],
            licences=[("L1", "m1", "food_business", 0, None, "seafood;health_food")],
        )
    )
    assert set(found(run_check(con, "LIC001"))) == {"m1"}


def test_lic001_follows_each_packs_map(tiny_store):
    con = tiny_store(
        tables(
            orders=[order("cos", listing="l_cos", paid=5), order("alc", listing="l_alc", paid=5)],
        )
    )
    assert set(found(run_check(con, "LIC001", "cn"))) == {"m1", "m2"}
    assert set(found(run_check(con, "LIC001", "us"))) == {"m2"}  # US: alcohol only
    assert found(run_check(con, "LIC001", "eu")) == {}  # EU: food registration only
    assert (
        found(
            run_check(
                con,
                "LIC001",
                "cn",
                {"LIC001": {"category_licences": {}, "policy_category_licences": {}}},
            )
        )
        == {}
    )
