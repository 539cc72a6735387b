"""The HTTP Task end to end in-process: Client.local runs ``http:invoke`` against 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine._api import Client
from tests.http_fixture_server import EchoServer, echo_server

Json = Any
ROLE = "arn:aws:iam::111111111111:role/stepline-tests"
RESOURCE = "arn:aws:states:::http:invoke"


@pytest.fixture
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


def http_machine(endpoint: str, **task: Json) -> dict[str, Json]:
    """A machine calling ``endpoint`` with GET, catching every error into a Failed state."""
    call = {
        "Type": "Task",
        "Resource": RESOURCE,
        "Parameters": {"ApiEndpoint": endpoint, "Method": "GET", "QueryParameters": {"q": "1"}},
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
        **task,
    }
    return {"StartAt": "Call", "States": {"Call": call, "Caught": {"Type": "Pass", "End": True}}}


def run(definition: dict[str, Json]) -> tuple[dict[str, Json], list[dict[str, Json]]]:
    """Run ``definition`` once on a local client: (describe_execution, history events)."""
    client = Client.local()
    machine = client.create_state_machine(
        name="http", definition=json.dumps(definition), roleArn=ROLE
    )
    started = client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    arn = started["executionArn"]
    events = client.get_execution_history(executionArn=arn)["events"]
    return client.describe_execution(executionArn=arn), events


def test_a_2xx_response_is_the_task_result_with_aws_task_events(server: EchoServer) -> None:
    # Given a machine calling the echo route
    definition = http_machine(f"{server.url}/echo")
    # When it runs in-process
    described, events = run(definition)
    # Then the result is AWS's shape: parsed JSON ResponseBody, StatusCode, StatusText, Headers
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["StatusCode"] == 200
    assert output["StatusText"] == "OK"
    assert output["ResponseBody"] == {"method": "GET", "path": "/echo", "query": "q=1", "body": ""}
    assert output["Headers"]["content-type"] == ["application/json"]
    # And the task events name resourceType "http" and resource "invoke", as AWS does
    tasks = [e for e in events if e["type"].startswith("Task") and "State" not in e["type"]]
    assert [e["type"] for e in tasks] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = tasks[0]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("http", "invoke")
    assert json.loads(scheduled["parameters"])["ApiEndpoint"] == f"{server.url}/echo"
    assert scheduled["region"] == "us-east-1"
    for event, key in (
        (tasks[1], "taskStartedEventDetails"),
        (tasks[2], "taskSucceededEventDetails"),
    ):
        assert (event[key]["resourceType"], event[key]["resource"]) == ("http", "invoke")
    assert json.loads(tasks[2]["taskSucceededEventDetails"]["output"]) == output


def test_a_404_fails_with_its_status_code_error_caught_by_a_catch(server: EchoServer) -> None:
    # Given a machine calling a route that answers 404
    definition = http_machine(f"{server.url}/missing")
    # When it runs
    described, events = run(definition)
    # Then the Catch got States.Http.StatusCode.404 with the response as its Cause
    assert described["status"] == "SUCCEEDED"
    error = json.loads(described["output"])["error"]
    assert error["Error"] == "States.Http.StatusCode.404"
    cause = json.loads(error["Cause"])
    assert cause["StatusCode"] == 404
    assert cause["ResponseBody"] == {"message": "no such thing"}
    failed = next(e for e in events if e["type"] == "TaskFailed")["taskFailedEventDetails"]
    assert (failed["resourceType"], failed["resource"]) == ("http", "invoke")
    assert failed["error"] == "States.Http.StatusCode.404"


def test_timeout_seconds_ends_a_call_the_server_never_answers(server: EchoServer) -> None:
    # Given a machine calling a route that holds its answer, with TimeoutSeconds 1
    definition = http_machine(f"{server.url}/slow", TimeoutSeconds=1)
    # When it runs
    described, events = run(definition)
    # Then the task timed out as AWS times out a Task (States.Timeout, TaskTimedOut), caught
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "States.Timeout"
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    assert scheduled["taskScheduledEventDetails"]["timeoutInSeconds"] == 1
    timed_out = next(e for e in events if e["type"] == "TaskTimedOut")["taskTimedOutEventDetails"]
    assert (timed_out["resourceType"], timed_out["resource"]) == ("http", "invoke")
    assert timed_out["error"] == "States.Timeout"
