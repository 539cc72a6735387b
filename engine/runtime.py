"""The durable shell: load → step → commit → dispatch.

Each entry point is one transaction on the store: it locks the execution, feeds the
event (and every internal follow-up: a child telling its parent, a join, aborts) to the
pure interpreter, writes the new checkpoint, history, timers, task rows and outbox
messages together, commits, and only then publishes the messages through the
`Dispatcher`. A message that is lost after the commit is republished by :meth:`relay`
when its lease expires; a message delivered twice finds its ``seq`` already advanced
and changes nothing. Recovery is the engine's job, not the broker's.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.asl.model import (
    ChoiceState,
    FailState,
    PassState,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from engine.asl.parse import build_state_machine
from engine.clock import Clock
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
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
    TimerKind,
)
from engine.interpreter.integration import ResourceKind, describe_resource
from engine.interpreter.snapshot import (
    ROOT_THREAD_ID,
    Execution,
    joined_results,
    state_of,
)
from engine.interpreter.step import start, step
from engine.interpreter.turn import Limits, iso_timestamp
from engine.local import step_rng
from engine.records import ExecutionRecord
from engine.store.repository import OutboxMessage, StepSession, Store, TaskInvocation, utc_required

Json = Any
log = logging.getLogger("stepline.runtime")


class Dispatcher(Protocol):
    """Publishes committed outbox messages (Celery in production, a list in tests)."""

    def publish(self, messages: list[OutboxMessage]) -> None:
        """Send ``messages``; may raise (the relay will resend what was not consumed)."""
        ...


@dataclass(frozen=True)
class RuntimeSettings:
    """Timing of the shell; each is a ``STEPLINE_*`` setting.

    Attributes:
        lease_seconds: how long a committed message may stay unconsumed before the relay
            publishes it (again): covers a crash between commit and publish, a lost message
            and a killed worker (running handlers renew it).
        timer_horizon_seconds: timers due sooner than this also get a countdown message;
            later ones are fired by the beat job alone (keep it well under the broker's
            visibility timeout: a longer countdown is redelivered and held in memory).
        steps_queue: the queue of state steps and timers.
        handler_queue_prefix: a handler NAME's invocations go to ``prefix + NAME``.
        handler_queue: when set, every handler invocation goes to this one queue instead.
        fold_states: how many states (Pass, Choice, Succeed, Fail, Task, Wait) one step may
            enter in its own transaction instead of publishing a step task for each
            (ADR 0010). 0, the default, gives every state its own Celery task.
    """

    lease_seconds: float = 120.0
    timer_horizon_seconds: float = 300.0
    steps_queue: str = "stepline.steps"
    handler_queue_prefix: str = "stepline.fn."
    handler_queue: str = ""
    fold_states: int = 0


class Runtime:
    """Drives durable executions; every public method is one transaction."""

    def __init__(
        self,
        store: Store,
        dispatcher: Dispatcher,
        clock: Clock,
        *,
        limits: Limits | None = None,
        settings: RuntimeSettings | None = None,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.clock = clock
        self.limits = limits or Limits()
        self.settings = settings or RuntimeSettings()
        self._machines: dict[str, StateMachine] = {}

    # --- entry points ----------------------------------------------------------------

    def start(
        self,
        record: ExecutionRecord,
        definition: str,
        seed: int,
        role_arn: str,
        machine: StateMachine | None = None,
    ) -> int:
        """Create the execution and commit ``ExecutionStarted``; returns its row id.

        ``machine``: the definition's model when the caller has it (else parsed here).
        """
        now = self.clock.now()
        machine = machine or build_state_machine(json.loads(definition))
        header = Execution(
            arn=record.arn,
            name=record.name,
            state_machine_arn=record.version_arn or record.machine_arn,
            state_machine_name=record.machine_arn.split(":")[6],
            role_arn=role_arn,
            start_time=iso_timestamp(record.start_date),
            input=record.input,
            seed=seed,
        )
        with self.store.session() as session:
            execution_id = session.create_execution(record, definition, header)
            result = start(machine, header, now, step_rng(seed, ROOT_THREAD_ID, -1), self.limits)
            session.apply(result, now)
            queue: deque[Event] = deque()
            self._carry_out(session, machine, result.decisions, queue, now, ROOT_THREAD_ID)
            self._drain(session, machine, queue, now)
        self._publish(session.messages)
        return execution_id

    def advance(self, execution_id: int, thread_id: str, seq: int) -> None:
        """A step message arrived: enter the thread's state."""
        self._deliver(execution_id, StepDue(thread_id, seq), consume=("step", thread_id, seq))

    def fire_timer(self, timer_id: int) -> None:
        """Fire a due timer (from its countdown message or the beat job); idempotent."""
        execution_id = self.store.timer_execution(timer_id)
        if execution_id is None:
            return
        now = self.clock.now()
        with self.store.session(execution_id) as session:
            timer = session.load() and session.timer(timer_id)
            if not timer or timer["fired"]:
                return
            if utc_required(timer["due_at"]) > now + timedelta(seconds=1):
                return  # early: the countdown message came too soon; the beat job fires it
            session.fire_timer(timer_id)
            event = TimerFired(timer["thread_id"], timer["seq"], TimerKind(timer["kind"]))
            self._run(session, deque([event]), now)
        self._publish(session.messages)

    def begin_task(self, execution_id: int, thread_id: str, seq: int) -> TaskInvocation | None:
        """A task message arrived: record TaskStarted once; returns what to run, or None.

        None means the task is stale, finished, or running elsewhere under a live lease.
        """
        now = self.clock.now()
        with self.store.session(execution_id) as session:
            if not session.load(thread_id):
                return None
            task = session.task(thread_id, seq)
            thread = session.thread(thread_id)
            if task is None or thread is None or thread.seq != seq or task.status == "DONE":
                session.consume("task", thread_id, seq)
                return None
            if task.status == "STARTED" and task.claimed_until and task.claimed_until > now:
                return None  # a live worker runs it and renews its claim
            session.claim_task(thread_id, seq, now + self._lease())
            if task.status == "SCHEDULED":
                self._run(session, deque([TaskStarted(thread_id, seq)]), now)
            task = replace(task, execution_arn=session.execution_arn)
        self._publish(session.messages)
        return task

    def renew_task_lease(self, execution_id: int, thread_id: str, seq: int) -> None:
        """A handler is still running: keep the relay from handing its task to another."""
        self.store.lease_task(execution_id, thread_id, seq, self.clock.now() + self._lease())

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def task_submitted(self, execution_id: int, thread_id: str, seq: int) -> None:
        """A ``.waitForTaskToken`` handler returned: its message is done, the task waits."""
        with self.store.session(execution_id) as session:
            session.consume("task", thread_id, seq)

    def finish_task(self, execution_id: int, thread_id: str, seq: int, event: Event) -> None:
        """The handler returned or raised: consume its message and step the thread."""
        self._deliver(execution_id, event, consume=("task", thread_id, seq), task_done=True)

    def task_callback(self, token: str, event_factory: Callable[[str, int], Event]) -> str:
        """SendTaskSuccess/Failure/Heartbeat: step the thread waiting on ``token``.

        Returns ``"delivered"``, ``"unknown"`` (no such token) or ``"closed"`` (the task
        timed out, was stopped or already completed).
        """
        task = self.store.task_by_token(token)
        if task is None:
            return "unknown"
        now = self.clock.now()
        event = event_factory(task.thread_id, task.seq)
        with self.store.session(task.execution_id) as session:
            thread = session.thread(task.thread_id) if session.load(task.thread_id) else None
            current = session.task(task.thread_id, task.seq)
            if thread is None or thread.seq != task.seq or thread.ended or not current:
                return "closed"
            if current.status == "DONE":
                return "closed"
            if not isinstance(event, TaskHeartbeat):
                session.set_task_status(task.thread_id, task.seq, "DONE")
            self._run(session, deque([event]), now)
        self._publish(session.messages)
        return "delivered"

    def stop(self, execution_id: int, error: str | None, cause: str | None) -> None:
        """StopExecution: abort the root thread (and, through it, every branch)."""
        self._deliver(execution_id, AbortRequested(ROOT_THREAD_ID, error, cause))

    def relay(self, limit: int = 500) -> int:
        """Republish committed messages that were never published or whose lease expired."""
        messages = self.store.due_outbox(self.clock.now(), limit)
        self._publish(messages)
        until = self.clock.now() + self._lease()
        self.store.lease([m.id for m in messages if m.id], until)
        return len(messages)

    def prune_outbox(self, retention: timedelta, limit: int = 10_000) -> int:
        """Delete consumed outbox messages older than ``retention`` (a beat job)."""
        return self.store.prune_outbox(self.clock.now() - retention, limit)

    def fire_due_timers(self, limit: int = 500) -> int:
        """Fire every due timer (the beat job): long Waits have no message at all."""
        due = self.store.due_timers(self.clock.now(), limit)
        for timer_id in due:
            self.fire_timer(timer_id)
        return len(due)

    # --- the loop ---------------------------------------------------------------------

    def _deliver(
        self,
        execution_id: int,
        event: Event,
        *,
        consume: tuple[str, str, int] | None = None,
        task_done: bool = False,
    ) -> None:
        now = self.clock.now()
        with self.store.session(execution_id) as session:
            if not session.load(event.thread_id):
                log.warning("event for unknown execution %s ignored", execution_id)
                return
            if consume is not None:
                session.consume(*consume)
            if task_done:
                session.set_task_status(event.thread_id, getattr(event, "seq", -1), "DONE")
            self._run(session, deque([event]), now)
        self._publish(session.messages)

    def _run(self, session: StepSession, queue: deque[Event], now: datetime) -> None:
        self._drain(session, self._machine(session), queue, now)

    def _machine(self, session: StepSession) -> StateMachine:
        """The model of the execution's definition, parsed once per process."""
        digest = session.definition_hash
        machine = self._machines.get(digest)
        if machine is None:
            machine = build_state_machine(json.loads(session.definition_text()))
            if len(self._machines) >= 256:
                self._machines.clear()
            self._machines[digest] = machine
        return machine

    def _drain(
        self, session: StepSession, machine: StateMachine, queue: deque[Event], now: datetime
    ) -> None:
        while queue:
            event = queue.popleft()
            thread = session.thread(event.thread_id)
            if thread is None:
                continue
            header = session.header
            rng = step_rng(header.seed, thread.id, thread.seq)
            result = step(machine, header, thread, event, now, rng, self.limits)
            if not result.changed:
                continue
            session.apply(result, now)
            self._carry_out(session, machine, result.decisions, queue, now, thread.id)

    def _carry_out(
        self,
        session: StepSession,
        machine: StateMachine,
        decisions: tuple[Decision, ...],
        queue: deque[Event],
        now: datetime,
        origin: str,
    ) -> None:
        """Act on the decisions of a step of thread ``origin``."""
        for decision in decisions:
            self._decide(session, machine, decision, queue, now, origin)

    def _decide(
        self,
        session: StepSession,
        machine: StateMachine,
        decision: Decision,
        queue: deque[Event],
        now: datetime,
        origin: str,
    ) -> None:
        lease = now + self._lease()  # runs from the commit: see _publish
        if isinstance(decision, ScheduleStep):
            if self._enters_task(session, machine, decision, origin) or self._fold(
                session, machine, decision
            ):
                queue.append(StepDue(decision.thread_id, decision.seq))
                return
            session.add_message(
                "step",
                decision.thread_id,
                decision.seq,
                available_at=now,
                lease_until=lease,
                queue=self.settings.steps_queue,
                shadow=f"{session.header.state_machine_name}.{decision.state_name}",
            )
        elif isinstance(decision, RunTask):
            self._schedule_task(session, decision, now, lease)
        elif isinstance(decision, StartTimer):
            self._start_timer(session, decision, now)
        elif isinstance(decision, Deliver):
            queue.append(decision.event)
        elif isinstance(decision, JoinBranches):
            queue.append(_joined(session, decision))
        elif isinstance(decision, AbortChildren):
            queue.extend(
                AbortRequested(child.id)
                for child in session.children(decision.parent_id)
                if not child.ended
            )
        elif isinstance(decision, CancelTask):
            session.consume("task", decision.thread_id, decision.seq)
        elif isinstance(decision, FinishExecution):
            session.cancel_timers()  # whatever they were waiting for is over

    def _enters_task(
        self, session: StepSession, machine: StateMachine, step: ScheduleStep, origin: str
    ) -> bool:
        """Is this a thread moving on to a Task state? Its handler task is then its task.

        The step that leaves a state enters the next one when that is a Task state: it
        records the entry and schedules the handler, whose Celery task (sent with the same
        ``machine.state`` shadow) is the state's task (ADR 0013). A fan-out's first states
        keep their own steps, so one transaction never enters a whole Map's worth of them.
        """
        if step.thread_id != origin:
            return False
        thread = session.thread(step.thread_id)
        return thread is not None and isinstance(state_of(machine, thread), TaskState)

    def _fold(self, session: StepSession, machine: StateMachine, step: ScheduleStep) -> bool:
        """Enter this state in the current transaction rather than in a task of its own?"""
        if session.folded >= self.settings.fold_states:
            return False
        thread = session.thread(step.thread_id)
        if thread is None or not isinstance(state_of(machine, thread), _FOLDABLE):
            return False
        session.folded += 1
        return True

    def _schedule_task(
        self, session: StepSession, task: RunTask, now: datetime, lease: datetime
    ) -> None:
        session.put_task(
            task.thread_id,
            task.seq,
            {
                "resource": task.resource,
                "parameters": task.parameters,
                "state_name": task.state_name,
                "attempt": task.attempt,
                "task_token": task.task_token,
            },
        )
        session.add_message(
            "task",
            task.thread_id,
            task.seq,
            available_at=now,
            lease_until=lease,
            queue=self.handler_queue(task.resource, task.parameters),
            shadow=f"{session.header.state_machine_name}.{task.state_name}",
        )

    def _start_timer(self, session: StepSession, timer: StartTimer, now: datetime) -> None:
        timer_id = session.put_timer(timer.thread_id, timer.seq, timer.kind.value, timer.due)
        if (timer.due - now).total_seconds() <= self.settings.timer_horizon_seconds:
            # A countdown message is only a shortcut: the beat job fires every due timer
            # whether or not this message survives, so it needs no outbox row.
            session.messages.append(
                OutboxMessage(
                    0,
                    session.execution_id or 0,
                    timer.thread_id,
                    timer.seq,
                    "timer",
                    queue=self.settings.steps_queue,
                    timer_id=timer_id,
                    available_at=timer.due,
                )
            )

    def handler_queue(self, resource: str, parameters: Json) -> str:
        """The queue a Task's handler runs on: one per function, so services scale apart."""
        if self.settings.handler_queue:
            return self.settings.handler_queue
        info = describe_resource(resource)
        name = info.resource
        if info.kind is not ResourceKind.LAMBDA_FUNCTION and isinstance(parameters, dict):
            function = parameters.get("FunctionName")
            name = str(function).split(":function:")[-1].split(":")[0] if function else name
        return f"{self.settings.handler_queue_prefix}{name}"

    def _publish(self, messages: list[OutboxMessage]) -> None:
        """Send committed messages.

        Their lease already runs from the commit, so a process that dies right here loses
        nothing: the relay sends them when the lease ends.
        """
        if not messages:
            return
        try:
            self.dispatcher.publish(messages)
        except Exception:  # the broker is down: the relay republishes once it is back
            log.exception("publishing %d message(s) failed; the relay will retry", len(messages))


# States whose entry is safe in the transaction that reaches them: it completes at once
# (Pass, Choice, Succeed, Fail) or leaves this one thread waiting for its handler task or
# its timer (Task, Wait). Parallel and Map fan out, so they keep a step of their own.
_FOLDABLE = (PassState, ChoiceState, SucceedState, FailState, TaskState, WaitState)


def _joined(session: StepSession, decision: JoinBranches) -> BranchesJoined:
    parent = session.thread(decision.parent_id)
    assert parent is not None
    results = joined_results(parent, session.children(parent.id))
    return BranchesJoined(parent.id, decision.seq, results)


__all__ = ["Dispatcher", "Runtime", "RuntimeSettings", "TaskFailed", "TaskSucceeded"]
