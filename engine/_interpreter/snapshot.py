"""The checkpoint: an execution header plus one snapshot per thread.

An execution is a tree of threads: the root, and one per Parallel branch or Map
iteration. Every value here is JSON-serialisable, so the durable store can persist it as-is
(its stored, versioned form is :mod:`engine._store.checkpoint`'s).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from engine._asl.model import AnyState, MapState, ParallelState, StateMachine

Json = Any
ROOT_THREAD_ID = "root"
Snapshot = TypeVar("Snapshot")


class ExecutionStatus(StrEnum):
    """The status of an execution, as DescribeExecution reports it."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


class ThreadStatus(StrEnum):
    """Where a thread is in its life."""

    PENDING = "PENDING"  # a Map iteration waiting for a MaxConcurrency slot
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


class Phase(StrEnum):
    """What a running thread waits for in its current state."""

    ENTER = "ENTER"  # the state is to be entered: a step is due
    TASK = "TASK"  # a task runs; waiting for its result
    WAIT = "WAIT"  # a Wait state's timer is pending
    RETRY = "RETRY"  # a retry backoff timer is pending
    BRANCHES = "BRANCHES"  # Parallel branches / Map iterations run
    READ = "READ"  # a Distributed Map's ItemReader runs; waiting for the items
    WRITE = "WRITE"  # a Distributed Map's ResultWriter runs; waiting for the manifest
    DONE = "DONE"  # the thread has ended


@dataclass(frozen=True)
class Execution:
    """The execution-wide part of the checkpoint.

    Attributes:
        arn: the execution ARN.
        name: the execution name.
        state_machine_arn: ARN of the state machine (or version) that runs.
        state_machine_name: its name.
        role_arn: the role ARN reported in the context object.
        start_time: ISO-8601 start time, as the context object shows it.
        input: the execution input.
        seed: seeds every random draw (``States.UUID``...) so replays are identical.
        next_event_id: id of the next history event.
        status: RUNNING until the root thread ends.
    """

    arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: str
    input: Json
    seed: int = 0
    next_event_id: int = 1
    status: ExecutionStatus = ExecutionStatus.RUNNING
    output: Json = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0


@dataclass(frozen=True)
class FanOut:
    """Progress of a Parallel or Map state whose children run.

    Attributes:
        total: number of children (branches or items).
        started: children activated so far (Map honours MaxConcurrency with it).
        succeeded: children that succeeded.
        failed: children that failed (Map may tolerate some).
        max_concurrency: 0 for unlimited.
        tolerated_failures: how many failures a Map tolerates (None: none).
        generation: bumps on every retry of the state, so children ids stay unique.
        ended: hex bitmap of the children already counted, so a duplicate end is ignored.
        map_run_arn: the Map Run of a Distributed Map (None for inline Maps and Parallel).
        batch_sizes: items in each child, when an ItemBatcher grouped them (else one each).
        succeeded_items, failed_items: items in the children that succeeded / failed.
    """

    total: int
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    max_concurrency: int = 0
    tolerated_failures: int | None = None
    tolerated_percentage: float | None = None
    generation: int = 0
    started_event_id: int = 0
    ended: str = "0"
    map_run_arn: str | None = None
    batch_sizes: tuple[int, ...] = ()
    succeeded_items: int = 0
    failed_items: int = 0

    def items_in(self, index: int) -> int:
        """How many items child ``index`` processes."""
        return self.batch_sizes[index] if self.batch_sizes else 1

    @property
    def item_total(self) -> int:
        """Items over all children."""
        return sum(self.batch_sizes) if self.batch_sizes else self.total

    def has_ended(self, index: int) -> bool:
        """Whether child ``index`` was already counted (duplicates are ignored)."""
        return bool(int(self.ended, 16) >> index & 1)

    def mark_ended(self, index: int) -> str:
        """The ``ended`` bitmap with child ``index`` set (hex, compact for 10,000 items)."""
        return format(int(self.ended, 16) | 1 << index, "x")

    @property
    def finished(self) -> int:
        """Children that ended, either way."""
        return self.succeeded + self.failed


@dataclass(frozen=True)
class Thread:
    """One line of control: the root, a Parallel branch or a Map iteration.

    Attributes:
        id: unique within the execution (``root``, ``root/Par.0/1`` ...).
        parent_id: the thread that runs the Parallel/Map state this one belongs to.
        index: the branch or item index within the parent.
        scope: path from the root machine to this thread's machine, e.g.
            ``("Par", 1, "Map", 0)``: state name, then branch index (0 for a Map).
        state: the current state name.
        phase: what the thread waits for.
        seq: bumps on every change; messages carry it and stale ones are ignored.
        input: the current state's raw input.
        entered_event_id: id of the current state's ``*StateEntered`` event.
        visit: how many states this thread has entered (names its children uniquely, even
            in a Distributed Map iteration, which records no events).
        last_event_id: id of the last event this thread emitted (previousEventId).
        retry_counts: attempts used per retrier of the current state.
        variables: the variables this thread sees (its own scope; copied from the parent
            at creation, so a branch's assignments never leak out).
        map_item: a Distributed Map child's input, kept only when its Map writes results
            (ResultWriter with a Resource), which record each child's input.
        effective: the current state's data kept between events (e.g. the effective
            input of a Wait, the resolved parameters of a Task).
        fan_out: progress of the children when ``phase`` is BRANCHES.
        task_started: the current task attempt was reported started (once only).
        silent: the thread is a Distributed Map child execution, whose events are not
            part of the parent's history.
    """

    id: str
    parent_id: str | None
    index: int | None
    scope: tuple[str | int, ...]
    status: ThreadStatus
    state: str
    phase: Phase = Phase.ENTER
    seq: int = 0
    input: Json = None
    entered_event_id: int = 0
    visit: int = 0
    entered_time: str = ""
    last_event_id: int = 0
    retry_counts: tuple[int, ...] = ()
    variables: Mapping[str, Json] = field(default_factory=dict)
    map_item: Json = None
    effective: Json = None
    fan_out: FanOut | None = None
    heartbeat_due: str | None = None
    task_started: bool = False
    silent: bool = False
    output: Json = None
    error: str | None = None
    cause: str | None = None

    @property
    def attempts(self) -> int:
        """Retries used in the current state: ``$$.State.RetryCount``."""
        return sum(self.retry_counts)

    def bump(self, **changes: Any) -> Thread:
        """A copy with ``changes`` applied and ``seq`` advanced."""
        return evolve(self, seq=self.seq + 1, **changes)

    @property
    def ended(self) -> bool:
        """True once the thread succeeded, failed or was aborted."""
        return self.status in (ThreadStatus.SUCCEEDED, ThreadStatus.FAILED, ThreadStatus.ABORTED)


def evolve(snapshot: Snapshot, **changes: Any) -> Snapshot:
    """A copy of the frozen ``snapshot`` with ``changes``: `dataclasses.replace`, cheaper.

    ``replace`` re-runs ``__init__`` over every field (24 for a `Thread`), and a step copies
    its snapshots several times; the checkpoint's dataclasses have no ``__post_init__`` and
    no ``init=False`` field, so copying the instance's fields is the same copy. An unknown
    field still raises ``TypeError``, as with ``replace``.
    """
    kind: type = type(snapshot)
    if not _field_names(kind).issuperset(changes):
        unknown = sorted(changes.keys() - _field_names(kind))
        raise TypeError(f"{type(snapshot).__name__} has no field(s) {unknown}")
    values = snapshot.__dict__.copy()
    values.update(changes)
    copy: Snapshot = object.__new__(kind)
    object.__setattr__(copy, "__dict__", values)  # one dict, not one attribute at a time
    return copy


@cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def machine_at(root: StateMachine, scope: tuple[str | int, ...]) -> StateMachine:
    """The (sub-)machine a thread with ``scope`` runs in."""
    machine = root
    for position in range(0, len(scope), 2):
        state = machine.state(str(scope[position]))
        if isinstance(state, ParallelState):
            machine = state.branches[int(scope[position + 1])]
        elif isinstance(state, MapState) and state.item_processor is not None:
            machine = state.item_processor
        else:
            raise ValueError(f"scope {scope!r}: state {state.name!r} has no branches")
    return machine


def state_of(root: StateMachine, thread: Thread) -> AnyState:
    """The state a thread is in."""
    return machine_at(root, thread.scope).state(thread.state)


def children_prefix(parent: Thread, generation: int) -> str:
    """The id prefix shared by a parent's children of one fan-out generation."""
    return f"{parent.id}/{parent.visit}.{generation}."


def child_thread_id(parent: Thread, generation: int, index: int) -> str:
    """The id of a parent's child: unique per state visit and retry generation."""
    return f"{children_prefix(parent, generation)}{index}"


def joined_results(parent: Thread, children: Iterable[Thread]) -> tuple[Json, ...]:
    """The results a join hands ``parent``: its current fan-out's children, in index order.

    ``children`` may include earlier generations (a retried Parallel/Map); only the current
    one counts.
    """
    return tuple(branch_result(child) for child in current_children(parent, children))


def current_children(parent: Thread, children: Iterable[Thread]) -> list[Thread]:
    """``parent``'s children of its current fan-out (not earlier generations), by index."""
    generation = parent.fan_out.generation if parent.fan_out else 0
    prefix = children_prefix(parent, generation)
    return sorted((t for t in children if t.id.startswith(prefix)), key=lambda t: t.index or 0)


def branch_result(child: Thread) -> Json:
    """What a finished child contributes to its parent's result list."""
    if child.status is ThreadStatus.SUCCEEDED:
        return child.output
    error_output: dict[str, Json] = {"Error": child.error}
    if child.cause is not None:
        error_output["Cause"] = child.cause
    return error_output
