"""The callbacks that end a ``celery:sendTask.sync`` state when its Celery task ends.

``engine/_integrations/celery_tasks.py`` sends the user's task with ``link`` =
`celery_succeeded` and ``link_error`` = `celery_failed`, each carrying the state's task
address as keyword arguments. No worker waits for the task: whichever worker runs it
reports the outcome through these callbacks, and the runtime steps the execution. A
late or repeated report (the task ran twice, the state timed out) is stale and changes
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from engine._errors import StatesError
from engine._integrations.celery_tasks import FAILED_TASK, SUCCEEDED_TASK
from engine._resources import outcome_event
from tasks import wiring
from tasks.app import app

Json = Any
log = logging.getLogger("stepline.celery_sync")
UNKNOWN_FAILURE = "Celery.TaskFailed"
"""Error of a ``.sync`` task whose exception could not be read (a worker without these
callbacks reported the failure by task id, and no result backend holds it)."""


# A report that meets a store outage is retried with backoff (about 20 minutes in all),
# rather than acknowledged and lost: the execution would then wait for its TimeoutSeconds.
_RETRYING: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 20,
}


@app.task(name=SUCCEEDED_TASK, ignore_result=True, acks_late=True, **_RETRYING)
def celery_succeeded(result: Json, *, execution_id: int, thread_id: str, seq: int) -> None:
    """The ``.sync`` task returned ``result``: it is the state's result."""
    _report(execution_id, thread_id, seq, result)


@app.task(name=FAILED_TASK, ignore_result=True, acks_late=True, **_RETRYING)
def celery_failed(
    request: Any,
    exc: BaseException | None = None,
    traceback: Any = None,
    *,
    execution_id: int,
    thread_id: str,
    seq: int,
    error: str | None = None,
    cause: str | None = None,
) -> None:
    """The ``.sync`` task failed: Error = its exception's class name, Cause = its message.

    Celery calls this in the failing worker with ``(request, exc, traceback)`` when the
    worker registered it; a worker that did not sends it as a task with the failed task's
    id alone, and the exception is then read from the result backend, if any. ``error`` and
    ``cause``: the failure, already read (a report re-sent as a message, see below).
    """
    failure = StatesError(error, cause) if error else failure_of(request, exc)
    try:
        _report(execution_id, thread_id, seq, failure)
    except Exception:
        if not celery_failed.request.called_directly:
            raise  # a message: retried with backoff
        # Called inside the failing worker, where nothing retries: send the report as a
        # message instead, so a store outage delays it rather than losing it.
        address = {"execution_id": execution_id, "thread_id": thread_id, "seq": seq}
        failed = {"error": failure.name, "cause": failure.cause}
        task_id = getattr(request, "id", request)
        queue = wiring.settings().integrations_queue
        celery_failed.apply_async((task_id,), {**address, **failed}, queue=queue)


def failure_of(request: Any, exc: BaseException | None) -> StatesError:
    """The `StatesError` a failed Celery task's state fails with."""
    if exc is None:
        task_id = request if isinstance(request, str) else getattr(request, "id", None)
        exc = _stored_exception(task_id)
    if exc is None:
        return StatesError(
            UNKNOWN_FAILURE,
            f"Celery task {task_id} failed; its exception is unknown (expected a stepline "
            "worker to run it, or a result backend holding its failure)",
        )
    return StatesError(type(exc).__name__, str(exc))


def _stored_exception(task_id: str | None) -> BaseException | None:
    if task_id is None or not app.conf.result_backend:
        return None
    try:
        result = app.AsyncResult(task_id).result
    except Exception:  # an unreadable backend is reported as an unknown failure
        log.warning("could not read the failure of Celery task %s", task_id, exc_info=True)
        return None
    return result if isinstance(result, BaseException) else None


def _report(execution_id: int, thread_id: str, seq: int, outcome: Json | StatesError) -> None:
    runtime = wiring.runtime()
    runtime.finish_task(execution_id, thread_id, seq, outcome_event(thread_id, seq, outcome))
