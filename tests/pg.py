"""A real, throwaway PostgreSQL server for the tests of the case database and the web tier.

The server is started from the Debian binaries (``/usr/lib/postgresql/<v>/bin``) once per test
session, in a private temporary folder, listening on a Unix socket only (no TCP port to clash
with), and stopped at the end. PostgreSQL refuses to run as root, so as root it runs as the
``postgres`` user the package creates. Each test (or fixture) takes a fresh database from it with
:func:`new_database`. The fixture is registered for every test area by ``tests/conftest.py``.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_counter = itertools.count()


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(found[0]).parent if found else None


def _as_owner(cmd: list[str], user: str | None) -> list[str]:
    if user is None:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user, "--", *cmd]
    return ["su", "-s", "/bin/sh", user, "-c", " ".join(cmd)]


@pytest.fixture(scope="session")
def postgres_server():
    """(socket dir, port) of a throwaway PostgreSQL server, or a skip saying why not."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are absent (scripts/setup.sh installs postgresql)")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        user = "postgres"
    base = Path(tempfile.mkdtemp(prefix="promoguard-pg-"))
    if user:
        info = pwd.getpwnam(user)
        os.chown(base, info.pw_uid, info.pw_gid)
    data, log = base / "data", base / "server.log"
    port = 15432 + os.getpid() % 1000
    subprocess.run(
        _as_owner(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8"],
            user,
        ),
        check=True, capture_output=True,
    )  # fmt: skip
    opts = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", opts, "start"], user),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield base, port
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user),
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def new_database(server) -> str:
    """The URL of a new, empty database on the throwaway server."""
    import psycopg

    sock, port = server
    name = f"cases_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(
        host=str(sock), port=port, user="postgres", dbname="postgres", autocommit=True
    ) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"
