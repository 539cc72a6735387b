"""ItemBatcher: a Distributed Map hands each child ``{"BatchInput": ..., "Items": [...]}``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine._interpreter.batching import BatchLimits, group_into_batches
from engine._interpreter.snapshot import ExecutionStatus
from tests.unit.interpreter.support import jsonata, run

Json = Any


def _batched(batcher: dict[str, Json], **fields: Json) -> dict[str, Json]:
    """A Distributed Map whose children return their input, batched by ``batcher``."""
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Echo",
        "States": {"Echo": {"Type": "Pass", "End": True}},
    }
    state = {"Type": "Map", "ItemProcessor": processor, "ItemBatcher": batcher, "End": True}
    return {"StartAt": "M", "States": {"M": {**state, **fields}}}


def test_given_max_items_per_batch_2_when_five_items_run_then_three_children_get_items() -> None:
    # Given MaxItemsPerBatch 2 and five items
    # When the Map runs
    result = run(_batched({"MaxItemsPerBatch": 2}), [1, 2, 3, 4, 5])
    # Then each child got up to two items, in order, under "Items"
    assert result.execution.output == [
        {"Items": [1, 2]},
        {"Items": [3, 4]},
        {"Items": [5]},
    ]


def test_given_batch_input_when_batched_then_every_child_gets_it_beside_items() -> None:
    # Given a BatchInput reading the state input and the context
    batcher = {
        "MaxItemsPerBatch": 2,
        "BatchInput": {"run.$": "$.run", "machine.$": "$$.StateMachine.Name"},
    }
    machine = _batched(batcher, ItemsPath="$.items")
    # When the Map runs over three items
    result = run(machine, {"run": "r1", "items": ["a", "b", "c"]})
    # Then each batch carries the same BatchInput, as AWS documents the child input
    batch_input = {"run": "r1", "machine": "m"}
    assert result.execution.output == [
        {"BatchInput": batch_input, "Items": ["a", "b"]},
        {"BatchInput": batch_input, "Items": ["c"]},
    ]


def test_given_item_selector_when_batched_then_selected_items_are_grouped() -> None:
    # Given an ItemSelector using the item's index
    machine = _batched(
        {"MaxItemsPerBatch": 3},
        ItemSelector={"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
    )
    # When the Map runs
    result = run(machine, ["x", "y", "z", "w"])
    # Then the selector applies per item (index in the whole list) before grouping
    assert result.execution.output == [
        {"Items": [{"i": 0, "v": "x"}, {"i": 1, "v": "y"}, {"i": 2, "v": "z"}]},
        {"Items": [{"i": 3, "v": "w"}]},
    ]


def test_given_max_input_bytes_when_items_would_overflow_then_a_new_batch_starts() -> None:
    # Given a byte limit that fits {"Items":["aaaa","bbbb"]} (25 bytes) but not a third item
    limit = len(json.dumps({"Items": ["aaaa", "bbbb"]}, separators=(",", ":")))
    machine = _batched({"MaxInputBytesPerBatch": limit})
    # When the Map runs over three such items
    result = run(machine, ["aaaa", "bbbb", "cccc"])
    # Then the third item opens a second batch
    assert result.execution.output == [{"Items": ["aaaa", "bbbb"]}, {"Items": ["cccc"]}]


def test_given_both_limits_when_either_is_reached_then_the_batch_closes() -> None:
    # Given a generous byte limit and at most two items
    machine = _batched({"MaxItemsPerBatch": 2, "MaxInputBytesPerBatch": 1000})
    # When the Map runs
    result = run(machine, [1, 2, 3])
    # Then the item count closes the first batch
    assert result.execution.output == [{"Items": [1, 2]}, {"Items": [3]}]


def test_given_path_forms_when_batched_then_limits_are_read_from_the_input() -> None:
    # Given MaxItemsPerBatchPath and MaxInputBytesPerBatchPath (the number as text, too)
    machine = _batched(
        {"MaxItemsPerBatchPath": "$.per", "MaxInputBytesPerBatchPath": "$.bytes"},
        ItemsPath="$.items",
    )
    # When the Map runs
    result = run(machine, {"per": "3", "bytes": 1000, "items": [1, 2, 3, 4]})
    # Then the limits read apply
    assert result.execution.output == [{"Items": [1, 2, 3]}, {"Items": [4]}]


def test_given_jsonata_forms_when_batched_then_expressions_give_limits_and_batch_input() -> None:
    # Given a JSONata Map with an expression limit and a BatchInput expression
    machine = jsonata(
        _batched(
            {"MaxItemsPerBatch": "{% $states.input.per %}", "BatchInput": {"n": "{% 1 + 1 %}"}},
            Items="{% $states.input.items %}",
        )
    )
    # When the Map runs
    result = run(machine, {"per": 2, "items": [1, 2, 3]})
    # Then the evaluated values apply
    assert result.execution.output == [
        {"BatchInput": {"n": 2}, "Items": [1, 2]},
        {"BatchInput": {"n": 2}, "Items": [3]},
    ]


@pytest.mark.parametrize("per", [0, -1])
def test_given_a_non_positive_batch_size_from_the_input_then_the_map_fails(per: int) -> None:
    # Given MaxItemsPerBatchPath reading zero or a negative number
    machine = _batched({"MaxItemsPerBatchPath": "$.per"}, ItemsPath="$.items")
    # When the Map runs
    result = run(machine, {"per": per, "items": [1]})
    # Then it fails with States.Runtime naming the field and the value
    assert result.execution.status is ExecutionStatus.FAILED
    assert result.execution.error == "States.Runtime"
    assert "MaxItemsPerBatchPath" in result.execution.cause
    assert str(per) in result.execution.cause


def test_given_an_item_larger_than_the_byte_limit_then_the_map_fails() -> None:
    # Given a byte limit smaller than one item's batch
    machine = _batched({"MaxInputBytesPerBatch": 10})
    # When the Map runs
    result = run(machine, ["a long item that cannot fit"])
    # Then it fails with States.Runtime naming the limit
    assert result.execution.error == "States.Runtime"
    assert "MaxInputBytesPerBatch (10)" in result.execution.cause


def test_given_an_empty_item_list_when_batched_then_the_map_yields_an_empty_list() -> None:
    # Given no items
    # When the batched Map runs
    result = run(_batched({"MaxItemsPerBatch": 2}), [])
    # Then there is no batch and the output is empty
    assert result.execution.output == []


def test_given_no_byte_limit_when_grouping_then_the_payload_limit_still_splits() -> None:
    # Given a count limit only, and items whose batch would exceed the byte cap
    limits = BatchLimits(max_items=None, max_input_bytes=37)
    # When grouped
    batches = group_into_batches("M", ["x" * 10, "y" * 10, "z" * 10], limits, None, False)
    # Then no batch is larger than the cap
    assert batches == [{"Items": ["x" * 10, "y" * 10]}, {"Items": ["z" * 10]}]
    assert all(len(json.dumps(b, separators=(",", ":"))) <= 37 for b in batches)
