"""Every built-in pack loads, names only registered checks, cites law for every enabled rule,
and sets only parameters its checks have."""

from __future__ import annotations

import pytest

from promoguard.engine import registry
from promoguard.engine.packs import available_packs, load_pack
from promoguard.errors import CheckError

PACKS = ["cn", "eu", "uk", "us"]
PRICING = ["PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005"]


def test_the_four_jurisdictions_are_built_in():
    assert set(PACKS) <= set(available_packs())


@pytest.mark.parametrize("name", PACKS)
def test_pack_loads_and_every_code_is_registered(name):
    pack = load_pack(name)
    known = {c.code for c in registry.all_checks()}
    unknown = sorted(set(pack.rules) - known)
    assert not unknown, f"pack {name} configures unregistered checks {unknown}"


@pytest.mark.parametrize("name", PACKS)
def test_every_enabled_rule_cites_law_article_and_version(name):
    pack = load_pack(name)
    for code in pack.enabled_codes():
        rule = pack.rules[code]
        assert rule.legal_basis, f"{name} {code}: enabled without a legal basis"
        for cite in rule.legal_basis:
            assert cite.law and cite.article, f"{name} {code}: citation without law/article"
            assert cite.version, f"{name} {code}: {cite.law} has no version date"
            assert cite.jurisdiction, f"{name} {code}: {cite.law} has no jurisdiction"


@pytest.mark.parametrize("name", PACKS)
def test_every_parameter_set_exists_and_says_where_it_comes_from(name):
    pack = load_pack(name)
    for code, rule in pack.rules.items():
        check = registry.get(code)
        pack.parameters_for(check)  # raises on an unknown parameter name
        for pname, setting in rule.parameters.items():
            if not code.startswith("PRICE"):
                continue  # other families document their own packs
            assert setting.basis in ("law", "policy"), f"{name} {code}.{pname}: basis"
            if setting.basis == "law":
                assert setting.source, f"{name} {code}.{pname}: law value without a source"
            else:
                assert setting.why, f"{name} {code}.{pname}: policy value without a why"


@pytest.mark.parametrize("name", PACKS)
def test_pricing_rules_are_configured_in_every_pack(name):
    pack = load_pack(name)
    assert set(PRICING) <= set(pack.rules)
    assert pack.rules["PRICE001"].source_file == "pricing.yaml"


def test_prior_price_rule_follows_the_jurisdiction():
    p001 = registry.get("PRICE001")
    cn, eu, us, uk = (load_pack(p).parameters_for(p001) for p in ("cn", "eu", "us", "uk"))
    assert (cn["prior_rule"], cn["lookback_days"]) == ("lowest_transacted", 7)
    assert (eu["prior_rule"], eu["lookback_days"], eu["progressive"]) == (
        "lowest_offered",
        30,
        True,
    )
    assert (us["prior_rule"], us["lookback_days"]) == ("established_offered", 90)
    assert uk["prior_rule"] == "established_offered"


def test_unknown_parameter_and_bad_yaml_are_reported_with_the_file(tmp_path):
    (tmp_path / "pack.yaml").write_text("pack: t\njurisdiction: T\n", encoding="utf-8")
    (tmp_path / "pricing.yaml").write_text(
        "checks:\n  PRICE001:\n    parameters:\n      lookback_dayz: 3\n", encoding="utf-8"
    )
    pack = load_pack(tmp_path)
    with pytest.raises(CheckError, match="unknown parameter 'lookback_dayz'.*pricing.yaml"):
        pack.parameters_for(registry.get("PRICE001"))
    (tmp_path / "pricing.yaml").write_text("checks: {PRICE001: [\n", encoding="utf-8")
    with pytest.raises(CheckError, match="not valid YAML at line"):
        load_pack(tmp_path)


def test_relative_paths_in_a_user_pack_resolve_against_the_file_that_names_them(tmp_path):
    (tmp_path / "pack.yaml").write_text("pack: mine\nextends: cn\n", encoding="utf-8")
    (tmp_path / "extra.yaml").write_text(
        "checks:\n  TEXT001:\n    parameters:\n      extra_lexicons: [./a.csv, ./sub/b.csv]\n",
        encoding="utf-8",
    )
    pack = load_pack(tmp_path)
    value = pack.rules["TEXT001"].parameters["extra_lexicons"].value
    assert value == [str((tmp_path / "a.csv").resolve()), str((tmp_path / "sub/b.csv").resolve())]
    assert pack.rules["PRICE001"].enabled  # the rest comes from cn
