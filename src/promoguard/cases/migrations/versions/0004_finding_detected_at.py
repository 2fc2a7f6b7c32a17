"""When a case's finding was detected: the store's ``detected_at`` of the scan that first found
it (the REST findings had shown the case's opening time under that name).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detected_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_findings", schema=None) as batch_op:
        batch_op.drop_column("detected_at")
