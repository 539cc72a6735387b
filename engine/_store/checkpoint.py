"""The checkpoint's stored form: `Execution` and `Thread` ↔ versioned JSON dicts.

The store keeps these dicts in JSON columns, so their shape is a file format that outlives
a release: every dict written carries the format version under ``"v"`` (ADR 0015). A
reader upgrades an older dict one version at a time through :data:`THREAD_UPGRADES` and
:data:`HEADER_UPGRADES` before building the dataclass, and refuses, naming the version, a
dict it cannot read. Dicts written before the format had a version (no ``"v"``) are
version 0, whose fields are those of version 1. A round trip is exact.

To change the format: bump :data:`FORMAT_VERSION`, register the N → N+1 transform of each
dict, and record new golden checkpoints (``tests/golden/record.py``); the old goldens must
still resume.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields
from functools import cache
from typing import Any, TypeVar

from engine._errors import SteplineError
from engine._interpreter.history import HistoryEvent
from engine._interpreter.snapshot import (
    Execution,
    ExecutionStatus,
    FanOut,
    Phase,
    Thread,
    ThreadStatus,
)

Json = Any
T = TypeVar("T")
Upgrade = Callable[[dict[str, Json]], dict[str, Json]]

FORMAT_VERSION = 1
"""The version of the dicts this release writes."""
VERSION_KEY = "v"
# Thread fields that can be large and change less often than the rest (stored apart).
THREAD_BULK_FIELDS = ("input", "effective", "variables", "output")


class CheckpointFormatError(SteplineError, ValueError):
    """A stored checkpoint this release cannot read (a newer format, or unknown fields)."""


def _unchanged(values: dict[str, Json]) -> dict[str, Json]:
    return values


# Version N → N+1, applied in turn up to FORMAT_VERSION. 0 → 1: rows from before the format
# carried a version hold the same fields.
THREAD_UPGRADES: dict[int, Upgrade] = {0: _unchanged}
HEADER_UPGRADES: dict[int, Upgrade] = {0: _unchanged}


def stored_version(data: Mapping[str, Json]) -> int:
    """The format version of a stored dict (0: written before versions were stored)."""
    version = data.get(VERSION_KEY, 0)
    return version if isinstance(version, int) else -1


def upgraded(
    data: Mapping[str, Json], upgrades: Mapping[int, Upgrade], what: str
) -> dict[str, Json]:
    """``data``'s fields in the current format (without the version key).

    Raises:
        CheckpointFormatError: the version is not one this release knows how to upgrade.
    """
    version = stored_version(data)
    if not 0 <= version <= FORMAT_VERSION:
        raise CheckpointFormatError(
            f"{what} checkpoint: format version {data.get(VERSION_KEY)!r} is not one this "
            f"release reads (0..{FORMAT_VERSION}); was it written by a newer stepline?"
        )
    values = {key: value for key, value in data.items() if key != VERSION_KEY}
    for step in range(version, FORMAT_VERSION):
        values = upgrades[step](values)
    return values


def _build(cls: Callable[..., T], values: dict[str, Json], version: int, what: str) -> T:
    """``cls(**values)``, refusing unknown or missing fields with a clear error."""
    _, known, required, has_dict = _class_facts(cls)
    present = values.keys()
    if not (present <= known and required <= present):
        unknown, missing = sorted(present - known), sorted(required - present)
        raise CheckpointFormatError(
            f"{what} checkpoint (format version {version}, read as {FORMAT_VERSION}): "
            f"unknown fields {unknown}, missing fields {missing}; expected {sorted(known)}"
        )
    if len(present) < len(known) or not has_dict:
        return cls(**values)  # defaults to fill in, or no instance dict to build at once
    # Every field given: the instance is its dict, built at once rather than through the
    # frozen __init__'s one object.__setattr__ per field (as snapshot.evolve copies them).
    built: T = object.__new__(cls)  # type: ignore[arg-type]
    object.__setattr__(built, "__dict__", values)
    return built


@cache
def _class_facts(cls: Any) -> tuple[tuple[str, ...], frozenset[str], frozenset[str], bool]:
    """A snapshot dataclass's field names (in order, as a set), required ones, has a dict."""
    names = tuple(f.name for f in fields(cls))
    known = frozenset(names)
    required = frozenset(
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    )
    return names, known, required, not hasattr(cls, "__slots__")


def _convert(values: dict[str, Json], name: str, kind: Callable[[Json], Json]) -> None:
    # A missing field is left for _build to report with the others.
    if name in values:
        values[name] = kind(values[name])


def _shallow(instance: Any) -> dict[str, Json]:
    # Not dataclasses.asdict: it deep-copies every JSON value (an execution input of
    # 10,000 Map items, on every step); the values are never mutated, so sharing is safe.
    kind: Any = type(instance)
    return {name: getattr(instance, name) for name in _class_facts(kind)[0]}


# --- threads -----------------------------------------------------------------------------


def thread_to_json(thread: Thread) -> dict[str, Json]:
    """A thread as a JSON-ready dict of the current format."""
    data = _shallow(thread)
    data["fan_out"] = None
    if thread.fan_out is not None:
        data["fan_out"] = {
            **_shallow(thread.fan_out),
            "batch_sizes": list(thread.fan_out.batch_sizes),
        }
    data["scope"] = list(thread.scope)
    data["retry_counts"] = list(thread.retry_counts)
    data["variables"] = dict(thread.variables)
    data["status"] = thread.status.value
    data["phase"] = thread.phase.value
    data[VERSION_KEY] = FORMAT_VERSION
    return data


def thread_from_json(data: Mapping[str, Json]) -> Thread:
    """The thread a stored dict describes (any format version this release reads).

    Raises:
        CheckpointFormatError: the dict is of an unknown version or has unknown fields.
    """
    values = upgraded(data, THREAD_UPGRADES, "thread")
    _convert(values, "scope", tuple)
    _convert(values, "retry_counts", tuple)
    _convert(values, "status", ThreadStatus)
    _convert(values, "phase", Phase)
    fan_out = values.get("fan_out")
    if fan_out is not None:
        fan_out = dict(fan_out)
        _convert(fan_out, "batch_sizes", tuple)
        values["fan_out"] = _build(FanOut, fan_out, stored_version(data), "fan-out")
    return _build(Thread, values, stored_version(data), "thread")


def thread_parts(thread: Thread) -> tuple[dict[str, Json], dict[str, Json]]:
    """:func:`thread_to_json` split in two: the small fields (with the version), the bulky."""
    data = thread_to_json(thread)
    bulk = {name: data.pop(name) for name in THREAD_BULK_FIELDS}
    return data, bulk


def thread_from_parts(snapshot: Mapping[str, Json], bulk: Mapping[str, Json] | None) -> Thread:
    """The thread of :func:`thread_parts`' two dicts (``bulk`` None: all in ``snapshot``)."""
    return thread_from_json(snapshot if bulk is None else {**snapshot, **bulk})


def same_bulk(thread: Thread, stored: Thread) -> bool:
    """Whether ``thread``'s bulky fields are the very objects of ``stored``'s (unchanged)."""
    return all(getattr(thread, name) is getattr(stored, name) for name in THREAD_BULK_FIELDS)


# --- execution headers ---------------------------------------------------------------------


def execution_to_json(execution: Execution) -> dict[str, Json]:
    """An execution header as a JSON-ready dict of the current format."""
    data = _shallow(execution)
    data["status"] = execution.status.value
    data[VERSION_KEY] = FORMAT_VERSION
    return data


def execution_from_json(data: Mapping[str, Json]) -> Execution:
    """The header a stored dict describes (any format version this release reads).

    Raises:
        CheckpointFormatError: the dict is of an unknown version or has unknown fields.
    """
    values = upgraded(data, HEADER_UPGRADES, "execution header")
    _convert(values, "status", ExecutionStatus)
    return _build(Execution, values, stored_version(data), "execution header")


def header_without_input(execution: Execution) -> dict[str, Json]:
    """:func:`execution_to_json` minus the input, which the store keeps apart (ADR 0012)."""
    data = execution_to_json(execution)
    del data["input"]
    return data


def header_with_input(data: Mapping[str, Json], execution_input: Json) -> Execution:
    """The header of a stored dict; ``execution_input`` fills in a dict stored without it."""
    if "input" in data:  # written before the input was kept apart
        return execution_from_json(data)
    return execution_from_json({**data, "input": execution_input})


# --- history events ------------------------------------------------------------------------


def event_to_json(event: HistoryEvent) -> dict[str, Json]:
    """A history event as a JSON-ready dict."""
    data = _shallow(event)
    data["details"] = dict(event.details)
    return data


def event_from_json(data: Mapping[str, Json]) -> HistoryEvent:
    """The history event an :func:`event_to_json` dict describes."""
    return _build(HistoryEvent, dict(data), FORMAT_VERSION, "history event")
