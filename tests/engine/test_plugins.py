"""A rule from another installed package: built into a wheel here, installed with pip into a
throwaway folder (the venv is left as found), then run by ``promoguard`` in a child process whose
path includes that folder. It registers through the ``promoguard.rules`` entry point, as the
built-in rules do through the registry, runs in a scan with a built-in pack plus the plugin's own
pack file, and appears in ``checks``, ``explain`` and the generated rule pages."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from promoguard import store
from promoguard.engine import registry

PLUGIN = '''"""A sample PromoGuard plugin: one rule, registered like the built-in ones."""

from promoguard.engine.base import Check, CheckDoc, Parameter
from promoguard.engine.registry import register


@register
class ShoutedTitle(Check):
    code = "SAMPLE001"
    name = "shouted-title"
    title = "Listing title written in capitals"
    family = "content"
    entity_type = "listing"
    severity = "low"
    parameters = (Parameter("word", "SALE", "the shouted word", basis="policy"),)
    observed_columns = ("title",)
    doc = CheckDoc(
        what="Finds listings whose title contains the shouted word.",
        why="A sample: shouting is not unlawful, it shows how a plugin rule is written.",
        example="A title 'MEGA SALE kettle'.",
    )

    def find(self, tables, params, ctx):
        t = tables.listings
        found = t.filter(t.title.contains(params["word"]))
        return found.select(
            entity_id=found.listing_id,
            merchant_id=found.merchant_id,
            platform_id=found.platform_id,
            title=found.title,
        )
'''
PACK_META = "pack: cn-sample\nextends: cn\ntitle: China, with the sample plugin\n"
PACK_RULES = """checks:
  SAMPLE001:
    severity: medium
    legal_basis:
      - law: Sample Rules
        article: Art. 1
        version: "2026-11-29"
        jurisdiction: CN
    parameters:
      word: {value: MEGA, basis: policy, why: our shops shout MEGA}
"""


def _record(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path) -> Path:
    """A wheel of the sample plugin, written by hand (no build backend, no network)."""
    dist = "promoguard_sample_plugin-0.1.dist-info"
    files = {
        "promoguard_sample_plugin/__init__.py": PLUGIN.encode(),
        "promoguard_sample_plugin/pack/pack.yaml": PACK_META.encode(),
        "promoguard_sample_plugin/pack/sample.yaml": PACK_RULES.encode(),
        f"{dist}/METADATA": b"Metadata-Version: 2.1\nName: promoguard-sample-plugin\nVersion: 0.1\n",
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: promoguard-tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
        f"{dist}/entry_points.txt": b"[promoguard.rules]\nsample = promoguard_sample_plugin\n",
    }
    record = [_record(n, d) for n, d in files.items()] + [f"{dist}/RECORD,,"]
    files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / "promoguard_sample_plugin-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return wheel


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The plugin installed by pip into a folder of its own (never into the venv)."""
    tmp = tmp_path_factory.mktemp("plugin")
    site = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(site), str(build_wheel(tmp))],
        check=True,
    )  # fmt: skip
    return site


def _promoguard(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    return subprocess.run(
        [sys.executable, "-m", "promoguard", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_plugin_is_not_in_this_process():
    # installed into a throwaway folder, not the venv the tests run in
    assert "SAMPLE001" not in {c.code for c in registry.all_checks()}


def test_a_plugin_rule_runs_with_a_built_in_pack_and_its_own_pack_file(plugin_site, tmp_path):
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    con.execute("INSERT INTO platforms VALUES ('p1', 'Shop')")
    merchant_cols = [r[0] for r in con.execute("DESCRIBE merchants").fetchall()]
    con.execute(
        f"INSERT INTO merchants ({', '.join(merchant_cols)}) "
        f"SELECT {', '.join(_merchant_value(c) for c in merchant_cols)}"
    )
    con.execute(
        "INSERT INTO listings VALUES ('l1', 'm1', 'p1', 'MEGA SALE kettle', 'home', 'CNY', NULL),"
        " ('l2', 'm1', 'p1', 'A quiet kettle', 'home', 'CNY', NULL)"
    )
    con.close()
    pack = plugin_site / "promoguard_sample_plugin" / "pack"
    scan = _promoguard(
        plugin_site, "scan", "--store", str(db), "--pack", str(pack), "--checks",
        "SAMPLE001,PRICE001", "--json",
    )  # fmt: skip
    assert scan.returncode == 0, scan.stderr
    summary = json.loads(scan.stdout)
    assert summary["pack"] == "cn-sample" and summary["by_check"]["SAMPLE001"] == 1
    with store.open_store(db, read_only=True) as con:
        row = con.execute(
            "SELECT entity_id, severity, legal_basis, observed FROM findings "
            "WHERE check_code = 'SAMPLE001'"
        ).fetchone()
    # the pack file set the word (MEGA, not the default SALE), the severity and the legal basis
    assert row[0] == "l1" and row[1] == "medium"
    assert "Sample Rules" in row[2] and json.loads(row[3]) == {"title": "MEGA SALE kettle"}
    # a built-in rule of cn runs beside it
    assert summary["by_check"]["PRICE001"] == 0


def _merchant_value(column: str) -> str:
    return {"merchant_id": "'m1'", "platform_id": "'p1'", "name": "'M1'"}.get(column, "NULL")


def test_a_plugin_rule_is_listed_explained_and_documented(plugin_site):
    listed = _promoguard(plugin_site, "checks", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "SAMPLE001" in listed.stdout
    page = _promoguard(plugin_site, "explain", "SAMPLE001")
    assert page.returncode == 0, page.stderr
    assert "shouted-title" in page.stdout + page.stderr
    docs = _promoguard(plugin_site, "checks", "--markdown")
    assert "## SAMPLE001 shouted-title" in docs.stdout
