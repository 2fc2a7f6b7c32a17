"""Incremental scans of a lake: re-check only what the batches since the last scan can change.

Each check declares what its findings depend on (``depends_on``):

- ``"merchant"``: a finding on an entity depends only on rows of that entity's merchant (its
  listings and their prices, reviews and texts, its orders with their parcels and scans, its
  licences) and on the platform-wide tables (platforms, promotions);
- ``"season"``: on anything in the season (a data horizon, a per-carrier share, a buyer graph,
  near-duplicate reviews across merchants): it is re-run on everything.

``scan --since SCAN`` on a lake finds the merchants the ingest batches published after SCAN
touch, runs the merchant checks on those merchants' rows only, keeps SCAN's findings of those
checks on every other merchant, and runs the season checks on everything. The result is the full
set of findings a full re-scan gives (tests/test_incremental.py checks that they are identical),
saved as a scan like any other, so ``monitor.delta`` reads new, still and resolved findings from it.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import pandas as pd

from promoguard import lake

DEPENDS_ON = ("merchant", "season")

#: the rows reached from the affected merchants: table -> FROM clause over the full lake (alias t)
_MERCHANT_ROWS = {
    "merchants": "_all_merchants t SEMI JOIN _pg_affected a USING (merchant_id)",
    "licences": "_all_licences t SEMI JOIN _pg_affected a USING (merchant_id)",
    "listings": "_all_listings t SEMI JOIN _pg_affected a USING (merchant_id)",
    "texts": "_all_texts t SEMI JOIN _pg_affected a USING (merchant_id)",
    "orders": "_all_orders t SEMI JOIN _pg_affected a USING (merchant_id)",
    "price_observations": "_all_price_observations t SEMI JOIN listings l USING (listing_id)",
    "reviews": "_all_reviews t SEMI JOIN listings l USING (listing_id)",
    "shipments": "_all_shipments t SEMI JOIN orders o USING (order_id)",
    "tracking_events": "_all_tracking_events t SEMI JOIN shipments s USING (carrier, tracking_no)",
}
#: how new rows of each table name their merchant (through the full lake views, prefix _all_)
_MERCHANT_OF = {
    "merchants": "SELECT merchant_id FROM {new}",
    "licences": "SELECT merchant_id FROM {new}",
    "listings": "SELECT merchant_id FROM {new}",
    "texts": "SELECT merchant_id FROM {new}",
    "orders": "SELECT merchant_id FROM {new}",
    "price_observations": "SELECT l.merchant_id FROM {new} n JOIN _all_listings l USING (listing_id)",
    "reviews": "SELECT l.merchant_id FROM {new} n JOIN _all_listings l USING (listing_id)",
    "shipments": "SELECT o.merchant_id FROM {new} n JOIN _all_orders o USING (order_id)",
    "tracking_events": (
        "SELECT o.merchant_id FROM {new} n JOIN _all_shipments s USING (carrier, tracking_no) "
        "JOIN _all_orders o USING (order_id)"
    ),
}
#: new rows here can change any finding: the scan falls back to a full one
_SEASON_WIDE = ("platforms", "promotions")


def depends_on(check: Any) -> str:
    """What the rule declares (``Check.depends_on``). Season-wide, and why: SHIP001/SHIP003 judge
    against the data horizon (the latest instant in the whole season); PARCEL001 uses each
    carrier's share of weighed parcels; SHIP002 finds a tracking number shared across merchants;
    REVIEW001 near-duplicates across merchants; REVIEW003 a buyer's orders everywhere;
    BRUSH001-003 the buyer-merchant graph."""
    scope = getattr(check, "depends_on", "season")
    if scope not in DEPENDS_ON:
        raise ValueError(f"{check.code}: depends_on {scope!r} is not one of {DEPENDS_ON}")
    return scope


def batches_since(manifest: lake.Manifest, scan_id: str) -> list[str] | None:
    """Ingest batches published after the scan ``scan_id``; None when the lake does not have it."""
    for i, b in enumerate(manifest.batches):
        if b.get("kind") == "scan" and b.get("scan_id") == scan_id:
            return [x["batch"] for x in manifest.batches[i + 1 :] if x.get("kind") == "ingest"]
    return None


def new_files(manifest: lake.Manifest, batches: list[str]) -> dict[str, list[str]]:
    """Per canonical table, the files those batches published (a file's name carries its batch)."""
    marks = [re.compile(rf"/part-{re.escape(b)}-\d+\.parquet$") for b in batches]
    out: dict[str, list[str]] = {}
    for table in lake.TABLE_NAMES:
        files = ["/" + f for f in manifest.tables.get(table, [])]
        hit = [f[1:] for f in files if any(m.search(f) for m in marks)]
        if hit:
            out[table] = hit
    return out


def affected_merchants(
    root: Any, manifest: lake.Manifest, files: dict[str, list[str]]
) -> pd.DataFrame | None:
    """The merchants whose rows the new files add to; None when every finding may change."""
    # platform-wide tables, or a table this module does not know how to trace to a merchant
    if any(t in _SEASON_WIDE or t not in _MERCHANT_OF for t in files):
        return None
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        lake.attach_views(con, root, manifest, lake.TABLE_NAMES, prefix="_all_")
        parts = []
        base = str(lake.Path(root).resolve())
        for table, rels in files.items():
            listed = ", ".join(lake._sql_str(f"{base}/{r}") for r in rels)
            new = f"read_parquet([{listed}], hive_partitioning = false)"
            parts.append(_MERCHANT_OF[table].format(new=new))
        if not parts:
            return pd.DataFrame({"merchant_id": pd.Series([], dtype=object)})
        sql = " UNION ".join(f"({p})" for p in parts)
        query = f"SELECT DISTINCT merchant_id FROM ({sql}) WHERE merchant_id IS NOT NULL"  # noqa: S608
        return con.execute(query).df()
    finally:
        con.close()


def scoped_connection(
    root: Any, manifest: lake.Manifest, merchants: pd.DataFrame, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection whose canonical tables hold only the rows reached from ``merchants``."""
    from promoguard import store as store_mod

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    store_mod.set_memory_limit(con, memory_limit)
    lake.attach_views(con, root, manifest, lake.TABLE_NAMES, prefix="_all_")
    con.register("_pg_affected_df", merchants)
    con.execute("CREATE TEMP TABLE _pg_affected AS SELECT merchant_id FROM _pg_affected_df")
    con.unregister("_pg_affected_df")
    for table in lake.TABLE_NAMES:  # in reference order: a table after those it is reached by
        source = _MERCHANT_ROWS.get(table, f'"_all_{table}" t')
        # materialised: the checks read each table many times
        con.execute(f'CREATE TEMP TABLE "{table}" AS SELECT t.* FROM {source}')  # noqa: S608
    return con


def scan_since(
    root: Any,
    pack: Any,
    since: str,
    *,
    checks: Any = None,
    save: bool = True,
    progress: Any = None,
    memory_limit: str | None = None,
):
    """A scan of the lake equal to a full re-scan, computed from the scan ``since`` and the
    batches published after it (``since`` may be ``last``: the latest scan of the pack)."""
    import datetime as dt
    import uuid

    from promoguard.engine import backends
    from promoguard.engine import run as eng
    from promoguard.engine.packs import load_pack
    from promoguard.errors import CheckError

    root = lake.Path(root)
    the_pack = load_pack(pack)
    chosen = eng.choose_checks(the_pack, checks)
    manifest = lake.read_manifest(root)
    con = lake.connect(root, memory_limit=memory_limit)
    try:
        if since == "last":
            row = con.execute(
                "SELECT scan_id FROM scans WHERE pack = ? "
                "ORDER BY started_at DESC, scan_id DESC LIMIT 1",
                [the_pack.name],
            ).fetchone()
            if row is None:
                raise CheckError(f"--since last: the lake has no scan of pack {the_pack.name!r}")
            since = row[0]
        prev = con.execute(
            "SELECT pack, checks, parameters FROM scans WHERE scan_id = ?", [since]
        ).fetchone()
        if prev is None:
            raise CheckError(f"--since {since}: no such scan in the lake")
        batches = batches_since(manifest, since)
        if batches is None:
            raise CheckError(f"--since {since}: the scan is not in the lake's manifest")
        merchants = affected_merchants(root, manifest, new_files(manifest, batches))
        detected_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        scan_id = f"scan-{detected_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        prev_params = _previous_parameters(prev, the_pack.name)
        local, season = [], []
        for check in chosen:
            same_params = prev_params.get(check.code) == _canonical(the_pack.parameters_for(check))
            if merchants is not None and depends_on(check) == "merchant" and same_params:
                local.append(check)
            else:  # season-wide, or a check the previous scan did not run as it runs now
                season.append(check)
        kw = {"engine": "duckdb", "scan_id": scan_id, "detected_at": detected_at}
        parts = []
        if season:
            with backends.duckdb_tables(con) as tables:
                parts.append(eng.run_checks(tables, season, the_pack, progress=progress, **kw))
        carried = con.execute("SELECT * FROM findings LIMIT 0").df()
        if local:
            scoped = scoped_connection(root, manifest, merchants, memory_limit)
            try:
                with backends.duckdb_tables(scoped) as tables:
                    parts.append(eng.run_checks(tables, local, the_pack, progress=progress, **kw))
            finally:
                scoped.close()
            con.register("_pg_affected", merchants)
            con.register("_pg_local", pd.DataFrame({"code": [c.code for c in local]}))
            carried = con.execute(
                """SELECT f.* FROM findings f
                   WHERE f.scan_id = ? AND f.check_code IN (SELECT code FROM _pg_local)
                     AND (f.merchant_id IS NULL
                          OR f.merchant_id NOT IN (SELECT merchant_id FROM _pg_affected))""",
                [since],
            ).df()
            carried["scan_id"] = scan_id
            carried["detected_at"] = detected_at
    finally:
        con.close()
    result = _combine(parts, carried, chosen, the_pack.name, scan_id)
    if save:
        lake.save_scan(root, result, the_pack, detected_at)
    return result, {
        "since": since,
        "batches": len(batches),
        "affected_merchants": None if merchants is None else len(merchants),
        "rechecked_local": [c.code for c in local],
        "rerun_season": [c.code for c in season],
        "carried": len(carried),
    }


def _canonical(params: Any) -> Any:
    import json

    from promoguard.engine.evidence import canonical_value

    return json.loads(json.dumps(canonical_value(params), sort_keys=True))


def _previous_parameters(prev: tuple, pack: str) -> dict[str, Any]:
    import json

    if prev[0] != pack:
        return {}
    try:
        return json.loads(prev[2])
    except ValueError:
        return {}


def _combine(parts: list, carried: pd.DataFrame, chosen: list, pack: str, scan_id: str):
    from promoguard.engine.run import CheckRun, ScanResult

    frames = [p.findings for p in parts]
    if len(carried):
        frames.append(carried[parts[0].findings.columns] if parts else carried)
    findings = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else (parts[0].findings if parts else carried)
    )
    runs_by_code = {r.code: r for p in parts for r in p.runs}
    counts = findings.groupby("check_code").size().to_dict() if len(findings) else {}
    runs = [
        CheckRun(
            c.code,
            int(counts.get(c.code, 0)),
            runs_by_code.get(c.code, CheckRun(c.code, 0, 0.0)).seconds,
        )
        for c in chosen
    ]
    evidence: dict[str, str] = {}
    for p in parts:
        evidence.update(p.evidence)
    return ScanResult(scan_id, pack, "duckdb", findings, runs, evidence)
