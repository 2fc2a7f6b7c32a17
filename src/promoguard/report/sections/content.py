"""False publicity and review rewards: what each content check found and the terms it matched."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pandas as pd

from promoguard.report.sections._html import table
from promoguard.report.svg import bars

TITLE = "Content: false publicity, lures, personal data"
ORDER = 20
CODES = ("TEXT001", "TEXT002", "TEXT003", "TEXT004", "TEXT005", "TEXT006", "REVIEW002")
TOP_TERMS = 15
EXAMPLES = 30


def _terms(observed: pd.Series) -> Counter:
    """How often each matched term occurs in the findings' ``observed.matched`` lists."""
    counts: Counter = Counter()
    for raw in observed:
        try:
            matched = json.loads(raw).get("matched") or ""
        except (TypeError, ValueError):
            continue
        for term in {t.strip() for t in str(matched).split(";") if t.strip()}:
            counts[term] += 1
    return counts


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    mine = findings[findings.check_code.isin(CODES)]
    if mine.empty:
        return None
    out = ["<h3>Findings by check</h3>"]
    by_code = mine.groupby("check_code").size()
    out.append(bars([(c, int(by_code.get(c, 0))) for c in CODES]))
    out.append(
        f"<h3>Most frequent matches per check (top {TOP_TERMS})</h3>"
        "<p>Personal data (TEXT005) is shown by kind only: the report never repeats it.</p>"
    )
    rows = []
    for code in CODES:
        for term, n in _terms(mine[mine.check_code == code].observed).most_common(TOP_TERMS):
            rows.append([code, term, n])
    out.append(table(["check", "matched", "texts"], rows, numeric=[2]))

    # A few examples with the merchant's own words; TEXT005 is left out so no personal data
    # reaches the report.
    sample = mine[mine.check_code != "TEXT005"].sort_values(["check_code", "entity_id"])
    sample = sample.groupby("check_code").head(max(1, EXAMPLES // len(CODES)))
    ids = sample[sample.entity_type == "text"].entity_id.tolist()
    contents = {}
    if ids:
        contents = dict(
            con.execute(
                "SELECT text_id, content FROM texts WHERE list_contains(?, text_id)", [ids]
            ).fetchall()
        )
    example_rows = []
    for r in sample.itertuples():
        text = contents.get(r.entity_id, "")
        snippet = text if len(text) <= 140 else text[:140] + "…"
        matched = json.loads(r.observed).get("matched", "") if r.observed else ""
        example_rows.append([r.check_code, r.entity_id, r.merchant_id, matched, snippet])
    out.append("<h3>Examples</h3>")
    out.append(table(["check", "text", "merchant", "matched", "excerpt"], example_rows))
    return "".join(out)
