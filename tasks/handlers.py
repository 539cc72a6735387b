"""The handler task: run a Task state's handler on the handler's own queue."""

from __future__ import annotations

from engine.worker import execute_task
from tasks import wiring
from tasks.app import app
from tasks.dispatcher import RUN_TASK


@app.task(name=RUN_TASK, ignore_result=True, acks_late=True)
def run_task(execution_id: int, thread_id: str, seq: int) -> None:
    """Claim the task, run its handler (renewing the claim), report the outcome."""
    execute_task(wiring.runtime(), wiring.handlers(), execution_id, thread_id, seq)
