"""PRICE001–005 on the small simulated season under cn: precision and recall of at least 0.95
against the simulator's ground truth, per code."""

from __future__ import annotations

import pandas as pd
import pytest

from promoguard.checks import engine

CODES = ["PRICE001", "PRICE002", "PRICE003", "PRICE004", "PRICE005"]
TARGET = 0.95


@pytest.fixture(scope="module")
def scored(season_store, season_dir, tmp_path_factory):
    import shutil

    store = tmp_path_factory.mktemp("quality") / "season.duckdb"
    shutil.copy(season_store, store)
    result = engine.scan(store, "cn", checks="PRICE")
    truth = pd.read_csv(season_dir / "ground_truth.csv")
    return result.findings, truth


@pytest.mark.parametrize("code", CODES)
def test_precision_and_recall_per_code(scored, code):
    findings, truth = scored
    t = set(truth[(truth.check_code == code) & (truth.entity_type == "listing")].entity_id)
    f = set(findings[findings.check_code == code].entity_id)
    assert t, f"the season has no {code} ground truth"
    tp = len(t & f)
    precision, recall = tp / max(len(f), 1), tp / len(t)
    assert precision >= TARGET and recall >= TARGET, (
        f"{code}: precision {precision:.3f}, recall {recall:.3f}; "
        f"false positives {sorted(f - t)[:10]}, missed {sorted(t - f)[:10]}"
    )
