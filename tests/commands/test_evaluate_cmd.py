"""`promoguard evaluate`: truth matched to the findings' pack, or refused with the reason."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.errors import PromoGuardError
from promoguard.evaluate import match_pack

runner = CliRunner()


def _frame(rows, pack=None):
    df = pd.DataFrame(rows, columns=["check_code", "entity_type", "entity_id"])
    if pack is not None:
        df["pack"] = pack
    return df


def test_truth_of_another_pack_is_refused_with_the_reason():
    found = _frame([("PRICE001", "listing", "L1")], "eu")
    truth = _frame([("PRICE001", "listing", "L1")], "cn")
    with pytest.raises(PromoGuardError, match="labels pack\\(s\\) cn, not eu"):
        match_pack(found, truth)


def test_the_findings_pack_picks_its_truth_rows(tmp_path):
    found = _frame([("PRICE001", "listing", "L1"), ("PRICE001", "listing", "L2")], "eu")
    truth = pd.concat(
        [
            _frame([("PRICE001", "listing", "L1")], "cn"),
            _frame([("PRICE001", "listing", "L1"), ("PRICE001", "listing", "L2")], "eu"),
        ]
    )
    found.to_csv(tmp_path / "f.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    result = runner.invoke(
        app,
        ["evaluate", "--findings", str(tmp_path / "f.csv"), "--truth", str(tmp_path / "t.csv"),
         "--json"],
    )  # fmt: skip
    data = json.loads(result.stdout)
    assert data["pack"] == "eu"
    assert data["micro"]["tp"] == 2 and data["micro"]["fp"] == 0 and data["micro"]["fn"] == 0


def test_mixed_packs_need_a_choice():
    found = pd.concat(
        [
            _frame([("PRICE001", "listing", "L1")], "eu"),
            _frame([("PRICE001", "listing", "L1")], "cn"),
        ]
    )
    with pytest.raises(PromoGuardError, match="mix packs cn, eu"):
        match_pack(found, _frame([("PRICE001", "listing", "L1")], "cn"))
    assert match_pack(found, _frame([("PRICE001", "listing", "L1")], "cn"), "cn") == "cn"


def test_truth_without_a_pack_column_is_taken_as_it_is():
    found = _frame([("PRICE001", "listing", "L1")], "us")
    assert match_pack(found, _frame([("PRICE001", "listing", "L1")])) == "us"


def test_store_scan_is_scored_and_a_partial_scan_only_on_the_checks_it_ran(
    two_scans_copy, season_dir
):
    store, full, _partial = two_scans_copy
    truth = str(season_dir / "ground_truth.csv")
    whole = runner.invoke(app, ["evaluate", "--store", str(store), "--truth", truth, "--json"])
    data = json.loads(whole.stdout)
    assert data["scan"]["scan_id"] == full and data["pack"] == "cn"
    assert data["micro"]["precision"] > 0.9 and data["micro"]["recall"] > 0.9
    cn_price = runner.invoke(
        app,
        ["scan", "--store", str(store), "--pack", "cn", "--checks", "PRICE001", "--json"],
    )
    scan_id = json.loads(cn_price.stdout)["scan_id"]
    one = runner.invoke(
        app, ["evaluate", "--store", str(store), "--scan", scan_id, "--truth", truth, "--json"]
    )
    data = json.loads(one.stdout)
    assert [c["check_code"] for c in data["checks"]] == ["PRICE001"]
    assert data["micro"]["fn"] == 0  # the other checks' truth is not counted as missed


def test_findings_or_store_not_both(tmp_path):
    result = runner.invoke(app, ["evaluate", "--truth", str(tmp_path / "t.csv")])
    assert result.exit_code == 1 and "either --findings" in result.stderr
    # both given: refused before either is read (not the store taken and the file ignored)
    _frame([("PRICE001", "listing", "L1")], "cn").to_csv(tmp_path / "f.csv", index=False)
    both = runner.invoke(
        app,
        ["evaluate", "--findings", str(tmp_path / "f.csv"), "--store", str(tmp_path / "s.duckdb"),
         "--truth", str(tmp_path / "f.csv")],
    )  # fmt: skip
    assert both.exit_code == 1 and "either --findings" in both.stderr, both.output
