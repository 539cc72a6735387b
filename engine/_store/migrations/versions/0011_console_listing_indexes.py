"""The console lists every machine's executions newest first, filtered by status.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_executions_start", "executions", ["start_date", "id"], unique=False)
    op.create_index(
        "ix_executions_status_start", "executions", ["status", "start_date", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_executions_status_start", table_name="executions")
    op.drop_index("ix_executions_start", table_name="executions")
