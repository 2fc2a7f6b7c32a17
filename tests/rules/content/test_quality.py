"""TEXT001-006 and REVIEW002 on the small simulated season under cn: precision and recall of at
least 0.95 per code against the simulator's ground truth (evasions and hard negatives included)."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.support import run_check

from promoguard.evaluate import evaluate

CODES = ["TEXT001", "TEXT002", "TEXT003", "TEXT004", "TEXT005", "TEXT006", "REVIEW002"]
TARGET = 0.95


@pytest.fixture(scope="module")
def scored(season_store, season_dir):
    result = run_check(season_store, CODES)
    truth = pd.read_csv(season_dir / "ground_truth.csv")
    truth = truth[truth.check_code.isin(CODES)]
    return result.findings, truth, evaluate(result.findings, truth, codes=CODES)


@pytest.mark.parametrize("code", CODES)
def test_precision_and_recall_per_code(scored, code):
    findings, truth, scores = scored
    row = scores.set_index("check_code").loc[code]
    assert row.truth > 0, f"the season has no {code} ground truth"
    f = set(
        zip(
            findings[findings.check_code == code].entity_type,
            findings[findings.check_code == code].entity_id,
            strict=True,
        )
    )
    t = set(
        zip(
            truth[truth.check_code == code].entity_type,
            truth[truth.check_code == code].entity_id,
            strict=True,
        )
    )
    assert row.precision >= TARGET and row.recall >= TARGET, (
        f"{code}: precision {row.precision:.3f}, recall {row.recall:.3f}; "
        f"false positives {sorted(f - t)[:10]}, missed {sorted(t - f)[:10]}"
    )


def test_review002_finds_both_reviews_and_texts(scored):
    findings, truth, _ = scored
    r = findings[findings.check_code == "REVIEW002"]
    assert set(r.entity_type) == {"review", "text"}
    assert set(truth[truth.check_code == "REVIEW002"].entity_type) == {"review", "text"}
