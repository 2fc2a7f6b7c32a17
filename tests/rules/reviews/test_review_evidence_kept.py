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
    # (no listing is listed: every review's platform, and the findings', is unknown alike)
    found = ibis.memtable(
        {"entity_id": pa.array(ids, pa.string()), "platform_id": pa.array([None] * 7, pa.string())}
    )
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


def test_review003_an_increment_carries_what_a_full_rescan_proves(tmp_path, monkeypatch):
    """Through the scans: a day's ``scan --since`` gives a full re-scan's evidence hashes while
    carrying documents; a reviewer of the planted burst writes again on another listing another
    day (her finding's score, its head, does not move; its rows do); a hook that leaves her
    finding out carries its stale document, and the hashes differ."""
    import datetime as dt
    import shutil

    from tests.rules.brushing.synth import T0
    from tests.support import make_store, write_rows

    from promoguard import incremental, store
    from promoguard.engine import run as eng
    from promoguard.rules.reviews.review003_spam_behaviour_score import SpamBehaviourScore

    from .synth import BURST_BUYERS, review_world

    path, copy = tmp_path / "s.duckdb", tmp_path / "full.duckdb"
    make_store(path, review_world().tables()).close()
    first = eng.scan(path, "cn", checks="REVIEW003")
    before = first.findings.set_index("entity_id")
    buyer = BURST_BUYERS[0]
    con = store.connect(path)
    mine = con.execute("SELECT review_id FROM reviews WHERE buyer_id = ?", [buyer]).fetchall()
    con.close()
    (hers,) = [r for (r,) in mine if r in before.index]
    later = T0 + dt.timedelta(days=25)
    added = [
        # her review on another listing, another day: her history grows, her score stays
        {**_review("RVX0001", buyer, 1, listing="L-M001"), "created_at": later},
        # a newcomer on another listing: moves that listing's scores (their heads)
        {**_review("RVX0002", "ZZ01", 1, listing="L-M002"), "created_at": later},
    ]
    con = store.connect(path)
    write_rows(con, {"reviews": added})
    con.close()
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks="REVIEW003", save=False)

    def hashes(result):
        f = result.findings
        return dict(zip(f.entity_id, f.evidence_sha256, strict=True))

    inc, _ = incremental.scan_since(path, "cn", first.scan_id, checks="REVIEW003", save=False)
    assert hashes(inc) == hashes(full)
    (run,) = inc.runs
    assert run.carried and run.carried > 0
    # the case is a real one: her head did not move, her document did
    now = full.findings.set_index("entity_id")
    assert now.loc[hers, "observed"] == before.loc[hers, "observed"]
    assert now.loc[hers, "evidence_sha256"] != before.loc[hers, "evidence_sha256"]

    hook = SpamBehaviourScore.evidence_touched
    monkeypatch.setattr(
        SpamBehaviourScore,
        "evidence_touched",
        lambda self, t, new, f, p, c: hook(self, t, new, f, p, c).filter(
            lambda r: r.entity_id != hers
        ),
    )
    wrong, _ = incremental.scan_since(path, "cn", first.scan_id, checks="REVIEW003", save=False)
    assert hashes(wrong)[hers] != hashes(full)[hers]
    assert {e: h for e, h in hashes(wrong).items() if e != hers} == {
        e: h for e, h in hashes(full).items() if e != hers
    }


def test_review003_hook_names_a_finding_whose_reviewers_listing_comes_late(tmp_path):
    """U1's second review is of listing L2, whose row comes a day late: in S that review's
    platform was unknown and counted (reviewer_elsewhere); with the row it is tmall's, as the
    finding R1 is, and quoted. No review arrives: only the listing names R1; R3 (U2, all on
    L1) is not named."""
    check = registry.get("REVIEW003")
    params = check.parameter_defaults()

    def listing(lid, merchant):
        return {
            "listing_id": lid,
            "merchant_id": merchant,
            "platform_id": "tmall",
            "title": lid,
            "category": "food",
            "currency": "CNY",
        }

    merchants = [{"merchant_id": m, "platform_id": "tmall", "name": m} for m in ("M1", "M2")]
    base = {
        "merchants": merchants,
        "listings": [listing("L1", "M1")],
        "reviews": [
            _review("R1", "U1", 1, listing="L1"),
            _review("R2", "U1", 2, listing="L2"),
            _review("R3", "U2", 2, listing="L1"),
        ],
    }
    con, before, now, new = split_store(
        tmp_path / "s.duckdb", base, {"listings": [listing("L2", "M2")]}
    )
    found = ibis.memtable(
        {"entity_id": pa.array(["R1", "R3"]), "platform_id": pa.array(["tmall", "tmall"])}
    )
    old = _evidence_rows(check, before, found, params)
    after = _evidence_rows(check, now, found, params)
    assert old["R1"] != after["R1"] and old["R3"] == after["R3"]
    assert _touched(check, now, new, found, params) == {"R1"}
