"""Worker announcements: which queues each worker consumes and what it can run.

A worker announces itself when it starts and refreshes ``seen_at`` while it lives. The
runtime reads the announced handler names to route a Lambda-style Task: to its handler's
queue when some worker serves it (alive or not: its message waits there, visibly, until
one is back), and otherwise to the integrations queue, whose consumer fails the task at
once with ``Lambda.ResourceNotFoundException``, as AWS does for a function that does not
exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from engine._store.db import is_sqlite, writing
from engine._store.rows import utc_required
from engine._store.tables import WorkerRow

WORKERS = WorkerRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Announcement:
    """What one worker serves.

    Attributes:
        name: the worker's node name (``celery@host``).
        queues: the queues it consumes.
        handlers: the Lambda-style handler names it registered.
        integrations: the ``service:action`` integrations it registered.
        seen_at: when it last said it was alive.
    """

    name: str
    queues: tuple[str, ...]
    handlers: tuple[str, ...]
    integrations: tuple[str, ...]
    seen_at: datetime


def announce(
    engine: Engine,
    name: str,
    queues: Iterable[str],
    handlers: Iterable[str],
    integrations: Iterable[str],
    now: datetime,
) -> None:
    """Insert or refresh the announcement of worker ``name``."""
    values = {
        "name": name,
        "queues": sorted(set(queues)),
        "handlers": sorted(set(handlers)),
        "integrations": sorted(set(integrations)),
        "started_at": now,
        "seen_at": now,
    }
    insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    statement = insert(WORKERS).values(values)
    refreshed = {key: statement.excluded[key] for key in values if key != "started_at"}
    with writing(engine) as db:
        db.execute(statement.on_conflict_do_update(index_elements=["name"], set_=refreshed))


def announcements(engine: Engine) -> list[Announcement]:
    """Every worker that ever announced itself, most recently seen first."""
    with engine.connect() as db:
        rows = db.execute(select(WORKERS).order_by(WORKERS.c.seen_at.desc())).mappings().all()
    return [
        Announcement(
            row["name"],
            tuple(row["queues"]),
            tuple(row["handlers"]),
            tuple(row["integrations"]),
            utc_required(row["seen_at"]),
        )
        for row in rows
    ]
