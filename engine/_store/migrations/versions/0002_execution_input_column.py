"""Keep the execution input in a column of its own, out of the per-step header update.

Executions started before this revision keep the input inside ``header`` (the code reads
either form), so no data is moved.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("input", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Put each input back into its header first: after the drop it would exist nowhere.
    executions = sa.table(
        "executions", sa.column("id"), sa.column("header", sa.JSON), sa.column("input", sa.JSON)
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(executions.c.id, executions.c.header, executions.c.input))
    for row_id, header, execution_input in rows.all():
        if "input" not in header:
            bind.execute(
                executions.update()
                .where(executions.c.id == row_id)
                .values(header={**header, "input": execution_input})
            )
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("input")
