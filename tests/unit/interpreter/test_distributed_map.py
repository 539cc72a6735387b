"""Distributed Map: the Map Run's ARN (Label), and tolerated failures counted per child."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine._interpreter.map_io import child_execution_arn
from engine._interpreter.snapshot import ExecutionStatus
from engine._resources import HandlerContext
from tests.unit.interpreter.support import lambda_arn, one, registry, run

Json = Any
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def _distributed(processor_state: dict[str, Json], **fields: Json) -> dict[str, Json]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "I",
        "States": {"I": {**processor_state, "End": True}},
    }
    state = {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}
    return {"StartAt": "M", "States": {"M": state}}


def _fails_on(bad: set[int]) -> Any:
    """A handler failing when its input (an item, or a batch's items) holds a bad item."""

    def handler(event: Json, context: HandlerContext) -> Json:
        items = event["Items"] if isinstance(event, dict) else [event]
        if bad.intersection(items):
            raise ValueError(f"bad item in {items}")
        return event

    return handler


TASK = {"Type": "Task", "Resource": lambda_arn("f")}


def test_given_a_label_when_the_map_runs_then_the_map_run_arn_carries_it() -> None:
    # Given a Distributed Map with Label "TestMap" (the conformance case map_state_label)
    machine = _distributed({"Type": "Pass"}, Label="TestMap")
    # When it runs
    result = run(machine, ["Hello", "World"])
    # Then the Map Run ARN is arn:...:mapRun:MACHINE/LABEL:UUID
    arn = one(result.history, "MapRunStarted").details["mapRunArn"]
    assert re.fullmatch(rf"arn:aws:states:us-east-1:111111111111:mapRun:m/TestMap:{UUID}", arn)
    assert result.execution.output == ["Hello", "World"]


def test_given_no_label_when_the_map_runs_then_the_state_name_stands_in() -> None:
    # Given no Label
    # When it runs
    result = run(_distributed({"Type": "Pass"}), [1])
    # Then the ARN names the state
    arn = one(result.history, "MapRunStarted").details["mapRunArn"]
    assert re.fullmatch(rf"arn:aws:states:us-east-1:111111111111:mapRun:m/M:{UUID}", arn)


def test_given_the_same_seed_when_run_twice_then_the_map_run_arn_is_the_same() -> None:
    # Given one machine and one seed
    machine = _distributed({"Type": "Pass"})
    # When it runs twice (a replay), and once with another seed
    first, again = run(machine, [1], seed=7), run(machine, [1], seed=7)
    other = run(machine, [1], seed=8)

    # Then the ARN is a pure function of the seed
    def arn(result: Any) -> str:
        return str(one(result.history, "MapRunStarted").details["mapRunArn"])

    assert arn(first) == arn(again) != arn(other)


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"ToleratedFailureCount": 1}, ExecutionStatus.SUCCEEDED),
        ({"ToleratedFailureCount": 0}, ExecutionStatus.FAILED),
        ({"ToleratedFailurePercentage": 50}, ExecutionStatus.SUCCEEDED),
        ({"ToleratedFailurePercentage": 49}, ExecutionStatus.FAILED),
        ({"ToleratedFailureCountPath": "$.n"}, ExecutionStatus.SUCCEEDED),
        ({"ToleratedFailurePercentagePath": "$.p"}, ExecutionStatus.SUCCEEDED),
    ],
)
def test_given_batches_when_one_fails_then_the_tolerance_counts_child_executions(
    fields: dict[str, Json], outcome: ExecutionStatus
) -> None:
    # Given four items in two batches of two, one batch holding a failing item
    machine = _distributed(TASK, ItemBatcher={"MaxItemsPerBatch": 2}, ItemsPath="$.items", **fields)
    # When it runs
    result = run(
        machine, {"items": [1, 2, 3, 4], "n": 1, "p": 50}, handlers=registry(f=_fails_on({3}))
    )
    # Then one failed child of two is within a count of 1 or 50 %, beyond 0 or 49 %
    assert result.execution.status is outcome
    if outcome is ExecutionStatus.FAILED:
        assert result.execution.error == "States.ExceedToleratedFailureThreshold"
        assert result.execution.cause == "The specified tolerated failure threshold was exceeded"
        assert [e.type for e in result.history][-3:] == [
            "MapRunFailed",
            "MapStateFailed",
            "ExecutionFailed",
        ]
    else:
        first, second = result.execution.output
        assert first == {"Items": [1, 2]}
        assert second["Error"] == "ValueError"


def test_given_express_children_when_one_fails_within_tolerance_then_the_map_succeeds() -> None:
    # Given EXPRESS child executions and a tolerance of one
    machine = _distributed(TASK, ToleratedFailureCount=1)
    machine["States"]["M"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    # When one item fails
    result = run(machine, [1, 2, 3], handlers=registry(f=_fails_on({2})))
    # Then the tolerance applies as for STANDARD children
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output[1]["Error"] == "ValueError"


def test_given_no_s3_access_when_a_map_reads_items_then_it_fails_before_any_child() -> None:
    # Given a Distributed Map with an ItemReader, on a registry without the AWS mode
    calls: list[Json] = []

    def record(event: Json, context: HandlerContext) -> Json:
        calls.append(event)
        return event

    reader = {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "b", "Key": "items.json"},
    }
    machine = _distributed(TASK, ItemReader=reader)
    # When it runs
    result = run(machine, [1, 2], handlers=registry(f=record))
    # Then it fails with States.ItemReaderFailed saying what to set, and no child ran
    assert result.execution.status is ExecutionStatus.FAILED
    assert result.execution.error == "States.ItemReaderFailed"
    assert "STEPLINE_AWS_INTEGRATIONS" in result.execution.cause
    assert calls == []


def test_given_no_s3_access_when_a_result_writer_is_caught_then_the_catcher_runs() -> None:
    # Given a Map with ResultWriter and a Catch on States.ResultWriterFailed (no AWS mode)
    machine = _distributed(
        {"Type": "Pass"},
        ResultWriter={"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b"}},
        Catch=[{"ErrorEquals": ["States.ResultWriterFailed"], "Next": "Caught"}],
    )
    machine["States"]["Caught"] = {"Type": "Pass", "End": True}
    # When it runs
    result = run(machine, [1])
    # Then the catcher takes over
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output["Error"] == "States.ResultWriterFailed"
    assert "ResultWriter needs S3" in result.execution.output["Cause"]


def test_given_a_distributed_map_when_it_runs_then_each_child_is_recorded_as_an_execution() -> None:
    # Given a Distributed Map over three items, one at a time, whose second item fails
    machine = _distributed(TASK, Label="Kids", MaxConcurrency=1, ToleratedFailureCount=1)
    # When it runs
    result = run(machine, [1, 2, 3], handlers=registry(f=_fails_on({2})))
    # Then every child is an execution of the Map Run, named after it, with its end recorded
    map_run_arn = one(result.history, "MapRunStarted").details["mapRunArn"]
    children = sorted(result.children.values(), key=lambda c: c.index)
    assert [c.arn for c in children] == [child_execution_arn(map_run_arn, i) for i in range(3)]
    assert all(
        re.fullmatch(r"arn:aws:states:us-east-1:111111111111:execution:m/Kids:[0-9a-f-]{36}", c.arn)
        for c in children
    )
    assert [c.status for c in children] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    assert [c.input for c in children] == [1, 2, 3]
    assert [c.output for c in children] == [1, None, 3]
    assert children[1].error == "ValueError"
    assert all(c.map_run_arn == map_run_arn and c.item_count == 1 for c in children)
    assert all(c.execution_arn == result.execution.arn for c in children)
    assert all(c.stop_date is not None and c.stop_date >= c.start_date for c in children)


def test_given_an_inline_map_when_it_runs_then_no_child_execution_is_recorded() -> None:
    # Given an inline Map
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    # When it runs
    result = run(machine, [1, 2])
    # Then its iterations are not executions (AWS: only Distributed Map children are)
    assert result.execution.output == [1, 2]
    assert result.children == {}


def test_given_express_children_when_the_map_runs_then_they_are_not_recorded() -> None:
    # Given EXPRESS child executions, a refill slot among them
    machine = _distributed(TASK, MaxConcurrency=1)
    machine["States"]["M"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    # When the Map runs
    result = run(machine, [1, 2], handlers=registry(f=_fails_on(set())))
    # Then no child execution is kept (AWS keeps no Express executions to list)
    assert result.execution.output == [1, 2]
    assert result.children == {}
