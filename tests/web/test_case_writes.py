"""Writes to a case from the API and the pages, on a case database of their own (the shared one is
read by the other web tests): who a case may be assigned to, decisions made on a stale view, and
the list filters that had been accepted and ignored."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from tests.web.casefixture import PASSWORDS, build
from tests.web.conftest import csrf_of, login_client


@pytest.fixture
def fx(tmp_path):
    return build(tmp_path)


@pytest.fixture
def app(fx):
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    return create_app(WebData(fx.db_url, store=fx.store), secret="test-secret")


def _api(app, user: str) -> TestClient:
    c = TestClient(app)
    r = c.post("/api/v1/token", data={"username": user, "password": PASSWORDS[user]})
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def test_a_case_is_assigned_only_to_the_bureaus_people(app, fx):
    """An analyst could assign a P1 case to P2's officer: P1's officer then read P2's login name
    on its case (and could filter its cases by it), and the assignee could not even open it."""
    analyst = _api(app, "analyst")
    case_id = fx.ids["P1"]["open_case"][0]
    for someone in ("beta", "alpha", "auditor"):
        r = analyst.post(f"/api/v1/cases/{case_id}/assign", json={"assignee": someone})
        assert r.status_code == 422, (someone, r.text)
        assert "assigned to an analyst or admin" in r.json()["detail"]
    seen = _api(app, "alpha").get(f"/api/v1/cases/{case_id}").json()
    assert seen["assignee"] in (None, "")
    assert _api(app, "alpha").get("/api/v1/cases?assignee=beta").json()["items"] == []
    r = analyst.post(f"/api/v1/cases/{case_id}/assign", json={"assignee": "admin"})
    assert r.status_code == 200 and r.json()["assignee"] == "admin"


def test_a_decision_on_a_stale_view_is_refused(app, fx):
    """docs/cases.md: the web app passes the version it showed. It never did: an analyst's
    Dismiss went through after the platform had reported a rectification the page did not show."""
    case_id = fx.ids["P2"]["awaiting_rectification"][0]
    analyst = login_client(app, "analyst")
    page = analyst.get(f"/cases/{case_id}").text
    shown = int(re.search(r'name="expected_version" value="(\d+)"', page).group(1))
    assert shown == _api(app, "analyst").get(f"/api/v1/cases/{case_id}").json()["version"]
    # every form that changes the case carries it
    assert page.count('name="expected_version"') == len(
        re.findall(r'action="/cases/[^"]+/(?:assign|guide|transition|verify)"', page)
    )
    r = _api(app, "beta").post(
        f"/api/v1/cases/{case_id}/rectifications", json={"note": "fixed", "expected_version": shown}
    )
    assert r.status_code == 201, r.text
    token = csrf_of(page)
    r = analyst.post(
        f"/cases/{case_id}/transition",
        data={"to": "dismiss", "reason": "dup", "csrf_token": token, "expected_version": shown},
    )
    assert r.status_code == 409
    api = _api(app, "analyst")
    now = api.get(f"/api/v1/cases/{case_id}").json()
    assert now["status"] == "rectification_reported"
    r = api.post(
        f"/api/v1/cases/{case_id}/transition",
        json={"to": "dismiss", "reason": "dup", "expected_version": shown},
    )
    assert r.status_code == 409 and "reload it" in r.json()["detail"]
    bad = api.post(
        f"/api/v1/cases/{case_id}/transition",
        json={"to": "dismiss", "reason": "dup", "expected_version": "four"},
    )
    assert bad.status_code == 422
    r = api.post(
        f"/api/v1/cases/{case_id}/transition",
        json={"to": "dismiss", "reason": "dup", "expected_version": now["version"]},
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed"


def test_the_case_filter_of_findings_and_the_severity_and_overdue_filters_of_cases(app, fx):
    api = _api(app, "analyst")
    case_id = fx.ids["P1"]["case_id"][2]
    mine = api.get(f"/api/v1/cases/{case_id}").json()["findings"]
    listed = api.get(f"/api/v1/findings?case={case_id}&limit=500").json()["items"]
    assert sorted(f["finding_id"] for f in listed) == sorted(f["finding_id"] for f in mine)
    assert len(api.get("/api/v1/findings?limit=500").json()["items"]) > len(listed)
    page = login_client(app, "analyst").get(f"/findings?case={case_id}&format=json").json()
    assert page["filters"] == {"case": case_id}  # the link on a case's page: "All N findings"
    assert len(page["items"]) == len(mine)

    every = api.get("/api/v1/cases?limit=500").json()["items"]
    critical = api.get("/api/v1/cases?severity=critical&limit=500").json()["items"]
    assert 0 < len(critical) < len(every)
    for c in critical:
        found = api.get(f"/api/v1/cases/{c['case_id']}").json()["findings"]
        assert "critical" in {f["severity"] for f in found}

    # one case past its deadline (its guidance issued as if two weeks ago); the fixture's other
    # guided cases are due in two weeks: the filter has a case to find and cases to leave out
    from promoguard.cases.service import CaseService

    late = fx.ids["P1"]["open_case"][0]
    today = dt.datetime.now(dt.UTC).date()
    svc = CaseService(fx.db_url, actor="setup")
    svc.assign(late, "analyst")
    svc.guide(late, today - dt.timedelta(days=1), today=today - dt.timedelta(days=14))
    svc.db.dispose()
    overdue = api.get("/api/v1/cases?overdue=true&limit=500").json()["items"]
    assert [(c["case_id"], c["overdue"]) for c in overdue] == [(late, True)]
    assert len(api.get("/api/v1/cases?overdue=false&limit=500").json()["items"]) == len(every)
    assert api.get("/api/v1/cases?overdue=maybe").status_code == 422


def test_a_finding_seen_again_keeps_its_first_scan_and_names_the_latest(app, fx, tmp_path):
    """A finding's row is its first sighting (scan_id, with detected_at and evidence) and
    last_scan_id the latest scan that found it too: in the list and on the finding's page."""
    import shutil

    import duckdb

    from promoguard.cases.service import CaseService

    store = tmp_path / "second.duckdb"
    shutil.copy(fx.store, store)
    with duckdb.connect(str(store)) as con:  # the same findings again, a day later
        con.execute(
            "INSERT INTO scans SELECT * REPLACE ('S-WEBTEST-2' AS scan_id,"
            " started_at + INTERVAL 1 DAY AS started_at, finished_at + INTERVAL 1 DAY AS"
            " finished_at) FROM scans WHERE scan_id = 'S-WEBTEST-1'"
        )
        con.execute(
            "INSERT INTO findings SELECT * REPLACE ('S-WEBTEST-2' AS scan_id,"
            " finding_id || '-2' AS finding_id) FROM findings WHERE scan_id = 'S-WEBTEST-1'"
        )
    svc = CaseService(fx.db_url, actor="setup")
    again = svc.open_from_scan(store)
    svc.db.dispose()
    assert again.opened == [] and again.findings_seen_again > 0
    api = _api(app, "analyst")
    items = api.get("/api/v1/findings?limit=500").json()["items"]
    assert items and {(f["scan_id"], f["last_scan_id"]) for f in items} == {
        ("S-WEBTEST-1", "S-WEBTEST-2")
    }
    one = api.get(f"/api/v1/findings/{items[0]['finding_id']}").json()
    assert (one["scan_id"], one["first_scan_id"], one["last_scan_id"]) == (
        "S-WEBTEST-1",
        "S-WEBTEST-1",
        "S-WEBTEST-2",
    )
