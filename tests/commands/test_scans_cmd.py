"""`promoguard scans`, and report/evaluate/API taking the latest *complete* scan by default."""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

import promoguard.api as pg
from promoguard.cli import app

runner = CliRunner()


def _json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_labels_the_partial_scan(two_scans):
    store, full, partial = two_scans
    items = _json("scans", "list", "--store", str(store))["items"]
    assert [i["scan_id"] for i in items] == [partial, full]  # newest first
    assert items[0]["partial"] and items[0]["label"].startswith("partial (5 of ")
    assert items[1]["complete"] and items[1]["label"] == "complete"
    text = runner.invoke(app, ["scans", "list", "--store", str(store)], env={"COLUMNS": "80"})
    assert "partial 5/" in text.stdout and "complete" in text.stdout


def test_show_names_the_checks_that_did_not_run(two_scans):
    store, _full, partial = two_scans
    shown = _json("scans", "show", partial[:-2], "--store", str(store))
    assert shown["scan_id"] == partial and "SHIP001" in shown["missing"]
    assert set(shown["by_check"]) == {"PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005"}
    assert shown["parameters"]["PRICE001"]["lookback_days"] == 30  # the eu rule


def test_diff_compares_only_checks_both_scans_ran(two_scans):
    store, full, partial = two_scans
    d = _json("scans", "diff", full, partial, "--store", str(store))
    assert d["compared_checks"] == ["PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005"]
    assert {k["check_code"] for k in d["only_a"] + d["only_b"]} <= set(d["compared_checks"])
    ship = next(r for r in d["checks"] if r["check_code"] == "SHIP001")
    assert ship["ran_in_a"] and not ship["ran_in_b"]
    con = duckdb.connect(str(store), read_only=True)
    eu = {r[0] for r in con.execute(
        "SELECT entity_id FROM findings WHERE scan_id = ? AND check_code = 'PRICE001'", [partial]
    ).fetchall()}  # fmt: skip
    cn = {r[0] for r in con.execute(
        "SELECT entity_id FROM findings WHERE scan_id = ? AND check_code = 'PRICE001'", [full]
    ).fetchall()}  # fmt: skip
    con.close()
    new = {k["entity_id"] for k in d["only_b"] if k["check_code"] == "PRICE001"}
    assert new == eu - cn


def test_delete_needs_yes_and_removes_findings_and_unused_evidence(two_scans_copy):
    store, full, partial = two_scans_copy
    refused = runner.invoke(app, ["scans", "delete", partial, "--store", str(store)])
    assert refused.exit_code == 1 and "--yes" in refused.stderr
    gone = _json("scans", "delete", partial, "--store", str(store), "--yes")["deleted"]
    assert gone["scan_id"] == partial and gone["findings"] > 0
    con = duckdb.connect(str(store), read_only=True)
    assert (
        con.execute("SELECT count(*) FROM findings WHERE scan_id = ?", [partial]).fetchone()[0] == 0
    )
    orphans = con.execute(
        "SELECT count(*) FROM evidence WHERE evidence_sha256 NOT IN "
        "(SELECT evidence_sha256 FROM findings)"
    ).fetchone()[0]
    assert orphans == 0
    # the cn scan's evidence is all still there
    missing = con.execute(
        "SELECT count(*) FROM findings f ANTI JOIN evidence e USING (evidence_sha256) "
        "WHERE f.scan_id = ?",
        [full],
    ).fetchone()[0]
    con.close()
    assert missing == 0
    # what remains still verifies: the deleted scan's seals went with it
    verified = runner.invoke(app, ["verify", "--store", str(store)])
    assert verified.exit_code == 0, verified.output


def test_report_takes_the_latest_complete_scan_and_says_so(two_scans, tmp_path):
    store, full, partial = two_scans
    data = _json("report", "--store", str(store), "--out", str(tmp_path / "r.html"))
    assert data["scan_id"] == full and data["scan"]["complete"]
    assert (
        "latest complete scan" in data["chosen_because"] and "passed over" in data["chosen_because"]
    )
    text = runner.invoke(app, ["report", "--store", str(store), "--out", str(tmp_path / "r.html")])
    assert full in text.stdout
    named = _json(
        "report", "--store", str(store), "--out", str(tmp_path / "p.html"), "--scan", partial
    )
    assert named["scan_id"] == partial and named["scan"]["partial"]
    assert "partial" in (tmp_path / "p.html").read_text(encoding="utf-8")


def test_api_findings_default_to_the_complete_scan(two_scans):
    store, full, _partial = two_scans
    df = pg.findings(store)
    assert set(df.scan_id) == {full}
    assert df.attrs["scan"]["scan_id"] == full and "complete" in df.attrs["chosen_because"]
    scans = pg.scans(store)
    assert list(scans.partial) == [True, False]


def test_unknown_scan_is_one_line(two_scans):
    store, _f, _p = two_scans
    result = runner.invoke(app, ["scans", "show", "scan-nope", "--store", str(store), "--json"])
    assert result.exit_code == 1
    assert "no scan 'scan-nope'" in json.loads(result.stdout)["error"]


@pytest.mark.parametrize("sub", ["list", "show", "diff", "delete"])
def test_subcommands_have_help(sub):
    result = runner.invoke(app, ["scans", sub, "--help"])
    assert result.exit_code == 0 and "--store" in result.stdout


def test_scans_and_reports_read_a_lake_and_delete_refuses_it_in_one_line(season_lake, tmp_path):
    """A Parquet lake: list, show, findings list, report work on it; delete says it cannot."""
    import json
    import shutil

    import pytest
    from typer.testing import CliRunner

    from promoguard import engine
    from promoguard import lake as lake_mod
    from promoguard.cli import app
    from promoguard.errors import CheckError

    lake = tmp_path / "lake"
    shutil.copytree(season_lake, lake)
    scan_id = lake_mod.scan(lake, "cn", checks="PRICE001,SHIP003").scan_id
    # the engine's own scan of a lake folder says what to use (not a catalog error)
    with pytest.raises(CheckError, match="Parquet lake: scan it with promoguard.lake.scan"):
        engine.scan(lake, "cn", checks="PRICE005")
    runner = CliRunner()
    listed = runner.invoke(app, ["scans", "list", "--store", str(lake), "--json"])
    assert listed.exit_code == 0 and scan_id in listed.stdout
    shown = runner.invoke(app, ["scans", "show", scan_id, "--store", str(lake)])
    assert shown.exit_code == 0 and "PRICE001" in shown.stdout
    found = runner.invoke(
        app, ["findings", "list", "--store", str(lake), "--scan", scan_id, "--json"]
    )
    assert json.loads(found.stdout)["total"] > 0
    out = tmp_path / "r.html"
    done = runner.invoke(
        app, ["report", "--store", str(lake), "--scan", scan_id, "--out", str(out)]
    )
    assert done.exit_code == 0 and "SHIP003" in out.read_text()
    gone = runner.invoke(app, ["scans", "delete", scan_id, "--store", str(lake), "--yes"])
    assert gone.exit_code == 1
    assert "Parquet lake" in gone.stderr and "Traceback" not in gone.stderr + gone.stdout
