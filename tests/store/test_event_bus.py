"""The event bus on the durable backend, driven in-process (InMemoryDispatcher + FakeClock).

Rules start executions from events put on the bus, an event matching no rule goes
nowhere, a malformed pattern is refused naming its place, and the events:putEvents Task
puts events (status change events: test_status_events.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._messaging.event_errors import (
    EventsValidationException,
    InvalidEventPatternException,
    ResourceNotFoundException,
)
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.unit.interpreter.support import T0

Json = Any
ROLE = "arn:aws:iam::111111111111:role/events"
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
FAIL = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Broke"}}}
HANDLERS = HandlerRegistry()


@dataclass
class Bus:
    """A durable client on a fresh SQLite store, and a way to run everything queued."""

    client: Client
    runtime: Runtime
    dispatcher: InMemoryDispatcher
    clock: FakeClock

    def settle(self) -> None:
        """Deliver every message (steps, tasks, status events) until nothing is left."""
        self.dispatcher.join(self.runtime, HANDLERS, self.clock)

    def machine(self, name: str, definition: Json) -> str:
        """Create a machine; returns its ARN."""
        created = self.client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE
        )
        return str(created["stateMachineArn"])

    def runs(self, machine_arn: str) -> list[Json]:
        """The machine's executions, described."""
        listed = self.client.list_executions(stateMachineArn=machine_arn)["executions"]
        return [self.client.describe_execution(executionArn=e["executionArn"]) for e in listed]


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[Bus]:
    url = f"sqlite:///{tmp_path / 'bus.db'}"
    upgrade(url)
    store = Store(make_engine(url))
    clock, dispatcher = FakeClock(T0), InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, clock)
    yield Bus(
        Client(DurableBackend(store, runtime, HANDLERS), clock=clock), runtime, dispatcher, clock
    )
    store.engine.dispose()


def _order_rule(bus: Bus, target_arn: str, **target: Json) -> None:
    pattern = {"source": ["shop"], "detail-type": ["OrderPlaced"]}
    bus.client.events.put_rule(Name="orders", EventPattern=json.dumps(pattern))
    bus.client.events.put_targets(
        Rule="orders", Targets=[{"Id": "t1", "Arn": target_arn, **target}]
    )


ORDER = {"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"order": 7}'}


def test_a_rule_starts_an_execution_with_the_event_as_input(bus: Bus) -> None:
    # Given a rule on OrderPlaced events targeting a machine
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine)

    # When an OrderPlaced event is put on the bus
    response = bus.client.events.put_events(Entries=[ORDER])
    bus.settle()

    # Then the event is accepted and one execution ran with the EventBridge event as input
    assert response["FailedEntryCount"] == 0
    event_id = response["Entries"][0]["EventId"]
    (run,) = bus.runs(machine)
    assert run["status"] == "SUCCEEDED"
    event = json.loads(run["input"])
    assert event["id"] == event_id
    assert event["detail"] == {"order": 7}
    assert event["detail-type"] == "OrderPlaced"
    assert event["source"] == "shop"
    assert set(event) == {
        "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"
    }  # fmt: skip


def test_an_event_matching_no_rule_is_accepted_and_delivered_nowhere(bus: Bus) -> None:
    # Given a rule on OrderPlaced events only
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine)

    # When an OrderCancelled event is put on the bus
    entry = {**ORDER, "DetailType": "OrderCancelled"}
    response = bus.client.events.put_events(Entries=[entry])
    bus.settle()

    # Then it is accepted (an EventId, no failure) and starts nothing
    assert response["FailedEntryCount"] == 0
    assert "EventId" in response["Entries"][0]
    assert bus.runs(machine) == []


def test_a_malformed_pattern_is_refused_naming_its_place(bus: Bus) -> None:
    # Given a pattern whose detail.amount holds a bare number, not an array of matchers
    pattern = json.dumps({"source": ["shop"], "detail": {"amount": 5}})

    # When it is put as a rule
    with pytest.raises(InvalidEventPatternException) as refused:
        bus.client.events.put_rule(Name="bad", EventPattern=pattern)

    # Then the error is EventBridge's, names the path and what was expected; no rule exists
    assert refused.value.code == "InvalidEventPatternException"
    assert "$.detail.amount" in refused.value.message
    assert "expected" in refused.value.message
    assert bus.client.events.list_rules()["Rules"] == []


def test_input_and_input_path_shape_what_the_target_gets(bus: Bus) -> None:
    # Given two targets: one with a constant Input, one with InputPath $.detail
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine, Input='{"fixed": true}')
    bus.client.events.put_targets(
        Rule="orders", Targets=[{"Id": "t2", "Arn": machine, "InputPath": "$.detail"}]
    )

    # When an OrderPlaced event is put
    bus.client.events.put_events(Entries=[ORDER])
    bus.settle()

    # Then one run got the constant and the other the event's detail
    inputs = sorted(run["input"] for run in bus.runs(machine))
    assert [json.loads(text) for text in inputs] == [{"fixed": True}, {"order": 7}]


def test_delivering_the_same_event_twice_starts_one_execution(bus: Bus) -> None:
    # Given a rule targeting a machine
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine)

    # When the same event (same id: a retried caller) is put twice
    from engine._messaging.events import put_events
    from engine._messaging.targets import target_sender

    engine = bus.runtime.store.engine
    send = target_sender(bus.client, engine, bus.clock.now)
    for _ in range(2):
        put_events(engine, [ORDER], send, now=bus.clock.now(), event_ids=["same-id"])
        bus.settle()

    # Then the target ran once
    assert len(bus.runs(machine)) == 1


def test_rules_are_listed_described_and_deleted_once_without_targets(bus: Bus) -> None:
    # Given a rule with a target
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine)

    # When it is described, and deleted before and after removing its target
    described = bus.client.events.describe_rule(Name="orders")
    with pytest.raises(EventsValidationException, match="has targets"):
        bus.client.events.delete_rule(Name="orders")
    bus.client.events.remove_targets(Rule="orders", Ids=["t1"])
    bus.client.events.delete_rule(Name="orders")

    # Then the description was EventBridge's shape and the rule is gone
    assert described["Arn"] == "arn:aws:events:us-east-1:111111111111:rule/orders"
    assert described["State"] == "ENABLED"
    assert described["EventBusName"] == "default"
    with pytest.raises(ResourceNotFoundException, match="orders"):
        bus.client.events.describe_rule(Name="orders")


def test_a_disabled_rule_delivers_nothing(bus: Bus) -> None:
    # Given a DISABLED rule on OrderPlaced
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine)
    pattern = bus.client.events.describe_rule(Name="orders")["EventPattern"]
    bus.client.events.put_rule(Name="orders", EventPattern=pattern, State="DISABLED")

    # When an OrderPlaced event is put
    bus.client.events.put_events(Entries=[ORDER])
    bus.settle()

    # Then nothing ran
    assert bus.runs(machine) == []


def _putter(entries: Json) -> dict[str, Json]:
    return {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {"Entries": entries},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }


def test_the_put_events_task_starts_the_rule_target_and_returns_aws_response(bus: Bus) -> None:
    # Given a rule on OrderPlaced events, and a machine putting one with a JSON Detail
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine)
    entry = {"Source": "shop", "DetailType": "OrderPlaced", "Detail": {"order": 9}}
    putter = bus.machine("putter", _putter([entry]))

    # When the putter runs
    started = bus.client.start_execution(stateMachineArn=putter, name="p1")
    bus.settle()

    # Then its result is PutEvents' response and the target got the event, whose
    # resources name the putting machine and execution (as Step Functions adds them)
    (run,) = bus.runs(putter)
    output = json.loads(run["output"])
    assert output["FailedEntryCount"] == 0
    assert list(output) == ["Entries", "FailedEntryCount"]
    (target_run,) = bus.runs(machine)
    event = json.loads(target_run["input"])
    assert event["id"] == output["Entries"][0]["EventId"]
    assert event["detail"] == {"order": 9}
    assert event["resources"] == [putter, started["executionArn"]]


def test_a_failed_entry_fails_the_task_with_eventbridge_failed_entry(bus: Bus) -> None:
    # Given a machine putting an entry without a Source, catching every error
    entry = {"DetailType": "OrderPlaced", "Detail": {"order": 9}}
    putter = bus.machine("putter", _putter([entry]))

    # When it runs
    bus.client.start_execution(stateMachineArn=putter, name="p1")
    bus.settle()

    # Then the task failed with EventBridge.FailedEntry, the entries' errors as its Cause
    (run,) = bus.runs(putter)
    caught = json.loads(run["output"])
    assert caught["Error"] == "EventBridge.FailedEntry"
    (failure,) = json.loads(caught["Cause"])
    assert failure["ErrorCode"] == "InvalidArgument"
    assert "Source" in failure["ErrorMessage"]


def test_put_events_wait_for_task_token_waits_for_the_token_it_sent(bus: Bus) -> None:
    # Given a rule on OrderPlaced targeting a machine, and a machine putting an OrderPlaced
    # event with its task token in the Detail, waiting for it
    machine = bus.machine("fulfil", ECHO)
    _order_rule(bus, machine, InputPath="$.detail")
    entry = {
        "Source": "shop",
        "DetailType": "OrderPlaced",
        "Detail": {"order": 3, "token.$": "$$.Task.Token"},
    }
    waiting = _putter([entry])
    waiting["States"]["Put"]["Resource"] += ".waitForTaskToken"
    putter = bus.machine("putter", waiting)
    run = bus.client.start_execution(stateMachineArn=putter, name="w1")["executionArn"]
    bus.settle()
    assert bus.client.describe_execution(executionArn=run)["status"] == "RUNNING"

    # When the started target's input token is sent back with an output
    (target_run,) = bus.runs(machine)
    token = json.loads(target_run["input"])["token"]
    bus.client.send_task_success(taskToken=token, output='{"shipped": true}')
    bus.settle()

    # Then the putter goes on with that output
    described = bus.client.describe_execution(executionArn=run)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"shipped": True}
