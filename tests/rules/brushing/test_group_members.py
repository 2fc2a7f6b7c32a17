"""A buyer group's members are its entity_id split at the separator alone: ids are opaque and
may hold a comma (review 11: split at ',' too, buyer "R,1" became "R" and "1", whose orders the
evidence quoted while R,1's own were left out)."""

from __future__ import annotations

import datetime as dt
import json

import ibis
from tests.rules.brushing.synth import T0, World
from tests.support import make_store

from promoguard.engine import run as eng
from promoguard.rules.brushing._shared import group_members


def test_members_are_split_at_the_separator_only():
    found = ibis.memtable({"entity_id": ["R,1|R0|a b"], "merchants": ["M1|M2"]})
    got = ibis.duckdb.connect().execute(group_members(found))
    assert sorted(got.buyer_id) == ["R,1", "R0", "a b"]


def _ring_with_a_comma() -> World:
    w = World(merchants=[f"M{i:03d}" for i in range(20)])
    for b in range(5):
        buyer = "R,1" if b == 1 else f"R{b}"
        for m in ("M010", "M011"):
            for k in range(4):
                w.order(buyer, m, T0 + dt.timedelta(hours=18 * k + b))
    # buyers named as the comma's two sides, each with an order at the ring's shop
    w.order("R", "M010", T0 + dt.timedelta(hours=30))
    w.order("1", "M011", T0 + dt.timedelta(hours=31))
    for i in range(40):
        w.order(f"X{i}", f"M{i % 20:03d}", T0 + dt.timedelta(hours=i))
    return w


def test_brush001_evidence_quotes_the_comma_buyers_own_orders(tmp_path):
    path = tmp_path / "s.duckdb"
    make_store(path, _ring_with_a_comma().tables()).close()
    result = eng.scan(path, "cn", checks="BRUSH001", save=False)
    f = result.findings
    block = f[f.entity_id.str.contains("R,1", regex=False)]
    assert len(block) == 1, list(f.entity_id)
    doc = json.dumps(json.loads(result.evidence[block.evidence_sha256.iloc[0]]))
    assert '"R,1"' in doc  # its own orders are quoted
    assert '"buyer_id": "R"' not in doc and '"buyer_id": "1"' not in doc
