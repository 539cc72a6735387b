"""Shared helpers for the interpreter tests.

Two levels:

- :func:`run` drives a machine (a plain dict) through the `LocalExecutor` with a
  `FakeClock`, so Waits and backoffs complete instantly;
- `PureDriver` calls :func:`engine._interpreter.step.start` / ``step`` directly and plays
  the shell's part for the internal decisions (steps, deliveries, joins, aborts) while
  leaving tasks and timers to the test, which feeds their events by hand.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine._asl.definition import compile_definition
from engine._asl.model import StateMachine
from engine._clock import FakeClock
from engine._interpreter.activation import Inline, ThreadTable, activate, follow_ups
from engine._interpreter.decisions import (
    Decision,
    RunTask,
    ScheduleStep,
    StartTimer,
)
from engine._interpreter.events import (
    Event,
    StepDue,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from engine._interpreter.history import HistoryEvent
from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    Thread,
    ThreadStatus,
)
from engine._interpreter.step import start, step
from engine._interpreter.turn import Limits, StepResult
from engine._local import LocalExecutor, LocalRun
from engine._resources import Handler, HandlerRegistry

Json = Any
T0 = datetime(2024, 1, 1, tzinfo=UTC)
ROLE = "arn:aws:iam::111111111111:role/tests"
MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:m"
EXECUTION_ARN = "arn:aws:states:us-east-1:111111111111:execution:m:e"


def lambda_arn(name: str) -> str:
    """The function ARN of a registered handler."""
    return f"arn:aws:lambda:us-east-1:111111111111:function:{name}"


def build(definition: dict[str, Json]) -> StateMachine:
    """A validated model of ``definition`` (a test with an invalid machine fails here)."""
    return compile_definition(definition)


def header(execution_input: Json = None, *, seed: int = 0) -> Execution:
    """An execution header for a test run."""
    return Execution(
        arn=EXECUTION_ARN,
        name="e",
        state_machine_arn=MACHINE_ARN,
        state_machine_name="m",
        role_arn=ROLE,
        start_time="2024-01-01T00:00:00.000Z",
        input={} if execution_input is None else execution_input,
        seed=seed,
    )


def registry(**handlers: Handler) -> HandlerRegistry:
    """A registry holding ``handlers`` by name."""
    found = HandlerRegistry()
    for name, function in handlers.items():
        found.register(name, function)
    return found


def run(
    definition: dict[str, Json],
    execution_input: Json = None,
    *,
    handlers: HandlerRegistry | None = None,
    clock: FakeClock | None = None,
    limits: Limits | None = None,
    seed: int = 0,
) -> LocalRun:
    """Run ``definition`` to its end with the local executor on a fake clock."""
    executor = LocalExecutor(handlers, clock or FakeClock(T0), limits)
    return executor.run(build(definition), header(execution_input, seed=seed))


def types(history: Iterable[HistoryEvent]) -> list[str]:
    """The event types of a history, in order."""
    return [event.type for event in history]


def of_type(history: Iterable[HistoryEvent], event_type: str) -> list[HistoryEvent]:
    """The events of one type."""
    return [event for event in history if event.type == event_type]


def one(history: Iterable[HistoryEvent], event_type: str) -> HistoryEvent:
    """The single event of ``event_type`` (fails when there is not exactly one)."""
    found = of_type(history, event_type)
    assert len(found) == 1, f"expected one {event_type}, got {types(history)}"
    return found[0]


def pass_machine(**fields: Json) -> dict[str, Json]:
    """A one-state machine: a Pass state with ``fields`` that ends."""
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", **fields, "End": True}}}


def jsonata(definition: dict[str, Json]) -> dict[str, Json]:
    """``definition`` with JSONata as its top-level query language."""
    return {"QueryLanguage": "JSONata", **definition}


@dataclass
class PureDriver:
    """A minimal shell over the pure step function, for step-level tests.

    Internal decisions (``ScheduleStep``, ``Deliver``, ``JoinBranches``,
    ``AbortChildren``) are carried out by :meth:`settle`; ``RunTask`` and ``StartTimer``
    are collected in :attr:`tasks` and :attr:`timers` for the test to answer.
    """

    definition: dict[str, Json]
    execution_input: Json = None
    now: datetime = T0
    seed: int = 0
    limits: Limits | None = None
    machine: StateMachine = field(init=False)
    execution: Execution = field(init=False)
    threads: dict[str, Thread] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    tasks: list[RunTask] = field(default_factory=list)
    timers: list[StartTimer] = field(default_factory=list)
    inbox: deque[Event] = field(default_factory=deque)
    observers: list[Callable[[PureDriver], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.machine = build(self.definition)
        self.execution = header(self.execution_input, seed=self.seed)

    def rng(self, thread_id: str, seq: int) -> random.Random:
        """The step's random source, derived from the seed as the executors derive it."""
        return step_rng(self.seed, thread_id, seq)

    def start(self) -> StepResult:
        """Start the execution (``ExecutionStarted``)."""
        result = start(
            self.machine, self.execution, self.now, self.rng(ROOT_THREAD_ID, -1), self.limits
        )
        return self.apply(result)

    def step_raw(self, event: Event, thread: Thread | None = None) -> StepResult:
        """Call ``step`` for ``event`` without applying its result."""
        target = thread or self.threads[event.thread_id]
        rng = self.rng(target.id, target.seq)
        return step(self.machine, self.execution, target, event, self.now, rng, self.limits)

    def deliver(self, event: Event) -> StepResult:
        """Step ``event`` and apply the result (internal decisions stay queued)."""
        if event.thread_id not in self.threads:
            return StepResult(self.execution)
        return self.apply(self.step_raw(event))

    def apply(self, result: StepResult) -> StepResult:
        """Commit ``result`` as a shell would."""
        self.execution = result.execution
        for thread in result.threads:
            self.threads[thread.id] = thread
        self.history.extend(result.history)
        self.decisions.extend(result.decisions)
        for decision in result.decisions:
            self._queue(decision)
        for observer in self.observers:
            observer(self)
        return result

    def _queue(self, decision: Decision) -> None:
        events = follow_ups(decision, ThreadTable(self.threads))
        if events is not None:
            self.inbox.extend(events)
        elif isinstance(decision, ScheduleStep):
            self.inbox.append(StepDue(decision.thread_id, decision.seq))
        elif isinstance(decision, RunTask):
            self.tasks.append(decision)
        elif isinstance(decision, StartTimer):
            self.timers.append(decision)

    def settle(self) -> None:
        """Deliver internal events until only tasks and timers are left (one activation)."""
        events = list(self.inbox)
        self.inbox.clear()
        table = ThreadTable(self.threads)
        inline = Inline(all_steps=True)
        done = activate(self.machine, self.execution, table, events, self.now, self.limits, inline)
        self.execution = done.execution
        self.threads.update(done.threads)
        self.history.extend(done.history)
        self.decisions.extend(done.decisions)
        for effect in done.effects:
            self._queue(effect)
        for observer in self.observers:
            observer(self)

    def children(self, parent_id: str) -> list[Thread]:
        """The children of a thread (every generation)."""
        return ThreadTable(self.threads).children(parent_id)

    def running_children(self, parent_id: str) -> int:
        """How many of a thread's children are RUNNING."""
        return sum(1 for t in self.children(parent_id) if t.status is ThreadStatus.RUNNING)

    @property
    def root(self) -> Thread:
        """The root thread."""
        return self.threads[ROOT_THREAD_ID]

    def take_task(self) -> RunTask:
        """The oldest unanswered task decision."""
        return self.tasks.pop(0)

    def take_timer(self) -> StartTimer:
        """The oldest unfired timer decision."""
        return self.timers.pop(0)

    def fire(self, timer: StartTimer) -> StepResult:
        """Move time to the timer's due time and fire it, then settle."""
        self.now = max(self.now, timer.due)
        result = self.deliver(TimerFired(timer.thread_id, timer.seq, timer.kind))
        self.settle()
        return result

    def succeed(self, task: RunTask, output: Json) -> None:
        """Report ``task`` started and succeeded, then settle."""
        self.deliver(TaskStarted(task.thread_id, task.seq))
        self.deliver(TaskSucceeded(task.thread_id, task.seq, output))
        self.settle()

    def fail(self, task: RunTask, error: str, cause: str | None = None) -> None:
        """Report ``task`` started and failed, then settle."""
        self.deliver(TaskStarted(task.thread_id, task.seq))
        self.deliver(TaskFailed(task.thread_id, task.seq, error, cause))
        self.settle()

    def types(self) -> list[str]:
        """The history's event types."""
        return types(self.history)
