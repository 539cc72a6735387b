"""RedriveExecution behaves the same on the local and the durable backend (SQLite, PostgreSQL).

Handlers fail while told to, so an execution ends FAILED; the test then lets them succeed,
redrives, and checks what AWS documents: only unsuccessful states run again, the history
goes on with ``ExecutionRedriven``, and DescribeExecution / ListExecutions report the
redrive. Every response is checked against botocore's output shapes.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from unittest.mock import patch

import pytest

from engine import _errors as errors
from tests.shapes import assert_shape
from tests.store.test_backend_parity import (
    HANDLERS,
    Harness,
)
from tests.store.test_backend_parity import harness as harness  # the fixture, re-exported

Json = Any
ROLE = "arn:aws:iam::111111111111:role/redrive"
FN = "arn:aws:lambda:us-east-1:111111111111:function:"
FAILURES: Counter[str] = Counter()  # failures each handler still has to raise
CALLS: Counter[str] = Counter()


class Boom(Exception):
    """What a handler raises while it is told to fail."""


def _flaky(name: str) -> Any:
    def handler(event: Json, context: Any) -> Json:
        CALLS[name] += 1
        if FAILURES[name] > 0:
            FAILURES[name] -= 1
            raise Boom(f"{name} failed")
        return {"by": name, "got": event}

    return handler


for _name in ("redrive_prepare", "redrive_charge", "redrive_a", "redrive_b", "redrive_item"):
    HANDLERS.register(_name, _flaky(_name))


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    FAILURES.clear()
    CALLS.clear()


def _machine(h: Harness, name: str, states: dict[str, Json], start_at: str) -> str:
    definition = json.dumps({"StartAt": start_at, "States": states})
    created = h.client.create_state_machine(name=name, definition=definition, roleArn=ROLE)
    return str(created["stateMachineArn"])


def _task(handler: str, **fields: Json) -> dict[str, Json]:
    return {"Type": "Task", "Resource": FN + handler, **fields}


def _run(h: Harness, machine_arn: str, payload: Json = None) -> str:
    started = h.client.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload))
    h.settle()
    return str(started["executionArn"])


def _describe(h: Harness, arn: str) -> dict[str, Json]:
    described = h.client.describe_execution(executionArn=arn)
    assert_shape("DescribeExecution", described)
    return described


def _history(h: Harness, arn: str) -> list[dict[str, Json]]:
    response = h.client.get_execution_history(executionArn=arn)
    assert_shape("GetExecutionHistory", response)
    return list(response["events"])


def _redrive(h: Harness, arn: str, token: str | None = None) -> dict[str, Json]:
    extra = {"clientToken": token} if token else {}
    response = h.client.redrive_execution(executionArn=arn, **extra)
    assert_shape("RedriveExecution", response)
    h.settle()
    return response


def _charge_machine(h: Harness) -> str:
    retry = [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 1}]
    states = {
        "Prepare": _task("redrive_prepare", Next="Charge"),
        "Charge": _task("redrive_charge", Retry=retry, End=True),
    }
    return _machine(h, "charge", states, "Prepare")


def test_given_a_failed_execution_then_it_is_described_as_redrivable(harness: Harness) -> None:
    FAILURES["redrive_charge"] = 2
    arn = _run(harness, _charge_machine(harness), {"order": 7})

    described = _describe(harness, arn)

    assert described["status"] == "FAILED"
    assert described["redriveCount"] == 0
    assert described["redriveStatus"] == "REDRIVABLE"
    assert "redriveDate" not in described
    assert "redriveStatusReason" not in described


def test_given_a_failed_task_when_redriven_then_it_succeeds_without_rerunning_earlier_states(
    harness: Harness,
) -> None:
    FAILURES["redrive_charge"] = 3  # attempt + retry fail; after the redrive, one more
    arn = _run(harness, _charge_machine(harness), {"order": 7})

    response = _redrive(harness, arn)

    described = _describe(harness, arn)
    assert described["status"] == "SUCCEEDED", described
    assert described["redriveCount"] == 1
    assert described["redriveDate"] == response["redriveDate"]
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    assert "error" not in described
    assert CALLS == {"redrive_prepare": 1, "redrive_charge": 4}  # retries reset by the redrive
    events = _history(harness, arn)
    kinds = [e["type"] for e in events]
    assert kinds.count("ExecutionFailed") == 1
    assert kinds.count("TaskStateEntered") == 3  # Prepare once, Charge before and after
    redriven = next(e for e in events if e["type"] == "ExecutionRedriven")
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert redriven["previousEventId"] == redriven["id"] - 1
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))


def test_given_a_succeeded_execution_when_redriven_then_it_is_not_redrivable(
    harness: Harness,
) -> None:
    arn = _run(harness, _charge_machine(harness))

    with pytest.raises(errors.ExecutionNotRedrivable, match="SUCCEEDED and cannot be redriven"):
        harness.client.redrive_execution(executionArn=arn)
    with pytest.raises(errors.ExecutionDoesNotExist):
        harness.client.redrive_execution(executionArn=arn + "-unknown")


def test_given_the_same_client_token_when_redriven_twice_then_the_first_redrive_answers(
    harness: Harness,
) -> None:
    FAILURES["redrive_charge"] = 2
    arn = _run(harness, _charge_machine(harness))

    first = _redrive(harness, arn, token="once")
    again = _redrive(harness, arn, token="once")

    assert again["redriveDate"] == first["redriveDate"]
    assert _describe(harness, arn)["redriveCount"] == 1
    with pytest.raises(errors.ExecutionNotRedrivable):
        harness.client.redrive_execution(executionArn=arn, clientToken="another")


def test_given_an_execution_that_ended_over_14_days_ago_then_it_is_not_redrivable(
    harness: Harness,
) -> None:
    FAILURES["redrive_charge"] = 2
    arn = _run(harness, _charge_machine(harness))
    harness.client.clock.advance(14 * 24 * 3600 + 1)  # type: ignore[attr-defined]

    described = _describe(harness, arn)

    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert described["redriveStatusReason"] == "Execution redrivable period exceeded"
    with pytest.raises(errors.ExecutionNotRedrivable, match="redrivable period exceeded"):
        harness.client.redrive_execution(executionArn=arn)


def test_given_redriven_and_other_executions_then_list_executions_filters_them(
    harness: Harness,
) -> None:
    machine_arn = _charge_machine(harness)
    FAILURES["redrive_charge"] = 2
    redriven = _run(harness, machine_arn)
    _redrive(harness, redriven)
    plain = _run(harness, machine_arn)

    def listed(**filters: str) -> dict[str, Json]:
        response = harness.client.list_executions(stateMachineArn=machine_arn, **filters)
        assert_shape("ListExecutions", response)
        return {e["executionArn"]: e for e in response["executions"]}

    assert set(listed(redriveFilter="REDRIVEN")) == {redriven}
    assert set(listed(redriveFilter="NOT_REDRIVEN")) == {plain}
    both = listed()
    assert both[redriven]["redriveCount"] == 1
    assert "redriveDate" in both[redriven]
    assert both[plain]["redriveCount"] == 0
    with pytest.raises(errors.ValidationException, match="redriveFilter"):
        harness.client.list_executions(stateMachineArn=machine_arn, redriveFilter="SOMETIMES")


def test_given_a_failed_parallel_branch_when_redriven_then_only_that_branch_runs_again(
    harness: Harness,
) -> None:
    branches = [
        {"StartAt": "A", "States": {"A": _task("redrive_a", End=True)}},
        {"StartAt": "B", "States": {"B": _task("redrive_b", End=True)}},
    ]
    states = {"Par": {"Type": "Parallel", "Branches": branches, "End": True}}
    FAILURES["redrive_b"] = 1
    arn = _run(harness, _machine(harness, "par", states, "Par"), 1)
    assert _describe(harness, arn)["status"] == "FAILED"

    _redrive(harness, arn)

    described = _describe(harness, arn)
    assert described["status"] == "SUCCEEDED", described
    assert CALLS == {"redrive_a": 1, "redrive_b": 2}
    assert [r["by"] for r in json.loads(described["output"])] == ["redrive_a", "redrive_b"]


def test_given_a_failed_map_iteration_when_redriven_then_failed_and_unstarted_items_run(
    harness: Harness,
) -> None:
    processor = {"StartAt": "Item", "States": {"Item": _task("redrive_item", End=True)}}
    each = {"Type": "Map", "ItemProcessor": processor, "MaxConcurrency": 1, "End": True}
    FAILURES["redrive_item"] = 0
    machine_arn = _machine(harness, "map", {"Each": each}, "Each")

    def second_item_fails(event: Json, context: Any) -> Json:
        CALLS[f"item{event}"] += 1
        if event == 2 and FAILURES["armed"] == 0:
            raise Boom("item 2 failed")
        return event * 10

    HANDLERS.register("redrive_item", second_item_fails)
    try:
        arn = _run(harness, machine_arn, [1, 2, 3])
        assert _describe(harness, arn)["status"] == "FAILED"
        assert CALLS == {"item1": 1, "item2": 1}
        FAILURES["armed"] = 1

        _redrive(harness, arn)
    finally:
        HANDLERS.register("redrive_item", _flaky("redrive_item"))

    described = _describe(harness, arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [10, 20, 30]
    assert CALLS == {"item1": 1, "item2": 2, "item3": 1}


TOKENS: list[str] = []
HANDLERS.register("redrive_hold", lambda event, context: TOKENS.append(event["token"]))


def test_given_a_stopped_execution_when_redriven_then_its_task_waits_again(
    harness: Harness,
) -> None:
    hold = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "redrive_hold", "Payload": {"token.$": "$$.Task.Token"}},
        "End": True,
    }
    TOKENS.clear()
    arn = _run(harness, _machine(harness, "hold", {"Hold": hold}, "Hold"))
    harness.client.stop_execution(executionArn=arn, error="Operator", cause="paused")
    assert _describe(harness, arn)["redriveStatus"] == "REDRIVABLE"

    _redrive(harness, arn)

    running = _describe(harness, arn)
    assert running["status"] == "RUNNING"
    assert "stopDate" not in running
    assert "error" not in running
    assert running["redriveStatusReason"] == "Execution is RUNNING and cannot be redriven"
    assert len(TOKENS) == 2
    with pytest.raises(errors.TaskTimedOut):
        harness.client.send_task_success(taskToken=TOKENS[0], output="{}")
    harness.client.send_task_success(taskToken=TOKENS[1], output='{"resumed": true}')
    harness.settle()
    done = _describe(harness, arn)
    assert done["status"] == "SUCCEEDED", done
    assert [e["type"] for e in _history(harness, arn)].count("ExecutionAborted") == 1


@pytest.mark.parametrize(("token", "answered"), [("same", True), ("other", False)])
def test_given_a_concurrent_redrive_wins_then_only_its_client_token_is_answered(
    harness: Harness, token: str, answered: bool
) -> None:
    FAILURES["redrive_charge"] = 2
    arn = _run(harness, _charge_machine(harness))
    backend = harness.client.backend
    original = backend.redrive

    def lose_the_race(execution_arn: str, client_token: str | None) -> Any:
        original(execution_arn, "same")  # the other caller commits first
        return original(execution_arn, client_token)

    with patch.object(backend, "redrive", lose_the_race):
        if answered:
            response = harness.client.redrive_execution(executionArn=arn, clientToken=token)
            assert response["redriveDate"] == _describe(harness, arn)["redriveDate"]
        else:
            with pytest.raises(errors.ExecutionNotRedrivable):
                harness.client.redrive_execution(executionArn=arn, clientToken=token)
    assert _describe(harness, arn)["redriveCount"] == 1
