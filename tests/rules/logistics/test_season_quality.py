"""Precision and recall of the six checks on the small simulated season under cn (>= 0.95)."""

from __future__ import annotations

import pandas as pd
from tests.support import run_check

from promoguard.evaluate import evaluate

CODES = ("SHIP001", "SHIP002", "SHIP003", "SHIP004", "PARCEL001", "LIC001")
TARGET = 0.95


def test_logistics_and_licensing_quality_on_the_small_season(season_store, season_dir):
    result = run_check(season_store, CODES)
    truth = pd.read_csv(season_dir / "ground_truth.csv", dtype=str)
    truth = truth[truth.check_code.isin(CODES)]
    report = evaluate(result.findings, truth, pack="cn", codes=CODES)
    rows = {r["check_code"]: r for r in report.to_dict("records")}
    for code in CODES:
        r = rows[code]
        assert r["truth"] >= 10, f"{code}: too few labels to measure ({r})"
        assert r["precision"] >= TARGET and r["recall"] >= TARGET, r
