"""RedriveExecution: how often and when an execution was redriven, and its last clientToken.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as table:
        table.add_column(
            sa.Column("redrive_count", sa.Integer(), nullable=False, server_default="0")
        )
        table.add_column(sa.Column("redrive_date", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("redrive_token", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as table:
        table.drop_column("redrive_token")
        table.drop_column("redrive_date")
        table.drop_column("redrive_count")
