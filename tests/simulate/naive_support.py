"""What the hardness tests share: the naive baselines of benchmarks/naive_baselines.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "naive_baselines.py"


def _load_baselines():
    spec = importlib.util.spec_from_file_location("naive_baselines", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("naive_baselines", module)
    spec.loader.exec_module(module)
    return module


nb = _load_baselines()


def false_positives(naive: pd.DataFrame, truth: pd.DataFrame, code: str, variant: str) -> set:
    """Entities the naive rule (code, variant) flags that the ground truth does not hold."""
    found = naive[(naive["check_code"] == code) & (naive["variant"] == variant)]
    return set(found["entity_id"]) - set(truth.loc[truth["check_code"] == code, "entity_id"])
