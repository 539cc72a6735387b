"""The boto3-shaped Client over the local backend: every method, its errors, pagination."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from engine import _errors as errors
from engine._api import Client
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from tests.shapes import body
from tests.unit.interpreter.support import ROLE, T0, registry

Json = Any
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
FAIL = json.dumps(
    {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad", "Cause": "why"}}}
)
CALLBACK = json.dumps(
    {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f"},
                "End": True,
            }
        },
    }
)
MISSING_EXECUTION = "arn:aws:states:us-east-1:111111111111:execution:m:missing"
MISSING_MACHINE = "arn:aws:states:us-east-1:111111111111:stateMachine:missing"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def client(clock: FakeClock) -> Client:
    backend = LocalBackend(handlers=registry(f=lambda event, context: None), clock=clock)
    return Client(backend, clock=clock)


def _machine(client: Client, definition: str = PASS, name: str = "m", **extra: Json) -> str:
    return str(
        client.create_state_machine(name=name, definition=definition, roleArn=ROLE, **extra)[
            "stateMachineArn"
        ]
    )


def _code(call: Callable[[], Json]) -> str:
    """The error code ``call`` raises: AWS's, or ``ParamValidationError`` when boto3 itself
    refuses the request before sending it (a missing required member, a wrong type)."""
    with pytest.raises((ParamValidationError, errors.ClientError)) as caught:
        call()
    if isinstance(caught.value, ParamValidationError):
        return "ParamValidationError"
    assert caught.value.response["Error"]["Code"] == caught.value.code
    return caught.value.code


# --- state machines ----------------------------------------------------------------------------


def test_create_state_machine_returns_the_arn_and_creation_date(client: Client) -> None:
    # Given a valid definition
    # When a machine is created
    response = client.create_state_machine(name="orders", definition=PASS, roleArn=ROLE)
    # Then the ARN follows AWS's format and the date is the clock's
    assert body(response) == {
        "stateMachineArn": "arn:aws:states:us-east-1:111111111111:stateMachine:orders",
        "creationDate": T0,
    }


def test_create_is_idempotent_for_the_same_definition_and_refuses_another(client: Client) -> None:
    # Given an existing machine
    arn = _machine(client)
    # When it is created again identically, then with another definition
    again = client.create_state_machine(name="m", definition=PASS, roleArn=ROLE)
    # Then the first returns the same machine and the second is refused
    assert again["stateMachineArn"] == arn
    assert _code(lambda: _machine(client, FAIL)) == "StateMachineAlreadyExists"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "has space"}, "InvalidName"),
        ({"name": "x" * 81}, "InvalidName"),
        ({"definition": '{"StartAt": "Nope", "States": {}}'}, "InvalidDefinition"),
        ({"definition": "{not json"}, "InvalidDefinition"),
        ({"type": "BATCH"}, "ValidationException"),
        ({"roleArn": None}, "ParamValidationError"),
        ({"definition": None}, "ParamValidationError"),
    ],
)
def test_create_state_machine_errors(client: Client, fields: dict[str, Json], code: str) -> None:
    # Given a request with one bad field
    request = {"name": "m", "definition": PASS, "roleArn": ROLE, **fields}
    # When the machine is created
    # Then the boto3 error code says what is wrong
    assert _code(lambda: client.create_state_machine(**request)) == code


def test_an_invalid_definition_message_lists_the_problem(client: Client) -> None:
    # Given a definition whose StartAt names no state
    # When it is created
    with pytest.raises(errors.InvalidDefinitionRequest) as caught:
        client.create_state_machine(
            name="m",
            definition='{"StartAt": "X", "States": {"P": {"Type": "Pass", "End": true}}}',
            roleArn=ROLE,
        )
    # Then the message starts as AWS's and names the problem's place
    assert caught.value.message.startswith("Invalid State Machine Definition: ")
    assert "StartAt" in caught.value.message


def test_describe_state_machine(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    # When it is described
    described = client.describe_state_machine(stateMachineArn=arn)
    # Then it reports its definition, role, type and status
    assert described["stateMachineArn"] == arn
    assert (described["name"], described["status"], described["type"]) == (
        "m",
        "ACTIVE",
        "STANDARD",
    )
    assert json.loads(described["definition"]) == json.loads(PASS)
    assert described["roleArn"] == ROLE


@pytest.mark.parametrize(
    ("arn", "code"),
    [
        (MISSING_MACHINE, "StateMachineDoesNotExist"),
        ("nope", "InvalidArn"),
        (MISSING_EXECUTION, "InvalidArn"),
    ],
)
def test_describe_state_machine_errors(client: Client, arn: str, code: str) -> None:
    # Given an ARN of no machine, or no ARN at all
    # When it is described
    # Then the error code says which
    assert _code(lambda: client.describe_state_machine(stateMachineArn=arn)) == code


def test_list_state_machines_paginates(client: Client, clock: FakeClock) -> None:
    # Given three machines created one second apart
    for name in ("a", "b", "c"):
        _machine(client, name=name)
        clock.advance(1)
    # When they are listed two per page
    first = client.list_state_machines(maxResults=2)
    second = client.list_state_machines(maxResults=2, nextToken=first["nextToken"])
    # Then the pages hold them oldest first and the last page has no token
    assert [m["name"] for m in first["stateMachines"]] == ["a", "b"]
    assert [m["name"] for m in second["stateMachines"]] == ["c"]
    assert "nextToken" not in second


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"maxResults": 1001}, "ValidationException"),
        ({"nextToken": "garbage"}, "InvalidToken"),
    ],
)
def test_pagination_errors(client: Client, fields: dict[str, Json], code: str) -> None:
    # Given a bad page size or token
    # When machines are listed
    # Then the request is refused
    assert _code(lambda: client.list_state_machines(**fields)) == code


def test_update_state_machine_changes_the_definition_and_revision(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    before = client.describe_state_machine(stateMachineArn=arn)["revisionId"]
    # When its definition is updated
    response = client.update_state_machine(stateMachineArn=arn, definition=FAIL)
    # Then the new definition runs and the revision changed
    described = client.describe_state_machine(stateMachineArn=arn)
    assert json.loads(described["definition"]) == json.loads(FAIL)
    assert described["revisionId"] == response["revisionId"] != before
    run = client.start_execution(stateMachineArn=arn)
    assert client.describe_execution(executionArn=run["executionArn"])["status"] == "FAILED"


def test_update_state_machine_errors(client: Client) -> None:
    # Given a machine and a published version
    arn = _machine(client, publish=True)
    # When it is updated with nothing, an invalid definition, or through a version ARN
    # Then each is refused, and the definition is unchanged
    assert (
        _code(lambda: client.update_state_machine(stateMachineArn=arn))
        == "MissingRequiredParameter"
    )
    assert (
        _code(lambda: client.update_state_machine(stateMachineArn=arn, definition="{}"))
        == "InvalidDefinition"
    )
    assert (
        _code(lambda: client.update_state_machine(stateMachineArn=arn + ":1", definition=FAIL))
        == "ValidationException"
    )
    assert (
        _code(lambda: client.update_state_machine(stateMachineArn=MISSING_MACHINE, definition=FAIL))
        == "StateMachineDoesNotExist"
    )
    assert json.loads(
        client.describe_state_machine(stateMachineArn=arn)["definition"]
    ) == json.loads(PASS)


def test_versions_published_on_create_update_and_explicitly(client: Client) -> None:
    # Given a machine created with publish=True
    created = client.create_state_machine(
        name="m", definition=PASS, roleArn=ROLE, publish=True, versionDescription="first"
    )
    arn = created["stateMachineArn"]
    # When it is updated with publish=True, then updated again and published explicitly
    updated = client.update_state_machine(stateMachineArn=arn, definition=FAIL, publish=True)
    client.update_state_machine(stateMachineArn=arn, definition=PASS)
    published = client.publish_state_machine_version(stateMachineArn=arn, description="third")
    # Then versions 1..3 exist, listed newest first, each describing its own definition
    assert created["stateMachineVersionArn"] == arn + ":1"
    assert updated["stateMachineVersionArn"] == arn + ":2"
    assert published["stateMachineVersionArn"] == arn + ":3"
    listed = client.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [arn + ":3", arn + ":2", arn + ":1"]
    first = client.describe_state_machine(stateMachineArn=arn + ":1")
    assert json.loads(first["definition"]) == json.loads(PASS)
    assert first["description"] == "first"
    assert (
        _code(lambda: client.describe_state_machine(stateMachineArn=arn + ":4"))
        == "StateMachineDoesNotExist"
    )


def test_an_execution_of_a_version_runs_that_versions_definition(client: Client) -> None:
    # Given version 1 (Pass) and a later Fail definition
    arn = _machine(client, publish=True)
    client.update_state_machine(stateMachineArn=arn, definition=FAIL)
    # When version 1 and the latest are started
    of_version = client.start_execution(stateMachineArn=arn + ":1", input='{"v": 1}')
    latest = client.start_execution(stateMachineArn=arn)
    # Then version 1 succeeded, reports its version, and the latest failed
    described = client.describe_execution(executionArn=of_version["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["stateMachineVersionArn"] == arn + ":1"
    assert client.describe_execution(executionArn=latest["executionArn"])["status"] == "FAILED"
    only_v1 = client.list_executions(stateMachineArn=arn + ":1")["executions"]
    assert [e["executionArn"] for e in only_v1] == [of_version["executionArn"]]


def test_delete_state_machine_keeps_its_executions_readable(client: Client) -> None:
    # Given a machine with an execution
    arn = _machine(client)
    run = client.start_execution(stateMachineArn=arn)
    # When the machine is deleted (twice: deleting a missing machine succeeds)
    assert body(client.delete_state_machine(stateMachineArn=arn)) == {}
    assert body(client.delete_state_machine(stateMachineArn=arn)) == {}
    # Then it is gone but its execution can still be described
    assert (
        _code(lambda: client.describe_state_machine(stateMachineArn=arn))
        == "StateMachineDoesNotExist"
    )
    assert client.describe_execution(executionArn=run["executionArn"])["status"] == "SUCCEEDED"
    assert _code(lambda: client.delete_state_machine(stateMachineArn="bad")) == "InvalidArn"


def test_validate_state_machine_definition(client: Client) -> None:
    # Given a valid and an invalid definition
    # When they are validated
    ok = client.validate_state_machine_definition(definition=PASS)
    bad = client.validate_state_machine_definition(definition='{"StartAt": "X", "States": {}}')
    # Then OK has no diagnostics and FAIL lists ERROR diagnostics with a location
    assert body(ok) == {"result": "OK", "diagnostics": [], "truncated": False}
    assert bad["result"] == "FAIL"
    assert bad["diagnostics"]
    assert {d["severity"] for d in bad["diagnostics"]} == {"ERROR"}
    assert all(d["location"] for d in bad["diagnostics"])


# --- executions --------------------------------------------------------------------------------


def test_start_and_describe_a_succeeded_execution(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    # When an execution starts with a name and input
    run = client.start_execution(stateMachineArn=arn, name="one", input='{"a": 1}')
    # Then it ran to completion and describes as AWS does
    assert body(run) == {
        "executionArn": "arn:aws:states:us-east-1:111111111111:execution:m:one",
        "startDate": T0,
    }
    described = client.describe_execution(executionArn=run["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert (described["name"], described["stateMachineArn"]) == ("one", arn)
    assert json.loads(described["input"]) == {"a": 1}
    assert json.loads(described["output"]) == {"a": 1}
    assert described["stopDate"] == T0
    assert "error" not in described


def test_a_failed_execution_describes_its_error_and_cause_without_output(client: Client) -> None:
    # Given a machine that fails
    arn = _machine(client, FAIL)
    # When it runs
    run = client.start_execution(stateMachineArn=arn)
    # Then the description has error and cause and no output
    described = client.describe_execution(executionArn=run["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Bad", "why")
    assert "output" not in described


def test_an_execution_without_name_or_input_gets_a_uuid_and_an_empty_object(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    # When an execution starts bare
    run = client.start_execution(stateMachineArn=arn)
    # Then its name is a UUID and its input {}
    described = client.describe_execution(executionArn=run["executionArn"])
    assert len(described["name"]) == 36
    assert described["input"] == "{}"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "bad name"}, "InvalidName"),
        ({"name": "a/b"}, "InvalidName"),
        ({"input": "{bad"}, "InvalidExecutionInput"),
        ({"input": 42}, "ParamValidationError"),
        ({"input": json.dumps("x" * (256 * 1024))}, "InvalidExecutionInput"),
        ({"stateMachineArn": MISSING_MACHINE}, "StateMachineDoesNotExist"),
        (
            {"stateMachineArn": "arn:aws:states:us-east-1:111111111111:stateMachine:m:9"},
            "StateMachineDoesNotExist",
        ),
        ({"stateMachineArn": "not-an-arn"}, "InvalidArn"),
        ({"stateMachineArn": None}, "ParamValidationError"),
    ],
)
def test_start_execution_errors(client: Client, fields: dict[str, Json], code: str) -> None:
    # Given a machine and a request with one bad field
    arn = _machine(client)
    request = {"stateMachineArn": arn, **fields}
    # When the execution starts
    # Then the error code names the problem
    assert _code(lambda: client.start_execution(**request)) == code


def test_a_finished_executions_name_cannot_be_reused(client: Client) -> None:
    # Given a finished execution named "one"
    arn = _machine(client)
    client.start_execution(stateMachineArn=arn, name="one", input="{}")
    # When another starts with that name, even with the same input
    # Then it is refused
    assert (
        _code(lambda: client.start_execution(stateMachineArn=arn, name="one", input="{}"))
        == "ExecutionAlreadyExists"
    )


def test_starting_a_running_execution_again_is_idempotent_for_the_same_input(
    client: Client,
) -> None:
    # Given a running (callback-waiting) execution
    arn = _machine(client, CALLBACK)
    first = client.start_execution(stateMachineArn=arn, name="cb", input='{"a": 1}')
    # When it is started again with the same input, then with another input
    again = client.start_execution(stateMachineArn=arn, name="cb", input='{"a": 1}')
    # Then the first call returns the same execution and the second is refused
    assert body(again) == body(first)
    assert (
        _code(lambda: client.start_execution(stateMachineArn=arn, name="cb", input='{"a": 2}'))
        == "ExecutionAlreadyExists"
    )


@pytest.mark.parametrize(
    ("arn", "code"),
    [
        (MISSING_EXECUTION, "ExecutionDoesNotExist"),
        ("bad", "InvalidArn"),
        (MISSING_MACHINE, "InvalidArn"),
        (None, "ParamValidationError"),
    ],
)
def test_describe_execution_errors(client: Client, arn: str | None, code: str) -> None:
    # Given an ARN of no execution, or not an execution ARN
    # When it is described
    # Then the error code says which
    assert _code(lambda: client.describe_execution(executionArn=arn)) == code


def test_stop_execution_aborts_a_running_execution(client: Client) -> None:
    # Given a running execution
    arn = _machine(client, CALLBACK)
    run = client.start_execution(stateMachineArn=arn)
    # When it is stopped
    stopped = client.stop_execution(executionArn=run["executionArn"], error="Halt", cause="test")
    # Then it is ABORTED with the error and cause
    described = client.describe_execution(executionArn=run["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Halt",
        "test",
    )
    assert stopped["stopDate"] == described["stopDate"]
    listed = client.list_executions(stateMachineArn=arn, statusFilter="ABORTED")["executions"]
    assert [e["executionArn"] for e in listed] == [run["executionArn"]]


def test_a_stopped_execution_history_ends_with_execution_aborted(client: Client) -> None:
    # Given a running execution
    arn = _machine(client, CALLBACK)
    run = client.start_execution(stateMachineArn=arn)
    # When it is stopped
    client.stop_execution(executionArn=run["executionArn"], error="Halt", cause="test")
    # Then its history ends with ExecutionAborted carrying them
    events = client.get_execution_history(executionArn=run["executionArn"])["events"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Halt", "cause": "test"}


def test_stopping_a_finished_execution_changes_nothing(client: Client) -> None:
    # Given a succeeded execution
    arn = _machine(client)
    run = client.start_execution(stateMachineArn=arn)
    # When it is stopped
    client.stop_execution(executionArn=run["executionArn"])
    # Then it is still SUCCEEDED
    assert client.describe_execution(executionArn=run["executionArn"])["status"] == "SUCCEEDED"
    assert (
        _code(lambda: client.stop_execution(executionArn=MISSING_EXECUTION))
        == "ExecutionDoesNotExist"
    )


def test_start_sync_execution_runs_an_express_machine(client: Client) -> None:
    # Given an EXPRESS machine that fails and one that passes
    ok = _machine(client, name="ok", type="EXPRESS")
    bad = _machine(client, FAIL, name="bad", type="EXPRESS")
    # When each is started synchronously
    passed = client.start_sync_execution(stateMachineArn=ok, input='{"k": 1}')
    failed = client.start_sync_execution(stateMachineArn=bad)
    # Then the responses carry the outcome and billing details
    assert passed["status"] == "SUCCEEDED"
    assert json.loads(passed["output"]) == {"k": 1}
    assert ":express:ok:" in passed["executionArn"]
    assert "billingDetails" in passed
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Bad", "why")


def test_start_sync_execution_refuses_a_standard_machine(client: Client) -> None:
    # Given a STANDARD machine
    arn = _machine(client)
    # When it is started synchronously
    # Then the call is refused
    assert (
        _code(lambda: client.start_sync_execution(stateMachineArn=arn))
        == "StateMachineTypeNotSupported"
    )


# --- callbacks ---------------------------------------------------------------------------------


def _callback_machine(**task_fields: Json) -> str:
    return json.dumps(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "keep", "Payload": {"token.$": "$$.Task.Token"}},
                    "End": True,
                    **task_fields,
                }
            },
        }
    )


@pytest.fixture
def tokens() -> list[str]:
    return []


@pytest.fixture
def callback_client(clock: FakeClock, tokens: list[str]) -> Client:
    handlers = registry(keep=lambda event, context: tokens.append(event["token"]))
    return Client(LocalBackend(handlers=handlers, clock=clock), clock=clock)


def test_send_task_success_completes_the_waiting_task(
    callback_client: Client, tokens: list[str]
) -> None:
    # Given an execution waiting for its callback
    arn = _machine(callback_client, _callback_machine())
    run = callback_client.start_execution(stateMachineArn=arn)
    # When the token's task is completed with an output
    assert body(callback_client.send_task_success(taskToken=tokens[0], output='{"ok": true}')) == {}
    # Then the execution succeeds with it
    described = callback_client.describe_execution(executionArn=run["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"ok": True}


def test_send_task_failure_fails_the_waiting_task(
    callback_client: Client, tokens: list[str]
) -> None:
    # Given an execution waiting for its callback
    arn = _machine(callback_client, _callback_machine())
    run = callback_client.start_execution(stateMachineArn=arn)
    # When the token's task is failed
    callback_client.send_task_failure(taskToken=tokens[0], error="Declined", cause="card")
    # Then the execution fails with that error after a TaskFailed event
    described = callback_client.describe_execution(executionArn=run["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Declined",
        "card",
    )
    events = callback_client.get_execution_history(executionArn=run["executionArn"])["events"]
    assert [e["type"] for e in events][-2:] == ["TaskFailed", "ExecutionFailed"]


def test_send_task_heartbeat_keeps_the_task_waiting(
    callback_client: Client, tokens: list[str]
) -> None:
    # Given an execution waiting for its callback
    arn = _machine(callback_client, _callback_machine())
    run = callback_client.start_execution(stateMachineArn=arn)
    # When a heartbeat is sent
    assert body(callback_client.send_task_heartbeat(taskToken=tokens[0])) == {}
    # Then it still runs
    assert (
        callback_client.describe_execution(executionArn=run["executionArn"])["status"] == "RUNNING"
    )


def test_callback_errors(callback_client: Client, tokens: list[str]) -> None:
    # Given an execution waiting for its callback
    arn = _machine(callback_client, _callback_machine())
    callback_client.start_execution(stateMachineArn=arn)
    token = tokens[0]
    # When callbacks carry bad output, an unknown token, or nothing
    # Then each is refused with boto3's code
    assert (
        _code(lambda: callback_client.send_task_success(taskToken=token, output="{bad"))
        == "InvalidOutput"
    )
    assert (
        _code(lambda: callback_client.send_task_success(taskToken="nope", output="{}"))
        == "TaskDoesNotExist"
    )
    assert _code(lambda: callback_client.send_task_failure(taskToken="nope")) == "TaskDoesNotExist"
    assert (
        _code(lambda: callback_client.send_task_heartbeat(taskToken="nope")) == "TaskDoesNotExist"
    )
    assert _code(lambda: callback_client.send_task_success(output="{}")) == "ParamValidationError"


def test_a_used_token_is_no_longer_accepted(callback_client: Client, tokens: list[str]) -> None:
    # Given a callback that completed its execution
    arn = _machine(callback_client, _callback_machine())
    callback_client.start_execution(stateMachineArn=arn)
    callback_client.send_task_success(taskToken=tokens[0], output="{}")
    # When the same token is used again
    # Then its task is closed: TaskTimedOut, as AWS answers (and as the durable backend does)
    assert (
        _code(lambda: callback_client.send_task_success(taskToken=tokens[0], output="{}"))
        == "TaskTimedOut"
    )


@pytest.mark.parametrize("deadline", [{"TimeoutSeconds": 300}, {"HeartbeatSeconds": 60}])
def test_a_callback_task_with_a_deadline_waits_for_its_callback(
    callback_client: Client, tokens: list[str], clock: FakeClock, deadline: dict[str, int]
) -> None:
    # Given a callback task with a deadline
    arn = _machine(callback_client, _callback_machine(**deadline))
    run = callback_client.start_execution(stateMachineArn=arn)
    # When the callback comes before the deadline
    assert clock.now() == T0
    callback_client.send_task_success(taskToken=tokens[0], output='"done"')
    # Then the execution succeeds with its output
    described = callback_client.describe_execution(executionArn=run["executionArn"])
    assert (described["status"], described.get("output")) == ("SUCCEEDED", '"done"')


def test_a_callback_deadline_that_passed_shows_on_describe(
    callback_client: Client, tokens: list[str], clock: FakeClock
) -> None:
    # Given a callback task with a 10 s timeout
    arn = _machine(callback_client, _callback_machine(TimeoutSeconds=10))
    run = callback_client.start_execution(stateMachineArn=arn)
    # When 20 s pass without a callback
    clock.advance(20)
    # Then the execution has failed with States.Timeout
    described = callback_client.describe_execution(executionArn=run["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")


def test_a_callback_after_the_deadline_is_refused(
    callback_client: Client, tokens: list[str], clock: FakeClock
) -> None:
    # Given a callback task with a 10 s timeout, and 20 s passed without a callback
    arn = _machine(callback_client, _callback_machine(TimeoutSeconds=10))
    run = callback_client.start_execution(stateMachineArn=arn)
    clock.advance(20)
    # When the callback finally arrives
    with pytest.raises(errors.ClientError):
        callback_client.send_task_success(taskToken=tokens[0], output='"late"')
    # Then it is refused and the execution failed with States.Timeout
    described = callback_client.describe_execution(executionArn=run["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")


def test_list_executions_agrees_with_describe_after_a_deadline(
    callback_client: Client, tokens: list[str], clock: FakeClock
) -> None:
    # Given a callback task whose 10 s timeout passed
    arn = _machine(callback_client, _callback_machine(TimeoutSeconds=10))
    run = callback_client.start_execution(stateMachineArn=arn)
    clock.advance(20)
    # When the executions are listed (before any DescribeExecution)
    listed = callback_client.list_executions(stateMachineArn=arn)["executions"]
    # Then the listing shows what DescribeExecution shows
    described = callback_client.describe_execution(executionArn=run["executionArn"])
    assert [e["status"] for e in listed] == [described["status"]] == ["FAILED"]


# --- history -----------------------------------------------------------------------------------


def _history_of_two_states(client: Client) -> str:
    machine = json.dumps(
        {
            "StartAt": "A",
            "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}},
        }
    )
    arn = _machine(client, machine, name="two")
    return str(client.start_execution(stateMachineArn=arn, input='{"x": 1}')["executionArn"])


def test_get_execution_history_returns_boto3_shaped_events(client: Client) -> None:
    # Given a finished execution of two Pass states
    arn = _history_of_two_states(client)
    # When its history is read
    events = client.get_execution_history(executionArn=arn)["events"]
    # Then events are numbered, timestamped as datetimes, and carry details under AWS keys
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0]["timestamp"] == T0
    assert events[0]["executionStartedEventDetails"]["roleArn"] == ROLE
    assert events[1]["stateEnteredEventDetails"] == {
        "name": "A",
        "input": '{"x":1}',
        "inputDetails": {"truncated": False},
    }


def test_history_pages_in_both_orders(client: Client) -> None:
    # Given a history of six events
    arn = _history_of_two_states(client)

    def ids(**fields: Json) -> tuple[list[int], str | None]:
        page = client.get_execution_history(executionArn=arn, maxResults=4, **fields)
        return [e["id"] for e in page["events"]], page.get("nextToken")

    # When it is read four at a time, oldest first and newest first
    forward, token = ids()
    rest, last = ids(nextToken=token)
    backward, back_token = ids(reverseOrder=True)
    back_rest, _ = ids(reverseOrder=True, nextToken=back_token)
    # Then the pages cover every event once in each order
    assert (forward, rest, last) == ([1, 2, 3, 4], [5, 6], None)
    assert (backward, back_rest) == ([6, 5, 4, 3], [2, 1])


def test_history_without_execution_data_hides_payloads(client: Client) -> None:
    # Given a finished execution
    arn = _history_of_two_states(client)
    # When its history is read without execution data
    events = client.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    # Then inputs and outputs are gone, their details say only what the model has
    assert events[1]["stateEnteredEventDetails"] == {
        "name": "A",
        "inputDetails": {"truncated": False},
    }
    assert "output" not in events[-1]["executionSucceededEventDetails"]


def test_reading_history_without_data_does_not_change_the_stored_history(client: Client) -> None:
    # Given a history read once without execution data
    arn = _history_of_two_states(client)
    client.get_execution_history(executionArn=arn, includeExecutionData=False)
    # When it is read again with data
    events = client.get_execution_history(executionArn=arn)["events"]
    # Then the payloads are still there
    assert events[1]["stateEnteredEventDetails"]["input"] == '{"x":1}'


def test_history_errors(client: Client) -> None:
    # Given a finished execution
    arn = _history_of_two_states(client)
    # When history is asked for a missing execution, a bad ARN, or a bad page size
    # Then each is refused
    assert (
        _code(lambda: client.get_execution_history(executionArn=MISSING_EXECUTION))
        == "ExecutionDoesNotExist"
    )
    assert _code(lambda: client.get_execution_history(executionArn="bad")) == "InvalidArn"
    assert (
        _code(lambda: client.get_execution_history(executionArn=arn, maxResults=-1))
        == "ParamValidationError"
    )


# --- listing executions ------------------------------------------------------------------------


def test_list_executions_newest_first_filtered_and_paged(client: Client, clock: FakeClock) -> None:
    # Given three executions one second apart, one of them failed
    ok, bad = _machine(client), _machine(client, FAIL, name="bad")
    first = client.start_execution(stateMachineArn=ok, name="e1")["executionArn"]
    clock.advance(1)
    second = client.start_execution(stateMachineArn=ok, name="e2")["executionArn"]
    clock.advance(1)
    client.start_execution(stateMachineArn=bad, name="e3")
    # When executions of the first machine are listed, paged and filtered
    page = client.list_executions(stateMachineArn=ok, maxResults=1)
    rest = client.list_executions(stateMachineArn=ok, maxResults=1, nextToken=page["nextToken"])
    failed = client.list_executions(stateMachineArn=ok, statusFilter="FAILED")
    # Then they come newest first, one per page, and the filter finds none failed
    assert [e["executionArn"] for e in page["executions"]] == [second]
    assert [e["executionArn"] for e in rest["executions"]] == [first]
    assert "nextToken" not in rest
    assert failed["executions"] == []
    assert page["executions"][0]["status"] == "SUCCEEDED"


def test_list_executions_errors(client: Client) -> None:
    # Given a machine
    arn = _machine(client)
    # When listing with a bad status filter or for a missing machine
    # Then each is refused
    assert (
        _code(lambda: client.list_executions(stateMachineArn=arn, statusFilter="DONE"))
        == "ValidationException"
    )
    assert (
        _code(lambda: client.list_executions(stateMachineArn=MISSING_MACHINE))
        == "StateMachineDoesNotExist"
    )


def test_client_exceptions_are_reachable_by_code() -> None:
    # Given the Client class
    # When its exceptions namespace is read
    # Then each boto3 code maps to an error class with that code, all ClientErrors
    names = (
        "ExecutionDoesNotExist",
        "ExecutionAlreadyExists",
        "InvalidArn",
        "InvalidDefinition",
        "InvalidExecutionInput",
        "InvalidName",
        "InvalidOutput",
        "InvalidToken",
        "StateMachineDoesNotExist",
        "StateMachineTypeNotSupported",
        "ValidationException",
    )
    for name in names:
        error = getattr(Client.exceptions, name)
        assert error.code == name
        assert issubclass(error, Client.exceptions.ClientError)
    raised = Client.exceptions.InvalidArn("msg")
    assert raised.response["Error"] == {"Code": "InvalidArn", "Message": "msg"}


def test_code_written_for_boto3_catches_stepline_errors_as_boto3s(client: Client) -> None:
    # Given boto3's own stepfunctions client, for its list of exception names
    import boto3
    from botocore.exceptions import ClientError as BotocoreClientError

    boto3_names = {
        name
        for name in dir(boto3.client("stepfunctions", region_name="us-east-1").exceptions)
        if not name.startswith("_")
    }
    # When stepline's client refuses a call
    with pytest.raises(BotocoreClientError) as caught:
        client.describe_execution(executionArn=MISSING_EXECUTION)
    # Then botocore's ClientError catches it, worded as botocore words it, and every name of
    # boto3's client.exceptions is on stepline's, from_code included
    assert caught.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
    assert str(caught.value).startswith(
        "An error occurred (ExecutionDoesNotExist) when calling the DescribeExecution operation"
    )
    assert boto3_names <= set(vars(Client.exceptions))
    assert client.exceptions.from_code("ExecutionDoesNotExist") is type(caught.value)
    assert client.exceptions.from_code("NoSuchCode") is client.exceptions.ClientError


@pytest.mark.parametrize(
    ("call", "refusal"),
    [
        (lambda c: c.start_execution(stateMachineArn=MISSING_MACHINE, Input="{}"), "Unknown"),
        (lambda c: c.create_state_machine(name="m", definition=PASS, roleArn=ROLE, publish="false"),
         "Invalid type for parameter publish"),
        (lambda c: c.list_executions(stateMachineArn=MISSING_MACHINE, maxResults="10"),
         "Invalid type for parameter maxResults"),
        (lambda c: c.describe_execution(), "Missing required parameter"),
    ],
)  # fmt: skip
def test_a_request_boto3_refuses_is_refused_before_it_runs(
    client: Client, call: Callable[[Client], Json], refusal: str
) -> None:
    # Given a client, When a call has an unknown keyword, a mistyped or a missing member
    # Then botocore's ParamValidationError names it, as boto3 raises it before sending
    with pytest.raises(ParamValidationError, match=refusal):
        call(client)


def test_positional_arguments_are_refused_as_boto3_refuses_them(client: Client) -> None:
    # Given a client, When an operation is called with a positional argument
    # Then it is boto3's TypeError
    with pytest.raises(TypeError, match="only accepts keyword arguments"):
        client.describe_execution(MISSING_EXECUTION)  # type: ignore[misc]


def test_botocore_paginator_pages_executions(client: Client) -> None:
    # Given three executions of a machine
    arn = _machine(client)
    for name in ("a", "b", "c"):
        client.start_execution(stateMachineArn=arn, name=name)
    # When boto3's paginator walks them two by two
    paginator = client.get_paginator("list_executions")
    pages = list(paginator.paginate(stateMachineArn=arn, PaginationConfig={"PageSize": 2}))
    # Then two pages hold the three, newest first, and non-paging operations say so
    assert [len(p["executions"]) for p in pages] == [2, 1]
    assert client.can_paginate("list_executions")
    assert not client.can_paginate("describe_execution")
