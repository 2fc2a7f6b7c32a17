"""Stores built by hand for the outside-evaluation cases (issue #12), not by the simulator.

Rows go in by column name (``INSERT ... BY NAME``), so a column added to the model later leaves
these cases valid; a column a case does not give stays empty (NULL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from tests.support import make_store

from promoguard import store


def write_store(
    path: Path, tables: Mapping[str, Iterable[Mapping[str, Any]] | pd.DataFrame]
) -> Path:
    """A DuckDB store at ``path`` holding ``tables`` ({name: rows}); its path."""
    make_store(path, tables).close()
    return path


def scan(path: Path, pack: str, checks: str) -> pd.DataFrame:
    """The findings of one scan (through the public API, as an outside script would)."""
    import promoguard.api as pg

    return pg.scan(path, pack=pack, checks=checks)


def evidence(path: Path, sha: str) -> dict[str, Any]:
    with store.open_store(path, read_only=True) as con:
        row = con.execute(
            "SELECT document FROM evidence WHERE evidence_sha256 = ?", [sha]
        ).fetchone()
    assert row is not None, f"no evidence {sha}"
    return json.loads(row[0])


def base_tables(platform: str = "p1") -> dict[str, list[dict[str, Any]]]:
    return {"platforms": [{"platform_id": platform, "name": "Outside platform"}]}
