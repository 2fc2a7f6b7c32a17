"""`promoguard mask`: a copy of a store's texts and reviews with personal data masked."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from promoguard import store as store_mod
from promoguard.commands._common import (
    console,
    emit_json,
    fail,
    stdout,
    user_errors,
    writable_dir,
)
from promoguard.safety import refuse_overwrite, terminal_safe, write_csv
from promoguard.sqlbuild import sql
from promoguard.text.identifiers import KINDS
from promoguard.text.mask import Masker

#: table -> the column holding free text
MASKED = {"texts": "content", "reviews": "text"}
KEY_ENV = "PROMOGUARD_MASK_KEY"


def _frame(con, table: str) -> pd.DataFrame:
    # table names come from our own MASKED map, never from the user
    df = con.execute(sql("SELECT * FROM {t} ORDER BY 1", t=table)).df()
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            df[col] = (
                df[col]
                .dt.tz_convert("UTC")
                .map(lambda v: None if pd.isna(v) else v.isoformat().replace("+00:00", "Z"))
            )
    return df


@user_errors
def mask(
    store: Path = typer.Option(..., "--store", help="The DuckDB store written by `ingest`."),
    out: Path = typer.Option(..., "--out", help="Folder for texts.csv and reviews.csv."),
    kinds: str = typer.Option(
        ",".join(KINDS), "--kinds", help="Identifiers to mask, comma-separated."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Write texts.csv and reviews.csv with ID, card and mobile numbers and e-mails masked.

    Tokens are keyed hashes (the same number gives the same token within one export); set
    PROMOGUARD_MASK_KEY to keep tokens stable across exports.
    """
    if not store.exists():
        fail(f"no store at {store}; run `promoguard ingest` first")
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    unknown = [k for k in chosen if k not in KINDS]
    if unknown or not chosen:
        fail(f"--kinds takes {', '.join(KINDS)}; got {kinds!r}")
    key = os.environ.get(KEY_ENV)
    masker = Masker(kinds=chosen) if not key else Masker(key=key.encode(), kinds=chosen)
    for table in MASKED:
        refuse_overwrite(out / f"{table}.csv", ("store", store))
    if out.exists() and not out.is_dir():
        fail(f"--out {terminal_safe(out)} is a file; mask writes a folder")
    writable_dir(out)
    con = store_mod.connect(store, read_only=True)
    written: dict[str, int] = {}
    try:
        frames = {t: _frame(con, t) for t in MASKED}
        total = sum(len(f) for f in frames.values())
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            disable=as_json or not console.is_terminal,  # off a terminal: a blank line
            transient=True,
        )
        with progress:
            task = progress.add_task("masking", total=total)
            for table, col in MASKED.items():
                df = frames[table]
                values = []
                for v in df[col].tolist():
                    values.append(masker.mask(v) if isinstance(v, str) else v)
                    progress.advance(task)
                df[col] = values
                path = out / f"{table}.csv"
                write_csv(df, path)  # formula-safe cells, owner-only file
                written[table] = len(df)
    finally:
        con.close()
    summary = {
        "store": str(store),
        "out": str(out),
        "rows": written,
        "masked": {k: int(masker.counts.get(k, 0)) for k in chosen},
        "stable_key": bool(key),
    }
    if as_json:
        emit_json(summary)
        return
    masked = ", ".join(f"{v} {k}" for k, v in summary["masked"].items())
    stdout.print(
        f"wrote {out}/texts.csv ({written['texts']} rows) and reviews.csv "
        f"({written['reviews']} rows); masked {masked}"
    )
