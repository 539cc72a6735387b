"""Every waiting integration ends by its TimeoutSeconds on a real fleet (no execution is left
RUNNING without a timer that will end it), and an event matching no rule goes nowhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

import engine
from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
Json = Any


def _one_task(fleet: Fleet, name: str, resource: str, parameters: Json, **task: Json) -> str:
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return fleet.create(name, {"StartAt": "Wait", "States": {"Wait": {**state, **task}}})


def _assert_timed_out(fleet: Fleet, machine: str, name: str) -> Json:
    arn = fleet.start_execution(machine, {"order": 7}, name)
    described = fleet.await_status(arn, timeout=90)
    assert described["status"] == "FAILED", described
    assert described["error"] == "States.Timeout"
    types = [event.type for event in fleet.history(arn)]
    assert "TaskTimedOut" in types
    return described


def test_a_queue_token_nobody_answers_times_out(fleet: Fleet) -> None:
    # Given a queue no service consumes and a state waiting on its message's token for 2 s
    engine.messaging(fleet.client).create_queue(QueueName="silent")
    body = {"taskToken.$": "$$.Task.Token"}
    machine = _one_task(
        fleet,
        "silent-queue",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        {"QueueUrl": "silent", "MessageBody": body},
        TimeoutSeconds=2,
    )
    # When it runs, then it fails with States.Timeout (a durable timer ended it)
    _assert_timed_out(fleet, machine, "silent-queue")


def test_a_celery_sync_task_that_never_runs_times_out(fleet: Fleet) -> None:
    # Given a registered Celery task sent to a queue no worker consumes, awaited with .sync
    machine = _one_task(
        fleet,
        "unconsumed",
        "arn:aws:states:::celery:sendTask.sync",
        {"TaskName": "tests.add", "Args": [1, 2], "Queue": "nobody-consumes-this"},
        TimeoutSeconds=2,
    )
    # When it runs, then it fails with States.Timeout
    _assert_timed_out(fleet, machine, "unconsumed")


def test_a_sync_child_that_outlives_its_task_timeout_is_stopped(fleet: Fleet) -> None:
    # Given a child that waits a minute, started with .sync and a 2 s TimeoutSeconds
    child = fleet.create(
        "slow-child",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}},
    )
    machine = _one_task(
        fleet,
        "impatient-parent",
        "arn:aws:states:::states:startExecution.sync:2",
        {"StateMachineArn": child, "Input": {"from": "parent"}},
        TimeoutSeconds=2,
    )
    # When the parent runs
    _assert_timed_out(fleet, machine, "impatient-parent")
    # Then its child was stopped with it, not left waiting
    (run,) = fleet.client.list_executions(stateMachineArn=child)["executions"]
    assert fleet.await_status(run["executionArn"], timeout=60)["status"] == "ABORTED"


def test_an_event_matching_no_rule_is_accepted_and_starts_nothing(fleet: Fleet) -> None:
    # Given a rule for OrderPlaced events only, targeting a machine
    target = fleet.create(
        "on-order", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    events = fleet.client.events
    pattern = {"source": ["shop"], "detail-type": ["OrderPlaced"]}
    events.put_rule(Name="orders", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="orders", Targets=[{"Id": "t", "Arn": target}])
    # When an OrderCancelled event is put on the bus, then an OrderPlaced one
    entry = {"Source": "shop", "Detail": json.dumps({"order": 7})}
    missed = events.put_events(Entries=[{**entry, "DetailType": "OrderCancelled"}])
    matched = events.put_events(Entries=[{**entry, "DetailType": "OrderPlaced"}])
    # Then both are accepted, and only the matching one started an execution
    assert missed["FailedEntryCount"] == 0
    assert missed["Entries"][0]["EventId"]
    assert matched["FailedEntryCount"] == 0

    def started() -> list[Json]:
        return fleet.client.list_executions(stateMachineArn=target)["executions"]

    fleet.await_condition(lambda: len(started()) >= 1, 60, "the matching event's execution")
    assert len(started()) == 1
