"""The event-driven architecture: worker announcements, queues and their messages, topics
and subscriptions, event bus rules, activities and child executions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _moment(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("handlers", sa.JSON(), nullable=False),
        sa.Column("integrations", sa.JSON(), nullable=False),
        _moment("started_at"),
        _moment("seen_at"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "queues",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=True),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "queue_messages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("task_token", sa.String(length=128), nullable=True),
        _moment("sent_at"),
        _moment("visible_at"),
        sa.Column("receive_count", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.String(length=64), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(
        "ix_queue_messages_visible", "queue_messages", ["queue", "deleted", "visible_at"]
    )
    op.create_table(
        "topics",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("arn", sa.String(length=512), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("arn"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("arn", sa.String(length=512), nullable=False),
        sa.Column("topic", sa.String(length=256), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=512), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=True),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("arn"),
        sa.UniqueConstraint("topic", "endpoint"),
    )
    op.create_table(
        "event_rules",
        sa.Column("bus", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("arn", sa.String(length=512), nullable=False),
        sa.Column("pattern", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("bus", "name"),
        sa.UniqueConstraint("arn"),
    )
    op.create_table(
        "activities",
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        _moment("creation_date"),
        sa.PrimaryKeyConstraint("arn"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "child_executions",
        sa.Column("child_arn", sa.String(length=512), nullable=False),
        sa.Column("parent_execution_id", BIG_ID, nullable=False),
        sa.Column("parent_thread_id", sa.String(length=512), nullable=False),
        sa.Column("parent_seq", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("child_arn"),
    )
    op.create_index("ix_child_executions_parent", "child_executions", ["parent_execution_id"])
    op.create_index("ix_tasks_resource_status", "tasks", ["resource", "status"])
    op.create_table(
        "continuations",
        sa.Column("execution_arn", sa.String(length=512), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("execution_arn"),
    )
    op.create_table(
        "event_buses",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("arn", sa.String(length=512), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _moment("created_at"),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("arn"),
    )


def downgrade() -> None:
    op.drop_table("event_buses")
    op.drop_index("ix_tasks_resource_status", table_name="tasks")
    op.drop_table("continuations")
    op.drop_index("ix_child_executions_parent", table_name="child_executions")
    op.drop_table("child_executions")
    op.drop_table("activities")
    op.drop_table("event_rules")
    op.drop_table("subscriptions")
    op.drop_table("topics")
    op.drop_index("ix_queue_messages_visible", table_name="queue_messages")
    op.drop_table("queue_messages")
    op.drop_table("queues")
    op.drop_table("workers")
