"""An in-process Celery worker plus the beat jobs, for the embedded default.

``stepline run`` on a fresh machine uses this: a real Celery worker (thread pool)
consuming the SQLite-backed broker, and a loop doing what celery beat does in
production (relay unsent messages, fire due timers).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.worker import WorkController

from engine._runtime import Runtime

log = logging.getLogger("stepline.embedded")


class _EmbeddedWorker(WorkController):  # type: ignore[misc]
    """A worker that tells when its consumer is ready."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ready = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer: Any) -> None:
        """The consumer is up: messages will be taken from now on."""
        self.ready.set()


@contextmanager
def embedded_worker(
    app: Celery, queues: list[str], *, concurrency: int = 2, loglevel: str = "WARNING"
) -> Iterator[WorkController]:
    """Run a Celery worker in a daemon thread for the duration of the block."""
    worker = _EmbeddedWorker(
        app=app,
        concurrency=concurrency,
        pool="threads",
        loglevel=loglevel,
        queues=queues,
        hostname="stepline-embedded@localhost",
        ready_callback=None,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    thread = threading.Thread(target=worker.start, daemon=True, name="stepline-worker")
    thread.start()
    if not worker.ready.wait(timeout=60):
        raise RuntimeError("the embedded Celery worker did not start within 60 s")
    try:
        yield worker
    finally:
        worker.stop(in_sighandler=False, exitcode=0)
        thread.join(timeout=10)


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
