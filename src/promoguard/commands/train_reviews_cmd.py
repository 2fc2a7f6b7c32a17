"""`promoguard train-reviews`: fit the optional deceptive-review text model (TF-IDF + logistic)."""

from __future__ import annotations

from pathlib import Path

import typer

from promoguard.commands._common import console, emit_json, fail, user_errors


@user_errors
def train_reviews(
    labels: Path = typer.Option(
        ..., "--labels", help="CSV with columns text,label (1 = deceptive, 0 = genuine)."
    ),
    out: Path = typer.Option(
        Path("review-text-model.joblib"), "--out", help="Where to save the model (joblib)."
    ),
    folds: int = typer.Option(
        0, "--folds", help="Also report K-fold cross-validated accuracy (0: skip)."
    ),
    c: float = typer.Option(10.0, "--c", help="Inverse regularisation strength of the model."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Fit TF-IDF word 1-2-grams + logistic regression on labelled reviews and save the model.

    Set the saved path as REVIEW003's `text_model` parameter in a pack to add the model's
    probability to the behavioural spam score. The file is a pickle: load only models you trust.
    """
    import numpy as np

    from promoguard import reviews_model as rm
    from promoguard.safety import refuse_overwrite

    refuse_overwrite(out, ("--labels file", labels))
    texts, ys = rm.read_labels(labels)
    if len(texts) < 4:
        fail(f"{labels}: too few labelled reviews ({len(texts)}) to train on")
    if folds < 0 or folds == 1:
        fail("--folds must be 0 (skip) or at least 2")
    cv: list[float] = []
    with console.status("training the review text model"):
        if folds:
            rng = np.random.default_rng(0)
            order = rng.permutation(len(texts))
            parts = np.array_split(order, folds)
            split = [([texts[i] for i in p], [ys[i] for i in p]) for p in parts]
            cv = rm.cross_validate(split, c)
        model = rm.fit(texts, ys, c)
        model.save(out)
        train_acc = float(((model.score(texts) >= 0.5).astype(int) == np.asarray(ys)).mean())
    summary = {
        "model": str(out),
        "reviews": len(texts),
        "deceptive": int(sum(ys)),
        "train_accuracy": round(train_acc, 4),
        "cv_accuracy": [round(x, 4) for x in cv],
        "cv_mean": round(sum(cv) / len(cv), 4) if cv else None,
    }
    if as_json:
        emit_json(summary)
        return
    console.print(
        f"saved {out} ({len(texts)} reviews, {summary['deceptive']} deceptive); "
        f"training accuracy {summary['train_accuracy']}"
        + (f", {folds}-fold accuracy {summary['cv_mean']}" if cv else "")
    )
    console.print("the model file is a pickle: load it only from sources you trust")
