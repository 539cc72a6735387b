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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine._asl.model import StateMachine
from engine._clock import Clock, SystemClock
from engine._errors import StatesError
from engine._integrations.mocks import state_invocation
from engine._integrations.services import Services
from engine._interpreter.activation import Activation, Effect, ThreadTable, activate, begin
from engine._interpreter.decisions import (
    RecordChildExecution,
    RecordMapRun,
    RunTask,
    ScheduleStep,
    StartTimer,
)
from engine._interpreter.events import (
    Event,
    StepDue,
    TaskStarted,
    TimerFired,
)
from engine._interpreter.history import HistoryEvent
from engine._interpreter.integration import ResourceKind, describe_resource
from engine._interpreter.redrive import redrive
from engine._interpreter.snapshot import Execution, ExecutionStatus, Thread
from engine._interpreter.turn import Limits
from engine._records import (
    ChildExecutionRecord,
    MapRunRecord,
    child_execution_record,
    map_run_record,
)
from engine._resources import (
    AWAITING,
    DEFAULT_REGISTRY,
    HandlerRegistry,
    Outcome,
    TaskCall,
    outcome_event,
)

Json = Any


@dataclass
class LocalRun:
    """The state of one execution driven in-process."""

    execution: Execution
    threads: dict[str, Thread] = field(default_factory=dict)
    history: list[HistoryEvent] = field(default_factory=list)
    stopped_at: datetime | None = None
    map_runs: dict[str, MapRunRecord] = field(default_factory=dict)
    children: dict[str, ChildExecutionRecord] = field(default_factory=dict)  # by ARN

    @property
    def finished(self) -> bool:
        """True once the execution left RUNNING."""
        return self.execution.status is not ExecutionStatus.RUNNING


_Due = tuple[datetime, int, Any]
"""An entry of the timeline: (due time, order of insertion, the event or task)."""


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
        self.services: Services | None = None  # set by the client that owns the executor

    def run(self, machine: StateMachine, execution: Execution) -> LocalRun:
        """Start ``execution`` and drive it until it ends (or nothing more can happen)."""
        return self.start(machine, execution).run_state

    def start(
        self, machine: StateMachine, execution: Execution, test_case: str | None = None
    ) -> LocalDriver:
        """Start ``execution``; the driver keeps it for callbacks and StopExecution.

        ``test_case``: the mock config test case it runs (its Tasks may answer from mocks).
        """
        driver = LocalDriver(self, machine, execution, test_case)
        driver.run()
        return driver


class LocalDriver:
    """One execution's event loop; it idles while the execution waits for a callback.

    Load → activate → keep → act, in memory: each event is one activation, and its
    effects (steps, tasks, timers) go on a timeline ordered by due time.
    """

    def __init__(
        self,
        executor: LocalExecutor,
        machine: StateMachine,
        execution: Execution,
        test_case: str | None = None,
    ):
        self.executor = executor
        self.test_case = test_case
        self.clock = executor.clock
        self.machine = machine
        self.run_state = LocalRun(execution)
        self.table = ThreadTable(self.run_state.threads)
        self.timeline: list[_Due] = []
        self.order = itertools.count()
        self.tokens: dict[str, tuple[str, int]] = {}
        self.activity_tasks: dict[str, RunTask] = {}  # by token, until a worker takes them

    def run(self) -> LocalRun:
        """Start the execution and drive it until it ends or idles."""
        execution, now = self.run_state.execution, self.clock.now()
        self._keep(begin(self.machine, execution, self.table, now, self.executor.limits), now)
        return self._settle()

    def deliver(self, event: Event) -> LocalRun:
        """Feed an outside event (a callback, a stop) and drive on until idle."""
        self._deliver(event)
        return self._settle()

    def redrive(self) -> LocalRun:
        """RedriveExecution: restart the ended execution from its unsuccessful states."""
        self.timeline.clear()  # what was due when it ended can only be stale
        self.run_state.stopped_at = None
        execution, now = self.run_state.execution, self.clock.now()
        self._keep(redrive(self.machine, execution, self.table, now, self.executor.limits), now)
        return self._settle()

    def callback(self, token: str) -> tuple[str, int] | None:
        """The (thread, seq) a ``.waitForTaskToken`` task waits on with ``token``."""
        return self.tokens.get(token)

    def take_activity(self, arn: str, worker_name: str | None) -> tuple[str, Json] | None:
        """Start a waiting task of activity ``arn``: (its token, its input), or None."""
        for token, task in list(self.activity_tasks.items()):
            if task.resource == arn and self.waiting_on(token):
                del self.activity_tasks[token]
                self.deliver(TaskStarted(task.thread_id, task.seq, worker_name))
                return token, task.parameters
        return None

    def catch_up(self) -> LocalRun:
        """Process whatever fell due since the driver went idle (e.g. a callback deadline)."""
        return self._settle()

    def _settle(self) -> LocalRun:
        """Drive until the execution ends, or only waits for a callback (or its deadline)."""
        while self.timeline and not self.run_state.finished and not self._idle():
            self._next()
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
        return (
            bool(self.tokens)
            and self.timeline[0][0] > self.clock.now()
            and any(map(self.waiting_on, self.tokens))
        )

    def _next(self) -> None:
        at, _, item = heapq.heappop(self.timeline)
        self.clock.sleep_until(at)
        if isinstance(item, RunTask):
            self._run_task(item)
        else:
            self._deliver(item)

    def _deliver(self, event: Event) -> None:
        execution = self.run_state.execution
        now = self.clock.now()
        self._keep(
            activate(self.machine, execution, self.table, [event], now, self.executor.limits),
            now,
        )

    def _keep(self, activation: Activation, now: datetime) -> None:
        """Keep the activation's changes, then put its effects on the timeline.

        ``now``: the time the activation ran at, when its steps and tasks fall due.
        """
        self.run_state.execution = activation.execution
        self.run_state.threads.update(activation.threads)
        self.run_state.history.extend(activation.history)
        for effect in activation.effects:
            self._act(effect, now)

    def _later(self, at: datetime, item: Any) -> None:
        heapq.heappush(self.timeline, (at, next(self.order), item))

    def _act(self, effect: Effect, now: datetime) -> None:
        if isinstance(effect, ScheduleStep):
            self._later(now, StepDue(effect.thread_id, effect.seq))
        elif isinstance(effect, RunTask):
            self._later(now, effect)
        elif isinstance(effect, StartTimer):
            self._later(effect.due, TimerFired(effect.thread_id, effect.seq, effect.kind))
        elif isinstance(effect, RecordMapRun):
            runs, arn = self.run_state.map_runs, effect.map_run_arn
            runs[arn] = map_run_record(self.run_state.execution.arn, effect, runs.get(arn))
        elif isinstance(effect, RecordChildExecution):
            kids, parent = self.run_state.children, self.run_state.execution.arn
            kids[effect.arn] = child_execution_record(parent, effect, kids.get(effect.arn))
        # CancelTask, FinishExecution: inline handlers cannot be interrupted, and a late
        # result is stale by its seq.

    def _state_invocation(self, task: RunTask) -> int:
        """In a test case, the call's number among its state's calls (its mock's key)."""
        if self.test_case is None:
            return 0
        return state_invocation(self.run_state.history, task.thread_id, task.state_name)

    def _run_task(self, task: RunTask) -> None:
        if task.task_token and describe_resource(task.resource).kind is ResourceKind.ACTIVITY:
            # No call: the task waits for a worker's GetActivityTask, then its callback.
            self.tokens[task.task_token] = (task.thread_id, task.seq)
            self.activity_tasks[task.task_token] = task
            return
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
            timeout_seconds=task.timeout_seconds,
            heartbeat_seconds=task.heartbeat_seconds,
            test_case=self.test_case,
            state_invocation=self._state_invocation(task),
        )
        try:
            outcome: Outcome | StatesError = self.executor.handlers.invoke(
                call, self.executor.services
            )
        except StatesError as error:
            outcome = error
        if outcome is AWAITING:
            if task.task_token is not None:
                self.tokens[task.task_token] = (task.thread_id, task.seq)
            return  # the callback (SendTaskSuccess) completes it, not the call's return
        self._later(self.clock.now(), outcome_event(task.thread_id, task.seq, outcome))
