"""Every built-in pack loads, names only registered checks, cites law for every enabled rule,
and sets only parameters its checks have."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from promoguard.engine import registry
from promoguard.engine.packs import (
    BUILTIN_DIR,
    Pack,
    _parse_setting,
    _resolve_paths,
    available_packs,
    load_pack,
)
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


# -- a common base, and packs that state only what differs --------------------------------------


def _inherited(parent: Pack | None, check) -> tuple[bool, str, dict[str, Any], dict[str, Any]]:
    """What a pack inherits for ``check``: enabled, severity, parameter values, annotations."""
    rule = parent.rules.get(check.code) if parent else None
    if rule is None:
        return True, check.severity, check.parameter_defaults(), {}
    notes = {n: (s.basis, s.source, s.why) for n, s in rule.parameters.items()}
    return rule.enabled, parent.severity_for(check), parent.parameters_for(check), notes


def restated_settings(folder: Path) -> list[str]:
    """Every setting in the pack folder equal to what the pack inherits (from the pack it
    extends, or from the check's code), as ``file: CODE key``."""
    meta = yaml.safe_load((folder / "pack.yaml").read_text(encoding="utf-8"))
    parent = load_pack(meta["extends"]) if meta.get("extends") else None
    found = []
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        for code, raw in (yaml.safe_load(path.read_text(encoding="utf-8"))["checks"]).items():
            check = registry.get(code)
            enabled, severity, values, notes = _inherited(parent, check)
            where = f"{folder.name}/{path.name}: {code}"
            if "enabled" in raw and raw["enabled"] == enabled:
                found.append(f"{where} enabled")
            if "severity" in raw and raw["severity"] == severity:
                found.append(f"{where} severity")
            for name, value in (raw.get("parameters") or {}).items():
                setting = _parse_setting(value)
                if setting.has_value:
                    if _resolve_paths(setting.value, folder) == values[name]:
                        found.append(f"{where} {name}")
                elif notes.get(name) == (setting.basis, setting.source, setting.why):
                    found.append(f"{where} {name} (annotation)")
    return found


@pytest.mark.parametrize("name", ["base", *PACKS])
def test_a_pack_states_only_what_differs_from_what_it_inherits(name):
    assert restated_settings(BUILTIN_DIR / name) == []


def test_a_restated_setting_is_flagged(tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(BUILTIN_DIR / "cn", folder)
    pricing = folder / "pricing.yaml"
    text = pricing.read_text(encoding="utf-8")
    # cn's PRICE001 severity as it inherits it, and its lookback as the code's default
    text = text.replace("  PRICE001:\n", "  PRICE001:\n    severity: high\n", 1)
    text = text.replace(
        "      lookback_days: {basis: law,", "      lookback_days: {value: 7, basis: law,", 1
    )
    pricing.write_text(text, encoding="utf-8")
    assert restated_settings(folder) == [
        "mine/pricing.yaml: PRICE001 severity",
        "mine/pricing.yaml: PRICE001 lookback_days",
    ]


def test_the_jurisdictions_extend_the_base_which_is_not_a_pack_to_scan_with():
    assert "base" not in available_packs()
    for name in PACKS:
        meta = yaml.safe_load((BUILTIN_DIR / name / "pack.yaml").read_text(encoding="utf-8"))
        assert meta["extends"] == "base"


def test_an_annotation_keeps_the_inherited_value_and_a_value_overrides_it(tmp_path):
    (tmp_path / "pack.yaml").write_text("pack: mine\nextends: eu\n", encoding="utf-8")
    (tmp_path / "pricing.yaml").write_text(
        "checks:\n  PRICE001:\n    parameters:\n"
        "      lookback_days: {basis: law, source: our statute s. 1}\n"
        "      tolerance: {value: 0.05, basis: policy, why: coarse prices}\n",
        encoding="utf-8",
    )
    mine, eu = load_pack(tmp_path), load_pack("eu")
    check = registry.get("PRICE001")
    assert mine.timezone == eu.timezone  # inherited with the rules
    assert mine.parameters_for(check)["lookback_days"] == eu.parameters_for(check)["lookback_days"]
    assert mine.rules["PRICE001"].parameters["lookback_days"].source == "our statute s. 1"
    assert mine.parameters_for(check)["tolerance"] == 0.05
    assert mine.rules["PRICE001"].legal_basis == eu.rules["PRICE001"].legal_basis


def test_extends_names_a_built_in_pack_not_a_folder_in_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "pack.yaml").write_text("pack: base\ntimezone: Mars/Olympus\n")
    monkeypatch.chdir(tmp_path)
    assert load_pack("cn").timezone == "Asia/Shanghai"
    assert load_pack("cn").rules["PARCEL001"].parameters["min_weight_grams"].value["alcohol"] == 400


def test_the_fast_yaml_reader_reads_every_built_in_pack_file_as_the_python_one():
    """Pack files are read with libyaml's parser where PyYAML has it: the same data, and the
    anchors and aliases the Python loader refuses are still refused (its message)."""
    import yaml

    from promoguard.engine import packs

    files = sorted(packs.BUILTIN_DIR.rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert packs._load_text(text) == yaml.load(text, Loader=packs._PackLoader), path  # noqa: S506
    for bad in ("a: &x 1\nb: 2\n", "a: 1\nb: *x\n"):
        with pytest.raises(yaml.YAMLError, match="not allowed in a pack"):
            packs._load_text(bad)
