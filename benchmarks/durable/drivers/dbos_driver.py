"""DBOS Transact's side of the durable benchmark; runs in its own virtualenv.

Reads a job from stdin (JSON): ``database_url`` (its system database, PostgreSQL),
``steps``, ``warmup``, ``runs``, ``queue_workflows``, ``queue_steps``. Writes JSON to stdout:

- ``ms_per_step``: one workflow of ``steps`` no-op steps run ``warmup`` times untimed, then
  ``runs`` times; each run's wall time / ``steps`` (DBOS checkpoints every step's output in
  its system database before the next step starts).
- ``queue_steps_per_s``: ``queue_workflows`` workflows of ``queue_steps`` no-op steps
  enqueued at once on a DBOS queue, steps / (last workflow's end - first enqueue).

Only the standard library and ``dbos`` are imported: this file must not need stepline.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from typing import Any

from dbos import DBOS, DBOSConfig


def main() -> None:
    job = json.load(sys.stdin)
    config: DBOSConfig = {
        "name": "stepline-bench",
        "system_database_url": job["database_url"],
        "log_level": "WARNING",
    }
    logging.getLogger("dbos").setLevel(logging.WARNING)

    @DBOS.step()
    def noop(index: int) -> int:
        return index

    @DBOS.workflow()
    def chain(steps: int) -> int:
        total = 0
        for index in range(steps):
            total += noop(index)
        return total

    DBOS(config=config)
    DBOS.launch()
    steps = int(job["steps"])
    expected = steps * (steps - 1) // 2
    for _ in range(int(job["warmup"])):
        assert chain(steps) == expected
    timings = []
    for _ in range(int(job["runs"])):
        started = time.perf_counter()
        assert chain(steps) == expected
        timings.append((time.perf_counter() - started) * 1000 / steps)
    result: dict[str, Any] = {
        "ms_per_step": statistics.median(timings),
        "ms_per_step_runs": timings,
        "dbos_version": _version(),
    }
    workflows = int(job.get("queue_workflows", 0))
    if workflows:
        result.update(_queued(chain, workflows, int(job["queue_steps"]), job))
    DBOS.destroy()
    json.dump(result, sys.stdout)


def _queued(chain: Any, workflows: int, steps: int, job: dict[str, Any]) -> dict[str, Any]:
    queue = DBOS.register_queue("bench", polling_interval_sec=float(job["queue_polling_s"]))
    warm = [queue.enqueue(chain, steps) for _ in range(4)]
    for handle in warm:
        handle.get_result()
    expected = steps * (steps - 1) // 2
    started = time.time()
    handles = [queue.enqueue(chain, steps) for _ in range(workflows)]
    enqueue_seconds = time.time() - started
    for handle in handles:
        assert handle.get_result() == expected
    ends = [handle.get_status().updated_at for handle in handles]
    last = max(ends) / 1000 if all(ends) else time.time()
    seconds = last - started
    return {
        "queue_workflows": workflows,
        "queue_steps": steps,
        "queue_seconds": seconds,
        "queue_enqueue_seconds": enqueue_seconds,
        "queue_steps_per_s": workflows * steps / seconds,
    }


def _version() -> str:
    from importlib.metadata import version

    return version("dbos")


if __name__ == "__main__":
    main()
