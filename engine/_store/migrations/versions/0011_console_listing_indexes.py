"""The console lists every machine's executions newest first, by status, searched by name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

On PostgreSQL the name search (``lower(name) LIKE '%text%'``) gets a trigram index
(``pg_trgm``, shipped with PostgreSQL and a trusted extension since 13): without it a search
that matches little reads every execution row. Where the extension cannot be created, the
index is left out and the search scans (the console still answers, more slowly). Alembic's
comparison skips expression indexes, so the tables do not declare it.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_log = logging.getLogger(__name__)


def upgrade() -> None:
    op.create_index("ix_executions_start", "executions", ["start_date", "id"], unique=False)
    op.create_index(
        "ix_executions_status_start", "executions", ["status", "start_date", "id"], unique=False
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _trigram_index(bind)


def _trigram_index(bind: sa.engine.Connection) -> None:
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            bind.execute(
                sa.text(
                    "CREATE INDEX ix_executions_name_trgm ON executions "
                    "USING gin (lower(name) gin_trgm_ops)"
                )
            )
    except sa.exc.DBAPIError as error:
        _log.warning("no trigram index for the console's name search: %s", error.orig)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_executions_name_trgm")
    op.drop_index("ix_executions_status_start", table_name="executions")
    op.drop_index("ix_executions_start", table_name="executions")
