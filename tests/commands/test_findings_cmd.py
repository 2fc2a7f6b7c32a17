"""`promoguard findings list|show` and `quarantine list`."""

from __future__ import annotations

import json

import duckdb
from typer.testing import CliRunner

from promoguard.cli import app

runner = CliRunner()


def _json(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_filters_by_check_merchant_severity_platform(two_scans):
    store, full, _partial = two_scans
    con = duckdb.connect(str(store), read_only=True)
    m, p, n = con.execute(
        "SELECT merchant_id, platform_id, count(*) FROM findings WHERE scan_id = ? "
        "AND check_code LIKE 'SHIP%' AND severity = 'high' GROUP BY ALL ORDER BY 3 DESC LIMIT 1",
        [full],
    ).fetchone()
    # another platform, with its number of findings (the merchant is on one platform only, so
    # beside --merchant the platform filter would change nothing)
    q, q_n = con.execute(
        "SELECT platform_id, count(*) FROM findings WHERE scan_id = ? AND platform_id <> ? "
        "GROUP BY 1 ORDER BY 1 LIMIT 1",
        [full, p],
    ).fetchone()
    con.close()
    data = _json(
        "findings", "list", "--store", str(store), "--check", "SHIP", "--merchant", m,
        "--severity", "high", "--platform", p, "--limit", "0",
    )  # fmt: skip
    assert data["scan"]["scan_id"] == full  # the latest complete scan, not the newer partial one
    assert data["total"] == n == len(data["items"])
    for item in data["items"]:
        assert item["check_code"].startswith("SHIP") and item["merchant_id"] == m
        assert item["severity"] == "high" and item["platform_id"] == p
        assert isinstance(item["observed"], dict)
    by_platform = _json("findings", "list", "--store", str(store), "--platform", q, "--limit", "0")
    assert by_platform["total"] == q_n and {i["platform_id"] for i in by_platform["items"]} == {q}
    other = _json("findings", "list", "--store", str(store), "--merchant", m, "--platform", q)
    assert other["total"] == 0


def test_list_is_readable_at_80_columns_with_currency_and_local_time(two_scans):
    store, _full, _partial = two_scans
    result = runner.invoke(
        app,
        ["findings", "list", "--store", str(store), "--check", "PRICE001", "--limit", "3"],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    flat = " ".join(result.stdout.split())
    assert "¥" in flat and "legal prior price ¥" in flat
    assert "3 of " in result.stdout


def test_bad_severity_is_refused(two_scans):
    store, _f, _p = two_scans
    result = runner.invoke(app, ["findings", "list", "--store", str(store), "--severity", "huge"])
    assert result.exit_code == 1 and "--severity takes" in result.stderr


def test_show_gives_rule_basis_evidence_and_verifies_the_hash(two_scans):
    store, full, _p = two_scans
    con = duckdb.connect(str(store), read_only=True)
    fid, sha = con.execute(
        "SELECT finding_id, evidence_sha256 FROM findings WHERE scan_id = ? "
        "AND check_code = 'SHIP004' ORDER BY finding_id LIMIT 1",
        [full],
    ).fetchone()
    con.close()
    data = _json("findings", "show", fid[:12], "--store", str(store))
    assert data["finding_id"] == fid and data["evidence_verified"] is True
    assert data["evidence"]["rows"]["tracking_events"]
    assert "电子商务法" in data["legal_basis"]
    text = runner.invoke(app, ["findings", "show", fid, "--store", str(store)]).stdout
    assert "hash verified" in text and sha in text.replace("\n", "").replace(" ", "")
    assert "Impossible logistics" in text and "CST" in text  # local time of the cn pack


def test_show_reports_an_altered_evidence_document(two_scans_copy):
    store, full, _p = two_scans_copy
    con = duckdb.connect(str(store))
    fid, sha = con.execute(
        "SELECT finding_id, evidence_sha256 FROM findings WHERE scan_id = ? LIMIT 1", [full]
    ).fetchone()
    con.execute(
        "UPDATE evidence SET document = replace(document, '\"', ' \"') WHERE evidence_sha256 = ?",
        [sha],
    )
    con.close()
    data = _json("findings", "show", fid, "--store", str(store), "--scan", full)
    assert data["evidence_verified"] is False
    text = runner.invoke(app, ["findings", "show", fid, "--store", str(store)]).stdout
    assert "HASH MISMATCH" in text


def test_show_unknown_id_is_one_line(two_scans):
    store, _f, _p = two_scans
    result = runner.invoke(app, ["findings", "show", "nope", "--store", str(store)])
    assert result.exit_code == 1 and "no finding 'nope'" in result.stderr


def test_quarantine_list_shows_file_line_reason(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "platforms.csv").write_text("platform_id,name\nP1,a\n,b\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    assert runner.invoke(app, ["ingest", str(src), "--store", str(store)]).exit_code == 0
    data = _json("quarantine", "list", "--store", str(store))
    assert data["total"] == 1
    row = data["items"][0]
    assert row["source_file"] == "platforms.csv" and row["line_number"] == 3
    assert row["table_name"] == "platforms" and row["reason"]
    text = runner.invoke(app, ["quarantine", "list", "--store", str(store)]).stdout
    assert "1 quarantined row(s)" in text and "platforms.csv" in text


def test_list_says_when_a_check_was_not_checked_rather_than_imply_zero(season_store, tmp_path):
    """A scan of a store without coupons skips COUPON001 ("not checked (no coupons)"): listing
    its findings says so on stderr and in --json, instead of a bare "no finding matches"."""
    import shutil

    from promoguard import engine

    store = tmp_path / "store.duckdb"
    shutil.copy(season_store, store)
    con = duckdb.connect(str(store))
    con.execute("DELETE FROM coupon_redemptions")
    con.execute("DELETE FROM coupon_terms")
    con.execute("DELETE FROM coupons")
    con.close()
    scan_id = engine.scan(store, "cn", checks="COUPON001,PRICE001").scan_id
    result = runner.invoke(
        app, ["findings", "list", "--store", str(store), "--scan", scan_id, "--check", "COUPON001"]
    )
    assert result.exit_code == 0, result.output
    assert "no finding matches" in result.stdout
    assert "COUPON001: not checked (no coupons)" in " ".join(result.stderr.split())
    data = _json("findings", "list", "--store", str(store), "--scan", scan_id, "--check", "COUPON")
    assert data["total"] == 0
    reasons = {x["check_code"]: x["reason"] for x in data["not_checked"]}
    assert reasons["COUPON001"] == "not checked (no coupons)"
    assert reasons["COUPON002"].startswith("not run in this scan")  # the scan left it out
    # a check that ran and found something carries no note
    ran = _json("findings", "list", "--store", str(store), "--scan", scan_id, "--check", "PRICE001")
    assert ran["total"] > 0 and ran["not_checked"] == []


def test_list_notes_a_check_left_out_of_a_partial_scan(two_scans):
    store, _full, partial = two_scans
    result = runner.invoke(
        app, ["findings", "list", "--store", str(store), "--scan", partial, "--check", "SHIP001"]
    )
    assert result.exit_code == 0
    assert "SHIP001: not run in this scan (partial" in " ".join(result.stderr.split())
    data = _json("findings", "list", "--store", str(store), "--scan", partial, "--check", "TEXT004")
    assert data["not_checked"] == [{"check_code": "TEXT004", "reason": "not a check of pack eu"}]


def test_list_without_a_check_filter_sums_up_the_unchecked_in_one_line(two_scans):
    store, _full, partial = two_scans
    result = runner.invoke(app, ["findings", "list", "--store", str(store), "--scan", partial])
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "checks were not checked" in notes[0]


def test_quarantine_list_leaves_a_line_with_no_column_blank_not_nan(tmp_path):
    """A line that is unreadable as a whole names no column: the table showed "nan" there."""
    src = tmp_path / "in"
    src.mkdir()
    # beside a row refused for one column: the column's text then reads a NULL as NaN
    (src / "platforms.csv").write_text("platform_id,name\nP1,a\nP2,b,c,d\n,e\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    assert runner.invoke(app, ["ingest", str(src), "--store", str(store)]).exit_code == 0
    data = _json("quarantine", "list", "--store", str(store))
    assert data["total"] == 2
    assert [i["column_name"] for i in data["items"]] == [None, "platform_id"]
    text = runner.invoke(
        app, ["quarantine", "list", "--store", str(store)], env={"COLUMNS": "200"}
    ).stdout
    assert "platforms.csv" in text and "nan" not in text
