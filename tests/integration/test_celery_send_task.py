"""``celery:sendTask`` and executions in Celery canvases, end to end on a real fleet
(Celery worker + beat on Redis, store on PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery, chain

from tasks.canvas import run_execution_signature
from tests.integration.celery_test_tasks import CELERY_SIGNALS
from tests.integration.conftest import Fleet, shape

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

SEND = "arn:aws:states:::celery:sendTask"
Json = Any


def _machine(fleet: Fleet, name: str, resource: str, parameters: Json, **task: Json) -> str:
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return fleet.create(name, {"StartAt": "Send", "States": {"Send": {**state, **task}}})


def _said(fleet: Fleet, key: str, timeout: float = 60) -> Json:
    """The next message a test task pushed that carries ``key`` (BLPOP: no sleeping)."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        item = fleet.signals.blpop([CELERY_SIGNALS], timeout=max(1, min(5, int(remaining))))
        if item is not None and key in (message := json.loads(item[1])):
            return message
    raise AssertionError(f"no test task said {key!r} within {timeout}s")


def test_request_response_succeeds_with_the_sent_tasks_id_name_and_queue(fleet: Fleet) -> None:
    # Given a state sending a Celery task request-response
    machine = _machine(fleet, "rr", SEND, {"TaskName": "tests.add", "Args": [1, 2]})
    # When it runs
    described = fleet.await_status(fleet.start_execution(machine, {}, "rr"))
    # Then it succeeds once the task is sent, with AWS-style fields describing the send
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert set(output) == {"TaskId", "TaskName", "Queue"}
    assert (output["TaskName"], output["Queue"]) == ("tests.add", "stepline.steps")


def test_sync_succeeds_with_the_tasks_return_value(fleet: Fleet) -> None:
    # Given a .sync state whose arguments come from the input
    parameters = {"TaskName": "tests.add", "Args.$": "States.Array($.x, $.y)"}
    machine = _machine(fleet, "sync-ok", SEND + ".sync", parameters)
    # When it runs
    described = fleet.await_status(fleet.start_execution(machine, {"x": 20, "y": 22}, "ok"))
    # Then the state's result is what the Celery task returned
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == 42


def test_sync_fails_with_the_exception_class_name_and_message(fleet: Fleet) -> None:
    # Given a .sync state whose Celery task raises OrderRejected
    parameters = {"TaskName": "tests.reject", "Kwargs": {"order": "o-7"}}
    machine = _machine(fleet, "sync-fail", SEND + ".sync", parameters)
    # When it runs
    described = fleet.await_status(fleet.start_execution(machine, {}, "fail"))
    # Then the execution fails with Error = the class name and Cause = the message
    assert described["status"] == "FAILED"
    assert described["error"] == "OrderRejected"
    assert described["cause"] == "order o-7 rejected: card declined"


def test_wait_for_task_token_is_completed_by_send_task_success(fleet: Fleet) -> None:
    # Given a .waitForTaskToken state passing $$.Task.Token to the task, as on AWS
    parameters = {"TaskName": "tests.hold_token", "Kwargs": {"token.$": "$$.Task.Token"}}
    parameters["Kwargs"]["order.$"] = "$.order"
    machine = _machine(fleet, "token", SEND + ".waitForTaskToken", parameters)
    arn = fleet.start_execution(machine, {"order": "o-1"}, "token")
    # When the task hands the token over and the caller reports success with it
    said = _said(fleet, "token")
    assert said["order"] == "o-1"
    fleet.client.send_task_success(taskToken=said["token"], output='{"shipped":true}')
    # Then the state's result is that output
    described = fleet.await_status(arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"shipped": True}


def test_an_unknown_task_name_fails_a_waiting_state_at_once(fleet: Fleet) -> None:
    # Given .sync and .waitForTaskToken states naming a task no worker registered
    sync = _machine(fleet, "unknown-sync", SEND + ".sync", {"TaskName": "tests.nope"})
    token = _machine(
        fleet,
        "unknown-token",
        SEND + ".waitForTaskToken",
        {"TaskName": "tests.nope", "Args.$": "States.Array($$.Task.Token)"},
    )
    # When they run
    for machine, name in ((sync, "s"), (token, "t")):
        described = fleet.await_status(fleet.start_execution(machine, {}, name), timeout=60)
        # Then each fails at once, naming the task and where its name was expected
        assert described["status"] == "FAILED"
        assert described["error"] == "Celery.NotRegistered"
        assert "'tests.nope'" in described["cause"]
        assert "celery-task:tests.nope" in described["cause"]


@pytest.fixture
def producer(fleet: Fleet) -> Iterator[Celery]:
    """A Celery app of another process, sending to the fleet's broker (JSON only)."""
    app = Celery("producer", broker=fleet.env["STEPLINE_BROKER_URL"])
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="stepline.steps",
        task_ignore_result=True,
    )
    try:
        yield app
    finally:
        app.close()


def test_a_chain_runs_an_execution_and_continues_with_its_output(
    fleet: Fleet, producer: Celery
) -> None:
    # Given a state machine adding a field to its input
    machine = fleet.create(
        "canvas",
        {
            "StartAt": "Ship",
            "States": {
                "Ship": {"Type": "Pass", "Parameters": {"shipped.$": "$.order"}, "End": True}
            },
        },
    )
    # When a chain prepares the input, runs the execution, then records what it received
    steps = [
        producer.signature("tests.prepare", args=("o-9",)),
        producer.signature(dict(run_execution_signature(machine))),
        producer.signature("tests.record"),
    ]
    chain(*steps).apply_async()
    # Then the task after the execution got the execution's output
    said = _said(fleet, "recorded", timeout=120)
    assert said["recorded"] == {"shipped": "o-9"}
    executions = fleet.client.list_executions(stateMachineArn=machine)["executions"]
    assert [e["status"] for e in executions] == ["SUCCEEDED"]


def test_killed_while_a_sync_task_is_outstanding_the_execution_completes_as_if_uninterrupted(
    fleet: Fleet,
) -> None:
    # Given a clean run of a .sync state sending a slow task to a queue the worker serves
    fleet.env["STEPLINE_QUEUES"] = "stepline.steps,stepline.integrations,celery.jobs"
    fleet.kill("worker")
    fleet.start("worker")
    parameters = {"TaskName": "tests.slow_double", "Args": [21, 0.5], "Queue.$": "$.queue"}
    machine = _machine(fleet, "crash-sync", SEND + ".sync", parameters)
    clean = fleet.start_execution(machine, {"queue": "celery.jobs"}, "clean")
    assert fleet.await_status(clean)["status"] == "SUCCEEDED"
    fleet.signals.delete(CELERY_SIGNALS)  # the clean run's "started"

    # When the task is outstanding (sent to a queue no running worker consumes yet) and the
    # worker is killed -9, then restarted consuming that queue
    crashed = fleet.start_execution(machine, {"queue": "celery.later"}, "crashed")
    fleet.await_event(crashed, "TaskStarted")
    fleet.kill("worker")
    fleet.env["STEPLINE_QUEUES"] += ",celery.later"
    fleet.start("worker")

    # Then the task runs, its link reports to the store, and the execution completes
    assert _said(fleet, "started", timeout=90) == {"started": 21}
    described = fleet.await_status(crashed, timeout=120)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == 42
    # with exactly the history of the uninterrupted run
    assert shape(fleet.history(crashed)) == shape(fleet.history(clean))
