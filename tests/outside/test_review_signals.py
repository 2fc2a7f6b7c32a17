"""Issue #12 (5)-(6): review spam scoring on real review metadata, and text-model folds.

The Deceptive Opinion Spam corpus (Ott et al., ../shared/data/opspam: 1,600 hotel reviews, 800
deceptive) has a hotel and a label, but no reviewer history, no orders, no dates and no ratings.
Loaded as reviews with a placeholder date and the polarity's star rating, it is what a regulator gets
from a platform that exports review metadata only. A signal whose inputs are absent is "not
available": never maximally suspicious, never inverted; a review with too few available signals is
not scored, and the scan says how many and why.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_path
from typer.testing import CliRunner

from ._store import write_store

PLACEHOLDER = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
HOTEL = re.compile(r"^[dt]_([a-z]+)_\d+\.txt$")


def _corpus() -> pd.DataFrame:
    root = shared_path("data", "opspam", "op_spam_v1.4")
    rows = []
    for polarity in ("positive", "negative"):
        for source in sorted((root / f"{polarity}_polarity").iterdir()):
            if not source.is_dir():
                continue
            label = 1 if source.name.startswith("deceptive") else 0
            for fold in sorted(source.glob("fold*")):
                for f in sorted(fold.glob("*.txt")):
                    rows.append(
                        {
                            "file": f.name,
                            "hotel": HOTEL.match(f.name).group(1),
                            "fold": int(fold.name[4:]),
                            "polarity": polarity,
                            "label": label,
                            "text": f.read_text(encoding="utf-8", errors="replace").strip(),
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return _corpus()


@pytest.fixture(scope="module")
def metadata_store(corpus, tmp_path_factory) -> Path:
    hotels = sorted(corpus.hotel.unique())
    reviews = pd.DataFrame(
        {
            "review_id": [f"r{i:04d}" for i in range(len(corpus))],
            "listing_id": corpus.hotel,
            "buyer_id": [f"u{i:04d}" for i in range(len(corpus))],  # one account per review
            "rating": np.where(corpus.polarity == "positive", 5, 1),
            "created_at": PLACEHOLDER,
            "text": corpus.text,
        }
    )
    return write_store(
        tmp_path_factory.mktemp("opspam") / "reviews.duckdb",
        {
            "platforms": [{"platform_id": "p1", "name": "Outside platform"}],
            "merchants": [{"merchant_id": "m1", "platform_id": "p1", "name": "Hotels"}],
            "listings": [
                {
                    "listing_id": h,
                    "merchant_id": "m1",
                    "platform_id": "p1",
                    "title": h,
                    "category": "travel",
                    "currency": "USD",
                }
                for h in hotels
            ],
            "reviews": reviews,
        },
    )


def test_the_corpus_is_whole(corpus):
    assert len(corpus) == 1600 and corpus.label.sum() == 800 and corpus.hotel.nunique() == 20


def test_review_scores_is_public_and_absent_inputs_are_not_available(metadata_store):
    import promoguard.api as pg

    scores = pg.review_scores(metadata_store)
    assert len(scores) == 1600
    # no orders at all: reviewer history and delivery timing cannot be judged
    assert scores["thin_history"].isna().all()
    assert scores["early"].isna().all()


def test_review003_does_not_score_reviews_without_enough_signals(metadata_store, corpus):
    from promoguard.cli import app

    result = CliRunner().invoke(
        app,
        ["scan", "--store", str(metadata_store), "--pack", "cn", "--checks", "REVIEW003", "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    cover = summary["coverage"]["REVIEW003"]
    assert cover["not_scored"] == 1600
    assert "signals" in cover["reason"]
    assert summary["by_check"]["REVIEW003"] == 0


# -- (6) train-reviews folds -------------------------------------------------------------------------


def _labels_csv(corpus: pd.DataFrame, path: Path, with_fold: bool = False) -> Path:
    cols = ["text", "label", "hotel"] + (["fold"] if with_fold else [])
    corpus[cols].rename(columns={"hotel": "listing_id"}).to_csv(path, index=False)
    return path


def test_train_reviews_folds_are_disjoint_by_listing(corpus, tmp_path):
    from promoguard.cli import app

    positive = corpus[corpus.polarity == "positive"]
    labels = _labels_csv(positive, tmp_path / "labels.csv")
    result = CliRunner().invoke(
        app,
        [
            "train-reviews",
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "m.joblib"),
            "--folds",
            "5",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["folds_by"] == "listing_id"
    for fold in summary["fold_groups"]:
        others = set().union(*(set(f) for f in summary["fold_groups"] if f is not fold))
        assert not set(fold) & others
    assert 0.8 < summary["cv_mean"] < 0.95


def test_train_reviews_takes_the_corpus_own_folds(corpus, tmp_path):
    from promoguard.cli import app

    positive = corpus[corpus.polarity == "positive"]
    labels = _labels_csv(positive, tmp_path / "labels.csv", with_fold=True)
    result = CliRunner().invoke(
        app,
        [
            "train-reviews",
            "--labels",
            str(labels),
            "--out",
            str(tmp_path / "m.joblib"),
            "--fold-column",
            "fold",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["folds_by"] == "fold"
    assert len(summary["cv_accuracy"]) == 5


def test_docs_state_the_cross_polarity_figure():
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = "\n".join(p.read_text(encoding="utf-8") for p in docs.rglob("*.md"))
    assert re.search(r"trained on positive[^.]*negative[^.]*0\.\d\d", text, re.S | re.I)
