"""`promoguard users add` and `promoguard serve`: passwords from stdin, argon2, one-line errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from promoguard.cli import app


def _run(*args: str, stdin: str = ""):
    return CliRunner().invoke(app, list(args), input=stdin)


def test_users_add_hashes_the_password_read_from_stdin(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    r = _run("users", "add", "wang", "--role", "platform", "--platform", "P9",
             "--password-stdin", "--db", db, "--json", stdin="a-long-password\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["platform_id"] == "P9"
    from promoguard.web.data import WebData
    from promoguard.web.security import verify_password

    user = WebData(db).user_by_name("wang")
    assert user["role"] == "platform" and user["password_hash"].startswith("$argon2id$")
    assert verify_password(user["password_hash"], "a-long-password")
    assert not verify_password(user["password_hash"], "a-long-passwore")
    listed = _run("users", "list", "--db", db, "--json")
    assert "argon2" not in listed.stdout and "wang" in listed.stdout


def test_users_add_refuses_with_one_line(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    cases = [
        (["--role", "analyst"], "pw-long-enough", "--password-stdin"),
        (["--role", "analyst", "--password-stdin"], "short", "shorter than 8"),
        (["--role", "boss", "--password-stdin"], "pw-long-enough", "role is one of"),
        (["--role", "platform", "--password-stdin"], "pw-long-enough", "needs --platform"),
        (
            ["--role", "analyst", "--platform", "P1", "--password-stdin"],
            "pw-long-enough",
            "platform user only",
        ),
    ]
    for args, password, message in cases:
        r = _run("users", "add", "li", *args, "--db", db, stdin=password + "\n")
        assert r.exit_code == 1, (args, r.output)
        assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert _run("users", "add", "li", "--role", "auditor", "--password-stdin", "--db", db,
                stdin="pw-long-enough\n").exit_code == 0  # fmt: skip
    again = _run("users", "add", "li", "--role", "auditor", "--password-stdin", "--db", db,
                 stdin="pw-long-enough\n")  # fmt: skip
    assert again.exit_code == 1 and "exists already" in again.stderr


def test_serve_has_the_spec_options():
    r = _run("serve", "--help")
    assert r.exit_code == 0
    for option in ("--db", "--host", "--port", "--store"):
        assert option in r.stdout


def test_the_demo_makes_users_whose_printed_logins_work(cases_fx, tmp_path):
    """The demo's web step: one user per role and platform, and the printed logins work."""
    from fastapi.testclient import TestClient

    from promoguard.cases.service import CaseService
    from promoguard.commands.demo_cmd import _web_users
    from promoguard.web.app import create_app
    from promoguard.web.data import WebData

    url = f"sqlite:///{tmp_path / 'cases.db'}"
    CaseService(url, actor="demo").open_from_scan(cases_fx.store)
    web = _web_users(tmp_path, url, cases_fx.store)
    roles = {u["role"] for u in web["users"]}
    assert roles == {"admin", "analyst", "auditor", "platform"}
    assert (tmp_path / "logins.txt").stat().st_mode & 0o077 == 0  # owner only
    app = create_app(WebData(web["db"]), secret="demo")
    for u in web["users"]:
        r = TestClient(app).post(
            "/api/v1/token", data={"username": u["name"], "password": u["password"]}
        )
        assert r.status_code == 200, u["name"]
    assert web["serve"].startswith(f"promoguard serve --db {web['db']}")
