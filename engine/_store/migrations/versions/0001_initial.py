"""The first schema: machines, versions, definitions, executions, threads, history,
timers, tasks and the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "executions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("arn", sa.String(length=512), nullable=False),
        sa.Column("machine_arn", sa.String(length=256), nullable=False),
        sa.Column("version_arn", sa.String(length=256), nullable=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stop_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("arn", name="uq_executions_arn"),
    )
    op.create_index(
        "ix_executions_machine_start", "executions", ["machine_arn", "start_date"], unique=False
    )
    op.create_index(op.f("ix_executions_status"), "executions", ["status"], unique=False)
    op.create_table(
        "history_events",
        sa.Column(
            "execution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("previous_event_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=32), nullable=False),
        sa.Column("thread_id", sa.String(length=512), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("execution_id", "event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "execution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("thread_id", sa.String(length=512), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=200), nullable=True),
        sa.Column("shadow", sa.String(length=300), nullable=True),
        sa.Column("timer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "execution_id",
            "thread_id",
            "seq",
            "kind",
            name="uq_outbox_execution_id_thread_id_seq_kind",
        ),
    )
    op.create_index("ix_outbox_pending", "outbox", ["done", "lease_until"], unique=False)
    op.create_table(
        "state_machine_versions",
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("machine_arn", sa.String(length=256), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("role_arn", sa.String(length=256), nullable=False),
        sa.Column("creation_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("revision_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("arn"),
        sa.UniqueConstraint(
            "machine_arn", "number", name="uq_state_machine_versions_machine_arn_number"
        ),
    )
    op.create_index(
        op.f("ix_state_machine_versions_machine_arn"),
        "state_machine_versions",
        ["machine_arn"],
        unique=False,
    )
    op.create_table(
        "state_machines",
        sa.Column("arn", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("definition_hash", sa.String(length=64), nullable=False),
        sa.Column("role_arn", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("creation_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("logging_configuration", sa.JSON(), nullable=True),
        sa.Column("tracing_configuration", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("arn"),
    )
    op.create_index(op.f("ix_state_machines_name"), "state_machines", ["name"], unique=False)
    op.create_table(
        "tasks",
        sa.Column(
            "execution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("thread_id", sa.String(length=512), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("resource", sa.String(length=512), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("state_name", sa.String(length=80), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("task_token", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("execution_id", "thread_id", "seq"),
        sa.UniqueConstraint("task_token", name="uq_tasks_task_token"),
    )
    op.create_table(
        "threads",
        sa.Column(
            "execution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("thread_id", sa.String(length=512), nullable=False),
        sa.Column("parent_id", sa.String(length=512), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("execution_id", "thread_id"),
    )
    op.create_index(
        "ix_threads_parent", "threads", ["execution_id", "parent_id", "status"], unique=False
    )
    op.create_table(
        "timers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "execution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("thread_id", sa.String(length=512), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "execution_id",
            "thread_id",
            "seq",
            "kind",
            name="uq_timers_execution_id_thread_id_seq_kind",
        ),
    )
    op.create_index("ix_timers_due", "timers", ["fired", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_timers_due", table_name="timers")
    op.drop_table("timers")
    op.drop_index("ix_threads_parent", table_name="threads")
    op.drop_table("threads")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_state_machines_name"), table_name="state_machines")
    op.drop_table("state_machines")
    op.drop_index(
        op.f("ix_state_machine_versions_machine_arn"), table_name="state_machine_versions"
    )
    op.drop_table("state_machine_versions")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("history_events")
    op.drop_index(op.f("ix_executions_status"), table_name="executions")
    op.drop_index("ix_executions_machine_start", table_name="executions")
    op.drop_table("executions")
    op.drop_table("definitions")
