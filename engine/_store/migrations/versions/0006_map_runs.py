"""Map Runs of Distributed Maps (ListMapRuns, DescribeMapRun).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "map_runs",
        sa.Column("arn", sa.String(length=700), nullable=False),
        sa.Column("execution_id", BIG_ID, nullable=False),
        sa.Column("thread_id", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("tolerated_failure_count", sa.Integer(), nullable=False),
        sa.Column("tolerated_failure_percentage", sa.Float(), nullable=False),
        sa.Column("execution_counts", sa.JSON(), nullable=False),
        sa.Column("item_counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("arn"),
    )
    op.create_index("ix_map_runs_execution", "map_runs", ["execution_id", "start_date"])


def downgrade() -> None:
    op.drop_index("ix_map_runs_execution", table_name="map_runs")
    op.drop_table("map_runs")
