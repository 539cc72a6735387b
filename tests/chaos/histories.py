"""Histories as what must not change under a fault, and how two of them differ.

Timestamps, ids, inputs and outputs are left out. Each thread (the root, a Parallel
branch, a Map iteration: the store names it by its path, so the same one in two runs has
the same id) keeps its events in order; the events a parent records as its children
progress (``MapIteration*``) are compared as a multiset, since concurrent iterations end
in any order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from engine._interpreter.history import HistoryEvent

CONCURRENT = frozenset(
    {"MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"}
)
"""Events whose order between a parent's concurrent children is not fixed."""

Event = tuple[str, str | None, int | None]
"""(type, state name, Map iteration index)."""


@dataclass(frozen=True)
class Shape:
    """An execution's history as compared: per thread, its ordered and unordered events."""

    ordered: dict[str, tuple[Event, ...]]
    unordered: dict[str, tuple[Event, ...]]

    def events(self) -> Counter[tuple[str, Event]]:
        """Every event with its thread, as a multiset."""
        counted: Counter[tuple[str, Event]] = Counter()
        for threads in (self.ordered, self.unordered):
            counted.update(
                (thread, event) for thread, events in threads.items() for event in events
            )
        return counted


def shape_of(history: Iterable[HistoryEvent]) -> Shape:
    """The :class:`Shape` of a history as the store returns it (oldest first)."""
    ordered: dict[str, list[Event]] = {}
    unordered: dict[str, list[Event]] = {}
    for event in history:
        index = event.details.get("index")
        item = (event.type, event.state_name, index if isinstance(index, int) else None)
        target = unordered if event.type in CONCURRENT else ordered
        target.setdefault(event.thread_id, []).append(item)
    return Shape(
        {thread: tuple(events) for thread, events in ordered.items()},
        {thread: tuple(sorted(events, key=repr)) for thread, events in unordered.items()},
    )


def extra_events(observed: Shape, reference: Shape) -> int:
    """How many events ``observed`` holds beyond ``reference`` (a duplicated transition)."""
    return sum((observed.events() - reference.events()).values())


def numbering_problems(history: list[HistoryEvent]) -> list[str]:
    """Ids not 1..N in order, or a previous id that is not an earlier event."""
    problems = [
        f"event {position + 1} has id {event.id}"
        for position, event in enumerate(history)
        if event.id != position + 1
    ]
    problems += [
        f"event {event.id} follows {event.previous_event_id}"
        for event in history
        if not 0 <= event.previous_event_id < event.id
    ]
    return problems


def difference(observed: Shape, reference: Shape) -> str:
    """The threads whose events differ, both ways (for an assertion's message)."""
    lines = []
    for part, (mine, theirs) in {
        "ordered": (observed.ordered, reference.ordered),
        "unordered": (observed.unordered, reference.unordered),
    }.items():
        for thread in sorted(set(mine) | set(theirs)):
            got, expected = mine.get(thread), theirs.get(thread)
            if got != expected:
                lines.append(f"{part} {thread}:\n  got      {got}\n  expected {expected}")
    return "\n".join(lines)
