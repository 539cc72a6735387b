"""Stopping an execution and the execution-wide TimeoutSeconds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine._clock import FakeClock
from engine._interpreter.decisions import AbortChildren, CancelTask, FinishExecution, StartTimer
from engine._interpreter.events import AbortRequested, TimerKind
from engine._interpreter.snapshot import ExecutionStatus, ThreadStatus
from engine._interpreter.step import ALWAYS
from tests.unit.interpreter.support import T0, PureDriver, lambda_arn, one, run, types

Json = Any

WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
TASK = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}}}
MAP = {
    "StartAt": "M",
    "States": {
        "M": {
            "Type": "Map",
            "End": True,
            "ItemProcessor": {
                "StartAt": "Nap",
                "States": {"Nap": {"Type": "Wait", "Seconds": 10, "End": True}},
            },
        }
    },
}


def _started(definition: dict[str, Json], payload: Json = None) -> PureDriver:
    driver = PureDriver(definition, {} if payload is None else payload)
    driver.start()
    driver.settle()
    return driver


def test_aborting_a_waiting_execution_records_state_and_execution_aborted() -> None:
    # Given an execution parked in a Wait
    driver = _started(WAIT)
    # When it is stopped with an error and cause
    result = driver.deliver(AbortRequested("root", "Stopped", "by the operator"))
    # Then the Wait and the execution are aborted, with the error and cause recorded
    assert driver.types()[-2:] == ["WaitStateAborted", "ExecutionAborted"]
    assert one(driver.history, "ExecutionAborted").details == {
        "error": "Stopped",
        "cause": "by the operator",
    }
    assert driver.execution.status is ExecutionStatus.ABORTED
    assert FinishExecution(ExecutionStatus.ABORTED) in result.decisions


def test_aborting_without_error_or_cause_records_empty_details() -> None:
    # Given a waiting execution
    driver = _started(WAIT)
    # When it is stopped with neither error nor cause
    driver.deliver(AbortRequested("root"))
    # Then ExecutionAborted has no details
    assert one(driver.history, "ExecutionAborted").details == {}


def test_aborting_a_running_task_cancels_it() -> None:
    # Given an execution whose task runs
    driver = _started(TASK)
    task = driver.take_task()
    # When it is stopped
    result = driver.deliver(AbortRequested("root"))
    # Then the task is cancelled and TaskStateAborted recorded
    assert CancelTask("root", task.seq) in result.decisions
    assert driver.types()[-2:] == ["TaskStateAborted", "ExecutionAborted"]


def test_aborting_before_the_first_state_is_entered_records_no_state_event() -> None:
    # Given an execution whose first step was not delivered yet
    driver = PureDriver(WAIT, {})
    driver.start()
    # When it is stopped
    driver.deliver(AbortRequested("root"))
    # Then only ExecutionAborted follows ExecutionStarted
    assert driver.types() == ["ExecutionStarted", "ExecutionAborted"]


def test_aborting_a_map_aborts_every_iteration() -> None:
    # Given a Map whose two iterations wait
    driver = _started(MAP, [1, 2])
    # When the execution is stopped
    result = driver.deliver(AbortRequested("root"))
    driver.settle()
    # Then the children are told to abort and all end ABORTED, the Map too
    assert AbortChildren("root") in result.decisions
    assert {t.status for t in driver.threads.values()} == {ThreadStatus.ABORTED}
    assert driver.types()[-2:] == ["MapStateAborted", "ExecutionAborted"]


def test_an_aborted_iteration_records_map_iteration_aborted() -> None:
    # Given a running Map iteration, aborted on its own (as when a sibling fails)
    driver = _started(MAP, [1])
    (child,) = driver.children("root")
    # When its abort arrives
    driver.deliver(AbortRequested(child.id))
    # Then it records its state's and its iteration's abort
    assert driver.types()[-2:] == ["WaitStateAborted", "MapIterationAborted"]
    assert one(driver.history, "MapIterationAborted").details == {"index": 0, "name": "M"}
    assert driver.threads[child.id].status is ThreadStatus.ABORTED


# --- execution timeout ----------------------------------------------------------------------


def test_timeout_seconds_starts_an_execution_timer_that_no_state_change_invalidates() -> None:
    # Given a machine with TimeoutSeconds 30
    driver = PureDriver({"TimeoutSeconds": 30, **WAIT}, {})
    # When it starts
    result = driver.start()
    # Then an EXECUTION_TIMEOUT timer is due 30 s later, with the ALWAYS seq
    assert (
        StartTimer("root", ALWAYS, TimerKind.EXECUTION_TIMEOUT, T0 + timedelta(seconds=30))
        in result.decisions
    )


def test_an_execution_past_its_timeout_ends_timed_out() -> None:
    # Given a 60 s Wait in a machine limited to 5 s
    clock = FakeClock(T0)
    # When it runs
    result = run({"TimeoutSeconds": 5, **WAIT}, {}, clock=clock)
    # Then it ends TIMED_OUT at 5 s with States.Timeout
    assert result.execution.status is ExecutionStatus.TIMED_OUT
    assert result.execution.error == "States.Timeout"
    assert types(result.history) == ["ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"]
    assert one(result.history, "ExecutionTimedOut").details == {"error": "States.Timeout"}
    assert clock.now() == T0 + timedelta(seconds=5)


def test_an_execution_within_its_timeout_succeeds() -> None:
    # Given a 60 s Wait in a machine limited to 61 s
    # When it runs
    result = run({"TimeoutSeconds": 61, **WAIT}, {})
    # Then it succeeds
    assert result.execution.status is ExecutionStatus.SUCCEEDED


def test_a_timed_out_map_aborts_its_iterations_silently() -> None:
    # Given a Map of waits in a machine limited to 5 s
    driver = _started({"TimeoutSeconds": 5, **MAP}, [1, 2])
    timeout = next(t for t in driver.timers if t.kind is TimerKind.EXECUTION_TIMEOUT)
    # When the execution timer fires
    driver.fire(timeout)
    # Then every thread is aborted and the history ends with ExecutionTimedOut
    assert {t.status for t in driver.threads.values()} == {ThreadStatus.ABORTED}
    assert driver.types()[-1] == "ExecutionTimedOut"
    # And the iterations' own Wait timers, firing later, change nothing
    for timer in [t for t in driver.timers if t.kind is TimerKind.WAIT]:
        assert not driver.fire(timer).changed
