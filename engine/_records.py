"""What the API stores about state machines and executions, whatever the backend.

The local backend keeps these in memory; the durable backend maps them to SQL rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from engine._asl.model import StateMachine
from engine._errors import ExecutionAlreadyExists, InvalidToken, ValidationException
from engine._interpreter.decisions import RecordChildExecution, RecordMapRun
from engine._interpreter.history import HistoryEvent
from engine._interpreter.snapshot import Execution, ExecutionStatus
from engine._interpreter.turn import iso_timestamp

Json = Any
T = TypeVar("T")


@dataclass
class VersionRecord:
    """A published, immutable version of a state machine."""

    arn: str
    number: int
    definition: str
    role_arn: str
    creation_date: datetime
    description: str | None = None
    revision_id: str | None = None


@dataclass
class MachineRecord:
    """A state machine: its latest revision plus its published versions."""

    arn: str
    name: str
    definition: str
    role_arn: str
    type: str
    creation_date: datetime
    update_date: datetime | None = None
    revision_id: str = ""
    status: str = "ACTIVE"
    description: str | None = None
    logging_configuration: Json = None
    tracing_configuration: Json = None
    # Versions published in memory and not yet saved; a stored machine is read without its
    # versions (``latest_version`` numbers the next one; versions are read one by one).
    versions: list[VersionRecord] = field(default_factory=list)
    latest_version: int = 0


@dataclass
class AliasRecord:
    """A state machine alias: routes each start to one of one or two versions by weight.

    ``routing`` is AWS's routingConfiguration: ``[{"stateMachineVersionArn", "weight"}]``.
    """

    arn: str
    machine_arn: str
    name: str
    routing: list[dict[str, Json]]
    creation_date: datetime
    description: str | None = None
    update_date: datetime | None = None


@dataclass
class ExecutionRecord:
    """An execution as DescribeExecution reports it, with its history."""

    arn: str
    machine_arn: str
    name: str
    type: str
    status: str
    start_date: datetime
    input: Json
    stop_date: datetime | None = None
    output: Json = None
    error: str | None = None
    cause: str | None = None
    version_arn: str | None = None
    alias_arn: str | None = None
    history: list[HistoryEvent] = field(default_factory=list)
    test_case: str | None = None  # the mock config test case it runs (``ARN#CASE``)
    redrive_count: int = 0
    redrive_date: datetime | None = None
    # The clientToken of the last redrive, which a repeated call may reuse (idempotency).
    redrive_token: str | None = None
    event_count: int = 0  # events in the history (AWS refuses a redrive near the limit)


@dataclass(frozen=True)
class ExecutionSummary:
    """An execution as a listing shows it: no input, output or checkpoint (the console)."""

    arn: str
    machine_arn: str
    name: str
    status: str
    start_date: datetime
    stop_date: datetime | None = None
    redrive_count: int = 0


@dataclass(frozen=True)
class ExecutionQuery:
    """Which executions a console listing shows, newest first.

    Attributes:
        machine_arn: only this state machine's (None: every machine's).
        status: only executions in this status.
        name: only executions whose name contains this text (case-insensitive).
    """

    machine_arn: str | None = None
    status: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class MapRunRecord:
    """A Distributed Map's Map Run as DescribeMapRun reports it."""

    arn: str
    execution_arn: str
    thread_id: str
    status: str
    start_date: datetime
    stop_date: datetime | None
    max_concurrency: int
    tolerated_failure_count: int
    tolerated_failure_percentage: float
    execution_counts: dict[str, int]
    item_counts: dict[str, int]


def map_run_record(
    execution_arn: str, progress: RecordMapRun, previous: MapRunRecord | None
) -> MapRunRecord:
    """The record after ``progress`` (the first recorded start date stays)."""
    return MapRunRecord(
        arn=progress.map_run_arn,
        execution_arn=execution_arn,
        thread_id=progress.thread_id,
        status=progress.status,
        start_date=previous.start_date if previous is not None else progress.start_date,
        stop_date=progress.stop_date,
        max_concurrency=progress.max_concurrency,
        tolerated_failure_count=progress.tolerated_failure_count,
        tolerated_failure_percentage=progress.tolerated_failure_percentage,
        execution_counts=progress.execution_counts,
        item_counts=progress.item_counts,
    )


@dataclass(frozen=True)
class ChildExecutionRecord:
    """A Distributed Map's child execution, as the interpreter last recorded it (ADR 0034).

    ``status`` is RUNNING, SUCCEEDED or FAILED as recorded; readers show a RUNNING child
    of a Map Run that is no longer running as ABORTED.
    """

    arn: str
    map_run_arn: str
    execution_arn: str  # the parent execution
    index: int
    status: str
    start_date: datetime
    input: Json
    item_count: int = 1
    stop_date: datetime | None = None
    output: Json = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    redrive_date: datetime | None = None


def child_execution_record(
    execution_arn: str, change: RecordChildExecution, previous: ChildExecutionRecord | None
) -> ChildExecutionRecord:
    """The child execution after ``change``: its start (input, date) stays; a redrive counts."""
    if previous is None:
        previous = ChildExecutionRecord(
            arn=change.arn,
            map_run_arn=change.map_run_arn,
            execution_arn=execution_arn,
            index=change.index,
            status=change.status,
            start_date=change.at,
            input=change.input,
            item_count=change.item_count,
        )
    if change.status == "RUNNING":
        if not change.redriven:
            return previous
        return replace(
            previous,
            status="RUNNING",
            stop_date=None,
            output=None,
            error=None,
            cause=None,
            redrive_count=previous.redrive_count + 1,
            redrive_date=change.at,
        )
    return replace(
        previous,
        status=change.status,
        stop_date=change.at,
        output=change.output,
        error=change.error,
        cause=change.cause,
    )


@dataclass(frozen=True)
class Compiled:
    """A definition ready to run: its text, its model and the role it runs as."""

    text: str
    machine: StateMachine
    role_arn: str = ""


def execution_header(record: ExecutionRecord, role_arn: str, seed: int) -> Execution:
    """The interpreter's execution header (``$$.Execution``, ``$$.StateMachine``) of ``record``.

    The one conversion both backends use, so the context object cannot differ between them.

    Args:
        record: the execution as the API created it.
        role_arn: the role it runs as -- as on AWS, a version execution's is the version's
            (published with it), not the role the machine was updated to since; the API
            resolves it into `Compiled.role_arn`.
        seed: the execution's random seed (kept in the checkpoint for replays).

    Returns:
        The header of a RUNNING execution that has not emitted any event yet.
    """
    return Execution(
        arn=record.arn,
        name=record.name,
        state_machine_arn=record.version_arn or record.machine_arn,
        # arn:aws:states:REGION:ACCOUNT:stateMachine:NAME -- the name outlives a deleted machine
        state_machine_name=record.machine_arn.split(":")[6],
        role_arn=role_arn,
        start_time=iso_timestamp(record.start_date),
        input=record.input,
        seed=seed,
    )


def restart(existing: ExecutionRecord, requested: ExecutionRecord) -> ExecutionRecord:
    """What StartExecution answers when ``requested``'s name is already taken.

    As on AWS: the same name and input as a running execution return that execution (the
    call is idempotent); anything else is ExecutionAlreadyExists.

    Raises:
        ExecutionAlreadyExists: the execution ended, or ran with another input.
    """
    if existing.status == ExecutionStatus.RUNNING and existing.input == requested.input:
        return existing
    raise ExecutionAlreadyExists(f"Execution Already Exists: '{existing.arn}'")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the opaque token of the next (None on the last page)."""

    items: list[T]
    next_token: str | None = None


def encode_token(position: Json) -> str:
    """An opaque ``nextToken`` for a keyset ``position`` (any JSON value)."""
    text = json.dumps(position, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_token(token: str | None) -> Json:
    """The position :func:`encode_token` wrote (None for no token).

    Raises:
        InvalidToken: the token is not one this API issued.
    """
    if token is None or token == "":
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error, AttributeError) as exc:
        raise InvalidToken(
            f"Invalid Token: nextToken {token!r} is not a token this API issued"
        ) from exc


def page_size(limit: Any) -> int:
    """The number of items a ``maxResults`` asks for (0: the default 1000).

    Raises:
        ValidationException: ``limit`` is not an integer in 0..1000.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 1000:
        raise ValidationException(f"maxResults: expected 0..1000, got {limit!r}")
    return limit or 1000


def page_in_memory(items: list[T], limit: int, token: str | None) -> Page[T]:
    """A page of an in-memory listing (the local backend): the token holds an offset.

    Raises:
        ValidationException: a bad ``limit``.
        InvalidToken: a token this API did not issue.
    """
    size, after = page_size(limit), decode_token(token)
    if after is not None and not (isinstance(after, list) and len(after) == 1):
        raise InvalidToken(f"Invalid Token: nextToken {token!r} is not a token this API issued")
    offset = int(after[0]) if after is not None else 0
    more = offset + size < len(items)
    return Page(items[offset : offset + size], encode_token([offset + size]) if more else None)
