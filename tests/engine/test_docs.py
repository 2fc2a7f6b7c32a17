"""The registry, the generated rule pages (`explain`, docs/checks.md) and the checks command."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from promoguard.commands import checks_cmd
from promoguard.engine import docs, registry

ROOT = Path(__file__).resolve().parents[2]


def _app() -> typer.Typer:
    # only our commands: the test does not depend on every other command importing cleanly
    app = typer.Typer()
    app.command("checks")(checks_cmd.checks)
    app.command("explain")(checks_cmd.explain)
    return app


def test_every_check_has_a_complete_rule_page():
    for c in registry.all_checks():
        assert c.doc.what and c.doc.why and c.doc.example, c.code
        assert c.name == c.name.lower() and " " not in c.name, c.code
        for p in c.parameters:
            assert p.doc and p.basis in ("law", "policy"), (c.code, p.name)


def test_checks_json_lists_code_name_family_severity_title():
    result = CliRunner().invoke(_app(), ["checks", "--json", "--pack", "cn"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {r["code"]: r for r in data["checks"]}
    assert rows["PRICE001"]["family"] == "pricing"
    assert rows["PRICE001"]["severity"] == "high"
    assert set(rows["PRICE001"]) >= {"code", "name", "family", "severity", "title"}


def test_explain_shows_legal_basis_per_pack_and_parameters():
    result = CliRunner().invoke(_app(), ["explain", "PRICE001", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    packs = {p["pack"]: p for p in data["packs"]}
    assert {"cn", "eu", "uk", "us"} <= set(packs)
    cn_laws = [c["law"] for c in packs["cn"]["citations"]]
    assert "明码标价和禁止价格欺诈规定" in cn_laws
    assert packs["cn"]["parameters"]["lookback_days"]["value"] == 7
    assert packs["eu"]["parameters"]["lookback_days"] == {
        "value": 30,
        "basis": "law",
        "source": "Art. 6a(2) 'not shorter than 30 days'",
        "why": "",
        "set_by_pack": True,
    }
    text = docs.render_check_markdown(registry.get("PRICE001"), docs._packs(["eu"]))
    for heading in ("What it does", "Why it is unlawful", "Legal basis", "Example", "Parameters"):
        assert heading in text
    assert "98/6/EC" in text and "2019-11-27" in text


def test_explain_unknown_code_is_one_line_on_stderr():
    result = CliRunner().invoke(_app(), ["explain", "NOPE999"])
    assert result.exit_code == 1
    assert "unknown check 'NOPE999'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_docs_checks_md_is_current():
    path = ROOT / "docs" / "checks.md"
    expected = docs.render_markdown()
    assert path.exists(), f"docs/checks.md is missing: {docs.STALE_HINT}"
    assert path.read_text(encoding="utf-8") == expected, (
        f"docs/checks.md is stale: {docs.STALE_HINT}"
    )
