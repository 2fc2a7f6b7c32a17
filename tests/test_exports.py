"""Findings exports: xlsx with flattened columns, CSV with a BOM for Excel, JSON Lines."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from promoguard.cli import app
from promoguard.evaluate import read_table
from promoguard.exports import flattened, write_findings

FINDINGS = pd.DataFrame(
    [
        {
            "finding_id": "f1", "scan_id": "s1", "check_code": "PRICE001", "pack": "cn",
            "entity_type": "listing", "entity_id": "L1", "merchant_id": "M1", "platform_id": "P1",
            "severity": "high",
            "observed": '{"reference_price":"129.00","promotion_id":"P1-D11"}',
            "expected": '{"legal_prior_price":"79.00","prior_price_source":"transactions"}',
            "legal_basis": "明码标价和禁止价格欺诈规定 (2022-04-14) Art. 16 ¶2 [CN]",
            "evidence_sha256": "ab" * 32,
            "detected_at": pd.Timestamp("2026-11-11T02:00:00Z"),
        },
        {
            "finding_id": "f2", "scan_id": "s1", "check_code": "TEXT001", "pack": "cn",
            "entity_type": "text", "entity_id": "T1", "merchant_id": "M2", "platform_id": "P1",
            "severity": "medium",
            "observed": '{"matched":"=HYPERLINK(\\"x\\")","match_count":1}',
            "expected": '{"rule":"no absolute terms"}',
            "legal_basis": "中华人民共和国广告法 Art. 9(3) [CN]",
            "evidence_sha256": "cd" * 32,
            "detected_at": pd.Timestamp("2026-11-11T02:00:00Z"),
        },
    ]
)  # fmt: skip


def test_flattened_has_one_column_per_field():
    flat = flattened(FINDINGS)
    assert flat.loc[0, "observed.reference_price"] == "129.00"
    assert flat.loc[0, "expected.legal_prior_price"] == "79.00"
    assert pd.isna(flat.loc[0, "observed.matched"])
    assert flat.loc[1, "observed.match_count"] == 1
    assert flat.loc[0, "detected_at"] == "2026-11-11T02:00:00Z"
    # after the stored columns: observed fields, then expected ones, each sorted by name
    assert list(flat.columns) == [
        *FINDINGS.columns,
        "observed.match_count",
        "observed.matched",
        "observed.promotion_id",
        "observed.reference_price",
        "expected.legal_prior_price",
        "expected.prior_price_source",
        "expected.rule",
    ]


def test_xlsx_opens_with_readable_columns_frozen_header_and_filters(tmp_path):
    path = write_findings(FINDINGS, tmp_path / "f.xlsx", scan={"scan_id": "s1", "pack": "cn"})
    wb = openpyxl.load_workbook(path)
    ws = wb["findings"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["finding_id", "scan_id", "check_code", "pack", "entity_type", "entity_id"]
    assert "observed.reference_price" in header and "expected.legal_prior_price" in header
    assert "observed" not in header  # the JSON blob is replaced by its columns
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}3"
    row = dict(zip(header, [c.value for c in ws[2]], strict=True))
    assert row["observed.reference_price"] == 129.0  # a number, shown with two decimals
    assert ws.cell(row=2, column=header.index("observed.reference_price") + 1).number_format == (
        "#,##0.00"
    )
    assert row["legal_basis"].startswith("明码标价")
    formula = dict(zip(header, [c.value for c in ws[3]], strict=True))["observed.matched"]
    assert formula.startswith("'=")  # text, never a formula
    assert wb["scan"]["B2"].value == "s1"
    # evaluate reads the sheet back
    assert set(read_table(path).entity_id) == {"L1", "T1"}


def test_csv_has_a_bom_and_flattened_columns(tmp_path):
    path = write_findings(FINDINGS, tmp_path / "f.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "observed.reference_price" in text.splitlines()[0]
    assert "明码标价和禁止价格欺诈规定" in text
    back = read_table(path)
    assert list(back.entity_id) == ["L1", "T1"]
    # a flattened field that starts like a formula is written as text
    rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rows.loc[1, "observed.matched"] == '\'=HYPERLINK("x")'


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".xlsx"])
def test_every_format_is_owner_only(tmp_path, suffix):
    import stat

    path = tmp_path / f"f{suffix}"
    path.write_text("old")
    path.chmod(0o644)
    write_findings(FINDINGS, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_jsonl_has_objects_not_strings(tmp_path):
    path = write_findings(FINDINGS, tmp_path / "f.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["observed"] == {"reference_price": "129.00", "promotion_id": "P1-D11"}
    assert first["detected_at"] == "2026-11-11T02:00:00Z"
    assert list(read_table(path).entity_id) == ["L1", "T1"]


def test_unknown_extension_is_refused(tmp_path):
    from promoguard.errors import PromoGuardError

    with pytest.raises(PromoGuardError, match=r"\.xlsx"):
        write_findings(FINDINGS, tmp_path / "f.txt")


def test_scan_out_xlsx_from_the_command_line(season_store_copy, tmp_path):
    out = tmp_path / "findings.xlsx"
    result = CliRunner().invoke(
        app,
        ["scan", "--store", str(season_store_copy), "--pack", "cn", "--checks", "PRICE001",
         "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(out)["findings"]
    header = [c.value for c in ws[1]]
    assert "observed.reference_price" in header and ws.max_row > 1
    refused = CliRunner().invoke(
        app,
        ["scan", "--store", str(season_store_copy), "--pack", "cn", "--checks", "PRICE001",
         "--out", str(season_store_copy)],
    )  # fmt: skip
    assert refused.exit_code == 1
    # refused for its extension before any scan ran (it is no findings file)
    assert "--out must end in .parquet, .csv, .jsonl, .xlsx, not .duckdb" in refused.output
    import duckdb

    with duckdb.connect(str(season_store_copy), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM scans").fetchone()[0] == 1


def test_evaluate_scores_the_same_findings_the_same_from_every_format(tmp_path):
    """A finding an exemption lowered (low, with its reason) is left out of the scores; it was
    found by searching the observed JSON text, which JSON Lines reads back as an object and .xlsx
    does not carry: BRUSH001 precision 1.0 from Parquet and CSV, 0.84 from JSON Lines and .xlsx."""
    from promoguard.evaluate import evaluate

    lowered = {
        **FINDINGS.iloc[0].to_dict(),
        "finding_id": "f3",
        "entity_id": "L9",
        "severity": "low",
        "observed": '{"reference_price":"129.00","severity_reason":"a buying group (团购)"}',
    }
    findings = pd.concat([FINDINGS, pd.DataFrame([lowered])], ignore_index=True)
    truth = pd.DataFrame([{"check_code": "PRICE001", "entity_type": "listing", "entity_id": "L1"}])
    scores = {}
    for suffix in (".parquet", ".csv", ".jsonl", ".xlsx"):
        path = write_findings(findings, tmp_path / f"f{suffix}")
        got = evaluate(read_table(path), truth)
        scores[suffix] = got.set_index("check_code").loc["PRICE001", ["tp", "fp", "fn"]].tolist()
    assert scores == {s: [1, 0, 0] for s in (".parquet", ".csv", ".jsonl", ".xlsx")}, scores


def test_whole_numbers_stay_whole_in_the_flattened_columns(tmp_path):
    """A field some findings lack (NaN in the others) made the column float: n_buyers 4 was
    written 4.0 in .csv and .xlsx."""
    findings = FINDINGS.copy()
    findings.loc[0, "observed"] = '{"n_buyers": 4, "share": 0.5}'
    path = write_findings(findings, tmp_path / "f.csv")
    rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rows.loc[0, "observed.n_buyers"] == "4" and rows.loc[1, "observed.n_buyers"] == ""
    assert rows.loc[0, "observed.share"] == "0.5"
    sheet = openpyxl.load_workbook(write_findings(findings, tmp_path / "f.xlsx"))["findings"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("observed.n_buyers") + 1).value == 4
    assert isinstance(sheet.cell(2, header.index("observed.n_buyers") + 1).value, int)
