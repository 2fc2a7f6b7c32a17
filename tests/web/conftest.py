"""Fixtures of the web tests: a hand-built case database, the app in-process, a live server, chromium.

The security tests talk to the app in-process (Starlette's test client: fast, no sockets); the
browser tests start uvicorn on 127.0.0.1 on a free port in a thread and drive Debian's chromium
through Playwright (never a downloaded browser). Screenshots go to ``build/screenshots`` (or
``$PROMOGUARD_SCREENSHOTS``; ``docs/images/web`` refreshes the ones the docs show).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
from tests.web.casefixture import PASSWORDS, build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cases_sqlite(tmp_path_factory):
    return build(tmp_path_factory.mktemp("webcases"))


@pytest.fixture(scope="session")
def cases_fx(cases_sqlite):
    return cases_sqlite


@pytest.fixture(scope="session")
def web_app(cases_fx):
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    return create_app(WebData(cases_fx.db_url, store=cases_fx.store), secret="test-secret")


# The same case database, app and logged-in clients on each engine: SQLite and a real PostgreSQL
# (tests/pg.py). A test module runs on both by overriding its fixtures with these (see
# test_security.py): tenancy, CSRF and sessions must hold whatever database the bureau runs.
@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def cases_any(request, tmp_path_factory):
    if request.param == "sqlite":
        return request.getfixturevalue("cases_sqlite")
    from tests.pg import new_database

    url = new_database(request.getfixturevalue("postgres_server"))
    return build(tmp_path_factory.mktemp("webcases-pg"), db_url=url)


@pytest.fixture(scope="session")
def web_app_any(cases_any):
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    return create_app(WebData(cases_any.db_url, store=cases_any.store), secret="test-secret")


@pytest.fixture(scope="session")
def as_user_any(web_app_any):
    return _logged_in_clients(web_app_any)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login_client(app, user: str, password: str | None = None):
    """A test client logged in as ``user`` through the login form (cookies kept)."""
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": user, "password": password or PASSWORDS[user], "csrf_token": token},
    )
    assert r.status_code == 303, f"login as {user} failed: {r.status_code}"
    return client


@pytest.fixture(scope="session")
def as_user(web_app):
    return _logged_in_clients(web_app)


def _logged_in_clients(app):
    clients: dict[str, object] = {}

    def get(user: str):
        if user not in clients:
            clients[user] = login_client(app, user)
        return clients[user]

    return get


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(cases_fx):
    """The app under uvicorn on 127.0.0.1:<free port>, in a thread, for the browser."""
    import uvicorn

    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    app = create_app(WebData(cases_fx.db_url, store=cases_fx.store), secret="browser-secret")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent (scripts/setup.sh installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) on the live server, English unless switched."""
    context = browser.new_context(
        base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined] - a hostile string that ran would add one
    external: list[str] = []
    pg.on(
        "request",
        lambda r: external.append(r.url) if not r.url.startswith((live_server, "data:")) else None,
    )
    pg.external = external  # type: ignore[attr-defined]
    yield pg
    context.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    out = Path(os.environ.get("PROMOGUARD_SCREENSHOTS") or ROOT / "build" / "screenshots")
    if not out.is_absolute():
        out = ROOT / out
    out.mkdir(parents=True, exist_ok=True)
    return out


def browser_login(pg, user: str, password: str | None = None) -> None:
    pg.goto("/login")
    pg.fill("#username", user)
    pg.fill("#password", password or PASSWORDS[user])
    pg.click("form[action='/login'] button[type=submit]")
