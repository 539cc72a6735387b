"""Every refusal tried, through boto3 -> `stepline serve`: stepline answers AWS's error code.

``ERROR_CASES`` is the table the issue asks for (AWS's code per case, from AWS's API
reference and the behaviour recorded against AWS).
``python -m tests.unit.wire.test_aws_error_codes`` prints it as Markdown with the codes
stepline answered beside AWS's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from engine._wire import WireProtocol, create_app
from tests.unit.wire.conftest import CALLBACK, ROLE, boto3_client, local_client
from tests.wire_server import serving

Json = Any
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
OTHER = json.dumps({"StartAt": "Q", "States": {"Q": {"Type": "Pass", "End": True}}})
PREFIX = "arn:aws:states:us-east-1:111111111111"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class World:
    """What the cases refer to: machines, executions, an activity, a version and an alias."""

    standard: str
    waiting: str
    express: str
    running: str
    finished: str
    express_execution: str
    activity: str
    version: str
    alias: str
    token: str


@dataclass(frozen=True)
class ErrorCase:
    """One request AWS refuses, and AWS's error code for it."""

    case: str
    operation: str
    request: Callable[[World], dict[str, Json]]
    aws_code: str


def _case(case: str, operation: str, aws_code: str, **request: Json) -> ErrorCase:
    """A case whose request members may name the world's ARNs as ``"{standard}"`` ..."""

    def build(world: World) -> dict[str, Json]:
        names = vars(world)

        def fill(value: Json) -> Json:
            if not isinstance(value, str):
                return value
            return PLACEHOLDER.sub(lambda m: names.get(m[1], m[0]), value)

        return {key: fill(value) for key, value in request.items()}

    return ErrorCase(case, operation, build, aws_code)


ERROR_CASES = [
    # --- state machines
    _case("definition is not JSON", "create_state_machine", "InvalidDefinition",
          name="x", definition="{nope", roleArn=ROLE),
    _case("StartAt names no state", "create_state_machine", "InvalidDefinition",
          name="x", definition='{"StartAt": "A", "States": {}}', roleArn=ROLE),
    _case("name with a space", "create_state_machine", "InvalidName",
          name="a b", definition=PASS, roleArn=ROLE),
    _case("name longer than 80", "create_state_machine", "InvalidName",
          name="x" * 81, definition=PASS, roleArn=ROLE),
    _case("type outside the enum", "create_state_machine", "ValidationException",
          name="x", definition=PASS, roleArn=ROLE, type="BATCH"),
    _case("same name, another definition", "create_state_machine", "StateMachineAlreadyExists",
          name="std", definition=OTHER, roleArn=ROLE),
    _case("same name, another type", "create_state_machine", "StateMachineAlreadyExists",
          name="std", definition=PASS, roleArn=ROLE, type="EXPRESS"),
    _case("describe a missing machine", "describe_state_machine", "StateMachineDoesNotExist",
          stateMachineArn=f"{PREFIX}:stateMachine:missing"),
    _case("describe with a malformed ARN", "describe_state_machine", "InvalidArn",
          stateMachineArn="not-an-arn"),
    _case("update a missing machine", "update_state_machine", "StateMachineDoesNotExist",
          stateMachineArn=f"{PREFIX}:stateMachine:missing", definition=PASS),
    _case("update to an invalid definition", "update_state_machine", "InvalidDefinition",
          stateMachineArn="{standard}", definition="{nope"),
    _case("delete with a malformed ARN", "delete_state_machine", "InvalidArn",
          stateMachineArn="bad"),
    _case("list machines with a forged token", "list_state_machines", "InvalidToken",
          nextToken="forged"),
    _case("validate with an unknown type", "validate_state_machine_definition",
          "ValidationException", definition=PASS, type="FAST"),
    # --- versions and aliases
    _case("publish with a stale revisionId", "publish_state_machine_version", "ConflictException",
          stateMachineArn="{standard}", revisionId="stale"),
    _case("delete a version an alias routes to", "delete_state_machine_version",
          "ConflictException", stateMachineVersionArn="{version}"),
    _case("alias on a missing version", "create_state_machine_alias", "ResourceNotFound",
          name="a2", routingConfiguration=[
              {"stateMachineVersionArn": f"{PREFIX}:stateMachine:std:99", "weight": 100}]),
    _case("describe a missing alias", "describe_state_machine_alias", "ResourceNotFound",
          stateMachineAliasArn="{standard}:missing"),
    _case("tag a missing machine", "tag_resource", "ResourceNotFound",
          resourceArn=f"{PREFIX}:stateMachine:missing", tags=[{"key": "k", "value": "v"}]),
    _case("more than 50 tags", "tag_resource", "TooManyTags",
          resourceArn="{standard}",
          tags=[{"key": f"k{i}", "value": "v"} for i in range(51)]),
    # --- executions
    _case("start a missing machine", "start_execution", "StateMachineDoesNotExist",
          stateMachineArn=f"{PREFIX}:stateMachine:missing"),
    _case("start with input that is not JSON", "start_execution", "InvalidExecutionInput",
          stateMachineArn="{standard}", input="{bad"),
    _case("start with input over 256 KiB", "start_execution", "InvalidExecutionInput",
          stateMachineArn="{standard}", input=json.dumps("x" * (256 * 1024))),
    _case("execution name with a slash", "start_execution", "InvalidName",
          stateMachineArn="{standard}", name="a/b"),
    _case("a running name with another input", "start_execution", "ExecutionAlreadyExists",
          stateMachineArn="{waiting}", name="running", input='{"other": 1}'),
    _case("start with a malformed ARN", "start_execution", "InvalidArn",
          stateMachineArn="nope"),
    _case("sync start of a STANDARD machine", "start_sync_execution",
          "StateMachineTypeNotSupported", stateMachineArn="{standard}"),
    _case("describe a missing execution", "describe_execution", "ExecutionDoesNotExist",
          executionArn=f"{PREFIX}:execution:std:missing"),
    _case("describe with a machine ARN", "describe_execution", "InvalidArn",
          executionArn=f"{PREFIX}:stateMachine:std"),
    _case("describe an Express execution", "describe_execution", "InvalidArn",
          executionArn="{express_execution}"),
    _case("list executions of an EXPRESS machine", "list_executions",
          "StateMachineTypeNotSupported", stateMachineArn="{express}"),
    _case("list executions with a forged token", "list_executions", "InvalidToken",
          stateMachineArn="{standard}", nextToken="forged"),
    _case("list executions with an unknown status", "list_executions", "ValidationException",
          stateMachineArn="{standard}", statusFilter="DONE"),
    _case("list executions of a missing machine", "list_executions", "StateMachineDoesNotExist",
          stateMachineArn=f"{PREFIX}:stateMachine:missing"),
    _case("history of a missing execution", "get_execution_history", "ExecutionDoesNotExist",
          executionArn=f"{PREFIX}:execution:std:missing"),
    _case("history with a forged token", "get_execution_history", "InvalidToken",
          executionArn="{finished}", nextToken="forged"),
    _case("stop a missing execution", "stop_execution", "ExecutionDoesNotExist",
          executionArn=f"{PREFIX}:execution:std:missing"),
    _case("stop with an error over 256 chars", "stop_execution", "ValidationException",
          executionArn="{running}", error="e" * 257),
    _case("machine of a missing execution", "describe_state_machine_for_execution",
          "ExecutionDoesNotExist", executionArn=f"{PREFIX}:execution:std:missing"),
    _case("redrive a running execution", "redrive_execution", "ExecutionNotRedrivable",
          executionArn="{running}"),
    _case("redrive a succeeded execution", "redrive_execution", "ExecutionNotRedrivable",
          executionArn="{finished}"),
    _case("redrive a missing execution", "redrive_execution", "ExecutionDoesNotExist",
          executionArn=f"{PREFIX}:execution:std:missing"),
    # --- callbacks and activities
    _case("success with output that is not JSON", "send_task_success", "InvalidOutput",
          taskToken="{token}", output="{bad"),
    _case("failure with an error over 256 chars", "send_task_failure", "ValidationException",
          taskToken="{token}", error="e" * 257),
    _case("describe a missing activity", "describe_activity", "ActivityDoesNotExist",
          activityArn=f"{PREFIX}:activity:missing"),
    _case("activity name with a space", "create_activity", "InvalidName", name="a b"),
    _case("poll a missing activity", "get_activity_task", "ActivityDoesNotExist",
          activityArn=f"{PREFIX}:activity:missing"),
    # --- map runs
    _case("describe a missing Map Run", "describe_map_run", "ResourceNotFound",
          mapRunArn=f"{PREFIX}:mapRun:std/m:11111111-1111-4111-8111-111111111111"),
    _case("list Map Runs of a missing execution", "list_map_runs", "ExecutionDoesNotExist",
          executionArn=f"{PREFIX}:execution:std:missing"),
]  # fmt: skip


def _world(sfn: Any) -> World:
    standard = sfn.create_state_machine(name="std", definition=PASS, roleArn=ROLE)
    version = sfn.publish_state_machine_version(stateMachineArn=standard["stateMachineArn"])
    alias = sfn.create_state_machine_alias(
        name="live",
        routingConfiguration=[
            {"stateMachineVersionArn": version["stateMachineVersionArn"], "weight": 100}
        ],
    )
    express = sfn.create_state_machine(name="exp", definition=PASS, roleArn=ROLE, type="EXPRESS")[
        "stateMachineArn"
    ]
    waiting = sfn.create_state_machine(name="cb", definition=CALLBACK, roleArn=ROLE)
    running = sfn.start_execution(
        stateMachineArn=waiting["stateMachineArn"], name="running", input="{}"
    )["executionArn"]
    assert sfn.describe_execution(executionArn=running)["status"] == "RUNNING"
    events = sfn.get_execution_history(executionArn=running)["events"]
    sent = next(e for e in events if e["type"] == "TaskScheduled")
    token = json.loads(sent["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
    finished = sfn.start_execution(stateMachineArn=standard["stateMachineArn"])["executionArn"]
    express_run = sfn.start_sync_execution(stateMachineArn=express)["executionArn"]
    activity = sfn.create_activity(name="act")["activityArn"]
    return World(
        standard=standard["stateMachineArn"],
        waiting=waiting["stateMachineArn"],
        express=express,
        running=running,
        finished=finished,
        express_execution=express_run,
        activity=activity,
        version=version["stateMachineVersionArn"],
        alias=alias["stateMachineAliasArn"],
        token=token,
    )


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[Any, World]]:
    """boto3 on a served local client, with the world every case refers to."""
    protocol = WireProtocol(local_client(), one_at_a_time=True)
    with serving(create_app(protocol)) as url:
        sfn = boto3_client(url)
        yield sfn, _world(sfn)


def stepline_code(sfn: Any, world: World, case: ErrorCase) -> str:
    """The error code stepline answers ``case`` with, as boto3 reads it ("" if none)."""
    try:
        getattr(sfn, case.operation)(**case.request(world))
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return ""


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.case)
def test_every_refusal_is_aws_code(wire: tuple[Any, World], case: ErrorCase) -> None:
    # Given a server with machines, executions, an activity, a version and an alias
    sfn, world = wire
    # When boto3 sends a request AWS refuses
    code = stepline_code(sfn, world, case)
    # Then stepline refuses it with AWS's code
    assert code == case.aws_code, f"{case.case}: AWS {case.aws_code}, stepline {code!r}"


def markdown_table() -> str:
    """The cases as a Markdown table: AWS's code and the code stepline answered."""
    protocol = WireProtocol(local_client(), one_at_a_time=True)
    rows = ["| # | case | operation | AWS | stepline |", "|---|---|---|---|---|"]
    with serving(create_app(protocol)) as url:
        sfn = boto3_client(url)
        world = _world(sfn)
        for number, case in enumerate(ERROR_CASES, 1):
            code = stepline_code(sfn, world, case) or "(accepted)"
            rows.append(f"| {number} | {case.case} | {case.operation} | {case.aws_code} | {code} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
