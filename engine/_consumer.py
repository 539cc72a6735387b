"""One consumer path: what a worker does with each kind of message.

The Celery tasks (:mod:`tasks`) and the in-memory fake (:mod:`engine.testing`) both hand
every message to :func:`consume`, so a test with the fake runs exactly the code a worker
runs. The Celery task that carries each kind is named here too, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from typing import Any

from engine import _children as children
from engine._integrations.services import Services
from engine._interpreter.failures import StateFailure
from engine._messaging.status import deliver_status_event
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.repository import OutboxMessage, TimerKey, timer_address
from engine._worker import execute_task

TASK_NAMES: dict[MessageKind, str] = {
    MessageKind.STEP: "stepline.step",
    MessageKind.TASK: "stepline.run_task",
    MessageKind.TIMER: "stepline.fire_timer",
    MessageKind.CHILD: "stepline.child_finished",
    MessageKind.STOP: "stepline.stop_child",
    MessageKind.EVENT: "stepline.status_event",
}
"""The Celery task name of each message kind (Flower shows it under the state's shadow)."""


def message_args(message: OutboxMessage) -> tuple[Any, ...]:
    """The arguments a message of ``message.kind`` carries: ids, never payloads."""
    if MessageKind(message.kind) is MessageKind.TIMER:
        timer = message.timer  # (execution, thread, seq, kind); older messages: the row id
        return astuple(timer) if isinstance(timer, TimerKey) else (timer,)
    return (message.execution_id, message.thread_id, message.seq)


def consume(
    runtime: Runtime,
    handlers: HandlerRegistry,
    kind: MessageKind,
    args: tuple[Any, ...],
    *,
    services: Services | None = None,
    before_report: Callable[[], object] | None = None,
) -> StateFailure | None:
    """Carry out one message: enter a state, fire a timer, or run a Task's handler.

    Returns the failure the message's step recorded (a Fail state, a handler's error, a
    timeout), for the Celery task to report; the store has committed it either way.

    ``services``: what integrations call (the worker's, with its Celery app).
    ``before_report``: called after a handler returns and before its outcome is
    reported (the fake fires timers that fell due while a handler advanced a fake clock).
    """
    if kind is MessageKind.STEP:
        return runtime.advance(*args)
    if kind is MessageKind.TIMER:
        return runtime.fire_timer(timer_address(*args))
    if kind is MessageKind.TASK:
        return execute_task(
            runtime, handlers, *args, services=services, before_report=before_report
        )
    if kind is MessageKind.EVENT:
        deliver_status_event(runtime, handlers, services, *args)
    elif kind is MessageKind.CHILD:
        children.complete_parent(runtime, *args)
    elif kind is MessageKind.STOP:
        children.stop_child(runtime, *args)
    else:  # pragma: no cover - MessageKind is closed
        raise ValueError(f"unknown message kind {kind!r}")
    return None
