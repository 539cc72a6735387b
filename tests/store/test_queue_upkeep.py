"""The beat job pruning the store's queue messages."""

from __future__ import annotations

from engine._clock import FakeClock
from engine._messaging import queues
from engine._runtime import Runtime
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tasks import wiring
from tasks.app import app
from tasks.queues import prune_queue_messages
from tests.unit.interpreter.support import T0


def test_the_queue_prune_job_is_scheduled_and_removes_old_deleted_messages(store: Store) -> None:
    # Given a deleted message, and beat's schedule
    clock = FakeClock(T0)
    runtime = Runtime(store, InMemoryDispatcher(), clock)
    queues.create_queue(store.engine, "work", now=clock.now())
    queues.send_message(store.engine, "work", "x", now=clock.now())
    receipt = queues.receive_messages(store.engine, "work", clock=clock)[0].receipt
    queues.delete_message(store.engine, "work", receipt)
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    wiring.set_runtime(runtime)
    try:
        # When the job runs within the outbox retention, then after it
        kept = prune_queue_messages.run()
        clock.advance(wiring.settings().outbox_retention_seconds + 1)
        pruned = prune_queue_messages.run()
    finally:
        wiring.reset()
    # Then it is scheduled, keeps the row while a redelivered Task could resend, then drops it
    assert "stepline.housekeeping.prune_queue_messages" in scheduled
    assert (kept, pruned) == (0, 1)
