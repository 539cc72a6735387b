"""The state step task: advance one thread by one state. Everything else is the runtime's."""

from __future__ import annotations

from tasks import wiring
from tasks.app import app
from tasks.dispatcher import STEP_TASK


@app.task(name=STEP_TASK, ignore_result=True, acks_late=True)
def step(execution_id: int, thread_id: str, seq: int) -> None:
    """Enter the state of ``thread_id`` (a stale or duplicate message does nothing)."""
    wiring.runtime().advance(execution_id, thread_id, seq)
