"""Nested executions' messages (see `engine._children`).

A child's end completes its parent's ``.sync`` task; a parent's end stops its running
``.sync`` children.
"""

from __future__ import annotations

from engine._consumer import TASK_NAMES, consume
from engine._store.kinds import MessageKind
from tasks import wiring
from tasks.app import RETRY_ON_OUTAGE, app


@app.task(name=TASK_NAMES[MessageKind.CHILD], ignore_result=True, acks_late=True, **RETRY_ON_OUTAGE)
def child_finished(execution_id: int, thread_id: str, seq: int) -> None:
    """Complete the parent task at (execution, thread, seq) with its child's end."""
    args = (execution_id, thread_id, seq)
    consume(wiring.runtime(), wiring.handlers(), MessageKind.CHILD, args)


@app.task(name=TASK_NAMES[MessageKind.STOP], ignore_result=True, acks_late=True, **RETRY_ON_OUTAGE)
def stop_child(execution_id: int, thread_id: str, seq: int) -> None:
    """Stop the ``.sync`` child ``execution_id``: its parent ended."""
    consume(wiring.runtime(), wiring.handlers(), MessageKind.STOP, (execution_id, thread_id, seq))
