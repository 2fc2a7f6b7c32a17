"""An optional supervised text model for deceptive reviews: TF-IDF word n-grams + a linear model.

Trained with ``promoguard train-reviews --labels FILE`` on a CSV of ``text,label`` (1 = deceptive).
Its probability joins REVIEW003's behavioural score as one more part when the pack sets
``text_model`` to the saved file.

The model file is JSON: the TF-IDF vocabulary and weights and the logistic regression's
coefficients, nothing else. A pack names it (REVIEW003 ``text_model``) and packs come from other
bureaus, so loading it must never run code: a pickle (joblib) would, and is refused. Scoring
recomputes TF-IDF and the logistic function from those numbers (``TextModel.score``), which a test
holds equal to scikit-learn's own ``predict_proba``.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from promoguard.errors import PromoGuardError

MODEL_FORMAT = "promoguard-review-text-model/2"
#: A model file larger than this is not one of ours (a 12k-review corpus gives about 3 MB).
MAX_MODEL_BYTES = 256 * 1024 * 1024
TOKEN_PATTERN = r"(?u)\b\w+\b"
NGRAM_RANGE = (1, 2)
_CJK = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff])")


def _analyse(text: str) -> str:
    # Chinese has no spaces between words: treat each character as a token so word n-grams work
    return _CJK.sub(r" \1 ", text.lower())


def _needs_ml() -> None:
    """A one-line error when the optional ``ml`` extra (scikit-learn) is not installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise PromoGuardError(
            "review text models need scikit-learn: pip install 'promoguard[ml]'"
        ) from None


def build_pipeline(c: float = 10.0):
    _needs_ml()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    preprocessor=_analyse,
                    ngram_range=NGRAM_RANGE,
                    min_df=2,
                    sublinear_tf=True,
                    token_pattern=TOKEN_PATTERN,
                ),
            ),
            ("clf", LogisticRegression(C=c, solver="liblinear")),
        ]
    )


@dataclass
class TextModel:
    """The numbers of a fitted TF-IDF + logistic regression model, and how to score with them."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: float
    n_train: int

    @classmethod
    def from_pipeline(cls, pipeline, n_train: int) -> TextModel:
        tfidf, clf = pipeline.named_steps["tfidf"], pipeline.named_steps["clf"]
        if [int(c) for c in clf.classes_] != [0, 1]:
            raise PromoGuardError("the model must be trained on labels 0 and 1")
        return cls(
            vocabulary={str(t): int(i) for t, i in tfidf.vocabulary_.items()},
            idf=np.asarray(tfidf.idf_, dtype=float),
            coef=np.asarray(clf.coef_[0], dtype=float),
            intercept=float(clf.intercept_[0]),
            n_train=n_train,
        )

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text is deceptive (0..1): sublinear TF x IDF, L2-normalised,
        then the logistic function of the linear score (what the pipeline computes)."""
        if not len(texts):
            return np.zeros(0)
        from scipy import sparse

        _needs_ml()
        from sklearn.feature_extraction.text import CountVectorizer

        counts = CountVectorizer(
            preprocessor=_analyse,
            ngram_range=NGRAM_RANGE,
            token_pattern=TOKEN_PATTERN,
            vocabulary=self.vocabulary,
        ).transform(list(texts))
        x = counts.astype(float).tocsr()
        x.data = 1.0 + np.log(x.data)
        x = sparse.csr_matrix(x.multiply(self.idf))
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        x = sparse.diags(1.0 / norms) @ x
        z = x @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, path: Path) -> None:
        from promoguard.safety import private_file

        document = {
            "format": MODEL_FORMAT,
            "n_train": self.n_train,
            "ngram_range": list(NGRAM_RANGE),
            "vocabulary": self.vocabulary,
            "idf": self.idf.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }
        with private_file(path) as fh:  # trained on reviews: personal data, owner-only
            json.dump(document, fh, ensure_ascii=False)


def fit(texts: Sequence[str], labels: Sequence[int], c: float = 10.0) -> TextModel:
    if len(set(labels)) < 2:
        raise PromoGuardError("the labels file needs both classes (0 = genuine, 1 = deceptive)")
    pipe = build_pipeline(c)
    pipe.fit(list(texts), list(labels))
    return TextModel.from_pipeline(pipe, len(texts))


def _numbers(values: object, n: int, what: str, path: Path) -> np.ndarray:
    if not isinstance(values, list) or len(values) != n:
        raise PromoGuardError(f"{path}: {what} must be a list of {n} numbers")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise PromoGuardError(f"{path}: {what} must hold numbers only")
    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).all():
        raise PromoGuardError(f"{path}: {what} holds a non-finite number")
    return array


def load(path: Path) -> TextModel:
    """Load a model saved by ``train-reviews``: JSON numbers only, checked; nothing is executed.

    A pickle (the joblib files of earlier versions) is refused without being opened as one.
    """
    if not path.is_file():
        raise PromoGuardError(f"no text model at {path}")
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise PromoGuardError(f"{path}: {size} bytes is too large for a review text model")
    with path.open("rb") as fh:
        head = fh.read(2)
    if head[:1] == b"\x80" or path.suffix.lower() in (".joblib", ".pkl", ".pickle"):
        raise PromoGuardError(
            f"{path} is a pickle: it is not loaded, because loading a pickle runs code; "
            "train the model again with `promoguard train-reviews` (it writes JSON)"
        )
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PromoGuardError(f"{path} is not a promoguard review text model (not JSON)") from None
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT:
        raise PromoGuardError(f"{path} is not a promoguard review text model")
    vocabulary = obj.get("vocabulary")
    if not isinstance(vocabulary, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in vocabulary.items()
    ):
        raise PromoGuardError(f"{path}: vocabulary must map terms to column numbers")
    n = len(vocabulary)
    if sorted(vocabulary.values()) != list(range(n)):
        raise PromoGuardError(f"{path}: vocabulary column numbers must be 0..{n - 1}, each once")
    if obj.get("ngram_range") != list(NGRAM_RANGE):
        raise PromoGuardError(f"{path}: ngram_range must be {list(NGRAM_RANGE)}")
    intercept = obj.get("intercept")
    if not isinstance(intercept, int | float) or isinstance(intercept, bool):
        raise PromoGuardError(f"{path}: intercept must be a number")
    if not math.isfinite(intercept):
        raise PromoGuardError(f"{path}: intercept must be finite")
    n_train = obj.get("n_train")
    return TextModel(
        vocabulary=vocabulary,
        idf=_numbers(obj.get("idf"), n, "idf", path),
        coef=_numbers(obj.get("coef"), n, "coef", path),
        intercept=float(intercept),
        n_train=n_train if isinstance(n_train, int) else 0,
    )


def read_labels(path: Path) -> tuple[list[str], list[int]]:
    """A CSV with a header naming ``text`` and ``label`` (1 = deceptive, 0 = genuine)."""
    texts, labels, _ = read_labelled(path)
    return texts, labels


def read_labelled(
    path: Path, columns: Sequence[str] = ()
) -> tuple[list[str], list[int], dict[str, list[str]]]:
    """``read_labels`` and the named extra ``columns`` (a listing or fold column), as text.

    A named column the file does not have is a one-line error; an empty cell is kept as "".
    """
    if not path.is_file():
        raise PromoGuardError(f"no labels file at {path}")
    texts: list[str] = []
    labels: list[int] = []
    extra: dict[str, list[str]] = {c: [] for c in columns}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise PromoGuardError(f"{path}: needs columns text,label")
        missing = [c for c in columns if c not in reader.fieldnames]
        if missing:
            raise PromoGuardError(f"{path}: has no column {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                label = int(str(row["label"]).strip())
            except ValueError:
                raise PromoGuardError(f"{path}:{line}: label must be 0 or 1") from None
            if label not in (0, 1):
                raise PromoGuardError(f"{path}:{line}: label must be 0 or 1")
            texts.append(row["text"] or "")
            labels.append(label)
            for c in columns:
                extra[c].append((row[c] or "").strip())
    return texts, labels, extra


def group_folds(groups: Sequence[str], k: int) -> list[list[int]]:
    """Row indexes split into ``k`` folds so that no group (listing) is in two folds.

    Reviews of one listing share its name, its features and often its writers: split at random,
    the model meets the test listing in training and its accuracy is flattered (positive reviews of
    the Deceptive Opinion Spam corpus: 0.896 at random, 0.886 on these hotel-disjoint folds; see
    docs/benchmarks/brushing.md). Groups go largest
    first to the fold with the fewest rows (ties: the lower fold), in name order among equals, so
    the split is balanced and the same on every run.
    """
    sizes: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        sizes.setdefault(g, []).append(i)
    if len(sizes) < k:
        raise PromoGuardError(f"{len(sizes)} listings cannot make {k} listing-disjoint folds")
    folds: list[list[int]] = [[] for _ in range(k)]
    for g in sorted(sizes, key=lambda g: (-len(sizes[g]), g)):
        smallest = min(range(k), key=lambda f: (len(folds[f]), f))
        folds[smallest].extend(sizes[g])
    return [sorted(f) for f in folds]


def given_folds(values: Sequence[str]) -> list[list[int]]:
    """Row indexes per value of a fold column, in the values' order (numbers numerically)."""
    by: dict[str, list[int]] = {}
    for i, v in enumerate(values):
        by.setdefault(v, []).append(i)
    if len(by) < 2:
        raise PromoGuardError("the fold column needs at least two folds")
    if "" in by:
        raise PromoGuardError(f"{len(by[''])} row(s) have no fold")

    def key(v: str) -> tuple[int, float | str]:
        try:
            return (0, float(v))
        except ValueError:
            return (1, v)

    return [by[v] for v in sorted(by, key=key)]


def opspam_folds(root: Path, polarity: str) -> list[tuple[list[str], list[int]]]:
    """The Deceptive Opinion Spam corpus (Ott et al.) as its five original folds."""
    base = root / f"{polarity}_polarity"
    folds = []
    for k in range(1, 6):
        texts, labels = [], []
        for source in sorted(base.iterdir()):
            label = 1 if source.name.startswith("deceptive") else 0
            for f in sorted((source / f"fold{k}").glob("*.txt")):
                texts.append(f.read_text(encoding="utf-8", errors="replace"))
                labels.append(label)
        folds.append((texts, labels))
    return folds


def cross_validate(folds: list[tuple[list[str], list[int]]], c: float = 10.0) -> list[float]:
    """Accuracy on each held-out fold, training on the other four."""
    scores = []
    for k, (test_x, test_y) in enumerate(folds):
        train_x = [t for j, (x, _) in enumerate(folds) if j != k for t in x]
        train_y = [y for j, (_, ys) in enumerate(folds) if j != k for y in ys]
        model = fit(train_x, train_y, c)
        pred = (model.score(test_x) >= 0.5).astype(int)
        scores.append(float((pred == np.asarray(test_y)).mean()))
    return scores
