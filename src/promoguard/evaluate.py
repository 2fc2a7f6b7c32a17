"""Precision, recall and F1 of findings against the simulator's ground truth.

A finding matches a truth row when ``check_code``, ``entity_type`` and ``entity_id`` are equal
(duplicates on either side count once). Per check code: ``tp``, ``fp``, ``fn``, precision,
recall, F1. A code with neither findings nor truth is reported with ``status = "no findings, no
truth"`` and empty metrics (not as a perfect score); a code with truth but no findings has recall 0
and undefined precision. The last row, ``check_code = "ALL"``, is the micro average.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from promoguard.errors import PromoGuardError

KEY = ("check_code", "entity_type", "entity_id")
RESULT_COLUMNS = (
    "check_code",
    "status",
    "findings",
    "truth",
    "tp",
    "fp",
    "fn",
    "precision",
    "recall",
    "f1",
)
NO_DATA = "no findings, no truth"


def rule_codes() -> tuple[str, ...]:
    """Every registered rule's code (the spec's, and any plugin's): the CLI reports all of them,
    with or without findings, so a rule that found nothing shows as such rather than vanishing."""
    from promoguard.engine import registry

    return tuple(c.code for c in registry.all_checks())


def _keys(df: pd.DataFrame, what: str, pack: str | None) -> set[tuple[str, str, str]]:
    missing = [c for c in KEY if c not in df.columns]
    if missing:
        raise PromoGuardError(f"{what} lacks column(s) {', '.join(missing)}")
    if pack is not None and "pack" in df.columns:
        df = df[df["pack"].astype(str) == pack]
    sub = df[list(KEY)].astype(str).apply(lambda s: s.str.strip())
    return set(map(tuple, sub.itertuples(index=False, name=None)))


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def evaluate(
    findings: pd.DataFrame, truth: pd.DataFrame, pack: str | None = None, codes: Iterable[str] = ()
) -> pd.DataFrame:
    """One row per check code (those in findings, truth or ``codes``) plus the micro total ``ALL``."""
    f = _keys(findings, "findings", pack)
    t = _keys(truth, "truth", pack)
    all_codes = sorted({k[0] for k in f} | {k[0] for k in t} | set(codes))
    rows = []
    for code in all_codes:
        fc = {k for k in f if k[0] == code}
        tc = {k for k in t if k[0] == code}
        rows.append(_row(code, fc, tc))
    rows.append(_row("ALL", f, t))
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def _row(code: str, fc: set, tc: set) -> dict[str, object]:
    tp = len(fc & tc)
    fp, fn = len(fc) - tp, len(tc) - tp
    p, r = _ratio(tp, len(fc)), _ratio(tp, len(tc))
    f1 = (2 * p * r / (p + r) if p + r else 0.0) if p is not None and r is not None else None
    if not fc and not tc:
        status = NO_DATA
    elif not fc:
        status = "no findings"
        r = 0.0
    elif not tc:
        status = "no truth"
    else:
        status = "ok"
    return {
        "check_code": code,
        "status": status,
        "findings": len(fc),
        "truth": len(tc),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": p,
        "recall": r,
        "f1": f1,
    }


def read_table(path: Path) -> pd.DataFrame:
    """A findings or truth file: CSV, JSON Lines or Parquet (by extension)."""
    path = Path(path)
    if not path.exists():
        raise PromoGuardError(f"not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True, dtype=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file, say which
        raise PromoGuardError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}") from exc
