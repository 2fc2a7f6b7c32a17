"""`promoguard evaluate`: exact scores on hand-made findings, and the CLI contract."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from promoguard.commands.evaluate_cmd import evaluate as evaluate_command
from promoguard.evaluate import NO_DATA, evaluate, rule_codes

TRUTH = pd.DataFrame(
    [
        ("PRICE001", "listing", "L1", "cn"),
        ("PRICE001", "listing", "L2", "cn"),
        ("PRICE001", "listing", "L3", "cn"),
        ("PRICE001", "listing", "L4", "cn"),
        ("SHIP001", "order", "O1", "cn"),
        ("BRUSH001", "buyer_group", "B1|B2|B3", "cn"),
    ],
    columns=["check_code", "entity_type", "entity_id", "pack"],
)
FINDINGS = pd.DataFrame(
    [
        ("PRICE001", "listing", "L1"),
        ("PRICE001", "listing", "L2"),
        ("PRICE001", "listing", "L2"),  # a duplicate finding counts once
        ("PRICE001", "listing", "L9"),
        ("PRICE001", "order", "L3"),  # right id, wrong entity type: a false positive
        ("TEXT001", "text", "T1"),
        ("BRUSH001", "buyer_group", "B1|B2|B3"),
    ],
    columns=["check_code", "entity_type", "entity_id"],
)

SPEC_CODES = rule_codes()


def _by_code(df: pd.DataFrame) -> dict[str, dict]:
    return {r["check_code"]: r for r in df.to_dict("records")}


def test_exact_scores_per_code_and_micro():
    r = _by_code(evaluate(FINDINGS, TRUTH, codes=SPEC_CODES))
    p = r["PRICE001"]
    assert (p["tp"], p["fp"], p["fn"]) == (2, 2, 2)
    assert p["precision"] == pytest.approx(0.5) and p["recall"] == pytest.approx(0.5)
    assert p["f1"] == pytest.approx(0.5)
    assert r["BRUSH001"]["precision"] == 1.0 and r["BRUSH001"]["recall"] == 1.0
    # truth but no findings: recall 0, precision undefined
    s = r["SHIP001"]
    assert s["status"] == "no findings" and s["recall"] == 0.0 and pd.isna(s["precision"])
    # findings but no truth: precision 0, recall undefined
    t = r["TEXT001"]
    assert t["status"] == "no truth" and t["precision"] == 0.0 and pd.isna(t["recall"])
    # neither: reported as such, never as a perfect score
    n = r["TEXT003"]
    assert (
        n["status"] == NO_DATA
        and pd.isna(n["precision"])
        and pd.isna(n["recall"])
        and pd.isna(n["f1"])
    )
    total = r["ALL"]
    assert (total["tp"], total["fp"], total["fn"]) == (3, 3, 3)
    assert total["precision"] == pytest.approx(0.5) and total["recall"] == pytest.approx(0.5)


def test_pack_filter_and_missing_columns():
    other = pd.concat(
        [TRUTH, pd.DataFrame([("TEXT001", "text", "T1", "eu")], columns=TRUTH.columns)]
    )
    r = _by_code(evaluate(FINDINGS, other, pack="cn"))
    assert r["TEXT001"]["truth"] == 0
    from promoguard.errors import PromoGuardError

    with pytest.raises(PromoGuardError, match="entity_id"):
        evaluate(FINDINGS.drop(columns=["entity_id"]), TRUTH)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(evaluate_command)
    return app


def test_cli_json_contract(tmp_path):
    findings = tmp_path / "findings.parquet"
    FINDINGS.to_parquet(findings)
    truth = tmp_path / "ground_truth.csv"
    TRUTH.to_csv(truth, index=False)
    result = CliRunner().invoke(
        _app(), ["--findings", str(findings), "--truth", str(truth), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)  # exactly one JSON object on stdout
    codes = {c["check_code"]: c for c in out["checks"]}
    assert set(SPEC_CODES) <= set(codes)
    assert codes["PRICE001"]["precision"] == 0.5 and codes["TEXT003"]["status"] == NO_DATA
    assert out["micro"]["tp"] == 3 and out["micro"]["recall"] == 0.5


def test_cli_errors_are_one_line(tmp_path):
    truth = tmp_path / "ground_truth.csv"
    TRUTH.to_csv(truth, index=False)
    result = CliRunner().invoke(
        _app(), ["--findings", str(tmp_path / "nope.csv"), "--truth", str(truth)]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "nope.csv" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(_app(), ["--findings", str(bad), "--truth", str(truth), "--json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "lacks column" in result.stderr


def test_perfect_findings_on_simulated_truth_score_one(small_season):
    folder, _ = small_season
    truth = pd.read_csv(folder / "ground_truth.csv", dtype=str)
    r = _by_code(evaluate(truth.drop(columns=["pack"]), truth))
    assert r["ALL"]["precision"] == 1.0 and r["ALL"]["recall"] == 1.0
    assert all(r[c]["f1"] == 1.0 for c in SPEC_CODES)
