"""Schema migrations (Alembic), run programmatically: ``stepline db upgrade``.

No ``alembic.ini`` is needed: the configuration is built here and the migration scripts
ship inside the package (``engine/_store/migrations``). Every function takes the store's
URL, as ``STEPLINE_DATABASE_URL`` gives it.

To change a table: edit ``engine/_store/tables.py``, migrate a scratch database to head
and write the revision with :func:`new_revision`, then review it by hand. The schema
drift test (``tests/store/test_migrations.py``) fails until the revision exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import engine._store.tables  # noqa: F401  (registers the tables on the metadata)
from engine._store.db import make_engine, writing

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant shared by every migrator of one PostgreSQL database: concurrent upgrades
# (a release job and a starting worker) queue on it instead of racing to create tables.
_LOCK_KEY = int.from_bytes(b"Stepline", "big")  # fits PostgreSQL's signed bigint


def migration_options(connection: Connection) -> dict[str, Any]:
    """How Alembic compares and alters this database (shared by env.py and :func:`drift`)."""
    return {
        "target_metadata": SQLModel.metadata,
        # SQLite alters a table by copying it: Alembic's batch mode does that.
        "render_as_batch": connection.dialect.name == "sqlite",
        "compare_type": True,
        "compare_server_default": True,
        "render_item": _render_item,
        "include_object": _compared,
    }


POSTGRES_ONLY_INDEXES = frozenset({"ix_executions_name_trgm"})
"""Indexes a migration makes on PostgreSQL only, which the tables cannot declare (0011)."""


def _compared(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
    return not (kind == "index" and name in POSTGRES_ONLY_INDEXES)


def _render_item(kind: str, item: Any, _context: Any) -> str | Literal[False]:
    # Revisions use plain SQLAlchemy types: SQLModel's AutoString is a String to the database.
    if kind == "type" and isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    return False


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (the latest by default).

    Runs in one transaction, serialised against other migrators of the same database
    (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so a second concurrent
    ``upgrade`` waits and then finds nothing left to do.
    """
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` back to ``revision`` (``"base"``: no tables)."""
    _run(url, lambda config: command.downgrade(config, revision))


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at (None before the first migration)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head(scripts: Path = MIGRATIONS) -> str | None:
    """The latest revision in ``scripts`` (the package's migrations by default)."""
    return ScriptDirectory.from_config(_config(scripts=scripts)).get_current_head()


def check(url: str) -> bool:
    """Whether the database at ``url`` is at the latest revision."""
    return current(url) == head()


def drift(url: str) -> list[Any]:
    """Alembic's differences between the database at ``url`` and the tables (empty: none)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=migration_options(connection))
            return list(compare_metadata(context, SQLModel.metadata))
    finally:
        engine.dispose()


def new_revision(url: str, message: str, *, scripts: Path = MIGRATIONS) -> Path:
    """Write a revision for what the tables add to the database at ``url`` (which is at head).

    Revisions are numbered ``0001``, ``0002``...; returns the new file, to review by hand.
    """
    number = int(head(scripts) or 0) + 1
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            config = _config(connection, scripts)
            script = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
    finally:
        engine.dispose()
    assert isinstance(script, Script)  # one revision, as asked
    return Path(script.path)


def _run(url: str, operation: Callable[[Config], object]) -> None:
    engine = make_engine(url)
    try:
        with writing(engine) as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            operation(_config(connection))
    finally:
        engine.dispose()


def _config(connection: Connection | None = None, scripts: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.attributes["connection"] = connection
    return config
