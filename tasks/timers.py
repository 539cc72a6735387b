"""Timer and relay tasks: what celery beat runs every few seconds (ADR 0035)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from engine._consumer import TASK_NAMES, consume
from engine._duties import Duties
from engine._store.db import make_engine
from engine._store.kinds import MessageKind
from tasks import wiring
from tasks.app import RETRY_ON_OUTAGE, app, housekeeping_task
from tasks.monitoring import StateFailed, report


@app.task(
    name=TASK_NAMES[MessageKind.TIMER],
    ignore_result=True,
    acks_late=True,
    throws=(StateFailed,),
    **RETRY_ON_OUTAGE,
)
def fire_timer(*address: int | str) -> None:
    """A timer's countdown message arrived: fire it if it is due and not yet fired.

    ``address``: ``(execution_id, thread_id, seq, kind)``; a message sent by an older
    release carries the timer's row id alone, and still fires it.

    Raises:
        StateFailed: a state (or the execution) timed out (recorded and committed already).
    """
    report(consume(wiring.runtime(), wiring.handlers(), MessageKind.TIMER, address))


@housekeeping_task("fire_due_timers", formerly="stepline.fire_due_timers")
def fire_due_timers() -> int:
    """Fire every due timer (long Waits have no message: this is how they end)."""
    return wiring.runtime().fire_due_timers()


BEAT_HOLDER = "celery-beat"
"""Who holds the duty lock while beat's job runs a round (no worker's duty thread does)."""


@housekeeping_task("relay", formerly="stepline.relay")
def relay() -> bool:
    """A round of the fleet's duties, unless a worker's duty thread runs them (ADR 0041).

    Relays unconsumed messages whose lease expired, fires due timers and sends
    continuations. Workers judge each other lost from their own duty threads only: this
    job runs in whichever process takes it, which may have been cut off from the store.
    """
    from tasks.app import duty_jobs

    config = wiring.settings()
    duties = Duties(
        wiring.runtime(),
        BEAT_HOLDER,
        interval=config.relay_interval_seconds,
        lost_after=config.lost_after_seconds,
        extra=duty_jobs(config),
        store_healthy_for=lambda: None,
        fallback=True,
    )
    return duties.run_round()


@housekeeping_task("prune_outbox", formerly="stepline.prune_outbox")
def prune_outbox() -> int:
    """Delete consumed outbox rows past their retention (the outbox would only grow)."""
    retention = timedelta(seconds=wiring.settings().outbox_retention_seconds)
    return wiring.runtime().prune_outbox(retention)


@housekeeping_task("prune_broker", formerly="stepline.prune_broker")
def prune_broker() -> int:
    """Delete acknowledged rows of the SQLite broker (kombu never deletes them)."""
    url = wiring.settings().celery_broker_url
    if not url.startswith("sqla+"):
        return 0
    engine = make_engine(url.removeprefix("sqla+"))
    with engine.begin() as db:
        result = db.execute(text("DELETE FROM kombu_message WHERE visible = 0"))
    return int(result.rowcount or 0)
