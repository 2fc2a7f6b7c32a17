"""Upgrading a case database made by an older release: each migration from its predecessor."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from promoguard.cases import open_db
from promoguard.cases.db import MIGRATIONS, current_revision, head_revision, make_engine, migrate

WEB_INDEXES = {
    "case_findings": {
        "ix_web_cf_finding_id",
        "ix_web_cf_check_id",
        "ix_web_cf_severity_id",
        "ix_web_cf_merchant_id",
        "ix_web_cf_platform_id",
        "ix_web_cf_platform_severity_id",
        "ix_web_cf_platform_check_id",
    },
    "cases": {"ix_web_cases_queue_v2"},
}


def _indexes(engine, table: str) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes(table)}


def _downgrade(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_0002_creates_the_web_indexes_on_a_0001_database(db_url):
    engine = make_engine(db_url)
    try:
        migrate(engine, "0001")
        assert current_revision(engine) == "0001"
        for table, names in WEB_INDEXES.items():
            assert not names & _indexes(engine, table)
        with engine.begin() as conn:  # a case of the older release survives the upgrade
            conn.execute(
                text(
                    "INSERT INTO cases (case_id, kind, status, risk_score, priority, score_detail,"
                    " findings_count, opened_at, updated_at, version) VALUES ('C-1', 'merchant',"
                    " 'open', 1.5, 2, '{}', 0, '2026-11-11', '2026-11-11', 1)"
                )
            )
        engine.dispose()
        db = open_db(db_url)  # what a server or a command does on first use
        try:
            assert current_revision(db.engine) == head_revision()
            for table, names in WEB_INDEXES.items():
                assert names <= _indexes(db.engine, table), table
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT case_id FROM cases")).scalar_one() == "C-1"
            _downgrade(db.engine, "0001")
            for table, names in WEB_INDEXES.items():
                assert not names & _indexes(db.engine, table)
        finally:
            db.dispose()
    finally:
        engine.dispose()


def test_0002_keeps_indexes_an_older_web_server_already_made(sqlite_url):
    """Before 0002 the web server created six of these itself; the upgrade must not fail on them."""
    engine = make_engine(sqlite_url)
    try:
        migrate(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text("CREATE INDEX ix_web_cf_check_id ON case_findings (check_code, id)"))
            conn.execute(
                text(
                    "CREATE INDEX ix_web_cases_queue_v2 ON cases (priority, risk_score DESC, case_id)"
                )
            )
        migrate(engine)
        assert current_revision(engine) == head_revision()
        for table, names in WEB_INDEXES.items():
            assert names <= _indexes(engine, table)
    finally:
        engine.dispose()


def test_0003_adds_the_language_setting_and_sessions_keeping_users(db_url):
    engine = make_engine(db_url)
    try:
        migrate(engine, "0002")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (name, role, active, created_at)"
                    " VALUES ('old-analyst', 'analyst', true, '2026-11-11')"
                )
            )
        assert "user_sessions" not in inspect(engine).get_table_names()
        migrate(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        assert "language" in columns
        assert "user_sessions" in inspect(engine).get_table_names()
        with engine.connect() as conn:
            row = conn.execute(text("SELECT name, language FROM users")).one()
        assert tuple(row) == ("old-analyst", None)  # follows the browser until they choose
        _downgrade(engine, "0002")
        assert "user_sessions" not in inspect(engine).get_table_names()
        assert "language" not in {c["name"] for c in inspect(engine).get_columns("users")}
    finally:
        engine.dispose()


def test_0004_adds_when_a_finding_was_detected_and_a_case_database_before_it_still_reads(
    db_url, scanned_store
):
    """Cases opened before 0004 have no detected_at: the web shows the case's opening then."""
    from promoguard.cases import CaseService
    from promoguard.web.data import WebData

    engine = make_engine(db_url)
    try:
        migrate(engine, "0003")
        assert "detected_at" not in {
            c["name"] for c in inspect(engine).get_columns("case_findings")
        }
        migrate(engine)
        assert "detected_at" in {c["name"] for c in inspect(engine).get_columns("case_findings")}
        CaseService(db_url, actor="t").open_from_scan(scanned_store)
        with engine.begin() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM case_findings WHERE detected_at IS NULL")
                ).scalar_one()
                == 0
            )
            conn.execute(text("UPDATE case_findings SET detected_at = NULL"))
        rows, _ = WebData(db_url).findings(None, {}, None, 5)
        assert rows and all(r["detected_at"].endswith("+00:00") for r in rows)
        _downgrade(engine, "0003")
        assert "detected_at" not in {
            c["name"] for c in inspect(engine).get_columns("case_findings")
        }
    finally:
        engine.dispose()
