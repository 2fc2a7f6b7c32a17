"""A case's risk score (0-100) and priority (1 = start here, 4 = when time allows).

The score adds four parts, each capped so that no single one decides alone:

* **severity** (≤ 30): the worst finding's weight (critical 16, high 10, medium 5, low 2) plus
  ``2.5·log2(1 + Σ weights / 10)``, so many findings count, with diminishing returns;
* **breadth** (≤ 20): 4 per family beyond the first (pricing *and* logistics *and* brushing is a
  business model, one family may be a slip);
* **repeat** (≤ 15): 5 per earlier case of the same merchant and platform, and 5 when findings
  were already seen in an earlier scan;
* **harm** (≤ 25): ``3·log10(1 + orders affected) + 2·log10(1 + amount paid in them)``.

Priority: 1 when the score is ≥ 55, 2 when ≥ 40, 3 when ≥ 25, else 4 (see ``docs/cases.md`` for
how the small season and the city-scale season spread over them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

SEVERITY_WEIGHT = {"critical": 16, "high": 10, "medium": 5, "low": 2}
PRIORITY_THRESHOLDS = ((55.0, 1), (40.0, 2), (25.0, 3))


def family_of(check_code: str) -> str:
    """The family of a check code: its letters (``PRICE001`` → ``PRICE``)."""
    return check_code.rstrip("0123456789") or check_code


@dataclass
class Score:
    risk_score: float
    priority: int
    detail: dict

    @staticmethod
    def compute(
        severities: Iterable[str],
        families: Iterable[str],
        *,
        earlier_cases: int = 0,
        seen_before: int = 0,
        orders_affected: int = 0,
        amount_affected: float = 0.0,
    ) -> Score:
        weights = [SEVERITY_WEIGHT.get(s, 5) for s in severities]
        fams = sorted(set(families))
        severity = min(
            30.0, (max(weights) if weights else 0) + 2.5 * math.log2(1 + sum(weights) / 10)
        )
        breadth = min(20.0, 4.0 * max(0, len(fams) - 1))
        repeat = min(15.0, 5.0 * earlier_cases + (5.0 if seen_before else 0.0))
        harm = min(
            25.0,
            3 * math.log10(1 + max(0, orders_affected))
            + 2 * math.log10(1 + max(0.0, float(amount_affected))),
        )
        total = round(severity + breadth + repeat + harm, 1)
        priority = next((p for limit, p in PRIORITY_THRESHOLDS if total >= limit), 4)
        detail = {
            "severity": round(severity, 1),
            "breadth": round(breadth, 1),
            "repeat": round(repeat, 1),
            "harm": round(harm, 1),
            "families": fams,
            "findings": len(weights),
            "earlier_cases": earlier_cases,
            "findings_seen_before": seen_before,
            "orders_affected": int(orders_affected),
            "amount_affected": round(float(amount_affected), 2),
        }
        return Score(total, priority, detail)
