"""What the hardness tests share: the naive baselines of benchmarks/naive_baselines.py."""

from __future__ import annotations

import pandas as pd
from tests.support import load_benchmark

nb = load_benchmark("naive_baselines.py", "naive_baselines")


def false_positives(naive: pd.DataFrame, truth: pd.DataFrame, code: str, variant: str) -> set:
    """Entities the naive rule (code, variant) flags that the ground truth does not hold."""
    found = naive[(naive["check_code"] == code) & (naive["variant"] == variant)]
    return set(found["entity_id"]) - set(truth.loc[truth["check_code"] == code, "entity_id"])
