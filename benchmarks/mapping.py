"""(d) A Distributed Map over many items with a MaxConcurrency: time, in-flight, memory.

In-flight is measured two ways: the ``tracked`` handler counts in Redis how many
handlers run at the same instant and keeps the peak (exact), and a sampler counts the
Map's RUNNING child threads in the store every 50 ms. The worker tree's memory is
sampled every 250 ms. Raw Celery's baseline is the same number of no-op tasks.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import and_, func, select

from benchmarks import handlers, machines
from benchmarks.fleet import Services, SteplineFleet, stepline_fleet
from benchmarks.memory import PeakSampler, Sampler, tree_memory
from benchmarks.options import Options
from benchmarks.raw import raw_worker
from benchmarks.stats import summarise
from engine._interpreter.snapshot import ROOT_THREAD_ID
from engine._store.rows import THREADS


def run(services: Services, options: Options, log: Any = print) -> dict[str, Any]:
    """``map_runs`` rounds of raw no-ops then the Map; medians and every sample."""
    raw: list[float] = []
    runs: list[dict[str, Any]] = []
    for round_number in range(options.map_runs):
        with raw_worker(services) as worker:
            raw.append(worker.noops(options.map_items))
        with stepline_fleet(services, "postgres") as fleet:
            runs.append(map_once(fleet, options.map_items, options.map_concurrency))
        log(f"(d) round {round_number + 1}: raw {raw[-1]:.1f} s, stepline {runs[-1]}")
    return {
        "items": options.map_items,
        "max_concurrency": options.map_concurrency,
        "raw_seconds": summarise(raw).as_dict(),
        "seconds": summarise([r["seconds"] for r in runs]).as_dict(),
        "peak_in_flight_handlers": max(r["peak_in_flight_handlers"] for r in runs),
        "peak_running_children": max(r["peak_running_children"] for r in runs),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "runs": runs,
        "raw_samples": raw,
    }


def map_once(fleet: SteplineFleet, items: int, concurrency: int) -> dict[str, Any]:
    """Run the Map once; wall time, peaks, memory, row counts."""
    machine = fleet.create("fan", machines.distributed_map(concurrency))
    fleet.await_done(fleet.start(machine, {"items": list(range(8))}), timeout=120)  # warm-up
    fleet.broker.delete(handlers.RUNNING_KEY, handlers.PEAK_KEY, handlers.CALLS_KEY)
    before = tree_memory(fleet.worker_pid)
    started = time.time()
    arn = fleet.start(machine, {"items": list(range(items))})
    execution_id = fleet.store.execution_id(arn)
    assert execution_id is not None
    with PeakSampler(fleet.worker_pid) as memory, _ChildSampler(fleet, execution_id) as children:
        described = fleet.await_done(arn, timeout=3600, interval=0.5)
    assert described["status"] == "SUCCEEDED", described
    seconds = described["stopDate"].timestamp() - started
    return {
        "seconds": seconds,
        "items_per_s": items / seconds,
        "peak_in_flight_handlers": int(fleet.broker.get(handlers.PEAK_KEY) or 0),
        "handler_calls": int(fleet.broker.get(handlers.CALLS_KEY) or 0),
        "peak_running_children": children.peak,
        "rss_before_mib": before.rss_mib,
        "peak_rss_mib": memory.peak.rss_mib,
        "peak_pss_mib": memory.peak.pss_mib,
        "counts": fleet.store.counts(),
    }


class _ChildSampler(Sampler):
    """Counts the Map's RUNNING children in the store every ``interval`` s; keeps the peak."""

    def __init__(self, fleet: SteplineFleet, execution_id: int, interval: float = 0.05) -> None:
        super().__init__(interval)
        self.query = select(func.count()).where(
            and_(
                THREADS.c.execution_id == execution_id,
                THREADS.c.parent_id == ROOT_THREAD_ID,
                THREADS.c.status == "RUNNING",
            )
        )
        self.engine = fleet.store.engine
        self.peak = 0

    def sample(self) -> None:
        with self.engine.connect() as db:
            self.peak = max(self.peak, int(db.scalar(self.query) or 0))
