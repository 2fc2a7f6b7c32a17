"""Plain helpers shared by the ingest tests (fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb

PRICE_HEADER = (
    "listing_id,observed_at,price,reference_price,reference_label,claimed_discount_pct,channel"
)


def write(folder: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    row = con.execute(sql, params or []).fetchone()
    assert row is not None, sql
    return row[0]


def quarantine(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT source_file, line_number, column_name, reason FROM quarantine "
        "ORDER BY source_file, line_number"
    ).fetchall()
