"""Outputs of the interpreter, named in the imperative.

The shell carries them out after the step's checkpoint commits. Decisions that name
another thread of the same execution (`Deliver`, `JoinBranches`, `AbortChildren`) are
resolved by the shell in the same transaction; the rest become messages or timers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine._interpreter.events import Event, TimerKind

Json = Any


@dataclass(frozen=True)
class ScheduleStep:
    """Publish a step for ``thread_id`` (its state is to be entered)."""

    thread_id: str
    seq: int
    state_name: str


@dataclass(frozen=True)
class RunTask:
    """Run the thread's Task resource with ``parameters``.

    Attributes:
        resource: the Task's Resource URI.
        parameters: the effective input/parameters of the task.
        state_name: the Task state's name (for idempotency keys and logs).
        attempt: the retry attempt (0 first); with the thread id and seq, it makes the
            handler's idempotency key unique per invocation.
        task_token: set for ``.waitForTaskToken`` integrations.
    """

    thread_id: str
    seq: int
    resource: str
    parameters: Json
    state_name: str
    attempt: int
    task_token: str | None = None
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None


@dataclass(frozen=True)
class StartTimer:
    """Fire ``TimerFired(thread_id, seq, kind)`` at ``due``."""

    thread_id: str
    seq: int
    kind: TimerKind
    due: datetime


@dataclass(frozen=True)
class Deliver:
    """Step another thread of the same execution with ``event`` (same transaction)."""

    event: Event


@dataclass(frozen=True)
class JoinBranches:
    """Gather the outputs of ``parent_id``'s children and deliver `BranchesJoined`."""

    parent_id: str
    seq: int


@dataclass(frozen=True)
class AbortChildren:
    """Deliver `AbortRequested` to every unfinished child of ``parent_id``."""

    parent_id: str


@dataclass(frozen=True)
class CancelTask:
    """The thread's running task is no longer wanted (timeout, abort)."""

    thread_id: str
    seq: int


@dataclass(frozen=True)
class FinishExecution:
    """The root thread ended: the execution's status, output or error are final."""

    status: str


@dataclass(frozen=True)
class RecordMapRun:
    """A Distributed Map's Map Run started or progressed: the shell records where it is.

    The counts are AWS's ``MapRunExecutionCounts`` / ``MapRunItemCounts``; ``status`` is
    RUNNING, SUCCEEDED or FAILED (an execution that ends around a RUNNING Map Run aborts
    it: readers show ABORTED). The shell keeps the first ``start_date`` it recorded.
    """

    map_run_arn: str
    thread_id: str
    status: str
    start_date: datetime
    stop_date: datetime | None
    max_concurrency: int
    tolerated_failure_count: int
    tolerated_failure_percentage: float
    execution_counts: dict[str, int]
    item_counts: dict[str, int]


@dataclass(frozen=True)
class RecordChildExecution:
    """A Distributed Map's child execution started, ended or was redriven (ADR 0034).

    Children are threads of the parent, not scheduled executions of their own; the shell
    keeps this projection so ListExecutions(mapRunArn), DescribeExecution and
    GetExecutionHistory answer for them as AWS does.

    Attributes:
        map_run_arn: the Map Run the child belongs to.
        arn: the child's execution ARN (``…:execution:MACHINE/LABEL:NAME``).
        index: the child's index in the Map Run (item, or batch, number).
        status: RUNNING (started, or restarted by a redrive), SUCCEEDED or FAILED.
        at: when it started (RUNNING) or ended.
        item_count: the items it processes (its batch's size, else 1).
        input: its input (with RUNNING).
        output: its output (SUCCEEDED).
        error, cause: why it failed (FAILED).
        redriven: RUNNING again because its execution was redriven.
    """

    map_run_arn: str
    arn: str
    index: int
    status: str
    at: datetime
    item_count: int = 1
    input: Json = None
    output: Json = None
    error: str | None = None
    cause: str | None = None
    redriven: bool = False


Decision = (
    ScheduleStep
    | RunTask
    | StartTimer
    | Deliver
    | JoinBranches
    | AbortChildren
    | CancelTask
    | FinishExecution
    | RecordMapRun
    | RecordChildExecution
)
