"""boto3's own stepfunctions client against `stepline serve`: the calls code makes today."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.shapes import assert_shape
from tests.unit.wire.conftest import PASS_MACHINE, ROLE, TASK_MACHINE


def create(sfn: Any, name: str, definition: str = TASK_MACHINE) -> str:
    response = sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)
    assert_shape("CreateStateMachine", response)
    return str(response["stateMachineArn"])


def test_an_execution_runs_and_is_described_through_boto3(sfn: Any) -> None:
    # Given a state machine created over HTTP
    arn = create(sfn, "doubler")

    # When an execution starts and is described
    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"n": 21}')
    described = sfn.describe_execution(executionArn=started["executionArn"])

    # Then it succeeded with the handler's output; dates came back as datetimes
    assert_shape("StartExecution", started)
    assert_shape("DescribeExecution", described)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"n": 42}
    assert isinstance(described["startDate"], datetime)
    assert described["startDate"].tzinfo is not None
    assert started["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_history_comes_back_in_aws_event_shapes(sfn: Any) -> None:
    # Given a finished execution
    arn = create(sfn, "history")
    run = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')

    # When its history is read
    history = sfn.get_execution_history(executionArn=run["executionArn"])

    # Then the events are AWS's, numbered from 1, with datetime timestamps
    assert_shape("GetExecutionHistory", history)
    types = [event["type"] for event in history["events"]]
    assert types[0] == "ExecutionStarted"
    assert types[-1] == "ExecutionSucceeded"
    assert "LambdaFunctionSucceeded" in types
    assert [event["id"] for event in history["events"]] == list(range(1, len(types) + 1))
    assert all(isinstance(event["timestamp"], datetime) for event in history["events"])


def test_botocore_paginator_walks_every_page(sfn: Any) -> None:
    # Given five executions of one machine
    arn = create(sfn, "paged", PASS_MACHINE)
    for index in range(5):
        sfn.start_execution(stateMachineArn=arn, name=f"run-{index}")

    # When boto3's paginator lists them two at a time
    pages = list(
        sfn.get_paginator("list_executions").paginate(
            stateMachineArn=arn, PaginationConfig={"PageSize": 2}
        )
    )

    # Then three pages hold the five, each page in the output shape
    for page in pages:
        assert_shape("ListExecutions", page)
    names = sorted(item["name"] for page in pages for item in page["executions"])
    assert len(pages) == 3
    assert names == [f"run-{index}" for index in range(5)]


def test_list_state_machines_and_describe_state_machine(sfn: Any) -> None:
    # Given a machine
    arn = create(sfn, "listed", PASS_MACHINE)

    # When listed and described
    listed = sfn.list_state_machines()
    described = sfn.describe_state_machine(stateMachineArn=arn)

    # Then both answer in the model's shapes
    assert_shape("ListStateMachines", listed)
    assert_shape("DescribeStateMachine", described)
    assert [m["name"] for m in listed["stateMachines"]] == ["listed"]
    assert json.loads(described["definition"]) == json.loads(PASS_MACHINE)


def test_a_refusal_is_boto3s_own_modeled_exception(sfn: Any) -> None:
    # Given no execution with this ARN
    missing = "arn:aws:states:us-east-1:111111111111:execution:nothing:here"

    # When it is described
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist) as caught:
        sfn.describe_execution(executionArn=missing)

    # Then boto3 raised its class for AWS's code, with the 400 status
    error = caught.value.response
    assert error["Error"]["Code"] == "ExecutionDoesNotExist"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_invalid_definition_is_refused_with_its_code(sfn: Any) -> None:
    # Given a definition whose StartAt names no state
    definition = '{"StartAt": "Nowhere", "States": {"P": {"Type": "Pass", "End": true}}}'

    # When it is created
    with pytest.raises(ClientError) as caught:
        sfn.create_state_machine(name="broken", definition=definition, roleArn=ROLE)

    # Then AWS's InvalidDefinition comes back, caught as boto3's class too
    assert caught.value.response["Error"]["Code"] == "InvalidDefinition"
    assert isinstance(caught.value, sfn.exceptions.InvalidDefinition)


def test_a_sync_express_execution_answers_in_the_call(sfn: Any) -> None:
    # Given an EXPRESS machine
    response = sfn.create_state_machine(
        name="express", definition=TASK_MACHINE, roleArn=ROLE, type="EXPRESS"
    )

    # When it runs synchronously
    result = sfn.start_sync_execution(stateMachineArn=response["stateMachineArn"], input='{"n": 4}')

    # Then the output is in the response
    assert_shape("StartSyncExecution", result)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"n": 8}
