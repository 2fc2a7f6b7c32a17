"""Kept evidence when a ring keeps its id and moves shops (review 8).

BRUSH001 and BRUSH002 pick a finding's evidence rows by its buyers (``entity_id``) and by the
found row's ``merchants``. A ring can keep its buyers, so its finding id, and move shops with no
new order of its own: its head moves, and S's rows (orders at the old shops) must not go under
the new head. BRUSH002 leaves ``evidence_rows_by_entity`` False, so such a finding is proved
again; BRUSH001 re-heads, and its hook names every block whose shops S did not find for the same
buyers. Either way the increment's hash equals a full re-scan's. Each case checks the ring really
moved (same entity in S and now, other shops), so the test is not vacuous.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

from tests.support import make_store, write_rows

from promoguard import incremental, store
from promoguard.engine import run as eng
from promoguard.rules.brushing import brush001_dense_buyer_merchant_block as brush001
from promoguard.rules.brushing import brush002_linked_buyers_same_merchant as brush002

from .synth import T0, World


def _by_entity(result, code: str) -> dict[str, tuple[str, str]]:
    f = result.findings
    f = f[f.check_code == code]
    return {
        e: (sha, json.loads(o).get("merchants", m))
        for e, sha, o, m in zip(
            f.entity_id, f.evidence_sha256, f.observed, f.merchant_id, strict=True
        )
    }


def _day_then_scans(tmp_path, base: World, day: World, code: str):
    """S: a saved scan of ``base``; then ``day``'s orders appended; then the full re-scan (on a
    copy) and the increment since S."""
    path = tmp_path / "s.duckdb"
    make_store(path, base.tables()).close()
    first = eng.scan(path, "cn", checks=code)
    for o in day.orders:  # ids apart from the base's
        o["order_id"] = o["order_id"].replace("O", "N", 1)
    con = store.connect(path)
    write_rows(con, {"orders": day.tables()["orders"]})
    con.close()
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks=code, save=False)
    inc, _ = incremental.scan_since(path, "cn", "last", checks=code, save=False)
    return _by_entity(first, code), _by_entity(full, code), _by_entity(inc, code)


def test_brush002_ring_moves_to_its_other_shop(tmp_path):
    # three buyers on one device crowd M0 (once each) and M1 (twice each); the scan keeps the
    # M0 group of the entity. A new account on the device orders at M7: the component grows,
    # M0's share falls below min_share and the same buyers are M1's finding, same id
    base = World(merchants=["M0", "M1", "M7"])
    for h, b in enumerate(("W1", "W2", "W3")):
        base.order(b, "M0", T0 + dt.timedelta(days=1, hours=h), device="DV-W")
        for k in range(2):
            base.order(b, "M1", T0 + dt.timedelta(days=2, hours=h, minutes=k), device="DV-W")
    day = World(merchants=[])
    for k in range(2):
        day.order("W4", "M7", T0 + dt.timedelta(days=5, hours=k), device="DV-W")
    before, full, inc = _day_then_scans(tmp_path, base, day, "BRUSH002")
    ring = "W1|W2|W3"
    assert before[ring][1] == "M0" and full[ring][1] == "M1"  # the same id moved shops
    assert inc == full
    assert not brush002.LinkedBuyersSameMerchant.evidence_rows_by_entity


def test_brush001_block_loses_a_shop_turned_hub(tmp_path, monkeypatch):
    # five buyers repeat-order at three shops; 60 other buyers then make M012 a hub: the block
    # keeps its buyers (its id) and two shops, and no member placed a new order
    base = World(merchants=[f"M{i:03d}" for i in range(20)])
    for b in range(5):
        for m in ("M010", "M011", "M012"):
            for k in range(4):
                base.order(f"R{b}", m, T0 + dt.timedelta(hours=18 * k + b))
    for i in range(40):
        base.order(f"X{i}", f"M{i % 20:03d}", T0 + dt.timedelta(hours=i))
    day = World(merchants=[])
    for i in range(60):
        day.order(f"Y{i}", "M012", T0 + dt.timedelta(days=9, minutes=i))
    before, full, inc = _day_then_scans(tmp_path, base, day, "BRUSH001")
    (ring,) = full
    assert ring in before and before[ring][1] != full[ring][1]  # same id, other shops
    assert inc == full
    # BRUSH001 re-heads: a hook naming only the blocks a new order reaches would put S's rows
    # (orders at M010, M011, M012) under the new head (M010, M011)
    assert brush001.DenseBuyerMerchantBlock.evidence_rows_by_entity
    monkeypatch.setattr(
        brush001.DenseBuyerMerchantBlock,
        "evidence_touched",
        lambda self, t, new, f, p, c: brush001._group_orders_touched(f, new.orders),
    )
    wrong, _ = incremental.scan_since(
        tmp_path / "s.duckdb", "cn", "last", checks="BRUSH001", save=False
    )
    assert _by_entity(wrong, "BRUSH001")[ring][0] != full[ring][0]
