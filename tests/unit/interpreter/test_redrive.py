"""Redrive: the pure transition of a finished execution back into a running one.

Each test runs an execution to its unsuccessful end with `PureDriver`, redrives it with
:func:`engine._interpreter.redrive.redrive`, and drives the redriven execution on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from engine._interpreter.activation import ThreadTable
from engine._interpreter.decisions import RecordChildExecution, RecordMapRun, RunTask, ScheduleStep
from engine._interpreter.events import AbortRequested, TimerKind
from engine._interpreter.redrive import NotRedrivable, redrive
from engine._interpreter.snapshot import ROOT_THREAD_ID, ExecutionStatus, ThreadStatus
from tests.shapes import assert_fits
from tests.unit.interpreter.support import PureDriver, lambda_arn, of_type, one, types

Json = Any
RETRY_ONCE = [{"ErrorEquals": ["Boom"], "MaxAttempts": 1, "IntervalSeconds": 1}]


def _task(name: str, **fields: Json) -> dict[str, Json]:
    return {"Type": "Task", "Resource": lambda_arn(name), **fields}


def _redrive(driver: PureDriver) -> list[ScheduleStep]:
    """Redrive the driver's execution and apply it; returns the steps it scheduled."""
    activation = redrive(driver.machine, driver.execution, ThreadTable(driver.threads), driver.now)
    driver.apply(activation.as_step_result())
    return [e for e in activation.effects if isinstance(e, ScheduleStep)]


def _fail_task(driver: PureDriver, error: str = "Boom") -> RunTask:
    driver.settle()
    task = driver.take_task()
    driver.fail(task, error)
    driver.settle()
    return task


def _succeed_task(driver: PureDriver, output: Json) -> RunTask:
    driver.settle()
    task = driver.take_task()
    driver.succeed(task, output)
    return task


def _task_machine() -> dict[str, Json]:
    return {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"ready": True}, "Next": "Charge"},
            "Charge": _task("charge", Retry=RETRY_ONCE, End=True),
        },
    }


def _failed_task_execution() -> PureDriver:
    """The Task failed its attempt and its one retry: the execution FAILED."""
    driver = PureDriver(_task_machine())
    driver.start()
    _fail_task(driver)
    driver.fire(driver.take_timer())
    _fail_task(driver)
    assert driver.execution.status is ExecutionStatus.FAILED
    return driver


def test_given_a_failed_task_when_redriven_then_only_the_task_reenters_with_its_input() -> None:
    driver = _failed_task_execution()
    last_id = driver.history[-1].id

    steps = _redrive(driver)

    assert driver.execution.status is ExecutionStatus.RUNNING
    assert driver.execution.redrive_count == 1
    assert (driver.execution.error, driver.execution.cause) == (None, None)
    redriven = one(driver.history, "ExecutionRedriven")
    assert (redriven.id, redriven.previous_event_id) == (last_id + 1, last_id)
    assert redriven.details == {"redriveCount": 1}
    assert [(s.thread_id, s.state_name) for s in steps] == [(ROOT_THREAD_ID, "Charge")]
    assert driver.root.input == {"ready": True}
    driver.settle()
    entered = of_type(driver.history, "TaskStateEntered")[-1]
    assert entered.previous_event_id == redriven.id


def test_given_a_redriven_task_when_it_succeeds_then_states_before_it_are_not_rerun() -> None:
    driver = _failed_task_execution()
    _redrive(driver)

    _succeed_task(driver, {"charged": 1})

    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    assert driver.execution.output == {"charged": 1}
    assert types(driver.history).count("PassStateEntered") == 1
    assert types(driver.history).count("TaskStateEntered") == 2
    assert types(driver.history)[-1] == "ExecutionSucceeded"


def test_given_an_exhausted_retrier_when_redriven_then_its_attempts_start_again() -> None:
    driver = _failed_task_execution()
    _redrive(driver)

    _fail_task(driver)  # the retrier had no attempt left before the redrive

    assert driver.root.retry_counts == (1,)
    assert driver.execution.status is ExecutionStatus.RUNNING
    driver.fire(driver.take_timer())
    _succeed_task(driver, "ok")
    assert driver.execution.status is ExecutionStatus.SUCCEEDED


def test_given_a_succeeded_or_running_execution_when_redriven_then_it_is_refused() -> None:
    driver = PureDriver(_task_machine())
    driver.start()
    driver.settle()

    with pytest.raises(NotRedrivable, match="expected status FAILED, TIMED_OUT or ABORTED"):
        redrive(driver.machine, driver.execution, ThreadTable(driver.threads), driver.now)


def test_given_an_aborted_execution_when_redriven_then_its_task_runs_again() -> None:
    driver = PureDriver(_task_machine())
    driver.start()
    driver.settle()
    driver.take_task()
    driver.deliver(AbortRequested(ROOT_THREAD_ID, "Stop", "by hand"))
    driver.settle()
    assert driver.execution.status is ExecutionStatus.ABORTED

    _redrive(driver)
    _succeed_task(driver, "done")

    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    assert types(driver.history).count("ExecutionRedriven") == 1


# --- Parallel ----------------------------------------------------------------------------


def _parallel_machine() -> dict[str, Json]:
    branch_a = {"StartAt": "A", "States": {"A": _task("a", End=True)}}
    branch_b = {"StartAt": "B", "States": {"B": _task("b", End=True)}}
    return {
        "StartAt": "Par",
        "States": {"Par": {"Type": "Parallel", "Branches": [branch_a, branch_b], "End": True}},
    }


def test_given_a_failed_parallel_branch_when_redriven_then_only_that_branch_reruns() -> None:
    driver = PureDriver(_parallel_machine())
    driver.start()
    driver.settle()
    first, second = driver.take_task(), driver.take_task()
    by_resource = {first.resource: first, second.resource: second}
    driver.succeed(by_resource[lambda_arn("a")], "from a")
    driver.fail(by_resource[lambda_arn("b")], "Boom")
    driver.settle()
    assert driver.execution.status is ExecutionStatus.FAILED

    steps = _redrive(driver)

    assert [s.state_name for s in steps] == ["B"]
    driver.settle()
    rerun = driver.take_task()
    assert rerun.resource == lambda_arn("b")
    assert driver.tasks == []
    driver.succeed(rerun, "from b")
    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    assert driver.execution.output == ["from a", "from b"]
    assert types(driver.history).count("ParallelStateEntered") == 1


def test_given_a_parallel_that_failed_after_its_join_when_redriven_then_it_joins_again() -> None:
    machine = _parallel_machine()
    machine["States"]["Par"]["ResultSelector"] = {"first.$": "$[0].missing"}
    driver = PureDriver(machine)
    driver.start()
    driver.settle()
    driver.succeed(driver.take_task(), {"x": 1})
    driver.succeed(driver.take_task(), {"x": 2})
    assert driver.execution.status is ExecutionStatus.FAILED

    steps = _redrive(driver)

    assert steps == []  # no branch runs again: the kept results are joined at once
    assert driver.tasks == []
    assert driver.execution.status is ExecutionStatus.FAILED  # the same ResultSelector fails
    assert types(driver.history).count("ParallelStateSucceeded") == 2


# --- Map ---------------------------------------------------------------------------------


def _map_machine(max_concurrency: int) -> dict[str, Json]:
    processor = {"StartAt": "Work", "States": {"Work": _task("work", End=True)}}
    state = {
        "Type": "Map",
        "ItemProcessor": processor,
        "MaxConcurrency": max_concurrency,
        "End": True,
    }
    return {"StartAt": "Each", "States": {"Each": state}}


def test_given_a_failed_map_iteration_when_redriven_then_failed_and_unstarted_ones_run() -> None:
    driver = PureDriver(_map_machine(max_concurrency=1), execution_input=[10, 11, 12])
    driver.start()
    _succeed_task(driver, "r10")
    _fail_task(driver)
    assert driver.execution.status is ExecutionStatus.FAILED
    assert driver.tasks == []  # item 12 never started

    steps = _redrive(driver)

    assert len(steps) == 1
    rerun = _succeed_task(driver, "r11")
    assert rerun.parameters == 11
    last = _succeed_task(driver, "r12")
    assert last.parameters == 12
    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    assert driver.execution.output == ["r10", "r11", "r12"]
    assert types(driver.history).count("MapIterationStarted") == 4


def test_given_a_map_redrive_then_succeeded_iterations_keep_their_threads() -> None:
    driver = PureDriver(_map_machine(max_concurrency=0), execution_input=[1, 2])
    driver.start()
    driver.settle()
    first, second = driver.take_task(), driver.take_task()
    driver.succeed(first, "one")
    driver.fail(second, "Boom")
    driver.settle()
    kept = {t.id: t for t in driver.threads.values() if t.status is ThreadStatus.SUCCEEDED}

    _redrive(driver)

    assert all(driver.threads[thread_id] == thread for thread_id, thread in kept.items())
    _succeed_task(driver, "two")
    assert driver.execution.output == ["one", "two"]


def test_given_a_timed_out_execution_when_redriven_then_its_timeout_runs_again() -> None:
    machine = {**_task_machine(), "TimeoutSeconds": 10}
    driver = PureDriver(machine)
    driver.start()
    driver.settle()
    driver.take_task()
    driver.fire(driver.take_timer())  # the execution's TimeoutSeconds
    assert driver.execution.status is ExecutionStatus.TIMED_OUT
    driver.now = driver.now + timedelta(hours=1)

    _redrive(driver)

    timeout = driver.take_timer()
    assert timeout.kind is TimerKind.EXECUTION_TIMEOUT
    assert timeout.due == driver.now + timedelta(seconds=10)
    _succeed_task(driver, "in time")
    assert driver.execution.status is ExecutionStatus.SUCCEEDED


def test_given_a_redriven_execution_then_the_context_object_counts_the_redrive() -> None:
    machine = _task_machine()
    machine["States"]["Charge"]["Parameters"] = {"redrives.$": "$$.Execution.RedriveCount"}
    driver = PureDriver(machine)
    driver.start()
    first = _fail_task(driver)
    driver.fire(driver.take_timer())
    _fail_task(driver)

    _redrive(driver)
    driver.settle()

    assert first.parameters == {"redrives": 0}
    assert driver.take_task().parameters == {"redrives": 1}


def test_given_a_failed_branch_of_a_nested_parallel_when_redriven_then_only_it_reruns() -> None:
    inner = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "A", "States": {"A": _task("a", End=True)}},
            {"StartAt": "B", "States": {"B": _task("b", End=True)}},
        ],
        "End": True,
    }
    outer = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Inner", "States": {"Inner": inner}},
            {"StartAt": "C", "States": {"C": _task("c", End=True)}},
        ],
        "End": True,
    }
    driver = PureDriver({"StartAt": "Outer", "States": {"Outer": outer}})
    driver.start()
    driver.settle()
    tasks = {task.resource: task for task in (driver.take_task() for _ in range(3))}
    driver.succeed(tasks[lambda_arn("a")], "a")
    driver.succeed(tasks[lambda_arn("c")], "c")
    driver.fail(tasks[lambda_arn("b")], "Boom")
    driver.settle()
    assert driver.execution.status is ExecutionStatus.FAILED

    steps = _redrive(driver)

    assert [s.state_name for s in steps] == ["B"]
    _succeed_task(driver, "b")
    assert driver.execution.output == [["a", "b"], "c"]


def test_given_a_distributed_map_when_redriven_then_map_run_redriven_has_botocore_shape() -> None:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work",
        "States": {"Work": _task("work", End=True)},
    }
    each = {"Type": "Map", "ItemProcessor": processor, "End": True}
    driver = PureDriver({"StartAt": "Each", "States": {"Each": each}}, execution_input=[1, 2])
    driver.start()
    driver.settle()
    first, second = driver.take_task(), driver.take_task()
    driver.succeed(first, "one")
    driver.fail(second, "Boom")
    driver.settle()

    _redrive(driver)
    _succeed_task(driver, "two")

    assert driver.execution.output == ["one", "two"]
    map_run = one(driver.history, "MapRunRedriven").to_aws()
    assert map_run["mapRunRedrivenEventDetails"]["redriveCount"] == 1
    for event in (map_run, one(driver.history, "ExecutionRedriven").to_aws()):
        _assert_history_shape(event)


def test_given_a_distributed_map_when_redriven_then_only_its_failed_child_is_redriven() -> None:
    # Given a Distributed Map whose second child failed (the first succeeded)
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Work",
        "States": {"Work": _task("work", End=True)},
    }
    each = {"Type": "Map", "ItemProcessor": processor, "End": True}
    driver = PureDriver({"StartAt": "Each", "States": {"Each": each}}, execution_input=[1, 2])
    driver.start()
    driver.settle()
    first, second = driver.take_task(), driver.take_task()
    driver.succeed(first, "one")
    driver.fail(second, "Boom")
    driver.settle()
    recorded = len(driver.decisions)
    # When the execution is redriven and the child then succeeds
    _redrive(driver)
    _succeed_task(driver, "two")
    # Then the failed child alone runs again as a redriven child execution, and succeeds;
    # the Map Run reads RUNNING again from the redrive on
    after = driver.decisions[recorded:]
    children = [d for d in after if isinstance(d, RecordChildExecution)]
    assert [(c.index, c.status, c.redriven) for c in children] == [
        (1, "RUNNING", True),
        (1, "SUCCEEDED", False),
    ]
    assert children[0].input == 2
    assert children[1].output == "two"
    runs = [d.status for d in after if isinstance(d, RecordMapRun)]
    assert runs[0] == "RUNNING"
    assert runs[-1] == "SUCCEEDED"


def _assert_history_shape(event: dict[str, Json]) -> None:
    event = {
        **event,
        "timestamp": datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")),
    }
    assert_fits("HistoryEvent", event)
