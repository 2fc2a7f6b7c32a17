"""BRUSH001's state kept from scan to scan: the buying-group verdicts of the blocks no new order
reaches are carried, every other block is judged again (``_buying_groups_kept``); and which
found blocks' evidence the new orders can change (``evidence_touched``)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import ibis
import pandas as pd
import pyarrow as pa
import pytest
from tests.support import make_store, write_rows

from promoguard import incremental, integrity, store
from promoguard.engine import run as eng
from promoguard.engine.base import Tables
from promoguard.rules.brushing import brush001_dense_buyer_merchant_block as b1

from .synth import T0, World
from .test_kept import store_connect

KEY = repr(b1.buying_groups_key(b1.DenseBuyerMerchantBlock().parameter_defaults(), 8))


def _lunch_group(sittings: int, extra: list[tuple[str, str, int, str]] = ()) -> World:
    """Five colleagues ordering lunch together every third day from two shops (one block,
    G0..G4 x M010, M011), ``sittings`` of them, beside background traffic; ``extra``: more
    orders (buyer, shop, day, status)."""
    w = World(merchants=[f"M{i:03d}" for i in range(20)])
    for d in range(sittings):
        shop = ("M010", "M011")[d % 2]
        for i in range(5):
            w.order(f"G{i}", shop, T0 + dt.timedelta(days=3 * d, hours=3, minutes=4 * i))
    for i in range(40):
        w.order(f"X{i}", f"M{i % 20:03d}", T0 + dt.timedelta(hours=7 * i))
    for buyer, shop, day, status in extra:
        w.order(buyer, shop, T0 + dt.timedelta(days=day, hours=12))
        w.orders[-1]["status"] = status
    return w


def _brush001(result) -> pd.DataFrame:
    f = result.findings
    f = f[f.check_code == "BRUSH001"].sort_values("finding_id")
    return f[["finding_id", "entity_id", "severity", "observed", "evidence_sha256"]].reset_index(
        drop=True
    )


def _base_and_day(tmp_path, world: World, day: int):
    """A store of ``world``'s rows before ``day`` scanned (saved), then the rest added; and a
    full scan of a copy of it."""
    tables = world.tables()
    orders = tables["orders"]
    late = orders[orders.paid_at >= T0 + dt.timedelta(days=day)]
    base = {**tables, "orders": orders.drop(late.index)}
    new = {"orders": late}
    path = tmp_path / "s.duckdb"
    make_store(path, base).close()
    before = eng.scan(path, "cn", checks="BRUSH001")
    con = store_connect(path)
    write_rows(con, new)
    con.close()
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    return path, _brush001(before), _brush001(eng.scan(copy, "cn", checks="BRUSH001", save=False))


@pytest.mark.parametrize(
    "case",
    [
        "sixth sitting makes a group",  # the same block, judged high before, low now
        "seventh sitting changes the why",  # low both times, another sentence
    ],
)
def test_a_block_a_new_order_reaches_is_judged_again(tmp_path, monkeypatch, case):
    sittings = 6 if case.startswith("sixth") else 7
    path, before, full = _base_and_day(tmp_path, _lunch_group(sittings), 3 * sittings - 3)
    # the same block (buyers and shops) before and after, with another verdict
    assert list(before.entity_id) == list(full.entity_id) == ["G0|G1|G2|G3|G4"]
    assert list(before.observed) != list(full.observed)
    inc, info = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert KEY in info["kept"]["folded"]
    assert _brush001(inc).equals(full)
    # a fold that carried every verdict the previous scan judged would keep the old one
    monkeypatch.setattr(b1, "_touched_blocks", lambda *a: set())
    stale, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    stale = _brush001(stale)
    assert not stale.equals(full)
    assert list(stale.severity) == list(before.severity)
    assert [_why(o) for o in stale.observed] == [_why(o) for o in before.observed]


def _why(observed: str) -> str | None:
    return json.loads(observed).get("severity_reason")


def test_a_block_no_new_order_reaches_keeps_its_verdict_unjudged(tmp_path, monkeypatch):
    # new orders of the block's buyers elsewhere, a cancelled one at its shop, and another
    # buyer's at its shop: none reaches its verdict, which is carried without judging it
    extra = [
        ("G0", "M003", 40, "paid"),
        ("G1", "M010", 40, "cancelled"),
        ("X1", "M010", 40, "paid"),
    ]
    path, before, full = _base_and_day(tmp_path, _lunch_group(6, extra), 30)
    assert list(before.entity_id) == list(full.entity_id) == ["G0|G1|G2|G3|G4"]
    assert list(full.severity) == ["low"]
    judged: list[int] = []
    real = b1._buying_groups

    def counting(tables, blocks, params, ctx):
        judged.append(len(blocks))
        return real(tables, blocks, params, ctx)

    monkeypatch.setattr(b1, "_buying_groups", counting)
    inc, info = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert KEY in info["kept"]["folded"]
    assert judged == [0]
    assert _brush001(inc)[["finding_id", "severity", "observed"]].equals(
        full[["finding_id", "severity", "observed"]]
    )


def test_a_new_block_is_judged_beside_a_carried_one(tmp_path, monkeypatch):
    # a ring appears on the day (every order of it new) beside the lunch group of the base
    w = _lunch_group(6)
    for b in range(5):
        for m in ("M012", "M013"):
            for k in range(4):
                w.order(f"S{b}", m, T0 + dt.timedelta(days=30, hours=3 * k + b))
    path, before, full = _base_and_day(tmp_path, w, 30)
    assert list(before.entity_id) == ["G0|G1|G2|G3|G4"]
    assert set(full.entity_id) == {"G0|G1|G2|G3|G4", "S0|S1|S2|S3|S4"}
    judged: list[list[str]] = []
    real = b1._buying_groups

    def counting(tables, blocks, params, ctx):
        judged.append(["|".join(b.buyers) for b in blocks])
        return real(tables, blocks, params, ctx)

    monkeypatch.setattr(b1, "_buying_groups", counting)
    inc, info = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert KEY in info["kept"]["folded"]
    assert judged == [["S0|S1|S2|S3|S4"]]
    cols = ["finding_id", "severity", "observed"]
    assert _brush001(inc)[cols].equals(full[cols])
    assert sorted(full.severity) == ["high", "low"]


def _found_and_new(rows: list[tuple[str, str, str]]) -> tuple[ibis.Table, ibis.Table]:
    found = ibis.memtable({"entity_id": ["A|B|C", "D|E|F"], "merchants": ["M1|M2", "M10|M3"]})
    cols = ["buyer_id", "merchant_id", "status"]
    new = ibis.memtable(
        pa.table({c: pa.array([r[k] for r in rows], pa.string()) for k, c in enumerate(cols)})
    )
    return found, new


@pytest.mark.parametrize(
    ("rows", "touched"),
    [
        ([("B", "M2", "paid")], {"A|B|C"}),
        ([("B", "M2", "cancelled")], {"A|B|C"}),  # the evidence shows cancelled orders too
        ([("B", "M3", "paid")], set()),  # a member elsewhere
        ([("D", "M1", "paid")], set()),  # another block's member at the shop
        ([("D", "M1", "paid"), ("F", "M10", "paid")], {"D|E|F"}),
        ([("E", "M1", "paid"), ("C", "M10", "paid")], set()),  # no prefix matches: M1 / M10
        ([], set()),
    ],
)
def test_evidence_touched_names_the_blocks_a_new_order_of_a_member_at_a_shop_reaches(rows, touched):
    found, new = _found_and_new(rows)
    got = Tables(ibis.duckdb.connect()).to_arrow(b1._group_orders_touched(found, new))
    assert set(got.column("entity_id").to_pylist()) == touched


def _two_rings() -> World:
    """Two rings (R0..R4 at M010, M011 and S0..S4 at M012, M013, four orders a pair over three
    days) beside background traffic."""
    w = World(merchants=[f"M{i:03d}" for i in range(20)])
    for ring, shops in (("R", ("M010", "M011")), ("S", ("M012", "M013"))):
        for b in range(5):
            for m in shops:
                for k in range(4):
                    w.order(f"{ring}{b}", m, T0 + dt.timedelta(hours=18 * k + b))
    for i in range(40):
        w.order(f"X{i}", f"M{i % 20:03d}", T0 + dt.timedelta(hours=i))
    return w


def _hashes(f: pd.DataFrame) -> dict[str, str]:
    return dict(zip(f.entity_id, f.evidence_sha256, strict=True))


def _hook_forgets(monkeypatch: pytest.MonkeyPatch, entity: str) -> None:
    """BRUSH001's kept-evidence hook, wrong: it never names block ``entity``."""
    hook = b1.DenseBuyerMerchantBlock.evidence_touched
    monkeypatch.setattr(
        b1.DenseBuyerMerchantBlock,
        "evidence_touched",
        lambda self, t, new, f, p, c: hook(self, t, new, f, p, c).filter(
            lambda r: r.entity_id != entity
        ),
    )


def _density_moved_day() -> World:
    """The two rings and a day on which two new buyers' single orders at M012 (one of ring S's
    shops: its degree, so its weights and S's density move, while S's orders do not) and a
    cancelled order of R1 at M010 arrive."""
    w = _two_rings()
    w.order("R1", "M010", T0 + dt.timedelta(days=9))
    w.orders[-1]["status"] = "cancelled"
    for buyer in ("Y1", "Y2"):
        w.order(buyer, "M012", T0 + dt.timedelta(days=9, hours=2))
    return w


def test_the_evidence_of_blocks_no_new_order_reaches_is_carried(tmp_path, monkeypatch):
    # the day: a cancelled order of R1 at M010 (not an edge: the block and its found row stay
    # the same, but its evidence lists it) and another buyer's order elsewhere
    w = _two_rings()
    w.order("R1", "M010", T0 + dt.timedelta(days=9))
    w.orders[-1]["status"] = "cancelled"
    w.order("X1", "M003", T0 + dt.timedelta(days=9))
    path, before, full = _base_and_day(tmp_path, w, 9)
    ring_r, ring_s = "R0|R1|R2|R3|R4", "S0|S1|S2|S3|S4"
    assert list(before.entity_id) == list(full.entity_id)
    assert set(full.entity_id) == {ring_r, ring_s}
    assert list(before.observed) == list(full.observed)  # the found rows did not move

    assert _hashes(before)[ring_r] != _hashes(full)[ring_r]  # ... its evidence did
    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(inc)) == _hashes(full)
    # S's document carried; R's appended (S's rows and the cancelled order: run._appended)
    assert [r.carried for r in inc.runs] == [2]
    # a hook that forgot cancelled orders would carry R's stale document
    _hook_forgets(monkeypatch, ring_r)
    wrong, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(wrong))[ring_s] == _hashes(full)[ring_s]
    assert _hashes(_brush001(wrong))[ring_r] == _hashes(before)[ring_r] != _hashes(full)[ring_r]


def test_a_block_whose_density_moved_takes_its_rows_from_the_scan_since(tmp_path, monkeypatch):
    # the day: two new buyers' single orders at M012 (one of ring S's shops: its degree, so its
    # weights and S's density move, while S's orders do not) and a cancelled order of R1 at M010
    path, before, full = _base_and_day(tmp_path, _density_moved_day(), 9)
    ring_r, ring_s = "R0|R1|R2|R3|R4", "S0|S1|S2|S3|S4"
    assert set(full.entity_id) == set(before.entity_id) == {ring_r, ring_s}
    moved = dict(zip(before.entity_id, before.observed, strict=True))
    now = dict(zip(full.entity_id, full.observed, strict=True))
    assert moved[ring_s] != now[ring_s]  # S's head moved (its density) ...
    assert json.loads(moved[ring_s])["merchants"] == json.loads(now[ring_s])["merchants"]

    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(inc)) == _hashes(full)
    # S's rows under its new head; R's appended (S's rows and the cancelled order)
    assert [r.carried for r in inc.runs] == [2]
    # re-heading S's document is what the carry did: with R's rows carried too, R goes stale
    _hook_forgets(monkeypatch, ring_r)
    wrong, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(wrong))[ring_s] == _hashes(full)[ring_s]
    assert _hashes(_brush001(wrong))[ring_r] != _hashes(full)[ring_r]


def test_without_the_scan_since_blocks_every_block_is_proved_again(tmp_path, monkeypatch):
    # S's kept buying-group verdicts (each block's shops) missing: the hook cannot tell a block
    # that moved shops, so it names every block and nothing is carried
    w = _two_rings()
    w.order("X1", "M003", T0 + dt.timedelta(days=9))
    path, _, full = _base_and_day(tmp_path, w, 9)
    monkeypatch.setattr(b1, "previous_copy", lambda tables, key: None)
    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _brush001(inc).evidence_sha256.tolist() == full.evidence_sha256.tolist()
    assert [r.carried for r in inc.runs] == [0]


def test_a_tampered_document_is_not_laundered_by_a_rehead(tmp_path):
    path, before, full = _base_and_day(tmp_path, _density_moved_day(), 9)
    ring_s = "S0|S1|S2|S3|S4"
    old_sha = _hashes(before)[ring_s]
    # someone edits S's evidence for ring S in its rows (its head untouched)
    con = duckdb.connect(str(path))
    n = con.execute(
        'UPDATE evidence SET document = replace(document, \'"buyer_id":"S0"\', '
        '\'"buyer_id":"Z9"\') WHERE evidence_sha256 = ?',
        [old_sha],
    ).fetchone()[0]
    changed = con.execute(
        "SELECT sha256(document) <> evidence_sha256 FROM evidence WHERE evidence_sha256 = ?",
        [old_sha],
    ).fetchone()[0]
    con.close()
    assert n == 1 and changed  # the tamper took, and verify sees it in S
    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=True)
    # S's document no longer hashes to its name: the re-head refuses it and proves it again
    got, want = _hashes(_brush001(inc)), _hashes(full)
    con = store.connect(path)
    try:
        check = integrity.verify(con, inc.scan_id)
    finally:
        con.close()
    # a re-head took S's edited rows under a fresh, valid hash: a clean, forged document that
    # differs from a full re-scan's; refused, ring S is proved again and is the full re-scan's
    assert got[ring_s] == want[ring_s] and check.ok, (got[ring_s], want[ring_s], check)


def test_a_block_whose_platform_moved_is_proved_again_not_appended(tmp_path, monkeypatch):
    """Ring R's shops are on two platforms (M010 on tmall, M011 on jd), four orders a buyer at
    each: the block is tmall's (its largest shop by id, on a tie) and its evidence quotes M010's
    orders only. A new order of R1 at M011 makes M011 the largest: the block is jd's now and
    quotes M011's. The new order reaches the block, but its rows are not S's and the new ones
    (S's were tmall's): the increment proves it again, as the full scan does."""
    w = _two_rings()
    w.platform_of = {"M011": "jd"}
    w.order("R1", "M011", T0 + dt.timedelta(days=9))
    path, before, full = _base_and_day(tmp_path, w, 9)
    ring_r = "R0|R1|R2|R3|R4"
    was = before[before.entity_id == ring_r].iloc[0]
    now = full[full.entity_id == ring_r].iloc[0]
    assert json.loads(was.observed)["merchants"] == json.loads(now.observed)["merchants"]
    con = duckdb.connect(str(path), read_only=True)
    try:
        shown = con.execute(
            "SELECT finding_id, platform_id FROM findings WHERE check_code = 'BRUSH001'"
        ).fetchall()
    finally:
        con.close()
    assert (was.finding_id, "tmall") in shown

    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(inc)) == _hashes(full)
    doc = json.loads(inc.evidence[now.evidence_sha256])
    assert {r["merchant_id"] for r in doc["rows"]["orders"]} == {"M011"}
    assert len(doc["rows"]["orders"]) == 21
    # a hook that took S's shops alone for S's rows would append jd's new order to tmall's
    monkeypatch.setattr(
        b1,
        "_shapes",
        lambda tables, found, params, ctx: (
            found.select("entity_id"),
            found.select("entity_id").limit(0),
        ),
    )
    wrong, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(wrong))[ring_r] != _hashes(full)[ring_r]


def test_a_block_whose_shop_gets_its_merchant_row_late_is_proved_again(tmp_path, monkeypatch):
    """M011's merchant row comes a day after its orders (ingest keeps an order whose merchant
    it does not know yet): in S ring R's orders at M011 were on no known platform and not
    quoted; with the row they are tmall's, as R is, and quoted. No order of R arrives on the
    day, so only the new merchant row names the block."""
    w = _two_rings()
    w.order("X1", "M003", T0 + dt.timedelta(days=9))
    tables = w.tables()
    orders, m = tables["orders"], tables["merchants"]
    late = orders[orders.paid_at >= T0 + dt.timedelta(days=9)]
    m011 = m[m.merchant_id == "M011"]
    path = tmp_path / "s.duckdb"
    make_store(path, {**tables, "orders": orders.drop(late.index), "merchants": m.drop(m011.index)})
    before = _brush001(eng.scan(path, "cn", checks="BRUSH001"))
    con = store_connect(path)
    write_rows(con, {"merchants": m011, "orders": late})
    con.close()
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    full = _brush001(eng.scan(copy, "cn", checks="BRUSH001", save=False))
    ring_r = "R0|R1|R2|R3|R4"
    assert _hashes(before)[ring_r] != _hashes(full)[ring_r]
    inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(inc)) == _hashes(full)
    doc = json.loads(inc.evidence[_hashes(full)[ring_r]])
    assert {r["merchant_id"] for r in doc["rows"]["orders"]} == {"M010", "M011"}
    # a hook blind to new merchant rows carries S's document
    monkeypatch.setattr(b1, "_late_shops", lambda found, new: found.select("entity_id").limit(0))
    wrong, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    assert _hashes(_brush001(wrong))[ring_r] == _hashes(before)[ring_r]
