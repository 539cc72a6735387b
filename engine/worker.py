"""What a worker does with a task message: claim it, run the handler, report the outcome.

Shared by the Celery task (:mod:`tasks.handlers`) and the in-memory test dispatcher.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.errors import StatesError
from engine.interpreter.events import Event, TaskFailed, TaskSucceeded
from engine.resources import HandlerRegistry, TaskCall
from engine.runtime import Runtime

Json = Any


def execute_task(
    runtime: Runtime,
    handlers: HandlerRegistry,
    execution_id: int,
    thread_id: str,
    seq: int,
    *,
    before_report: Callable[[], object] | None = None,
) -> None:
    """Claim the task, run its handler while renewing the claim, report the outcome."""
    task = runtime.begin_task(execution_id, thread_id, seq)
    if task is None:
        return
    record = runtime.store.execution_by_id(execution_id)
    call = TaskCall(
        resource=task.resource,
        parameters=task.parameters,
        execution_arn=record.arn if record else "",
        state_name=task.state_name,
        attempt=task.attempt,
        task_token=task.task_token,
    )
    with _Renewing(runtime, execution_id, thread_id, seq):
        event = _invoke(handlers, call, thread_id, seq)
    if before_report is not None:
        before_report()
    if task.task_token is not None and isinstance(event, TaskSucceeded):
        runtime.task_submitted(execution_id, thread_id, seq)  # SendTaskSuccess completes it
        return
    runtime.finish_task(execution_id, thread_id, seq, event)


def _invoke(handlers: HandlerRegistry, call: TaskCall, thread_id: str, seq: int) -> Event:
    try:
        return TaskSucceeded(thread_id, seq, handlers.invoke(call))
    except StatesError as error:
        return TaskFailed(thread_id, seq, error.name, error.cause)


class _Renewing:
    """Renews the task's claim every third of the lease while the handler runs."""

    def __init__(self, runtime: Runtime, execution_id: int, thread_id: str, seq: int) -> None:
        self.runtime = runtime
        self.key = (execution_id, thread_id, seq)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="stepline-lease")

    def __enter__(self) -> None:
        self.thread.start()

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _loop(self) -> None:
        interval = max(self.runtime.settings.lease_seconds / 3, 0.5)
        while not self.stop.wait(interval):
            try:
                self.runtime.renew_task_lease(*self.key)
            except Exception:  # a failed renewal only risks a duplicate run, never a loss
                continue
