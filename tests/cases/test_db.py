"""The case database: migrations applied on first use, matching the models, on both engines."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from promoguard.cases import CaseError, open_db, resolve_url
from promoguard.cases.db import current_revision, head_revision, table_names
from promoguard.cases.models import Base


def test_first_use_migrates_to_head_and_schema_matches_models(db_url):
    db = open_db(db_url)
    try:
        assert current_revision(db.engine) == head_revision()
        assert {
            "users", "cases", "case_findings", "audit_events", "notices", "rectifications",
            "attachments", "verifications", "evidence_documents",
        } <= set(table_names(db.engine))  # fmt: skip
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        # opening again finds it current and changes nothing
        open_db(db_url).dispose()
    finally:
        db.dispose()


def test_url_from_argument_environment_or_default(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMOGUARD_DB", raising=False)
    assert resolve_url() == "sqlite:///promoguard.db"
    monkeypatch.setenv("PROMOGUARD_DB", f"sqlite:///{tmp_path}/env.db")
    assert resolve_url() == f"sqlite:///{tmp_path}/env.db"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_url("postgresql://u@h/db").startswith("postgresql+psycopg://u@h/db")


@pytest.mark.parametrize("bad", ["not a url", "mysql://u@h/db"])
def test_bad_url_is_one_clear_error(bad):
    with pytest.raises(CaseError):
        resolve_url(bad)


def test_unreachable_server_is_one_clear_error(tmp_path):
    with pytest.raises(CaseError, match="cannot open the case database"):
        open_db(f"postgresql://nobody@/nodb?host={tmp_path}&port=1")
