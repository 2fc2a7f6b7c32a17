"""False publicity and review rewards: what each content check found and the terms it matched."""

from __future__ import annotations

import json
from collections import Counter
from html import escape

import duckdb
import pandas as pd

from promoguard import present
from promoguard.engine import registry
from promoguard.engine.base import Check
from promoguard.report.i18n import tr
from promoguard.report.sections._html import table
from promoguard.report.svg import bars
from promoguard.text.mask import QUOTES

TITLE = "Content: false publicity, lures, personal data"
ORDER = 20
SECTION = "content"
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


def _rules() -> list[Check]:
    """The rules this section shows: the content family first, then others that ask for it."""
    return sorted(registry.for_section(SECTION), key=lambda c: (c.family != SECTION, c.code))


def render(con: duckdb.DuckDBPyConnection, findings: pd.DataFrame) -> str | None:
    rules = _rules()
    codes = [c.code for c in rules]
    private = [c.code for c in rules if c.personal_data]
    mine = findings[findings.check_code.isin(codes)]
    if mine.empty:
        return None
    out = [f"<h3>{escape(tr('Findings by check'))}</h3>"]
    by_code = mine.groupby("check_code").size()
    out.append(bars([(c, int(by_code.get(c, 0))) for c in codes]))
    head = tr("Most frequent matches per check (top {n})", n=TOP_TERMS)
    out.append(f"<h3>{escape(head)}</h3>")
    if private:
        note = tr(
            "Personal data ({codes}) is shown by kind only: the report never repeats it.",
            codes=", ".join(private),
        )
        out.append(f"<p>{escape(note)}</p>")
    rows = []
    for code in codes:
        for term, n in _terms(mine[mine.check_code == code].observed).most_common(TOP_TERMS):
            rows.append([code, term, n])
    out.append(table(["check", "matched", "texts"], rows, numeric=[2], data=[1]))

    # A few examples with the merchant's own words; rules that find personal data are left out,
    # and the others' texts are masked, so none reaches the report.
    sample = mine[~mine.check_code.isin(private)].sort_values(["check_code", "entity_id"])
    sample = sample.groupby("check_code").head(max(1, EXAMPLES // len(codes)))
    ids = sample[sample.entity_type == "text"].entity_id.tolist()
    contents = {}
    if ids:
        contents = dict(
            con.execute(
                "SELECT text_id, content FROM texts WHERE list_contains(?, text_id)", [ids]
            ).fetchall()
        )
    example_rows = []
    # the excerpt quotes the text with its identifiers masked, as the findings' evidence does
    # (a TEXT004 lure is often a mobile number)
    for r in sample.itertuples():
        text = QUOTES.mask(contents.get(r.entity_id, "")) or ""
        snippet = present.excerpt(text, 140)
        matched = json.loads(r.observed).get("matched", "") if r.observed else ""
        example_rows.append([r.check_code, r.entity_id, r.merchant_id, matched, snippet])
    out.append(f"<h3>{escape(tr('Examples'))}</h3>")
    out.append(
        table(["check", "text", "merchant", "matched", "excerpt"], example_rows, data=[1, 3, 4])
    )
    return "".join(out)
