"""Inputs to the interpreter, named in the past tense.

Each event is addressed to one thread. ``seq`` is the thread's ``seq`` when the event's
cause was decided: an event whose ``seq`` no longer matches is stale (a duplicate or a
late message) and the interpreter ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Json = Any


class TimerKind(StrEnum):
    """Why a timer was started."""

    WAIT = "wait"
    RETRY = "retry"
    TASK_TIMEOUT = "task_timeout"
    HEARTBEAT = "heartbeat"
    EXECUTION_TIMEOUT = "execution_timeout"


@dataclass(frozen=True)
class StepDue:
    """The dispatched step for a thread in phase ENTER arrived: enter its state."""

    thread_id: str
    seq: int


@dataclass(frozen=True)
class TaskStarted:
    """A worker began running the thread's task (an activity's: the worker's name)."""

    thread_id: str
    seq: int
    worker_name: str | None = None


@dataclass(frozen=True)
class TaskHeartbeat:
    """The running task reported it is alive (SendTaskHeartbeat)."""

    thread_id: str
    seq: int


@dataclass(frozen=True)
class TaskSucceeded:
    """The thread's task returned ``output``."""

    thread_id: str
    seq: int
    output: Json


@dataclass(frozen=True)
class TaskFailed:
    """The thread's task failed with an ASL error name and cause."""

    thread_id: str
    seq: int
    error: str
    cause: str | None


@dataclass(frozen=True)
class TimerFired:
    """A timer the thread started is due."""

    thread_id: str
    seq: int
    kind: TimerKind


@dataclass(frozen=True)
class BranchEnded:
    """A child thread (branch or iteration) of a Parallel/Map ended (internal)."""

    thread_id: str  # the parent
    child_id: str
    index: int
    succeeded: bool
    output: Json = None
    error: str | None = None
    cause: str | None = None
    last_event_id: int = 0


@dataclass(frozen=True)
class BranchesJoined:
    """Every child ended; ``outputs`` in index order (internal, gathered by the shell).

    ``failed``: the indexes of the children that failed (their output is the error);
    ``inputs``: each child's input when the Map kept it for a ResultWriter, else empty.
    """

    thread_id: str
    seq: int
    outputs: tuple[Json, ...]
    failed: tuple[int, ...] = ()
    inputs: tuple[Json, ...] = ()


@dataclass(frozen=True)
class ThreadActivated:
    """A PENDING Map iteration got a MaxConcurrency slot (internal).

    ``previous_event_id`` is the parent's ``MapIterationStarted`` event. A Distributed
    Map's child also gets its Map Run and item count, to record its child execution.
    """

    thread_id: str
    previous_event_id: int = 0
    map_run_arn: str | None = None
    item_count: int = 1


@dataclass(frozen=True)
class AbortRequested:
    """The thread must stop: its execution was stopped or a sibling failed."""

    thread_id: str
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class MapRunUpdated:
    """UpdateMapRun: the running Map Run ``map_run_arn`` takes new limits (None: unchanged)."""

    thread_id: str
    map_run_arn: str
    max_concurrency: int | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_percentage: float | None = None


Event = (
    StepDue
    | TaskStarted
    | TaskHeartbeat
    | TaskSucceeded
    | TaskFailed
    | TimerFired
    | BranchEnded
    | BranchesJoined
    | ThreadActivated
    | AbortRequested
    | MapRunUpdated
)
