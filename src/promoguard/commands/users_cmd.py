"""`promoguard users`: the people who log in to the web application.

``users add NAME --role admin|analyst|platform|auditor [--platform ID] --password-stdin`` reads the
password from standard input (never from the command line, where ``ps`` and the shell history
would keep it), hashes it with argon2 and stores the hash in the case database's ``users`` table.
"""

from __future__ import annotations

import sys

import typer

from promoguard.commands._common import console, emit_json, fail, user_errors

app = typer.Typer(
    help="Users of the web application (roles: admin, analyst, platform, auditor).",
    no_args_is_help=True,
    add_completion=False,
)

MIN_PASSWORD = 8


_DB_HELP = "Case database URL (else $PROMOGUARD_DB, else sqlite:///promoguard.db)."


def _read_password(password_stdin: bool) -> str:
    """The password from the first line of standard input (never from the command line, where
    it would stand in the shell history and the process list)."""
    if not password_stdin:
        fail("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        fail(f"the password is shorter than {MIN_PASSWORD} characters")
    return password


@app.command("add")
@user_errors
def add(
    name: str = typer.Argument(..., help="The user name to log in with."),
    role: str = typer.Option(..., "--role", help="admin, analyst, platform or auditor."),
    platform: str | None = typer.Option(
        None, "--platform", help="The platform id a platform officer belongs to."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (first line)."
    ),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Add a user with a role (and a platform, for a platform compliance officer)."""
    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    password = _read_password(password_stdin)
    if role != "platform" and platform:
        fail("--platform is for a platform user only")
    user = CaseService(db).add_user(
        name, role, platform_id=platform, password_hash=hash_password(password)
    )
    if as_json:
        emit_json(user)
        return
    where = f", platform {platform}" if platform else ""
    console.print(f"added user {name} ({role}{where})")


@app.command("list")
@user_errors
def list_users(
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """List the users (never their password hashes)."""
    from promoguard.cases.service import CaseService

    users = CaseService(db, create=False).list_users()
    if as_json:
        emit_json({"items": users})
        return
    for u in users:
        where = f" {u['platform_id']}" if u.get("platform_id") else ""
        sys.stdout.write(f"{u['name']}\t{u['role']}{where}\n")


@app.command("passwd")
@user_errors
def passwd(
    name: str = typer.Argument(..., help="The user whose password to set."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input (first line)."
    ),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
) -> None:
    """Set a user's password; every session and token the user had ends at once."""
    from promoguard.cases.service import CaseService
    from promoguard.web.security import hash_password

    password = _read_password(password_stdin)
    user = CaseService(db, create=False).set_password(name, hash_password(password))
    console.print(f"password of {name} set; {user['sessions_ended']} session(s) ended")


@app.command("disable")
@user_errors
def disable(
    name: str = typer.Argument(..., help="The user to disable."),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
) -> None:
    """Disable a user: no more logins, and every session and token ends at once."""
    from promoguard.cases.service import CaseService

    user = CaseService(db, create=False).set_active(name, False)
    console.print(f"disabled {name}; {user['sessions_ended']} session(s) ended")


@app.command("enable")
@user_errors
def enable(
    name: str = typer.Argument(..., help="The user to enable again."),
    db: str | None = typer.Option(None, "--db", help=_DB_HELP),
) -> None:
    """Enable a disabled user (they log in again; their old sessions stay ended)."""
    from promoguard.cases.service import CaseService

    CaseService(db, create=False).set_active(name, True)
    console.print(f"enabled {name}")
