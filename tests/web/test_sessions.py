"""Sessions end on the server: logout, a password change and a disabled user revoke them at once.

A session cookie or bearer token is a signed statement; the signature alone no longer suffices.
Each test makes its own user (so the shared ones stay logged in), and runs on SQLite and on
PostgreSQL. The "stolen" cookie or token is the very string the browser or script held, replayed
from another client after the owner logged out, changed the password or was disabled.
"""

from __future__ import annotations

import itertools
import json

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import csrf_of, login_client
from typer.testing import CliRunner

from promoguard.cli import app as cli_app

PASSWORD = "a-first-password"
_names = itertools.count()


@pytest.fixture
def user(cases_any):
    """A fresh analyst (a new name on each call) on the case database of this engine."""
    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    name = f"temp-analyst-{next(_names)}"
    svc = CaseService(cases_any.db_url, actor="setup")
    svc.add_user(name, "analyst", password_hash=hash_password(PASSWORD))
    svc.db.dispose()
    return name


def _cookie_client(app, cookie: str) -> TestClient:
    """Another browser that holds a copy of someone's session cookie."""
    thief = TestClient(app, follow_redirects=False)
    thief.cookies.set("pg_session", cookie)
    return thief


def _token(app, name: str, password: str = PASSWORD) -> str:
    r = TestClient(app).post("/api/v1/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _works_with_cookie(app, cookie: str) -> bool:
    r = _cookie_client(app, cookie).get("/cases")
    assert r.status_code in (200, 303), r.status_code
    return r.status_code == 200


def _works_with_token(app, token: str) -> bool:
    r = TestClient(app).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 401), r.status_code
    return r.status_code == 200


def _events(db_url: str, action: str) -> list[dict]:
    from promoguard.cases.service import CaseService

    svc = CaseService(db_url)
    try:
        return [e for e in svc.events() if e["action"] == action]
    finally:
        svc.db.dispose()


def test_a_stolen_cookie_stops_working_after_logout(web_app_any, user):
    browser = login_client(web_app_any, user, PASSWORD)
    stolen = browser.cookies.get("pg_session")
    other_browser = login_client(web_app_any, user, PASSWORD)
    assert _works_with_cookie(web_app_any, stolen)
    r = browser.post("/logout", data={"csrf_token": csrf_of(browser.get("/").text)})
    assert r.status_code == 303
    assert not _works_with_cookie(web_app_any, stolen)
    r = _cookie_client(web_app_any, stolen).get("/api/v1/me")
    assert r.status_code == 401
    # logging out ends that one session, not the user's others
    assert other_browser.get("/cases").status_code == 200


def test_a_token_ends_with_api_logout(web_app_any, user):
    token = _token(web_app_any, user)
    auth = {"Authorization": f"Bearer {token}"}
    assert TestClient(web_app_any).post("/api/v1/logout", headers=auth).json() == {"ended": True}
    assert not _works_with_token(web_app_any, token)


def test_a_disabled_users_cookie_and_token_stop_at_once(web_app_any, cases_any, user):
    cookie = login_client(web_app_any, user, PASSWORD).cookies.get("pg_session")
    token = _token(web_app_any, user)
    assert _works_with_cookie(web_app_any, cookie) and _works_with_token(web_app_any, token)
    r = CliRunner().invoke(
        cli_app,
        ["users", "disable", user, "--db", cases_any.db_url],
    )
    assert r.exit_code == 0 and "2 session(s) ended" in r.output, r.output
    # the very next request, with no server restart and no cache to wait out
    assert not _works_with_cookie(web_app_any, cookie)
    assert not _works_with_token(web_app_any, token)
    refused = TestClient(web_app_any).post(
        "/api/v1/token", data={"username": user, "password": PASSWORD}
    )
    assert refused.status_code == 401
    # enabled again: a new login works, the old session stays ended
    r = CliRunner().invoke(
        cli_app,
        ["users", "enable", user, "--db", cases_any.db_url],
    )
    assert r.exit_code == 0, r.output
    assert _works_with_token(web_app_any, _token(web_app_any, user))
    assert not _works_with_cookie(web_app_any, cookie)
    disabled = _events(cases_any.db_url, "user_disabled")
    assert any(e["payload"]["name"] == user for e in disabled)


def test_a_password_change_ends_every_other_session_and_token(web_app_any, cases_any, user):
    browser = login_client(web_app_any, user, PASSWORD)
    elsewhere = login_client(web_app_any, user, PASSWORD).cookies.get("pg_session")
    token = _token(web_app_any, user)
    csrf = csrf_of(browser.get("/settings").text)
    # a wrong current password changes nothing
    r = browser.post(
        "/settings/password",
        data={"csrf_token": csrf, "current": "not-it", "new": "b" * 12, "repeat": "b" * 12},
    )
    assert r.status_code == 422 and "The current password is wrong." in r.text
    assert _works_with_cookie(web_app_any, elsewhere) and _works_with_token(web_app_any, token)
    # no CSRF token: refused
    r = browser.post(
        "/settings/password", data={"current": PASSWORD, "new": "b" * 12, "repeat": "b" * 12}
    )
    assert r.status_code == 403
    r = browser.post(
        "/settings/password",
        data={"csrf_token": csrf, "current": PASSWORD, "new": "b" * 12, "repeat": "b" * 12},
    )
    assert r.status_code == 303 and r.headers["location"] == "/settings?note=password"
    assert browser.get("/settings?note=password").status_code == 200  # this browser: a new session
    assert not _works_with_cookie(web_app_any, elsewhere)
    assert not _works_with_token(web_app_any, token)
    assert _works_with_token(web_app_any, _token(web_app_any, user, "b" * 12))
    old = TestClient(web_app_any).post(
        "/api/v1/token", data={"username": user, "password": PASSWORD}
    )
    assert old.status_code == 401
    changed = [e for e in _events(cases_any.db_url, "user_password_changed") if e["actor"] == user]
    assert changed and changed[-1]["payload"]["ended"] == 3  # two cookies and the token
    assert "b" * 12 not in json.dumps(changed)  # the audit keeps no password


def test_the_users_language_setting_wins_over_cookie_and_browser(web_app_any, cases_any, user):
    english = {"Accept-Language": "en-US,en;q=0.9"}
    browser = login_client(web_app_any, user, PASSWORD)
    browser.cookies.set("pg_lang", "en")
    assert ">Findings<" in browser.get("/", headers=english).text
    settings = browser.get("/settings", headers=english).text
    r = browser.post(
        "/settings/language",
        data={"csrf_token": csrf_of(settings), "language": "zh"},
        headers=english,
    )
    assert r.status_code == 303
    browser.cookies.set("pg_lang", "en")  # a cookie saying English does not override the setting
    assert ">发现<" in browser.get("/", headers=english).text
    # another computer, a browser asking for English: the user's setting still wins
    laptop = login_client(web_app_any, user, PASSWORD)
    assert ">发现<" in laptop.get("/", headers=english).text
    # the switch of a logged-in page saves the setting too
    page = laptop.get("/cases", headers=english).text
    r = laptop.post(
        "/settings/language",
        data={"csrf_token": csrf_of(page), "language": "en", "next": "/cases"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    assert ">Findings<" in browser.get("/", headers={"Accept-Language": "zh-CN"}).text
    # empty: back to the switch's cookie, else the browser's language
    r = browser.post(
        "/settings/language", data={"csrf_token": csrf_of(browser.get("/settings").text)}
    )
    assert r.status_code == 303
    browser.cookies.delete(
        "pg_lang"
    )  # the one this test set by hand (the response deleted its own)
    assert ">发现<" in browser.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert ">Findings<" in browser.get("/", headers=english).text
    # refused: no CSRF token, or a language we do not have
    assert browser.post("/settings/language", data={"language": "zh"}).status_code == 403
    csrf = csrf_of(browser.get("/settings").text)
    bad = browser.post("/settings/language", data={"csrf_token": csrf, "language": "fr"})
    assert bad.status_code == 422
    saved = [e["payload"] for e in _events(cases_any.db_url, "user_language_set")]
    assert {"name": user, "language": "zh"} in saved and {"name": user, "language": None} in saved
