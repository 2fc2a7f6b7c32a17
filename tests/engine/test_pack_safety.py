"""A pack from another bureau configures checks; it never runs code or reaches outside its folder
(issue #17, failures 2 and 4): no YAML aliases or anchors, a size limit, ``extends`` only to a
built-in pack or a folder inside the pack, and a wrong-typed parameter is one line."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.engine import registry
from promoguard.engine.packs import MAX_YAML_BYTES, load_pack
from promoguard.errors import CheckError


def _level(i: int) -> str:
    items = ", ".join([f"*l{i - 1}"] * 9) if i else '"x"'
    return f"l{i}: &l{i} [{items}]\n"


BOMB = "pack: bomb\nextends: cn\n" + "".join(_level(i) for i in range(9))


def _pack(folder, meta: str, **files: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(meta, encoding="utf-8")
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    # The probe's 514-byte pack took 3.3 GB and 27 s, then a MemoryError traceback.
    folder = _pack(tmp_path / "bomb", BOMB)
    assert len(BOMB) < 1024
    started = time.perf_counter()
    with pytest.raises(CheckError, match="anchors .* are not allowed"):
        load_pack(folder)
    assert time.perf_counter() - started < 2


def test_aliases_are_refused_even_without_an_anchor_first(tmp_path):
    folder = _pack(tmp_path / "p", "pack: p\nextends: cn\n", pricing="checks: *x\n")
    with pytest.raises(CheckError, match="not valid YAML"):
        load_pack(folder)


def test_an_oversized_pack_file_is_refused(tmp_path):
    folder = _pack(
        tmp_path / "big", "pack: big\nextends: cn\n", notes="notes: " + "x" * MAX_YAML_BYTES
    )
    with pytest.raises(CheckError, match="a pack file holds at most"):
        load_pack(folder)


@pytest.mark.parametrize(
    "target", ["../elsewhere", "/tmp", "./../elsewhere", "sub/../../elsewhere"]
)
def test_extends_cannot_leave_the_pack_folder(tmp_path, target):
    _pack(tmp_path / "elsewhere", "pack: elsewhere\nextends: cn\n")
    folder = _pack(tmp_path / "mine", f"pack: mine\nextends: {target}\n")
    with pytest.raises(CheckError, match="leaves the pack's folder"):
        load_pack(folder)


def test_extends_may_name_a_folder_inside_the_pack_or_a_built_in_pack(tmp_path):
    folder = _pack(tmp_path / "mine", "pack: mine\nextends: ./local\n")
    _pack(folder / "local", "pack: local\nextends: eu\n")
    assert load_pack(folder).currency == load_pack("eu").currency
    with pytest.raises(CheckError, match="no such built-in pack"):
        load_pack(_pack(tmp_path / "other", "pack: other\nextends: nowhere\n"))


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("lookback_days: abc", "must be a whole number"),
        ("lookback_days: [1, 2]", "must be a whole number"),
        ("lookback_days: 1.5", "must be a whole number"),
        ("lookback_days: true", "must be a whole number"),
        ("tolerance: .nan", "must be a number"),
        ("progressive: 'yes'", "must be true or false"),
        ("exclude_statuses: {a: 1}", "must be a list"),
        ("exclude_statuses: 3", "must be a list"),
    ],
)
def test_a_wrong_typed_parameter_is_one_line(tmp_path, setting, message):
    folder = _pack(
        tmp_path / "typed",
        "pack: typed\nextends: cn\n",
        pricing=f"checks:\n  PRICE001:\n    parameters:\n      {setting}\n",
    )
    pack = load_pack(folder)
    with pytest.raises(CheckError, match=message):
        pack.parameters_for(registry.get("PRICE001"))


def test_scan_with_a_hostile_pack_is_one_line(tmp_path):
    folder = _pack(tmp_path / "bomb", BOMB)
    store = tmp_path / "s.duckdb"
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "platforms.csv").write_text("platform_id,name\nP1,x\n")
    assert CliRunner().invoke(app, ["ingest", str(inbox), "--store", str(store)]).exit_code == 0
    result = CliRunner().invoke(app, ["scan", "--store", str(store), "--pack", str(folder)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "not allowed" in result.stderr


@pytest.mark.parametrize("pack", ["cn", "eu", "uk", "us"])
def test_every_built_in_pack_passes_the_type_check(pack):
    loaded = load_pack(pack)
    for check in registry.all_checks():
        if check.code in loaded.enabled_codes():
            loaded.parameters_for(check)


def test_a_folder_named_like_a_built_in_pack_does_not_stand_in_for_it(tmp_path, monkeypatch):
    _pack(tmp_path / "cn", "pack: fake\nextends: eu\n")
    monkeypatch.chdir(tmp_path)
    assert load_pack("cn").name == "cn"
    assert load_pack("./cn").name == "fake"
