"""`promoguard evaluate`: precision, recall and F1 of findings against ground truth."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from promoguard.commands._common import emit_json, fail, stdout, user_errors


def _num(x: object) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


@user_errors
def evaluate(
    findings: Path = typer.Option(
        None, "--findings", help="Findings file (CSV, JSONL, Parquet or .xlsx)."
    ),
    truth: Path = typer.Option(..., "--truth", help="ground_truth.csv from `promoguard simulate`."),
    store: Path = typer.Option(
        None, "--store", help="Score a scan kept in this store instead of a findings file."
    ),
    scan_id: str = typer.Option(
        None, "--scan", help="With --store: the scan (default: the latest complete scan)."
    ),
    pack: str = typer.Option(
        None, "--pack", help="Score this pack's truth (default: the findings' own pack)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as one JSON object."),
) -> None:
    """Score findings against ground truth: precision, recall, F1 per check code and in total.

    The findings' pack picks the truth rows of that pack; a truth that does not label it is
    refused with the reason. A partial scan is scored on the checks it ran.
    """
    from promoguard.evaluate import evaluate as score
    from promoguard.evaluate import read_table, rule_codes, truth_for

    if (findings is None) == (store is None):
        fail("give either --findings FILE or --store FILE (and optionally --scan ID)")
    about = None
    codes = rule_codes()
    if store is not None:
        from promoguard import store as store_mod
        from promoguard.scans import choose_scan

        with store_mod.open_store(store, read_only=True) as con:
            choice = choose_scan(con, scan_id)
            found = con.execute(
                "SELECT * FROM findings WHERE scan_id = ?", [choice.scan.scan_id]
            ).df()
        about = choice
        if choice.scan.complete is False:
            codes = tuple(choice.scan.checks)
    else:
        found = read_table(findings)
    truth_df, chosen, truth_used = truth_for(found, truth, pack)
    if about is not None and about.scan.complete is False:
        # a partial scan says nothing about the checks it did not run
        truth_df = truth_df[truth_df["check_code"].astype(str).isin(codes)]
    result = score(found, truth_df, pack=chosen, codes=codes)
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
        scan = None if about is None else {**about.scan.to_dict(), "chosen_because": about.reason}
        emit_json(
            {
                "pack": chosen,
                "truth": str(truth_used),
                "checks": rows[:-1],
                "micro": total,
                "scan": scan,
            }
        )
        return
    if about is not None:
        stdout.print(escape(f"scoring {about.describe()}"))
    if chosen:
        stdout.print(
            f"against the ground truth of pack {escape(chosen)} ({escape(str(truth_used))})"
        )
    table = Table(
        title="findings vs ground truth (P precision, R recall)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for col in ("check", "status", "found", "truth", "TP", "FP", "FN", "P", "R", "F1"):
        table.add_column(
            col,
            justify="left" if col in ("check", "status") else "right",
            no_wrap=col != "status",
            min_width=10 if col == "status" else None,
        )

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
    stdout.print(table)
