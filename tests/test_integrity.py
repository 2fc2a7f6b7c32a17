"""`promoguard verify`: every tamper case the probe tried is caught and named (issue #17, 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from promoguard import integrity, store
from promoguard.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sealed_store(tmp_path_factory) -> tuple[Path, str]:
    """A small store scanned once through the CLI (so sealed as a user's scan is); its seal."""
    folder = tmp_path_factory.mktemp("in")
    (folder / "platforms.csv").write_text("platform_id,name\nP1,Tmall\n")
    (folder / "merchants.csv").write_text("merchant_id,platform_id,name\nM1,P1,A\nM2,P1,B\n")
    rows = [
        f"T{i},ad,M{i % 2 + 1},,2026-11-11T00:00:00Z,zh,品质最佳 全网最低价 第{i}号"
        for i in range(6)
    ]
    (folder / "texts.csv").write_text(
        "text_id,kind,merchant_id,listing_id,created_at,lang,content\n" + "\n".join(rows) + "\n"
    )
    path = tmp_path_factory.mktemp("store") / "s.duckdb"
    assert runner.invoke(app, ["ingest", str(folder), "--store", str(path)]).exit_code == 0
    result = runner.invoke(
        app, ["scan", "--store", str(path), "--pack", "cn", "--checks", "TEXT001", "--json"]
    )
    assert result.exit_code == 0, result.output
    seal = json.loads(result.stdout)["seal"]
    return path, seal


@pytest.fixture(params=[2, 1], ids=["row-seals", "document-seals"])
def copy(sealed_store, tmp_path, request) -> Path:
    """A copy of the sealed store; every tamper case runs on the seals scans write now (v2: the
    row, bound to its document by the document's hash) and on those of a store sealed before
    session 10 (v1: the document's text inside each seal), which must verify as they did."""
    path = tmp_path / "s.duckdb"
    shutil.copy(sealed_store[0], path)
    if request.param == 1:
        _reseal(path, 1)
    return path


def _reseal(path: Path, version: int) -> None:
    con = duckdb.connect(str(path))
    try:
        for (scan,) in con.execute("SELECT scan_id FROM scans").fetchall():
            integrity.seal_scan(con, scan, version=version)
    finally:
        con.close()


def _verify(path: Path, *extra: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["verify", "--store", str(path), "--json", *extra])
    return result.exit_code, json.loads(result.stdout)


def _problems(report: dict) -> set[tuple[str, str, str]]:
    return {(p["kind"], p["what"], p["id"]) for p in report["problems"]}


def _tamper(path: Path, *sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()


def _first(path: Path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def test_an_untouched_store_verifies(sealed_store):
    path, seal = sealed_store
    code, report = _verify(path, "--expect", seal)
    assert code == 0 and report["ok"]
    assert report["findings"] >= 6 and report["evidence"] >= 6 and report["scans"] == 1
    # the counts are the store's own, not a bound
    assert report["findings"] == _first(path, "SELECT count(*) FROM findings")[0]
    assert report["evidence"] == _first(path, "SELECT count(*) FROM evidence")[0]
    assert report["seals"] == {_first(path, "SELECT scan_id FROM scans")[0]: seal}


def test_an_edited_document_is_named(copy):
    sha, fid = _first(copy, "SELECT evidence_sha256, finding_id FROM findings ORDER BY 2 LIMIT 1")
    _tamper(
        copy,
        f"UPDATE evidence SET document = replace(document, 'T', 'X') "
        f"WHERE evidence_sha256 = '{sha}'",
    )
    code, report = _verify(copy)
    assert code == 1
    assert {("changed", "evidence", sha), ("changed", "finding", fid)} <= _problems(report)


@pytest.mark.parametrize(
    ("column", "value"),
    [("severity", "'low'"), ("observed", '\'{"matched": "nothing"}\''), ("entity_id", "'T99'")],
)
def test_a_changed_finding_value_is_named(copy, column, value):
    fid = _first(copy, "SELECT finding_id FROM findings ORDER BY 1 LIMIT 1")[0]
    _tamper(copy, f"UPDATE findings SET {column} = {value} WHERE finding_id = '{fid}'")
    code, report = _verify(copy)
    assert code == 1 and _problems(report) == {("changed", "finding", fid)}


def test_a_deleted_finding_is_named(copy):
    fid = _first(copy, "SELECT finding_id FROM findings ORDER BY 1 LIMIT 1")[0]
    _tamper(copy, f"DELETE FROM findings WHERE finding_id = '{fid}'")
    code, report = _verify(copy)
    assert code == 1 and _problems(report) == {("missing", "finding", fid)}


def test_a_finding_deleted_with_its_seal_changes_the_scan(copy, sealed_store):
    fid, scan = _first(copy, "SELECT finding_id, scan_id FROM findings ORDER BY 1 LIMIT 1")
    _tamper(
        copy,
        f"DELETE FROM findings WHERE finding_id = '{fid}'",
        f"DELETE FROM finding_seals WHERE finding_id = '{fid}'",
    )
    code, report = _verify(copy)
    assert code == 1 and ("changed", "scan", scan) in _problems(report)
    # the scan's problem says how many findings it was sealed with and how many seals are left
    sealed = _first(copy, f"SELECT findings FROM scans WHERE scan_id = '{scan}'")[0]
    (detail,) = [p["detail"] for p in report["problems"] if (p["what"], p["id"]) == ("scan", scan)]
    assert detail == f"sealed with {sealed} findings, {sealed - 1} seals remain"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("pack", "'eu'"),
        ("engine", "'spark'"),
        ("checks", "'TEXT001,PRICE001'"),
        ("parameters", "'{}'"),
        ("started_at", "started_at - INTERVAL 1 DAY"),
    ],
)
def test_an_edited_scans_row_changes_the_scan(copy, column, value):
    scan = _first(copy, "SELECT scan_id FROM scans")[0]
    _tamper(copy, f"UPDATE scans SET {column} = {value}")
    code, report = _verify(copy)
    assert code == 1 and _problems(report) == {("changed", "scan", scan)}, report


def test_a_deleted_scans_row_leaves_its_seal_named(copy):
    scan = _first(copy, "SELECT scan_id FROM scans")[0]
    _tamper(copy, "DELETE FROM scans")
    code, report = _verify(copy)
    assert code == 1 and ("missing", "scan", scan) in _problems(report), report


def test_text_moved_across_two_fields_of_a_finding_is_named(copy):
    # the fields are length-prefixed: "a|b" + "c" and "a" + "b|c" join to the same text with
    # "|" between them, and must not seal the same
    fid, scan = _first(copy, "SELECT finding_id, scan_id FROM findings ORDER BY 1 LIMIT 1")
    version = 1 if _first(copy, "SELECT min(seal_sha256) FROM finding_seals")[0][:3] != "v2:" else 2
    _tamper(
        copy,
        f"UPDATE findings SET observed = 'a|b', expected = 'c' WHERE finding_id = '{fid}'",
    )
    _reseal(copy, version)  # a finding whose values hold the separator, sealed as such
    assert _verify(copy)[0] == 0
    _tamper(
        copy, f"UPDATE findings SET observed = 'a', expected = 'b|c' WHERE finding_id = '{fid}'"
    )
    code, report = _verify(copy)
    assert code == 1 and _problems(report) == {("changed", "finding", fid)}, report


def test_a_deleted_document_is_named(copy):
    sha, fid = _first(copy, "SELECT evidence_sha256, finding_id FROM findings ORDER BY 2 LIMIT 1")
    _tamper(copy, f"DELETE FROM evidence WHERE evidence_sha256 = '{sha}'")
    code, report = _verify(copy)
    assert code == 1
    assert {("missing", "evidence", sha), ("changed", "finding", fid)} <= _problems(report)


def test_a_document_rewritten_with_its_hash_is_caught(copy):
    # The forger rewrites the document, renames it to its new hash and points the finding at it.
    sha, fid = _first(copy, "SELECT evidence_sha256, finding_id FROM findings ORDER BY 2 LIMIT 1")
    _tamper(
        copy,
        "CREATE TEMP TABLE forged AS SELECT replace(document, 'T', 'X') AS d FROM evidence "
        f"WHERE evidence_sha256 = '{sha}'",
        f"UPDATE evidence SET document = (SELECT d FROM forged), "
        f"evidence_sha256 = sha256((SELECT d FROM forged)) WHERE evidence_sha256 = '{sha}'",
        f"UPDATE findings SET evidence_sha256 = sha256((SELECT d FROM forged)) "
        f"WHERE finding_id = '{fid}'",
    )
    code, report = _verify(copy)
    assert code == 1 and ("changed", "finding", fid) in _problems(report)


def test_a_fully_resealed_forgery_is_caught_by_the_seal_kept_outside(copy, sealed_store):
    # Someone who knows the algorithm recomputes every seal: only the seal kept elsewhere helps.
    fid, scan = _first(copy, "SELECT finding_id, scan_id FROM findings ORDER BY 1 LIMIT 1")
    _tamper(copy, f"UPDATE findings SET severity = 'low' WHERE finding_id = '{fid}'")
    con = store.connect(copy)
    integrity.seal_scan(con, scan)
    con.close()
    assert _verify(copy)[0] == 0
    code, report = _verify(copy, "--expect", sealed_store[1])
    assert code == 1 and ("changed", "scan", scan) in _problems(report)


def test_an_added_finding_is_named(copy):
    _tamper(
        copy,
        "INSERT INTO findings SELECT * REPLACE ('forged0001' AS finding_id) FROM findings LIMIT 1",
    )
    code, report = _verify(copy)
    assert code == 1 and _problems(report) == {("added", "finding", "forged0001")}


def test_the_report_marks_a_scan_that_does_not_verify(copy, tmp_path):
    clean = tmp_path / "clean.html"
    assert runner.invoke(app, ["report", "--store", str(copy), "--out", str(clean)]).exit_code == 0
    assert "does not verify" not in clean.read_text(encoding="utf-8")
    fid = _first(copy, "SELECT finding_id FROM findings ORDER BY 1 LIMIT 1")[0]
    _tamper(copy, f"UPDATE findings SET severity = 'low' WHERE finding_id = '{fid}'")
    out = tmp_path / "r.html"
    assert runner.invoke(app, ["report", "--store", str(copy), "--out", str(out)]).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "This scan does not verify" in page and fid in page


def test_verify_human_output_names_each_problem(copy):
    fid = _first(copy, "SELECT finding_id FROM findings ORDER BY 1 LIMIT 1")[0]
    _tamper(copy, f"UPDATE findings SET severity = 'low' WHERE finding_id = '{fid}'")
    result = runner.invoke(app, ["verify", "--store", str(copy)])
    assert result.exit_code == 1
    assert f"finding {fid}: changed" in result.stdout
    assert "DOES NOT VERIFY" in result.stderr
    # with --json stdout is the object, and stderr still says it in one line (it said nothing)
    result = runner.invoke(app, ["verify", "--store", str(copy), "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["ok"] is False
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("promoguard: the store does not verify: 1 ")
    assert f"finding {fid}: changed" in lines[0]


def test_two_scans_with_the_same_finding_ids_verify_apart(copy):
    # Finding ids are stable across scans (same check, entity, pack): seals are per scan.
    result = runner.invoke(
        app, ["scan", "--store", str(copy), "--pack", "cn", "--checks", "TEXT001"]
    )
    assert result.exit_code == 0, result.output
    assert _verify(copy)[0] == 0
    scans = _first(copy, "SELECT count(DISTINCT scan_id), count(DISTINCT finding_id) FROM findings")
    assert scans[0] == 2
    fid, scan = _first(copy, "SELECT finding_id, max(scan_id) FROM findings GROUP BY 1 LIMIT 1")
    _tamper(
        copy,
        f"UPDATE findings SET severity = 'low' WHERE finding_id = '{fid}' AND scan_id = '{scan}'",
    )
    code, report = _verify(copy)
    assert code == 1 and _problems(report) == {("changed", "finding", fid)}
    assert scan in report["problems"][0]["detail"]


def test_scan_narrows_verify_and_expect_names_its_scan_among_many(copy):
    first, seal = _first(copy, "SELECT scan_id, seal_sha256 FROM scan_seals")
    result = runner.invoke(
        app, ["scan", "--store", str(copy), "--pack", "cn", "--checks", "TEXT001"]
    )
    assert result.exit_code == 0, result.output
    second = _first(copy, f"SELECT scan_id FROM scans WHERE scan_id <> '{first}'")[0]
    fid = _first(copy, f"SELECT finding_id FROM findings WHERE scan_id = '{second}' LIMIT 1")[0]
    _tamper(
        copy,
        f"UPDATE findings SET severity = 'low' WHERE finding_id = '{fid}' AND scan_id = '{second}'",
    )
    # --scan: only that scan's findings, documents and seal are checked
    code, report = _verify(copy, "--scan", first)
    assert code == 0 and report["scans"] == 1, report
    assert (
        report["findings"]
        == _first(copy, f"SELECT count(*) FROM findings WHERE scan_id = '{first}'")[0]
    )
    code, report = _verify(copy, "--scan", second)
    assert code == 1 and _problems(report) == {("changed", "finding", fid)}
    # --expect names one scan: with many in the store it needs --scan, it does not pick one
    code, report = _verify(copy, "--expect", seal)
    assert code == 1 and ("unsealed", "scan", "?") in _problems(report)
    assert _verify(copy, "--scan", first, "--expect", seal)[0] == 0
    code, report = _verify(copy, "--scan", second, "--expect", seal)
    assert code == 1 and ("changed", "scan", second) in _problems(report)


def test_a_reader_holding_the_store_does_not_stop_a_scan(copy):
    # A report or a duckdb shell reading the store while a scan runs: the scan computes with a
    # read-only connection and waits for the reader only for its short final write.
    import subprocess
    import sys

    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(copy)!r}, read_only=True); "
            "print('ok', flush=True); time.sleep(4); c.close()",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout.readline().strip() == "ok"
    result = runner.invoke(
        app, ["scan", "--store", str(copy), "--pack", "cn", "--checks", "TEXT001", "--json"]
    )
    reader.wait(timeout=60)
    assert result.exit_code == 0, result.output
    assert _first(copy, "SELECT count(*) FROM scans")[0] == 2
    assert _verify(copy)[0] == 0


def test_a_document_hash_stored_twice_seals_each_finding_once_with_its_first_document(copy):
    # A scan never stores a document hash twice, but a store edited by hand may: the seal then
    # takes each finding's first document (as it always has), one seal per finding. Without
    # duplicates the seal skips sorting the documents; this is the case that still needs it.
    sha, scan = _first(copy, "SELECT evidence_sha256, scan_id FROM findings LIMIT 1")
    _tamper(copy, f"INSERT INTO evidence VALUES ('{sha}', '!an earlier document')")
    con = duckdb.connect(str(copy))
    try:
        integrity.seal_scan(con, scan, version=1)
        per_finding = con.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM finding_seals "
            "WHERE scan_id = ? GROUP BY finding_id)",
            [scan],
        ).fetchone()[0]
        chosen = con.execute(
            integrity.sql(
                "SELECT s.seal_sha256 = {seal} FROM finding_seals s "
                "JOIN findings f USING (scan_id, finding_id) "
                "JOIN evidence e ON e.evidence_sha256 = f.evidence_sha256 "
                "WHERE f.evidence_sha256 = ? AND e.document = '!an earlier document'",
                seal=integrity.finding_seal_sql(),
            ),
            [sha],
        ).fetchall()
    finally:
        con.close()
    assert per_finding == 1
    assert chosen and all(ok for (ok,) in chosen)


def test_seals_are_the_same_with_or_without_sorting_the_documents(copy):
    # The seal of a store with no repeated document hash or finding id (every scan's) skips the
    # sort: it must give the seals the sorting query gives.
    con = duckdb.connect(str(copy))
    try:
        (scan,) = con.execute("SELECT scan_id FROM scans LIMIT 1").fetchone()
        assert integrity._first_document(con, integrity.Sql("WHERE f.scan_id = ?"), [scan]) == ""
        sorted_ = con.execute(
            integrity.sql(
                "SELECT f.finding_id, {seal} FROM findings f LEFT JOIN evidence e "
                "ON e.evidence_sha256 = f.evidence_sha256 WHERE f.scan_id = ? {first} ORDER BY 1",
                seal=integrity.finding_seal_sql(),
                first=integrity._FIRST_DOCUMENT,
            ),
            [scan],
        ).fetchall()
        integrity.seal_scan(con, scan, version=1)
        sealed = con.execute(
            "SELECT finding_id, seal_sha256 FROM finding_seals WHERE scan_id = ? ORDER BY 1", [scan]
        ).fetchall()
    finally:
        con.close()
    assert sealed == sorted_ and len(sealed) > 0


def test_scans_seal_the_row_not_the_document_text(sealed_store):
    # The seal a scan writes is v2: SHA-256 of the finding row (its evidence hash included), so
    # a daily save does not hash every carried document again; the document is bound by its hash.
    con = duckdb.connect(str(sealed_store[0]), read_only=True)
    try:
        rows = con.execute(
            integrity.sql(
                "SELECT s.seal_sha256, {row} FROM finding_seals s "
                "JOIN findings f USING (scan_id, finding_id)",
                row=integrity.row_seal_sql(),
            )
        ).fetchall()
    finally:
        con.close()
    assert rows and all(seal == row and seal.startswith("v2:") for seal, row in rows)


def test_a_store_with_scans_sealed_both_ways_verifies_each_its_own_way(copy, request):
    # An older store scanned again: one scan sealed v1 (or v2), the next v2. Both verify; a
    # tampered document is named in each scan that points at it, whatever its seal's form.
    result = runner.invoke(
        app, ["scan", "--store", str(copy), "--pack", "cn", "--checks", "TEXT001"]
    )
    assert result.exit_code == 0, result.output
    assert _verify(copy)[0] == 0
    forms = _first(
        copy,
        "SELECT count(DISTINCT starts_with(seal_sha256, 'v2:')) FROM finding_seals",
    )[0]
    sha = _first(copy, "SELECT evidence_sha256 FROM findings ORDER BY finding_id LIMIT 1")[0]
    _tamper(copy, f"UPDATE evidence SET document = document || ' ' WHERE evidence_sha256 = '{sha}'")
    code, report = _verify(copy)
    named = {
        p["detail"].split(":")[0]
        for p in report["problems"]
        if p["kind"] == "changed" and p["what"] == "finding"
    }
    scans = {
        r[0]
        for r in duckdb.connect(str(copy), read_only=True)
        .execute(
            f"SELECT DISTINCT 'scan ' || scan_id FROM findings WHERE evidence_sha256 = '{sha}'"
        )
        .fetchall()
    }
    assert code == 1 and named == scans and len(scans) == 2
    # the older store's first scan kept its v1 seals beside the new scan's v2 ones
    assert forms == (2 if request.node.callspec.params["copy"] == 1 else 1)


def test_a_document_set_to_null_is_named(copy):
    # v1 sealed the document's text ('-' for NULL differs from any text); v2 binds the document
    # by its hash, and sha256(NULL) <> hash is NULL, not true: verify compares IS DISTINCT FROM
    sha, fid = _first(copy, "SELECT evidence_sha256, finding_id FROM findings ORDER BY 2 LIMIT 1")
    _tamper(
        copy,
        "ALTER TABLE evidence ALTER COLUMN document DROP NOT NULL",
        f"UPDATE evidence SET document = NULL WHERE evidence_sha256 = '{sha}'",
    )
    code, report = _verify(copy)
    assert code == 1, report
    assert ("changed", "finding", fid) in _problems(report)


def test_a_second_document_under_a_hash_is_named(copy):
    # sound on both forms: a conflicting document stored under a finding's hash
    sha, fid = _first(copy, "SELECT evidence_sha256, finding_id FROM findings ORDER BY 2 LIMIT 1")
    _tamper(copy, f"INSERT INTO evidence VALUES ('{sha}', '!an earlier document')")
    code, report = _verify(copy)
    assert code == 1 and ("changed", "finding", fid) in _problems(report)


def test_a_finding_row_duplicated_is_named(copy):
    # an identical second row of a sealed finding shows twice in every report: verify names it
    # (the seals are compared by scan and finding id, so it compares the rows' count too)
    fid = _first(copy, "SELECT finding_id FROM findings ORDER BY 1 LIMIT 1")[0]
    _tamper(copy, f"INSERT INTO findings SELECT * FROM findings WHERE finding_id = '{fid}'")
    code, report = _verify(copy)
    assert code == 1 and ("added", "finding", fid) in _problems(report), report


def test_a_null_document_in_a_lake_is_named(season_lake, tmp_path):
    # in a lake no NOT NULL guards the evidence files: a document rewritten as NULL in its Parquet
    # file must not pass `verify --expect SEAL`
    from promoguard import lake

    root = tmp_path / "lake"
    shutil.copytree(season_lake, root)
    res = runner.invoke(
        app, ["scan", "--store", str(root), "--pack", "cn", "--checks", "PRICE", "--json"]
    )
    assert res.exit_code == 0, res.output
    seal = json.loads(res.stdout)["seal"]
    manifest = json.loads((root / lake.MANIFEST).read_text())
    files = manifest["tables"]["evidence"]
    assert files
    target = root / files[0]
    con = duckdb.connect()
    tmp = tmp_path / "forged.parquet"
    con.execute(
        f"COPY (SELECT evidence_sha256, CASE WHEN row_number() OVER () = 1 THEN NULL "
        f"ELSE document END AS document FROM read_parquet('{target}')) TO '{tmp}' (FORMAT parquet)"
    )
    con.close()
    shutil.copy(tmp, target)
    res = runner.invoke(app, ["verify", "--store", str(root), "--expect", seal, "--json"])
    assert res.exit_code == 1, res.output
