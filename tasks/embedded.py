"""An in-process Celery worker plus the beat jobs, for the embedded default.

``stepline run`` on a fresh machine uses this: a real Celery worker (thread pool)
consuming the SQLite-backed broker, and a loop doing what celery beat does in
production (relay unsent messages, fire due timers).

Several ``stepline run`` may share one folder's store and broker (ADR 0036): each worker
has a name of its own, the broker's tables and queues are created one process at a time,
and a worker that stops finishes the tasks it runs and hands back the messages it holds.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import Celery
from celery.worker import WorkController

from engine._runtime import Runtime

log = logging.getLogger("stepline.embedded")

START_TIMEOUT_SECONDS = 60.0
BROKER_LOCK = "broker.lock"
"""The file in the embedded folder that serialises creating the broker's queues."""


class EmbeddedWorkerFailed(RuntimeError):
    """The embedded worker stopped, or never became ready, before taking any message."""


class _EmbeddedWorker(WorkController):  # type: ignore[misc]
    """A worker that tells when its consumer is ready, and why it stopped if it never was."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ready = threading.Event()
        self.failure: BaseException | None = None
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer: Any) -> None:
        """The consumer is up: messages will be taken from now on."""
        self.ready.set()

    def stop(self, in_sighandler: bool = False, exitcode: int | None = None) -> None:
        """Warm shutdown; before the worker was ready, keep the error that stopped it."""
        # Celery logs an unrecoverable start-up error and calls stop() from its handler;
        # the exception is only reachable here, and the caller must be told which it was.
        if not self.ready.is_set() and self.failure is None:
            self.failure = sys.exc_info()[1]
        super().stop(in_sighandler=in_sighandler, exitcode=exitcode)


def worker_hostname() -> str:
    """This process's worker name: several embedded runs must not share one."""
    return f"stepline-embedded-{os.getpid()}@{socket.gethostname()}"


@contextmanager
def embedded_worker(
    app: Celery,
    queues: list[str],
    *,
    concurrency: int = 2,
    loglevel: str = "WARNING",
    lock: Path | None = None,
) -> Iterator[WorkController]:
    """Run a Celery worker in a daemon thread for the duration of the block.

    ``lock``: a file that serialises declaring ``queues`` with other processes sharing the
    broker (the embedded SQLite broker needs it; see `declare_queues`).

    Raises:
        EmbeddedWorkerFailed: the worker stopped, or was not ready within a minute.
    """
    if lock is not None:
        declare_queues(app, queues, lock)
    worker = _EmbeddedWorker(
        app=app,
        concurrency=concurrency,
        pool="threads",
        loglevel=loglevel,
        queues=queues,
        hostname=worker_hostname(),
        ready_callback=None,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    thread = threading.Thread(target=worker.start, daemon=True, name="stepline-worker")
    thread.start()
    _await_ready(worker, thread)
    # A fleet member like any worker (ADR 0035): another run in this folder resends what
    # this one holds should it be killed, and relays for it.
    from tasks.app import join_fleet, leave_fleet

    join_fleet(worker.hostname, queues)
    try:
        yield worker
    finally:
        worker.stop(in_sighandler=False, exitcode=0)
        thread.join(timeout=10)
        leave_fleet(worker.hostname)


def _await_ready(worker: _EmbeddedWorker, thread: threading.Thread) -> None:
    """Return once the worker consumes; raise at once if its thread ended instead."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not worker.ready.wait(timeout=0.1):
        if thread.is_alive() and time.monotonic() < deadline:
            continue
        worker.stop(in_sighandler=False, exitcode=1)
        if worker.failure is not None:
            raise EmbeddedWorkerFailed(
                f"the embedded Celery worker could not start: {worker.failure!r}"
            ) from worker.failure
        raise EmbeddedWorkerFailed(
            f"the embedded Celery worker did not start within {START_TIMEOUT_SECONDS:.0f} s"
        )


def declare_queues(app: Celery, queues: list[str], lock: Path) -> None:
    """Create the broker's tables and ``queues``, one process at a time.

    kombu's SQLAlchemy transport guards both with a lock of its own process only: two
    processes starting on one broker race to insert the same queue row, and the loser's
    consumer dies on the UNIQUE constraint. Declared here first, under an OS lock, the
    rows exist before any worker or publisher of this process looks for them.
    """
    with folder_lock(lock), app.connection_for_write() as connection:
        channel = connection.default_channel
        for name in queues:
            channel.queue_declare(queue=name)


@contextmanager
def folder_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def beat_loop(runtime: Runtime, interval: float) -> Iterator[None]:
    """Relay unsent messages and fire due timers every ``interval`` seconds."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                runtime.relay()
                runtime.fire_due_timers()
            except Exception:  # keep beating: the next round retries
                log.exception("beat round failed")

    thread = threading.Thread(target=loop, daemon=True, name="stepline-beat")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
