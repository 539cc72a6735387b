"""Continuations: what a Celery canvas does once a stepline execution ends (ADR 0020).

``stepline.run_execution`` starts an execution and stores the rest of its chain here,
keyed by the execution; the ``stepline.housekeeping.send_continuations`` job sends it with the
execution's output once the execution has ended, deleting the row in the transaction
that sends it (at-least-once: a crash before the commit sends it again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from engine._store.db import is_sqlite, writing
from engine._store.tables import ContinuationRow, ExecutionRow

Json = Any
CONTINUATIONS = ContinuationRow.__table__  # type: ignore[attr-defined]
EXECUTIONS = ExecutionRow.__table__  # type: ignore[attr-defined]


def put_continuation(engine: Engine, execution_arn: str, signatures: Json, now: datetime) -> None:
    """Store (or keep: a redelivered start stores it again) the continuation of an execution."""
    insert = sqlite.insert if is_sqlite(engine) else postgresql.insert
    statement = insert(CONTINUATIONS).values(
        execution_arn=execution_arn, signatures=signatures, created_at=now
    )
    with writing(engine) as db:
        db.execute(statement.on_conflict_do_nothing(index_elements=["execution_arn"]))


def pending_continuations(engine: Engine, limit: int = 500) -> list[tuple[str, Json]]:
    """``(execution_arn, signatures)`` of stored continuations, oldest first."""
    query = (
        select(CONTINUATIONS.c.execution_arn, CONTINUATIONS.c.signatures)
        .order_by(CONTINUATIONS.c.created_at)
        .limit(limit)
    )
    with engine.connect() as db:
        return [(row[0], row[1]) for row in db.execute(query)]


def ended_continuations(engine: Engine, limit: int = 500) -> list[str]:
    """The ARNs of executions that have a continuation and are no longer RUNNING.

    Filtered in SQL, so the beat job's cost follows the executions that ended, not the
    canvases still waiting.
    """
    executions = EXECUTIONS.c
    query = (
        select(CONTINUATIONS.c.execution_arn)
        .join(EXECUTIONS, executions.arn == CONTINUATIONS.c.execution_arn, isouter=True)
        .where((executions.status.is_(None)) | (executions.status != "RUNNING"))
        .order_by(CONTINUATIONS.c.created_at)
        .limit(limit)
    )
    with engine.connect() as db:
        return [row[0] for row in db.execute(query)]


def take_continuation(engine: Engine, execution_arn: str, send: Callable[[Json], None]) -> bool:
    """Delete the continuation of ``execution_arn`` and ``send`` it, in one transaction.

    Returns False when another process took it first. When ``send`` raises, the row stays
    (the next run sends it).
    """
    with writing(engine) as db:
        statement = delete(CONTINUATIONS).where(CONTINUATIONS.c.execution_arn == execution_arn)
        found = db.execute(statement.returning(CONTINUATIONS.c.signatures)).first()
        if found is None:
            return False
        send(found[0])
        return True
