"""`promoguard train-reviews`: fit the optional deceptive-review text model (TF-IDF + logistic)."""

from __future__ import annotations

from pathlib import Path

import typer

from promoguard.commands._common import console, emit_json, fail, user_errors

#: the column a labels file names its listing in, used for listing-disjoint folds when present
LISTING_COLUMN = "listing_id"


@user_errors
def train_reviews(
    labels: Path = typer.Option(
        ...,
        "--labels",
        help="CSV with columns text,label (1 = deceptive, 0 = genuine), and optionally listing_id.",
    ),
    out: Path = typer.Option(
        Path("review-text-model.json"), "--out", help="Where to save the model (JSON)."
    ),
    folds: int = typer.Option(
        0,
        "--folds",
        help="Also report K-fold cross-validated accuracy (0: skip). Folds are disjoint by "
        "--group-column: no listing's reviews are in both training and test.",
    ),
    group_column: str = typer.Option(
        LISTING_COLUMN,
        "--group-column",
        help="Column whose values (listings, hotels) never straddle two folds. Without it in the "
        "file, folds are random and a warning says so.",
    ),
    fold_column: str | None = typer.Option(
        None,
        "--fold-column",
        help="Column holding each review's fold (a corpus's own folds); overrides --folds.",
    ),
    c: float = typer.Option(10.0, "--c", help="Inverse regularisation strength of the model."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Fit TF-IDF word 1-2-grams + logistic regression on labelled reviews and save the model.

    Set the saved path as REVIEW003's `text_model` parameter in a pack to add the model's
    probability to the behavioural spam score. The file is JSON (numbers only, never code).
    Cross-validation keeps each listing's reviews in one fold; a model trained on one polarity
    does much worse on the other (docs/benchmarks/brushing.md).
    """
    import csv as _csv

    import numpy as np

    from promoguard import reviews_model as rm
    from promoguard.safety import refuse_overwrite

    refuse_overwrite(out, ("--labels file", labels))
    if folds < 0 or folds == 1:
        fail("--folds must be 0 (skip) or at least 2")
    header: list[str] = []
    if labels.is_file():
        with labels.open(encoding="utf-8-sig", newline="") as fh:
            header = next(_csv.reader(fh), [])
    wanted = [fold_column] if fold_column else []
    by_group = not fold_column and folds and group_column in header
    if by_group:
        wanted.append(group_column)
    elif folds and not fold_column and group_column != LISTING_COLUMN:
        fail(f"{labels}: has no column {group_column}")
    texts, ys, extra = rm.read_labelled(labels, wanted)
    if len(texts) < 4:
        fail(f"{labels}: too few labelled reviews ({len(texts)}) to train on")
    cv: list[float] = []
    fold_groups: list[list[str]] = []
    folds_by = None
    with console.status("training the review text model"):
        parts: list[list[int]] = []
        if fold_column:
            parts, folds_by = rm.given_folds(extra[fold_column]), fold_column
        elif folds and by_group:
            groups = extra[group_column]
            parts, folds_by = rm.group_folds(groups, folds), group_column
            fold_groups = [sorted({groups[i] for i in p}) for p in parts]
        elif folds:
            console.print(
                f"[yellow]warning:[/] {labels} has no {group_column} column: folds are random, "
                "so one listing's reviews can be in training and test (accuracy flattered)",
                highlight=False,
            )
            rng = np.random.default_rng(0)
            parts = [list(p) for p in np.array_split(rng.permutation(len(texts)), folds)]
            folds_by = "random"
        if parts:
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
        "folds_by": folds_by,
        "fold_groups": fold_groups,
        "cv_accuracy": [round(x, 4) for x in cv],
        "cv_mean": round(sum(cv) / len(cv), 4) if cv else None,
    }
    if as_json:
        emit_json(summary)
        return
    console.print(
        f"saved {out} ({len(texts)} reviews, {summary['deceptive']} deceptive); "
        f"training accuracy {summary['train_accuracy']}"
        + (f", {len(cv)}-fold accuracy {summary['cv_mean']} (folds by {folds_by})" if cv else "")
    )
