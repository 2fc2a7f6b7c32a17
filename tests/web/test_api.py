"""The REST contract (spec: REST section): tokens, lists with items, filters, paging, writes audited."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from tests.web.casefixture import PASSWORDS


# Every test here runs on SQLite and on PostgreSQL (the fixtures of tests/web/conftest.py).
@pytest.fixture(scope="module")
def cases_fx(cases_any):
    return cases_any


@pytest.fixture(scope="module")
def web_app(web_app_any):
    return web_app_any


@pytest.fixture(scope="module")
def as_user(as_user_any):
    return as_user_any


@pytest.fixture(scope="module")
def api(web_app):
    def client_for(user: str) -> TestClient:
        c = TestClient(web_app)
        r = c.post("/api/v1/token", data={"username": user, "password": PASSWORDS[user]})
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return c

    return client_for


def test_openapi_describes_the_contract(web_app):
    spec = TestClient(web_app).get("/openapi.json").json()
    for path in (
        "/api/v1/token",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/findings",
        "/api/v1/findings/{finding_id}",
        "/api/v1/cases/{case_id}/rectifications",
    ):
        assert path in spec["paths"], path
    assert "post" in spec["paths"]["/api/v1/cases/{case_id}/rectifications"]
    # the document says what the API does: the token takes a form and needs no token itself,
    # the lists name their filters, and an error is {"detail": "one line"}, not a list
    token = spec["paths"]["/api/v1/token"]["post"]
    assert "security" not in token
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["username", "password"]
    findings = spec["paths"]["/api/v1/findings"]["get"]
    assert {"check", "case", "limit", "after"} <= {p["name"] for p in findings["parameters"]}
    cases = spec["paths"]["/api/v1/cases"]["get"]
    assert {"status", "overdue", "severity"} <= {p["name"] for p in cases["parameters"]}
    one = spec["paths"]["/api/v1/cases/{case_id}"]["get"]
    assert {"401", "403", "404", "422"} <= set(one["responses"])
    assert one["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert spec["components"]["schemas"]["Problem"]["properties"] == {
        "detail": {"type": "string", "title": "Detail"}
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_cases_list_carries_the_spec_fields(api):
    items = api("analyst").get("/api/v1/cases").json()["items"]
    assert items
    for c in items:
        assert {"case_id", "platform_id", "merchant_id", "status", "priority"} <= set(c)
    assert [c["priority"] for c in items] == sorted(c["priority"] for c in items)


def test_findings_list_carries_the_spec_fields(api, cases_fx):
    """data-model.md, Findings: every field of a finding, in the list (not only on its page)."""
    client = api("analyst")
    items = client.get("/api/v1/findings?limit=500").json()["items"]
    spec = {
        "finding_id", "scan_id", "check_code", "pack", "entity_type", "entity_id",
        "merchant_id", "platform_id", "severity", "observed", "expected", "legal_basis",
        "evidence_sha256", "detected_at",
    }  # fmt: skip
    assert items
    for f in items:
        assert spec <= set(f), spec - set(f)
        assert f["scan_id"] and f["pack"] and f["legal_basis"]
        assert isinstance(f["observed"], dict) and isinstance(f["expected"], dict)
        # the list says what the finding's own page says
        one = client.get(f"/api/v1/findings/{f['finding_id']}").json()
        assert {k: one[k] for k in spec} == {k: f[k] for k in spec}
        # the scan whose finding the row holds (its first sighting), and the latest to see it
        # (the two differ only after a second scan: test_case_writes.py)
        assert f["last_scan_id"] and f["scan_id"] == one["first_scan_id"]


def test_findings_dates_filter_when_a_scan_found_them(api, cases_fx):
    """The fixture's scans found everything on 2026-11-12 (UTC); its cases were opened when the
    test ran. The date filters are the list's detected_at, not the case's opening."""
    client = api("analyst")
    every = {f["finding_id"] for f in client.get("/api/v1/findings?limit=500").json()["items"]}
    assert all(
        f["detected_at"].startswith("2026-11-12")
        for f in client.get("/api/v1/findings?limit=500").json()["items"]
    )

    def ids(query: str) -> set[str]:
        got = client.get(f"/api/v1/findings?limit=500&{query}")
        assert got.status_code == 200, got.text
        return {f["finding_id"] for f in got.json()["items"]}

    assert ids("date_from=2026-11-12&date_to=2026-11-12") == every
    assert ids("date_to=2026-11-11") == set()
    assert ids("date_from=2026-11-13") == set()


def test_findings_days_are_utc_whatever_zone_the_server_keeps(cases_fx):
    """A PostgreSQL server initialised in New York read the naive day bounds, and wrote the
    times, in New York's zone: findings found at 01:00 UTC on the 12th fell on the 11th."""
    if not cases_fx.db_url.startswith("postgresql"):
        pytest.skip("the session's zone is PostgreSQL's (SQLite keeps UTC text)")
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    url = cases_fx.db_url + ("&" if "?" in cases_fx.db_url else "?")
    url += "options=-c%20TimeZone%3DAmerica/New_York"
    client = TestClient(create_app(WebData(url, store=cases_fx.store), secret="tz-secret"))
    r = client.post("/api/v1/token", data={"username": "analyst", "password": PASSWORDS["analyst"]})
    client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    every = client.get("/api/v1/findings?limit=500").json()["items"]
    assert every and all(f["detected_at"].endswith("+00:00") for f in every)
    day = client.get("/api/v1/findings?limit=500&date_from=2026-11-12&date_to=2026-11-12")
    assert len(day.json()["items"]) == len(every)
    assert client.get("/api/v1/findings?limit=500&date_to=2026-11-11").json()["items"] == []


def test_findings_filters_and_keyset_paging(api, cases_fx):
    client = api("analyst")
    everything = client.get("/api/v1/findings?limit=500").json()
    assert everything["next"] is None
    ids = [f["finding_id"] for f in everything["items"]]
    assert sorted(ids) == sorted(
        cases_fx.ids["P1"]["finding_id"] + cases_fx.ids["P2"]["finding_id"]
    )
    paged, cursor = [], None
    while True:
        url = "/api/v1/findings?limit=3" + (f"&after={cursor}" if cursor else "")
        body = client.get(url).json()
        paged += [f["finding_id"] for f in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert paged == ids  # same order, nothing twice, nothing lost
    # each filter on its own (in the fixture a check has one severity: together, either filter
    # alone would give the same rows)
    for name, field, value in (
        ("check", "check_code", "SHIP001"),
        ("severity", "severity", "medium"),
        ("platform", "platform_id", "P2"),
    ):
        want = {f["finding_id"] for f in everything["items"] if f[field] == value}
        got = client.get(f"/api/v1/findings?limit=500&{name}={value}").json()["items"]
        assert 0 < len(want) < len(ids) and {f["finding_id"] for f in got} == want, name
    only = client.get("/api/v1/findings?check=price001&severity=high&platform=P2").json()["items"]
    assert only and all(
        (f["check_code"], f["severity"], f["platform_id"]) == ("PRICE001", "high", "P2")
        for f in only
    )
    assert client.get("/api/v1/findings?date_from=yesterday").status_code == 422
    assert client.get("/api/v1/findings?after=not-a-cursor").status_code == 422
    assert client.get("/api/v1/findings?limit=0").status_code == 422


def test_a_finding_has_its_evidence_and_the_hash_matches(api, cases_fx):
    client = api("analyst")
    fid = cases_fx.ids["P1"]["finding_id"][0]
    f = client.get(f"/api/v1/findings/{fid}").json()
    assert {"observed", "expected", "legal_basis", "evidence_sha256", "evidence"} <= set(f)
    doc = client.get(f"/api/v1/evidence/{f['evidence_sha256']}").json()["document"]
    assert doc["rows"] == f["evidence"]
    # the document served is the one its hash names: its canonical JSON hashes to it (what a
    # recipient checks a guidance notice's evidence with)
    from promoguard.engine.evidence import canonical_json

    assert hashlib.sha256(canonical_json(doc).encode()).hexdigest() == f["evidence_sha256"]
    assert client.get("/api/v1/findings/no-such-finding").status_code == 404


def test_platform_reports_rectification_with_an_attachment_and_it_is_audited(api, cases_fx):
    officer = api("beta")
    case_id = cases_fx.ids["P2"]["awaiting_rectification"][0]
    content = "屏幕截图".encode() * 100
    r = officer.post(
        f"/api/v1/cases/{case_id}/rectifications",
        data={"note": "listing corrected"},
        files=[("attachments", ("proof.png", content, "image/png"))],
    )
    assert r.status_code == 201, r.text
    case = officer.get(f"/api/v1/cases/{case_id}").json()
    assert case["status"] == "rectification_reported"
    # the answer is the case as GET gives it (it had assigned_to and findings as a count)
    assert set(r.json()) == set(case) and r.json()["finding_count"] == case["finding_count"]
    att = case["rectifications"][-1]["attachments"][0]
    assert att["sha256"] == hashlib.sha256(content).hexdigest() and att["filename"] == "proof.png"
    listed = officer.get(f"/api/v1/cases/{case_id}/rectifications").json()["items"]
    assert listed[-1]["note"] == "listing corrected"
    events = api("auditor").get("/api/v1/audit?limit=500").json()["items"]
    mine = [e for e in events if e["case_id"] == case_id and e["action"] == "rectify"]
    assert mine and mine[0]["actor"] == "beta"  # the write is recorded with its user
    # a rectification on a case with no guidance yet is refused with the state machine's reason
    open_case = cases_fx.ids["P2"]["open_case"][0]
    r = officer.post(f"/api/v1/cases/{open_case}/rectifications", json={"note": "x"})
    assert r.status_code == 409 and "cannot rectify" in r.json()["detail"]
    assert officer.post(f"/api/v1/cases/{case_id}/rectifications", json={}).status_code == 422


def test_analyst_writes_through_the_api_are_audited_with_the_user(api, cases_fx):
    client = api("analyst")
    case_id = cases_fx.ids["P1"]["guided_case"][0]  # the open cases are the browser test's
    assert (
        client.post(f"/api/v1/cases/{case_id}/comments", json={"text": "looked at it"}).status_code
        == 201
    )
    r = client.post(f"/api/v1/cases/{case_id}/assign", json={"assignee": "analyst"})
    assert r.status_code == 200 and r.json()["assignee"] == "analyst"
    r = client.post(f"/api/v1/cases/{case_id}/assign", json={"assignee": "nobody-known"})
    assert r.status_code == 422
    audit = client.get(f"/api/v1/cases/{case_id}").json()["audit"]
    assert [(e["actor"], e["action"]) for e in audit[-2:]] == [
        ("analyst", "comment"),
        ("analyst", "assign"),
    ]
    # the auditor reads but never writes, and a platform user does not see the audit trail
    assert (
        api("auditor").post(f"/api/v1/cases/{case_id}/comments", json={"text": "x"}).status_code
        == 403
    )
    assert api("alpha").get("/api/v1/audit").status_code == 403
    assert "audit" not in api("alpha").get(f"/api/v1/cases/{case_id}").json()


def test_users_list_never_shows_password_hashes(api):
    body = api("admin").get("/api/v1/users").json()
    assert {u["name"] for u in body["items"]} >= {"admin", "analyst", "alpha", "beta"}
    assert "argon2" not in str(body) and "password" not in str(body)


def test_a_finding_is_dated_when_its_scan_found_it_with_the_offset(api, cases_fx):
    """`detected_at` had been the case's opening time (when `cases open` ran), without an offset;
    the store's findings were detected at 2026-11-12 01:00 UTC."""
    client = api("analyst")
    fid = cases_fx.ids["P1"]["finding_id"][0]
    one = client.get(f"/api/v1/findings/{fid}").json()
    listed = client.get("/api/v1/findings?limit=500").json()["items"]
    assert one["detected_at"] == "2026-11-12T01:00:00+00:00"
    assert {f["detected_at"] for f in listed} == {"2026-11-12T01:00:00+00:00"}
    case = client.get(f"/api/v1/cases/{one['case_id']}").json()
    assert case["opened_at"].endswith("+00:00")  # every moment carries its offset
