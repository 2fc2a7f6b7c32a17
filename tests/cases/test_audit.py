"""The audit trail: chained, and `verify` names the first changed, deleted or inserted event."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from promoguard.cases import CaseError, CaseService, audit

from .helpers import make_case


@pytest.fixture
def svc(db_url):
    s = CaseService(db_url, actor="auditor1")
    make_case(s, "C-1")
    s.assign("C-1", "alice")
    s.comment("C-1", "价格证据已核对 evidence checked")
    s.comment("C-1", "second comment")
    s.add_user("bob", "platform", platform_id="P1")
    yield s
    s.db.dispose()


def _exec(svc, sql, **params):
    with svc.db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_every_action_is_a_chained_event(svc):
    events = svc.events()
    assert [e["action"] for e in events] == ["open", "assign", "comment", "comment", "user_added"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    report = svc.audit_verify()
    assert report.ok and report.events == 5 and report.head_seq == 5
    assert events[2]["payload"]["text"] == "价格证据已核对 evidence checked"


def test_an_edited_event_is_named(svc):
    _exec(
        svc, "UPDATE audit_events SET payload = :p WHERE seq = 3", p=json.dumps({"text": "nothing"})
    )
    report = svc.audit_verify()
    assert not report.ok and report.kind == "changed" and report.bad_seq == 3
    assert "event #3" in report.problem and "changed" in report.problem


def test_an_edited_actor_is_named(svc):
    _exec(svc, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2")
    report = svc.audit_verify()
    assert (report.ok, report.kind, report.bad_seq) == (False, "changed", 2)


def test_a_deleted_event_is_named(svc):
    _exec(svc, "DELETE FROM audit_events WHERE seq = 3")
    report = svc.audit_verify()
    assert (report.ok, report.kind) == (False, "deleted")
    assert "#2" in report.problem and "#4" in report.problem


def test_a_deleted_and_renumbered_event_is_named(svc):
    _exec(svc, "DELETE FROM audit_events WHERE seq = 3")
    _exec(svc, "UPDATE audit_events SET seq = seq - 1 WHERE seq > 3")
    report = svc.audit_verify()
    assert (report.ok, report.kind, report.bad_seq) == (False, "deleted", 3)


def test_an_inserted_event_is_named(svc):
    """A well-formed event (right hash for its content) slipped in between #2 and #3."""
    with svc.db.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, hash FROM audit_events ORDER BY seq")).all()
        prev = rows[1][1]
        at, payload = "2026-11-11T08:00:00.000000Z", audit.canonical({"text": "backdated"})
        digest = audit.event_hash(prev, at, "mallory", "comment", "C-1", payload)
        for seq in sorted((r[0] for r in rows if r[0] >= 3), reverse=True):
            conn.execute(
                text("UPDATE audit_events SET seq = :n WHERE seq = :o"), {"n": seq + 1, "o": seq}
            )
        conn.execute(
            text(
                "INSERT INTO audit_events (seq, at, actor, action, case_id, payload, prev_hash, hash) "
                "VALUES (3, :at, 'mallory', 'comment', 'C-1', :p, :prev, :h)"
            ),
            {"at": at, "p": payload, "prev": prev, "h": digest},
        )
    report = svc.audit_verify()
    assert (report.ok, report.kind, report.bad_seq) == (False, "inserted", 3)


def test_head_export_catches_truncation_and_rewrite(svc):
    head = svc.audit_head()
    assert head["seq"] == 5 and len(head["hash"]) == 64
    assert svc.audit_verify(head).ok
    svc.comment("C-1", "later event")  # appending after the export is fine
    assert svc.audit_verify(head).ok
    # deleting the newest events leaves a chain that verifies by itself ...
    _exec(svc, "DELETE FROM audit_events WHERE seq >= 5")
    assert svc.audit_verify().ok
    # ... but not against the exported head
    report = svc.audit_verify(head)
    assert (report.ok, report.kind, report.bad_seq) == (False, "deleted", 5)


def test_failed_action_appends_nothing(svc):
    before = len(svc.events())
    with pytest.raises(CaseError, match="no user"):
        svc.assign("C-1", "nobody-known")  # users exist now, so the name must be known
    assert len(svc.events()) == before
    assert svc.audit_verify().ok
