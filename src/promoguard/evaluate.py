"""Precision, recall and F1 of findings against the simulator's ground truth.

A finding matches a truth row when ``check_code``, ``entity_type`` and ``entity_id`` are equal
(duplicates on either side count once). Per check code: ``tp``, ``fp``, ``fn``, precision,
recall, F1. A code with neither findings nor truth is reported with ``status = "no findings, no
truth"`` and empty metrics (not as a perfect score); a code with truth but no findings has recall 0
and undefined precision. The last row, ``check_code = "ALL"``, is the micro average.

A finding an exemption lowered to ``low`` severity (its ``observed`` JSON says why in
``severity_reason``: a recurring buying group, an own-attribute superlative) is kept in the scan for
review but is not a prediction of a violation, so it is not counted here (docs/exemptions.md).
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


def _has_reason(value: object) -> bool:
    if isinstance(value, dict):  # JSON Lines: observed read back as an object
        return bool(value.get("severity_reason"))
    return isinstance(value, str) and '"severity_reason"' in value  # Parquet, CSV: JSON text


def _not_lowered(findings: pd.DataFrame) -> pd.DataFrame:
    """The findings without those an exemption lowered to low severity (with its reason), read
    the same from every format ``scan --out`` writes: the reason is a key of ``observed`` (JSON
    text, or an object in JSON Lines) or its flattened column ``observed.severity_reason``
    (CSV, .xlsx, which has no JSON column)."""
    if "severity" not in findings.columns or findings.empty:
        return findings
    reason = pd.Series(False, index=findings.index)
    if "observed" in findings.columns:
        reason |= findings["observed"].map(_has_reason)
    if "observed.severity_reason" in findings.columns:
        flat = findings["observed.severity_reason"]
        reason |= flat.notna() & (flat.astype(str).str.strip() != "")
    lowered = (findings["severity"].astype(str) == "low") & reason
    return findings[~lowered]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def evaluate(
    findings: pd.DataFrame, truth: pd.DataFrame, pack: str | None = None, codes: Iterable[str] = ()
) -> pd.DataFrame:
    """One row per check code (those in findings, truth or ``codes``) plus the micro total ``ALL``."""
    f = _keys(_not_lowered(findings), "findings", pack)
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


def packs_in(df: pd.DataFrame) -> list[str]:
    """The packs a findings or truth table names (empty when it has no ``pack`` column)."""
    if "pack" not in df.columns:
        return []
    return sorted({str(p) for p in df["pack"].dropna().astype(str) if str(p).strip()})


def match_pack(findings: pd.DataFrame, truth: pd.DataFrame, pack: str | None = None) -> str | None:
    """The pack to score, or PromoGuardError saying why findings and truth cannot be compared.

    Findings made with one pack are scored against that pack's truth only: the eu/uk/us rules
    differ from cn's (a 30-day lowest offered price, not a 7-day lowest transacted one), so cn
    truth would score an eu scan wrong. A truth file without a ``pack`` column is taken as it is.
    """
    found = packs_in(findings)
    if pack is None:
        if len(found) > 1:
            raise PromoGuardError(
                f"the findings mix packs {', '.join(found)}; choose one with --pack"
            )
        pack = found[0] if found else None
    elif found and pack not in found:
        raise PromoGuardError(f"the findings are of pack {', '.join(found)}, not {pack}")
    labelled = packs_in(truth)
    if not labelled:
        return pack
    if pack is None:
        if len(labelled) > 1:
            raise PromoGuardError(
                f"the findings name no pack and the truth labels {', '.join(labelled)}; "
                "choose one with --pack"
            )
        return labelled[0]
    if pack not in labelled:
        raise PromoGuardError(
            f"the ground truth labels pack(s) {', '.join(labelled)}, not {pack}: its rules differ, "
            f"so {pack} findings cannot be scored against it (simulate the season again with this "
            "version, which labels every pack)"
        )
    return pack


def truth_for(
    findings: pd.DataFrame, truth_path: Path, pack: str | None = None
) -> tuple[pd.DataFrame, str | None, Path]:
    """The truth to score ``findings`` with: ``truth_path`` when it labels their pack, else the
    simulator's ``ground_truth_<pack>.csv`` beside it; (truth, pack, the file used)."""
    truth_path = Path(truth_path)
    truth = read_table(truth_path)
    try:
        return truth, match_pack(findings, truth, pack), truth_path
    except PromoGuardError:
        found = packs_in(findings)
        wanted = pack or (found[0] if len(found) == 1 else None)
        sibling = truth_path.with_name(f"ground_truth_{wanted}.csv") if wanted else None
        if sibling is None or not sibling.exists() or sibling == truth_path:
            raise
        other = read_table(sibling)
        return other, match_pack(findings, other, pack), sibling


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
        if suffix == ".xlsx":
            return pd.read_excel(path, sheet_name="findings", dtype=str, engine="openpyxl")
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file, say which
        raise PromoGuardError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}") from exc
