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

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from engine import _children as children
from engine._asl.definition import stored_model
from engine._asl.model import StateMachine
from engine._clock import Clock
from engine._interpreter.activation import Activation, Effect, Inline, activate, begin
from engine._interpreter.decisions import (
    CancelTask,
    FinishExecution,
    RecordChildExecution,
    RecordMapRun,
    RunTask,
    ScheduleStep,
    StartTimer,
)
from engine._interpreter.events import (
    AbortRequested,
    Event,
    MapRunUpdated,
    StepDue,
    TaskFailed,
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
    TimerKind,
)
from engine._interpreter.failures import StateFailure, recorded_failure
from engine._interpreter.integration import (
    ResourceInfo,
    ResourceKind,
    base_action,
    describe_resource,
)
from engine._interpreter.redrive import NotRedrivable, redrive
from engine._interpreter.snapshot import ROOT_THREAD_ID, Execution, ExecutionStatus
from engine._interpreter.turn import Limits
from engine._messaging.status import status_changed
from engine._observe.metrics import count_relayed
from engine._records import ExecutionRecord, execution_header
from engine._store.db import again_if_connection_lost
from engine._store.kinds import MessageKind, TaskStatus
from engine._store.repository import (
    CreatedExecution,
    OutboxMessage,
    StepSession,
    Store,
    TaskInvocation,
    TimerKey,
)
from engine._store.workers import Announcement, announcements

Json = Any
log = logging.getLogger("stepline.runtime")


class CallbackOutcome(StrEnum):
    """What became of a SendTaskSuccess/Failure/Heartbeat (:meth:`Runtime.task_callback`)."""

    DELIVERED = "delivered"  # the waiting thread got it
    UNKNOWN = "unknown"  # no task has this token
    CLOSED = "closed"  # the task timed out, was stopped or already completed


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
            and a killed worker whose heartbeat the relay has not seen stop (ADR 0035).
        claim_seconds: how long a running handler's claim on its task (and its message's
            lease) lasts unless renewed; the lease keeper renews it every third, so a
            killed or frozen worker's task moves to another worker within this time.
        timer_horizon_seconds: timers due sooner than this also get a countdown message;
            later ones are fired by the beat job alone (keep it well under the broker's
            visibility timeout: a longer countdown is redelivered and held in memory).
        steps_queue: the queue of state steps and timers.
        handler_queue_prefix: a handler NAME's invocations go to ``prefix + NAME``.
        handler_queue: when set, every handler invocation goes to this one queue instead.
        integrations_queue: where service integrations run, and Lambda-style calls that
            no announced worker serves (they fail there at once).
        fold_states: how many states (Pass, Choice, Succeed, Fail, Task, Wait) one step may
            enter in its own transaction instead of publishing a step task for each
            (ADR 0010). 0, the default, gives every state its own Celery task.
    """

    lease_seconds: float = 120.0
    claim_seconds: float = 10.0
    timer_horizon_seconds: float = 300.0
    steps_queue: str = "stepline.steps"
    handler_queue_prefix: str = "stepline.fn."
    handler_queue: str = ""
    integrations_queue: str = "stepline.integrations"
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
        self._announcements: list[Announcement] = []
        self._announced_at = -_ANNOUNCEMENTS_TTL_SECONDS

    # --- entry points ----------------------------------------------------------------

    def start(
        self,
        record: ExecutionRecord,
        definition: str,
        seed: int,
        role_arn: str,
        machine: StateMachine | None = None,
    ) -> CreatedExecution:
        """Create the execution and commit ``ExecutionStarted``; returns what was stored.

        ``machine``: the definition's model when the caller has it (else parsed here).
        The same name and input as a running execution return that one, unchanged.

        Raises:
            ExecutionAlreadyExists: the name is taken (an ended run, or another input).
        """
        now = self.clock.now()
        machine = machine or stored_model(definition)
        header = execution_header(record, role_arn, seed)
        with self.store.session() as session:
            created = session.create_execution(record, definition, header)
            if not created.created:
                return created
            activation = begin(machine, header, session, now, self.limits, self._inline())
            self._persist(session, activation, now)
            status_changed(session, "RUNNING", now, now + self._lease(), self.settings.steps_queue)
        self._publish(session.messages)
        return created

    def advance(self, execution_id: int, thread_id: str, seq: int) -> StateFailure | None:
        """A step message arrived: enter the thread's state; returns the failure it recorded."""
        return self._deliver(
            execution_id, StepDue(thread_id, seq), consume=(MessageKind.STEP, thread_id, seq)
        )

    def fire_timer(self, timer_id: TimerKey | int) -> StateFailure | None:
        """Fire a due timer (from its countdown message or the beat job); idempotent.

        Returns the failure firing it recorded (a state timing out), if any.
        """
        execution_id = self.store.timer_execution(timer_id)
        if execution_id is None:
            return None
        now = self.clock.now()
        with self.store.session(execution_id) as session:
            timer = session.load() and session.timer(timer_id)
            if not timer or timer.fired:
                return None
            if timer.due_at > now + timedelta(seconds=1):
                return None  # early: the countdown message came too soon; the beat job fires it
            session.fire_timer(timer_id)
            event = TimerFired(timer.key.thread_id, timer.key.seq, TimerKind(timer.key.kind))
            activation = self._run(session, event, now)
        self._publish(session.messages)
        return recorded_failure(activation.history)

    def begin_task(
        self, execution_id: int, thread_id: str, seq: int, worker_name: str | None = None
    ) -> TaskInvocation | None:
        """A task message arrived: record TaskStarted once; returns what to run, or None.

        None means the task is stale, finished, or running elsewhere under a live lease.
        ``worker_name``: the activity worker taking it (GetActivityTask).
        """
        now = self.clock.now()
        with self.store.session(execution_id) as session:
            if not session.load(thread_id):
                return None
            task = session.task(thread_id, seq)
            thread = session.thread(thread_id)
            if (
                task is None
                or thread is None
                or thread.seq != seq
                or task.status is TaskStatus.DONE
            ):
                session.consume(MessageKind.TASK, thread_id, seq)
                return None
            if (
                task.status is TaskStatus.STARTED
                and task.claimed_until
                and task.claimed_until > now
            ):
                # A live worker runs it and renews its claim; should it die, the relay
                # sends this message again once the claim has lapsed, not a lease later.
                session.hold_task_message(thread_id, seq, task.claimed_until)
                return None
            session.claim_task(thread_id, seq, now + self._claim())
            if task.status is TaskStatus.SCHEDULED:
                self._run(session, TaskStarted(thread_id, seq, worker_name), now)
            task = replace(task, execution_arn=session.execution_arn, test_case=session.test_case)
        self._publish(session.messages)
        return task

    def renew_task_lease(self, execution_id: int, thread_id: str, seq: int) -> None:
        """A handler is still running: keep the relay from handing its task to another."""
        self.store.lease_task(execution_id, thread_id, seq, self.clock.now() + self._claim())

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def _claim(self) -> timedelta:
        return timedelta(seconds=self.settings.claim_seconds)

    def task_submitted(self, execution_id: int, thread_id: str, seq: int) -> None:
        """A ``.waitForTaskToken`` handler returned: its message is done, the task waits."""
        with self.store.session(execution_id) as session:
            session.consume(MessageKind.TASK, thread_id, seq)

    def finish_task(
        self, execution_id: int, thread_id: str, seq: int, event: Event
    ) -> StateFailure | None:
        """The handler returned or raised: consume its message and step the thread.

        Returns the failure the step recorded (the handler's error, a timeout), if any.
        """
        return self._deliver(
            execution_id, event, consume=(MessageKind.TASK, thread_id, seq), task_done=True
        )

    def task_callback(
        self, token: str, event_factory: Callable[[str, int], Event]
    ) -> CallbackOutcome:
        """SendTaskSuccess/Failure/Heartbeat: step the thread waiting on ``token``.

        Returns DELIVERED, UNKNOWN (no such token) or CLOSED (the task
        timed out, was stopped or already completed).
        """
        task = self.store.task_by_token(token)
        if task is None:
            return CallbackOutcome.UNKNOWN
        now = self.clock.now()
        event = event_factory(task.thread_id, task.seq)
        with self.store.session(task.execution_id) as session:
            thread = session.thread(task.thread_id) if session.load(task.thread_id) else None
            current = session.task(task.thread_id, task.seq)
            if thread is None or thread.seq != task.seq or thread.ended or not current:
                return CallbackOutcome.CLOSED
            if current.status is TaskStatus.DONE:
                return CallbackOutcome.CLOSED
            if not isinstance(event, TaskHeartbeat):
                session.set_task_status(task.thread_id, task.seq, TaskStatus.DONE)
            self._run(session, event, now)
        self._publish(session.messages)
        return CallbackOutcome.DELIVERED

    def stop(self, execution_id: int, error: str | None, cause: str | None) -> None:
        """StopExecution: abort the root thread (and, through it, every branch)."""
        self._deliver(execution_id, AbortRequested(ROOT_THREAD_ID, error, cause))

    def update_map_run(self, execution_id: int, update: MapRunUpdated) -> None:
        """UpdateMapRun: the Map's thread takes the new limits (and starts what they allow)."""
        self._deliver(execution_id, update)

    def redrive(self, execution_id: int, client_token: str | None) -> bool:
        """RedriveExecution: restart an ended execution from its unsuccessful states.

        One transaction under the execution's lock: ``ExecutionRedriven``, the restarted
        threads, their step messages and the redrive's count and date commit together.
        Returns False when the execution is not (any more) in a redrivable end state.
        """
        now = self.clock.now()
        with self.store.session(execution_id) as session:
            if not session.load():
                return False
            try:
                activation = redrive(
                    self._machine(session),
                    session.header,
                    session,
                    now,
                    self.limits,
                    self._inline(),
                )
            except NotRedrivable:
                return False
            session.record_redrive(now, client_token)
            self._persist(session, activation, now)
            status_changed(session, "RUNNING", now, now + self._lease(), self.settings.steps_queue)
        self._publish(session.messages)
        return True

    def relay(self, limit: int = 500) -> int:
        """Republish committed messages that were never published or whose lease expired."""
        messages = self.store.due_outbox(self.clock.now(), limit)
        self._publish(messages)
        until = self.clock.now() + self._lease()
        self.store.lease([m.id for m in messages if m.id], until)
        count_relayed(len(messages))
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
        consume: tuple[MessageKind, str, int] | None = None,
        task_done: bool = False,
    ) -> StateFailure | None:
        """Step the execution with ``event`` in one transaction; returns what failed in it."""

        def transaction() -> tuple[StepSession, Activation] | None:
            now = self.clock.now()
            with self.store.session(execution_id) as session:
                if not session.load(event.thread_id):
                    log.warning("event for unknown execution %s ignored", execution_id)
                    return None
                if consume is not None:
                    session.consume(*consume)
                if task_done:
                    seq = getattr(event, "seq", -1)
                    session.set_task_status(event.thread_id, seq, TaskStatus.DONE)
                activation = self._run(session, event, now)
            return session, activation

        done = again_if_connection_lost(transaction)
        if done is None:
            return None
        session, activation = done
        self._publish(session.messages)
        return recorded_failure(activation.history)

    def _run(self, session: StepSession, event: Event, now: datetime) -> Activation:
        """Load → activate → persist: the activation resolves everything inside the execution."""
        machine = self._machine(session)
        activation = activate(
            machine, session.header, session, [event], now, self.limits, self._inline()
        )
        self._persist(session, activation, now)
        return activation

    def _inline(self) -> Inline:
        return Inline(enter_tasks=True, fold_states=self.settings.fold_states)

    def _persist(self, session: StepSession, activation: Activation, now: datetime) -> None:
        """Buffer the activation's checkpoint, history and outbox in the step's transaction."""
        if not activation.changed:
            return
        session.apply(activation.as_step_result(), now)
        lease = now + self._lease()  # runs from the commit: see _publish
        for effect in activation.effects:
            self._act(session, effect, now, lease)

    def _machine(self, session: StepSession) -> StateMachine:
        """The model of the execution's definition, parsed once per process."""
        digest = session.definition_hash
        machine = self._machines.get(digest)
        if machine is None:
            machine = stored_model(session.definition_text())
            if len(self._machines) >= 256:
                self._machines.clear()
            self._machines[digest] = machine
        return machine

    def _act(self, session: StepSession, effect: Effect, now: datetime, lease: datetime) -> None:
        """Turn one effect into outbox messages, task and timer rows."""
        if isinstance(effect, ScheduleStep):
            session.add_message(
                "step",
                effect.thread_id,
                effect.seq,
                available_at=now,
                lease_until=lease,
                queue=self.settings.steps_queue,
                shadow=f"{session.header.state_machine_name}.{effect.state_name}",
            )
        elif isinstance(effect, RunTask):
            self._schedule_task(session, effect, now, lease)
        elif isinstance(effect, StartTimer):
            self._start_timer(session, effect, now)
        elif isinstance(effect, CancelTask):
            session.consume(MessageKind.TASK, effect.thread_id, effect.seq)
            children.task_cancelled(
                session, effect.thread_id, effect.seq, now, lease, self.settings.steps_queue
            )
        elif isinstance(effect, RecordMapRun):
            session.put_map_run(effect)
        elif isinstance(effect, RecordChildExecution):
            session.put_child_execution(effect)
        elif isinstance(effect, FinishExecution):
            session.cancel_timers()  # whatever they were waiting for is over
            if self._beyond_redrive(session.header):
                session.drop_leftovers()
            status_changed(session, effect.status, now, lease, self.settings.steps_queue)
            children.execution_finished(session, now, lease, self.settings.steps_queue)

    def _beyond_redrive(self, header: Execution) -> bool:
        """Whether an execution that ended can never run again: it failed on its history limit.

        AWS refuses to redrive an execution whose history is (within one event) full.
        """
        recorded = header.next_event_id - 1
        return (
            header.status is ExecutionStatus.FAILED and recorded >= self.limits.history_events - 1
        )

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
        queue = self.handler_queue(task.resource, task.parameters)
        if queue is None:
            return  # an activity task: its worker polls for it (GetActivityTask)
        session.add_message(
            "task",
            task.thread_id,
            task.seq,
            available_at=now,
            lease_until=lease,
            queue=queue,
            shadow=f"{session.header.state_machine_name}.{task.state_name}",
        )

    def _start_timer(self, session: StepSession, timer: StartTimer, now: datetime) -> None:
        session.put_timer(timer.thread_id, timer.seq, timer.kind.value, timer.due)
        if (timer.due - now).total_seconds() <= self.settings.timer_horizon_seconds:
            # A countdown message is only a shortcut: the beat job fires every due timer
            # whether or not this message survives, so it needs no outbox row.
            session.messages.append(
                OutboxMessage(
                    0,
                    session.execution_id or 0,
                    timer.thread_id,
                    timer.seq,
                    MessageKind.TIMER,
                    queue=self.settings.steps_queue,
                    shadow=_timer_shadow(session, timer),
                    available_at=timer.due,
                    timer_kind=timer.kind.value,
                    execution_arn=session.execution_arn,
                )
            )

    def handler_queue(self, resource: str, parameters: Json) -> str | None:
        """The queue a Task's invocation runs on (None: an activity, which is polled).

        A Lambda-style handler runs on its own queue, so services scale apart; when
        workers have announced themselves and none serves the handler, on the
        integrations queue instead, whose consumer fails it at once as AWS fails a
        function that does not exist. Service integrations run on the integrations queue.
        """
        info = describe_resource(resource)
        if info.kind is ResourceKind.ACTIVITY:
            return None
        function = _function_name(info, parameters)
        if function is None:
            return self.settings.integrations_queue
        if self.settings.handler_queue:
            return self.settings.handler_queue
        if not self._served_by_a_worker(function):
            return self.settings.integrations_queue
        return f"{self.settings.handler_queue_prefix}{function}"

    def _served_by_a_worker(self, function: str) -> bool:
        """Does some worker serve ``function``, or might one (no worker announced yet)?

        What a worker announced is cached for a few seconds; a name not in the cache is
        looked up again at once, so a worker that just started is never missed.
        """
        if function in self._announced(refresh=False):
            return True
        announced = self._announced(refresh=True)
        return function in announced or not self._announcements

    def _announced(self, *, refresh: bool) -> frozenset[str]:
        now = time.monotonic()
        if refresh or now - self._announced_at > _ANNOUNCEMENTS_TTL_SECONDS:
            self._announcements = announcements(self.store.engine)
            self._announced_at = now
            self._warn_if_serving_workers_are_down()
        return frozenset(name for a in self._announcements for name in a.handlers)

    def _warn_if_serving_workers_are_down(self) -> None:
        """Say so when every worker that serves some handler has stopped announcing."""
        stale_before = self.clock.now() - self._lease()
        alive = {n for a in self._announcements if a.seen_at >= stale_before for n in a.handlers}
        down = {n for a in self._announcements for n in a.handlers} - alive
        if down:
            log.warning(
                "no live worker serves handler(s) %s (last seen over %s ago): their tasks "
                "wait on their queues until one is back",
                ", ".join(sorted(down)),
                self._lease(),
            )

    def _publish(self, messages: list[OutboxMessage]) -> None:
        """Send committed messages.

        Their lease already runs from the commit, so a process that dies right here loses
        nothing: the relay sends them when the lease ends.
        """
        if not messages:
            return
        try:
            self.dispatcher.publish(messages)
        except Exception as error:  # the broker is down: the relay republishes once it is back
            log.warning(
                "publishing %d message(s) failed (%s); the relay will retry", len(messages), error
            )
            log.debug("publish failure", exc_info=True)
            self._due_now(messages)

    def _due_now(self, messages: list[OutboxMessage]) -> None:
        """Let the relay send unpublished messages as soon as the broker answers again."""
        try:
            self.store.due_now(messages, self.clock.now())
        except Exception:  # the store is down too: the lease from the commit still holds
            log.warning("could not mark %d message(s) due", len(messages), exc_info=True)


_ANNOUNCEMENTS_TTL_SECONDS = 5.0


def _function_name(info: ResourceInfo, parameters: Json) -> str | None:
    """The handler a Lambda-style resource names (None: not a Lambda resource)."""
    if info.kind is ResourceKind.LAMBDA_FUNCTION:
        return info.resource
    if info.resource_type != "lambda" or base_action(info) != "invoke":
        return None
    function = parameters.get("FunctionName") if isinstance(parameters, dict) else None
    return str(function).split(":function:")[-1].split(":")[0] if function else info.resource


def _timer_shadow(session: StepSession, timer: StartTimer) -> str | None:
    """Flower's name of a timer's message: the state it continues (``machine.state``).

    The execution's own timeout continues no state: it keeps the task's name.
    """
    thread = session.thread(timer.thread_id)
    if timer.kind is TimerKind.EXECUTION_TIMEOUT or thread is None:
        return None
    return f"{session.header.state_machine_name}.{thread.state}"


__all__ = [
    "CallbackOutcome",
    "Dispatcher",
    "Runtime",
    "RuntimeSettings",
    "TaskFailed",
    "TaskSucceeded",
]
