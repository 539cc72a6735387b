"""An execution's history laid over its graph: each state's status, visits and data.

The history is GetExecutionHistory's events (boto3's dicts, as the API returns them, so
AWS's own histories work too). Each ``*StateEntered`` opens a *visit* of a state; every
later event is attributed to a visit by following ``previousEventId`` (AWS links each
event to the one that caused it), and events such as ``ParallelStateFailed`` climb to the
enclosing visit of their state type. Map iterations are numbered from
``MapIterationStarted``; visits inside one carry its index.

A visit's status:

- ``RUNNING``: entered, not left, while the execution runs;
- ``SUCCEEDED``: left without an error; ``RETRIED`` when that took more than one attempt;
- ``CAUGHT``: failed and left anyway (a ``Catch`` sent it on);
- ``FAILED``: failed and never left (or a ``Fail`` state);
- ``ABORTED``: aborted, or still open when the execution stopped or timed out.

A state visited many times (a loop, Map iterations) shows the most telling of its visits'
statuses: running, then failed, aborted, caught, retried, succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from engine._graph.model import Graph

Json = Any


class StateStatus(StrEnum):
    """Where a state stands in an execution."""

    NOT_STARTED = "NOT_STARTED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    RETRIED = "RETRIED"
    CAUGHT = "CAUGHT"
    FAILED = "FAILED"
    ABORTED = "ABORTED"


_PRIORITY = (
    StateStatus.RUNNING,
    StateStatus.FAILED,
    StateStatus.ABORTED,
    StateStatus.CAUGHT,
    StateStatus.RETRIED,
    StateStatus.SUCCEEDED,
)
_FAILURES = ("Failed", "TimedOut", "ScheduleFailed", "StartFailed", "SubmitFailed")
_ATTEMPTS = ("Scheduled",)
_ITERATION_STATUS = {
    "MapIterationStarted": StateStatus.RUNNING,
    "MapIterationSucceeded": StateStatus.SUCCEEDED,
    "MapIterationFailed": StateStatus.FAILED,
    "MapIterationAborted": StateStatus.ABORTED,
}


@dataclass
class Visit:
    """One entry into a state, from its ``*StateEntered`` event to its end.

    Attributes:
        event_id: the id of the ``*StateEntered`` event.
        name: the state's name.
        type: the state type as the event names it (``Task``, ``Map`` ...).
        status: see the module docstring.
        input: the state's input (JSON text), as recorded.
        output: its output (JSON text), once it left.
        entered: when it was entered (ISO 8601).
        exited: when it was left or failed (ISO 8601), or None.
        error: the error of its last failure (retried, caught or final).
        cause: the cause of that failure.
        attempts: how many times its work was scheduled (Task retries count).
        iteration: the Map iteration index it ran in (innermost), or None.
        items: for a Map state, each iteration's status by index.
    """

    event_id: int
    name: str
    type: str
    status: StateStatus = StateStatus.RUNNING
    input: str | None = None
    output: str | None = None
    entered: str | None = None
    exited: str | None = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0
    iteration: int | None = None
    items: dict[int, StateStatus] = field(default_factory=dict)
    parent: int | None = None
    failed: bool = False

    def as_json(self) -> dict[str, Json]:
        """The visit as JSON values (for the console and ``--format json``)."""
        return {
            "eventId": self.event_id,
            "name": self.name,
            "type": self.type,
            "status": str(self.status),
            "input": self.input,
            "output": self.output,
            "entered": self.entered,
            "exited": self.exited,
            "error": self.error,
            "cause": self.cause,
            "attempts": self.attempts,
            "iteration": self.iteration,
            "items": {str(index): str(status) for index, status in sorted(self.items.items())},
        }


@dataclass(frozen=True)
class StateRun:
    """A state's part in one execution: its overall status and every visit."""

    node_id: str
    status: StateStatus
    visits: tuple[Visit, ...] = ()

    @property
    def last(self) -> Visit | None:
        """The latest visit, if any."""
        return self.visits[-1] if self.visits else None


@dataclass(frozen=True)
class Overlay:
    """Every state's run in one execution, by node id (states never entered are absent)."""

    states: dict[str, StateRun]
    visits: tuple[Visit, ...]

    def status(self, node_id: str) -> StateStatus:
        """The status of the node ``node_id`` (``NOT_STARTED`` if it never ran)."""
        run = self.states.get(node_id)
        return run.status if run else StateStatus.NOT_STARTED


def overlay(graph: Graph, events: list[dict[str, Json]], execution_status: str) -> Overlay:
    """Lay ``events`` (oldest first) of an execution in ``execution_status`` over ``graph``."""
    walker = _Walker()
    for event in events:
        walker.take(event)
    for visit in walker.visits:
        _settle(visit, execution_status)
    _inherit_errors(walker.visits)
    return Overlay(_by_node(graph, walker.visits), tuple(walker.visits))


class _Walker:
    """Attributes each event to the visit it belongs to."""

    def __init__(self) -> None:
        self.visits: list[Visit] = []
        self.by_id: dict[int, Visit] = {}  # visit by its entered event id
        self.visit_of: dict[int, int] = {}  # event id -> visit (entered event id)
        self.iteration_starts: dict[int, int] = {}  # MapIterationStarted id -> its index

    def take(self, event: dict[str, Json]) -> None:
        kind = str(event.get("type", ""))
        event_id, previous = int(event.get("id", 0)), int(event.get("previousEventId", 0))
        index = _details(event).get("index")
        if kind == "MapIterationStarted" and isinstance(index, int):
            self.iteration_starts[event_id] = index
        if kind.endswith("StateEntered"):
            self._enter(kind, event, event_id, previous)
            return
        visit = self._owner(kind, event, previous)
        if visit is None:
            return
        self.visit_of[event_id] = visit.event_id
        _apply(visit, kind, event)

    def _iteration(self, previous: int) -> int | None:
        """The Map iteration a state entered after event ``previous`` runs in."""
        if previous in self.iteration_starts:
            return self.iteration_starts[previous]
        prior = self.by_id.get(self.visit_of.get(previous, -1))
        return prior.iteration if prior is not None else None

    def _enter(self, kind: str, event: dict[str, Json], event_id: int, previous: int) -> None:
        details = _details(event)
        visit = Visit(
            event_id=event_id,
            name=str(details.get("name", "")),
            type=kind.removesuffix("StateEntered"),
            input=details.get("input"),
            entered=_time(event),
            iteration=self._iteration(previous),
            parent=self._parent(previous),
        )
        if visit.type == "Fail":
            visit.failed = True
        self.visits.append(visit)
        self.by_id[event_id] = visit
        self.visit_of[event_id] = event_id

    def _parent(self, previous: int) -> int | None:
        """The Parallel or Map visit a newly entered state runs inside, if any."""
        prior = self.by_id.get(self.visit_of.get(previous, -1))
        if prior is None:
            return None
        if prior.exited is None and prior.type in ("Parallel", "Map"):
            return prior.event_id  # the first state of a branch or an iteration
        return prior.parent  # the next state of the same branch or iteration

    def _owner(self, kind: str, event: dict[str, Json], previous: int) -> Visit | None:
        visit = self.by_id.get(self.visit_of.get(previous, -1))
        if kind.startswith("Execution"):
            # only a Fail state's error is told by the execution's end, not by its own events
            return visit if visit is not None and visit.type == "Fail" else None
        if kind.startswith("MapIteration") or kind.endswith("StateExited"):
            name = _details(event).get("name")
            return self._climb(visit, lambda v: v.name == name)
        if kind.startswith(("Parallel", "Map")) and "State" in kind:
            prefix = kind.split("State")[0]
            return self._climb(visit, lambda v: v.type == prefix)
        if kind.endswith("StateAborted"):
            prefix = kind.removesuffix("StateAborted")
            return self._climb(visit, lambda v: v.type == prefix)
        return visit

    def _climb(self, visit: Visit | None, wanted: Any) -> Visit | None:
        while visit is not None and not wanted(visit):
            visit = self.by_id.get(visit.parent) if visit.parent is not None else None
        return visit


def _apply(visit: Visit, kind: str, event: dict[str, Json]) -> None:
    """What one event says about the visit it belongs to."""
    details = _details(event)
    if kind in _ITERATION_STATUS:
        index = details.get("index")
        if isinstance(index, int):
            visit.items[index] = _ITERATION_STATUS[kind]
    elif kind.endswith("StateExited"):
        visit.output = details.get("output")
        visit.exited = _time(event)
    elif kind.endswith("StateAborted"):
        # the state whose failure ended its branch is aborted after failing: it failed
        visit.status = StateStatus.FAILED if visit.failed else StateStatus.ABORTED
        visit.exited = _time(event)
    elif kind.endswith(_ATTEMPTS):
        visit.attempts += 1
        if visit.failed:  # a failure followed by another attempt was retried
            visit.failed, visit.exited = False, None
    elif kind.endswith(_FAILURES):
        visit.failed = True
        visit.error = details.get("error", visit.error)
        visit.cause = details.get("cause", visit.cause)
        visit.exited = visit.exited or _time(event)


def _settle(visit: Visit, execution_status: str) -> None:
    """The visit's final status, once every event has been taken."""
    if visit.status in (StateStatus.ABORTED, StateStatus.FAILED):
        return  # aborted: nothing after it changes that
    left = visit.output is not None or (visit.exited is not None and not visit.failed)
    if visit.failed:
        visit.status = StateStatus.CAUGHT if visit.output is not None else StateStatus.FAILED
        if visit.status is StateStatus.FAILED and execution_status == "RUNNING":
            visit.status = StateStatus.RUNNING  # failed an attempt; a Retry or Catch follows
    elif left:
        visit.status = StateStatus.RETRIED if visit.attempts > 1 else StateStatus.SUCCEEDED
    elif execution_status == "RUNNING":
        visit.status = StateStatus.RUNNING
    elif execution_status == "FAILED" and visit.type in ("Parallel", "Map"):
        visit.status = StateStatus.FAILED  # a branch or an iteration failed it
    else:
        visit.status = StateStatus.ABORTED  # stopped or timed out while in the state
    if visit.status is not StateStatus.RUNNING and visit.items:
        visit.items = {
            index: StateStatus.ABORTED if status is StateStatus.RUNNING else status
            for index, status in visit.items.items()
        }


def _inherit_errors(visits: list[Visit]) -> None:
    """A failed Parallel or Map tells no error itself: it is its failed branch's."""
    for visit in reversed(visits):  # inner visits come later: they inherit first
        if visit.error is None and visit.type in ("Parallel", "Map"):
            inner = [v for v in visits if v.parent == visit.event_id and v.error is not None]
            if inner and visit.status in (StateStatus.FAILED, StateStatus.CAUGHT):
                visit.error, visit.cause = inner[-1].error, inner[-1].cause


def _by_node(graph: Graph, visits: list[Visit]) -> dict[str, StateRun]:
    grouped: dict[str, list[Visit]] = {}
    for visit in visits:
        nodes = graph.states_named(visit.name)
        if nodes:
            grouped.setdefault(nodes[0].id, []).append(visit)
    return {
        node_id: StateRun(node_id, _most_telling(v.status for v in group), tuple(group))
        for node_id, group in grouped.items()
    }


def _most_telling(statuses: Any) -> StateStatus:
    present = set(statuses)
    return next((s for s in _PRIORITY if s in present), StateStatus.NOT_STARTED)


def _details(event: dict[str, Json]) -> dict[str, Json]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


def _time(event: dict[str, Json]) -> str | None:
    stamp = event.get("timestamp")
    if isinstance(stamp, datetime):
        return stamp.isoformat()
    return stamp if isinstance(stamp, str) else None
