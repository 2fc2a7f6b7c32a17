"""`promoguard simulate`: write a Double-11 marketplace data set with ground truth."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from promoguard.commands._common import console, emit_json, fail, stdout, user_errors


@user_errors
def simulate(
    scale: str = typer.Option("small", "--scale", help="small | medium | city"),
    seed: int = typer.Option(
        0, "--seed", help="Random seed; the same seed and scale give identical files."
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write one file per table into."),
    fmt: str = typer.Option(
        None, "--format", help="csv or parquet (default: csv for small, parquet otherwise)."
    ),
    shrink: float = typer.Option(
        1.0, "--shrink", help="Scale each shard's merchants and buyers by this factor (tests)."
    ),
    shards: int = typer.Option(
        None, "--shards", help="Override the number of shards of the scale."
    ),
    jobs: int = typer.Option(
        None, "--jobs", help="Worker processes for shards (default: CPU count); output is the same."
    ),
    rate: list[str] = typer.Option(
        None, "--rate", help="Override an injection rate, e.g. --rate price001=0.1 (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Simulate a Double-11 season (platforms, merchants, prices, orders, logistics, reviews,
    texts) with injected violations and ground_truth.csv."""
    from promoguard.simulate import SCALES, generate

    if scale not in SCALES:
        fail(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
    if fmt is not None and fmt not in ("csv", "parquet"):
        fail(f"unknown format {fmt!r}; use csv or parquet")
    if not 0 < shrink <= 1:
        fail("--shrink must be in (0, 1]")
    if shards is not None and shards < 1:
        fail("--shards must be at least 1")
    if jobs is not None and jobs < 1:
        fail("--jobs must be at least 1")
    if seed < 0:
        fail("--seed must be a non-negative integer")
    overrides: dict[str, float] = {}
    for item in rate or []:
        name, _, value = item.partition("=")
        try:
            overrides[name.strip().lower()] = float(value)
        except ValueError:
            fail(f"--rate wants NAME=NUMBER, not {item!r}")
    try:
        from promoguard.simulate.config import get_scale

        get_scale(scale, shrink, overrides)
    except ValueError as exc:
        fail(str(exc))
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a folder")
    with Progress(
        TextColumn("simulate {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} shards"),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as bar:
        task = bar.add_task(scale, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate(
            scale,
            seed,
            out,
            fmt=fmt,
            shrink=shrink,
            shards=shards,
            progress=tick,
            jobs=jobs,
            rates=overrides,
        )
    if as_json:
        emit_json(summary)
        return
    rows = ", ".join(f"{k} {v:,}" for k, v in summary["rows"].items())
    stdout.print(f"wrote {summary['format']} to {out}: {rows}")
    stdout.print(
        f"ground truth: {sum(summary['truth'].values()):,} labels over {len(summary['truth'])} codes"
    )
