"""``arn:aws:states:::events:putEvents`` (and ``.waitForTaskToken``) on the store's event bus.

Parameters, as AWS's optimized EventBridge integration: ``Entries``, 1 to 10
PutEventsRequestEntry objects (``Source``, ``DetailType``, ``Detail``, ``EventBusName``,
``Resources``, ``Time``). As Step Functions does, a JSON ``Detail`` is sent as its JSON
text and the state machine's and the execution's ARNs are appended to each entry's
``Resources``. The result is PutEvents' response: ``{"Entries": [{"EventId"}],
"FailedEntryCount": 0}``; the events reach the matching rules' targets before the task
ends (ADR 0022).

A redelivered Task (a worker died mid-way) puts the same events again with the same ids,
derived from the invocation's idempotency key: their targets start nothing twice.

Errors, as AWS names them: an entry that failed (no Source, a Detail that is not a JSON
object, a bus that does not exist) fails the task with ``EventBridge.FailedEntry``, its
Cause the response's entries; a request EventBridge refuses whole (no Entries, more than
10) with ``EventBridge.AmazonEventBridgeException``, as Step Functions names a service's
SDK exception. ``.waitForTaskToken`` puts the events and waits for the token (put it in
the Detail with ``$$.Task.Token``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine._errors import StatesError
from engine._integrations.services import Services
from engine._integrations.sqs import store_of
from engine._messaging.event_errors import EventsValidationException
from engine._messaging.events import put_events
from engine._messaging.targets import target_sender
from engine._resources import Integration, TaskCall

Json = Any
FAILED_ENTRY = "EventBridge.FailedEntry"
SERVICE_ERROR = "EventBridge.AmazonEventBridgeException"


def put(call: TaskCall, services: Services | None) -> Json:
    """Put the call's ``Entries`` on the bus; PutEvents' response."""
    runtime = store_of(services, call.resource)
    assert services is not None  # store_of refused a call without them
    entries = _entries(call)
    ids = [
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{call.idempotency_key}#{i}"))
        for i in range(len(entries))
    ]
    engine = runtime.store.engine
    send = target_sender(services.client, engine, runtime.clock.now)
    try:
        result = put_events(engine, entries, send, now=runtime.clock.now(), event_ids=ids)
    except EventsValidationException as error:
        raise StatesError(SERVICE_ERROR, _cause(error.message, "ValidationException")) from None
    if result["FailedEntryCount"]:
        raise StatesError(FAILED_ENTRY, json.dumps(result["Entries"], separators=(",", ":")))
    return {"Entries": result["Entries"], "FailedEntryCount": 0}


def _entries(call: TaskCall) -> list[Json]:
    parameters = call.parameters
    entries = parameters.get("Entries") if isinstance(parameters, dict) else None
    if not isinstance(entries, list):
        given = json.dumps(parameters)[:120]
        message = f'events:putEvents: expected Parameters {{"Entries": [...]}}, got {given}'
        raise StatesError(SERVICE_ERROR, _cause(message, "ValidationException"))
    return [_entry(entry, call) for entry in entries]


def _entry(entry: Json, call: TaskCall) -> Json:
    """The entry as Step Functions sends it: Detail as JSON text, the ARNs in Resources."""
    if not isinstance(entry, dict):
        return entry  # put_events reports it as a failed entry
    entry = dict(entry)
    if "Detail" in entry and not isinstance(entry["Detail"], str):
        entry["Detail"] = json.dumps(entry["Detail"], separators=(",", ":"), ensure_ascii=False)
    if call.execution_arn:
        machine = _machine_arn(call.execution_arn)
        entry["Resources"] = [*(entry.get("Resources") or []), machine, call.execution_arn]
    return entry


def _machine_arn(execution_arn: str) -> str:
    """``…:execution:MACHINE:NAME`` → ``…:stateMachine:MACHINE``."""
    head, _, tail = execution_arn.partition(":execution:")
    return f"{head}:stateMachine:{tail.split(':')[0]}"


def _cause(message: str, code: str) -> str:
    """A Cause in the shape of AWS's SDK errors (service, status, error code, request id)."""
    return (
        f"{message} (Service: EventBridge; Status Code: 400; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )


INTEGRATIONS: dict[tuple[str, str], Integration] = {("events", "putEvents"): put}
"""The EventBridge integration this module serves."""
