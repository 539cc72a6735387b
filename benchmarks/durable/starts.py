"""StartExecution vs the floor's durable start, per call, on the same store.

stepline: the durable client's ``start_execution`` (Celery dispatcher; its message goes to
Redis). The floor: one transaction inserting an execution row, then the first hop's
message (benchmarks.durable.floor). Both from this process, on the same database (the
floor's tables beside stepline's) and the same Redis db, with no worker consuming, so
neither pays for the other's executions running. Calls alternate in batches; each side's
figure is the median of its calls' latencies.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks import machines
from benchmarks.durable import floordb
from benchmarks.durable.floor import FloorClient
from benchmarks.fleet import ROLE, Services, build_client, celery_settings
from benchmarks.raw import publisher
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store

BATCH = 20
WARM_UP = 20


def start_latency(services: Services, kind: str, calls: int) -> dict[str, Any]:
    """Per-call ms of ``calls`` stepline starts and ``calls`` floor starts, interleaved."""
    with tempfile.TemporaryDirectory(prefix="stepline-bench-starts-") as folder:
        home = Path(folder)
        url = services.store_url(kind, home)
        if kind == "postgres":
            services.recreate_database()
        services.flush_redis()
        upgrade(url)
        store = Store(make_engine(url))
        client, _runtime = build_client(celery_settings(services, url, home), store)
        floor = FloorClient(floordb.connect(url), publisher(services))
        floor.store.create_schema()
        try:
            machine = client.create_state_machine(
                name="five", definition=json.dumps(machines.five_states()), roleArn=ROLE
            )["stateMachineArn"]

            def stepline_start() -> None:
                client.start_execution(stateMachineArn=machine, input="{}")

            def floor_start() -> None:
                floor.start(5, "bench:floor:unused")

            sides: dict[str, Callable[[], None]] = {
                "stepline": stepline_start,
                "floor": floor_start,
            }
            timings: dict[str, list[float]] = {name: [] for name in sides}
            for start in sides.values():
                for _ in range(WARM_UP):
                    start()
            for batch in range(0, calls, BATCH):
                order = list(sides.items())
                if (batch // BATCH) % 2:
                    order.reverse()
                for name, start in order:
                    for _ in range(min(BATCH, calls - batch)):
                        began = time.perf_counter()
                        start()
                        timings[name].append((time.perf_counter() - began) * 1000)
            _check_rows(store, calls + WARM_UP)
        finally:
            floor.store.close()
            store.engine.dispose()
            services.flush_redis()
    return {
        name: {
            "median_ms": statistics.median(values),
            "mean_ms": statistics.fmean(values),
            "p95_ms": statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0],
            "calls": len(values),
        }
        for name, values in timings.items()
    }


def _check_rows(store: Store, expected: int) -> None:
    """Both sides stored what they said they started (no side timed doing less)."""
    with store.engine.connect() as db:
        ours = db.scalar(text("SELECT count(*) FROM executions"))
        floors = db.scalar(text("SELECT count(*) FROM floor_executions"))
    if ours != expected or floors != expected:
        raise AssertionError(f"started {expected} each; stored {ours} and {floors}")
