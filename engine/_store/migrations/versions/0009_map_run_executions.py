"""Distributed Map child executions (ListExecutions by mapRunArn, ADR 0034).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "map_run_executions",
        sa.Column("arn", sa.String(length=800), nullable=False),
        sa.Column("map_run_arn", sa.String(length=700), nullable=False),
        sa.Column("execution_id", BIG_ID, nullable=False),
        sa.Column("child_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("input", sa.JSON(), nullable=True),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("redrive_count", sa.Integer(), nullable=False),
        sa.Column("redrive_date", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("arn"),
    )
    op.create_index(
        "ix_map_run_executions_run", "map_run_executions", ["map_run_arn", "child_index"]
    )


def downgrade() -> None:
    op.drop_index("ix_map_run_executions_run", table_name="map_run_executions")
    op.drop_table("map_run_executions")
