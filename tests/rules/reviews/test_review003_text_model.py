"""`promoguard train-reviews` and the optional text model it feeds into REVIEW003."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import SHARED
from tests.support import run_check
from typer.testing import CliRunner

from promoguard import reviews_model as rm
from promoguard.cli import app
from promoguard.rules.reviews.review003_spam_behaviour_score import (
    SpamBehaviourScore,
    review_scores,
)

OPSPAM = SHARED / "data" / "opspam" / "op_spam_v1.4"

GENUINE = [
    "The room was small but clean and the staff fixed the heating quickly.",
    "Breakfast was average, location near the station was convenient.",
    "Noisy street at night, bed comfortable, would stay again for the price.",
    "Check-in took twenty minutes, the view from the 12th floor was nice.",
    "Parking was expensive and the gym was tiny, otherwise fine.",
    "Shower pressure was weak but the towels were fresh every day.",
]
DECEPTIVE = [
    "Amazing amazing hotel! Best experience of my life, my husband and I loved everything!",
    "This luxury hotel is simply the best, I will definitely recommend it to everyone I know!",
    "Absolutely perfect stay, the most amazing luxury experience, best hotel in Chicago!",
    "My family loved this amazing hotel, truly the best luxury experience ever!",
    "Perfect perfect perfect! Best hotel, amazing staff, will definitely come back!",
    "The most luxurious and amazing experience, I recommend it to all my friends!",
]


def write_labels(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


@pytest.fixture
def labels(tmp_path):
    rows = [(t, 0) for t in GENUINE] + [(t, 1) for t in DECEPTIVE]
    return write_labels(tmp_path / "labels.csv", rows)


def test_train_reviews_saves_a_model_that_separates_the_classes(labels, tmp_path):
    out = tmp_path / "m.json"
    result = CliRunner().invoke(
        app, ["train-reviews", "--labels", str(labels), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["reviews"] == 12 and summary["deceptive"] == 6
    model = rm.load(out)
    p = model.score(["best amazing luxury hotel ever!", "the room was small, staff fixed it"])
    assert p[0] > 0.5 > p[1]


@pytest.mark.parametrize(
    ("content", "message"),
    [("words,label\nx,1\n", "needs columns text,label"), ("text,label\nx,maybe\n", "0 or 1")],
)
def test_train_reviews_rejects_bad_labels_in_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["train-reviews", "--labels", str(path)])
    assert result.exit_code == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_text_model_joins_review003_when_the_pack_names_it(review_con, labels, tmp_path):
    out = tmp_path / "m.json"
    rm.fit([r[0] for r in csv.reader(labels.open()) if r[1] != "label"], [0] * 6 + [1] * 6).save(
        out
    )
    scores = review_scores(review_con, {"text_model": str(out)})
    assert "text_model" in scores and scores.text_model.between(0, 1).all()
    # one more part of the score, of weight 1 (the weights name no text_model): 1 - sqrt of
    # the weighted mean of (1 - part)^2 over the available parts, the model's among them
    weights = {**SpamBehaviourScore().parameter_defaults()["weights"], "text_model": 1.0}
    w = pd.Series(weights)
    parts = scores[list(weights)]
    mean = ((1 - parts) ** 2 * w).sum(axis=1) / (parts.notna() * w).sum(axis=1)
    assert np.allclose(scores.score, 1 - np.sqrt(mean), atol=1e-4, rtol=0)
    without = review_scores(review_con)
    assert (scores.score != without.score).sum() > len(scores) / 2
    f = run_check(
        review_con, "REVIEW003", overrides={"REVIEW003": {"text_model": str(out)}}
    ).findings
    assert len(f) > 0
    assert f.observed.map(lambda o: json.loads(o)["text_model"] is not None).all()


def test_load_refuses_other_files(tmp_path):
    (tmp_path / "x.json").write_text('{"something": "else"}', encoding="utf-8")
    with pytest.raises(Exception, match="not a promoguard review text model"):
        rm.load(tmp_path / "x.json")


class _Marker:
    """Unpickling this creates a file: what a hostile pickle in a pack would do (issue #17, 2)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("name", ["model.joblib", "model.json", "model.bin"])
def test_a_pickle_named_by_a_pack_is_never_unpickled(review_con, tmp_path, name):
    import pickle

    marker = tmp_path / "pwned"
    (tmp_path / name).write_bytes(pickle.dumps(_Marker(marker)))
    with pytest.raises(Exception, match="pickle|not a promoguard"):
        rm.load(tmp_path / name)
    with pytest.raises(Exception, match="pickle|not a promoguard"):
        run_check(
            review_con, "REVIEW003", overrides={"REVIEW003": {"text_model": str(tmp_path / name)}}
        )
    assert not marker.exists()


def test_the_json_model_scores_exactly_as_the_fitted_pipeline(labels, tmp_path):
    texts = [r[0] for r in csv.reader(labels.open()) if r[1] != "label"]
    ys = [0] * 6 + [1] * 6
    pipe = rm.build_pipeline(10.0).fit(texts, ys)
    rm.TextModel.from_pipeline(pipe, len(texts)).save(tmp_path / "m.json")
    loaded = rm.load(tmp_path / "m.json")
    probe = [*texts, "best amazing luxury hotel ever!", "unseen words only", ""]
    assert loaded.score(probe) == pytest.approx(pipe.predict_proba(probe)[:, 1], abs=1e-12)
    assert oct((tmp_path / "m.json").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(idf=["x"] * len(d["idf"])), "numbers only"),
        (lambda d: d.update(coef=d["coef"][:-1]), "list of"),
        (lambda d: d.update(intercept="1; import os"), "intercept"),
        (lambda d: d["vocabulary"].update(extra=0), "each once"),
        (lambda d: d.update(format="promoguard-review-text-model/1"), "not a promoguard"),
    ],
)
def test_a_tampered_model_file_is_refused_in_one_line(labels, tmp_path, edit, message):
    texts = [r[0] for r in csv.reader(labels.open()) if r[1] != "label"]
    rm.fit(texts, [0] * 6 + [1] * 6).save(tmp_path / "m.json")
    document = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    edit(document)
    (tmp_path / "m.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(Exception, match=message):
        rm.load(tmp_path / "m.json")


def test_opspam_five_fold_accuracy_positive_polarity():
    """Ott et al.'s corpus with its own folds: n-gram baselines reach about 0.89 (positive)."""
    if not OPSPAM.exists():
        pytest.skip(f"{OPSPAM} is absent (the shared data sets sit beside the project)")
    accuracy = rm.cross_validate(rm.opspam_folds(OPSPAM, "positive"))
    assert sum(accuracy) / len(accuracy) >= 0.85, accuracy


def test_group_folds_keep_each_listing_in_one_fold_and_balance():
    groups = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] * 2 + ["e"]
    folds = rm.group_folds(groups, 3)
    seen = [{groups[i] for i in f} for f in folds]
    assert sorted(i for f in folds for i in f) == list(range(len(groups)))
    assert all(not (seen[a] & seen[b]) for a in range(3) for b in range(a + 1, 3))
    assert sorted(len(f) for f in folds) == [4, 5, 5]
    assert rm.group_folds(groups, 3) == folds  # the same on every run
    with pytest.raises(Exception, match="cannot make 6 listing-disjoint folds"):
        rm.group_folds(groups, 6)


def test_given_folds_are_taken_as_written(tmp_path):
    assert rm.given_folds(["2", "10", "1", "2"]) == [[2], [0, 3], [1]]
    with pytest.raises(Exception, match="have no fold"):
        rm.given_folds(["1", "", "2"])


def test_train_reviews_warns_when_it_must_split_at_random(labels, tmp_path):
    result = CliRunner().invoke(
        app,
        ["train-reviews", "--labels", str(labels), "--out", str(tmp_path / "m.json")]
        + ["--folds", "2", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["folds_by"] == "random"
    assert "folds are random" in result.stderr
