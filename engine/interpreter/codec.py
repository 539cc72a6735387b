"""JSON (de)serialisation of the checkpoint: `Execution` and `Thread` ↔ plain dicts.

The durable store keeps these dicts as JSON columns; a round trip is exact.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from engine.interpreter.history import HistoryEvent
from engine.interpreter.snapshot import (
    Execution,
    ExecutionStatus,
    FanOut,
    Phase,
    Thread,
    ThreadStatus,
)

Json = Any


def _shallow(instance: Any) -> dict[str, Json]:
    # Not dataclasses.asdict: it deep-copies every JSON value (an execution input of
    # 10,000 Map items, on every step); the values are never mutated, so sharing is safe.
    return {field.name: getattr(instance, field.name) for field in fields(instance)}


def thread_to_json(thread: Thread) -> dict[str, Json]:
    """A thread as a JSON-ready dict."""
    data = _shallow(thread)
    data["fan_out"] = _shallow(thread.fan_out) if thread.fan_out is not None else None
    data["scope"] = list(thread.scope)
    data["retry_counts"] = list(thread.retry_counts)
    data["variables"] = dict(thread.variables)
    data["status"] = thread.status.value
    data["phase"] = thread.phase.value
    return data


def thread_from_json(data: dict[str, Json]) -> Thread:
    """The thread a :func:`thread_to_json` dict describes."""
    values = dict(data)
    values["scope"] = tuple(values["scope"])
    values["retry_counts"] = tuple(values["retry_counts"])
    values["status"] = ThreadStatus(values["status"])
    values["phase"] = Phase(values["phase"])
    fan_out = values.get("fan_out")
    values["fan_out"] = FanOut(**fan_out) if fan_out is not None else None
    return Thread(**values)


# Thread fields that can be large and change less often than the rest (stored apart).
THREAD_BULK_FIELDS = ("input", "effective", "variables", "output")


def thread_parts(thread: Thread) -> tuple[dict[str, Json], dict[str, Json]]:
    """:func:`thread_to_json` split in two: the small fields, and the bulky ones."""
    data = thread_to_json(thread)
    bulk = {name: data.pop(name) for name in THREAD_BULK_FIELDS}
    return data, bulk


def thread_from_parts(snapshot: dict[str, Json], bulk: dict[str, Json] | None) -> Thread:
    """The thread of :func:`thread_parts`' two dicts (``bulk`` None: all in ``snapshot``)."""
    return thread_from_json(snapshot if bulk is None else {**snapshot, **bulk})


def same_bulk(thread: Thread, stored: Thread) -> bool:
    """Whether ``thread``'s bulky fields are the very objects of ``stored``'s (unchanged)."""
    return all(getattr(thread, name) is getattr(stored, name) for name in THREAD_BULK_FIELDS)


def execution_to_json(execution: Execution) -> dict[str, Json]:
    """An execution header as a JSON-ready dict."""
    data = _shallow(execution)
    data["status"] = execution.status.value
    return data


def execution_from_json(data: dict[str, Json]) -> Execution:
    """The header an :func:`execution_to_json` dict describes."""
    values = dict(data)
    values["status"] = ExecutionStatus(values["status"])
    return Execution(**values)


def header_without_input(execution: Execution) -> dict[str, Json]:
    """:func:`execution_to_json` minus the input, which the store keeps apart."""
    data = execution_to_json(execution)
    del data["input"]
    return data


def header_with_input(data: dict[str, Json], execution_input: Json) -> Execution:
    """The header of a stored dict; ``execution_input`` fills in a dict stored without it."""
    if "input" in data:  # written before the input was kept apart
        return execution_from_json(data)
    return execution_from_json({**data, "input": execution_input})


def event_to_json(event: HistoryEvent) -> dict[str, Json]:
    """A history event as a JSON-ready dict."""
    data = _shallow(event)
    data["details"] = dict(event.details)
    return data


def event_from_json(data: dict[str, Json]) -> HistoryEvent:
    """The history event an :func:`event_to_json` dict describes."""
    return HistoryEvent(**data)
