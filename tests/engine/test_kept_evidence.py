"""Kept evidence (``Check.evidence_touched``): in ``scan --since S`` a finding whose evidence the
new rows cannot change, and whose head (found row, observed, expected) is S's, keeps S's frozen
document and ``evidence_sha256``; the rest are proved again. The increment's evidence hashes
equal a full re-scan's, and a hook that names too few entities gives other hashes (so the
equality below is what catches a wrong hook: a rule's hook gets the same test).

The checks here are made up for the test (season-wide, so that the increment runs them on the
whole store): a merchant with at least ``least`` orders, its evidence its orders (TOY911), or
its merchant row only (TOY912, whose observed count moves without its evidence).
"""

from __future__ import annotations

import shutil

import ibis
import pytest

from promoguard import incremental, store
from promoguard.engine import registry
from promoguard.engine import run as eng
from promoguard.engine.base import Check, CheckDoc, Parameter

#: what the hooks name: "right" (merchants with a new order), "none" (too narrow)
HOOK = {"now": "right"}


class OrdersShown(Check):
    """Merchants with at least ``least`` orders; the evidence lists their orders."""

    code = "TOY911"
    name = "orders-shown"
    title = "A merchant with many orders, its orders shown"
    family = "toy"
    entity_type = "merchant"
    parameters = (Parameter("least", 2, "orders"),)
    doc = CheckDoc("flags merchants", "none", "a merchant with 2 orders")
    observed_columns = ()  # (a new order moves no part of the head, only the evidence)
    expected_columns = ("least",)
    reads = ("orders",)

    def find(self, tables, params, ctx):
        o = tables.orders
        m = o.group_by("merchant_id").aggregate(n=o.count())
        m = m.filter(m.n >= params["least"])
        return m.select(
            entity_id=m.merchant_id,
            merchant_id=m.merchant_id,
            platform_id=ibis.literal("p1"),
            least=ibis.literal(params["least"]),
            **({"n": m.n} if self.observed_columns else {}),
        )

    def evidence(self, tables, found, params, ctx):
        o = tables.orders
        j = found.join(o, found.entity_id == o.merchant_id)
        return {"orders": j.select(entity_id=j.entity_id, order_id=j.order_id, buyer=j.buyer_id)}

    def evidence_touched(self, tables, new, found, params, ctx):
        # the evidence reads a merchant's orders: only a merchant with a new order changes
        if HOOK["now"] == "none":
            return new.orders.filter(ibis.literal(False)).select(entity_id=new.orders.merchant_id)
        return new.orders.select(entity_id=new.orders.merchant_id)


class CountOnly(OrdersShown):
    """As TOY911, but the evidence is the merchant's row: a new order moves ``n`` (the head)
    and no evidence row."""

    code = "TOY912"
    name = "count-only"
    observed_columns = ("n",)
    evidence_rows_by_entity = True  # the merchant's row, picked by entity_id alone

    def evidence(self, tables, found, params, ctx):
        m = tables.merchants
        j = found.join(m, found.entity_id == m.merchant_id)
        return {"merchant": j.select(entity_id=j.entity_id, name=j.name)}

    def evidence_touched(self, tables, new, found, params, ctx):
        return new.merchants.select(entity_id=new.merchants.merchant_id)


class NoHook(OrdersShown):
    """As TOY911 without a hook: every document proved again, as before hooks."""

    code = "TOY913"
    name = "no-hook"
    evidence_touched = None  # type: ignore[assignment]


TOYS = [OrdersShown(), CountOnly(), NoHook()]


def _orders(con, rows):
    con.executemany(
        "INSERT INTO orders (order_id, listing_id, merchant_id, buyer_id, quantity, unit_price, "
        "paid_at, status) VALUES (?, 'l1', ?, ?, 1, 10.00, TIMESTAMPTZ '2026-11-11 00:00:00+08', "
        "'paid')",
        rows,
    )


@pytest.fixture
def toys(monkeypatch):
    for check in TOYS:
        monkeypatch.setitem(registry._CHECKS, check.code, check)
    monkeypatch.setattr(eng, "choose_checks", lambda pack, codes: list(TOYS))
    monkeypatch.setitem(HOOK, "now", "right")


def _two_days(tmp_path, merchants, day1, day2):
    """A store with ``merchants`` (id, name) and the orders ``day1`` (order, merchant, buyer),
    scanned and saved, then given ``day2``: (store, first scan id)."""
    path = tmp_path / "s.duckdb"
    con = store.connect(path)
    con.executemany(
        "INSERT INTO merchants (merchant_id, platform_id, name) VALUES (?, 'p1', ?)", merchants
    )
    _orders(con, day1)
    con.close()
    first = eng.scan(path, "cn")
    con = store.connect(path)
    _orders(con, day2)
    con.close()
    return path, first.scan_id


@pytest.fixture
def day_two(tmp_path, toys):
    """Day 1 (m1: 2 orders, m2: 3, m4: 2) scanned and saved; day 2 adds m1's third order, m2's
    fourth and two orders of a new merchant m3 (m4 gets none): (store, first scan id)."""
    return _two_days(
        tmp_path,
        [("m1", "One"), ("m2", "Two"), ("m4", "Four")],
        [
            ("o1", "m1", "b1"),
            ("o2", "m1", "b2"),
            *[(f"o{i}", "m2", "b1") for i in (3, 4, 5)],
            ("o10", "m4", "b1"),
            ("o11", "m4", "b2"),
        ],
        [("o6", "m1", "b3"), ("o7", "m3", "b1"), ("o8", "m3", "b2"), ("o9", "m2", "b4")],
    )


def _full(path, tmp_path):
    copy = tmp_path / "full.duckdb"
    shutil.copy(path, copy)
    return eng.scan(copy, "cn", save=False)


def _hashes(result, code):
    f = result.findings
    f = f[f.check_code == code].sort_values("entity_id")
    return dict(zip(f.entity_id, f.evidence_sha256, strict=True))


def _carried(result):
    return {r.code: r.carried for r in result.runs}


def _document(path, sha):
    con = store.connect(path, read_only=True)
    try:
        row = con.execute(
            "SELECT document FROM evidence WHERE evidence_sha256 = ?", [sha]
        ).fetchone()
        return None if row is None else row[0]  # (None: not in the store)
    finally:
        con.close()


def test_a_moved_head_is_proved_again_unless_rows_go_by_entity(day_two, tmp_path, monkeypatch):
    """Re-heading is the check's to allow: with ``evidence_rows_by_entity`` False (its evidence
    may read another found column that moved), m1's and m2's moved heads are proved again, not
    re-headed; only m4 (the same head) is carried, and the hashes are still a full re-scan's."""
    path, first = day_two
    monkeypatch.setattr(CountOnly, "evidence_rows_by_entity", False)
    full = _full(path, tmp_path)
    inc, _ = incremental.scan_since(path, "cn", first, save=False)
    assert _hashes(inc, "TOY912") == _hashes(full, "TOY912")
    assert _carried(inc)["TOY912"] == 1


def test_carried_documents_equal_a_full_rescan(day_two, tmp_path):
    path, first = day_two
    full = _full(path, tmp_path)
    inc, info = incremental.scan_since(path, "cn", first)
    for code in ("TOY911", "TOY912", "TOY913"):
        assert _hashes(inc, code) == _hashes(full, code), code
    assert set(_hashes(inc, "TOY911")) == {"m1", "m2", "m3", "m4"}
    # TOY911: m4 (no new order) carried; m1, m2 (new orders) and m3 (new) proved again.
    # TOY912: m4 carried; m1's and m2's counts moved (their heads differ), their merchant rows
    # did not: S's rows under the new heads (re-headed); m3 is new.
    # TOY913 has no hook: nothing carried, as before.
    assert _carried(inc) == {"TOY911": 1, "TOY912": 3, "TOY913": None}
    # every finding's document is in the store (carried: S's; re-headed: made in this scan),
    # and is the full scan's
    for code in ("TOY911", "TOY912", "TOY913"):
        for sha in _hashes(inc, code).values():
            assert _document(path, sha) == full.evidence[sha], code


def test_the_increment_keeps_heads_for_the_next_day(day_two, tmp_path):
    path, first = day_two
    incremental.scan_since(path, "cn", first)
    con = store.connect(path)
    _orders(con, [("o12", "m3", "b5")])
    con.close()
    full = _full(path, tmp_path)
    inc, _ = incremental.scan_since(path, "cn", "last")
    for code in ("TOY911", "TOY912", "TOY913"):
        assert _hashes(inc, code) == _hashes(full, code), code
    # m1, m2 and m4 carried from the increment (m3 got an order): 3; TOY912: all four (m3's
    # count moved: re-headed)
    assert _carried(inc) == {"TOY911": 3, "TOY912": 4, "TOY913": None}


def test_a_too_narrow_hook_gives_other_hashes(day_two, tmp_path):
    """A hook that misses m1's and m2's new orders carries their stale documents: the hashes
    differ from a full re-scan's, which is what a rule's hook test catches."""
    path, first = day_two
    full = _full(path, tmp_path)
    HOOK["now"] = "none"
    inc, _ = incremental.scan_since(path, "cn", first, save=False)
    got, want = _hashes(inc, "TOY911"), _hashes(full, "TOY911")
    assert got != want
    assert {e for e in want if got[e] != want[e]} == {"m1", "m2"}
    # (TOY912's hook is right, and its heads moved for m1 and m2: proved again)
    assert _hashes(inc, "TOY912") == _hashes(full, "TOY912")


def test_a_moved_head_over_carried_rows_equals_a_full_rescan(day_two, tmp_path, monkeypatch):
    """TOY912's observed count moves with a new order: its head differs, no evidence row does
    (its hook names none): the documents are S's rows under the new heads, byte for byte a full
    re-scan's. Were its evidence the orders (rows moving too), the same empty hook would give
    other hashes: the equality catches a hook that misses rows, whether or not the head moved."""
    import pyarrow as pa

    path, first = day_two
    full = _full(path, tmp_path)
    monkeypatch.setattr(CountOnly, "evidence_touched", lambda self, t, new, f, p, c: pa.array([]))
    inc, _ = incremental.scan_since(path, "cn", first, save=False)
    assert _hashes(inc, "TOY912") == _hashes(full, "TOY912")
    assert _carried(inc)["TOY912"] == 3  # m4 as it was, m1 and m2 re-headed
    # S's documents were read for m1 and m2: they are the full re-scan's only if the rows are
    for e in ("m1", "m2"):
        assert _hashes(inc, "TOY912")[e] != _hashes_of(path, first, "TOY912")[e]

    # (S's documents of TOY912 list merchant rows: with the orders as evidence now every carried
    # one is stale, m4's too; m1's and m2's are the ones whose new orders the hook missed)
    monkeypatch.setattr(CountOnly, "evidence", OrdersShown.evidence)
    (tmp_path / "2").mkdir()
    full = _full(path, tmp_path / "2")
    wrong, _ = incremental.scan_since(path, "cn", first, save=False)
    got, want = _hashes(wrong, "TOY912"), _hashes(full, "TOY912")
    assert got["m1"] != want["m1"] and got["m2"] != want["m2"]


def _hashes_of(path, scan_id, code):
    con = store.connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT entity_id, evidence_sha256 FROM findings WHERE scan_id = ? AND check_code = ?",
            [scan_id, code],
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def test_a_changed_evidence_version_or_parameter_proves_all(day_two, tmp_path, monkeypatch):
    path, first = day_two
    full = _full(path, tmp_path)
    monkeypatch.setattr(OrdersShown, "evidence_version", "2")
    inc, _ = incremental.scan_since(path, "cn", first, save=False)
    assert _carried(inc)["TOY911"] is None
    assert _hashes(inc, "TOY911") == _hashes(full, "TOY911")
    # another parameter (the same version): S's heads are under another key, none is read
    # (None, not 0: had they been read, every row would merely fail to match)
    monkeypatch.setattr(OrdersShown, "evidence_version", "1")
    monkeypatch.setattr(OrdersShown, "parameters", (Parameter("least", 1, "orders"),))
    (tmp_path / "2").mkdir()
    full = _full(path, tmp_path / "2")
    inc, _ = incremental.scan_since(path, "cn", first, save=False)
    assert _carried(inc)["TOY911"] is None
    assert _hashes(inc, "TOY911") == _hashes(full, "TOY911")


def test_full_and_unsaved_scans_carry_nothing(day_two, tmp_path):
    path, _ = day_two
    full = eng.scan(path, "cn", save=False)
    assert {r.carried for r in full.runs} == {None}
    # a saved full scan writes its heads for the next increment, and carries nothing either
    saved = eng.scan(path, "cn")
    assert {r.carried for r in saved.runs} == {None}


@pytest.fixture
def day_two_wide(tmp_path, toys):
    """As ``day_two``, with ids and names outside ASCII (several bytes per character, in the
    head before the cut and in the rows after it): (store, first scan id)."""
    return _two_days(
        tmp_path,
        [("mé1", "Ünö ✓"), ("m二2", "二号店"), ("m4", "Four")],
        [
            ("o1", "mé1", "b1"),
            ("o2", "mé1", "b2"),
            *[(f"o{i}", "m二2", "b1") for i in (3, 4, 5)],
            ("o10", "m4", "b1"),
            ("o11", "m4", "b2"),
        ],
        [("o6", "mé1", "b3"), ("o9", "m二2", "b4")],
    )


@pytest.mark.parametrize("chunk_bytes", [None, 1])
def test_re_headed_documents_are_a_full_rescans_bytes(
    day_two_wide, tmp_path, monkeypatch, chunk_bytes
):
    """Re-heading cuts S's documents at the byte where their rows begin and joins the new heads
    to the rows in Arrow: with characters of several bytes before and after the cut, and with
    the new documents joined one array each (``chunk_bytes`` 1), every re-headed document is
    the full re-scan's text, under its hash."""
    path, first = day_two_wide
    if chunk_bytes is not None:
        monkeypatch.setattr(eng, "_FREEZE_CHUNK_BYTES", chunk_bytes)
    full = _full(path, tmp_path)
    inc, _ = incremental.scan_since(path, "cn", first, save=False)
    # mé1's and m二2's counts moved (heads differ), their rows did not: re-headed; m4 as it was
    assert _carried(inc)["TOY912"] == 3
    got, want = _hashes(inc, "TOY912"), _hashes(full, "TOY912")
    assert got == want
    before = _hashes_of(path, first, "TOY912")
    for e in ("mé1", "m二2"):
        assert got[e] != before[e]  # a new document, made in this scan
        assert inc.evidence[got[e]] == full.evidence[want[e]]
