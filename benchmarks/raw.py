"""The raw-Celery side of each benchmark (worker: benchmarks.rawapp)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from benchmarks import rawapp
from benchmarks.fleet import Processes, Services, await_condition, raw_fleet
from benchmarks.memory import tree_memory
from config.celery import celery_config
from config.settings import Settings

YEAR_SECONDS = 365 * 24 * 3600


def publisher(services: Services) -> Celery:
    """A client-side app with the worker's settings, to send raw tasks."""
    app = Celery("bench_raw_client")
    app.conf.update(celery_config(Settings(home=Path("/tmp"), broker_url=services.redis)))
    return app


@dataclass
class RawWorker:
    """A running raw worker and a client to feed it."""

    app: Celery
    broker: redis.Redis
    processes: Processes

    @property
    def pid(self) -> int:
        """The pid of the worker's main process."""
        return self.processes.running["worker"].pid

    def hops(self, count: int, timeout: float = 300) -> float:
        """Run a ``count``-hop self-enqueuing chain; returns ms per hop."""
        key = f"bench:hop:{uuid.uuid4().hex}"
        started = time.time()
        self.app.signature(rawapp.HOP, args=(count - 1, key), queue=rawapp.QUEUE).apply_async()
        ended = self._await_time(key, timeout)
        return (ended - started) * 1000 / count

    def noops(self, count: int, timeout: float = 600) -> float:
        """Publish ``count`` no-op tasks as fast as one client can; returns the wall seconds."""
        key = f"bench:noop:{uuid.uuid4().hex}"
        signature = self.app.signature(rawapp.NOOP, args=(key, count), queue=rawapp.QUEUE)
        started = time.time()
        with self.app.producer_or_acquire() as producer:
            for _ in range(count):
                signature.apply_async(producer=producer)
        return self._await_time(key + ":done", timeout) - started

    def _await_time(self, key: str, timeout: float) -> float:
        return await_time(self.broker, key, timeout, "raw Celery")


def await_time(broker: redis.Redis, key: str, timeout: float, who: str) -> float:
    """The clock reading a task pushed onto ``key`` when it ended (a benchmark's end)."""
    # Short BLPOPs: redis-py's socket timeout would cut a long one.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = broker.blpop([key], timeout=1)
        if item is not None:
            return float(item[1])
    raise TimeoutError(f"{who}: nothing on {key} within {timeout}s")


@contextmanager
def raw_worker(services: Services, *, flush: bool = True) -> Iterator[RawWorker]:
    """A warmed-up raw worker (its process group stopped on exit; ``flush``: raw_fleet's)."""
    with raw_fleet(services, flush=flush) as (processes, broker):
        worker = RawWorker(publisher(services), broker, processes)
        worker.hops(20, timeout=120)  # up, connected, both children warm
        worker.noops(50, timeout=120)
        yield worker


def parked_memory(services: Services, count: int) -> dict[str, Any]:
    """Worker memory before and after ``count`` tasks sent with a one-year countdown."""
    with raw_worker(services) as worker:
        before = tree_memory(worker.pid)
        signature = worker.app.signature(rawapp.PARK, queue=rawapp.QUEUE)
        started = time.monotonic()
        with worker.app.producer_or_acquire() as producer:
            for _ in range(count):
                signature.apply_async(countdown=YEAR_SECONDS, producer=producer)
        await_condition(
            lambda: (
                worker.broker.llen(rawapp.QUEUE) == 0 and worker.broker.hlen("unacked") >= count
            ),
            1800,
            "the raw worker to take every parked task",
            interval=0.5,
        )
        seconds = time.monotonic() - started
        time.sleep(2)  # let the worker settle after its last receive before reading memory
        after = tree_memory(worker.pid)
        # kill -9: a warm shutdown would first push every parked task back to Redis.
        worker.processes.kill("worker")
    return {
        "count": count,
        "seconds": seconds,
        "rss_before_mib": before.rss_mib,
        "rss_after_mib": after.rss_mib,
        "pss_before_mib": before.pss_mib,
        "pss_after_mib": after.pss_mib,
    }
