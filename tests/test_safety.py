"""Outputs that never harm: formula-safe CSV, terminal-safe names, bidi-safe HTML, owner-only
files, and outputs that never overwrite inputs (issue #17, failures 5)."""

from __future__ import annotations

import csv
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from promoguard import safety
from promoguard.cli import app

runner = CliRunner()
EVIL_NAME = "=cmd|' /C calc'!A0"
ANSI = "\x1b[2J\x1b[1;1Hingest OK"
RLO = "Shop\u202eevil"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        ("", ""),
        (-5, -5),  # a number stays a number
        (None, None),
    ],
)
def test_spreadsheet_cell(cell, safe):
    assert safety.spreadsheet_cell(cell) == safe


def test_terminal_safe_shows_escapes_instead_of_running_them():
    shown = safety.terminal_safe(ANSI + "\r\n\t" + RLO + "\x9b")
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
    assert "\x9b" not in shown
    assert shown.startswith("\\x1b[2J") and "<U+202E>" in shown
    # tab and newline too: a name is printed on one line, its breaks shown, not made
    assert "\t" not in shown and "\n" not in shown
    assert shown == "\\x1b[2J\\x1b[1;1Hingest OK\\r\\n\\tShop<U+202E>evil\\x9b"


def test_bidi_safe_marks_every_bidi_control():
    for ch in safety.BIDI:
        out = safety.bidi_safe(f"<b>a{ch}b</b>")
        assert ch not in out and "&lt;U+" in out and out.startswith("<b>a")


def test_refuse_overwrite_sees_the_same_file_by_another_name(tmp_path):
    real = tmp_path / "v.duckdb"
    real.write_bytes(b"x")
    (tmp_path / "link.duckdb").symlink_to(real)
    for out in (real, tmp_path / "link.duckdb", tmp_path / "sub" / ".." / "v.duckdb"):
        with pytest.raises(safety.PromoGuardError, match="refusing to overwrite an input"):
            safety.refuse_overwrite(out, ("store", real))
    safety.refuse_overwrite(tmp_path / "other.html", ("store", real))


def test_private_file_makes_an_existing_world_readable_file_owner_only(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")
    path.chmod(0o644)
    safety.write_csv(pd.DataFrame({"name": [EVIL_NAME]}), path)
    assert _mode(path) == 0o600
    assert list(csv.reader(path.open()))[1] == ["'" + EVIL_NAME]


def test_write_csv_neutralises_a_formula_column_name(tmp_path):
    path = tmp_path / "out.csv"
    safety.write_csv(pd.DataFrame({"=SUM(A1)": ["x"], "plain": ["-1"]}), path)
    assert list(csv.reader(path.open())) == [["'=SUM(A1)", "plain"], ["x", "'-1"]]


def test_private_file_replaces_a_longer_existing_file_whole(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old content, much longer than what is written next\n" * 4)
    safety.write_csv(pd.DataFrame({"name": ["a"]}), path)
    assert path.read_text() == "name\na\n"


# ----- through the command line, on a small hand-made store -------------------------------------


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    """A store whose ids, names and texts carry formulas, ANSI escapes and bidi overrides."""
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "platforms.csv").write_text("platform_id,name\nP1,Tmall\n")
    (folder / "merchants.csv").write_text(
        f'merchant_id,platform_id,name\n"{EVIL_NAME}",P1,"{RLO}"\nM2,P1,"{ANSI}"\n'
    )
    (folder / "texts.csv").write_text(
        "text_id,kind,merchant_id,listing_id,created_at,lang,content\n"
        f'=T1,ad,"{EVIL_NAME}",,2026-11-11T00:00:00Z,zh,"=HYPERLINK(1) 全网最低价 {RLO}"\n'
        "T2,ad,M2,,2026-11-11T00:00:00Z,zh,+86 13800138000 品质最佳\n"
    )
    store = tmp_path_factory.mktemp("hs") / "h.duckdb"
    result = runner.invoke(app, ["ingest", str(folder), "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["scan", "--store", str(store), "--pack", "cn", "--checks", "TEXT001", "--json"]
    )
    assert result.exit_code == 0, result.output
    return store


def test_a_new_store_is_owner_only(hostile_store):
    assert _mode(hostile_store) == 0o600


def test_a_new_stores_write_ahead_log_is_owner_only(tmp_path):
    from promoguard import store

    path = tmp_path / "s.duckdb"
    old = os.umask(0o022)  # a usual umask: what the store must not rely on
    try:
        con = store.connect(path)
    finally:
        os.umask(old)
    try:
        wal = Path(f"{path}.wal")
        assert _mode(path) == 0o600
        assert wal.exists() and _mode(wal) == 0o600
        # a WAL an earlier writer left readable is made owner-only when the store is opened
        os.chmod(wal, 0o644)
        again = store.connect(path)
        again.close()
        assert not wal.exists() or _mode(wal) == 0o600
    finally:
        con.close()


def test_scan_csv_neutralises_formulas_and_is_owner_only(hostile_store, tmp_path):
    out = tmp_path / "f.csv"
    result = runner.invoke(
        app,
        [
            "scan",
            "--store",
            str(hostile_store),
            "--pack",
            "cn",
            "--checks",
            "TEXT001",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["entity_id"] for r in rows} >= {"'=T1"}
    for row in rows:
        for value in row.values():
            assert not value.startswith(safety.FORMULA_START), value
    assert _mode(out) == 0o600


def test_mask_csv_neutralises_formulas_and_is_owner_only(hostile_store, tmp_path):
    out = tmp_path / "masked"
    result = runner.invoke(app, ["mask", "--store", str(hostile_store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    texts = list(csv.DictReader((out / "texts.csv").open(encoding="utf-8")))
    assert texts[0]["text_id"] == "'=T1" and texts[0]["content"].startswith("'=HYPERLINK")
    assert texts[1]["content"].startswith("'+86") or "+86" not in texts[1]["content"]
    assert _mode(out / "texts.csv") == 0o600 and _mode(out / "reviews.csv") == 0o600


def test_report_is_owner_only_and_bidi_free(hostile_store, tmp_path):
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "--store", str(hostile_store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert not any(ch in page for ch in safety.BIDI)
    assert _mode(out) == 0o600


def test_report_refuses_to_overwrite_the_store(hostile_store, tmp_path):
    before = hostile_store.read_bytes()
    for out in (hostile_store, Path(os.path.relpath(hostile_store))):
        result = runner.invoke(app, ["report", "--store", str(hostile_store), "--out", str(out)])
        assert result.exit_code == 1
        assert "refusing to overwrite an input" in result.output
    assert hostile_store.read_bytes() == before


def test_scan_and_mask_refuse_to_overwrite_the_store(hostile_store, tmp_path):
    copy = tmp_path / "texts.csv"
    copy.write_bytes(hostile_store.read_bytes())
    result = runner.invoke(app, ["mask", "--store", str(copy), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    result = runner.invoke(
        app, ["scan", "--store", str(copy), "--pack", "cn", "--out", str(tmp_path / "texts.csv")]
    )
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    assert copy.read_bytes() == hostile_store.read_bytes()


def test_train_reviews_refuses_to_overwrite_its_labels(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("text,label\n" + "".join(f"review {i},{i % 2}\n" for i in range(8)))
    before = labels.read_bytes()
    result = runner.invoke(app, ["train-reviews", "--labels", str(labels), "--out", str(labels)])
    assert result.exit_code == 1 and "refusing to overwrite" in result.output
    assert labels.read_bytes() == before


def test_ingest_echoes_hostile_file_and_header_names_escaped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "platforms.csv").write_text(f'platform_id,name,"{ANSI}"\nP1,Tmall,x\n')
    (folder / f"notes{ANSI}.txt").write_text("hi")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "promoguard",
            "ingest",
            str(folder),
            "--store",
            str(tmp_path / "s.duckdb"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert out.returncode == 0, out.stderr
    assert "\x1b[2J" not in out.stdout + out.stderr
    assert "\\x1b[2J" in out.stdout  # the summary is the command's output: stdout


def test_an_output_inside_a_lake_or_over_any_database_is_refused(tmp_path):
    """`report --store lake --out lake/_manifest.json` wrote HTML over the manifest (the lake was
    lost), `scan --out lake/platforms/part-….parquet` findings over a table, and
    `report --out cases.db` HTML over the case database and its audit trail."""
    import sqlite3

    import duckdb

    lake = tmp_path / "lake"
    (lake / "platforms").mkdir(parents=True)
    (lake / "_manifest.json").write_text("{}")
    for out in (lake / "_manifest.json", lake / "platforms" / "part-1.parquet", lake / "new.csv"):
        with pytest.raises(safety.PromoGuardError, match="is inside the store"):
            safety.refuse_overwrite(out, ("store", lake))
    store = tmp_path / "s.duckdb"
    duckdb.connect(str(store)).close()
    with pytest.raises(safety.PromoGuardError, match="is the store itself"):
        safety.refuse_overwrite(tmp_path / "s.duckdb.wal", ("store", store))
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    cases = tmp_path / "cases.db"
    sqlite3.connect(cases).execute("CREATE TABLE t (x)").connection.close()
    for db in (other, cases):
        with pytest.raises(safety.PromoGuardError, match="is a database"):
            safety.refuse_overwrite(db, ("store", store))
    # what an output may be: a new file beside them, or an existing report written again
    (tmp_path / "r.html").write_text("<p>old</p>")
    safety.refuse_overwrite(tmp_path / "r.html", ("store", lake))
    safety.refuse_overwrite(tmp_path / "findings.parquet", ("store", store))


def test_report_writes_only_html_and_never_over_the_case_database(hostile_store, tmp_path):
    import sqlite3

    cases = tmp_path / "cases.db"
    sqlite3.connect(cases).execute("CREATE TABLE t (x)").connection.close()
    before = cases.read_bytes()
    for out, why in ((cases, "is a database"), (tmp_path / "r.pdf", "it ends in .html, not .pdf")):
        result = runner.invoke(app, ["report", "--store", str(hostile_store), "--out", str(out)])
        assert result.exit_code == 1 and why in result.output, result.output
    assert cases.read_bytes() == before
    head = runner.invoke(app, ["audit", "head", "--out", str(cases), "--db", f"sqlite:///{cases}"])
    assert head.exit_code == 1 and "is a database" in head.output
    assert cases.read_bytes() == before
