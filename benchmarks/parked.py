"""(c) Many executions parked in a one-year Wait: what they cost the worker.

A Wait far beyond the timer horizon is one timer row and no message (docs/design.md §4), so
the worker's memory should not grow with the number of parked executions. The starts
are spread over several processes (``starters``); the worker memory (RSS and PSS of
the prefork tree) is read after a warm-up and again once every execution is parked.
The raw-Celery baseline is the same wait as broker ETA tasks (``countdown`` = 1 year),
which the worker holds in memory.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from benchmarks import machines
from benchmarks.fleet import (
    Services,
    SteplineFleet,
    await_condition,
    build_client,
    celery_settings,
    stepline_fleet,
)
from benchmarks.memory import tree_memory
from benchmarks.options import Options
from benchmarks.raw import parked_memory
from engine._store.db import make_engine
from engine._store.repository import Store
from engine._store.rows import TIMERS

WARM_UP = 100


def run(services: Services, options: Options, log: Any = print) -> dict[str, Any]:
    """Stepline's and raw Celery's worker memory with ``parked`` / ``raw_parked`` waits."""
    raw = parked_memory(services, options.raw_parked)
    log(f"(c) raw: {raw}")
    with stepline_fleet(services, "postgres") as fleet:
        result = park(fleet, services, options)
    log(f"(c) stepline: {result}")
    return {"stepline": result, "raw": raw}


def park(fleet: SteplineFleet, services: Services, options: Options) -> dict[str, Any]:
    """Park ``options.parked`` executions; memory before/after, row counts, timings."""
    machine = fleet.create("parked", machines.parked())
    for _ in range(WARM_UP):
        fleet.start(machine, {})
    _await_parked(fleet, WARM_UP)
    time.sleep(2)  # let the last step settle before the baseline reading
    before = tree_memory(fleet.worker_pid)
    redis_before = _redis_memory(fleet.broker)
    started = time.monotonic()
    _start_in_parallel(fleet, services, machine, options)
    start_seconds = time.monotonic() - started
    _await_parked(fleet, WARM_UP + options.parked)
    park_seconds = time.monotonic() - started
    time.sleep(2)
    after = tree_memory(fleet.worker_pid)
    return {
        "parked": options.parked,
        "start_seconds": start_seconds,
        "park_seconds": park_seconds,
        "starts_per_s": options.parked / start_seconds,
        "rss_before_mib": before.rss_mib,
        "rss_after_mib": after.rss_mib,
        "pss_before_mib": before.pss_mib,
        "pss_after_mib": after.pss_mib,
        "processes": after.processes,
        "redis_used_mib_before": redis_before,
        "redis_used_mib_after": _redis_memory(fleet.broker),
        "counts": fleet.store.counts(),
        "queues_empty": fleet.queues_empty(),
    }


def _await_parked(fleet: SteplineFleet, count: int) -> None:
    def parked() -> bool:
        with fleet.store.engine.connect() as db:
            timers = int(db.scalar(select(func.count()).select_from(TIMERS)) or 0)
        return timers >= count and fleet.queues_empty()

    await_condition(parked, 3600, f"{count} parked executions", interval=1.0)


def _redis_memory(broker: redis.Redis) -> float:
    return float(broker.info("memory")["used_memory"]) / (1024 * 1024)


def _start_in_parallel(
    fleet: SteplineFleet, services: Services, machine: str, options: Options
) -> None:
    home = Path(fleet.processes.env["STEPLINE_HOME"])
    url = fleet.processes.env["STEPLINE_DATABASE_URL"]
    share, extra = divmod(options.parked, options.starters)
    counts = [share + (1 if index < extra else 0) for index in range(options.starters)]
    context = multiprocessing.get_context("spawn")  # no inherited connections
    with ProcessPoolExecutor(options.starters, mp_context=context) as pool:
        futures = [
            pool.submit(_start_many, services, url, home, machine, count) for count in counts
        ]
        started = sum(future.result() for future in futures)
    assert started == options.parked, (started, options.parked)


def _start_many(services: Services, url: str, home: Path, machine: str, count: int) -> int:
    """In a starter process: its own store and client, ``count`` StartExecution calls."""
    store = Store(make_engine(url))
    client, _ = build_client(celery_settings(services, url, home), store)
    for _ in range(count):
        client.start_execution(stateMachineArn=machine, input="{}")
    store.engine.dispose()
    return count
