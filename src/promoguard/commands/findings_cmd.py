"""`promoguard findings list|show` and `promoguard quarantine list`: the store at the prompt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table as RichTable

from promoguard import present, sqlbuild
from promoguard import store as store_mod
from promoguard.commands._common import console, emit_json, fail, stdout, user_errors
from promoguard.errors import PromoGuardError
from promoguard.scans import choose_scan, not_checked
from promoguard.sqlbuild import Sql

app = typer.Typer(
    help="Findings of a scan: list them by check, merchant, severity, platform; show one.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
quarantine_app = typer.Typer(
    help="Rows ingest refused, with file, line, column and reason.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

STORE = typer.Option(..., "--store", help="The DuckDB store.")
JSON = typer.Option(False, "--json", help="Print one JSON object on stdout.")
SEVERITIES = ("critical", "high", "medium", "low")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def query_findings(
    con,
    scan_id: str,
    *,
    checks: list[str] = (),  # type: ignore[assignment]
    merchants: list[str] = (),  # type: ignore[assignment]
    severities: list[str] = (),  # type: ignore[assignment]
    platforms: list[str] = (),  # type: ignore[assignment]
    limit: int | None = None,
):
    """The findings of one scan, filtered; a check filter takes codes or prefixes (PRICE)."""
    conditions, args = [Sql("scan_id = ?")], [scan_id]
    if checks:
        starts = sqlbuild.join(" OR ", (Sql("starts_with(check_code, ?)") for _ in checks))
        conditions.append(sqlbuild.sql("({starts})", starts=starts))
        args += [c.upper() for c in checks]
    for col, values in (
        ("merchant_id", merchants),
        ("severity", severities),
        ("platform_id", platforms),
    ):
        if values:
            conditions.append(
                sqlbuild.sql("{col} IN ({marks})", col=col, marks=sqlbuild.marks(len(values)))
            )
            args += list(values)
    query = sqlbuild.sql(
        "SELECT * FROM findings{where} ORDER BY CASE severity WHEN 'critical' THEN 0 "
        "WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, check_code, entity_id{limit}",
        where=sqlbuild.where(conditions),
        limit=sqlbuild.limit(limit),
    )
    return con.execute(query, args).df()


@app.command("list")
@user_errors
def list_(
    store: Path = STORE,
    scan_id: str | None = typer.Option(
        None, "--scan", help="Scan id (default: the latest complete scan)."
    ),
    check: str | None = typer.Option(None, "--check", help="Codes or prefixes: PRICE001,SHIP."),
    merchant: str | None = typer.Option(None, "--merchant", help="Merchant ids, comma-separated."),
    severity: str | None = typer.Option(
        None, "--severity", help="critical, high, medium or low (comma-separated)."
    ),
    platform: str | None = typer.Option(None, "--platform", help="Platform ids, comma-separated."),
    limit: int = typer.Option(50, "--limit", help="At most this many rows (0: all)."),
    as_json: bool = JSON,
) -> None:
    """List a scan's findings, most severe first, with what was observed and expected."""
    bad = [s for s in _split(severity) if s not in SEVERITIES]
    if bad:
        fail(f"--severity takes {', '.join(SEVERITIES)}; got {', '.join(bad)}")
    with store_mod.open_store(store, read_only=True) as con:
        choice = choose_scan(con, scan_id)
        filters = {
            "checks": _split(check),
            "merchants": _split(merchant),
            "severities": _split(severity),
            "platforms": _split(platform),
        }
        total = len(query_findings(con, choice.scan.scan_id, **filters))
        df = query_findings(con, choice.scan.scan_id, **filters, limit=limit or None)
    tz, currency = present.pack_locale(choice.scan.pack)
    # a check the scan did not look at has no findings: say so rather than imply "none found"
    unchecked = not_checked(choice.scan, filters["checks"])
    if len(unchecked) > 3 and not filters["checks"]:  # one line, not a page of notes
        codes = ", ".join(x["check_code"] for x in unchecked)
        console.print(
            escape(
                f"note: {len(unchecked)} checks were not checked in {choice.scan.scan_id}: "
                f"{codes} (--check CODE says why; --json lists them)"
            )
        )
    else:
        for item in unchecked:
            console.print(
                escape(f"note: {item['check_code']}: {item['reason']} in {choice.scan.scan_id}")
            )
    if as_json:
        items = []
        for r in df.to_dict("records"):
            r["observed"] = present.loads(r["observed"])
            r["expected"] = present.loads(r["expected"])
            r["detected_at"] = (
                r["detected_at"].isoformat() if r["detected_at"] is not None else None
            )
            items.append(r)
        emit_json(
            {
                "scan": choice.scan.to_dict(),
                "chosen_because": choice.reason,
                "total": total,
                "items": items,
                "not_checked": unchecked,
            }
        )
        return
    stdout.print(escape(f"findings of {choice.describe()}"))
    if df.empty:
        stdout.print("no finding matches")
        return
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    grid.add_column("finding", no_wrap=True)
    grid.add_column("check", no_wrap=True)
    grid.add_column("sev", no_wrap=True)
    grid.add_column("merchant", no_wrap=True)
    grid.add_column("entity", overflow="fold", max_width=16)
    grid.add_column("observed / expected", ratio=1, min_width=24)
    for r in df.itertuples():
        seen = present.sentence(present.loads(r.observed), tz=tz, currency=currency)
        want = present.sentence(present.loads(r.expected), tz=tz, currency=currency)
        grid.add_row(
            r.finding_id[:12],
            r.check_code,
            r.severity,
            escape(str(r.merchant_id or "")),
            escape(str(r.entity_id)),
            escape(f"{seen} | expected: {want}" if want else seen),
        )
    stdout.print(grid)
    if total > len(df):
        stdout.print(f"{len(df)} of {total} shown; --limit 0 lists all, --json gives every field")


def _resolve(con, finding_id: str, scan_id: str | None) -> dict[str, Any]:
    """A finding by id or unique prefix; in the named scan, else the newest scan that has it."""
    args: list[Any] = [finding_id + "%"]
    query = sqlbuild.sql(
        "SELECT f.* FROM findings f JOIN scans s USING (scan_id) "
        "WHERE f.finding_id LIKE ? {in_scan}ORDER BY s.started_at DESC",
        in_scan=Sql("AND f.scan_id = ? " if scan_id else ""),
    )
    if scan_id:
        args.append(scan_id)
    df = con.execute(query, args).df()
    if df.empty:
        raise PromoGuardError(f"no finding {finding_id!r} in the store")
    ids = set(df.finding_id)
    if len(ids) > 1:
        raise PromoGuardError(f"{finding_id!r} names {len(ids)} findings; give more of the id")
    return df.iloc[0].to_dict()


def evidence_of(con, sha256: str) -> tuple[dict[str, Any] | None, bool | None]:
    """The evidence document and whether its bytes still hash to its name."""
    row = con.execute(
        "SELECT document FROM evidence WHERE evidence_sha256 = ? LIMIT 1", [sha256]
    ).fetchone()
    if row is None:
        return None, None
    text = row[0]
    ok = hashlib.sha256(text.encode("utf-8")).hexdigest() == sha256
    try:
        return json.loads(text), ok
    except ValueError:
        return None, False


@app.command("show")
@user_errors
def show(
    finding_id: str = typer.Argument(..., help="A finding id or a unique prefix of one."),
    store: Path = STORE,
    scan_id: str | None = typer.Option(
        None, "--scan", help="Which scan's copy (default: the newest scan that has it)."
    ),
    rows: int = typer.Option(10, "--rows", help="Evidence rows shown per kind (all with --json)."),
    as_json: bool = JSON,
) -> None:
    """One finding: rule, legal basis, observed/expected, its evidence rows, hash verified."""
    from promoguard.engine import registry

    with store_mod.open_store(store, read_only=True) as con:
        f = _resolve(con, finding_id, scan_id)
        document, verified = evidence_of(con, f["evidence_sha256"])
    try:
        check = registry.get(f["check_code"])
        title = check.title
    except Exception:  # noqa: BLE001 - a finding of a rule no longer registered still shows
        title = ""
    tz, currency = present.pack_locale(f["pack"])
    observed, expected = present.loads(f["observed"]), present.loads(f["expected"])
    if as_json:
        emit_json(
            {
                **{k: v for k, v in f.items() if k not in ("observed", "expected", "detected_at")},
                "detected_at": f["detected_at"].isoformat()
                if f["detected_at"] is not None
                else None,
                "title": title,
                "observed": observed,
                "expected": expected,
                "evidence": document,
                "evidence_verified": verified,
            }
        )
        return
    p = stdout.print
    p(f"finding   {f['finding_id']}  (scan {f['scan_id']})")
    p(f"rule      {f['check_code']} {escape(title)}")
    p(f"pack      {escape(f['pack'])}; severity {f['severity']}")
    p(f"entity    {f['entity_type']} {escape(str(f['entity_id']))}")
    p(
        f"merchant  {escape(str(f['merchant_id'] or '—'))} on platform {escape(str(f['platform_id'] or '—'))}"
    )
    p(f"detected  {present.local_time(f['detected_at'], tz)}")
    p("legal basis")
    for part in str(f["legal_basis"]).split("; "):
        p(f"  - {escape(part)}")
    p(f"observed  {escape(present.sentence(observed, tz=tz, currency=currency))}")
    p(f"expected  {escape(present.sentence(expected, tz=tz, currency=currency))}")
    if verified is None:
        p(f"evidence  {f['evidence_sha256']}: MISSING from the store")
    else:
        state = "hash verified" if verified else "HASH MISMATCH: the document was altered"
        p(f"evidence  sha256 {f['evidence_sha256']} ({state})")
    if document:
        for name, erows in sorted((document.get("rows") or {}).items()):
            p(f"[bold]{escape(name)}[/bold] ({len(erows)} row(s))")
            if not erows:
                continue
            cols = [c for c in erows[0] if c != "entity_id"]
            if len(cols) > 5 and stdout.width < 160:
                # a wide row reads better as one "column: value" line per field
                for i, er in enumerate(erows[:rows], 1):
                    p(f"  row {i}")
                    for c in cols:
                        v = present.value_words(c, er.get(c), tz=tz, currency=currency)
                        p(f"    {escape(c)}: {escape(v)}")
            else:
                grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
                for c in cols:
                    grid.add_column(escape(c), overflow="fold")
                for er in erows[:rows]:
                    grid.add_row(
                        *(
                            escape(present.value_words(c, er.get(c), tz=tz, currency=currency))
                            for c in cols
                        )
                    )
                p(grid)
            if len(erows) > rows:
                p(f"  … {len(erows) - rows} more (--rows N, or --json for all)")


def _blank_if_null(value: object) -> str:
    """A cell's text: None and pandas' NaN (a NULL in a text column read by .df()) are blank,
    not "nan"."""
    return "" if value is None or value != value else str(value)


@quarantine_app.command("list")
@user_errors
def quarantine_list(
    store: Path = STORE,
    table: str | None = typer.Option(None, "--table", help="Only rows meant for this table."),
    ingest_id: str | None = typer.Option(None, "--ingest", help="Only this ingest run."),
    limit: int = typer.Option(50, "--limit", help="At most this many rows (0: all)."),
    as_json: bool = JSON,
) -> None:
    """Rows ingest refused: the file, line, column and reason, and the raw row."""
    where, args = [], []
    if table:
        where.append("table_name = ?")
        args.append(table)
    if ingest_id:
        where.append("ingest_id = ?")
        args.append(ingest_id)
    clause = sqlbuild.where(Sql(w) for w in where)  # fixed conditions, values bound
    with store_mod.open_store(store, read_only=True) as con:
        total = con.execute(
            sqlbuild.sql("SELECT count(*) FROM quarantine{w}", w=clause), args
        ).fetchone()[0]
        by_reason = con.execute(
            sqlbuild.sql(
                "SELECT table_name, reason, count(*) n FROM quarantine{w} "
                "GROUP BY ALL ORDER BY n DESC, table_name, reason",
                w=clause,
            ),
            args,
        ).fetchall()
        df = con.execute(
            sqlbuild.sql(
                "SELECT * FROM quarantine{w} ORDER BY source_file, line_number{limit}",
                w=clause,
                limit=sqlbuild.limit(limit or None),
            ),
            args,
        ).df()
    if as_json:
        items = [
            {k: (None if v != v else v) for k, v in r.items()}  # NaN line numbers -> null
            for r in df.astype(object).to_dict("records")
        ]
        emit_json(
            {
                "total": int(total),
                "by_reason": [{"table": t, "reason": r, "rows": int(n)} for t, r, n in by_reason],
                "items": items,
            }
        )
        return
    if not total:
        stdout.print("no quarantined rows")
        return
    stdout.print(f"{total} quarantined row(s)")
    summary = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for c in ("table", "reason", "rows"):
        summary.add_column(c, justify="right" if c == "rows" else "left")
    for t, r, n in by_reason[:20]:
        summary.add_row(escape(t), escape(r), str(n))
    stdout.print(summary)
    grid = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for c in ("file", "line", "column", "reason", "raw"):
        grid.add_column(c, overflow="fold", justify="right" if c == "line" else "left")
    for r in df.itertuples():
        line = (
            ""
            if r.line_number is None or r.line_number != r.line_number
            else str(int(r.line_number))
        )
        raw = _blank_if_null(r.raw)
        grid.add_row(
            escape(r.source_file),
            line,
            escape(_blank_if_null(r.column_name)),  # an unreadable line names no column
            escape(r.reason),
            escape(present.excerpt(raw, 61)),
        )
    stdout.print(grid)
    if total > len(df):
        stdout.print(f"{len(df)} of {total} shown; --limit 0 lists all")
