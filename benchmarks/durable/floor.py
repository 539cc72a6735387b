"""The floor's side of each measurement: a floor worker fleet and the client that drives it.

A floor chain is what a stepline execution of ``hops`` one-transition states is, minus the
engine: a start (one transaction inserting the execution's row, then the first hop's
message), then ``hops`` tasks, each one checkpoint transaction and the next message.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from celery import Celery

from benchmarks.durable import floorapp, floordb
from benchmarks.fleet import WORKER_ARGS, Processes, Services, _await_consumer, fleet_env
from benchmarks.raw import await_time, publisher


@dataclass
class FloorClient:
    """Starts floor chains: one transaction, then the first hop's message."""

    store: floordb.FloorDB
    app: Celery

    def start(self, hops: int, done_key: str, total: int = 1) -> int:
        """The floor's durable start; returns the execution's id."""
        execution_id = self.store.start("floor")
        args = (execution_id, 1, hops, done_key, total)
        self.app.signature(floorapp.HOP, args=args, queue=floorapp.QUEUE).apply_async()
        return execution_id


@dataclass
class FloorFleet:
    """A running floor worker and a client on the same store and broker."""

    client: FloorClient
    broker: redis.Redis
    processes: Processes

    def chain_ms(self, hops: int, timeout: float = 300) -> float:
        """One chain of ``hops`` hops, from the start call to the last commit; ms per hop."""
        key = f"bench:floor:{uuid.uuid4().hex}"
        started = time.time()
        self.client.start(hops, key)
        return (self._await_time(key + ":done", timeout) - started) * 1000 / hops

    def transitions_per_second(self, chains: int, hops: int) -> dict[str, float]:
        """Start ``chains`` chains at once, wait for all; hops/s from first start to last."""
        for _ in range(4):  # as stepline's (b): both pool children and caches warm
            self.chain_ms(hops)
        key = f"bench:floor:{uuid.uuid4().hex}"
        events_before = self.client.store.events()
        started = time.time()
        for _ in range(chains):
            self.client.start(hops, key, total=chains)
        start_seconds = time.time() - started
        wall = self._await_time(key + ":done", 600) - started
        written = self.client.store.events() - events_before
        assert written == chains * hops, (written, chains * hops)  # no hop skipped its write
        return {
            "transitions": chains * hops,
            "seconds": wall,
            "start_seconds": start_seconds,
            "transitions_per_s": chains * hops / wall,
        }

    def _await_time(self, key: str, timeout: float) -> float:
        return await_time(self.broker, key, timeout, "floor")


@contextmanager
def floor_fleet(services: Services, url: str) -> Iterator[FloorFleet]:
    """A floor worker (prefork -c 2) on the store at ``url``, its tables made there.

    Run beside a stepline fleet on the same store and Redis db (benchmarks.fleet's
    ``stepline_fleet`` made both fresh and cleans both up): the floor's tables sit beside
    stepline's, its queue beside stepline's queues, so the two are timed turn about on the
    same database while the other's worker idles.
    """
    with tempfile.TemporaryDirectory(prefix="stepline-bench-floor-") as folder:
        store = floordb.connect(url)
        store.create_schema()
        processes = Processes(fleet_env(services, url, Path(folder)))
        queue = floorapp.QUEUE
        processes.start(
            "worker", "benchmarks.durable.floorapp", "worker", "-Q", queue, *WORKER_ARGS
        )
        broker = redis.Redis.from_url(services.redis)
        _await_consumer(broker, queue)
        try:
            yield FloorFleet(FloorClient(store, publisher(services)), broker, processes)
        finally:
            processes.stop_all()
            store.close()
