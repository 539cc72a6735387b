"""Keep a thread's large values (input, effective input, variables, output) in a column of
their own, rewritten only when one of them changes.

Rows written before this revision keep everything in ``snapshot`` (``bulk`` NULL); the code
reads both forms and splits a row the first time it writes it, so no data is moved.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("bulk", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Merge each split row back into its snapshot first: after the drop it would be lost.
    threads = sa.table(
        "threads",
        sa.column("execution_id"),
        sa.column("thread_id"),
        sa.column("snapshot", sa.JSON),
        sa.column("bulk", sa.JSON),
    )
    bind = op.get_bind()
    split = bind.execute(
        sa.select(
            threads.c.execution_id, threads.c.thread_id, threads.c.snapshot, threads.c.bulk
        ).where(threads.c.bulk.is_not(None))
    )
    for execution_id, thread_id, snapshot, bulk in split.all():
        bind.execute(
            threads.update()
            .where(threads.c.execution_id == execution_id, threads.c.thread_id == thread_id)
            .values(snapshot={**snapshot, **bulk})
        )
    with op.batch_alter_table("threads") as batch:
        batch.drop_column("bulk")
