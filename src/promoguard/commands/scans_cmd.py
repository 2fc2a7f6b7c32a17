"""`promoguard scans list|show|diff|delete --store FILE`: the scans a store keeps."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.markup import escape
from rich.table import Table as RichTable

from promoguard import scans as scans_mod
from promoguard import store as store_mod
from promoguard.commands._common import emit_json, fail, stdout, user_errors

app = typer.Typer(
    help="List, show, compare and delete the scans kept in a store.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

STORE = typer.Option(..., "--store", help="The DuckDB store.")
JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


@app.command("list")
@user_errors
def list_(store: Path = STORE, as_json: bool = JSON) -> None:
    """Every scan, newest first: pack, engine, complete or partial, findings."""
    with store_mod.open_store(store, read_only=True) as con:
        found = scans_mod.list_scans(con)
    if as_json:
        emit_json({"items": [s.to_dict() for s in found]})
        return
    if not found:
        stdout.print("no scan yet; run `promoguard scan`")
        return
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("scan", "pack", "started (UTC)", "checks", "findings"):
        grid.add_column(col, justify="right" if col == "findings" else "left", no_wrap=True)
    for s in found:
        short = (
            s.label
            if s.complete is not False
            else f"partial {len(s.checks)}/{len(s.checks) + len(s.missing)}"
        )
        grid.add_row(s.scan_id, s.pack, _when(s.started_at), escape(short), str(s.findings))
    stdout.print(grid)


@app.command("show")
@user_errors
def show(
    scan_id: str = typer.Argument(..., help="A scan id, a unique prefix of one, or `latest`."),
    store: Path = STORE,
    as_json: bool = JSON,
) -> None:
    """One scan: which checks ran (and which of the pack's did not), findings per check, data
    coverage when the scan recorded it."""
    with store_mod.open_store(store, read_only=True) as con:
        info = scans_mod.get_scan(con, scan_id)
        per_check = dict(
            con.execute(
                "SELECT check_code, count(*) FROM findings WHERE scan_id = ? GROUP BY 1",
                [info.scan_id],
            ).fetchall()
        )
    if as_json:
        emit_json(
            {
                **info.to_dict(parameters=True),
                "by_check": {c: int(per_check.get(c, 0)) for c in info.checks},
            }
        )
        return
    stdout.print(f"scan      {info.scan_id}")
    stdout.print(f"pack      {escape(info.pack)} on {info.engine}")
    stdout.print(f"started   {_when(info.started_at)} UTC; finished {_when(info.finished_at)} UTC")
    stdout.print(f"checks    {escape(info.label)}")
    if info.missing:
        stdout.print(f"not run   {', '.join(info.missing)}")
    stdout.print(f"findings  {info.findings}")
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False)
    grid.add_column("check")
    grid.add_column("findings", justify="right")
    covered = info.coverage or {}
    if covered:
        grid.add_column("data coverage")
    for code in info.checks:
        row = [code, str(int(per_check.get(code, 0)))]
        if covered:
            what = covered.get(code, "")
            if isinstance(what, dict):
                what = what.get("status") or what.get("note") or ""
            row.append(escape(str(what)))
        grid.add_row(*row)
    stdout.print(grid)


@app.command("diff")
@user_errors
def diff(
    a: str = typer.Argument(..., help="The earlier scan (id, prefix or `latest`)."),
    b: str = typer.Argument(..., help="The later scan."),
    store: Path = STORE,
    limit: int = typer.Option(20, "--limit", help="Entities listed per side (all with --json)."),
    as_json: bool = JSON,
) -> None:
    """What B found that A did not, and what A found that B no longer does, per check."""
    with store_mod.open_store(store, read_only=True) as con:
        d = scans_mod.diff(con, a, b)
    if as_json:
        emit_json(d)
        return
    sa, sb = d["a"], d["b"]
    stdout.print(f"A  {sa['scan_id']}  pack {escape(sa['pack'])}, {escape(sa['label'])}")
    stdout.print(f"B  {sb['scan_id']}  pack {escape(sb['pack'])}, {escape(sb['label'])}")
    if sa["pack"] != sb["pack"]:
        stdout.print("note: the scans use different packs; their findings differ by rule too")
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("check", "A", "B", "both", "only A", "only B", "severity changed"):
        grid.add_column(col, justify="left" if col == "check" else "right")
    for r in d["checks"]:
        na = str(r["in_a"]) if r["ran_in_a"] else "not run"
        nb = str(r["in_b"]) if r["ran_in_b"] else "not run"
        grid.add_row(
            r["check_code"], na, nb, str(r["both"]), str(r["only_a"]), str(r["only_b"]),
            str(r["severity_changed"]),
        )  # fmt: skip
    stdout.print(grid)
    for side, name in (("only_b", "new in B"), ("only_a", "gone in B")):
        rows = d[side]
        if not rows:
            continue
        more = f" (first {limit} of {len(rows)})" if len(rows) > limit else ""
        stdout.print(f"{name}{more}, among the checks both scans ran:")
        for k in rows[:limit]:
            stdout.print(f"  {k['check_code']}  {k['entity_type']} {escape(k['entity_id'])}")


@app.command("delete")
@user_errors
def delete(
    scan_id: str = typer.Argument(..., help="The scan to delete (id or unique prefix)."),
    store: Path = STORE,
    yes: bool = typer.Option(False, "--yes", help="Really delete (without it, say what would go)."),
    as_json: bool = JSON,
) -> None:
    """Delete a scan, its findings, and evidence documents no other finding points at."""
    if not store.exists():
        fail(f"no store at {store}")
    if store.is_dir():  # a lake's batches are append-only Parquet: its views cannot DELETE
        fail(
            f"{store} is a Parquet lake: `scans delete` works on a DuckDB store only "
            "(a lake keeps every scan; `scans list` and `report --scan` choose among them)"
        )
    if not yes:
        with store_mod.open_store(store, read_only=True) as con:
            info = scans_mod.get_scan(con, scan_id)
        fail(
            f"this deletes scan {info.scan_id} and its {info.findings} findings; "
            "add --yes to delete it"
        )
    with store_mod.open_store(store) as con:
        gone = scans_mod.delete(con, scan_id)
    if as_json:
        emit_json({"deleted": gone})
        return
    stdout.print(
        f"deleted scan {gone['scan_id']}: {gone['findings']} findings, "
        f"{gone['evidence']} evidence documents no other finding used"
    )
