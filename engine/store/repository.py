"""The one writer of the durable store.

Only `Store` opens write transactions; `engine.store.session.StepSession` works inside
one of them and `engine.store.rows` maps rows to records for both.

Every write goes through `Store`: the API's machine and execution records, and the
runtime's `StepSession`, in which one step's checkpoint (execution header and threads),
its history events, its timers, task rows and outbox messages commit in ONE transaction.
Readers (the API) use the plain query methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlmodel import SQLModel

from engine.interpreter.codec import thread_from_parts
from engine.interpreter.history import HistoryEvent
from engine.interpreter.snapshot import Thread, ThreadStatus
from engine.records import ExecutionRecord, MachineRecord
from engine.store.db import is_sqlite, writing
from engine.store.rows import (
    DEFINITIONS,
    EXECUTIONS,
    HISTORY,
    MACHINES,
    OUTBOX,
    TASKS,
    THREADS,
    TIMERS,
    VERSIONS,
    OutboxMessage,
    TaskInvocation,
    count,
    definition_hash,
    execution_record,
    history_event,
    hold_claim,
    invocation,
    machine_record,
    machine_values,
    message,
    put_definition,
    task_key,
    utc,
    utc_required,
    version_values,
)
from engine.store.session import StepSession

Json = Any


class Store:
    """The only module that writes to the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_schema(self) -> None:
        """Create every table (tests and the embedded default; production runs migrations)."""
        SQLModel.metadata.create_all(self.engine)

    # --- state machines ---------------------------------------------------------------

    def save_machine(self, record: MachineRecord) -> None:
        """Insert or replace a machine, its versions and their definitions."""
        with writing(self.engine) as db:
            digest = put_definition(db, record.definition)
            values = machine_values(record, digest)
            if db.execute(select(MACHINES.c.arn).where(MACHINES.c.arn == record.arn)).first():
                db.execute(update(MACHINES).where(MACHINES.c.arn == record.arn).values(values))
            else:
                db.execute(insert(MACHINES).values(values))
            known = set(
                db.scalars(select(VERSIONS.c.arn).where(VERSIONS.c.machine_arn == record.arn))
            )
            for version in record.versions:
                if version.arn not in known:
                    db.execute(insert(VERSIONS).values(version_values(db, record, version)))

    def machine(self, arn: str) -> MachineRecord | None:
        """The machine with ``arn`` (and its versions), or None."""
        with self.engine.connect() as db:
            row = db.execute(select(MACHINES).where(MACHINES.c.arn == arn)).mappings().first()
            if row is None:
                return None
            versions = (
                db.execute(
                    select(VERSIONS)
                    .where(VERSIONS.c.machine_arn == arn)
                    .order_by(VERSIONS.c.number)
                )
                .mappings()
                .all()
            )
            return machine_record(db, row, versions)

    def machines(self) -> list[MachineRecord]:
        """Every machine, oldest first (without version lists)."""
        with self.engine.connect() as db:
            rows = db.execute(select(MACHINES).order_by(MACHINES.c.creation_date)).mappings()
            return [machine_record(db, row, []) for row in rows.all()]

    def delete_machine(self, arn: str) -> None:
        """Delete a machine and its versions (executions stay readable)."""
        with writing(self.engine) as db:
            db.execute(delete(VERSIONS).where(VERSIONS.c.machine_arn == arn))
            db.execute(delete(MACHINES).where(MACHINES.c.arn == arn))

    def definition(self, digest: str) -> str:
        """The definition text stored under ``digest``."""
        with self.engine.connect() as db:
            text = db.scalar(select(DEFINITIONS.c.text).where(DEFINITIONS.c.hash == digest))
        if text is None:
            raise LookupError(f"definition {digest} is not stored")
        return str(text)

    # --- executions: reads ---------------------------------------------------------------

    def execution(self, arn: str) -> ExecutionRecord | None:
        """The execution with ``arn`` (no history), or None."""
        with self.engine.connect() as db:
            row = db.execute(select(EXECUTIONS).where(EXECUTIONS.c.arn == arn)).mappings().first()
        return execution_record(row) if row is not None else None

    def execution_id(self, arn: str) -> int | None:
        """The row id of the execution with ``arn``."""
        with self.engine.connect() as db:
            return db.scalar(select(EXECUTIONS.c.id).where(EXECUTIONS.c.arn == arn))

    def execution_by_id(self, execution_id: int) -> ExecutionRecord | None:
        """The execution with row id ``execution_id``."""
        with self.engine.connect() as db:
            row = (
                db.execute(select(EXECUTIONS).where(EXECUTIONS.c.id == execution_id))
                .mappings()
                .first()
            )
        return execution_record(row) if row is not None else None

    def executions(self, machine_arn: str) -> list[ExecutionRecord]:
        """A machine's executions, newest first."""
        with self.engine.connect() as db:
            rows = (
                db.execute(
                    select(EXECUTIONS)
                    .where(EXECUTIONS.c.machine_arn == machine_arn)
                    .order_by(EXECUTIONS.c.start_date.desc(), EXECUTIONS.c.id.desc())
                )
                .mappings()
                .all()
            )
        return [execution_record(row) for row in rows]

    def history(self, arn: str) -> list[HistoryEvent]:
        """An execution's history, oldest first."""
        with self.engine.connect() as db:
            execution_id = db.scalar(select(EXECUTIONS.c.id).where(EXECUTIONS.c.arn == arn))
            rows = (
                db.execute(
                    select(HISTORY)
                    .where(HISTORY.c.execution_id == execution_id)
                    .order_by(HISTORY.c.event_id)
                )
                .mappings()
                .all()
            )
        return [history_event(row) for row in rows]

    def threads(self, execution_id: int) -> list[Thread]:
        """Every thread of an execution (diagnostics and tests)."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(THREADS.c.snapshot, THREADS.c.bulk).where(
                    THREADS.c.execution_id == execution_id
                )
            ).all()
        return [thread_from_parts(snapshot, bulk) for snapshot, bulk in rows]

    def count_running(self, execution_id: int, parent_id: str) -> int:
        """How many children of ``parent_id`` run right now (MaxConcurrency checks)."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(THREADS.c.thread_id).where(
                    and_(
                        THREADS.c.execution_id == execution_id,
                        THREADS.c.parent_id == parent_id,
                        THREADS.c.status == ThreadStatus.RUNNING.value,
                    )
                )
            ).all()
        return len(rows)

    # --- runtime ------------------------------------------------------------------------

    @contextmanager
    def session(self, execution_id: int | None = None) -> Iterator[StepSession]:
        """One transaction; the execution's row is locked for its duration.

        The session's buffered writes are flushed when the block ends normally, then
        everything commits; an exception rolls everything back.
        """
        with writing(self.engine) as db:
            session = StepSession(db, execution_id, lock=not is_sqlite(self.engine))
            yield session
            session.flush()

    def task(self, execution_id: int, thread_id: str, seq: int) -> TaskInvocation | None:
        """A task row (tests and diagnostics; a worker gets it from its claim)."""
        with self.engine.connect() as db:
            query = select(TASKS).where(task_key(execution_id, thread_id, seq))
            row = db.execute(query).mappings().first()
        return invocation(row) if row is not None else None

    def task_by_token(self, token: str) -> TaskInvocation | None:
        """The task waiting for the callback ``token``."""
        with self.engine.connect() as db:
            row = db.execute(select(TASKS).where(TASKS.c.task_token == token)).mappings().first()
        return invocation(row) if row is not None else None

    def due_outbox(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Unconsumed messages whose lease expired (or that were never published)."""
        with self.engine.connect() as db:
            rows = (
                db.execute(
                    select(OUTBOX)
                    .where(and_(OUTBOX.c.done.is_(False), OUTBOX.c.lease_until <= now))
                    .order_by(OUTBOX.c.lease_until)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        return [message(row) for row in rows]

    def prune_outbox(self, consumed_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` consumed messages whose last lease ended before then.

        A consumed row only keeps a late duplicate of its message from being queued
        again; once old, a duplicate is ignored by its consumer anyway (its seq advanced).
        """
        old = (
            select(OUTBOX.c.id)
            .where(and_(OUTBOX.c.done.is_(True), OUTBOX.c.lease_until < consumed_before))
            .limit(limit)
        )
        with writing(self.engine) as db:
            result = db.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(old.scalar_subquery())))
        return int(result.rowcount or 0)

    def lease(self, ids: list[int], until: datetime, *, sent: bool = True) -> None:
        """Extend the lease of outbox rows (after publishing, or while a handler runs)."""
        if not ids:
            return
        with writing(self.engine) as db:
            values: dict[str, Any] = {"lease_until": until}
            if sent:
                values["sends"] = OUTBOX.c.sends + 1
            db.execute(update(OUTBOX).where(OUTBOX.c.id.in_(ids)).values(values))

    def lease_task(self, execution_id: int, thread_id: str, seq: int, until: datetime) -> None:
        """Renew a running handler's claim on its task and the lease of its message."""
        with writing(self.engine) as db:
            hold_claim(db, execution_id, thread_id, seq, until)

    def due_timers(self, now: datetime, limit: int) -> list[int]:
        """Ids of timers that are due and not fired."""
        with self.engine.connect() as db:
            return list(
                db.scalars(
                    select(TIMERS.c.id)
                    .where(and_(TIMERS.c.fired.is_(False), TIMERS.c.due_at <= now))
                    .order_by(TIMERS.c.due_at)
                    .limit(limit)
                )
            )

    def next_timer_due(self) -> datetime | None:
        """When the earliest unfired timer is due (test drivers jump a fake clock there)."""
        with self.engine.connect() as db:
            due = db.scalar(
                select(TIMERS.c.due_at)
                .where(TIMERS.c.fired.is_(False))
                .order_by(TIMERS.c.due_at)
                .limit(1)
            )
        return utc(due)

    def timer_execution(self, timer_id: int) -> int | None:
        """The execution a timer belongs to."""
        with self.engine.connect() as db:
            return db.scalar(select(TIMERS.c.execution_id).where(TIMERS.c.id == timer_id))

    def counts(self) -> dict[str, int]:
        """Row counts per table (benchmarks and diagnostics)."""
        with self.engine.connect() as db:
            return {
                table.name: int(db.scalar(select(count()).select_from(table)) or 0)
                for table in (EXECUTIONS, THREADS, HISTORY, TIMERS, TASKS, OUTBOX)
            }


__all__ = [
    "OutboxMessage",
    "StepSession",
    "Store",
    "TaskInvocation",
    "definition_hash",
    "utc",
    "utc_required",
]
