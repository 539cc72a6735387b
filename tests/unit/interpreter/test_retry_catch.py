"""Retry and Catch: backoff delays, jitter, counters, error matching, catcher data flow."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine._asl.model import JitterStrategy, Retrier
from engine._errors import ErrorName
from engine._interpreter.events import TimerKind
from engine._interpreter.retry import backoff_seconds, error_matches
from engine._interpreter.snapshot import ExecutionStatus, Phase
from engine._resources import HandlerContext
from tests.unit.interpreter.support import (
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


def _task(
    retry: list[Json] | None = None, catch: list[Json] | None = None, **fields: Json
) -> dict[str, Json]:
    task: dict[str, Json] = {"Type": "Task", "Resource": lambda_arn("f"), **fields}
    if retry is not None:
        task["Retry"] = retry
    if catch is not None:
        task["Catch"] = catch
    task.setdefault("End", True)
    states: dict[str, Json] = {"T": task}
    if catch:
        states["Caught"] = {"Type": "Pass", "End": True}
    return {"StartAt": "T", "States": states}


def _retry_delays(driver: PureDriver, errors: list[str]) -> list[float]:
    """Fail the task once per error name; the seconds of every retry timer started."""
    driver.start()
    driver.settle()
    delays = []
    for error in errors:
        task = driver.take_task()
        driver.fail(task, error, "cause")
        if not driver.timers:
            break
        timer = driver.take_timer()
        assert timer.kind is TimerKind.RETRY
        delays.append((timer.due - driver.now).total_seconds())
        driver.fire(timer)
    return delays


# --- backoff ----------------------------------------------------------------------------------


def test_backoff_multiplies_the_interval_and_is_capped_by_max_delay() -> None:
    # Given IntervalSeconds 2, BackoffRate 3, MaxDelaySeconds 10 and four attempts
    retry = [
        {
            "ErrorEquals": ["E"],
            "IntervalSeconds": 2,
            "BackoffRate": 3,
            "MaxAttempts": 4,
            "MaxDelaySeconds": 10,
        }
    ]
    driver = PureDriver(_task(retry))
    # When the task fails five times
    delays = _retry_delays(driver, ["E"] * 5)
    # Then the delays are 2, 6, then capped at 10, and the fifth failure ends the execution
    assert delays == [2.0, 6.0, 10.0, 10.0]
    assert driver.execution.status is ExecutionStatus.FAILED
    assert driver.execution.error == "E"


def test_default_retrier_waits_1_2_4_seconds_for_three_attempts() -> None:
    # Given a retrier with only ErrorEquals
    driver = PureDriver(_task([{"ErrorEquals": ["States.ALL"]}]))
    # When the task keeps failing
    delays = _retry_delays(driver, ["E"] * 4)
    # Then AWS's defaults apply: interval 1, rate 2, 3 attempts
    assert delays == [1.0, 2.0, 4.0]


def test_a_retry_waits_in_phase_retry_and_reschedules_the_same_input() -> None:
    # Given a failing task with a retrier
    seen: list[Json] = []
    driver = PureDriver(
        _task([{"ErrorEquals": ["E"]}], Parameters={"n.$": "$.n", "try.$": "$$.State.RetryCount"}),
        {"n": 1},
    )
    driver.start()
    driver.settle()
    first = driver.take_task()
    seen.append(first.parameters)
    # When it fails and the retry timer fires
    driver.fail(first, "E")
    assert driver.root.phase is Phase.RETRY
    driver.fire(driver.take_timer())
    second = driver.take_task()
    seen.append(second.parameters)
    # Then the second attempt has the same input, a higher RetryCount and attempt number
    assert seen == [{"n": 1, "try": 0}, {"n": 1, "try": 1}]
    assert (first.attempt, second.attempt) == (0, 1)
    assert types(driver.history)[2:] == [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "LambdaFunctionScheduled",
    ]


def _full(interval: int = 10, rate: float = 2.0, cap: int | None = None) -> Retrier:
    return Retrier(
        ("E",),
        interval_seconds=interval,
        backoff_rate=rate,
        max_delay_seconds=cap,
        jitter_strategy=JitterStrategy.FULL,
    )


@given(
    seed=st.integers(0, 2**32),
    attempt=st.integers(0, 8),
    interval=st.integers(1, 100),
    rate=st.floats(1.0, 5.0),
)
def test_full_jitter_stays_between_zero_and_the_backoff_delay(
    seed: int, attempt: int, interval: int, rate: float
) -> None:
    # Given a FULL jitter retrier and a seeded random source
    retrier = _full(interval, rate)
    plain = interval * rate**attempt
    # When a delay is drawn
    delay = backoff_seconds(retrier, attempt, random.Random(seed))
    # Then it lies in [0, the un-jittered delay] and the same seed draws the same delay
    assert 0 <= delay <= plain
    assert delay == backoff_seconds(retrier, attempt, random.Random(seed))


def test_full_jitter_respects_max_delay() -> None:
    # Given a FULL jitter retrier capped at 5 s on its 10th attempt
    retrier = _full(10, 2.0, cap=5)
    # When many delays are drawn
    delays = [backoff_seconds(retrier, 10, random.Random(seed)) for seed in range(200)]
    # Then none exceeds the cap and they actually vary
    assert max(delays) <= 5
    assert len(set(delays)) > 100


def test_jitter_in_an_execution_is_deterministic_for_a_seed() -> None:
    # Given a FULL jitter retrier in a machine
    retry = [
        {"ErrorEquals": ["E"], "IntervalSeconds": 100, "MaxAttempts": 3, "JitterStrategy": "FULL"}
    ]

    def delays(seed: int) -> list[float]:
        return _retry_delays(PureDriver(_task(retry), seed=seed), ["E"] * 3)

    # When the same failures run with one seed twice, and with another seed
    # Then one seed repeats its delays exactly; within bounds; another seed differs
    assert delays(3) == delays(3)
    assert all(0 <= d <= 100 * 2**i for i, d in enumerate(delays(3)))
    assert delays(3) != delays(4)


# --- attempts and counters --------------------------------------------------------------------


def test_max_attempts_zero_never_retries_and_shadows_later_retriers() -> None:
    # Given a MaxAttempts 0 retrier for E before a catch-all retrier
    retry = [{"ErrorEquals": ["E"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}]
    driver = PureDriver(_task(retry))
    # When the task fails with E
    delays = _retry_delays(driver, ["E"])
    # Then no retry happens: the first matching retrier decides
    assert delays == []
    assert driver.execution.error == "E"


def test_each_retrier_counts_its_own_attempts() -> None:
    # Given retriers for A (2 attempts) and B (1 attempt)
    retry = [
        {"ErrorEquals": ["A"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 1},
        {"ErrorEquals": ["B"], "MaxAttempts": 1, "IntervalSeconds": 5},
    ]
    driver = PureDriver(_task(retry))
    # When the task fails with A, B, A, then B again
    delays = _retry_delays(driver, ["A", "B", "A", "B"])
    # Then A and B each used their own budget, and B's second failure is final
    assert delays == [1.0, 5.0, 1.0]
    assert driver.execution.error == "B"


def test_retry_counters_reset_when_the_state_is_entered_again() -> None:
    # Given a one-attempt retrier on a task that loops back to itself via Catch
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("f"),
                "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["E"], "Next": "Again"}],
                "End": True,
            },
            "Again": {"Type": "Pass", "Next": "T"},
        },
    }
    calls: list[int] = []

    def flaky(event: Json, context: HandlerContext) -> Json:
        calls.append(context.attempt)
        if len(calls) <= 3:
            raise type("E", (Exception,), {})("fail")
        return "ok"

    # When it runs
    result = run(machine, {}, handlers=registry(f=flaky))
    # Then the second visit got a fresh retry budget (attempt numbers restart at 0)
    assert calls == [0, 1, 0, 1]
    assert result.execution.output == "ok"


# --- error matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("equals", "error", "matches"),
    [
        (("States.ALL",), "Custom", True),
        (("States.ALL",), "States.Timeout", True),
        (("States.ALL",), "States.DataLimitExceeded", True),
        (("States.ALL",), "States.Runtime", False),
        (("States.TaskFailed",), "Custom", True),
        (("States.TaskFailed",), "States.Timeout", False),
        (("States.Timeout",), "States.Timeout", True),
        (("States.Timeout",), "States.HeartbeatTimeout", True),
        (("States.HeartbeatTimeout",), "States.Timeout", False),
        (("States.Runtime",), "States.Runtime", False),
        (("A", "B"), "B", True),
        (("A",), "a", False),
    ],
)
def test_error_equals_matching_rules(equals: tuple[str, ...], error: str, matches: bool) -> None:
    # Given an ErrorEquals list and an error name
    # When they are matched
    # Then AWS's wildcard rules apply
    assert error_matches(equals, error) is matches


def test_states_runtime_is_never_caught_even_by_states_all() -> None:
    # Given a task whose OutputPath selects nothing, with Retry and Catch on States.ALL
    machine = _task(
        [{"ErrorEquals": ["States.ALL"]}],
        [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
        OutputPath="$.missing",
    )
    # When it runs
    result = run(machine, {}, handlers=registry(f=lambda event, context: {"x": 1}))
    # Then the execution fails with States.Runtime: no retry, no catch
    assert result.execution.error == ErrorName.RUNTIME
    assert len(of_type(result.history, "LambdaFunctionScheduled")) == 1
    assert "PassStateEntered" not in types(result.history)


def test_task_failed_catcher_does_not_catch_a_timeout() -> None:
    # Given a Catch on States.TaskFailed and a task timing out
    driver = PureDriver(
        _task(None, [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}], TimeoutSeconds=1)
    )
    driver.start()
    driver.settle()
    # When its timeout fires
    timer = next(t for t in driver.timers if t.kind is TimerKind.TASK_TIMEOUT)
    driver.fire(timer)
    # Then the timeout is not caught
    assert driver.execution.error == "States.Timeout"


def test_timeout_catcher_catches_a_heartbeat_timeout() -> None:
    # Given a Catch on States.Timeout and a task missing its heartbeat
    driver = PureDriver(
        _task(None, [{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}], HeartbeatSeconds=1)
    )
    driver.start()
    driver.settle()
    # When the heartbeat timer fires
    driver.fire(next(t for t in driver.timers if t.kind is TimerKind.HEARTBEAT))
    # Then the catcher handled States.HeartbeatTimeout
    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    assert driver.execution.output == {"Error": "States.HeartbeatTimeout"}


def test_the_first_matching_catcher_wins() -> None:
    # Given two catchers that both match
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("f"),
                "Catch": [
                    {"ErrorEquals": ["ValueError"], "Next": "First"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Second"},
                ],
                "End": True,
            },
            "First": {"Type": "Pass", "Result": 1, "End": True},
            "Second": {"Type": "Pass", "Result": 2, "End": True},
        },
    }

    def boom(event: Json, context: HandlerContext) -> Json:
        raise ValueError("x")

    # When the task fails
    # Then the first catcher in order handles it
    assert run(machine, {}, handlers=registry(f=boom)).execution.output == 1


# --- catcher data flow ------------------------------------------------------------------------


def _boom(event: Json, context: HandlerContext) -> Json:
    raise ValueError("bad input")


def test_catch_result_path_places_the_error_output_in_the_input() -> None:
    # Given a catcher with ResultPath $.err
    machine = _task(
        None, [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}]
    )
    # When the task fails
    result = run(machine, {"keep": 1}, handlers=registry(f=_boom))
    # Then the output is the state input with {Error, Cause} at $.err, and the Task exited
    output = result.execution.output
    assert output["keep"] == 1
    assert output["err"]["Error"] == "ValueError"
    assert '"errorMessage": "bad input"' in output["err"]["Cause"]
    assert types(result.history)[4:7] == [
        "LambdaFunctionFailed",
        "TaskStateExited",
        "PassStateEntered",
    ]


def test_catch_without_result_path_replaces_the_input_and_ignores_output_path() -> None:
    # Given a catcher without ResultPath on a task with an OutputPath
    machine = _task(
        None, [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], OutputPath="$.nothing"
    )
    # When the task fails
    result = run(machine, {"keep": 1}, handlers=registry(f=_boom))
    # Then the error output is the whole output (OutputPath does not apply to a catch)
    assert set(result.execution.output) == {"Error", "Cause"}


def test_catch_result_path_null_keeps_the_input() -> None:
    # Given a catcher with ResultPath null
    machine = _task(None, [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Caught"}])
    # When the task fails
    # Then the state input passes on unchanged
    assert run(machine, {"k": 1}, handlers=registry(f=_boom)).execution.output == {"k": 1}


def test_jsonpath_catcher_assign_reads_the_error_output() -> None:
    # Given a catcher assigning the error name
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("f"),
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "Assign": {"err.$": "$.Error"}, "Next": "Use"}
                ],
                "End": True,
            },
            "Use": {"Type": "Pass", "Parameters": {"was.$": "$err"}, "End": True},
        },
    }
    # When the task fails
    result = run(machine, {}, handlers=registry(f=_boom))
    # Then the variable holds the error name
    assert result.execution.output == {"was": "ValueError"}
    assert one(result.history, "TaskStateExited").details["assignedVariables"] == {
        "err": '"ValueError"'
    }


def test_jsonata_catcher_output_and_assign_see_states_error_output() -> None:
    # Given a JSONata catcher with Output and Assign
    machine = jsonata(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": lambda_arn("f"),
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "Output": {
                                "e": "{% $states.errorOutput.Error %}",
                                "in": "{% $states.input %}",
                            },
                            "Assign": {"seen": "{% $states.errorOutput.Error %}"},
                            "Next": "Use",
                        }
                    ],
                    "End": True,
                },
                "Use": {
                    "Type": "Pass",
                    "Output": {"out": "{% $states.input %}", "v": "{% $seen %}"},
                    "End": True,
                },
            },
        }
    )
    # When the task fails
    result = run(machine, {"n": 1}, handlers=registry(f=_boom))
    # Then Output and Assign were both evaluated on the error output
    assert result.execution.output == {
        "out": {"e": "ValueError", "in": {"n": 1}},
        "v": "ValueError",
    }


def test_a_retried_then_successful_task_exits_normally() -> None:
    # Given a handler failing twice then succeeding, with enough retries
    attempts: list[int] = []

    def flaky(event: Json, context: HandlerContext) -> Json:
        attempts.append(context.attempt)
        if len(attempts) < 3:
            raise RuntimeError("again")
        return {"done": context.attempt}

    machine = _task([{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 30}])
    # When it runs on the fake clock
    result = run(machine, {}, handlers=registry(f=flaky))
    # Then it succeeded on attempt 2 after 30 + 60 s of backoff
    assert result.execution.output == {"done": 2}
    stamps = [e.timestamp for e in of_type(result.history, "LambdaFunctionScheduled")]
    assert stamps == [
        "2024-01-01T00:00:00.000Z",
        "2024-01-01T00:00:30.000Z",
        "2024-01-01T00:01:30.000Z",
    ]
