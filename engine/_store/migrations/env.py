"""Alembic environment: run by `engine._store.migrate`, on the connection it provides."""

from __future__ import annotations

from alembic import context

from engine._store.migrate import migration_options

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "stepline's migrations run through engine._store.migrate (e.g. `stepline db upgrade`), "
        "which provides the connection; the alembic command line is not configured for them"
    )
context.configure(connection=connection, **migration_options(connection))
with context.begin_transaction():
    context.run_migrations()
