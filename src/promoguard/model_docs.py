"""The data-model reference page, generated from ``promoguard.model`` (never written by hand)."""

from __future__ import annotations

from promoguard.model import FINDING_COLUMNS, TABLES, Column

HEADER = """# Data model

Generated from `src/promoguard/model.py` by `promoguard tables --markdown > docs/data-model.md`;
a test fails when this page is stale. The contract it implements is `shared/spec/data-model.md`.
Files are CSV (UTF-8 or GBK/GB18030, header row), JSON Lines or Parquet, one table per file, named
after the table (`orders.csv`, `price_observations.parquet`), all in one folder.
"""


def _type(c: Column) -> str:
    text = f"{c.kind.value} ({c.duckdb_type})"
    if c.values:
        text += ": " + ", ".join(f"`{v}`" for v in c.values)
    return text


def render_markdown() -> str:
    out = [HEADER]
    for t in TABLES:
        out.append(f"\n## `{t.name}`\n\n{t.doc}\n")
        out.append(f"Key: {', '.join(f'`{k}`' for k in t.key)}.")
        if t.references:
            refs = "; ".join(
                f"{', '.join(r.columns)} → `{r.table}`.{', '.join(r.target_columns)}"
                for r in t.references
            )
            out.append(f" References (unresolved ones are stored and counted as orphans): {refs}.")
        out.append("\n\n| column | type | required | meaning |\n|---|---|---|---|\n")
        for c in t.columns:
            out.append(f"| `{c.name}` | {_type(c)} | {'no' if c.nullable else 'yes'} | {c.doc} |\n")
    out.append("\n## Findings\n\nWhat a scan writes, one row per finding.\n\n")
    out.append("| column | type | meaning |\n|---|---|---|\n")
    for c in FINDING_COLUMNS:
        out.append(f"| `{c.name}` | {c.kind.value} | {c.doc} |\n")
    return "".join(out)


def as_dict() -> dict:
    return {
        "tables": [
            {
                "name": t.name,
                "doc": t.doc,
                "key": list(t.key),
                "columns": [
                    {
                        "name": c.name,
                        "kind": c.kind.value,
                        "type": c.duckdb_type,
                        "nullable": c.nullable,
                        "values": list(c.values),
                        "doc": c.doc,
                    }
                    for c in t.columns
                ],
                "references": [
                    {"columns": list(r.columns), "table": r.table, "target": list(r.target_columns)}
                    for r in t.references
                ],
            }
            for t in TABLES
        ]
    }
