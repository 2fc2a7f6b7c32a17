"""The web tier's indexes: a finding by id, newest-first paging per filter and per tenant.

Before this migration the web server created the first six itself at start-up (``CREATE INDEX IF
NOT EXISTS``); a database it served already has them, so they are created only where missing.
The two ``platform_*`` ones are new: a platform officer filtering by severity or check walked the
severity (or check) index newest first past every other platform's findings (315 ms on the
city-scale database when the newest 120,000 findings belonged to another platform; 2 ms with them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: (name, table, columns): columns are names, or SQL text for a descending key.
INDEXES: tuple[tuple[str, str, list], ...] = (
    ("ix_web_cf_finding_id", "case_findings", ["finding_id"]),
    ("ix_web_cf_check_id", "case_findings", ["check_code", "id"]),
    ("ix_web_cf_severity_id", "case_findings", ["severity", "id"]),
    ("ix_web_cf_merchant_id", "case_findings", ["merchant_id", "id"]),
    ("ix_web_cf_platform_id", "case_findings", ["platform_id", "id"]),
    ("ix_web_cf_platform_severity_id", "case_findings", ["platform_id", "severity", "id"]),
    ("ix_web_cf_platform_check_id", "case_findings", ["platform_id", "check_code", "id"]),
    ("ix_web_cases_queue_v2", "cases", ["priority", sa.text("risk_score DESC"), "case_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False, if_not_exists=True)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
