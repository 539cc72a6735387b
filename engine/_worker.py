"""What a worker does with a task message: claim it, run the handler, report the outcome.

Shared by the Celery task (:mod:`tasks.handlers`) and the in-memory test dispatcher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from engine._errors import StatesError
from engine._integrations.mocks import state_invocation
from engine._integrations.services import Services, durable_services
from engine._interpreter.failures import StateFailure
from engine._observe.metrics import observe_handler
from engine._resources import AWAITING, HandlerRegistry, Outcome, TaskCall, outcome_event
from engine._runtime import Runtime
from engine._store.rows import TaskInvocation

Json = Any


def execute_task(
    runtime: Runtime,
    handlers: HandlerRegistry,
    execution_id: int,
    thread_id: str,
    seq: int,
    *,
    services: Services | None = None,
    before_report: Callable[[], object] | None = None,
) -> StateFailure | None:
    """Claim the task, run its resource while renewing the claim, report the outcome.

    ``services``: what integrations call (default: this runtime's, without Celery).

    An outcome that comes later (`AWAITING`: a callback token, a ``.sync`` job) releases
    the task's message; the task itself waits in the store for that outcome.

    Returns the failure the report recorded (the handler's error), if any.
    """
    task = runtime.begin_task(execution_id, thread_id, seq)
    if task is None:
        return None
    call = TaskCall(
        resource=task.resource,
        parameters=task.parameters,
        execution_arn=task.execution_arn,
        state_name=task.state_name,
        attempt=task.attempt,
        task_token=task.task_token,
        thread_id=thread_id,
        seq=seq,
        execution_id=execution_id,
        test_case=task.test_case,
        state_invocation=_state_invocation(runtime, task, thread_id),
    )
    began = time.monotonic()
    with lease_keeper(runtime).holding(execution_id, thread_id, seq):
        outcome = _invoke(handlers, call, services or _services_of(runtime, handlers))
    elapsed = time.monotonic() - began
    observe_handler(task.resource, task.parameters, _outcome_label(outcome), elapsed)
    if before_report is not None:
        before_report()
    if outcome is AWAITING:
        runtime.task_submitted(execution_id, thread_id, seq)
        return None
    event = outcome_event(thread_id, seq, outcome)
    return runtime.finish_task(execution_id, thread_id, seq, event)


def _outcome_label(outcome: Outcome | StatesError) -> str:
    """How a handler run ended, as the handler duration metric labels it."""
    if outcome is AWAITING:
        return "submitted"  # its result comes later (a task token, a .sync job)
    return "failed" if isinstance(outcome, StatesError) else "succeeded"


def _state_invocation(runtime: Runtime, task: TaskInvocation, thread_id: str) -> int:
    """In a test case, the call's number among its state's calls (read off the history)."""
    if task.test_case is None:
        return 0
    history = runtime.store.history(task.execution_arn)
    return state_invocation(history, thread_id, task.state_name)


def _invoke(handlers: HandlerRegistry, call: TaskCall, services: Services) -> Outcome | StatesError:
    try:
        return handlers.invoke(call, services)
    except StatesError as error:
        return error


_services: WeakKeyDictionary[Runtime, Services] = WeakKeyDictionary()


def _services_of(runtime: Runtime, handlers: HandlerRegistry) -> Services:
    """The services of ``runtime`` (built once: a client per task would be waste)."""
    found = _services.get(runtime)
    if found is None:
        found = _services[runtime] = durable_services(runtime, handlers)
    return found


class LeaseKeeper:
    """Renews the claims of every handler running in this process, from one thread.

    A claim is renewed once a third of the lease has passed since it was taken or last
    renewed, so the relay never hands a live task to another worker. One thread per
    process rather than one per handler run: starting a thread costs more than a no-op
    handler. The thread only calls :meth:`renew_due` on the runtime's clock; tests call
    it themselves on a fake clock and start no thread (``background=False``).
    """

    def __init__(self, runtime: Runtime, *, background: bool = True) -> None:
        self.runtime = runtime
        self.clock = runtime.clock
        self.background = background
        self._running: dict[tuple[int, str, int], int] = {}
        self._renewed_at: dict[tuple[int, str, int], datetime] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def interval(self) -> timedelta:
        """How long a claim goes between renewals: a third of the claim's length."""
        return timedelta(seconds=self.runtime.settings.claim_seconds / 3)

    @contextmanager
    def holding(self, execution_id: int, thread_id: str, seq: int) -> Iterator[None]:
        """Keep this task's claim alive for the duration of the block."""
        key = (execution_id, thread_id, seq)
        with self._lock:
            self._running[key] = self._running.get(key, 0) + 1
            self._renewed_at.setdefault(key, self.clock.now())  # claimed just before
            if self.background and (self._thread is None or not self._thread.is_alive()):
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
                    del self._running[key], self._renewed_at[key]

    def renew_due(self) -> list[tuple[int, str, int]]:
        """Renew every held claim whose last renewal is an interval old; returns them."""
        now = self.clock.now()
        with self._lock:
            due = [key for key, at in self._renewed_at.items() if now - at >= self.interval]
        renewed = []
        for key in due:
            try:
                self.runtime.renew_task_lease(*key)
            except Exception:  # a failed renewal only risks a duplicate run, never a loss
                continue
            renewed.append(key)
            with self._lock:
                if key in self._renewed_at:
                    self._renewed_at[key] = now
        return renewed

    def _loop(self) -> None:
        # Wakes a few times per interval so a claim taken between two wake-ups is renewed
        # well before a third of its lease is gone.
        pause = max(self.interval.total_seconds() / 4, 0.1)
        while True:  # the keeper lives as long as its process (a daemon thread)
            time.sleep(pause)
            self.renew_due()


_keepers: WeakKeyDictionary[Runtime, LeaseKeeper] = WeakKeyDictionary()
_keepers_lock = threading.Lock()


def lease_keeper(runtime: Runtime) -> LeaseKeeper:
    """The lease keeper of ``runtime`` (one per runtime, created on first use)."""
    with _keepers_lock:
        keeper = _keepers.get(runtime)
        if keeper is None:
            keeper = _keepers[runtime] = LeaseKeeper(runtime)
        return keeper
