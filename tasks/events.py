"""The status event task: publish an execution's status change on the event bus (ADR 0022)."""

from __future__ import annotations

from engine._consumer import TASK_NAMES, consume
from engine._store.kinds import MessageKind
from tasks import wiring
from tasks.app import RETRY_ON_OUTAGE, app


@app.task(name=TASK_NAMES[MessageKind.EVENT], ignore_result=True, acks_late=True, **RETRY_ON_OUTAGE)
def status_event(execution_id: int, thread_id: str, seq: int) -> None:
    """Deliver the status change event to the matching rules' targets, then consume it."""
    args = (execution_id, thread_id, seq)
    consume(
        wiring.runtime(), wiring.handlers(), MessageKind.EVENT, args, services=wiring.services()
    )
