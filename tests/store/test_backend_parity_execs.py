"""Execution-level fidelity on both backends: paging tokens, EXPRESS refusals, shapes.

Each test runs through ``Client`` on the local backend and on the durable one (SQLite and
PostgreSQL), with the ``harness`` fixture of `tests.store.test_backend_parity`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from engine import _errors as errors
from engine._api.boto import operation_model, operation_names
from engine._records import encode_token
from tests.shapes import assert_shape
from tests.store.test_backend_parity import Harness, harness

__all__ = ["harness"]  # the fixture, imported for pytest

Json = Any
ROLE = "arn:aws:iam::111111111111:role/orders"
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                             "B": {"Type": "Pass", "End": True}}})  # fmt: skip


def _code(call: Callable[[], Json]) -> str:
    with pytest.raises(errors.ClientError) as caught:
        call()
    return caught.value.code


def _machine(harness: Harness, name: str = "m", kind: str = "STANDARD") -> str:
    created = harness.client.create_state_machine(
        name=name, definition=PASS, roleArn=ROLE, type=kind
    )
    return str(created["stateMachineArn"])


def _finished(harness: Harness, arn: str, name: str) -> str:
    started = harness.client.start_execution(stateMachineArn=arn, name=name)
    harness.settle()
    return str(started["executionArn"])


@pytest.mark.parametrize("token", ["garbage", "e30=", encode_token({"not": "a position"})])
def test_given_a_forged_token_when_any_listing_is_read_then_invalid_token(
    harness: Harness, token: str
) -> None:
    # Given a machine with a finished execution and an activity
    client = harness.client
    arn = _machine(harness)
    execution = _finished(harness, arn, "e")
    client.create_activity(name="act")
    # When every list and history operation is asked for a page with a forged token
    calls: list[Callable[[], Json]] = [
        lambda: client.list_executions(stateMachineArn=arn, nextToken=token),
        lambda: client.list_state_machines(nextToken=token),
        lambda: client.list_state_machine_versions(stateMachineArn=arn, nextToken=token),
        lambda: client.list_activities(nextToken=token),
        lambda: client.get_execution_history(executionArn=execution, nextToken=token),
    ]
    # Then each refuses it as InvalidToken, as AWS does
    assert [_code(call) for call in calls] == ["InvalidToken"] * len(calls)


def test_given_a_token_of_another_listing_when_it_is_used_then_invalid_token(
    harness: Harness,
) -> None:
    # Given tokens issued by a history, an execution listing and a machine listing
    client = harness.client
    arn = _machine(harness)
    other = _machine(harness, "other")
    first, second = _finished(harness, arn, "a"), _finished(harness, arn, "b")
    _machine(harness, "third")
    history = client.get_execution_history(executionArn=first, maxResults=2)["nextToken"]
    listed = client.list_executions(stateMachineArn=arn, maxResults=1)["nextToken"]
    machines = client.list_state_machines(maxResults=1)["nextToken"]
    # When each is passed to another listing, or to the same one with other request fields
    foreign: list[Callable[[], Json]] = [
        lambda: client.get_execution_history(executionArn=second, nextToken=history),
        lambda: client.get_execution_history(
            executionArn=first, reverseOrder=True, nextToken=history
        ),
        lambda: client.list_executions(stateMachineArn=other, nextToken=listed),
        lambda: client.list_executions(
            stateMachineArn=arn, statusFilter="SUCCEEDED", nextToken=listed
        ),
        lambda: client.list_state_machines(nextToken=listed),
        lambda: client.list_executions(stateMachineArn=arn, nextToken=machines),
    ]
    # Then each is refused as InvalidToken, and the tokens still work where they were issued
    assert [_code(call) for call in foreign] == ["InvalidToken"] * len(foreign)
    rest = client.get_execution_history(executionArn=first, maxResults=2, nextToken=history)
    assert [e["id"] for e in rest["events"]] == [3, 4]
    assert_shape("GetExecutionHistory", rest)


def test_given_an_express_machine_when_its_executions_are_listed_then_type_not_supported(
    harness: Harness,
) -> None:
    # Given an EXPRESS machine
    arn = _machine(harness, "fast", "EXPRESS")
    # When its executions are listed
    # Then AWS's answer: the operation does not support EXPRESS machines
    code = _code(lambda: harness.client.list_executions(stateMachineArn=arn))
    assert code == "StateMachineTypeNotSupported"


def test_given_an_express_execution_arn_when_it_is_described_then_invalid_arn(
    harness: Harness,
) -> None:
    # Given an Express execution started asynchronously
    client = harness.client
    arn = _machine(harness, "fast", "EXPRESS")
    execution = client.start_execution(stateMachineArn=arn, name="x")["executionArn"]
    harness.settle()
    assert ":express:" in execution
    # When it is described, its history read or it is stopped
    calls: list[Callable[[], Json]] = [
        lambda: client.describe_execution(executionArn=execution),
        lambda: client.get_execution_history(executionArn=execution),
        lambda: client.stop_execution(executionArn=execution),
    ]
    # Then each is InvalidArn, as AWS answers ("Resource type not valid in this context")
    for call in calls:
        with pytest.raises(errors.InvalidArn, match="not valid in this context: express"):
            call()


def test_given_an_express_machine_when_it_runs_synchronously_then_no_redrive_members(
    harness: Harness,
) -> None:
    # Given an EXPRESS machine
    arn = _machine(harness, "fast", "EXPRESS")
    # When it runs with StartSyncExecution
    response = harness.client.start_sync_execution(stateMachineArn=arn, input="{}")
    # Then the response has StartSyncExecution's shape, without redriveCount/redriveStatus
    assert response["status"] == "SUCCEEDED"
    assert "redriveCount" not in response
    assert "redriveStatus" not in response
    assert_shape("StartSyncExecution", response)


TASKS = json.dumps(
    {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "noop", "Payload": {"secret.$": "$.secret"}},
                "Next": "Classic",
            },
            "Classic": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:111111111111:function:noop",
                "End": True,
            },
        },
    }
)


def test_given_task_events_when_history_is_read_without_data_then_every_event_fits_the_model(
    harness: Harness,
) -> None:
    # Given a finished execution of an optimised and a classic Lambda Task
    client = harness.client
    arn = client.create_state_machine(name="t", definition=TASKS, roleArn=ROLE)["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, input='{"secret": 7}')["executionArn"]
    harness.settle()
    # When its history is read without execution data
    history = client.get_execution_history(executionArn=execution, includeExecutionData=False)
    # Then every event validates against GetExecutionHistory's output shape, no input or
    # output is left, and TaskScheduled keeps its required parameters
    assert_shape("GetExecutionHistory", history)
    details = [v for e in history["events"] for k, v in e.items() if k.endswith("EventDetails")]
    assert not [d for d in details if "input" in d or "output" in d]
    scheduled = [e for e in history["events"] if e["type"] == "TaskScheduled"]
    assert [json.loads(e["taskScheduledEventDetails"]["parameters"]) for e in scheduled] == [
        {"FunctionName": "noop", "Payload": {"secret": 7}}
    ]
    assert "ExecutionSucceeded" in [e["type"] for e in history["events"]]


def test_given_executions_started_in_one_instant_when_listed_then_newest_first(
    harness: Harness,
) -> None:
    # Given three executions, two of them started in the same instant
    client = harness.client
    arn = _machine(harness)
    for name in ("first", "second", "third"):
        client.start_execution(stateMachineArn=arn, name=name)
    harness.settle()
    # When they are listed, whole and one at a time
    whole = client.list_executions(stateMachineArn=arn)
    paged: list[str] = []
    token: str | None = None
    while True:
        page = client.list_executions(
            stateMachineArn=arn, maxResults=1, **({"nextToken": token} if token else {})
        )
        assert_shape("ListExecutions", page)
        paged += [e["name"] for e in page["executions"]]
        token = page.get("nextToken")
        if token is None:
            break
    # Then the later start comes first, as AWS lists newest first
    assert [e["name"] for e in whole["executions"]] == ["third", "second", "first"]
    assert paged == ["third", "second", "first"]


REFUSED = errors.ValidationException  # AWS's answer
BOTO3_REFUSES = ParamValidationError  # refused by boto3 before it is sent


@pytest.mark.parametrize(
    ("operation", "fields", "parameter", "refusal"),
    [
        ("list_executions", {"statusFilter": "DONE"}, "statusFilter", REFUSED),
        (
            "list_executions",
            {"redriveFilter": "MAYBE"},
            "redriveFilter",
            errors.ValidationException,
        ),
        ("list_executions", {"maxResults": -1}, "maxResults", BOTO3_REFUSES),
        ("list_executions", {"maxResults": 1001}, "maxResults", REFUSED),
        ("list_state_machines", {"maxResults": -1}, "maxResults", BOTO3_REFUSES),
        ("list_activities", {"maxResults": 1001}, "maxResults", REFUSED),
        ("validate_state_machine_definition", {"type": "FAST"}, "type", REFUSED),
        (
            "validate_state_machine_definition",
            {"severity": "INFO"},
            "severity",
            errors.ValidationException,
        ),
        (
            "validate_state_machine_definition",
            {"maxResults": 101},
            "maxResults",
            errors.ValidationException,
        ),
        ("stop_execution", {"error": "e" * 257}, "error", REFUSED),
        ("stop_execution", {"cause": "c" * 32769}, "cause", REFUSED),
        (
            "send_task_failure",
            {"taskToken": "t", "error": "e" * 257},
            "error",
            errors.ValidationException,
        ),
        ("get_execution_history", {"maxResults": -5}, "maxResults", BOTO3_REFUSES),
    ],
)
def test_given_a_well_typed_but_invalid_value_when_called_then_validation_names_it(
    harness: Harness,
    operation: str,
    fields: dict[str, Json],
    parameter: str,
    refusal: type[Exception],
) -> None:
    # Given a machine and a running execution
    client = harness.client
    arn = _machine(harness)
    execution = client.start_execution(stateMachineArn=arn, name="e")["executionArn"]
    known = {"stateMachineArn": arn, "executionArn": execution, "definition": PASS}
    method = getattr(client, operation)
    members = operation_model(operation_names()[operation]).input_shape.members
    arguments = {k: v for k, v in known.items() if k in members}
    # When the operation is called with a value its model refuses
    # Then boto3's refusal names the parameter (a negative count is refused before it is
    # sent, as boto3 refuses it; the rest are AWS's ValidationException), never a raw error
    with pytest.raises(refusal, match=parameter):
        method(**arguments, **fields)


def _waiting(seconds: int, timeout: int | None = None) -> str:
    body: dict[str, Json] = {
        "StartAt": "Hold",
        "States": {"Hold": {"Type": "Wait", "Seconds": seconds, "End": True}},
    }
    if timeout is not None:
        body["TimeoutSeconds"] = timeout
    return json.dumps(body)


@pytest.mark.parametrize(("timeout", "lasted"), [(None, 300), (60, 60), (900, 300)])
def test_given_an_express_execution_longer_than_five_minutes_when_it_runs_then_timed_out(
    harness: Harness, timeout: int | None, lasted: int
) -> None:
    # Given an EXPRESS machine waiting ten minutes (with or without its own TimeoutSeconds)
    client = harness.client
    arn = client.create_state_machine(
        name="slow", definition=_waiting(600, timeout), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    # When it runs synchronously, and asynchronously (durable timers on that backend)
    done = client.start_sync_execution(stateMachineArn=arn, input="{}")
    started = client.start_execution(stateMachineArn=arn, name="async")["executionArn"]
    harness.settle()
    record = client.backend.execution(started)
    # Then both end TIMED_OUT with States.Timeout after five minutes (or the shorter limit)
    assert_shape("StartSyncExecution", done)
    assert (done["status"], done["error"]) == ("TIMED_OUT", "States.Timeout")
    assert (done["stopDate"] - done["startDate"]).total_seconds() == lasted
    assert record is not None
    assert (str(record.status), record.error) == ("TIMED_OUT", "States.Timeout")
    assert record.stop_date is not None
    assert (record.stop_date - record.start_date).total_seconds() == lasted


def test_given_a_standard_machine_when_it_waits_ten_minutes_then_it_succeeds(
    harness: Harness,
) -> None:
    # Given a STANDARD machine waiting ten minutes
    arn = harness.client.create_state_machine(name="slow", definition=_waiting(600), roleArn=ROLE)[
        "stateMachineArn"
    ]
    # When it runs
    execution = harness.client.start_execution(stateMachineArn=arn)["executionArn"]
    harness.settle()
    # Then the five-minute limit is the Express one only
    assert harness.client.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"
