"""The handler task: run a Task state's handler on the handler's own queue."""

from __future__ import annotations

from engine._consumer import TASK_NAMES, consume
from engine._store.kinds import MessageKind
from tasks import wiring
from tasks.app import RETRY_ON_OUTAGE, app
from tasks.monitoring import StateFailed, report


@app.task(
    name=TASK_NAMES[MessageKind.TASK],
    ignore_result=True,
    acks_late=True,
    throws=(StateFailed,),
    **RETRY_ON_OUTAGE,
)
def run_task(execution_id: int, thread_id: str, seq: int) -> None:
    """Claim the task, run its handler (renewing the claim), report the outcome.

    Raises:
        StateFailed: the handler failed or timed out (recorded and committed already).
    """
    args = (execution_id, thread_id, seq)
    services = wiring.services()
    report(consume(wiring.runtime(), wiring.handlers(), MessageKind.TASK, args, services=services))
