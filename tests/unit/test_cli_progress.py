"""The CLI's live progress: what an execution's history tells, drawn as it grows."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

import engine
from engine._api import Client
from engine._cli import progress
from engine._cli.progress import (
    Happening,
    LiveDisplay,
    PlainDisplay,
    ProgressModel,
    display_for,
    new_events,
    watching,
)

Json = Any
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROLE = "arn:aws:iam::111111111111:role/progress"
MACHINE = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Pass", "Next": "Lines"},
        "Lines": {
            "Type": "Map",
            "ItemsPath": "$.lines",
            "ItemProcessor": {
                "StartAt": "Price",
                "States": {"Price": {"Type": "Pass", "End": True}},
            },
            "Next": "Reject",
        },
        "Reject": {"Type": "Fail", "Error": "Order.Rejected"},
    },
}


def event(id_: int, type_: str, seconds: float, **details: Json) -> dict[str, Json]:
    """A GetExecutionHistory event (``details``: its ``*EventDetails``)."""
    shaped: dict[str, Json] = {
        "id": id_,
        "previousEventId": id_ - 1,
        "type": type_,
        "timestamp": T0 + timedelta(seconds=seconds),
    }
    if details:
        shaped["someEventDetails"] = details
    return shaped


def ran(definition: Json, payload: Json) -> tuple[Client, str]:
    """A local client and the ARN of one execution of ``definition`` that has ended."""
    client = Client.local(engine.registry)
    arn = client.create_state_machine(
        name="orders", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    started = client.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    return client, started["executionArn"]


def test_states_entering_exiting_and_failing_are_told_in_order() -> None:
    # Given a Task that fails once, is retried and succeeds, then a Fail state
    model = ProgressModel()
    events = [
        event(1, "ExecutionStarted", 0),
        event(2, "TaskStateEntered", 0.0, name="Charge"),
        event(3, "LambdaFunctionScheduled", 0.1),
        event(4, "LambdaFunctionFailed", 0.2, error="Timeout", cause="{...}"),
        event(5, "LambdaFunctionScheduled", 1.0),
        event(6, "LambdaFunctionSucceeded", 1.5),
        event(7, "TaskStateExited", 1.5, name="Charge"),
        event(8, "FailStateEntered", 1.6, name="Reject"),
        event(9, "ExecutionFailed", 1.6, error="Order.Rejected"),
    ]
    # When the model reads them, in two polls that overlap
    told = model.feed(events[:5]) + model.feed(events[3:])
    # Then each state's entry, exit (with its time) and failure is told once, in order;
    # the execution's own end is left to the final report
    assert [h.line() for h in told] == [
        "entered  Charge",
        "failed   Charge               Timeout (LambdaFunctionFailed)",
        "exited   Charge               1.50s",
        "entered  Reject",
    ]
    assert model.running() == []  # the Fail state ended the execution


def test_concurrent_iterations_of_a_state_run_side_by_side() -> None:
    # Given two iterations of one Map state entered, and one of them exited
    model = ProgressModel()
    model.feed(
        [
            event(1, "PassStateEntered", 0, name="Price"),
            event(2, "PassStateEntered", 1, name="Price"),
            event(3, "PassStateExited", 3, name="Price"),
        ]
    )
    # Then one still runs, since the later entry (first in, first out)
    assert model.running() == [("Price", T0 + timedelta(seconds=1))]


def test_new_events_reads_only_what_follows_across_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an execution whose history spans several pages of three
    monkeypatch.setattr(progress, "PAGE", 3)
    client, arn = ran(MACHINE, {"lines": [1, 2, 3]})
    everything = client.get_execution_history(executionArn=arn)["events"]
    # When the events after the fourth are read
    fresh = new_events(client, arn, 4)
    # Then they are all the later ones, oldest first, without execution data
    assert [e["id"] for e in fresh] == [e["id"] for e in everything][4:]
    details = [d for e in fresh for d in e.values() if isinstance(d, dict)]
    assert details
    assert all("input" not in d and "output" not in d for d in details)


class Recording:
    """A display that keeps what it was shown."""

    def __init__(self) -> None:
        self.told: list[Happening] = []
        self.closed = False

    def show(self, told: list[Happening], running: list[tuple[str, datetime]]) -> None:
        self.told += told

    def close(self) -> None:
        self.closed = True


def test_after_the_wait_every_state_is_shown_and_the_display_closed() -> None:
    # Given an execution that ended before the first poll
    client, arn = ran(MACHINE, {"lines": [1, 2]})
    display = Recording()
    # When it is watched while waiting (never long enough for a poll)
    with watching(client, arn, display, interval=3600):
        pass
    # Then the last poll showed all of it, and the display was closed
    assert [(h.kind, h.state) for h in display.told] == [
        ("entered", "Validate"),
        ("exited", "Validate"),
        ("entered", "Lines"),
        ("entered", "Price"),
        ("exited", "Price"),
        ("entered", "Price"),
        ("exited", "Price"),
        ("exited", "Lines"),
        ("entered", "Reject"),
    ]
    assert display.closed


def test_plain_lines_off_a_terminal_and_a_live_area_on_one() -> None:
    # Given a pipe and a terminal
    pipe = Console(file=io.StringIO(), force_terminal=False)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=60)
    # Then the pipe gets plain lines, one per happening
    plain = display_for(pipe, lambda: T0)
    assert isinstance(plain, PlainDisplay)
    plain.show([Happening("entered", "Charge"), Happening("exited", "Charge", "0.20s")], [])
    assert pipe.file.getvalue() == "entered  Charge\nexited   Charge               0.20s\n"  # type: ignore[attr-defined]
    # and the terminal a live area of the running states, endings printed above it
    live = display_for(terminal, lambda: T0 + timedelta(seconds=2))
    assert isinstance(live, LiveDisplay)
    live.show([Happening("failed", "Charge", "Boom (TaskFailed)")], [("Lines", T0)])
    live.close()
    drawn = screen.getvalue()
    assert "✗ Charge" in drawn
    assert "Boom (TaskFailed)" in drawn
    assert "Lines" in drawn
    assert "2.0s" in drawn


def test_a_history_that_cannot_be_read_leaves_the_command_alone() -> None:
    # Given an execution the client does not know (an Express one cannot be read either)
    client = Client.local(engine.registry)
    display = Recording()
    # When it is watched
    with watching(client, "arn:aws:states:us-east-1:111111111111:execution:x:y", display):
        pass
    # Then nothing is shown and nothing raised
    assert display.told == []
    assert display.closed
