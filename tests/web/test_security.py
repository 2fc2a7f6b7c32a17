"""Security of the web tier: authentication everywhere, tenancy (IDOR sweep), CSRF, escaping, lockout."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.web.casefixture import HOSTILE, PASSWORDS
from tests.web.conftest import csrf_of, login_client


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


#: Routes that answer without a login: the login page and form, the token endpoint, health, the
#: OpenAPI description (no data), the static stylesheet and the language switch (a cookie only).
PUBLIC = {"/login", "/api/v1/token", "/healthz", "/openapi.json", "/lang/{code}", "/static"}


def _routes(app):
    from promoguard.web.render import all_routes

    return all_routes(app)


def _fill(path: str, ids: dict[str, list[str]]) -> str:
    values = {
        "case_id": ids["guided_case"][0],
        "finding_id": ids["finding_id"][0],
        "merchant_id": ids["merchant_id"][0],
        "platform_id": ids["platform"][0],
        "attachment_id": ids["attachment"][0],
        "evidence_sha256": ids["evidence_sha256"][0],
        "code": "zh",
    }
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path)


def test_every_route_needs_a_login_except_the_public_ones(web_app, cases_fx):
    anonymous = TestClient(web_app, follow_redirects=False)
    ids = {**cases_fx.ids["P1"], "platform": ["P1"]}
    checked = 0
    for method, path in _routes(web_app):
        if path in PUBLIC or path.startswith("/static"):
            continue
        r = anonymous.request(method, _fill(path, ids))
        if path.startswith("/api/"):
            assert r.status_code == 401, f"{method} {path} answered {r.status_code} without a login"
            assert r.headers.get("www-authenticate") == "Bearer"
        else:
            # a page sends the visitor to the login form; a form post without a session is refused
            assert r.status_code in (303, 403), f"{method} {path}: {r.status_code}"
            if r.status_code == 303:
                assert r.headers["location"].startswith("/login?next=")
        checked += 1
    assert checked >= 25  # the sweep really went over the routes
    assert anonymous.get("/healthz").status_code == 200


def test_a_forged_or_expired_token_is_refused(web_app):
    client = TestClient(web_app)
    for token in ("nonsense", "bearer.MQ.1.abc.def", "session.MQ.9999999999.x.y"):
        r = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


def test_the_token_endpoint_gives_a_working_bearer_token(web_app):
    client = TestClient(web_app)
    r = client.post("/api/v1/token", data={"username": "analyst", "password": PASSWORDS["analyst"]})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    cases = client.get("/api/v1/cases", headers=auth).json()
    assert {c["platform_id"] for c in cases["items"]} == {"P1", "P2"}
    assert client.get("/api/v1/me", headers=auth).json()["role"] == "analyst"
    wrong = client.post("/api/v1/token", data={"username": "analyst", "password": "nope"})
    assert wrong.status_code == 401


@pytest.mark.parametrize("officer,own,other", [("alpha", "P1", "P2"), ("beta", "P2", "P1")])
def test_idor_sweep_another_platforms_objects_answer_404(
    web_app, as_user, cases_fx, officer, own, other
):
    """Every route with an id, given the other platform's object, answers 404 (reads and writes)."""
    client = as_user(officer)
    theirs = {**cases_fx.ids[other], "platform": [other]}
    mine = {**cases_fx.ids[own], "platform": [own]}
    token = csrf_of(client.get("/").text)
    swept = 0
    for method, path in _routes(web_app):
        if "{" not in path or path in PUBLIC:
            continue
        for target, expect_found in ((theirs, False), (mine, True)):
            url = _fill(path, target)
            if method == "GET":
                r = client.get(url)
            else:
                body = {
                    "csrf_token": token,
                    "text": "x",
                    "note": "x",
                    "to": "close",
                    "deadline": "2099-01-01",
                    "assignee": "analyst",
                    "reason": "x",
                }
                r = client.request(method, url, data=body, headers={"X-CSRF-Token": token})
            if not expect_found:
                assert r.status_code == 404, f"{officer}: {method} {url} -> {r.status_code}"
                assert other not in r.text or "not found" in r.text.lower()
                swept += 1
            elif method == "GET":
                assert r.status_code in (200, 403), (
                    f"{officer}: own {method} {url} -> {r.status_code}"
                )
    assert swept >= 15


@pytest.mark.parametrize("officer,other", [("alpha", "P2"), ("beta", "P1")])
def test_lists_and_aggregates_show_only_the_officers_platform(as_user, cases_fx, officer, other):
    client = as_user(officer)
    their_cases = set(cases_fx.ids[other]["case_id"])
    their_findings = set(cases_fx.ids[other]["finding_id"])
    for url in ("/api/v1/cases", "/cases?format=json", f"/api/v1/cases?platform={other}"):
        items = client.get(url).json()["items"]
        assert not their_cases & {c["case_id"] for c in items}, url
    for url in (
        "/api/v1/findings",
        f"/findings?format=json&platform={other}",
        "/api/v1/findings?limit=500",
    ):
        items = client.get(url).json()["items"]
        assert not their_findings & {f["finding_id"] for f in items}, url
    for url in ("/?format=json", "/platforms?format=json"):
        text = client.get(url).text
        assert f'"{other}"' in as_user("analyst").get(url).text  # the bureau's view names it
        assert f'"{other}"' not in text, f"{url} mentions {other}"
    # the scans and the alert drafts name no platform: their counts are the officer's own
    own = len(cases_fx.ids[({"P1", "P2"} - {other}).pop()]["finding_id"])
    scans = client.get("/api/v1/scans").json()["items"]
    assert sum(s["findings"] for s in scans) == own, scans
    alerts = client.get("/alerts?format=json").json()["items"]
    assert sum(a["findings"] for a in alerts) == own, alerts
    for case_id in cases_fx.ids[other]["case_id"]:
        assert client.get(f"/api/v1/cases/{case_id}").status_code == 404


def test_roles_limit_what_a_user_may_change(as_user, cases_fx):
    case_id = cases_fx.ids["P1"]["case_id"][1]
    for user in ("auditor", "alpha"):
        client = as_user(user)
        token = csrf_of(client.get(f"/cases/{case_id}").text)
        r = client.post(
            f"/cases/{case_id}/assign", data={"csrf_token": token, "assignee": "analyst"}
        )
        assert r.status_code == 403, user
    auditor = as_user("auditor")
    token = csrf_of(auditor.get("/").text)
    r = auditor.post(f"/cases/{case_id}/comment", data={"csrf_token": token, "text": "hi"})
    assert r.status_code == 403
    assert auditor.get("/audit").status_code == 200
    assert as_user("alpha").get("/audit").status_code == 403
    assert as_user("alpha").get("/api/v1/users").status_code == 403


def test_forms_without_a_valid_csrf_token_are_refused(web_app, as_user, cases_fx):
    client = as_user("analyst")
    case_id = cases_fx.ids["P1"]["case_id"][1]
    posts = [(m, p) for m, p in _routes(web_app) if m == "POST" and not p.startswith("/api/")]
    assert len(posts) >= 7
    for _, path in posts:
        url = _fill(path, {**cases_fx.ids["P1"], "platform": ["P1"], "guided_case": [case_id]})
        # each form sent by a user whose role may send it: a role's 403 would hide a missing check
        poster = as_user("alpha") if path.endswith("/rectify") else client
        for token in (None, "forged-token"):
            data = {"text": "x", "username": "analyst", "password": PASSWORDS["analyst"]}
            if token:
                data["csrf_token"] = token
            r = poster.post(url, data=data)
            assert r.status_code == 403, f"POST {url} with csrf={token!r} -> {r.status_code}"
    # a token from another session is worthless in this one
    other = login_client(web_app, "admin")
    foreign = csrf_of(other.get("/").text)
    r = client.post(f"/cases/{case_id}/comment", data={"csrf_token": foreign, "text": "x"})
    assert r.status_code == 403
    # a browser session calling the API must send the page's token in X-CSRF-Token
    r = client.post(f"/api/v1/cases/{case_id}/comments", json={"text": "x"})
    assert r.status_code == 403
    token = csrf_of(client.get("/").text)
    r = client.post(
        f"/api/v1/cases/{case_id}/comments", json={"text": "x"}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 201


def test_session_cookie_is_httponly_and_samesite(web_app):
    client = TestClient(web_app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": "analyst", "password": PASSWORDS["analyst"], "csrf_token": token},
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "content-security-policy" in {k.lower() for k in r.headers}


def test_hostile_strings_are_escaped_on_every_page(as_user, cases_fx):
    client = as_user("analyst")
    p1, p2 = cases_fx.ids["P1"], cases_fx.ids["P2"]
    pages = ["/", "/findings", "/cases", "/platforms", "/platforms/P2", "/alerts", "/audit", "/me"]
    pages += [f"/cases/{c}" for c in p1["case_id"] + p2["case_id"]]
    pages += [f"/findings/{f}" for f in p1["finding_id"] + p2["finding_id"]]
    pages += [f"/merchants/{m}" for m in p1["merchant_id"] + p2["merchant_id"]]
    pages += [f"/cases/{p1['guided_case'][0]}/notice"]
    seen_escaped = 0
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        assert HOSTILE not in r.text, f"{url} shows the hostile string unescaped"
        assert "<img src=x" not in r.text, f"{url} shows the hostile attribute unescaped"
        seen_escaped += "&lt;script&gt;" in r.text
    assert seen_escaped >= 10  # the hostile data is really on the pages, escaped
    # the JSON of a page carries the data as data
    assert HOSTILE in client.get(f"/merchants/{p1['merchant_id'][1]}?format=json").json()["name"]


def test_login_lockout_after_repeated_failures(cases_fx):
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData
    from promoguard.web.security import LoginLimiter

    now = [1000.0]
    app = create_app(
        WebData(cases_fx.db_url),
        secret="lockout",
        limiter=LoginLimiter(max_failures=5, window=900, lockout=900, clock=lambda: now[0]),
    )
    client = TestClient(app)
    codes = [
        client.post("/api/v1/token", data={"username": "locked", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]  # the fifth failure locks the name at once
    right = {"username": "locked", "password": PASSWORDS["locked"]}
    r = client.post("/api/v1/token", data=right)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # the login page says so too
    page = TestClient(app, follow_redirects=False)
    token = csrf_of(page.get("/login").text)
    r = page.post("/login", data={**right, "csrf_token": token})
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    # another user from the same address is not locked out by these five
    ok = client.post("/api/v1/token", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert ok.status_code == 200
    now[0] += 901
    assert client.post("/api/v1/token", data=right).status_code == 200


def test_open_redirects_are_refused(web_app):
    client = login_client(web_app, "analyst")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        r = client.get(f"/lang/zh?next={target}")
        assert r.headers["location"] == "/"
