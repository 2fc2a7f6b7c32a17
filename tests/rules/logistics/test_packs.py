"""The logistics and licensing rules of every pack: complete, cited and with known parameters."""

from __future__ import annotations

import pytest

from promoguard.engine import registry
from promoguard.engine.packs import load_pack

CODES = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "SHIP005", "PARCEL001", "LIC001")
PACKS = ("cn", "eu", "uk", "us")


@pytest.mark.parametrize("pack", PACKS)
def test_each_pack_configures_every_code_with_a_dated_basis(pack):
    p = load_pack(pack)
    for code in CODES:
        rule = p.rule(code)
        if not rule.enabled:
            assert rule.legal_basis == [] or rule.source_file, code
            continue
        assert rule.legal_basis, f"{pack} {code} cites nothing"
        for cite in rule.legal_basis:
            assert cite.law and cite.article and cite.version and cite.jurisdiction, cite
        assert rule.source_file in ("logistics.yaml", "licensing.yaml")
        # parameters_for raises on a name the check does not have
        p.parameters_for(registry.get(code))


@pytest.mark.parametrize("pack", PACKS)
def test_every_parameter_says_law_or_policy_and_why(pack):
    p = load_pack(pack)
    for code in CODES:
        for name, setting in p.rule(code).parameters.items():
            assert setting.basis in ("law", "policy"), (pack, code, name)
            if setting.basis == "law":
                assert setting.source, (pack, code, name)
            else:
                assert setting.why, (pack, code, name)


def test_dispatch_defaults_follow_each_jurisdiction():
    hours = {
        pack: load_pack(pack).parameters_for(registry.get("SHIP003"))["default_dispatch_hours"]
        for pack in PACKS
    }
    assert hours == {"cn": 48, "eu": 720, "uk": 720, "us": 720}


def test_cn_licence_map_covers_the_simulators_licensed_categories():
    params = load_pack("cn").parameters_for(registry.get("LIC001"))
    merged = {**params["category_licences"], **params["policy_category_licences"]}
    assert merged == {
        "food": "food_business",
        "health_food": "health_food",
        "cosmetics": "cosmetics",
        "medical_device": "medical_device",
        "alcohol": "alcohol_retail",
    }
