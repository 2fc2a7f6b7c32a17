"""Evidence frozen as canonical JSON, addressed by its SHA-256.

The same rows must give the same bytes whatever engine produced them, so values are normalised
before hashing: decimals keep their scale as text, instants become UTC ISO 8601 with a ``Z``,
floats are rounded to 9 significant digits, mappings are sorted and row lists are put in a
canonical order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal
from typing import Any

import duckdb


def canonical_value(value: Any) -> Any:
    """A JSON-ready value that is the same for the same datum on every engine."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value == int(value) and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.9g}")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # engines hand back UTC instants; some drop the zone
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return text + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical_value(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return canonical_value(value.item())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return canonical_value(value.to_pydatetime())
    return str(value)


def canonical_json(obj: Any) -> str:
    return json.dumps(
        canonical_value(obj), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )


def canonical_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows normalised and sorted by their canonical text, so row order never matters."""
    normal = [canonical_value(r) for r in rows]
    return sorted(normal, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))


def freeze(document: dict[str, Any]) -> tuple[str, str]:
    """Return ``(sha256_hex, canonical_json_text)`` of an evidence document."""
    text = canonical_json(document)
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), text


def read_evidence(con: duckdb.DuckDBPyConnection, sha256: str) -> dict[str, Any]:
    """Read a frozen evidence document back, verifying that its bytes still hash to its name."""
    row = con.execute(
        "SELECT document FROM evidence WHERE evidence_sha256 = ? LIMIT 1", [sha256]
    ).fetchone()
    if row is None:
        raise KeyError(f"no evidence {sha256}")
    text = row[0]
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != sha256:
        raise ValueError(f"evidence {sha256} is corrupt: its content hashes to {actual}")
    return json.loads(text)
