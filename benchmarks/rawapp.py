"""Raw Celery, the baseline: the same Celery settings as stepline's workers, no engine.

``celery -A benchmarks.rawapp worker -Q bench.raw --pool prefork --concurrency 2``. The
configuration is stepline's own (`config.celery.celery_config`: JSON, ``acks_late``,
``task_reject_on_worker_lost``, prefetch 1, task events on, results ignored), so the
only difference between the two fleets is what a task does.
"""

from __future__ import annotations

import time

from benchmarks.baseline_app import baseline_app, broker

QUEUE = "bench.raw"
HOP = "bench.hop"
NOOP = "bench.noop"
PARK = "bench.park"


app = baseline_app("bench_raw", QUEUE)


@app.task(name=HOP, ignore_result=True, acks_late=True)
def hop(remaining: int, done_key: str) -> None:
    """Enqueue the next hop; the last one records when the chain ended."""
    if remaining > 0:
        app.signature(HOP, args=(remaining - 1, done_key), queue=QUEUE).apply_async()
    else:
        broker().rpush(done_key, repr(time.time()))


@app.task(name=NOOP, ignore_result=True, acks_late=True)
def noop(counter_key: str, total: int) -> None:
    """Count; the task that completes the batch records when (the only work is one INCR)."""
    if broker().incr(counter_key) == total:
        broker().rpush(counter_key + ":done", repr(time.time()))


@app.task(name=PARK, ignore_result=True, acks_late=True)
def park() -> None:
    """Sent with a far countdown: it only sits in the worker's memory (never runs here)."""
