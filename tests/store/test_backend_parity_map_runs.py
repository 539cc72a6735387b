"""Map Runs (ListMapRuns, DescribeMapRun) alike on the local and the durable backend."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError

from engine import _errors as errors
from tests.shapes import assert_shape, body
from tests.store.test_backend_parity import FIRST_ROLE, HANDLERS, Harness
from tests.store.test_backend_parity import harness as harness  # the fixture, re-exported

Json = Any
ARN = (
    r"arn:aws:states:us-east-1:111111111111:mapRun:runs/Batches:"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


def _checks_bad_batches(event: Json, context: Any) -> Json:
    """Fails a batch holding a negative item."""
    if any(item < 0 for item in event["Items"]):
        raise ValueError(f"negative item in {event['Items']}")
    return event


HANDLERS.register("check_batch", _checks_bad_batches)


def _machine(tolerated: int) -> str:
    return json.dumps(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "Label": "Batches",
                    "MaxConcurrency": 2,
                    "ToleratedFailureCount": tolerated,
                    "ItemBatcher": {"MaxItemsPerBatch": 2},
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "Check",
                        "States": {
                            "Check": {
                                "Type": "Task",
                                "Resource": "arn:aws:lambda:us-east-1:111111111111:"
                                "function:check_batch",
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            },
        }
    )


def _run(harness: Harness, tolerated: int, items: list[int]) -> str:
    client = harness.client
    arn = client.create_state_machine(
        name="runs", definition=_machine(tolerated), roleArn=FIRST_ROLE
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, input=json.dumps(items))
    harness.settle()
    return str(execution["executionArn"])


def test_given_a_distributed_map_when_it_succeeds_then_its_map_run_is_listed_and_described(
    harness: Harness,
) -> None:
    # Given a Distributed Map of five items in batches of two, one bad batch tolerated
    execution_arn = _run(harness, 1, [1, 2, -3, 4, 5])
    client = harness.client
    # When its Map Runs are listed and the one is described
    listed = client.list_map_runs(executionArn=execution_arn)
    described = client.describe_map_run(mapRunArn=listed["mapRuns"][0]["mapRunArn"])
    # Then there is one, named as AWS names it, SUCCEEDED with its counts
    assert_shape("ListMapRuns", listed)
    assert_shape("DescribeMapRun", described)
    (item,) = listed["mapRuns"]
    assert item["executionArn"] == execution_arn
    assert item["stateMachineArn"] == (
        "arn:aws:states:us-east-1:111111111111:stateMachine:runs/Batches"
    )
    assert "stopDate" in item
    history = client.get_execution_history(executionArn=execution_arn)["events"]
    started = next(e for e in history if e["type"] == "MapRunStarted")
    assert started["mapRunStartedEventDetails"]["mapRunArn"] == item["mapRunArn"]
    assert described["status"] == "SUCCEEDED"
    assert described["maxConcurrency"] == 2
    assert described["toleratedFailureCount"] == 1
    assert described["toleratedFailurePercentage"] == 0.0
    assert described["executionCounts"] == {
        "pending": 0,
        "running": 0,
        "succeeded": 2,
        "failed": 1,
        "timedOut": 0,
        "aborted": 0,
        "total": 3,
        "resultsWritten": 0,
    }
    assert described["itemCounts"] == {
        "pending": 0,
        "running": 0,
        "succeeded": 3,
        "failed": 2,
        "timedOut": 0,
        "aborted": 0,
        "total": 5,
        "resultsWritten": 0,
    }


def test_given_a_failing_distributed_map_then_its_map_run_is_failed(harness: Harness) -> None:
    # Given no tolerance and a bad first batch (MaxConcurrency 2: the second ran too)
    execution_arn = _run(harness, 0, [-1, 2, 3, 4, 5])
    client = harness.client
    # When the Map Run is described
    (item,) = client.list_map_runs(executionArn=execution_arn)["mapRuns"]
    described = client.describe_map_run(mapRunArn=item["mapRunArn"])
    # Then it FAILED, the failed batch counted, the third batch never started
    assert_shape("DescribeMapRun", described)
    assert described["status"] == "FAILED"
    counts = described["executionCounts"]
    assert counts["failed"] == 1
    assert counts["total"] == 3
    assert counts["pending"] + counts["succeeded"] + counts["aborted"] == 2
    assert described["stopDate"] >= described["startDate"]


def test_given_an_execution_without_map_runs_then_the_list_is_empty(harness: Harness) -> None:
    # Given an execution of a machine without a Distributed Map
    client = harness.client
    arn = client.create_state_machine(
        name="plain",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=FIRST_ROLE,
    )["stateMachineArn"]
    execution_arn = client.start_execution(stateMachineArn=arn)["executionArn"]
    harness.settle()
    # When its Map Runs are listed
    listed = client.list_map_runs(executionArn=execution_arn)
    # Then there are none
    assert body(listed) == {"mapRuns": []}


def test_given_unknown_arns_then_aws_errors_are_raised(harness: Harness) -> None:
    # Given nothing started
    client = harness.client
    missing = "arn:aws:states:us-east-1:111111111111:mapRun:m/L:00000000-0000-4000-8000-0"
    # When unknown or malformed ARNs are asked for
    # Then AWS's errors come back
    with pytest.raises(errors.ResourceNotFound):
        client.describe_map_run(mapRunArn=missing)
    with pytest.raises(errors.InvalidArn):
        client.describe_map_run(mapRunArn="not-an-arn")
    with pytest.raises(errors.ExecutionDoesNotExist):
        client.list_map_runs(executionArn="arn:aws:states:us-east-1:111111111111:execution:m:none")


WAITING_MAP = json.dumps(
    {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Hold",
                    "States": {
                        "Hold": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Parameters": {"FunctionName": "noop", "Payload.$": "$"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
)


def _running_map_run(harness: Harness) -> str:
    """The Map Run of a Map over four items whose children wait for a callback."""
    client = harness.client
    arn = client.create_state_machine(name="hold", definition=WAITING_MAP, roleArn=FIRST_ROLE)[
        "stateMachineArn"
    ]
    execution_arn = client.start_execution(stateMachineArn=arn, input="[1, 2, 3, 4]")[
        "executionArn"
    ]
    harness.settle()
    (item,) = client.list_map_runs(executionArn=execution_arn)["mapRuns"]
    return str(item["mapRunArn"])


def test_given_a_running_map_run_when_max_concurrency_is_raised_then_more_children_run(
    harness: Harness,
) -> None:
    # Given a running Map Run with MaxConcurrency 1: one child running, three pending
    client = harness.client
    map_run_arn = _running_map_run(harness)
    before = client.describe_map_run(mapRunArn=map_run_arn)
    assert before["status"] == "RUNNING"
    assert (before["executionCounts"]["running"], before["executionCounts"]["pending"]) == (1, 3)
    assert "stopDate" not in before
    # When UpdateMapRun raises it to 3 and sets a tolerance
    response = client.update_map_run(
        mapRunArn=map_run_arn, maxConcurrency=3, toleratedFailureCount=2
    )
    harness.settle()
    # Then three children run, and DescribeMapRun shows the new limits
    assert_shape("UpdateMapRun", response)
    after = client.describe_map_run(mapRunArn=map_run_arn)
    assert_shape("DescribeMapRun", after)
    assert (after["executionCounts"]["running"], after["executionCounts"]["pending"]) == (3, 1)
    assert after["maxConcurrency"] == 3
    assert after["toleratedFailureCount"] == 2
    assert after["startDate"] == before["startDate"]


def test_given_a_running_map_run_when_its_execution_is_stopped_then_it_reads_aborted(
    harness: Harness,
) -> None:
    # Given a running Map Run
    client = harness.client
    map_run_arn = _running_map_run(harness)
    execution_arn = client.describe_map_run(mapRunArn=map_run_arn)["executionArn"]
    # When its execution is stopped
    client.stop_execution(executionArn=execution_arn)
    harness.settle()
    # Then the Map Run is ABORTED: what was running or pending was aborted
    described = client.describe_map_run(mapRunArn=map_run_arn)
    assert_shape("DescribeMapRun", described)
    assert described["status"] == "ABORTED"
    assert described["executionCounts"]["aborted"] == 4
    assert "stopDate" in described


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"maxConcurrency": -1}, ParamValidationError),  # boto3 refuses it before sending
        ({"toleratedFailureCount": -1}, ParamValidationError),
        ({"toleratedFailurePercentage": 101}, errors.ValidationException),  # AWS refuses it
    ],
)
def test_given_out_of_range_limits_when_updating_then_validation_fails(
    harness: Harness, fields: dict[str, Json], refusal: type[Exception]
) -> None:
    # Given a running Map Run
    map_run_arn = _running_map_run(harness)
    # When an out-of-range limit is asked for
    # Then boto3's or AWS's refusal comes back, naming the field
    with pytest.raises(refusal, match=next(iter(fields))):
        harness.client.update_map_run(mapRunArn=map_run_arn, **fields)
