"""benchmarks/review_texts.py: the reviews' texts in three scripts, normalised both ways alike."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import review_texts  # noqa: E402


def test_the_three_scripts_normalise_alike_both_ways(season_store):
    texts = review_texts._texts(str(season_store), 3_000)
    assert len(texts) > 100
    traditional = review_texts._traditional(texts)
    cyrillic = review_texts._cyrillic(texts)
    # the converter wrote traditional characters, and the copies read as the originals
    assert sum(a != b for a, b in zip(texts, traditional, strict=True)) > len(texts) // 2
    assert (
        review_texts.normalised(traditional)["digest"] == review_texts.normalised(texts)["digest"]
    )
    for t in (texts, traditional, cyrillic):
        assert (
            review_texts.normalised(t)["digest"] == review_texts.normalised(t, alone=True)["digest"]
        )
