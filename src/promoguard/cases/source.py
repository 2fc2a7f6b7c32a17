"""Everything the case database reads from a scan store, in one module.

The store's scans/findings contract is the spec's (``findings``: finding_id, scan_id, check_code,
pack, entity_type, entity_id, merchant_id, platform_id, severity, observed, expected, legal_basis,
evidence_sha256, detected_at; ``evidence``: evidence_sha256, document; ``scans``: scan_id, pack,
checks, started_at). Nothing else in ``promoguard.cases`` opens a store, so a change to how the
store keeps scans touches this file only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from promoguard import store as store_mod
from promoguard.cases.errors import CaseError
from promoguard.sqlbuild import idents, sql

FINDING_FIELDS = (
    "finding_id",
    "scan_id",
    "check_code",
    "pack",
    "entity_type",
    "entity_id",
    "merchant_id",
    "platform_id",
    "severity",
    "observed",
    "expected",
    "legal_basis",
    "evidence_sha256",
)

#: Where an entity's own data lives, to tell "no longer present" from "not checked".
ENTITY_TABLES = {
    "listing": ("listings", "listing_id"),
    "order": ("orders", "order_id"),
    "merchant": ("merchants", "merchant_id"),
    "review": ("reviews", "review_id"),
    "text": ("texts", "text_id"),
    "coupon": ("coupons", "coupon_id"),
    "prize_promotion": ("prize_promotions", "prize_promotion_id"),
}


@dataclass(frozen=True)
class ScanInfo:
    scan_id: str
    pack: str
    checks: tuple[str, ...]
    started_at: str


@contextmanager
def _open(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    if not Path(path).exists():
        raise CaseError(f"no store at {path}")
    with store_mod.open_store(path, read_only=True) as con:
        # reading a city-scale scan must not take the machine's memory for DuckDB's cache
        con.execute("SET memory_limit = '2GB'")
        yield con


def scan_info(store: str | Path, scan_id: str | None = None) -> ScanInfo:
    """The scan ``scan_id``, or the store's latest scan."""
    with _open(store) as con:
        if scan_id is None:
            row = con.execute(
                "SELECT scan_id, pack, checks, started_at FROM scans "
                "ORDER BY started_at DESC, scan_id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                raise CaseError(f"the store {store} has no scan yet: run `promoguard scan` first")
        else:
            row = con.execute(
                "SELECT scan_id, pack, checks, started_at FROM scans WHERE scan_id = ?", [scan_id]
            ).fetchone()
            if row is None:
                raise CaseError(f"no scan {scan_id} in {store}")
    checks = tuple(c.strip() for c in str(row[2]).split(",") if c.strip())
    return ScanInfo(row[0], row[1], checks, str(row[3]))


def findings(store: str | Path, scan_id: str) -> pd.DataFrame:
    """The scan's findings (the spec's columns, detected_at left out) as strings."""
    with _open(store) as con:
        df = con.execute(
            sql(
                "SELECT {cols} FROM findings WHERE scan_id = ? "
                "ORDER BY platform_id, merchant_id, check_code, entity_type, entity_id",
                cols=idents(FINDING_FIELDS),
            ),
            [scan_id],
        ).df()
    return df


#: :data:`FINDING_FIELDS` and when the scan found it (UTC, ``YYYY-MM-DD HH:MM:SS.ffffff`` text:
#: the case database's bulk insert takes values as its columns hold them)
ROW_FIELDS = (*FINDING_FIELDS, "detected_at")


def finding_rows(store: str | Path, scan_id: str) -> list[tuple]:
    """The scan's findings as tuples in :data:`ROW_FIELDS` order (NULL → None)."""
    with _open(store) as con:
        return con.execute(
            sql(
                "SELECT {cols}, strftime(timezone('UTC', detected_at), '%Y-%m-%d %H:%M:%S.%f') "
                "FROM findings WHERE scan_id = ?",
                cols=idents(FINDING_FIELDS),
            ),
            [scan_id],
        ).fetchall()


def evidence(
    store: str | Path, scan_id: str, *, batch: int = 20_000
) -> Iterator[list[tuple[str, str]]]:
    """The scan's evidence documents, ``(sha256, document)`` in batches, streamed.

    A document shared by several findings (or kept twice by the store) may come more than once;
    the caller inserts with ON CONFLICT DO NOTHING. Streaming matters: a city-scale scan carries
    ~1.5 GB of documents.
    """
    with _open(store) as con:
        reader = con.sql(
            "SELECT evidence_sha256, document FROM evidence WHERE evidence_sha256 IN "
            "(SELECT evidence_sha256 FROM findings WHERE scan_id = $scan)",
            params={"scan": scan_id},
        ).to_arrow_reader(batch)
        for rb in reader:
            yield list(
                zip(
                    rb.column(0).to_pylist(),
                    rb.column(1).to_pylist(),
                    strict=True,
                )
            )


def names(store: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """Platform and merchant names by id."""
    with _open(store) as con:
        platforms = dict(con.execute("SELECT platform_id, name FROM platforms").fetchall())
        merchants = dict(con.execute("SELECT merchant_id, name FROM merchants").fetchall())
    return platforms, merchants


def harm(store: str | Path, scan_id: str) -> pd.DataFrame:
    """Consumer harm per (platform_id, merchant_id) of the scan's findings.

    ``orders_affected``: distinct orders that are a finding themselves, or were paid for a listing
    with a finding (cancelled orders left out); ``amount_affected``: what buyers paid for them
    (quantity × unit price, in the listing's currency).
    """
    with _open(store) as con:
        return con.execute(
            """
            WITH f AS (
              SELECT DISTINCT platform_id, merchant_id, entity_type, entity_id
              FROM findings WHERE scan_id = ? AND entity_type IN ('order', 'listing')
            ),
            hit AS (
              SELECT f.platform_id, f.merchant_id, o.order_id, o.quantity, o.unit_price
              FROM f JOIN orders o ON f.entity_type = 'order' AND o.order_id = f.entity_id
              UNION
              SELECT f.platform_id, f.merchant_id, o.order_id, o.quantity, o.unit_price
              FROM f JOIN orders o ON f.entity_type = 'listing' AND o.listing_id = f.entity_id
              WHERE o.status <> 'cancelled'
            )
            SELECT platform_id, merchant_id, count(*) AS orders_affected,
                   sum(quantity * unit_price) AS amount_affected
            FROM hit GROUP BY ALL
            """,
            [scan_id],
        ).df()


def present_entities(store: str | Path, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``(entity_type, entity_id)`` still have their data in the store.

    A buyer group (``B1|B2|…``) is present when any of its buyers still has an order.
    """
    out: set[tuple[str, str]] = set()
    by_type: dict[str, list[str]] = {}
    for etype, eid in keys:
        by_type.setdefault(etype, []).append(eid)
    with _open(store) as con:
        # asked, not caught: an error reading a table that is there (Ctrl-C, a lost file) must
        # stop the verdict, not count its findings as unchecked
        present = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        for etype, ids in by_type.items():
            if etype == "buyer_group":
                buyers = sorted({b for eid in ids for b in eid.split("|")})
                have = {
                    r[0]
                    for r in con.execute(
                        "SELECT DISTINCT buyer_id FROM orders WHERE buyer_id IN "
                        "(SELECT unnest(?::VARCHAR[]))",
                        [buyers],
                    ).fetchall()
                }
                out.update((etype, eid) for eid in ids if any(b in have for b in eid.split("|")))
                continue
            table = ENTITY_TABLES.get(etype)
            if table is None:
                continue
            name, col = table
            if name not in present:  # a store without that table (older model): nothing is present
                continue
            rows = con.execute(
                sql(
                    "SELECT DISTINCT {col} FROM {name} WHERE {col} IN (SELECT unnest(?::VARCHAR[]))",
                    col=col,
                    name=name,
                ),
                [ids],
            ).fetchall()
            out.update((etype, r[0]) for r in rows)
    return out
