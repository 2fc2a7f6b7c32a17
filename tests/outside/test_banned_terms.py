"""Issue #12 (3): content checks on an outside list of banned advertising claims.

``data/banned_terms.csv`` was written by hand from the Advertising Law (Arts. 9, 16-18) and SAMR's
2023 enforcement guide on absolute terms, without looking at the lexicons: comparative and
"first/leading" claims, endorsement by state organs or their staff (Art. 9(2)), efficacy guarantees
that are phrases (一盒见效, 100%有效), evasions of contact names with a symbol on either side of a
letter, and ordinary sentences that look like them. Each sentence is one advertisement text in a
store; the scan goes through the public API.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from ._store import scan, write_store

DATA = Path(__file__).with_name("data") / "banned_terms.csv"
CODES = ("TEXT001", "TEXT002", "TEXT004")


def _cases() -> list[dict]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        rows = [line for line in fh if not line.startswith("# ")]
    return list(csv.DictReader(rows))


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> tuple[list[dict], pd.DataFrame]:
    cases = _cases()
    texts = [
        {
            "text_id": f"t{i:03d}",
            "kind": "ad",
            "merchant_id": "m1",
            "created_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            "lang": "zh",
            "content": c["text"],
        }
        for i, c in enumerate(cases)
    ]
    path = write_store(
        tmp_path_factory.mktemp("content") / "texts.duckdb",
        {
            "platforms": [{"platform_id": "p1", "name": "Outside platform"}],
            "merchants": [{"merchant_id": "m1", "platform_id": "p1", "name": "Shop"}],
            "texts": texts,
        },
    )
    for i, c in enumerate(cases):
        c["text_id"] = f"t{i:03d}"
    return cases, scan(path, "cn", ",".join(CODES))


def _found(findings: pd.DataFrame, text_id: str, code: str) -> pd.DataFrame:
    return findings[(findings.entity_id == text_id) & (findings.check_code == code)]


def test_the_list_is_what_the_issue_describes():
    cases = _cases()
    banned = [c for c in cases if c["expect"] != "clean"]
    assert len(banned) >= 105 and len([c for c in cases if c["expect"] == "clean"]) >= 50
    for example in ("世界领先", "全国首家", "国家领导人推荐", "一盒见效", "100%有效", "V❤"):
        assert any(example in c["text"] for c in banned), example


def test_recall_on_the_banned_list(outcome):
    cases, findings = outcome
    banned = [c for c in cases if c["expect"] != "clean"]
    missed = [c["text"] for c in banned if _found(findings, c["text_id"], c["code"]).empty]
    recall = 1 - len(missed) / len(banned)
    assert recall >= 0.97, f"recall {recall:.3f}; missed: {missed}"


def test_benign_look_alikes_are_left_alone(outcome):
    cases, findings = outcome
    benign = [c for c in cases if c["expect"] == "clean"]
    flagged = [
        (c["text"], sorted(set(findings[findings.entity_id == c["text_id"]].check_code)))
        for c in benign
        if (findings.entity_id == c["text_id"]).any()
    ]
    assert not flagged


def test_absolute_terms_are_graded_by_context(outcome):
    cases, findings = outcome
    for c in cases:
        if c["expect"] not in ("low", "high"):
            continue
        rows = _found(findings, c["text_id"], c["code"])
        assert len(rows) == 1, c["text"]
        row = rows.iloc[0]
        assert row.severity == c["expect"], (c["text"], row.severity)
        if c["expect"] == "low":
            reason = json.loads(row.observed)["severity_reason"]
            assert "attribute" in reason and "2023" in reason, reason
