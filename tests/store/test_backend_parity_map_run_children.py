"""Distributed Map child executions alike on the local and the durable backend (ADR 0034).

Each child of a Map Run (one per item, or per batch) is listed by ListExecutions(mapRunArn),
described by DescribeExecution (with its ``mapRunArn``) and has a history of its own, as
on AWS. Every response is checked against botocore's output shapes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from engine import _errors as errors
from tests.shapes import assert_shape, body
from tests.store.test_backend_parity import FIRST_ROLE, HANDLERS, Harness
from tests.store.test_backend_parity import harness as harness  # the fixture, re-exported
from tests.store.test_backend_parity_map_runs import WAITING_MAP

Json = Any
FAILURES: Counter[int] = Counter()  # failures each item still has to raise
CHILD_ARN = (
    r"arn:aws:states:us-east-1:111111111111:execution:kids/Kids:"
    r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


class Bad(Exception):
    """What a child raises for a negative item, or while it is told to fail."""


def _kid(event: Json, context: Any) -> Json:
    """Doubles a batch's items; fails on a negative item, or while FAILURES says so."""
    for item in event["Items"]:
        if item < 0 or FAILURES[item] > 0:
            FAILURES[item] -= 1
            raise Bad(f"bad item {item}")
    return [item * 2 for item in event["Items"]]


HANDLERS.register("kid", _kid)


@pytest.fixture(autouse=True)
def _fresh_failures() -> None:
    FAILURES.clear()


def _definition(tolerated: int) -> str:
    return json.dumps(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "Label": "Kids",
                    "ToleratedFailureCount": tolerated,
                    "ItemBatcher": {"MaxItemsPerBatch": 2},
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "Kid",
                        "States": {
                            "Kid": {
                                "Type": "Task",
                                "Resource": "arn:aws:lambda:us-east-1:111111111111:function:kid",
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            },
        }
    )


def _run(harness: Harness, items: list[int], tolerated: int = 1) -> tuple[str, str]:
    """Run the Map over ``items`` in batches of two; (execution ARN, Map Run ARN)."""
    client = harness.client
    machine = client.create_state_machine(
        name="kids", definition=_definition(tolerated), roleArn=FIRST_ROLE
    )["stateMachineArn"]
    execution_arn = client.start_execution(stateMachineArn=machine, input=json.dumps(items))[
        "executionArn"
    ]
    harness.settle()
    (run,) = client.list_map_runs(executionArn=execution_arn)["mapRuns"]
    return str(execution_arn), str(run["mapRunArn"])


def _children(harness: Harness, map_run_arn: str, **fields: Json) -> list[dict[str, Json]]:
    listed = harness.client.list_executions(mapRunArn=map_run_arn, **fields)
    assert_shape("ListExecutions", listed)
    return list(listed["executions"])


def test_given_a_distributed_map_when_its_children_are_listed_then_each_batch_is_one(
    harness: Harness,
) -> None:
    # Given a Map Run of five items in batches of two whose second batch fails (tolerated)
    _, map_run_arn = _run(harness, [1, 2, -3, 4, 5])
    # When its child executions are listed
    children = _children(harness, map_run_arn)
    # Then there is one per batch, newest first, named as AWS names children
    assert len(children) == 3
    assert [c["itemCount"] for c in children] == [1, 2, 2]
    assert [c["status"] for c in children] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    for child in children:
        assert child["mapRunArn"] == map_run_arn
        assert child["stateMachineArn"] == (
            "arn:aws:states:us-east-1:111111111111:stateMachine:kids/Kids"
        )
        assert child["executionArn"].rsplit(":", 1)[1] == child["name"]
        assert child["stopDate"] >= child["startDate"]
        assert child["redriveCount"] == 0
    assert all(re.fullmatch(CHILD_ARN, c["executionArn"]) for c in children)


def test_given_a_child_when_described_then_it_has_its_input_output_and_map_run(
    harness: Harness,
) -> None:
    # Given a Map Run with a succeeded and a failed batch
    _, map_run_arn = _run(harness, [1, 2, -3, 4, 5])
    newest, failed, first = _children(harness, map_run_arn)
    # When the first and the failed child are described
    described = harness.client.describe_execution(executionArn=first["executionArn"])
    broken = harness.client.describe_execution(executionArn=failed["executionArn"])
    # Then each is an execution of the Map Run, with its batch as input
    assert_shape("DescribeExecution", described)
    assert_shape("DescribeExecution", broken)
    assert described["mapRunArn"] == map_run_arn
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["input"]) == {"Items": [1, 2]}
    assert json.loads(described["output"]) == [2, 4]
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert broken["status"] == "FAILED"
    assert json.loads(broken["input"]) == {"Items": [-3, 4]}
    assert broken["error"] == "Bad"
    assert "output" not in broken
    assert newest["status"] == "SUCCEEDED"


def test_given_children_when_their_histories_are_read_then_they_start_and_end(
    harness: Harness,
) -> None:
    # Given a Map Run with a succeeded and a failed batch
    _, map_run_arn = _run(harness, [1, 2, -3, 4])
    failed, succeeded = _children(harness, map_run_arn)
    # When their histories are read (one without its data)
    good = harness.client.get_execution_history(executionArn=succeeded["executionArn"])
    bad = harness.client.get_execution_history(
        executionArn=failed["executionArn"], includeExecutionData=False
    )
    # Then each has AWS's execution events, the data left out where asked
    assert_shape("GetExecutionHistory", good)
    assert_shape("GetExecutionHistory", bad)
    assert [e["type"] for e in good["events"]] == ["ExecutionStarted", "ExecutionSucceeded"]
    assert [e["id"] for e in good["events"]] == [1, 2]
    started = good["events"][0]["executionStartedEventDetails"]
    assert json.loads(started["input"]) == {"Items": [1, 2]}
    assert started["roleArn"] == FIRST_ROLE
    ended = good["events"][1]["executionSucceededEventDetails"]
    assert json.loads(ended["output"]) == [2, 4]
    assert [e["type"] for e in bad["events"]] == ["ExecutionStarted", "ExecutionFailed"]
    assert bad["events"][0]["executionStartedEventDetails"]["inputDetails"] == {"truncated": False}
    assert "input" not in bad["events"][0]["executionStartedEventDetails"]
    assert bad["events"][1]["executionFailedEventDetails"]["error"] == "Bad"


def test_given_children_when_filtered_and_paged_then_aws_listing_rules_hold(
    harness: Harness,
) -> None:
    # Given a Map Run of three batches, one failed
    _, map_run_arn = _run(harness, [1, 2, -3, 4, 5])
    every = _children(harness, map_run_arn)
    # When they are filtered by status and paged one by one
    failed = _children(harness, map_run_arn, statusFilter="FAILED")
    first = harness.client.list_executions(mapRunArn=map_run_arn, maxResults=1)
    rest = harness.client.list_executions(
        mapRunArn=map_run_arn, maxResults=5, nextToken=first["nextToken"]
    )
    # Then the filter keeps the failed one, and the pages are the whole list in order
    assert [c["executionArn"] for c in failed] == [every[1]["executionArn"]]
    assert "nextToken" not in rest
    paged = first["executions"] + rest["executions"]
    assert [c["executionArn"] for c in paged] == [c["executionArn"] for c in every]
    with pytest.raises(errors.InvalidToken):
        harness.client.list_executions(
            mapRunArn=map_run_arn, statusFilter="FAILED", nextToken=first["nextToken"]
        )


def _waiting_run(harness: Harness) -> tuple[str, str]:
    client = harness.client
    machine = client.create_state_machine(name="hold", definition=WAITING_MAP, roleArn=FIRST_ROLE)[
        "stateMachineArn"
    ]
    execution_arn = client.start_execution(stateMachineArn=machine, input="[1, 2, 3]")[
        "executionArn"
    ]
    harness.settle()
    (run,) = client.list_map_runs(executionArn=execution_arn)["mapRuns"]
    return str(execution_arn), str(run["mapRunArn"])


def test_given_a_running_child_when_the_parent_is_stopped_then_it_reads_aborted(
    harness: Harness,
) -> None:
    # Given a Map Run (MaxConcurrency 1) whose first child waits for a callback
    execution_arn, map_run_arn = _waiting_run(harness)
    (running,) = _children(harness, map_run_arn)
    assert running["status"] == "RUNNING"
    assert "stopDate" not in running
    assert _children(harness, map_run_arn, statusFilter="ABORTED") == []
    # When the parent execution is stopped
    harness.client.stop_execution(executionArn=execution_arn)
    harness.settle()
    # Then the started child is ABORTED (the pending ones never became executions)
    (aborted,) = _children(harness, map_run_arn, statusFilter="ABORTED")
    assert aborted["executionArn"] == running["executionArn"]
    described = harness.client.describe_execution(executionArn=aborted["executionArn"])
    assert_shape("DescribeExecution", described)
    assert described["status"] == "ABORTED"
    assert "stopDate" in described
    history = harness.client.get_execution_history(executionArn=aborted["executionArn"])
    assert [e["type"] for e in history["events"]] == ["ExecutionStarted", "ExecutionAborted"]


def test_given_a_failed_map_run_when_the_execution_is_redriven_then_children_follow(
    harness: Harness,
) -> None:
    # Given a Map Run whose second batch failed once (no tolerance: the execution FAILED)
    FAILURES[3] = 1
    execution_arn, map_run_arn = _run(harness, [1, 2, 3, 4], tolerated=0)
    before = {c["executionArn"]: c for c in _children(harness, map_run_arn)}
    failed = next(c for c in before.values() if c["status"] == "FAILED")
    kept = [c for c in before.values() if c["status"] == "SUCCEEDED"]
    described = harness.client.describe_execution(executionArn=failed["executionArn"])
    assert described["redriveStatus"] == "REDRIVABLE_BY_MAP_RUN"
    # When the execution is redriven
    harness.client.redrive_execution(executionArn=execution_arn)
    harness.settle()
    # Then the failed child ran again under its ARN and succeeded; the others stayed as they were
    assert harness.client.describe_execution(executionArn=execution_arn)["status"] == "SUCCEEDED"
    after = {c["executionArn"]: c for c in _children(harness, map_run_arn)}
    assert set(after) == set(before)
    assert {c["status"] for c in after.values()} == {"SUCCEEDED"}
    again = harness.client.describe_execution(executionArn=failed["executionArn"])
    assert_shape("DescribeExecution", again)
    assert again["redriveCount"] == 1
    assert "redriveDate" in again
    assert json.loads(again["output"]) == [6, 8]
    assert after[failed["executionArn"]]["redriveCount"] == 1
    for child in kept:
        assert after[child["executionArn"]]["redriveCount"] == 0
    assert len(_children(harness, map_run_arn, redriveFilter="REDRIVEN")) == 1
    history = harness.client.get_execution_history(executionArn=failed["executionArn"])
    assert [e["type"] for e in history["events"]] == [
        "ExecutionStarted",
        "ExecutionRedriven",
        "ExecutionSucceeded",
    ]


def test_given_bad_arguments_when_listing_or_describing_then_aws_errors_are_raised(
    harness: Harness,
) -> None:
    # Given a finished Map Run
    execution_arn, map_run_arn = _run(harness, [1, 2])
    machine_arn = harness.client.describe_execution(executionArn=execution_arn)["stateMachineArn"]
    missing = map_run_arn[:-1] + ("0" if map_run_arn[-1] != "0" else "1")
    (child,) = _children(harness, map_run_arn)
    # When ListExecutions gets neither or both ARNs, or unknown ones
    # Then AWS's errors come back
    with pytest.raises(errors.ValidationException, match="exactly one"):
        harness.client.list_executions()
    with pytest.raises(errors.ValidationException, match="exactly one"):
        harness.client.list_executions(stateMachineArn=machine_arn, mapRunArn=map_run_arn)
    with pytest.raises(errors.ResourceNotFound):
        harness.client.list_executions(mapRunArn=missing)
    with pytest.raises(errors.InvalidArn):
        harness.client.list_executions(mapRunArn=execution_arn)
    with pytest.raises(errors.ExecutionDoesNotExist):
        harness.client.describe_execution(executionArn=child["executionArn"][:-1] + "x")
    # And the machine's own listing does not show the children
    listed = harness.client.list_executions(stateMachineArn=machine_arn)
    assert [e["executionArn"] for e in body(listed)["executions"]] == [execution_arn]
