"""Execution histories as text: one line per event, for ``stepline history`` and ``run``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

Json = Any
_PAYLOAD_FIELDS = ("input", "output", "parameters")
# Events that carry no state name: they belong to the state of the event they follow.
_INHERITS_NAME = re.compile(r"^(?:Task(?!State)|LambdaFunction|Activity)|StateStarted$")


def history_lines(events: Sequence[dict[str, Json]]) -> Iterator[str]:
    """One line per history event: id, type, state name and compact details.

    Task events (``LambdaFunctionStarted``, ``TaskSucceeded``, ...) and the ``*StateStarted``
    events of Map and Parallel carry no state name: they show the state of the event they
    follow (``previousEventId``), which AWS chains to their state.

    Args:
        events: events as ``Client.get_execution_history`` returns them.

    Yields:
        The lines, oldest event first.
    """
    names: dict[int, str] = {}
    for event in events:
        details = _details(event)
        name = details.pop("name", None)
        if not isinstance(name, str) and _INHERITS_NAME.search(event["type"]):
            name = names.get(event["previousEventId"])
        if isinstance(name, str):
            names[event["id"]] = name
        compact = json.dumps(details, separators=(",", ":"), ensure_ascii=False)
        yield f"{event['id']:>4}  {event['type']:<28} {name or '-':<20} {compact}".rstrip()


def json_lines(events: Sequence[dict[str, Json]]) -> Iterator[str]:
    """One boto3-shaped event per line, as JSON (dates as text)."""
    return (json.dumps(event, default=str) for event in events)


def _details(event: dict[str, Json]) -> dict[str, Json]:
    """An event's details, payload texts decoded and ``{"truncated": false}`` dropped."""
    raw: dict[str, Json] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
    details: dict[str, Json] = {}
    for key, value in raw.items():
        if key.endswith("Details") and value == {"truncated": False}:
            continue
        details[key] = _decoded(value) if key in _PAYLOAD_FIELDS else value
    return details


def _decoded(value: Json) -> Json:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value
