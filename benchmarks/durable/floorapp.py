"""The floor's worker: a raw Celery task that checkpoints each hop, then enqueues the next.

``celery -A benchmarks.durable.floorapp worker -Q bench.floor --pool prefork --concurrency 2``,
with stepline's own Celery settings (`config.celery.celery_config`, as benchmarks.rawapp),
so the only difference from a stepline worker is what a task does: one transaction of
benchmarks.durable.floordb (lock, UPDATE, INSERT, COMMIT) and the next hop's message. The
store is ``STEPLINE_DATABASE_URL``; each pool process opens its own connection on its first
hop and keeps it.
"""

from __future__ import annotations

import time
from functools import cache

from benchmarks.baseline_app import baseline_app, broker
from benchmarks.durable import floordb
from config.settings import load_settings

QUEUE = "bench.floor"
HOP = "bench.floor.hop"


app = baseline_app("bench_floor", QUEUE)


@cache
def _store() -> floordb.FloorDB:
    return floordb.connect(load_settings().database_url)


def send_hop(execution_id: int, seq: int, hops: int, done_key: str, total: int) -> None:
    """Enqueue hop ``seq`` (1..``hops``) of the chain of ``execution_id``."""
    args = (execution_id, seq, hops, done_key, total)
    app.signature(HOP, args=args, queue=QUEUE).apply_async()


@app.task(name=HOP, ignore_result=True, acks_late=True)
def hop(execution_id: int, seq: int, hops: int, done_key: str, total: int) -> None:
    """Checkpoint hop ``seq``, then enqueue the next; the last hop of the ``total``-th
    chain to end records when it committed."""
    _store().step(execution_id, seq)
    if seq < hops:
        send_hop(execution_id, seq + 1, hops, done_key, total)
        return
    ended = time.time()
    if broker().incr(done_key) == total:
        broker().rpush(done_key + ":done", repr(ended))
