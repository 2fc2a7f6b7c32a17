"""Kept evidence of the review checks (``Check.evidence_touched``, docs/kept.md): the found rows
a hook leaves out have the same evidence rows on the previous scan's rows as on all rows, on
hand-built days where a too-narrow hook would leave out a finding whose rows did change."""

from __future__ import annotations

from collections import defaultdict

import ibis
import pyarrow as pa

from promoguard.engine import registry
from promoguard.engine.base import ScanContext

from .kept_split import split_store

CTX = ScanContext(pack="cn", engine="duckdb")


def _review(rid, buyer, day, listing="L1", text="好评"):
    return {
        "review_id": rid,
        "listing_id": listing,
        "buyer_id": buyer,
        "order_id": None,
        "rating": 5,
        "created_at": f"2026-11-{day:02d}T10:00:00Z",
        "text": text,
    }


def _evidence_rows(check, tables, found, params) -> dict[str, list]:
    """Per entity, its evidence rows (every evidence table's, as sorted tuples)."""
    out: dict[str, list] = defaultdict(list)
    for name, rel in check.evidence(tables, found, params, CTX).items():
        for row in tables.to_arrow(rel).to_pylist():
            values = tuple(sorted((k, repr(v)) for k, v in row.items()))
            out[row["entity_id"]].append((name, values))
    return {k: sorted(v) for k, v in out.items()}


def _touched(check, now, new, found, params) -> set[str]:
    got = check.evidence_touched(now, new, found, params, CTX)
    if not isinstance(got, (pa.Array, pa.ChunkedArray)):
        got = now.to_arrow(got.select("entity_id")).column("entity_id")
    return set(got.to_pylist())


def test_review003_hook_names_every_finding_whose_rows_the_day_changes(tmp_path):
    """A buyer's new review (on another listing) changes the history shown beside each of that
    buyer's old findings; a new row repeating an old review's id (another buyer) changes that
    finding's own rows and adds the other buyer's history; the other findings keep their rows."""
    check = registry.get("REVIEW003")
    params = check.parameter_defaults()
    base = {
        "reviews": [
            _review("R1", "U1", 1),
            _review("R2", "U1", 2),
            _review("R3", "U2", 1),
            _review("R4", "U3", 3),
            _review("R5", "U4", 3),
        ]
    }
    added = {
        "reviews": [
            _review("R7", "U1", 9, listing="L2"),  # U1's history grows: R1, R2 change
            _review("R4", "U5", 9),  # R4's id again, another buyer: R4 changes
            _review("R8", "U5", 8),  # (new: its own rows are new)
        ]
    }
    con, before, now, new = split_store(tmp_path / "s.duckdb", base, added)
    ids = ["R1", "R2", "R3", "R4", "R5", "R7", "R8"]
    found = ibis.memtable({"entity_id": pa.array(ids, pa.string())})
    old = _evidence_rows(check, before, found, params)
    after = _evidence_rows(check, now, found, params)
    touched = _touched(check, now, new, found, params)
    changed = {e for e in ids if old.get(e) != after.get(e)}
    # the case is a real one: both kinds of change happened, and a hook naming only the new
    # rows' own ids would miss R1 and R2
    assert changed == {"R1", "R2", "R4", "R7", "R8"}
    assert changed <= touched
    assert touched == changed  # (and nothing more here: the untouched keep S's documents)
    con.close()
