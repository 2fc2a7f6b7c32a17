"""Daily monitoring: what changed between two scans, and the watched merchants' alerts first.

A finding's id is stable (pack, check, entity, parameters), so the findings of two scans of the
same pack compare by id: **new** (in this scan, not the previous one), **still** present (in
both) and **resolved** (in the previous scan only). A watchlist (key monitoring, 重点监测) names
merchants and listings; new high-severity findings on them come first in the alerts.

The watchlist is a CSV file with the columns ``entity_type`` (``merchant`` or ``listing``) and
``entity_id``, and optionally ``note``, or a table ``watchlist`` with those columns in the store
(made with any DuckDB client; used when no file is given); it is data, read as text, never
executed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from promoguard import sqlbuild
from promoguard.errors import PromoGuardError

CHANGES = ("new", "still", "resolved")
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
#: per entity type: the table and column that give a finding's listing (for listing watches)
LISTING_OF = {
    "order": ("orders", "order_id"),
    "review": ("reviews", "review_id"),
    "text": ("texts", "text_id"),
}


@dataclass
class Watchlist:
    merchants: set[str] = field(default_factory=set)
    listings: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.merchants or self.listings)


def read_watchlist(path: str | Path) -> Watchlist:
    """Read a watchlist CSV; a malformed one is one clear error, not a partial list."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PromoGuardError(f"no watchlist at {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromoGuardError(f"{p}: cannot be read as UTF-8 CSV: {exc}") from None
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or not {"entity_type", "entity_id"} <= set(rows.fieldnames):
        raise PromoGuardError(f"{p}: a watchlist needs the columns entity_type,entity_id")
    watch = Watchlist()
    for line, row in enumerate(rows, start=2):
        kind = (row.get("entity_type") or "").strip().lower()
        ident = (row.get("entity_id") or "").strip()
        if kind not in ("merchant", "listing") or not ident:
            raise PromoGuardError(
                f"{p}: line {line}: entity_type must be merchant or listing, with an entity_id"
            )
        (watch.merchants if kind == "merchant" else watch.listings).add(ident)
    return watch


def store_watchlist(con: duckdb.DuckDBPyConnection) -> Watchlist | None:
    """The store's own ``watchlist`` table, or None when it has none (or it is not one)."""
    cols = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'watchlist' "
            "AND schema_name = 'main'"
        ).fetchall()
    }
    if not {"entity_type", "entity_id"} <= cols:
        return None
    watch = Watchlist()
    for kind, ident in con.execute(
        "SELECT lower(trim(CAST(entity_type AS VARCHAR))), trim(CAST(entity_id AS VARCHAR)) "
        "FROM watchlist"
    ).fetchall():
        if kind == "merchant" and ident:
            watch.merchants.add(ident)
        elif kind == "listing" and ident:
            watch.listings.add(ident)
        else:
            raise PromoGuardError(
                "the store's watchlist table: entity_type must be merchant or listing, "
                f"with an entity_id (got {kind!r}, {ident!r})"
            )
    return watch


def latest_scans(con: duckdb.DuckDBPyConnection, pack: str | None = None) -> list[str]:
    """Scan ids, newest first (of one pack when given)."""
    where, args = ("WHERE pack = ?", [pack]) if pack else ("", [])
    return [
        r[0]
        for r in con.execute(
            sqlbuild.sql(
                "SELECT scan_id FROM scans {where} ORDER BY started_at DESC, scan_id DESC",
                where=sqlbuild.Sql(where),
            ),
            args,
        ).fetchall()
    ]


def previous_scan(con: duckdb.DuckDBPyConnection, scan_id: str) -> str | None:
    """The scan of the same pack just before ``scan_id``, or None."""
    row = con.execute(
        """SELECT p.scan_id FROM scans s JOIN scans p ON p.pack = s.pack
           AND (p.started_at, p.scan_id) < (s.started_at, s.scan_id)
           WHERE s.scan_id = ? ORDER BY p.started_at DESC, p.scan_id DESC LIMIT 1""",
        [scan_id],
    ).fetchone()
    return row[0] if row else None


def delta(
    con: duckdb.DuckDBPyConnection,
    scan_id: str,
    previous: str | None = None,
    watch: Watchlist | None = None,
) -> pd.DataFrame:
    """Every finding of either scan with ``change`` (new, still, resolved) and ``watched``,
    alerts first: new before still before resolved; watched, then by severity, within each."""
    if previous is None:
        previous = previous_scan(con, scan_id)
    cols = (
        "finding_id, check_code, entity_type, entity_id, merchant_id, platform_id, severity, "
        "observed, evidence_sha256"
    )
    # a check the scan did not run resolved nothing: a partial scan (--checks) compares only the
    # checks it ran (a scan record without its checks: all of them)
    df = con.execute(
        sqlbuild.sql(
            """WITH ran AS (SELECT trim(unnest(string_split(checks, ','))) AS code FROM scans
                         WHERE scan_id = $1 AND checks <> ''),
                cur AS (SELECT {cols} FROM findings WHERE scan_id = $1),
                prev AS (SELECT {cols} FROM findings WHERE scan_id = $2
                         AND (check_code IN (SELECT code FROM ran)
                              OR NOT EXISTS (SELECT 1 FROM ran)))
            SELECT *, 'new' AS change FROM cur ANTI JOIN prev USING (finding_id)
            UNION ALL
            SELECT *, 'still' AS change FROM cur SEMI JOIN prev USING (finding_id)
            UNION ALL
            SELECT *, 'resolved' AS change FROM prev ANTI JOIN cur USING (finding_id)""",
            cols=sqlbuild.Sql(cols),
        ),
        [scan_id, previous or ""],
    ).df()
    df["watched"] = _watched(con, df, watch) if watch else False
    order = pd.DataFrame(
        {
            "c": df["change"].map({c: i for i, c in enumerate(CHANGES)}),
            "w": (~df["watched"]).astype(int),
            "s": df["severity"].map(SEVERITY_RANK).fillna(9),
        }
    )
    keys = order.assign(check_code=df.check_code, entity_id=df.entity_id)
    idx = keys.sort_values(["c", "w", "s", "check_code", "entity_id"]).index
    return df.loc[idx].reset_index(drop=True)


def _watched(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, watch: Watchlist) -> pd.Series:
    hit = df["merchant_id"].isin(watch.merchants)
    hit |= (df["entity_type"] == "listing") & df["entity_id"].isin(watch.listings)
    for etype, (table, key) in LISTING_OF.items():
        ids = df.loc[(df["entity_type"] == etype) & ~hit, "entity_id"]
        if ids.empty or not watch.listings:
            continue
        con.register("_pg_watch_ids", pd.DataFrame({"id": ids.unique()}))
        try:
            rows = con.execute(
                sqlbuild.sql(
                    "SELECT {key}, listing_id FROM {table} t JOIN _pg_watch_ids w ON {t_key} = w.id",
                    key=key,
                    table=table,
                    t_key=sqlbuild.column("t", key),
                )
            ).fetchall()
        finally:
            con.unregister("_pg_watch_ids")
        on_watched = {i for i, listing in rows if listing in watch.listings}
        hit |= (df["entity_type"] == etype) & df["entity_id"].isin(on_watched)
    return hit


def summary(d: pd.DataFrame) -> dict[str, Any]:
    counts = d["change"].value_counts().to_dict()
    new = d[d["change"] == "new"]
    return {
        **{c: int(counts.get(c, 0)) for c in CHANGES},
        "new_watched": int(new["watched"].sum()),
        "new_watched_high": int(
            (new["watched"] & new["severity"].isin(("critical", "high"))).sum()
        ),
    }
