"""Every transition rule, in the table and through the service on both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from promoguard.cases import CaseService, TransitionError, states
from promoguard.cases.errors import CaseError

from .helpers import make_case, set_status

EXPECTED = {
    ("assign", "open"): "under_review",
    ("assign", "under_review"): "under_review",
    ("assign", "guidance_issued"): "guidance_issued",
    ("assign", "rectification_reported"): "rectification_reported",
    ("assign", "not_rectified"): "not_rectified",
    ("guide", "under_review"): "guidance_issued",
    ("guide", "not_rectified"): "guidance_issued",
    ("rectify", "guidance_issued"): "rectification_reported",
    ("rectify", "rectification_reported"): "rectification_reported",
    ("verify", "rectification_reported"): "verdict",
    ("verify", "guidance_issued"): "verdict",
    ("close", "verified_rectified"): "closed",
    ("close", "not_rectified"): "closed",
    ("escalate", "not_rectified"): "escalated",
    ("escalate", "verified_rectified"): "escalated",
    ("escalate", "guidance_issued"): "escalated",
    ("dismiss", "open"): "dismissed",
    ("dismiss", "under_review"): "dismissed",
    ("dismiss", "guidance_issued"): "dismissed",
    ("dismiss", "rectification_reported"): "dismissed",
}


@pytest.mark.parametrize("action", sorted(states.TRANSITIONS))
@pytest.mark.parametrize("status", states.STATUSES)
def test_transition_table(action, status):
    want = EXPECTED.get((action, status))
    if want is None:
        with pytest.raises(TransitionError, match=f"cannot {action} a case that is {status}"):
            states.next_state(action, status)
    else:
        assert states.next_state(action, status) == want


def test_terminal_states_allow_nothing():
    for status in states.TERMINAL:
        for action in states.TRANSITIONS:
            with pytest.raises(TransitionError):
                states.next_state(action, status)


def _do(svc, action, case_id):
    future = dt.date.today() + dt.timedelta(days=30)
    if action == "assign":
        return svc.assign(case_id, "alice")
    if action == "guide":
        return svc.guide(case_id, future)
    if action == "rectify":
        return svc.rectify(case_id, "商品已下架 listings removed")
    if action == "close":
        return svc.close(case_id)
    if action == "escalate":
        return svc.close(case_id, escalate=True, reason="repeat offender")
    if action == "dismiss":
        return svc.dismiss(case_id, "false positive: the term is a brand name")
    raise AssertionError(action)


@pytest.mark.parametrize("action", ["assign", "guide", "rectify", "close", "escalate", "dismiss"])
def test_service_enforces_every_rule(db_url, action):
    """Each action from each state: moves as the table says, or refuses and changes nothing."""
    svc = CaseService(db_url, actor="tester")
    for i, status in enumerate(states.STATUSES):
        case_id = make_case(svc, f"C-{action[:3].upper()}{i:04d}", status=status)
        before = svc.get_case(case_id)
        want = EXPECTED.get((action, status))
        if want is None:
            with pytest.raises(TransitionError):
                _do(svc, action, case_id)
            after = svc.get_case(case_id)
            assert after["status"] == status
            assert after["version"] == before["version"]
            assert len(after["events"]) == len(before["events"])
        else:
            out = _do(svc, action, case_id)
            assert out["status"] == want
            after = svc.get_case(case_id)
            assert after["events"][-1]["action"] == action
            assert after["events"][-1]["payload"]["from"] == status
            assert after["events"][-1]["payload"]["to"] == want
    assert svc.audit_verify().ok
    svc.db.dispose()


def test_dismiss_and_escalate_need_a_reason(sqlite_url):
    svc = CaseService(sqlite_url, actor="tester")
    make_case(svc, "C-1")
    with pytest.raises(CaseError, match="give a reason"):
        svc.dismiss("C-1", "  ")
    set_status(svc, "C-1", "not_rectified")
    with pytest.raises(CaseError, match="give a reason"):
        svc.close("C-1", escalate=True)
    assert svc.close("C-1", escalate=True, reason="未按期整改")["status"] == "escalated"
    assert svc.get_case("C-1")["closing_reason"] == "未按期整改"


def test_deadline_must_be_in_the_future_and_overdue_shows(sqlite_url):
    svc = CaseService(sqlite_url, actor="tester")
    make_case(svc, "C-1", status="under_review")
    with pytest.raises(CaseError, match="not in the future"):
        svc.guide("C-1", dt.date.today())
    with pytest.raises(CaseError, match="not a date"):
        svc.guide("C-1", "next week")
    svc.guide("C-1", "2026-11-20", today=dt.date(2026, 11, 1))
    case = svc.get_case("C-1")
    assert case["deadline"] == "2026-11-20"
    assert case["overdue"] is (dt.date.today() > dt.date(2026, 11, 20))
    overdue = svc.list_cases(overdue=True)
    assert [c["case_id"] for c in overdue] == (["C-1"] if case["overdue"] else [])
    # a deadline still ahead is not overdue, and is not listed so (whatever today is)
    make_case(svc, "C-2", status="under_review")
    svc.guide("C-2", dt.date.today() + dt.timedelta(days=30))
    assert svc.get_case("C-2")["overdue"] is False
    assert "C-2" not in [c["case_id"] for c in svc.list_cases(overdue=True)]


def test_assign_to_an_unknown_user_when_users_exist(sqlite_url):
    svc = CaseService(sqlite_url, actor="tester")
    make_case(svc, "C-1")
    svc.add_user("alice", "analyst")
    with pytest.raises(CaseError, match="no user 'bob'"):
        svc.assign("C-1", "bob")
    assert svc.assign("C-1", "alice")["assigned_to"] == "alice"


def test_unknown_case_and_status(sqlite_url):
    svc = CaseService(sqlite_url, actor="tester")
    with pytest.raises(CaseError, match="no case C-NOPE"):
        svc.assign("C-NOPE", "alice")
    with pytest.raises(CaseError, match="no status 'nope'"):
        svc.list_cases(status="nope")
