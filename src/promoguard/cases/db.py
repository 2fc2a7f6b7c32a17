"""Opening the case database: the URL, the engine, the migrations, sessions.

``--db URL``, else ``$PROMOGUARD_DB``, else ``sqlite:///promoguard.db`` in the working directory.
PostgreSQL URLs (``postgresql://user@host/db``) use psycopg 3. The Alembic migrations shipped in
the package are applied on first use, so a new database needs no setup step.

SQLite: every connection waits up to 30 s for a lock (``busy_timeout``) and has foreign keys on.
Python's sqlite3 begins a transaction only at the first write, so the first write of a unit of
work takes the database's write lock and later reads in it see committed data: the case update
(with its version check) or the audit head update always comes first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from promoguard.cases.errors import CaseError

DEFAULT_URL = "sqlite:///promoguard.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``$PROMOGUARD_DB``, else the default SQLite file."""
    chosen = url or os.environ.get("PROMOGUARD_DB") or DEFAULT_URL
    try:
        parsed = make_url(chosen)
    except ArgumentError as exc:
        raise CaseError(f"not a database URL: {chosen!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif not parsed.drivername.startswith(("sqlite", "postgresql")):
        raise CaseError(f"the case database is SQLite or PostgreSQL, not {parsed.drivername}")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA busy_timeout = 30000")
    # WAL: readers never block the writer, and a commit is one append instead of two syncs
    cur.execute("PRAGMA journal_mode = WAL")
    # 128 MB page cache (taken only as used): opening a city's cases inserts 600k random
    # SHA-256 keys, which with the default 2 MB cache go back and forth to disk
    cur.execute("PRAGMA cache_size = -131072")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    resolved = resolve_url(url)
    if resolved.startswith("sqlite"):
        path = make_url(resolved).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(resolved, pool_pre_ping=True)
    event.listen(engine, "connect", _postgresql_utc)
    return engine


def _postgresql_utc(dbapi_con: Any, _record: Any) -> None:
    """Every session in UTC: a naive bound time (a day filter) is read as UTC, and times come
    back in UTC as on SQLite, whatever zone the server was initialised with. Committed, so the
    pool's rollback on return does not undo it."""
    cur = dbapi_con.cursor()
    cur.execute("SET TIME ZONE 'UTC'")
    cur.close()
    dbapi_con.commit()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``, the newest by default (creates every table on an
    empty database)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass
class CaseDB:
    """An opened case database: ``with db.session() as s: ...`` commits on success."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def open_db(url: str | None = None, *, upgrade: bool = True, create: bool = True) -> CaseDB:
    """Open the case database at ``url`` (see :func:`resolve_url`), migrating it when behind.

    ``create=False``: a SQLite file that is not there is an error, not a new empty database (a
    mistyped ``--db`` had made one, in folders of its own, and ``audit verify`` passed on it).
    """
    if not create:
        resolved = resolve_url(url)
        path = make_url(resolved).database if resolved.startswith("sqlite") else None
        if path and path != ":memory:" and not Path(path).exists():
            raise CaseError(
                f"no case database at {path} (`promoguard cases open` makes it; check --db or "
                "$PROMOGUARD_DB)"
            )
    engine = make_engine(url)
    if upgrade:
        try:
            behind = current_revision(engine) != head_revision()
        except Exception as exc:  # a server that is down, a path that cannot be opened
            engine.dispose()
            raise CaseError(f"cannot open the case database {engine.url!r}: {exc}") from exc
        if behind:
            migrate(engine)
    return CaseDB(
        engine.url.render_as_string(hide_password=True),
        engine,
        sessionmaker(engine, expire_on_commit=False),
    )


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
