"""State machine aliases, resource tags, never-reused version numbers and the alias an
execution was started through.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state_machine_aliases",
        sa.Column("arn", sa.String(length=512), nullable=False),
        sa.Column("machine_arn", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("routing", sa.JSON(), nullable=False),
        sa.Column("creation_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_date", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("arn"),
    )
    op.create_index(
        op.f("ix_state_machine_aliases_machine_arn"),
        "state_machine_aliases",
        ["machine_arn"],
        unique=False,
    )
    op.create_table(
        "resource_tags",
        sa.Column("arn", sa.String(length=512), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("arn"),
    )
    with op.batch_alter_table("state_machines") as batch:
        batch.add_column(
            sa.Column("last_version_number", sa.Integer(), nullable=False, server_default="0")
        )
    # A machine published before this revision numbers on from its highest stored version.
    op.execute(
        "UPDATE state_machines SET last_version_number = COALESCE((SELECT MAX(v.number) "
        "FROM state_machine_versions v WHERE v.machine_arn = state_machines.arn), 0)"
    )
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("alias_arn", sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("alias_arn")
    with op.batch_alter_table("state_machines") as batch:
        batch.drop_column("last_version_number")
    op.drop_table("resource_tags")
    op.drop_index(op.f("ix_state_machine_aliases_machine_arn"), table_name="state_machine_aliases")
    op.drop_table("state_machine_aliases")
