"""BRUSH001's evidence appended in a scan ``--since`` (docs/kept.md, "Appended evidence").

A block the scan since S found with the same buyers and shops, reached by new orders at its
pairs, lists S's rows and the new ones: the engine puts the new rows (written as JSON alone) in
their canonical places among S's rows, under the new head (``run._appended``), instead of
proving the block again. Each case is built by hand (five buyers repeat-ordering at three shops,
and some one-off traffic), runs S, appends the day's orders, and compares the increment's
evidence hash with a full re-scan's; a spy on ``run._appended`` tells whether the block was
appended or proved again, so no case passes by the other path.
"""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
from tests.support import make_store, write_rows

from promoguard import incremental, store
from promoguard.engine import run as eng
from promoguard.rules.brushing import _shared

from .synth import T0, World

RING = "R0|R1|R2|R3|R4"
SHOPS = ("M010", "M011", "M012")


def _base() -> World:
    """Five buyers, four orders each at three shops (60 orders: one block), and 40 one-off
    buyers at 20 shops; the ring's members also bought once at M013 (no repeat: not the block's)."""
    w = World(merchants=[f"M{i:03d}" for i in range(20)])
    for b in range(5):
        for m in SHOPS:
            for k in range(4):
                w.order(f"R{b}", m, T0 + dt.timedelta(hours=18 * k + b), confirmed_at=T0)
        w.order(f"R{b}", "M013", T0 + dt.timedelta(days=2, hours=b))
    for i in range(40):
        w.order(f"X{i}", f"M{i % 20:03d}", T0 + dt.timedelta(hours=i))
    return w


def _scans(tmp_path, base: World, day: World, between=None):
    """S (saved), the day's orders appended, ``between(path, S)`` (an edit), then a full
    re-scan of a copy and the increment since S. Returns per scan ``{entity: (evidence_sha256,
    observed)}``, the entities the increment appended and the full re-scan's documents."""
    path = tmp_path / "s.duckdb"
    make_store(path, base.tables()).close()
    first = eng.scan(path, "cn", checks="BRUSH001")
    for o in day.orders:  # ids apart from the base's
        o["order_id"] = o["order_id"].replace("O", "N", 1)
    con = store.connect(path)
    write_rows(con, {"orders": day.tables()["orders"]})
    con.close()
    if between is not None:
        between(path, first)
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    full = eng.scan(copy, "cn", checks="BRUSH001", save=False)
    appended: list[str] = []
    real = eng._appended

    def spy(docs, h, *args, **kwargs):
        where, digests, documents = real(docs, h, *args, **kwargs)
        appended.extend(h.entities[i] for i in where)
        return where, digests, documents

    mp = pytest.MonkeyPatch()
    mp.setattr(eng, "_appended", spy)
    try:
        inc, _ = incremental.scan_since(path, "cn", "last", checks="BRUSH001", save=False)
    finally:
        mp.undo()
    docs = {sha: full.evidence[sha] for sha, _ in _of(full).values()}
    return _of(first), _of(full), _of(inc), appended, docs


def _of(result) -> dict[str, tuple[str, str]]:
    f = result.findings
    f = f[f.check_code == "BRUSH001"]
    return {
        e: (sha, o) for e, sha, o in zip(f.entity_id, f.evidence_sha256, f.observed, strict=True)
    }


def _same_shape(before, full) -> None:
    """The ring is S's block with the same shops, and its evidence moved (else nothing to
    append)."""
    assert RING in before and RING in full
    assert '"merchants":"M010|M011|M012"' in before[RING][1]
    assert '"merchants":"M010|M011|M012"' in full[RING][1]
    assert before[RING][0] != full[RING][0]


def test_day_orders_appended_among_kept_rows(tmp_path):
    # new orders at the block's pairs that sort first (address "AA"), last ("ZZ"), and among a
    # member's kept rows (no confirmation yet: a null confirmed_at sorts first among R1's rows);
    # one at a shop outside the block is not its evidence
    day = World(merchants=[])
    day.order("R2", "M010", T0 + dt.timedelta(days=9), address="AA-first", confirmed_at=T0)
    day.order("R4", "M012", T0 + dt.timedelta(days=9, hours=1), address="ZZ-last")
    day.order("R1", "M011", T0 + dt.timedelta(days=9, hours=2))
    day.order("R0", "M001", T0 + dt.timedelta(days=9, hours=3))
    before, full, inc, appended, docs = _scans(tmp_path, _base(), day)
    _same_shape(before, full)
    assert inc == full
    assert appended == [RING]
    text = docs[full[RING][0]]
    first_row = text.index('"orders":[') + len('"orders":[')
    assert text[first_row:].startswith('{"buyer_address_id":"AA-first"')
    assert text.endswith('"status":"paid"}]}}') and '"ZZ-last"' in text[-400:]


def test_a_day_order_paid_before_every_kept_row(tmp_path):
    # an order paid (and sorting) before every kept row of the block: within the cap the rows
    # are still S's and the new one, in canonical order, so it is appended, not proved again
    day = World(merchants=[])
    day.order("R3", "M011", T0 - dt.timedelta(days=30), address="AA-early", confirmed_at=T0)
    before, full, inc, appended, docs = _scans(tmp_path, _base(), day)
    _same_shape(before, full)
    assert inc == full
    assert appended == [RING]


@pytest.mark.parametrize("cap, kept", [(62, True), (61, False)])
def test_the_cap(tmp_path, monkeypatch, cap, kept):
    # S lists the block's 60 orders; two new ones make 62: at a cap of 62 they are its rows,
    # at 61 the first 61 by payment are (the last new one left out): proved again
    monkeypatch.setattr(_shared, "MAX_EVIDENCE_ORDERS", cap)
    day = World(merchants=[])
    day.order("R0", "M010", T0 + dt.timedelta(days=9))
    day.order("R1", "M011", T0 + dt.timedelta(days=9, hours=1))
    before, full, inc, appended, docs = _scans(tmp_path, _base(), day)
    _same_shape(before, full)
    assert inc == full
    assert appended == ([RING] if kept else [])
    assert docs[full[RING][0]].count('"order_id"') == min(62, cap)


def test_a_block_that_gains_a_shop_is_proved_again(tmp_path):
    # each member's second order at M013 makes it a repeat shop of all five: the block keeps its
    # buyers (its id) and gains M013, whose first orders S's document never listed
    day = World(merchants=[])
    for b in range(5):
        day.order(f"R{b}", "M013", T0 + dt.timedelta(days=9, hours=b))
    before, full, inc, appended, docs = _scans(tmp_path, _base(), day)
    assert '"merchants":"M010|M011|M012"' in before[RING][1]
    assert '"merchants":"M010|M011|M012|M013"' in full[RING][1]
    assert inc == full
    assert appended == []


def test_an_edited_previous_document_is_proved_again(tmp_path):
    # S's document of the block, edited in the store under its name (a row's listing changed):
    # it no longer hashes to its name, so its rows are not taken
    def edit(path, first):
        sha = _of(first)[RING][0]
        con = duckdb.connect(str(path))
        try:
            con.execute(
                "UPDATE evidence SET document = replace(document, '\"L-M010\"', '\"L-EDIT\"') "
                "WHERE evidence_sha256 = ?",
                [sha],
            )
            assert (
                '"L-EDIT"'
                in con.execute(
                    "SELECT document FROM evidence WHERE evidence_sha256 = ?", [sha]
                ).fetchone()[0]
            )
        finally:
            con.close()

    day = World(merchants=[])
    day.order("R0", "M010", T0 + dt.timedelta(days=9))
    before, full, inc, appended, docs = _scans(tmp_path, _base(), day, between=edit)
    _same_shape(before, full)
    assert inc == full
    assert appended == []


def test_values_holding_json_text_are_appended_exactly(tmp_path):
    # S's rows are found in its document's text by where each row starts ('{"' and the first
    # key): values holding braces, quotes, a backslash, a control character or the very text of
    # a row's start must not be taken for one
    base = _base()
    for o in base.orders:
        if o["buyer_id"] == "R3":
            o["buyer_address_id"] = "AD-R3{"
            o["buyer_device_id"] = 'DV},{"buyer_address_id":"x'
        if o["buyer_id"] == "R1":
            o["buyer_address_id"] = 'AD-R1\\{"b\u0001ä'
    day = World(merchants=[])
    day.order("R3", "M011", T0 + dt.timedelta(days=9), address='AD-R3{"', device="{")
    day.order("R1", "M012", T0 + dt.timedelta(days=9, hours=1), address='AD-R1\\{"b\u0001ä')
    before, full, inc, appended, docs = _scans(tmp_path, base, day)
    _same_shape(before, full)
    assert 'DV},{\\"buyer_address_id\\":\\"x' in docs[full[RING][0]]
    assert inc == full
    assert appended == [RING]


@pytest.mark.parametrize("cap", [60, 58])
def test_a_day_order_paid_before_kept_rows_at_the_cap(tmp_path, monkeypatch, cap):
    # S listed the cap (all 60 of the block's orders, or the first 58 by payment): a day order
    # paid before them takes the first place by payment and pushes S's last one out, so the
    # rows are not S's and the new one: proved again
    monkeypatch.setattr(_shared, "MAX_EVIDENCE_ORDERS", cap)
    day = World(merchants=[])
    day.order("R3", "M011", T0 - dt.timedelta(days=30), address="AA-early")
    before, full, inc, appended, docs = _scans(tmp_path, _base(), day)
    _same_shape(before, full)
    text = docs[full[RING][0]]
    assert text.count('"order_id"') == cap and '"AA-early"' in text
    assert inc == full
    assert appended == []
