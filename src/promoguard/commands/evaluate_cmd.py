"""`promoguard evaluate`: precision, recall and F1 of findings against ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.table import Table

from promoguard.commands._common import console, emit_json, user_errors


def _num(x: object) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


@user_errors
def evaluate(
    findings: Path = typer.Option(..., "--findings", help="Findings file (CSV, JSONL or Parquet)."),
    truth: Path = typer.Option(..., "--truth", help="ground_truth.csv from `promoguard simulate`."),
    pack: str = typer.Option(
        None, "--pack", help="Only rows of this pack (when a file has `pack`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
) -> None:
    """Score findings against ground truth: precision, recall, F1 per check code and in total."""
    from promoguard.evaluate import evaluate as score
    from promoguard.evaluate import read_table, rule_codes

    result = score(read_table(findings), read_table(truth), pack=pack, codes=rule_codes())
    rows = [
        {
            **{k: r[k] for k in ("check_code", "status", "findings", "truth", "tp", "fp", "fn")},
            "precision": _num(r["precision"]),
            "recall": _num(r["recall"]),
            "f1": _num(r["f1"]),
        }
        for r in result.to_dict("records")
    ]
    for r in rows:
        for k in ("findings", "truth", "tp", "fp", "fn"):
            r[k] = int(r[k])
    if as_json:
        total = rows[-1]
        emit_json({"pack": pack, "checks": rows[:-1], "micro": total})
        return
    table = Table(title="findings vs ground truth")
    for col in (
        "check",
        "status",
        "findings",
        "truth",
        "TP",
        "FP",
        "FN",
        "precision",
        "recall",
        "F1",
    ):
        left = col in ("check", "status")
        table.add_column(col, justify="left" if left else "right", no_wrap=left)

    def fmt(x: float | None) -> str:
        return "—" if x is None else f"{x:.3f}"

    for r in rows:
        table.add_row(
            r["check_code"],
            r["status"],
            str(r["findings"]),
            str(r["truth"]),
            str(r["tp"]),
            str(r["fp"]),
            str(r["fn"]),
            fmt(r["precision"]),
            fmt(r["recall"]),
            fmt(r["f1"]),
            end_section=r is rows[-2],
        )
    console.print(table)
