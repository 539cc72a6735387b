"""Queue upkeep: what celery beat runs for the store's queues (ADR 0021)."""

from __future__ import annotations

from datetime import timedelta

from engine._messaging.queues import prune_messages
from tasks import wiring
from tasks.app import housekeeping_task


@housekeeping_task("prune_queue_messages", formerly="stepline.prune_queue_messages")
def prune_queue_messages() -> int:
    """Remove deleted queue messages past the outbox retention and messages past retention.

    Deleted rows are kept as long as consumed outbox rows: a Task redelivered within that
    time still finds its MessageId and sends nothing twice.
    """
    runtime = wiring.runtime()
    keep = timedelta(seconds=wiring.settings().outbox_retention_seconds)
    return prune_messages(runtime.store.engine, now=runtime.clock.now(), keep_deleted=keep)
