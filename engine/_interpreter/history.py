"""History events with AWS's types, detail shapes and id/previousEventId numbering.

Details hold JSON *text* where AWS does (``input``, ``output``, ``parameters``,
``assignedVariables`` values), so GetExecutionHistory returns what boto3 would.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = Any

_DETAIL_KEYS = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "ExecutionRedriven": "executionRedrivenEventDetails",
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskStarted": "taskStartedEventDetails",
    "TaskSubmitted": "taskSubmittedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "ActivityScheduled": "activityScheduledEventDetails",
    "ActivityStarted": "activityStartedEventDetails",
    "ActivitySucceeded": "activitySucceededEventDetails",
    "ActivityFailed": "activityFailedEventDetails",
    "ActivityTimedOut": "activityTimedOutEventDetails",
    "ActivityScheduleFailed": "activityScheduleFailedEventDetails",
    "LambdaFunctionScheduled": "lambdaFunctionScheduledEventDetails",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailedEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "MapIterationFailed": "mapIterationFailedEventDetails",
    "MapIterationAborted": "mapIterationAbortedEventDetails",
    "MapRunStarted": "mapRunStartedEventDetails",
    "MapRunFailed": "mapRunFailedEventDetails",
    "MapRunRedriven": "mapRunRedrivenEventDetails",
    "EvaluationFailed": "evaluationFailedEventDetails",
}


def detail_key(event_type: str) -> str | None:
    """The AWS key holding an event type's details (None for detail-less types)."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return _DETAIL_KEYS.get(event_type)


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One entry of an execution's history, as GetExecutionHistory returns it."""

    id: int
    previous_event_id: int
    type: str
    timestamp: str
    details: dict[str, Json] = field(default_factory=dict)
    thread_id: str = ""

    @property
    def state_name(self) -> str | None:
        """The ``name`` in the details (a state's or a Map's), if any."""
        name = self.details.get("name")
        return name if isinstance(name, str) else None

    def to_aws(self) -> dict[str, Json]:
        """The boto3-shaped event dict (timestamp as ISO text)."""
        event: dict[str, Json] = {
            "timestamp": self.timestamp,
            "type": self.type,
            "id": self.id,
            "previousEventId": self.previous_event_id,
        }
        key = detail_key(self.type)
        if key is not None and self.details:
            event[key] = copy.deepcopy(self.details)  # callers may edit the copy they get
        return event


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""One encoder for every payload (``json.dumps`` with options builds one per call)."""


def _compact_c_encoder() -> Callable[[Json], str] | None:
    """The C encoder `_COMPACT.encode` ends in, without its Python layers; None if absent.

    ``JSONEncoder.encode`` builds the same C encoder on every call, after a few Python
    calls that cost more than encoding a small payload. A fresh ``markers`` dict per call
    keeps its detection of circular values. Used only where it encodes as `_COMPACT` does.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    basestring = json.encoder.encode_basestring
    default = _COMPACT.default

    def encode(value: Json) -> str:
        return "".join(make({}, default, basestring, None, ":", ",", False, False, True)(value, 0))

    probe = {"a": [1, 2.5, -0.0, None, True, "é\n\u2028"], "": {}}
    try:
        return encode if encode(probe) == _COMPACT.encode(probe) else None
    except Exception:  # a C encoder of another signature
        return None


_encode = _compact_c_encoder() or _COMPACT.encode


def to_json_text(value: Json) -> str:
    """JSON text as AWS stores payloads in history (compact, unicode kept)."""
    return _encode(value)


def payload_details(key: str, value: Json) -> dict[str, Json]:
    """``{key: json-text, keyDetails: {truncated: false}}`` as AWS nests payloads."""
    return {key: to_json_text(value), f"{key}Details": {"truncated": False}}


def assigned_details(assigned: dict[str, Json] | None) -> dict[str, Json]:
    """The ``assignedVariables`` part of a state-exited event (empty when none)."""
    if not assigned:
        return {}
    return {
        "assignedVariables": {name: to_json_text(value) for name, value in assigned.items()},
        "assignedVariablesDetails": {"truncated": False},
    }
