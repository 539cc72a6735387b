"""Row ↔ record mapping and the small value types the store hands out.

Also the few statements `Store` and `StepSession` share (both write through them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from engine.interpreter.codec import header_with_input
from engine.interpreter.history import HistoryEvent
from engine.records import ExecutionRecord, MachineRecord, VersionRecord
from engine.store.tables import (
    DefinitionRow,
    ExecutionRow,
    HistoryRow,
    MachineRow,
    OutboxRow,
    TaskRow,
    ThreadRow,
    TimerRow,
    VersionRow,
)

Json = Any
DEFINITIONS = DefinitionRow.__table__  # type: ignore[attr-defined]
MACHINES = MachineRow.__table__  # type: ignore[attr-defined]
VERSIONS = VersionRow.__table__  # type: ignore[attr-defined]
EXECUTIONS = ExecutionRow.__table__  # type: ignore[attr-defined]
THREADS = ThreadRow.__table__  # type: ignore[attr-defined]
HISTORY = HistoryRow.__table__  # type: ignore[attr-defined]
TIMERS = TimerRow.__table__  # type: ignore[attr-defined]
TASKS = TaskRow.__table__  # type: ignore[attr-defined]
OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]


def definition_hash(text: str) -> str:
    """The key a definition text is stored under."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime (SQLite hands back naive ones)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_required(moment: datetime) -> datetime:
    """Like :func:`utc` for a column that is never null."""
    result = utc(moment)
    assert result is not None
    return result


@dataclass(frozen=True)
class OutboxMessage:
    """A message to publish: ids only, never payloads."""

    id: int
    execution_id: int
    thread_id: str
    seq: int
    kind: str
    queue: str | None = None
    shadow: str | None = None
    timer_id: int | None = None
    available_at: datetime | None = None


@dataclass(frozen=True)
class TaskInvocation:
    """A pending task as the handler task reads it."""

    execution_id: int
    thread_id: str
    seq: int
    resource: str
    parameters: Json
    state_name: str
    attempt: int
    task_token: str | None
    status: str
    claimed_until: datetime | None = None
    execution_arn: str = ""  # filled in when the task is claimed (the handler's context)


# --- task claims ------------------------------------------------------------------------


def task_key(execution_id: int | None, thread_id: str, seq: int) -> Any:
    """The WHERE clause of one task row."""
    return and_(
        TASKS.c.execution_id == execution_id, TASKS.c.thread_id == thread_id, TASKS.c.seq == seq
    )


def hold_claim(
    db: Connection,
    execution_id: int | None,
    thread_id: str,
    seq: int,
    until: datetime,
    **task_values: Any,
) -> None:
    """Keep a task claimed, and its message's lease alive, until ``until``."""
    key = task_key(execution_id, thread_id, seq)
    db.execute(update(TASKS).where(key).values(claimed_until=until, **task_values))
    message = and_(
        OUTBOX.c.execution_id == execution_id,
        OUTBOX.c.thread_id == thread_id,
        OUTBOX.c.seq == seq,
        OUTBOX.c.kind == "task",
    )
    db.execute(update(OUTBOX).where(message).values(lease_until=until))


# --- row mapping -----------------------------------------------------------------------


def new_id(result: Any) -> int:
    """The primary key an INSERT generated."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def count() -> Any:
    """SQL ``count(*)``."""
    from sqlalchemy import func

    return func.count()


def put_definition(db: Connection, text: str) -> str:
    """Store a definition text once; returns its hash (inside the caller's transaction)."""
    digest = definition_hash(text)
    if db.scalar(select(DEFINITIONS.c.hash).where(DEFINITIONS.c.hash == digest)) is None:
        db.execute(insert(DEFINITIONS).values(hash=digest, text=text))
    return digest


def text_of(db: Connection, digest: str) -> str:
    """The definition text stored under ``digest``."""
    return str(db.scalar(select(DEFINITIONS.c.text).where(DEFINITIONS.c.hash == digest)))


def machine_values(record: MachineRecord, digest: str) -> dict[str, Any]:
    """Column values of a machine row."""
    return {
        "arn": record.arn,
        "name": record.name,
        "type": record.type,
        "definition_hash": digest,
        "role_arn": record.role_arn,
        "status": record.status,
        "creation_date": record.creation_date,
        "update_date": record.update_date,
        "revision_id": record.revision_id,
        "description": record.description,
        "logging_configuration": record.logging_configuration,
        "tracing_configuration": record.tracing_configuration,
    }


def version_values(db: Connection, record: MachineRecord, version: VersionRecord) -> dict[str, Any]:
    """Column values of a version row (storing its definition)."""
    return {
        "arn": version.arn,
        "machine_arn": record.arn,
        "number": version.number,
        "definition_hash": put_definition(db, version.definition),
        "role_arn": version.role_arn,
        "creation_date": version.creation_date,
        "description": version.description,
        "revision_id": version.revision_id,
    }


def machine_record(db: Connection, row: Any, versions: Any) -> MachineRecord:
    """A machine row (and its version rows) as a `MachineRecord`."""
    return MachineRecord(
        arn=row["arn"],
        name=row["name"],
        definition=text_of(db, row["definition_hash"]),
        role_arn=row["role_arn"],
        type=row["type"],
        creation_date=utc_required(row["creation_date"]),
        update_date=utc(row["update_date"]),
        revision_id=row["revision_id"],
        status=row["status"],
        description=row["description"],
        logging_configuration=row["logging_configuration"],
        tracing_configuration=row["tracing_configuration"],
        versions=[
            VersionRecord(
                arn=v["arn"],
                number=v["number"],
                definition=text_of(db, v["definition_hash"]),
                role_arn=v["role_arn"],
                creation_date=utc_required(v["creation_date"]),
                description=v["description"],
                revision_id=v["revision_id"],
            )
            for v in versions
        ],
    )


def execution_record(row: Any) -> ExecutionRecord:
    """An execution row as an `ExecutionRecord` (no history)."""
    header = header_with_input(row["header"], row["input"])
    return ExecutionRecord(
        arn=row["arn"],
        machine_arn=row["machine_arn"],
        name=row["name"],
        type=row["type"],
        status=row["status"],
        start_date=utc_required(row["start_date"]),
        input=header.input,
        stop_date=utc(row["stop_date"]),
        output=header.output,
        error=header.error,
        cause=header.cause,
        version_arn=row["version_arn"],
    )


def history_event(row: Any) -> HistoryEvent:
    """A history row as a `HistoryEvent`."""
    return HistoryEvent(
        id=row["event_id"],
        previous_event_id=row["previous_event_id"],
        type=row["type"],
        timestamp=row["timestamp"],
        details=row["details"],
        thread_id=row["thread_id"],
    )


def message(row: Any) -> OutboxMessage:
    """An outbox row as an `OutboxMessage`."""
    return OutboxMessage(
        id=row["id"],
        execution_id=row["execution_id"],
        thread_id=row["thread_id"],
        seq=row["seq"],
        kind=row["kind"],
        queue=row["queue"],
        shadow=row["shadow"],
        timer_id=row["timer_id"],
        available_at=utc(row["available_at"]),
    )


def invocation(row: Any) -> TaskInvocation:
    """A task row as a `TaskInvocation`."""
    return TaskInvocation(
        execution_id=row["execution_id"],
        thread_id=row["thread_id"],
        seq=row["seq"],
        resource=row["resource"],
        parameters=row["parameters"],
        state_name=row["state_name"],
        attempt=row["attempt"],
        task_token=row["task_token"],
        status=row["status"],
        claimed_until=utc(row["claimed_until"]),
    )
