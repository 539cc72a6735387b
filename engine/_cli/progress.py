"""Live progress of an execution: its states entering and exiting as its history grows.

``stepline run`` and ``stepline start --wait`` wrap their waiter with `showing_progress`:
while the command waits, a thread reads the history's new events (GetExecutionHistory,
newest first, without execution data, until the last event already shown) and draws them
on stderr, which leaves stdout to the execution's output. On a terminal, a `rich` live
area lists the running states with their elapsed time, and each state that ends is
printed above it; elsewhere (a pipe, a file, CI) each happening is one plain line:

    entered  Validate
    exited   Validate  0.01s
    failed   Charge    NotFixedYet (LambdaFunctionFailed)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from engine._api.operations import Operations
from engine._interpreter.failures import is_failure

Json = Any
Waiter = Callable[[Operations, str], dict[str, Json]]
POLL_SECONDS = 0.1
PAGE = 100
_EXECUTION_ENDS = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")


@dataclass(frozen=True)
class Happening:
    """One thing to tell about a state.

    ``kind``: ``entered``, ``exited`` (``detail``: how long it took) or ``failed``
    (``detail``: the error and the event that recorded it).
    """

    kind: str
    state: str
    detail: str = ""

    def line(self) -> str:
        """The plain line for it."""
        return f"{self.kind:<8} {self.state:<20} {self.detail}".rstrip()


class ProgressModel:
    """What an execution's history tells so far: the states running and what happened.

    Fed the new events in order; events without a state name (a Task's ``*Failed``) belong
    to the state of the event they follow (``previousEventId``), as AWS chains them.
    """

    def __init__(self) -> None:
        self.last_id = 0
        self._names: dict[int, str] = {}
        self._running: dict[str, list[datetime]] = {}

    def feed(self, events: Sequence[dict[str, Json]]) -> list[Happening]:
        """Take the next events (oldest first); returns what they tell, in order."""
        told: list[Happening] = []
        for event in events:
            if event["id"] <= self.last_id:
                continue  # already shown (a page overlapping the previous poll)
            self.last_id = event["id"]
            told.extend(self._read(event))
        return told

    def running(self) -> list[tuple[str, datetime]]:
        """The states entered and not exited, with when they were entered (oldest first)."""
        return sorted(
            ((name, since) for name, entries in self._running.items() for since in entries),
            key=lambda item: item[1],
        )

    def _read(self, event: dict[str, Json]) -> list[Happening]:
        kind: str = event["type"]
        details = _details(event)
        name = details.get("name")
        state = name if isinstance(name, str) else self._names.get(event["previousEventId"], "")
        if state:
            self._names[event["id"]] = state
        if kind in _EXECUTION_ENDS:
            self._running.clear()  # a Fail state, a stop: nothing is left running
            return []
        if kind.endswith("StateEntered"):
            self._running.setdefault(state, []).append(event["timestamp"])
            return [Happening("entered", state)]
        if kind.endswith("StateExited"):
            return [Happening("exited", state, self._took(state, event["timestamp"]))]
        if is_failure(kind):
            error = details.get("error")
            return [Happening("failed", state, f"{error} ({kind})" if error else kind)]
        return []

    def _took(self, state: str, exited: datetime) -> str:
        entries = self._running.get(state)
        if not entries:
            return ""
        entered = entries.pop(0)  # concurrent iterations of one state: first in, first out
        if not entries:
            del self._running[state]
        return f"{(exited - entered).total_seconds():.2f}s"


def _details(event: dict[str, Json]) -> dict[str, Json]:
    found = next((v for k, v in event.items() if k.endswith("EventDetails")), None)
    return found if isinstance(found, dict) else {}


def new_events(client: Operations, execution_arn: str, after_id: int) -> list[dict[str, Json]]:
    """The history's events after ``after_id``, oldest first (read newest first, paged)."""
    fresh: list[dict[str, Json]] = []
    token: str | None = None
    while True:
        request: dict[str, Json] = {"nextToken": token} if token else {}
        page = client.get_execution_history(
            executionArn=execution_arn,
            reverseOrder=True,
            maxResults=PAGE,
            includeExecutionData=False,
            **request,
        )
        events = page["events"]
        newer = [event for event in events if event["id"] > after_id]
        fresh.extend(newer)
        token = page.get("nextToken")
        if len(newer) < len(events) or not token:
            return sorted(fresh, key=lambda event: int(event["id"]))


class Display(Protocol):
    """Where progress is drawn."""

    def show(self, told: list[Happening], running: list[tuple[str, datetime]]) -> None:
        """Tell ``told``; ``running``: the states running now."""
        ...

    def close(self) -> None:
        """The wait is over: leave the screen as plain text."""
        ...


class PlainDisplay:
    """One line per happening (a pipe, a file, CI): nothing redrawn."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def show(self, told: list[Happening], running: list[tuple[str, datetime]]) -> None:
        """Write a line per happening."""
        for happening in told:
            self.console.out(happening.line(), highlight=False)

    def close(self) -> None:
        """Nothing to clear."""


_MARKS = {"entered": ("→", "cyan"), "exited": ("✓", "green"), "failed": ("✗", "bold red")}


class LiveDisplay:
    """A terminal: the running states redrawn in place, each ending printed above them."""

    def __init__(self, console: Console, clock: Callable[[], datetime]) -> None:
        self.console = console
        self.clock = clock
        self._live = Live(console=console, refresh_per_second=8, transient=True)
        self._live.start()

    def show(self, told: list[Happening], running: list[tuple[str, datetime]]) -> None:
        """Print the endings and failures; redraw the running states with their time."""
        for happening in told:
            if happening.kind != "entered":  # entering shows in the live area
                mark, style = _MARKS[happening.kind]
                line = Text(f"{mark} ", style=style)
                line.append(f"{happening.state:<20} ").append(happening.detail, style="dim")
                self.console.print(line)
        self._live.update(self._running(running))

    def _running(self, running: list[tuple[str, datetime]]) -> Group:
        now = self.clock()
        return Group(
            *(
                Spinner("dots", Text(f"{state:<20} {(now - since).total_seconds():.1f}s"))
                for state, since in running
            )
        )

    def close(self) -> None:
        """Stop redrawing (the live area is cleared: only the printed lines stay)."""
        self._live.stop()


def display_for(console: Console, clock: Callable[[], datetime]) -> Display:
    """A live display on a terminal, plain lines elsewhere."""
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveDisplay(console, clock)
    return PlainDisplay(console)


@contextmanager
def watching(
    client: Operations, execution_arn: str, display: Display, interval: float = POLL_SECONDS
) -> Iterator[None]:
    """Draw the execution's progress on ``display`` for the duration of the block.

    A thread polls the history every ``interval`` seconds; after the block, the events
    recorded until then are drawn too, so the last states always show.
    """
    model = ProgressModel()
    stop = threading.Event()

    def poll() -> None:
        try:
            told = model.feed(new_events(client, execution_arn, model.last_id))
        except Exception:  # progress is a courtesy: the command goes on without it
            return
        display.show(told, model.running())

    def loop() -> None:
        while not stop.wait(interval):
            poll()

    thread = threading.Thread(target=loop, daemon=True, name="stepline-progress")
    thread.start()
    try:
        yield
        stop.set()
        thread.join()
        poll()
    finally:
        stop.set()
        thread.join()
        display.close()


def showing_progress(
    wait: Waiter, clock: Callable[[], datetime], *, console: Console | None = None
) -> Waiter:
    """``wait``, drawing the execution's progress on stderr (or ``console``) meanwhile."""

    def waiting(client: Operations, execution_arn: str) -> dict[str, Json]:
        shown = console or Console(stderr=True)
        with watching(client, execution_arn, display_for(shown, clock)):
            return wait(client, execution_arn)

    return waiting
