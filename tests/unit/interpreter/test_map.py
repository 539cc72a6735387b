"""Map: outputs in order, item selection, MaxConcurrency, tolerated failures, Distributed mode."""

from __future__ import annotations

from typing import Any

import pytest

import engine._interpreter.activation
from engine._clock import FakeClock
from engine._interpreter.snapshot import ExecutionStatus, Thread, ThreadStatus
from engine._interpreter.turn import StepResult
from engine._resources import HandlerContext
from tests.unit.interpreter.support import (
    T0,
    PureDriver,
    jsonata,
    lambda_arn,
    of_type,
    one,
    registry,
    run,
    types,
)

Json = Any


def _map(processor: dict[str, Json], **fields: Json) -> dict[str, Json]:
    state = {"Type": "Map", "ItemProcessor": processor, **fields}
    states: dict[str, Json] = {"M": state}
    if "Catch" in fields:
        states["Caught"] = {"Type": "Pass", "End": True}
    state.setdefault("End", True)
    return {"StartAt": "M", "States": states}


def _processor(**state: Json) -> dict[str, Json]:
    return {"StartAt": "I", "States": {"I": {**state, "End": True}}}


PASS = _processor(Type="Pass")
TASK = _processor(Type="Task", Resource=lambda_arn("f"))


class RunningCounter:
    """Watches every step of the local executor and records RUNNING children per parent."""

    def __init__(self) -> None:
        self.threads: dict[str, Thread] = {}
        self.peaks: dict[str, int] = {}
        self.steps = 0

    def observe(self, result: StepResult) -> StepResult:
        self.steps += 1
        for thread in result.threads:
            self.threads[thread.id] = thread
        counts: dict[str, int] = {}
        for thread in self.threads.values():
            if thread.parent_id is not None and thread.status is ThreadStatus.RUNNING:
                counts[thread.parent_id] = counts.get(thread.parent_id, 0) + 1
        for parent, count in counts.items():
            self.peaks[parent] = max(self.peaks.get(parent, 0), count)
        return result


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch) -> RunningCounter:
    """Wrap the executor's calls to the pure core, to see every step's threads."""
    counter = RunningCounter()
    module = engine._interpreter.activation
    step, start = module.step, module.start
    monkeypatch.setattr(module, "step", lambda *a, **k: counter.observe(step(*a, **k)))
    monkeypatch.setattr(module, "start", lambda *a, **k: counter.observe(start(*a, **k)))
    return counter


# --- outputs and data flow ------------------------------------------------------------------


def test_map_outputs_follow_item_order_whatever_order_iterations_finish_in() -> None:
    # Given iterations that wait 30, 10 and 20 seconds
    machine = _map(_processor(Type="Wait", SecondsPath="$"))
    clock = FakeClock(T0)
    # When the Map runs
    result = run(machine, [30, 10, 20], clock=clock)
    # Then the output is in item order and the Map took as long as its slowest iteration
    assert result.execution.output == [30, 10, 20]
    assert clock.now() == T0.replace(second=30)


def test_map_history_has_one_started_and_succeeded_event_per_iteration() -> None:
    # Given an inline Map over two items
    # When it runs
    result = run(_map(PASS), ["a", "b"])
    # Then MapStateStarted reports the length and each iteration is bracketed by its events
    assert one(result.history, "MapStateStarted").details == {"length": 2}
    started = of_type(result.history, "MapIterationStarted")
    assert [e.details for e in started] == [{"index": 0, "name": "M"}, {"index": 1, "name": "M"}]
    assert len(of_type(result.history, "MapIterationSucceeded")) == 2
    assert types(result.history)[-3:] == [
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]


def test_items_path_and_item_selector_with_the_map_context() -> None:
    # Given ItemsPath and an ItemSelector reading $$.Map.Item and the state input
    machine = _map(
        PASS,
        ItemsPath="$.list",
        ItemSelector={"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "tag.$": "$.tag"},
        ResultPath="$.out",
    )
    # When it runs
    result = run(machine, {"list": ["x", "y"], "tag": "t"})
    # Then each iteration got its selected input and the list landed at ResultPath
    assert result.execution.output["out"] == [
        {"i": 0, "v": "x", "tag": "t"},
        {"i": 1, "v": "y", "tag": "t"},
    ]


def test_jsonata_items_item_selector_and_output() -> None:
    # Given a JSONata Map with Items, ItemSelector and Output
    machine = jsonata(
        _map(
            _processor(Type="Pass", Output="{% $states.input.v * 10 %}"),
            Items="{% $states.input.nums %}",
            ItemSelector={"v": "{% $states.context.Map.Item.Value %}"},
            Output={"total": "{% $sum($states.result) %}"},
        )
    )
    # When it runs
    # Then items were selected, transformed per iteration and summed
    assert run(machine, {"nums": [1, 2, 3]}).execution.output == {"total": 60}


def test_an_empty_map_succeeds_with_an_empty_list() -> None:
    # Given no items
    # When the Map runs
    result = run(_map(PASS), [])
    # Then it succeeds at once with []
    assert result.execution.output == []
    assert "MapIterationStarted" not in types(result.history)


def test_map_over_a_non_array_fails_with_states_runtime() -> None:
    # Given an ItemsPath selecting an object
    # When the Map runs
    result = run(_map(PASS, ItemsPath="$.obj"), {"obj": {"a": 1}})
    # Then the execution fails with States.Runtime naming what it got
    assert result.execution.error == "States.Runtime"
    assert str(result.execution.cause).endswith('Map state input must be an array but was: {"a":1}')


# --- MaxConcurrency --------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_max_concurrency_is_never_exceeded_at_any_step(running: RunningCounter, limit: int) -> None:
    # Given a Map of 7 tasks taking different fake times, with MaxConcurrency
    clock = FakeClock(T0)

    def work(event: Json, context: HandlerContext) -> Json:
        clock.advance(event)
        return event

    machine = _map(TASK, MaxConcurrency=limit)
    items = [5, 1, 4, 2, 3, 1, 2]
    # When the executor runs it, observed after every step
    result = run(machine, items, handlers=registry(f=work), clock=clock)
    # Then at no step did more than MaxConcurrency iterations run, yet the limit was reached
    assert result.execution.output == items
    assert running.peaks["root"] == limit
    assert running.steps > len(items)


def test_max_concurrency_zero_runs_every_iteration_at_once(running: RunningCounter) -> None:
    # Given MaxConcurrency 0 (no limit) over 5 Waits
    machine = _map(_processor(Type="Wait", Seconds=1), MaxConcurrency=0)
    # When it runs
    run(machine, [1, 2, 3, 4, 5])
    # Then all five were running together at some step
    assert running.peaks["root"] == 5


def test_max_concurrency_path_reads_the_limit_from_the_input(running: RunningCounter) -> None:
    # Given MaxConcurrencyPath
    machine = _map(
        _processor(Type="Wait", Seconds=1), ItemsPath="$.items", MaxConcurrencyPath="$.limit"
    )
    # When it runs with limit 2
    result = run(machine, {"items": [1, 2, 3, 4], "limit": 2})
    # Then two ran at a time
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert running.peaks["root"] == 2


def test_pending_iterations_start_as_slots_free_at_step_level() -> None:
    # Given a Map of 3 tasks with MaxConcurrency 1, observed after every step
    peaks: list[int] = []
    driver = PureDriver(_map(TASK, MaxConcurrency=1), [1, 2, 3])
    driver.observers.append(lambda d: peaks.append(d.running_children("root")))
    driver.start()
    driver.settle()
    # When each task finishes in turn
    order = []
    while driver.tasks:
        task = driver.take_task()
        order.append(task.parameters)
        driver.succeed(task, task.parameters * 10)
    # Then one ran at a time, in item order, and the result is complete
    assert max(peaks) == 1
    assert order == [1, 2, 3]
    assert driver.execution.output == [10, 20, 30]


# --- failures -------------------------------------------------------------------------------


def _failing(bad: set[int]) -> Any:
    def handler(event: Json, context: HandlerContext) -> Json:
        if event in bad:
            raise ValueError(f"item {event}")
        return event

    return handler


def test_a_failing_iteration_fails_the_map_with_its_error() -> None:
    # Given no tolerance and one failing item
    # When the Map runs
    result = run(_map(TASK), [1, 2, 3], handlers=registry(f=_failing({2})))
    # Then the execution fails with the iteration's error
    assert result.execution.error == "ValueError"
    assert "MapIterationFailed" in types(result.history)
    assert types(result.history)[-2:] == ["MapStateFailed", "ExecutionFailed"]


def test_a_failing_iteration_aborts_the_running_ones() -> None:
    # Given a Map where item 0 waits and item 1 fails at once
    processor = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Boom"}],
                "Default": "Nap",
            },
            "Boom": {"Type": "Fail", "Error": "Boom"},
            "Nap": {"Type": "Wait", "Seconds": 100, "End": True},
        },
    }
    driver = PureDriver(_map(processor), [0, 1])
    # When it runs
    driver.start()
    driver.settle()
    # Then the waiting iteration was aborted and the Map failed with the first failure
    statuses = {t.index: t.status for t in driver.children("root")}
    assert statuses == {0: ThreadStatus.ABORTED, 1: ThreadStatus.FAILED}
    assert driver.execution.error == "Boom"


@pytest.mark.parametrize(
    ("fields", "bad", "outcome"),
    [
        ({"ToleratedFailureCount": 1}, {2}, "SUCCEEDED"),
        ({"ToleratedFailureCount": 1}, {1, 2}, "FAILED"),
        ({"ToleratedFailurePercentage": 50}, {1, 2}, "SUCCEEDED"),
        ({"ToleratedFailurePercentage": 50}, {1, 2, 3}, "FAILED"),
        ({"ToleratedFailureCount": 0}, {4}, "FAILED"),
        ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 25}, {1, 2}, "FAILED"),
    ],
)
def test_tolerated_failures(fields: dict[str, Json], bad: set[int], outcome: str) -> None:
    # Given a Map of 4 tasks with a tolerance and some failing items
    machine = _map(TASK, **fields)
    # When it runs
    result = run(machine, [1, 2, 3, 4], handlers=registry(f=_failing(bad)))
    # Then it succeeds within the tolerance and fails beyond it (either threshold)
    assert result.execution.status == outcome
    if outcome == "FAILED":
        assert result.execution.error == "States.ExceedToleratedFailureThreshold"
        assert result.execution.cause == "The specified tolerated failure threshold was exceeded"


def test_tolerated_failures_appear_as_error_objects_in_the_output() -> None:
    # Given one tolerated failure
    machine = _map(TASK, ToleratedFailureCount=1)
    # When it runs
    result = run(machine, [1, 2], handlers=registry(f=_failing({2})))
    # Then the failed item's slot holds its Error and Cause
    first, second = result.execution.output
    assert first == 1
    assert second["Error"] == "ValueError"
    assert '"errorMessage": "item 2"' in second["Cause"]


def test_tolerated_failures_with_max_concurrency_still_run_every_item(
    running: RunningCounter,
) -> None:
    # Given MaxConcurrency 1 and a tolerance of 2 failures
    machine = _map(TASK, MaxConcurrency=1, ToleratedFailureCount=2)
    # When two of four items fail
    result = run(machine, [1, 2, 3, 4], handlers=registry(f=_failing({1, 3})))
    # Then every item ran, one at a time
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert [isinstance(x, dict) for x in result.execution.output] == [True, False, True, False]
    assert running.peaks["root"] == 1


def test_a_caught_map_failure_goes_to_the_catcher() -> None:
    # Given a Map with a Catch
    machine = _map(TASK, Catch=[{"ErrorEquals": ["ValueError"], "Next": "Caught"}])
    # When an item fails
    result = run(machine, [1], handlers=registry(f=_failing({1})))
    # Then the catcher's path was taken
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output["Error"] == "ValueError"


# --- Distributed mode -------------------------------------------------------------------------


def _distributed(processor_states: dict[str, Json], **fields: Json) -> dict[str, Json]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": next(iter(processor_states)),
        "States": processor_states,
    }
    return _map(processor, **fields)


def test_a_distributed_map_records_map_run_events_and_keeps_iterations_silent() -> None:
    # Given a Distributed Map over three items
    machine = _distributed({"X": {"Type": "Pass", "End": True}})
    # When it runs
    result = run(machine, [1, 2, 3])
    # Then the parent history has MapRun events and nothing of the child executions
    assert types(result.history) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    arn = one(result.history, "MapRunStarted").details["mapRunArn"]
    assert arn.startswith("arn:aws:states:us-east-1:111111111111:mapRun:m/M:")
    assert result.execution.output == [1, 2, 3]


def test_a_failing_distributed_map_records_map_run_failed() -> None:
    # Given a Distributed Map whose iterations fail
    machine = _distributed({"X": {"Type": "Fail", "Error": "E"}})
    # When it runs
    result = run(machine, [1])
    # Then MapRunFailed precedes MapStateFailed and the execution fails
    assert types(result.history)[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    assert result.execution.error == "E"


# --- nesting ----------------------------------------------------------------------------------


def test_nested_map_in_parallel_in_map() -> None:
    # Given Map → Parallel → Map, each level transforming its input
    inner_map = {
        "Type": "Map",
        "ItemsPath": "$.xs",
        "ItemProcessor": {
            "StartAt": "Leaf",
            "States": {"Leaf": {"Type": "Pass", "Parameters": {"leaf.$": "$"}, "End": True}},
        },
        "End": True,
    }
    parallel = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Inner", "States": {"Inner": inner_map}},
            {
                "StartAt": "Side",
                "States": {"Side": {"Type": "Pass", "OutputPath": "$.name", "End": True}},
            },
        ],
        "End": True,
    }
    machine = _map({"StartAt": "Par", "States": {"Par": parallel}})
    items = [{"name": "a", "xs": [1, 2]}, {"name": "b", "xs": []}]
    # When it runs
    result = run(machine, items)
    # Then every level kept its order and shape
    assert result.execution.output == [
        [[{"leaf": 1}, {"leaf": 2}], "a"],
        [[], "b"],
    ]
    assert len(of_type(result.history, "MapStateEntered")) == 3
    assert len(of_type(result.history, "ParallelStateEntered")) == 2


def test_a_failure_deep_inside_nesting_reaches_the_top() -> None:
    # Given Map → Parallel → Fail
    parallel = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Deep", "Cause": "c"}}}
        ],
        "End": True,
    }
    machine = _map({"StartAt": "Par", "States": {"Par": parallel}})
    # When it runs
    result = run(machine, [1])
    # Then the execution fails with the innermost error and cause
    assert (result.execution.error, result.execution.cause) == ("Deep", "c")


def test_every_started_iteration_ends_with_one_iteration_event() -> None:
    # Given a caught Map where item 1 fails while item 0 is between two states
    processor = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Boom"}],
                "Default": "Step",
            },
            "Boom": {"Type": "Fail", "Error": "Boom"},
            "Step": {"Type": "Pass", "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 100, "End": True},
        },
    }
    machine = _map(processor, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}])
    # When it runs
    result = run(machine, [0, 1])
    # Then each MapIterationStarted is closed by exactly one Succeeded/Failed/Aborted
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    ends = [
        e.details["index"]
        for e in result.history
        if e.type in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted")
    ]
    assert sorted(ends) == [0, 1]


@pytest.mark.parametrize(
    "machine",
    [
        _map(PASS, ItemsPath="$.items", MaxConcurrencyPath="$.limit"),
        jsonata(
            _map(
                PASS, Items="{% $states.input.items %}", MaxConcurrency="{% $states.input.limit %}"
            )
        ),
    ],
    ids=["path", "jsonata"],
)
def test_a_negative_max_concurrency_fails_the_map(machine: dict[str, Json]) -> None:
    # Given a Map whose MaxConcurrency evaluates to -1
    # When it runs
    result = run(machine, {"items": [1, 2], "limit": -1})
    # Then the execution fails instead of waiting for ever
    assert result.execution.status is ExecutionStatus.FAILED


def test_two_maps_in_a_row_inside_a_distributed_iteration_keep_their_own_results() -> None:
    # Given a Distributed Map whose iterations run an inline Map over $.a, then one over $.b
    processor_states = {
        "A": {
            "Type": "Map",
            "ItemsPath": "$.a",
            "ResultPath": "$.ra",
            "Next": "B",
            "ItemProcessor": {"StartAt": "PA", "States": {"PA": {"Type": "Pass", "End": True}}},
        },
        "B": {
            "Type": "Map",
            "ItemsPath": "$.b",
            "ResultPath": "$.rb",
            "End": True,
            "ItemProcessor": {"StartAt": "PB", "States": {"PB": {"Type": "Pass", "End": True}}},
        },
    }
    machine = _distributed(processor_states)
    # When it runs over one item with three a's and one b
    result = run(machine, [{"a": [1, 2, 3], "b": ["x"]}])
    # Then each inner Map returned exactly its own items
    (only,) = result.execution.output
    assert (only["ra"], only["rb"]) == ([1, 2, 3], ["x"])
