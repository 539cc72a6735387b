"""Bounded resources: what an expression, an input or a Map may cost before it is refused.

Each memory bound is measured with `tracemalloc` (peak of Python allocations while the
call runs) and stated beside the assertion; each refusal carries AWS's error.
"""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from engine._api import Client
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._dataflow import intrinsics, jsonata
from engine._dataflow.nesting import MAX_PAYLOAD_DEPTH, NestingTooDeep
from engine._dataflow.scope import Scope
from engine._dataflow.sizes import ValueTooLarge, json_size, utf8_exceeds
from engine._errors import InvalidExecutionInput, ValidationException
from engine._interpreter.lifecycle import payload_size
from engine._interpreter.turn import Limits

Json = Any
ROLE = "arn:aws:iam::111111111111:role/r"
MB = 1024 * 1024
LIMIT_CAUSE = (
    "The state/task 'Big' returned a result with a size exceeding the maximum number of "
    "bytes service limit."
)


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """Yield a one-item list that holds the peak bytes allocated inside the block."""
    peak = [0]
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak[0] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def _client(limits: Limits | None = None) -> Client:
    clock = FakeClock()
    return Client(LocalBackend(clock=clock, limits=limits), clock=clock, limits=limits)


def _run(machine: dict[str, Json], payload: Json, limits: Limits | None = None) -> dict[str, Json]:
    client = _client(limits)
    arn = client.create_state_machine(name="bounded", definition=json.dumps(machine), roleArn=ROLE)
    run = client.start_execution(stateMachineArn=arn["stateMachineArn"], input=json.dumps(payload))
    return client.describe_execution(executionArn=run["executionArn"])


def _jsonata_pass(expression: str) -> dict[str, Json]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "Big",
        "States": {"Big": {"Type": "Pass", "Output": {"value": expression}, "End": True}},
    }


def _jsonpath_pass(call: str) -> dict[str, Json]:
    return {
        "StartAt": "Big",
        "States": {"Big": {"Type": "Pass", "Parameters": {"value.$": call}, "End": True}},
    }


def _scope() -> Scope:
    return Scope(
        input={"text": "y" * 200_000, "items": list(range(200_000)), "pairs": "x," * 300_000},
        now=datetime(2026, 1, 1, tzinfo=UTC),
        rng=random.Random(1),
    )


# --- 1. JSONata and intrinsic functions -------------------------------------------------


def test_a_300_million_character_pad_fails_with_data_limit_exceeded_in_under_64_mb() -> None:
    # Given a JSONata Pass padding a string to 300,000,000 characters (1 GB before)
    machine = _jsonata_pass("{% $pad('x', 300000000) %}")
    # When it runs
    with peak_memory() as peak:
        described = _run(machine, {})
    # Then it fails as AWS fails a result over 256 KiB, having spent under 64 MB
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert described["cause"] == LIMIT_CAUSE
    assert peak[0] < 64 * MB


@pytest.mark.parametrize(
    "expression",
    [
        "{% $pad('x', -300000000) %}",
        "{% $join($map([1..100000], function($v){ 'xxxxxxxxxxxxxxxx' })) %}",
        "{% ($s := 'xxxxxxxx'; $s := $s & $s & $s & $s & $s & $s & $s & $s;"
        " $s := $s & $s & $s & $s & $s & $s & $s & $s; $s := $s & $s & $s & $s & $s & $s & $s & $s;"
        " $s := $s & $s & $s & $s & $s & $s & $s & $s; $s := $s & $s & $s & $s & $s & $s & $s & $s;"
        " $s := $s & $s & $s & $s & $s & $s & $s & $s; $length($s)) %}",
        "{% $replace($pad('', 200000, 'a'), 'a', 'bbbbbbbbbb') %}",
        "{% $string([$states.input, $states.input, $states.input, $states.input]) %}",
        "{% $uppercase($pad('', 600000, 'ß')) %}",
    ],
    ids=["pad-left", "join", "concatenation", "replace", "string", "uppercase-grows"],
)
def test_jsonata_refuses_to_build_a_string_far_over_the_limit(expression: str) -> None:
    # Given an expression whose string would far exceed the payload limit
    # When it is evaluated
    with peak_memory() as peak, pytest.raises(ValueTooLarge) as raised:
        jsonata.evaluate_expression(expression, _scope(), field="Output")
    # Then it is refused as States.DataLimitExceeded, within 32 MB of memory
    assert raised.value.name == "States.DataLimitExceeded"
    assert peak[0] < 32 * MB


def test_jsonata_within_the_limit_still_builds_strings() -> None:
    # Given expressions building small strings
    scope = _scope()
    # When they are evaluated
    padded = jsonata.evaluate_expression("{% $pad('x', 5) & 'y' %}", scope, field="Output")
    joined = jsonata.evaluate_expression("{% $join(['a', 'b'], ',') %}", scope, field="Output")
    replaced = jsonata.evaluate_expression("{% $replace('abc', 'b', 'x') %}", scope, field="Output")
    # Then they give JSONata's results
    assert (padded, joined, replaced) == ("x    y", "a,b", "axc")


@pytest.mark.parametrize(
    "call",
    [
        "States.StringSplit($.pairs, ',')",
        "States.Format('{}{}{}{}{}{}', $.text, $.text, $.text, $.text, $.text, $.text)",
        "States.JsonToString(States.Array($.items, $.items, $.items, $.items, $.items))",
        "States.ArrayPartition($.items, 1)",
        "States.Array($.text, $.text, $.text, $.text, $.text, $.text)",
    ],
    ids=["StringSplit", "Format", "JsonToString", "ArrayPartition", "Array"],
)
def test_intrinsic_functions_refuse_a_result_far_over_the_limit(call: str) -> None:
    # Given a call whose result would far exceed the payload limit
    # When it is evaluated
    with peak_memory() as peak, pytest.raises(ValueTooLarge) as raised:
        intrinsics.evaluate(call, _scope(), field="value.$")
    # Then it is refused as States.DataLimitExceeded, within 16 MB of memory
    assert raised.value.name == "States.DataLimitExceeded"
    assert peak[0] < 16 * MB


def test_an_intrinsic_result_over_the_limit_fails_the_execution_as_aws_does() -> None:
    # Given a Pass formatting its 200 KB input six times over
    call = "States.Format('{}{}{}{}{}{}', $.t, $.t, $.t, $.t, $.t, $.t)"
    # When it runs
    described = _run(_jsonpath_pass(call), {"t": "y" * 200_000})
    # Then it fails with AWS's States.DataLimitExceeded and cause
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert described["cause"] == LIMIT_CAUSE


def test_array_range_keeps_aws_limit_of_1000_items() -> None:
    # Given States.ArrayRange asked for 5,000 items
    # When it is evaluated
    with pytest.raises(Exception, match="more than the 1000 allowed") as raised:
        intrinsics.evaluate("States.ArrayRange(1, 5000, 1)", _scope(), field="value.$")
    # Then it fails as an intrinsic failure, like AWS
    assert getattr(raised.value, "name", None) == "States.IntrinsicFailure"


# --- sizes measured without serialising ----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [{}, [], 'é"\\\n\u2028😀', {"a": [1, 2.5, None, True, False]}, [[[]]], -0.0, 10**30],
)
def test_json_size_equals_the_compact_utf8_text_length(value: Json) -> None:
    # Given a JSON value
    # When it is measured
    size = json_size(value, 10**9)
    # Then the size is that of its compact UTF-8 JSON text
    assert size == len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def test_json_size_stops_counting_past_the_limit_without_serialising() -> None:
    # Given 100,000 references to one 1 KB string (100 MB as text)
    value = ["x" * 1000] * 100_000
    # When it is measured against 256 KiB
    with peak_memory() as peak:
        size = json_size(value, 256 * 1024)
    # Then it is over the limit, found with under 1 MB
    assert size > 256 * 1024
    assert peak[0] < MB


def test_utf8_size_is_decided_without_encoding_a_long_text() -> None:
    # Given a 50 MB text and a 100,000-character text of 3-byte characters
    # When each is measured against 256 KiB
    # Then the first is over by its length alone and the second by its bytes
    assert utf8_exceeds("x" * 50_000_000, 256 * 1024)
    assert utf8_exceeds("€" * 100_000, 256 * 1024)
    assert not utf8_exceeds("€" * 80_000, 256 * 1024)


# --- 2. input size checked before parsing --------------------------------------------------


def test_a_50_mb_execution_input_is_refused_before_it_is_parsed() -> None:
    # Given a machine and a 50 MB input (parsing it took 1.6 s and 269 MB)
    client = _client()
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = client.create_state_machine(name="big", definition=json.dumps(machine), roleArn=ROLE)
    text = json.dumps({"blob": "x" * 50_000_000})
    # When it is started
    with peak_memory() as peak, pytest.raises(InvalidExecutionInput) as raised:
        client.start_execution(stateMachineArn=arn["stateMachineArn"], input=text)
    # Then it is refused on its size, with under 1 MB spent
    assert "larger than 262144 bytes" in str(raised.value)
    assert peak[0] < MB


def test_a_callback_output_over_the_limit_is_refused_before_it_is_parsed() -> None:
    # Given a 50 MB SendTaskSuccess output
    client = _client()
    text = json.dumps(["x" * 50_000_000])
    # When it is sent
    with peak_memory() as peak, pytest.raises(ValidationException) as raised:
        client.send_task_success(taskToken="token", output=text)
    # Then AWS's length constraint refuses it, with under 1 MB spent
    assert "Member must have length less than or equal to 262144" in str(raised.value)
    assert peak[0] < MB


# --- 3. nesting depth ----------------------------------------------------------------------


def test_a_10000_deep_input_is_refused_with_a_clear_error() -> None:
    # Given a machine and an input of 10,000 nested arrays
    client = _client()
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    arn = client.create_state_machine(name="deep", definition=json.dumps(machine), roleArn=ROLE)
    # When it is started
    with pytest.raises(InvalidExecutionInput) as raised:
        client.start_execution(
            stateMachineArn=arn["stateMachineArn"], input="[" * 10_000 + "]" * 10_000
        )
    # Then the error names the nesting limit, not a RecursionError
    assert "levels deep" in str(raised.value)


def _deep(levels: int) -> Json:
    value: Json = []
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    "measure",
    [lambda value: json_size(value, 10**9), payload_size],
    ids=["json_size", "payload_size"],
)
def test_payload_measures_refuse_10000_levels_without_recursion(
    measure: Callable[[Json], int],
) -> None:
    # Given a value of 10,000 nested arrays built in memory
    value = _deep(10_000)
    # When its size is measured
    # Then it is refused as too deep (no RecursionError)
    with pytest.raises(NestingTooDeep):
        measure(value)


def test_a_state_nesting_its_output_past_the_limit_fails_with_a_clear_cause() -> None:
    # Given a loop wrapping its value in one more array per pass, from 499 levels
    machine = {
        "StartAt": "Wrap",
        "States": {
            "Wrap": {
                "Type": "Pass",
                "Parameters": {"x.$": "States.Array($.x)", "n.$": "States.MathAdd($.n, 1)"},
                "Next": "Again",
            },
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericLessThan": 1000, "Next": "Wrap"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    # When it runs
    described = _run(machine, {"x": _deep(499), "n": 0})
    # Then it fails with States.DataLimitExceeded naming the depth limit
    assert (described["status"], described["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert f"nested more than {MAX_PAYLOAD_DEPTH} levels deep" in str(described["cause"])


def test_jsonpath_and_jsonata_read_an_input_at_the_depth_limit() -> None:
    # Given an input 499 levels deep under "x"
    scope = Scope(input={"x": _deep(499)}, now=datetime(2026, 1, 1, tzinfo=UTC))
    # When a descendant path and a JSONata expression read it
    found = intrinsics.evaluate("States.ArrayLength($..x)", scope, field="value.$")
    counted = jsonata.evaluate_expression("{% $count($states.input.x) %}", scope, field="Output")
    # Then both answer (no RecursionError)
    assert (found, counted) == (1, 1)


# --- 4. Map iterations beyond the history limit ---------------------------------------------


def _map(items_processor_states: dict[str, Json]) -> dict[str, Json]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {"StartAt": "Keep", "States": items_processor_states},
                "End": True,
            }
        },
    }


def test_a_map_that_cannot_fit_the_history_fails_before_starting_iterations() -> None:
    # Given an inline Map over 30,000 items (25,000 events hold at most 6,249 iterations)
    machine = _map({"Keep": {"Type": "Pass", "End": True}})
    # When it runs
    with peak_memory() as peak:
        described = _run(machine, {"items": [0] * 30_000})
    # Then it fails with the history limit's error, without building its iterations
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == (
        "The execution reached the maximum number of history events (25000)."
    )
    assert peak[0] < 64 * MB


def test_a_map_that_fits_the_history_still_runs() -> None:
    # Given an inline Map over 40 items and a 200-event history
    machine = _map({"Keep": {"Type": "Pass", "End": True}})
    # When it runs
    described = _run(machine, {"items": list(range(40))}, Limits(history_events=200))
    # Then it succeeds
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == list(range(40))
