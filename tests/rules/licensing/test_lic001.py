"""LIC001: licensed categories, validity on the sale date, scope; per pack."""

from __future__ import annotations

import json

import pytest
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
                order("o4", listing="l_cos", paid=-100),  # and from its first instant
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
                order("alc", listing="l_alc", paid=30, status="paid"),  # no alcohol licence
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
    # the first and the last such sale, not one of them twice
    assert (m2["first_sale_at"], m2["last_sale_at"]) == (
        "2026-11-11T20:00:00Z",
        "2026-11-12T06:00:00Z",
    )
    assert json.loads(f.loc["m2", "expected"]) == {
        "licence_types_required": "alcohol_retail;medical_device"
    }
    assert f.loc["m2", "platform_id"] == "P2"
    doc = json.loads(result.evidence[f.loc["m2", "evidence_sha256"]])
    assert sorted(r["licence_id"] for r in doc["rows"]["licences"]) == ["L2", "L3"]
    # each offending order with its status (evidence_version 2)
    assert {r["order_id"]: r["status"] for r in doc["rows"]["unlicensed_orders"]} == {
        "alc": "paid",
        "scope": "shipped",
    }


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


def test_lic001_kept_evidence_equals_a_full_rescan(tmp_path, monkeypatch):
    """LIC001's ``evidence_touched`` (kept evidence): run on the whole store in ``scan --since``
    (as a season-wide check: in the increment it is scoped, docs/kept.md), the evidence hashes
    equal a full re-scan's, an untouched merchant's document is carried, and a hook that forgets
    new licence rows carries a stale one (the test that catches it)."""
    import shutil

    from tests.support import make_store, write_rows

    from promoguard import incremental, store
    from promoguard.engine import registry
    from promoguard.engine import run as eng

    lic001 = type(registry.get("LIC001"))
    monkeypatch.setattr(lic001, "depends_on", "season")
    path = tmp_path / "s.duckdb"
    day1 = tables(
        orders=[
            order("o1", listing="l_food", paid=50),
            order("o2", listing="l_med", paid=60),
            order("o3", listing="l_med", paid=70),
            order("o4", listing="l_app", paid=70),
        ],
        licences=[("L1", "m1", "food_business", 0, 40, None)],  # expired before the sale
    )
    make_store(path, day1).close()
    first = eng.scan(path, "cn", checks="LIC001").scan_id
    con = store.connect(path)
    # m1: a new unlicensed sale; m2: a licence of another type (its evidence lists it, its
    # findings' head does not move); a licensed-category-free sale of m2 changes nothing
    write_rows(
        con,
        {
            "orders": [order("o5", listing="l_food", paid=80), order("o6", listing="l_app")],
            "licences": [
                {
                    "licence_id": "L2",
                    "merchant_id": "m2",
                    "licence_type": "alcohol",
                    "valid_from": day1["licences"][0]["valid_from"],
                    "valid_to": None,
                    "scope": None,
                }
            ],
        },
    )
    con.close()

    def hashes(result):
        f = result.findings
        return dict(zip(f.entity_id, f.evidence_sha256, strict=True))

    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks="LIC001", save=False)
    assert set(hashes(full)) == {"m1", "m2"}
    inc, info = incremental.scan_since(path, "cn", first, checks="LIC001", save=False)
    assert info["rerun_season"] == ["LIC001"]
    assert hashes(inc) == hashes(full)
    assert [r.carried for r in inc.runs] == [0]  # both touched: m1 a sale, m2 a licence

    # a day that touches m1 only: m2's document is carried
    eng.scan(path, "cn", checks="LIC001")
    con = store.connect(path)
    write_rows(con, {"orders": [order("o7", listing="l_food", paid=90)]})
    con.close()
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks="LIC001", save=False)
    inc, _ = incremental.scan_since(path, "cn", "last", checks="LIC001", save=False)
    assert hashes(inc) == hashes(full)
    assert [r.carried for r in inc.runs] == [1]

    # a hook that forgets new licence rows: m2's stale document is carried, the hashes differ
    con = store.connect(path)
    write_rows(
        con,
        {
            "licences": [
                {
                    "licence_id": "L3",
                    "merchant_id": "m2",
                    "licence_type": "cosmetics",
                    "valid_from": day1["licences"][0]["valid_from"],
                    "valid_to": None,
                    "scope": None,
                }
            ]
        },
    )
    con.close()
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks="LIC001", save=False)
    right, _ = incremental.scan_since(path, "cn", "last", checks="LIC001", save=False)
    assert hashes(right) == hashes(full)
    hook = lic001.evidence_touched
    monkeypatch.setattr(
        lic001,
        "evidence_touched",
        lambda self, t, new, f, p, c: hook(self, t, new, f, p, c).filter(
            lambda r: r.entity_id != "m2"
        ),
    )
    wrong, _ = incremental.scan_since(path, "cn", "last", checks="LIC001", save=False)
    assert hashes(wrong)["m1"] == hashes(full)["m1"]
    assert hashes(wrong)["m2"] != hashes(full)["m2"]


def test_lic001_reads_categories_and_types_without_case_and_scopes_in_words(tiny_store):
    """A blind set's licences (session 32): 'Food' and 'FOOD_BUSINESS ' are the codes; a scope in
    words (酒类零售) is the licence's own wording and does not narrow it; a list of codes does."""
    t = tables(
        orders=[
            order("food", listing="l_food", paid=5),
            order("alc", listing="l_alc", paid=5),
            order("med", listing="l_med", paid=5),
        ],
        licences=[
            ("L1", "m1", "FOOD_BUSINESS ", 0, None, None),
            ("L2", "m2", "Alcohol_Retail", 0, None, "酒类零售"),
            ("L3", "m2", "medical_device", 0, None, "Apparel; Toys"),  # a list: not devices
        ],
    )
    t["listings"][0]["category"] = "Food "
    con = tiny_store(t)
    got = found(run_check(con, "LIC001"))
    assert set(got) == {"m2"} and got["m2"]["categories"] == "medical_device"
    # the same shape with the licence expired before the sale: still found
    t["licences"][0]["valid_to"] = t["licences"][0]["valid_from"]
    con = tiny_store(t, name="expired.duckdb")
    assert set(found(run_check(con, "LIC001"))) == {"m1", "m2"}


def test_lic001_only_cancelled_orders_are_low_with_the_reason(tiny_store):
    con = tiny_store(
        tables(
            orders=[
                order("c1", listing="l_food", paid=5, status="cancelled"),
                order("c2", listing="l_alc", paid=5, status="cancelled"),
                order("a2", listing="l_alc", paid=6, status="paid"),  # m2 also sold one
            ],
        )
    )
    f = run_check(con, "LIC001").findings.set_index("entity_id")
    assert f.loc["m1", "severity"] == "low"
    assert "cancelled" in json.loads(f.loc["m1", "observed"])["severity_reason"]
    assert f.loc["m2", "severity"] == "high"


@pytest.mark.parametrize(
    ("scope", "narrows"),
    [("apparel", True), ("Apparel, toys", True), ("apparel，toys", True), ("apparel、toys", True),
     ("apparel toys", True), (";apparel", True), ("apparel;;toys", True), ("apparel;医疗器械", True),
     ("第二类医疗器械经营备案", False), ("酒类零售", False), ("medical_device, apparel", False)],
)  # fmt: skip
def test_lic001_a_scope_of_codes_narrows_in_any_list_form_and_words_do_not(
    tiny_store, scope, narrows
):
    con = tiny_store(
        tables(
            orders=[order("med", listing="l_med", paid=5)],
            licences=[("L1", "m2", "medical_device", 0, None, scope)],
        )
    )
    assert (set(found(run_check(con, "LIC001"))) == {"m2"}) is narrows
