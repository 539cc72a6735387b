"""``arn:aws:states:::celery:sendTask``: run any registered Celery task from a Task state.

Parameters (PascalCase, like AWS's integrations; docs/design.md §5)::

    {"TaskName": "billing.charge",     # required: the Celery task's registered name
                                       # (not stepline.* or celery.*: the engine's own)
     "Args": [1, 2],                   # optional: positional arguments (JSON array)
     "Kwargs": {"card": "4242"},       # optional: keyword arguments (JSON object)
     "Queue": "billing",               # optional: else the app's routing decides
     "Countdown": 5,                   # optional: seconds before the task may run
     "Priority": 3}                    # optional: 0-255, as the broker supports it

The task is sent with ``app.send_task``, so it keeps its own queue, retries and rate
limits; arguments and results are JSON. Its Celery task id is derived from the
invocation's idempotency key (uuid5), so a redelivered invocation sends the same id.

Patterns:

- request-response: the state's result is ``{"TaskId", "TaskName", "Queue"}`` once sent.
- ``.sync``: the state ends with the task's return value, or fails with Error = the
  exception's class name and Cause = its message. No worker waits: ``link`` and
  ``link_error`` callbacks (``tasks/celery_sync.py``) report the outcome to the runtime.
- ``.waitForTaskToken``: the user passes ``$$.Task.Token`` in ``Args``/``Kwargs`` (as with
  any AWS callback integration); ``SendTaskSuccess``/``SendTaskFailure`` completes it.

A waiting pattern (``.sync``, ``.waitForTaskToken``) needs a worker that announced the
task name (``celery-task:NAME`` in its announced integrations); otherwise the state fails
at once with ``Celery.NotRegistered`` instead of waiting for an outcome that never comes.
A request-response send is not checked: a Celery fleet that does not announce itself
(an existing one) may serve the name, and the state only promises the send.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from engine._errors import ErrorName, StatesError, StatesRuntimeError
from engine._integrations.services import Services
from engine._interpreter.integration import Pattern, describe_resource
from engine._resources import AWAITING, Integration, Outcome, TaskCall
from engine._store.workers import announcements

Json = Any

NOT_REGISTERED = "Celery.NotRegistered"
"""Error of a waiting ``celery:sendTask`` whose task name no announced worker registered."""
SEND_FAILED = "Celery.SendFailed"
"""Error of a ``celery:sendTask`` whose message the broker refused."""
ANNOUNCED_PREFIX = "celery-task:"
"""Prefix of the Celery task names a worker announces among its integrations."""
SUCCEEDED_TASK = "stepline.celery_succeeded"
"""The ``link`` callback of a ``.sync`` send (``tasks/celery_sync.py``)."""
FAILED_TASK = "stepline.celery_failed"
"""The ``link_error`` callback of a ``.sync`` send (``tasks/celery_sync.py``)."""
TASK_ID_NAMESPACE = uuid.UUID("8d0f5c1e-5d1b-4f55-9a51-3c0d2f2b7a10")
"""uuid5 namespace of the Celery task ids derived from idempotency keys."""
KNOWN_FIELDS = frozenset({"TaskName", "Args", "Kwargs", "Queue", "Countdown", "Priority"})
MAX_PRIORITY = 255
RESERVED_PREFIXES = ("stepline.", "celery.")
"""Task names a definition may not send: stepline's internal tasks and Celery's built-ins."""


@dataclass(frozen=True)
class SendTaskRequest:
    """A validated ``celery:sendTask`` request.

    Attributes:
        name: the Celery task name.
        args: positional arguments.
        kwargs: keyword arguments.
        queue: the queue to send to (None: the app's routing).
        countdown: seconds before the task may run (None: at once).
        priority: the message priority (None: the broker's default).
    """

    name: str
    args: list[Json] = field(default_factory=list)
    kwargs: dict[str, Json] = field(default_factory=dict)
    queue: str | None = None
    countdown: float | None = None
    priority: int | None = None


def parse_request(parameters: Json) -> SendTaskRequest:
    """The request ``parameters`` describe.

    Raises:
        StatesRuntimeError: a field is missing, unknown or of the wrong type.
    """
    if not isinstance(parameters, dict):
        _invalid(f"Parameters must be an object, got {_kind(parameters)}")
    unknown = sorted(set(parameters) - KNOWN_FIELDS)
    if unknown:
        _invalid(f"unknown field(s) {unknown}; expected some of {sorted(KNOWN_FIELDS)}")
    name = parameters.get("TaskName")
    if not isinstance(name, str) or not name:
        _invalid(f"'TaskName' must be a non-empty string, got {_kind(name)}")
    if name.startswith(RESERVED_PREFIXES):
        _invalid(
            f"'TaskName' must name a task of your application, got {name!r}: stepline's and "
            "Celery's own tasks take engine ids, which a definition may not forge"
        )
    return SendTaskRequest(
        name=name,
        args=_typed(parameters, "Args", list, []),
        kwargs=_typed(parameters, "Kwargs", dict, {}),
        queue=_queue(parameters.get("Queue")),
        countdown=_countdown(parameters.get("Countdown")),
        priority=_priority(parameters.get("Priority")),
    )


def _typed(parameters: dict[str, Json], key: str, kind: type, default: Json) -> Json:
    value = parameters.get(key, default)
    if not isinstance(value, kind):
        expected = "an array" if kind is list else "an object"
        _invalid(f"'{key}' must be {expected}, got {_kind(value)}")
    return value


def _queue(value: Json) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        _invalid(f"'Queue' must be a non-empty string, got {_kind(value)}")
    return str(value) if value is not None else None


def _countdown(value: Json) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        _invalid(f"'Countdown' must be a number of seconds, got {_kind(value)}")
    if not math.isfinite(value) or value < 0:
        _invalid(f"'Countdown' must be a finite number >= 0, got {value}")
    return float(value)


def _priority(value: Json) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRIORITY:
        _invalid(f"'Priority' must be an integer from 0 to {MAX_PRIORITY}, got {value!r}")
    return int(value)


def _invalid(detail: str) -> Any:
    raise StatesRuntimeError(ErrorName.RUNTIME, f"celery:sendTask: {detail}")


def _kind(value: Json) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"


def task_id(call: TaskCall) -> str:
    """The Celery task id of ``call``: the same on every redelivery of the invocation."""
    return str(uuid.uuid5(TASK_ID_NAMESPACE, call.idempotency_key))


def send_task(call: TaskCall, services: Services | None) -> Outcome:
    """Send the task ``call`` names; its result, or `AWAITING` for ``.sync``."""
    request = parse_request(call.parameters)
    app = _celery(services)
    pattern = describe_resource(call.resource).pattern
    waiting = pattern is not Pattern.REQUEST_RESPONSE
    if waiting and services is not None and services.runtime is not None:
        _require_announced(request.name, services)
    options = _options(call, request, services, sync=pattern is Pattern.SYNC)
    try:
        sent = app.send_task(request.name, args=request.args, kwargs=request.kwargs, **options)
    except Exception as exc:  # the broker refused or is down: the task's own error
        raise StatesError(SEND_FAILED, f"celery:sendTask {request.name!r}: {exc}") from exc
    if pattern is Pattern.SYNC:
        return AWAITING
    return {"TaskId": str(sent.id), "TaskName": request.name, "Queue": _routed_queue(app, request)}


def _celery(services: Services | None) -> Any:
    app = services.celery if services is not None else None
    if app is None:
        raise StatesError(
            ErrorName.TASK_FAILED,
            "celery:sendTask needs a Celery app: expected the Task to run on a stepline "
            "worker (engine.connect() with a fleet), got an in-process client without one",
        )
    return app


def _require_announced(name: str, services: Services) -> None:
    """Fail at once when no worker ever announced ``name`` (nothing would report its end)."""
    assert services.runtime is not None  # checked by the caller
    wanted = ANNOUNCED_PREFIX + name
    found = announcements(services.runtime.store.engine)
    if any(wanted in announcement.integrations for announcement in found):
        return
    raise StatesError(
        NOT_REGISTERED,
        f"celery:sendTask: no stepline worker registered the Celery task {name!r} "
        f"(expected '{wanted}' among the {len(found)} announced worker(s)' integrations; "
        "import its module with STEPLINE_HANDLERS)",
    )


def _options(
    call: TaskCall, request: SendTaskRequest, services: Services | None, *, sync: bool
) -> dict[str, Json]:
    options: dict[str, Json] = {"task_id": task_id(call)}
    if request.queue is not None:
        options["queue"] = request.queue
    if request.countdown is not None:
        options["countdown"] = request.countdown
    if request.priority is not None:
        options["priority"] = request.priority
    if sync:
        options.update(completion_callbacks(call, services))
    return options


def completion_callbacks(call: TaskCall, services: Services | None) -> dict[str, Json]:
    """``link``/``link_error`` signatures reporting a ``.sync`` task's end to its state.

    Plain signature dicts (what Celery puts on the wire), so engine/ needs no Celery
    import; they run on the integrations queue, which every default worker consumes.
    """
    runtime = services.runtime if services is not None else None
    queue = runtime.settings.integrations_queue if runtime is not None else None
    # Keyword arguments, so Celery hands the task's result (link) or its failure
    # (link_error: request, exc, traceback) as the leading positional arguments.
    address = {"execution_id": call.execution_id, "thread_id": call.thread_id, "seq": call.seq}
    return {
        "link": _signature(SUCCEEDED_TASK, address, queue),
        "link_error": _signature(FAILED_TASK, address, queue),
    }


def _signature(name: str, kwargs: dict[str, Json], queue: str | None) -> dict[str, Json]:
    return {
        "task": name,
        "args": [],
        "kwargs": kwargs,
        "options": {"queue": queue} if queue else {},
        "subtask_type": None,
        "immutable": False,
    }


def _routed_queue(app: Any, request: SendTaskRequest) -> str:
    """The queue the message went to: the requested one, else the app's routing's choice."""
    if request.queue is not None:
        return request.queue
    try:
        route = app.amqp.router.route({}, request.name, request.args, request.kwargs)
        return str(route["queue"].name)
    except Exception:  # a routing quirk must not fail a task already sent
        return str(app.conf.task_default_queue)


INTEGRATIONS: dict[tuple[str, str], Integration] = {("celery", "sendTask"): send_task}
