"""The state step task: advance one thread by one state. Everything else is the runtime's."""

from __future__ import annotations

from engine._consumer import TASK_NAMES, consume
from engine._store.kinds import MessageKind
from tasks import wiring
from tasks.app import RETRY_ON_OUTAGE, app
from tasks.monitoring import StateFailed, report


@app.task(
    name=TASK_NAMES[MessageKind.STEP],
    ignore_result=True,
    acks_late=True,
    throws=(StateFailed,),
    **RETRY_ON_OUTAGE,
)
def step(execution_id: int, thread_id: str, seq: int) -> None:
    """Enter the state of ``thread_id`` (a stale or duplicate message does nothing).

    Raises:
        StateFailed: the state failed (recorded and committed already): Flower's FAILURE.
    """
    args = (execution_id, thread_id, seq)
    report(consume(wiring.runtime(), wiring.handlers(), MessageKind.STEP, args))
