"""Row ↔ record mapping and the small value types the store hands out.

Also the few statements `Store` and `StepSession` share (both write through them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from engine._errors import InvalidToken
from engine._interpreter.history import HistoryEvent
from engine._records import (
    AliasRecord,
    ExecutionRecord,
    MachineRecord,
    Page,
    VersionRecord,
    decode_token,
    encode_token,
)
from engine._store.checkpoint import header_with_input
from engine._store.kinds import MessageKind, TaskStatus
from engine._store.prepared import Prepared
from engine._store.tables import (
    AliasRow,
    DefinitionRow,
    ExecutionRow,
    HistoryRow,
    MachineRow,
    OutboxRow,
    TagsRow,
    TaskRow,
    ThreadRow,
    TimerRow,
    VersionRow,
)

Json = Any
T = TypeVar("T")
DEFINITIONS = DefinitionRow.__table__  # type: ignore[attr-defined]
MACHINES = MachineRow.__table__  # type: ignore[attr-defined]
VERSIONS = VersionRow.__table__  # type: ignore[attr-defined]
ALIASES = AliasRow.__table__  # type: ignore[attr-defined]
TAGS = TagsRow.__table__  # type: ignore[attr-defined]
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
    kind: MessageKind
    queue: str | None = None
    shadow: str | None = None
    timer_id: int | None = None  # set on timer messages sent before timers had keys
    available_at: datetime | None = None
    timer_kind: str | None = None  # a timer message: the timer is (ids above, this kind)
    # For operators only (Flower's task list): not part of the message's identity.
    execution_arn: str | None = field(default=None, compare=False)

    @property
    def timer(self) -> TimerKey | int | None:
        """The timer a timer message fires: its key, or (older messages) its row id."""
        if self.timer_kind is not None:
            return TimerKey(self.execution_id, self.thread_id, self.seq, self.timer_kind)
        return self.timer_id


@dataclass(frozen=True)
class TimerKey:
    """A timer's address: one timer per (execution, thread, seq, kind)."""

    execution_id: int
    thread_id: str
    seq: int
    kind: str


def timer_address(*address: Any) -> TimerKey | int:
    """The timer a timer message's arguments name: ``(execution, thread, seq, kind)`` or an id.

    Raises:
        ValueError: the arguments are neither.
    """
    if len(address) == 4:
        execution_id, thread_id, seq, kind = address
        return TimerKey(int(execution_id), str(thread_id), int(seq), str(kind))
    if len(address) == 1 and isinstance(address[0], int):
        return address[0]
    raise ValueError(
        f"timer message: expected (execution_id, thread_id, seq, kind) or a timer id, "
        f"got {address!r}"
    )


@dataclass(frozen=True)
class TimerRecord:
    """A timer row: a Wait, a retry backoff, a task deadline, the execution timeout."""

    key: TimerKey
    due_at: datetime
    fired: bool
    id: int | None = None


@dataclass(frozen=True)
class CreatedExecution:
    """What inserting an execution found: a new row, or the same start made before.

    Attributes:
        execution_id: the row id (the new one, or the existing execution's).
        record: the stored execution (for an existing one, its own start date).
        created: False when the same name and input started it before: the caller
            answers with ``record`` and writes nothing.
    """

    execution_id: int
    record: ExecutionRecord
    created: bool


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
    status: TaskStatus
    claimed_until: datetime | None = None
    execution_arn: str = ""  # filled in when the task is claimed (the handler's context)
    test_case: str | None = None  # likewise: the execution's mock config test case


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
    status: TaskStatus | None = None,
) -> None:
    """Keep a task claimed, and its message's lease alive, until ``until``."""
    for statement, parameters in claim_writes(execution_id, thread_id, seq, until, status):
        statement.execute(db, parameters)


def hold_task_message_write(
    execution_id: int | None, thread_id: str, seq: int, until: datetime
) -> tuple[Any, dict[str, Any]]:
    """The statement that keeps a task's message leased until ``until`` (and no longer)."""
    key = {"p_execution_id": execution_id, "p_thread_id": thread_id, "p_seq": seq}
    return _HOLD_MESSAGE, {**key, "p_until": until}


def claim_writes(
    execution_id: int | None,
    thread_id: str,
    seq: int,
    until: datetime,
    status: TaskStatus | None = None,
) -> list[tuple[Any, dict[str, Any]]]:
    """The statements of :func:`hold_claim` (a step session buffers them)."""
    key = {"p_execution_id": execution_id, "p_thread_id": thread_id, "p_seq": seq}
    task = {**key, "p_until": until}
    if status is not None:
        return [(_CLAIM_TASK, {**task, "p_status": status.value}), (_HOLD_MESSAGE, task)]
    return [(_HOLD_TASK, task), (_HOLD_MESSAGE, task)]


_TASK_KEY = and_(
    TASKS.c.execution_id == bindparam("p_execution_id"),
    TASKS.c.thread_id == bindparam("p_thread_id"),
    TASKS.c.seq == bindparam("p_seq"),
)
_HOLD_TASK_STATEMENT = update(TASKS).where(_TASK_KEY).values(claimed_until=bindparam("p_until"))
_HOLD_TASK = Prepared(_HOLD_TASK_STATEMENT)
_CLAIM_TASK = Prepared(_HOLD_TASK_STATEMENT.values(status=bindparam("p_status")))
_HOLD_MESSAGE = Prepared(
    update(OUTBOX)
    .where(
        and_(
            OUTBOX.c.execution_id == bindparam("p_execution_id"),
            OUTBOX.c.thread_id == bindparam("p_thread_id"),
            OUTBOX.c.seq == bindparam("p_seq"),
            OUTBOX.c.kind == MessageKind.TASK.value,
        )
    )
    .values(lease_until=bindparam("p_until"))
)


# --- row mapping -----------------------------------------------------------------------


def count() -> Any:
    """SQL ``count(*)``."""
    from sqlalchemy import func

    return func.count()


def upsert(
    db: Connection,
    table: Any,
    keys: list[str],
    values: dict[str, Any],
    changed: dict[str, Any] | None = None,
) -> Any:
    """``INSERT … ON CONFLICT (keys)``: update ``changed`` columns, or do nothing."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values)
    if changed:
        return statement.on_conflict_do_update(index_elements=keys, set_=changed)
    return statement.on_conflict_do_nothing(index_elements=keys)


def put_definition(db: Connection, text: str) -> str:
    """Store a definition text once; returns its hash (inside the caller's transaction)."""
    digest = definition_hash(text)
    db.execute(upsert(db, DEFINITIONS, ["hash"], {"hash": digest, "text": text}))
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
        "last_version_number": record.latest_version,
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


# The latest version number rides along with a machine: the next one is numbered from it.
_LATEST_VERSION = (
    select(func.coalesce(func.max(VERSIONS.c.number), 0))
    .where(VERSIONS.c.machine_arn == MACHINES.c.arn)
    .scalar_subquery()
    .label("latest_version")
)
MACHINES_LISTED = (
    select(MACHINES, DEFINITIONS.c.text.label("definition"), _LATEST_VERSION)
    .join(DEFINITIONS, DEFINITIONS.c.hash == MACHINES.c.definition_hash)
    .order_by(MACHINES.c.creation_date, MACHINES.c.arn)
)
MACHINE_BY_ARN = MACHINES_LISTED.where(MACHINES.c.arn == bindparam("arn"))
VERSIONS_LISTED = (
    select(VERSIONS, DEFINITIONS.c.text.label("definition"))
    .join(DEFINITIONS, DEFINITIONS.c.hash == VERSIONS.c.definition_hash)
    .order_by(VERSIONS.c.number.desc())
)
VERSION_BY_ARN = VERSIONS_LISTED.where(VERSIONS.c.arn == bindparam("arn"))


def machine_record(row: Any) -> MachineRecord:
    """A row of :data:`MACHINES_LISTED` as a `MachineRecord` (without versions)."""
    return MachineRecord(
        arn=row["arn"],
        name=row["name"],
        definition=row["definition"],
        role_arn=row["role_arn"],
        type=row["type"],
        creation_date=utc_required(row["creation_date"]),
        update_date=utc(row["update_date"]),
        revision_id=row["revision_id"],
        status=row["status"],
        description=row["description"],
        logging_configuration=row["logging_configuration"],
        tracing_configuration=row["tracing_configuration"],
        # A machine stored before revision 0005 counted its versions by the highest stored.
        latest_version=max(int(row["latest_version"]), int(row["last_version_number"] or 0)),
    )


def version_record(row: Any) -> VersionRecord:
    """A row of :data:`VERSIONS_LISTED` as a `VersionRecord`."""
    return VersionRecord(
        arn=row["arn"],
        number=row["number"],
        definition=row["definition"],
        role_arn=row["role_arn"],
        creation_date=utc_required(row["creation_date"]),
        description=row["description"],
        revision_id=row["revision_id"],
    )


def _machine_deletes(arn: Any, *only_if: ColumnElement[bool]) -> tuple[Any, ...]:
    """The statements deleting a machine with its versions, aliases and tags."""
    aliases = select(ALIASES.c.arn).where(ALIASES.c.machine_arn == arn)
    return (
        delete(TAGS).where(TAGS.c.arn.in_(aliases), *only_if),
        delete(ALIASES).where(ALIASES.c.machine_arn == arn, *only_if),
        delete(VERSIONS).where(VERSIONS.c.machine_arn == arn, *only_if),
        delete(TAGS).where(TAGS.c.arn == arn, *only_if),
        delete(MACHINES).where(MACHINES.c.arn == arn, *only_if),
    )


def delete_machine_txn(db: Connection, arn: str) -> None:
    """Delete a machine with its versions, aliases and tags (its executions stay readable)."""
    for statement in _machine_deletes(arn):
        db.execute(statement)


def _purge_if_deleting() -> tuple[Prepared, ...]:
    arn: Any = bindparam("p_machine_arn")
    running = (
        select(EXECUTIONS.c.id)
        .where(and_(EXECUTIONS.c.machine_arn == arn, EXECUTIONS.c.status == "RUNNING"))
        .exists()
    )
    # An alias keeps the subquery independent of the machine row each DELETE removes.
    machines = MACHINES.alias("deleting")
    deleting = (
        select(machines.c.arn)
        .where(and_(machines.c.arn == arn, machines.c.status == "DELETING"))
        .exists()
    )
    return tuple(Prepared(statement) for statement in _machine_deletes(arn, deleting, ~running))


# Run by every execution's end: built and compiled once.
_PURGE_IF_DELETING = _purge_if_deleting()


def purge_if_deleting_txn(db: Connection, machine_arn: str) -> None:
    """Delete a DELETING machine once none of its executions runs any more.

    DeleteStateMachine only marks a machine with running executions; the transaction that
    ends its last one calls this, so the machine goes with that execution's end. Every
    statement is conditional (no read): it runs inside a step's pipelined writes.
    """
    for statement in _PURGE_IF_DELETING:
        statement.execute(db, {"p_machine_arn": machine_arn})


def alias_values(record: AliasRecord) -> dict[str, Any]:
    """Column values of an alias row."""
    return {
        "arn": record.arn,
        "machine_arn": record.machine_arn,
        "name": record.name,
        "description": record.description,
        "routing": record.routing,
        "creation_date": record.creation_date,
        "update_date": record.update_date,
    }


def alias_record(row: Any) -> AliasRecord:
    """An alias row as an `AliasRecord`."""
    return AliasRecord(
        arn=row["arn"],
        machine_arn=row["machine_arn"],
        name=row["name"],
        routing=list(row["routing"]),
        creation_date=utc_required(row["creation_date"]),
        description=row["description"],
        update_date=utc(row["update_date"]),
    )


# --- paging ----------------------------------------------------------------------------


def position(token: str | None, arity: int) -> list[Json] | None:
    """The keyset position of a ``nextToken`` (a list of ``arity`` values), or None.

    Raises:
        InvalidToken: the token is not one this store issued.
    """
    after = decode_token(token)
    if after is None:
        return None
    if not isinstance(after, list) or len(after) != arity:
        raise InvalidToken(f"Invalid Token: nextToken {token!r} is not a token this API issued")
    return after


def parse_moment(text: Json) -> datetime:
    """A datetime a token holds as ISO text.

    Raises:
        InvalidToken: it is not one.
    """
    try:
        return datetime.fromisoformat(str(text))
    except ValueError as exc:
        raise InvalidToken(f"Invalid Token: nextToken holds {text!r}, not a moment") from exc


def every(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    """Every item of a listing, fetched page by page (``fetch(token)`` gives one page)."""
    items: list[T] = []
    token: str | None = None
    while True:
        page = fetch(token)
        items.extend(page.items)
        if page.next_token is None:
            return items
        token = page.next_token


def paged(rows: list[T], size: int, key: Callable[[T], Json]) -> Page[T]:
    """The first ``size`` of ``rows`` (fetched ``size + 1``) and the next page's token."""
    if len(rows) <= size:
        return Page(rows)
    return Page(rows[:size], encode_token(key(rows[size - 1])))


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
        alias_arn=row["alias_arn"],
        test_case=row.get("test_case"),
        redrive_count=row["redrive_count"],
        redrive_date=utc(row["redrive_date"]),
        redrive_token=row["redrive_token"],
        event_count=header.next_event_id - 1,
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


def timer_record(row: Any) -> TimerRecord:
    """A timer row as a `TimerRecord`."""
    key = TimerKey(row["execution_id"], row["thread_id"], row["seq"], row["kind"])
    return TimerRecord(key, utc_required(row["due_at"]), bool(row["fired"]), row["id"])


def message(row: Any) -> OutboxMessage:
    """An outbox row as an `OutboxMessage`."""
    return OutboxMessage(
        id=row["id"],
        execution_id=row["execution_id"],
        thread_id=row["thread_id"],
        seq=row["seq"],
        kind=MessageKind(row["kind"]),
        queue=row["queue"],
        shadow=row["shadow"],
        timer_id=row["timer_id"],
        available_at=utc(row["available_at"]),
        execution_arn=row.get("execution_arn"),
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
        status=TaskStatus(row["status"]),
        claimed_until=utc(row["claimed_until"]),
    )
