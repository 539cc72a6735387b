"""The local executor: drives the pure interpreter in-process, synchronously.

Used by tests, the conformance runner, ``stepline run --local`` and Express executions.
Events are processed in time order from one queue; Waits and retry backoffs sleep on
the injected clock, so under a `FakeClock` they complete instantly and under the
`SystemClock` they honour real time. Handlers run inline; a handler that takes longer
than its Task's ``TimeoutSeconds`` is reported as timed out, as on AWS.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.asl.model import StateMachine
from engine.clock import Clock, SystemClock
from engine.errors import StatesError
from engine.interpreter.decisions import (
    AbortChildren,
    CancelTask,
    Decision,
    Deliver,
    FinishExecution,
    JoinBranches,
    RunTask,
    ScheduleStep,
    StartTimer,
)
from engine.interpreter.events import (
    AbortRequested,
    BranchesJoined,
    Event,
    StepDue,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
)
from engine.interpreter.history import HistoryEvent
from engine.interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    ExecutionStatus,
    Thread,
    joined_results,
)
from engine.interpreter.step import start, step
from engine.interpreter.turn import Limits, StepResult
from engine.resources import DEFAULT_REGISTRY, HandlerRegistry, TaskCall

Json = Any


def step_rng(seed: int, thread_id: str, seq: int) -> random.Random:
    """The random source of one step: derived from the execution's seed, so replays match."""
    return random.Random(f"{seed}:{thread_id}:{seq}")


@dataclass
class LocalRun:
    """The state of one execution driven in-process."""

    execution: Execution
    threads: dict[str, Thread] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)
    stopped_at: datetime | None = None

    @property
    def finished(self) -> bool:
        """True once the execution left RUNNING."""
        return self.execution.status is not ExecutionStatus.RUNNING


@dataclass(order=True)
class _Due:
    at: datetime
    order: int
    item: Any = field(compare=False)


class LocalExecutor:
    """Runs executions to completion in the calling thread."""

    def __init__(
        self,
        handlers: HandlerRegistry | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.handlers = handlers if handlers is not None else DEFAULT_REGISTRY
        self.clock = clock or SystemClock()
        self.limits = limits or Limits()

    def run(self, machine: StateMachine, execution: Execution) -> LocalRun:
        """Start ``execution`` and drive it until it ends (or nothing more can happen)."""
        return self.start(machine, execution).run_state

    def start(self, machine: StateMachine, execution: Execution) -> LocalDriver:
        """Start ``execution``; the driver keeps it for callbacks and StopExecution."""
        driver = LocalDriver(self, machine, execution)
        driver.run()
        return driver


class LocalDriver:
    """One execution's event loop; it idles while the execution waits for a callback."""

    def __init__(self, executor: LocalExecutor, machine: StateMachine, execution: Execution):
        self.executor = executor
        self.clock = executor.clock
        self.machine = machine
        self.run_state = LocalRun(execution)
        self.immediate: deque[Event] = deque()
        self.timeline: list[_Due] = []
        self.order = itertools.count()
        self.tokens: dict[str, tuple[str, int]] = {}

    def run(self) -> LocalRun:
        """Start the execution and drive it until it ends or idles."""
        now = self.clock.now()
        seed = self.run_state.execution.seed
        self._apply(
            start(
                self.machine,
                self.run_state.execution,
                now,
                step_rng(seed, ROOT_THREAD_ID, -1),
                self.executor.limits,
            )
        )
        return self._settle()

    def deliver(self, event: Event) -> LocalRun:
        """Feed an outside event (a callback, a stop) and drive on until idle."""
        self.immediate.append(event)
        return self._settle()

    def callback(self, token: str) -> tuple[str, int] | None:
        """The (thread, seq) a ``.waitForTaskToken`` task waits on with ``token``."""
        return self.tokens.get(token)

    def catch_up(self) -> LocalRun:
        """Process whatever fell due since the driver went idle (e.g. a callback deadline)."""
        return self._settle()

    def _settle(self) -> LocalRun:
        """Drive until the execution ends, or only waits for a callback (or its deadline)."""
        while self.immediate or (self.timeline and not self.run_state.finished):
            if not self.immediate and self._idle():
                break
            self._next()  # once finished, still settle what the end decided (aborts)
        if self.run_state.finished:
            self.run_state.stopped_at = self.clock.now()
        return self.run_state

    def waiting_on(self, token: str) -> bool:
        """Whether a task still waits for the callback ``token`` (not timed out, not stopped)."""
        target = self.tokens.get(token)
        if target is None or self.run_state.finished:
            return False
        thread = self.run_state.threads.get(target[0])
        return thread is not None and thread.seq == target[1] and not thread.ended

    def _idle(self) -> bool:
        """A callback is awaited and nothing else is due yet: don't sleep, return."""
        return self.timeline[0].at > self.clock.now() and any(map(self.waiting_on, self.tokens))

    def _next(self) -> None:
        if self.immediate:
            self._deliver(self.immediate.popleft())
            return
        due = heapq.heappop(self.timeline)
        self.clock.sleep_until(due.at)
        if isinstance(due.item, RunTask):
            self._run_task(due.item)
        else:
            self._deliver(due.item)

    def _deliver(self, event: Event) -> None:
        thread = self.run_state.threads.get(event.thread_id)
        if thread is None:
            return
        execution = self.run_state.execution
        rng = step_rng(execution.seed, thread.id, thread.seq)
        result = step(
            self.machine, execution, thread, event, self.clock.now(), rng, self.executor.limits
        )
        self._apply(result)

    def _apply(self, result: StepResult) -> None:
        self.run_state.execution = result.execution
        for thread in result.threads:
            self.run_state.threads[thread.id] = thread
        self.run_state.history.extend(result.history)
        for decision in result.decisions:
            self._decide(decision)

    def _later(self, at: datetime, item: Any) -> None:
        heapq.heappush(self.timeline, _Due(at, next(self.order), item))

    def _decide(self, decision: Decision) -> None:
        now = self.clock.now()
        if isinstance(decision, ScheduleStep):
            self._later(now, StepDue(decision.thread_id, decision.seq))
        elif isinstance(decision, RunTask):
            self._later(now, decision)
        elif isinstance(decision, StartTimer):
            self._later(decision.due, TimerFired(decision.thread_id, decision.seq, decision.kind))
        elif isinstance(decision, Deliver):
            self.immediate.append(decision.event)
        elif isinstance(decision, JoinBranches):
            self.immediate.append(self._joined(decision))
        elif isinstance(decision, AbortChildren):
            self.immediate.extend(
                AbortRequested(child.id)
                for child in self._children(decision.parent_id)
                if not child.ended
            )
        elif isinstance(decision, CancelTask | FinishExecution):
            pass  # inline handlers cannot be interrupted; a late result is stale by seq

    def _children(self, parent_id: str) -> list[Thread]:
        return [t for t in self.run_state.threads.values() if t.parent_id == parent_id]

    def _joined(self, decision: JoinBranches) -> BranchesJoined:
        parent = self.run_state.threads[decision.parent_id]
        results = joined_results(parent, self._children(parent.id))
        return BranchesJoined(parent.id, decision.seq, results)

    def _run_task(self, task: RunTask) -> None:
        self._deliver(TaskStarted(task.thread_id, task.seq))
        call = TaskCall(
            resource=task.resource,
            parameters=task.parameters,
            execution_arn=self.run_state.execution.arn,
            state_name=task.state_name,
            attempt=task.attempt,
            task_token=task.task_token,
            thread_id=task.thread_id,
            seq=task.seq,
        )
        outcome: Event
        try:
            output = self.executor.handlers.invoke(call)
            outcome = TaskSucceeded(task.thread_id, task.seq, output)
        except StatesError as error:
            outcome = TaskFailed(task.thread_id, task.seq, error.name, error.cause)
        if task.task_token is not None and isinstance(outcome, TaskSucceeded):
            self.tokens[task.task_token] = (task.thread_id, task.seq)
            return  # the callback (SendTaskSuccess) completes it, not the handler's return
        self._later(self.clock.now(), outcome)
