"""Two people changing one case: a clear conflict, never a lost update (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from promoguard.cases import CaseConflict, CaseService
from promoguard.cases.service import CaseService as _Svc

from .helpers import make_case


def test_stale_version_is_a_conflict(db_url):
    alice = CaseService(db_url, actor="alice")
    bob = CaseService(alice.db, actor="bob")
    make_case(alice, "C-1")
    seen = alice.summary("C-1")["version"]  # both have the case on screen at this version
    alice.assign("C-1", "alice", expected_version=seen)
    with pytest.raises(CaseConflict, match="changed by someone else"):
        bob.assign("C-1", "bob", expected_version=seen)
    case = alice.get_case("C-1")
    assert case["assigned_to"] == "alice"
    assert [e["actor"] for e in case["events"]] == ["setup", "alice"]
    alice.db.dispose()


def test_interleaved_writers_one_wins_one_conflicts(db_url, monkeypatch):
    """Both read version N, then both write: the second write finds the row changed."""
    svc_a = CaseService(db_url, actor="alice")
    svc_b = CaseService(svc_a.db, actor="bob")
    make_case(svc_a, "C-1")
    barrier = threading.Barrier(2, timeout=30)
    original = _Svc._case

    def loaded_then_wait(self, s, case_id):
        c = original(self, s, case_id)
        barrier.wait()  # both have read the case before either writes
        return c

    monkeypatch.setattr(_Svc, "_case", loaded_then_wait)
    outcome: dict[str, object] = {}

    def run(svc, who):
        try:
            outcome[who] = svc.assign("C-1", who)["assigned_to"]
        except CaseConflict as exc:
            outcome[who] = exc

    threads = [
        threading.Thread(target=run, args=(s, w)) for s, w in ((svc_a, "alice"), (svc_b, "bob"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    monkeypatch.setattr(_Svc, "_case", original)
    winners = [w for w, r in outcome.items() if r == w]
    losers = [w for w, r in outcome.items() if isinstance(r, CaseConflict)]
    assert len(winners) == 1 and len(losers) == 1, outcome
    case = svc_a.get_case("C-1")
    assert case["assigned_to"] == winners[0]
    assert [e["actor"] for e in case["events"]] == ["setup", winners[0]]
    assert svc_a.audit_verify().ok
    svc_a.db.dispose()


def test_many_writers_keep_one_unbroken_chain(db_url):
    """Concurrent comments on several cases: every one recorded, the chain never forks."""
    base = CaseService(db_url, actor="setup")
    for i in range(3):
        make_case(base, f"C-{i}")
    errors: list[BaseException] = []

    def run(n):
        svc = CaseService(base.db, actor=f"user{n}")
        try:
            for k in range(8):
                svc.comment(f"C-{k % 3}", f"comment {n}-{k}")
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    report = base.audit_verify()
    assert report.ok and report.events == 3 + 4 * 8
    base.db.dispose()
