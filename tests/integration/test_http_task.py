"""The HTTP Task on a real fleet: a worker calls a server this test runs on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.http_fixture_server import EchoServer, echo_server
from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
Json = Any


@pytest.fixture
def server() -> Iterator[EchoServer]:
    with echo_server() as running:
        yield running


def http_machine(endpoint: str, **task: Json) -> dict[str, Json]:
    """A machine GETting ``endpoint``, catching every error into its output's ``error``."""
    call = {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": endpoint, "Method": "GET"},
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
        **task,
    }
    return {"StartAt": "Call", "States": {"Call": call, "Caught": {"Type": "Pass", "End": True}}}


def test_http_tasks_succeed_fail_and_time_out_on_a_fleet(fleet: Fleet, server: EchoServer) -> None:
    # Given three machines: an answering route, a 404 route, a route that never answers
    machines = {
        "ok": http_machine(f"{server.url}/echo"),
        "missing": http_machine(f"{server.url}/missing"),
        "slow": http_machine(f"{server.url}/slow", TimeoutSeconds=2),
    }
    # When each runs on the fleet
    arns = {
        name: fleet.start_execution(fleet.create(f"http-{name}", definition), {}, name)
        for name, definition in machines.items()
    }
    described = {name: fleet.await_status(arn, timeout=120) for name, arn in arns.items()}
    # Then the answer is the result, in AWS's shape
    assert described["ok"]["status"] == "SUCCEEDED", described["ok"]
    output = json.loads(described["ok"]["output"])
    assert (output["StatusCode"], output["StatusText"]) == (200, "OK")
    assert output["ResponseBody"]["path"] == "/echo"
    # And the 404 was caught as States.Http.StatusCode.404 with the response as its Cause
    error = json.loads(described["missing"]["output"])["error"]
    assert error["Error"] == "States.Http.StatusCode.404"
    assert json.loads(error["Cause"])["ResponseBody"] == {"message": "no such thing"}
    # And the unanswered call timed out as a Task times out on AWS, and was caught
    assert json.loads(described["slow"]["output"])["error"]["Error"] == "States.Timeout"
    # And the task events carry resourceType "http" and resource "invoke", as on AWS
    events = fleet.client.get_execution_history(executionArn=arns["ok"])["events"]
    tasks = {
        e["type"]: e for e in events if e["type"].startswith("Task") and "State" not in e["type"]
    }
    assert list(tasks) == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    for kind, event in tasks.items():
        details = event[f"{kind[0].lower()}{kind[1:]}EventDetails"]
        assert (details["resourceType"], details["resource"]) == ("http", "invoke")
    timed_out = [
        e["type"] for e in fleet.client.get_execution_history(executionArn=arns["slow"])["events"]
    ]
    assert "TaskTimedOut" in timed_out
