"""Stale and duplicate events are no-ops at step level: the base of exactly-once delivery.

Every message the shell delivers carries the thread's ``seq`` at the time it was
decided; a message delivered twice, or late, finds the ``seq`` moved on and the step
returns an unchanged result.
"""

from __future__ import annotations

from typing import Any

from engine._interpreter.events import (
    AbortRequested,
    BranchEnded,
    BranchesJoined,
    Event,
    StepDue,
    TaskFailed,
    TaskStarted,
    TaskSucceeded,
    ThreadActivated,
    TimerFired,
    TimerKind,
)
from engine._interpreter.snapshot import ExecutionStatus
from engine._interpreter.step import ALWAYS
from tests.unit.interpreter.support import PureDriver, lambda_arn

Json = Any

TASK_THEN_PASS = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": lambda_arn("f"),
            "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2}],
            "Next": "P",
        },
        "P": {"Type": "Wait", "Seconds": 5, "End": True},
    },
}


def _assert_no_op(driver: PureDriver, event: Event) -> None:
    """Delivering ``event`` changes neither history, threads nor decisions."""
    history, threads = list(driver.history), dict(driver.threads)
    result = driver.deliver(event)
    assert not result.changed, result
    assert result.execution == driver.execution
    assert driver.history == history
    assert driver.threads == threads


def _at_task() -> PureDriver:
    driver = PureDriver(TASK_THEN_PASS, {"n": 1})
    driver.start()
    driver.settle()
    return driver


def test_the_same_step_delivered_twice_enters_the_state_once() -> None:
    # Given a thread whose step was delivered
    driver = PureDriver(TASK_THEN_PASS, {})
    driver.start()
    due = driver.inbox.popleft()
    driver.deliver(due)
    # When the same step arrives again
    # Then nothing happens: one TaskStateEntered, one RunTask
    _assert_no_op(driver, due)
    assert driver.types().count("TaskStateEntered") == 1
    assert len(driver.tasks) == 1


def test_a_step_with_an_older_seq_is_ignored() -> None:
    # Given a thread that moved past its first step
    driver = _at_task()
    # When a step with an older seq arrives
    # Then it is ignored
    _assert_no_op(driver, StepDue("root", driver.root.seq - 1))


def test_a_step_for_the_current_seq_in_the_wrong_phase_is_ignored() -> None:
    # Given a thread waiting for its task
    driver = _at_task()
    # When a step arrives with the current seq
    # Then it is ignored (only a thread in phase ENTER enters a state)
    _assert_no_op(driver, StepDue("root", driver.root.seq))


def test_a_task_result_delivered_twice_is_applied_once() -> None:
    # Given a task whose result was applied
    driver = _at_task()
    task = driver.take_task()
    driver.succeed(task, {"r": 1})
    assert driver.root.state == "P"
    # When the same result arrives again
    # Then nothing changes
    _assert_no_op(driver, TaskSucceeded(task.thread_id, task.seq, {"r": 1}))
    _assert_no_op(driver, TaskSucceeded(task.thread_id, task.seq, {"r": "other"}))


def test_a_task_failure_delivered_twice_uses_one_retry() -> None:
    # Given a task failure that started a retry
    driver = _at_task()
    task = driver.take_task()
    driver.fail(task, "E", "c")
    counts = driver.root.retry_counts
    # When the same failure arrives again
    # Then no second retry is counted or scheduled
    _assert_no_op(driver, TaskFailed(task.thread_id, task.seq, "E", "c"))
    assert driver.root.retry_counts == counts == (1,)
    assert len(driver.timers) == 1


def test_a_result_for_an_earlier_attempt_is_ignored() -> None:
    # Given a task retried once (its second attempt now runs)
    driver = _at_task()
    first = driver.take_task()
    driver.fail(first, "E")
    driver.fire(driver.take_timer())
    second = driver.take_task()
    assert second.seq > first.seq
    # When the first attempt's result arrives late
    # Then it is ignored, and the second attempt's result still counts
    _assert_no_op(driver, TaskSucceeded(first.thread_id, first.seq, "late"))
    driver.succeed(second, "fresh")
    assert driver.root.input == "fresh"


def test_a_retry_timer_fired_twice_schedules_one_attempt() -> None:
    # Given a retry timer that fired
    driver = _at_task()
    driver.fail(driver.take_task(), "E")
    timer = driver.take_timer()
    driver.fire(timer)
    # When it fires again
    # Then no second attempt is scheduled
    _assert_no_op(driver, TimerFired(timer.thread_id, timer.seq, TimerKind.RETRY))
    assert len(driver.tasks) == 1


def test_a_timer_of_the_wrong_kind_is_ignored() -> None:
    # Given a thread waiting for its task (no Wait timer pending)
    driver = _at_task()
    # When a WAIT timer with the current seq arrives
    # Then it is ignored
    _assert_no_op(driver, TimerFired("root", driver.root.seq, TimerKind.WAIT))
    _assert_no_op(driver, TimerFired("root", driver.root.seq, TimerKind.RETRY))


def test_events_for_an_ended_thread_are_ignored() -> None:
    # Given an execution that succeeded
    driver = _at_task()
    driver.succeed(driver.take_task(), {})
    driver.fire(driver.take_timer())
    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    root = driver.root
    # When any event arrives for its root thread
    # Then it is ignored
    for event in (
        StepDue("root", root.seq),
        TaskSucceeded("root", root.seq, {}),
        TaskFailed("root", root.seq, "E", None),
        TimerFired("root", root.seq, TimerKind.WAIT),
        TimerFired("root", ALWAYS, TimerKind.EXECUTION_TIMEOUT),
        AbortRequested("root"),
        ThreadActivated("root"),
    ):
        _assert_no_op(driver, event)


def test_the_execution_timeout_fires_once() -> None:
    # Given an execution that timed out
    driver = PureDriver({"TimeoutSeconds": 1, **TASK_THEN_PASS}, {})
    driver.start()
    driver.settle()
    timeout = next(t for t in driver.timers if t.kind is TimerKind.EXECUTION_TIMEOUT)
    driver.fire(timeout)
    assert driver.execution.status is ExecutionStatus.TIMED_OUT
    # When the timeout fires again
    # Then nothing changes
    _assert_no_op(driver, TimerFired("root", ALWAYS, TimerKind.EXECUTION_TIMEOUT))


def test_an_abort_delivered_twice_aborts_once() -> None:
    # Given an execution stopped while its task ran
    driver = _at_task()
    driver.deliver(AbortRequested("root", "Stop", "by user"))
    assert driver.execution.status is ExecutionStatus.ABORTED
    # When the stop arrives again
    # Then nothing changes: one TaskStateAborted, one ExecutionAborted
    _assert_no_op(driver, AbortRequested("root", "Stop", "by user"))
    assert driver.types()[-2:] == ["TaskStateAborted", "ExecutionAborted"]


PARALLEL = {
    "StartAt": "Par",
    "States": {
        "Par": {
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "B",
                    "States": {"B": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}},
                },
            ],
        }
    },
}


def _collect_branch_ends(driver: PureDriver) -> list[BranchEnded]:
    """Settle the driver, keeping a copy of every BranchEnded it delivered."""
    seen = []
    while driver.inbox:
        event = driver.inbox.popleft()
        if isinstance(event, BranchEnded):
            seen.append(event)
        driver.deliver(event)
    return seen


def test_a_join_delivered_twice_exits_the_parallel_once() -> None:
    # Given a Parallel whose branches all ended and whose join was applied
    driver = PureDriver(PARALLEL, {})
    driver.start()
    driver.settle()
    driver.succeed(driver.take_task(), "b")
    joins = [e for e in driver.decisions if type(e).__name__ == "JoinBranches"]
    assert driver.execution.output == [{}, "b"]
    # When the join arrives again
    # Then nothing changes
    _assert_no_op(driver, BranchesJoined("root", joins[0].seq, ({}, "b")))


def test_an_activation_delivered_twice_starts_the_iteration_once() -> None:
    # Given a Map with MaxConcurrency 1 whose second iteration was activated
    machine = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}},
                },
                "End": True,
            }
        },
    }
    driver = PureDriver(machine, [1, 2])
    driver.start()
    driver.settle()
    driver.succeed(driver.take_task(), 1)
    second = driver.tasks[0].thread_id
    # When its activation arrives again
    # Then nothing changes
    _assert_no_op(driver, ThreadActivated(second, 0))


def test_a_task_started_delivered_twice_records_one_started_event() -> None:
    # Given a task that was reported started
    driver = _at_task()
    task = driver.take_task()
    driver.deliver(TaskStarted(task.thread_id, task.seq))
    # When the same report arrives again
    # Then nothing changes
    _assert_no_op(driver, TaskStarted(task.thread_id, task.seq))


def test_a_branch_end_delivered_twice_is_counted_once() -> None:
    # Given a Parallel whose first branch ended while the second still runs
    driver = PureDriver(PARALLEL, {})
    driver.start()
    (ended,) = _collect_branch_ends(driver)
    # When that branch's end arrives again
    # Then nothing changes (in particular no join is decided)
    _assert_no_op(driver, ended)
