"""`promoguard scan`: findings into the store and --out, a JSON summary, stable ids."""

from __future__ import annotations

import json

import pandas as pd
import typer
from tests.rules.pricing.pricing_fixtures import Season, day
from typer.testing import CliRunner

from promoguard import store
from promoguard.commands import scan_cmd


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("scan")(scan_cmd.scan)
    app.command("noop")(lambda: None)
    return app


def _store(tmp_path):
    path = tmp_path / "s.duckdb"
    s = Season(path)
    s.listing("L1")
    s.order("L1", day(-2), "79.00")
    s.obs("L1", day(0, 2), "59.00", ref="129.00", label="原价")
    s.close()
    return path


def test_scan_writes_store_and_out_and_ids_are_stable(tmp_path):
    path = _store(tmp_path)
    runs = []
    for i, ext in enumerate(("parquet", "csv")):
        out = tmp_path / f"f{i}.{ext}"
        args = [
            "scan",
            "--store",
            str(path),
            "--pack",
            "cn",
            "--checks",
            "PRICE001",
            "--out",
            str(out),
            "--json",
        ]
        result = CliRunner().invoke(_app(), args)
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["by_check"] == {"PRICE001": 1} and summary["out"] == str(out)
        runs.append(pd.read_parquet(out) if ext == "parquet" else pd.read_csv(out))
    assert runs[0].finding_id.tolist() == runs[1].finding_id.tolist()
    assert runs[0].scan_id.iloc[0] != runs[1].scan_id.iloc[0]
    with store.open_store(path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM findings").fetchone()[0] == 2
        assert con.execute("SELECT count(DISTINCT finding_id) FROM findings").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM scans").fetchone()[0] == 2


def test_scan_errors_are_one_line(tmp_path):
    path = _store(tmp_path)
    cases = [
        (["--store", str(tmp_path / "nope.duckdb"), "--pack", "cn"], "no store"),
        (["--store", str(path), "--pack", "xx"], "unknown pack"),
        (["--store", str(path), "--pack", "cn", "--engine", "flink"], "unknown engine"),
        (
            ["--store", str(path), "--pack", "cn", "--out", str(tmp_path / "f.txt")],
            ".parquet, .csv, .jsonl, .xlsx",
        ),
        (["--store", str(path), "--pack", "cn", "--checks", "NOPE"], "no check matches"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(_app(), ["scan", *args])
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_out_it_cannot_write_stops_the_scan_before_it_is_saved(tmp_path):
    """`--out f.csv/sub.csv` (f.csv a file) failed after the scan was saved, with "File exists":
    a script that retried piled up scans."""
    path = _store(tmp_path)
    (tmp_path / "f.csv").write_text("x")
    out = tmp_path / "f.csv" / "sub.csv"
    result = CliRunner().invoke(
        _app(),
        ["scan", "--store", str(path), "--pack", "cn", "--checks", "PRICE001", "--out", str(out)],
    )
    assert result.exit_code == 1
    assert "it is a file, not a folder" in result.stderr
    con = store.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
    finally:
        con.close()
