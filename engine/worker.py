"""What a worker does with a task message: claim it, run the handler, report the outcome.

Shared by the Celery task (:mod:`tasks.handlers`) and the in-memory test dispatcher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

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
    call = TaskCall(
        resource=task.resource,
        parameters=task.parameters,
        execution_arn=task.execution_arn,
        state_name=task.state_name,
        attempt=task.attempt,
        task_token=task.task_token,
        thread_id=thread_id,
        seq=seq,
    )
    with lease_keeper(runtime).holding(execution_id, thread_id, seq):
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


class LeaseKeeper:
    """Renews the claims of every handler running in this process, from one thread.

    A claim is renewed at least every third of the lease while its handler runs, so the
    relay never hands a live task to another worker. One thread per process rather than
    one per handler run: starting a thread costs more than a no-op handler.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._running: dict[tuple[int, str, int], int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, execution_id: int, thread_id: str, seq: int) -> Iterator[None]:
        """Keep this task's claim alive for the duration of the block."""
        key = (execution_id, thread_id, seq)
        with self._lock:
            self._running[key] = self._running.get(key, 0) + 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, daemon=True, name="stepline-leases"
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._running[key] -= 1
                if not self._running[key]:
                    del self._running[key]

    def _loop(self) -> None:
        interval = max(self.runtime.settings.lease_seconds / 3, 0.5)
        while True:  # the keeper lives as long as its process (a daemon thread)
            time.sleep(interval)
            with self._lock:
                keys = list(self._running)
            for key in keys:
                try:
                    self.runtime.renew_task_lease(*key)
                except Exception:  # a failed renewal only risks a duplicate run, never a loss
                    continue


_keepers: WeakKeyDictionary[Runtime, LeaseKeeper] = WeakKeyDictionary()
_keepers_lock = threading.Lock()


def lease_keeper(runtime: Runtime) -> LeaseKeeper:
    """The lease keeper of ``runtime`` (one per runtime, created on first use)."""
    with _keepers_lock:
        keeper = _keepers.get(runtime)
        if keeper is None:
            keeper = _keepers[runtime] = LeaseKeeper(runtime)
        return keeper
