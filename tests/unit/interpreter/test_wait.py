"""Wait: every form yields one StartTimer decision at the right due time; nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine._clock import FakeClock
from engine._interpreter.decisions import StartTimer
from engine._interpreter.events import TimerFired, TimerKind
from engine._interpreter.snapshot import ExecutionStatus, Phase
from engine._interpreter.turn import Limits
from tests.unit.interpreter.support import T0, PureDriver, jsonata, one, run, types


def _wait(query_language: str | None = None, **fields: object) -> dict[str, object]:
    machine: dict[str, object] = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", **fields, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    return jsonata(machine) if query_language == "JSONata" else machine


def _entered(driver: PureDriver) -> StartTimer:
    """Start the execution and enter the Wait; return its only timer decision."""
    driver.start()
    driver.settle()
    assert len(driver.timers) == 1, driver.decisions
    return driver.timers[0]


@pytest.mark.parametrize(
    ("fields", "payload", "due"),
    [
        ({"Seconds": 10}, {}, T0 + timedelta(seconds=10)),
        ({"Seconds": 0}, {}, T0),
        ({"SecondsPath": "$.s"}, {"s": 30}, T0 + timedelta(seconds=30)),
        (
            {"Timestamp": "2024-03-01T12:00:00Z"},
            {},
            datetime(2024, 3, 1, 12, tzinfo=UTC),
        ),
        (
            {"TimestampPath": "$.t"},
            {"t": "2024-01-02T00:00:00.5+01:00"},
            datetime(2024, 1, 1, 23, 0, 0, 500000, tzinfo=UTC),
        ),
    ],
)
def test_jsonpath_wait_starts_a_timer_at_the_due_time(
    fields: dict[str, object], payload: object, due: datetime
) -> None:
    # Given a Wait state of one form
    driver = PureDriver(_wait(**fields), payload)
    # When its step runs
    timer = _entered(driver)
    # Then one WAIT timer is decided for the due time, addressed to the thread's new seq
    assert timer.kind is TimerKind.WAIT
    assert timer.due == due
    assert (timer.thread_id, timer.seq) == ("root", driver.root.seq)
    assert driver.root.phase is Phase.WAIT
    assert driver.types() == ["ExecutionStarted", "WaitStateEntered"]


@pytest.mark.parametrize(
    ("fields", "due"),
    [
        ({"Seconds": "{% $states.input.s * 2 %}"}, T0 + timedelta(seconds=8)),
        ({"Seconds": 5}, T0 + timedelta(seconds=5)),
        ({"Timestamp": "{% $states.input.t %}"}, datetime(2025, 1, 1, tzinfo=UTC)),
    ],
)
def test_jsonata_wait_starts_a_timer_at_the_due_time(
    fields: dict[str, object], due: datetime
) -> None:
    # Given a JSONata Wait with a literal or an expression
    driver = PureDriver(_wait("JSONata", **fields), {"s": 4, "t": "2025-01-01T00:00:00Z"})
    # When its step runs
    timer = _entered(driver)
    # Then the timer is due at the evaluated time
    assert timer.due == due


def test_the_wait_exits_when_its_timer_fires_and_passes_its_input_on() -> None:
    # Given a Wait with InputPath and OutputPath, parked on its timer
    driver = PureDriver(_wait(Seconds=10, InputPath="$.a", OutputPath="$.b"), {"a": {"b": 1}})
    timer = _entered(driver)
    # When the timer fires at its due time
    driver.fire(timer)
    # Then the Wait exits at that time with the filtered input and the execution goes on
    exited = one(driver.history, "WaitStateExited")
    assert exited.timestamp == "2024-01-01T00:00:10.000Z"
    assert exited.details["output"] == "1"
    assert driver.execution.status is ExecutionStatus.SUCCEEDED
    assert driver.execution.output == 1


def test_a_repeated_wait_timer_changes_nothing_once_the_thread_moved_on() -> None:
    # Given two Waits in a row, the first one's timer already fired
    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Wait", "Seconds": 1, "Next": "B"},
            "B": {"Type": "Wait", "Seconds": 1, "End": True},
        },
    }
    driver = PureDriver(machine, {})
    first = _entered(driver)
    driver.fire(driver.take_timer())
    assert driver.root.state == "B"
    history = list(driver.history)
    # When the first timer is delivered again
    again = driver.deliver(TimerFired("root", first.seq, TimerKind.WAIT))
    # Then the step changes nothing: B still waits on its own timer
    assert not again.changed
    assert driver.history == history
    assert driver.root.phase is Phase.WAIT


@pytest.mark.parametrize(
    ("fields", "payload", "message"),
    [
        (
            {"SecondsPath": "$.s"},
            {"s": -3},
            "The SecondsPath parameter references a negative value: $.s == -3",
        ),
        (
            {"SecondsPath": "$.s"},
            {"s": "ten"},
            "The SecondsPath parameter cannot be parsed as a long value: $.s == ten",
        ),
        (
            {"TimestampPath": "$.t"},
            {"t": "tomorrow"},
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
            "date-time format string: $.t == tomorrow",
        ),
    ],
)
def test_a_bad_wait_path_fails_the_execution_with_states_runtime(
    fields: dict[str, object], payload: object, message: str
) -> None:
    # Given a Wait whose path selects an unusable value
    driver = PureDriver(_wait(**fields), payload)
    # When its step runs
    driver.start()
    driver.settle()
    # Then no timer starts and the execution fails with States.Runtime, prefixed cause
    assert driver.timers == []
    assert driver.execution.error == "States.Runtime"
    assert driver.execution.cause == (
        "An error occurred while executing the state 'W' (entered at the event id #2). " + message
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"Seconds": "{% -1 %}"},
        {"Seconds": "{% 'x' %}"},
        {"Timestamp": "{% 'not a time' %}"},
    ],
)
def test_a_bad_jsonata_wait_fails_with_query_evaluation_error(fields: dict[str, object]) -> None:
    # Given a JSONata Wait evaluating to an unusable value
    driver = PureDriver(_wait("JSONata", **fields), {})
    # When its step runs
    driver.start()
    driver.settle()
    # Then the execution fails with States.QueryEvaluationError after an EvaluationFailed
    assert driver.timers == []
    assert driver.execution.error == "States.QueryEvaluationError"
    assert "EvaluationFailed" in driver.types()


def test_a_wait_beyond_the_limit_fails_as_too_long() -> None:
    # Given a limit of one day on Waits and a two-day Wait
    driver = PureDriver(_wait(Seconds=2 * 86400), {}, limits=Limits(max_wait_seconds=86400))
    # When its step runs
    driver.start()
    driver.settle()
    # Then the execution fails: the delay is too long
    assert driver.execution.error == "States.Runtime"
    assert str(driver.execution.cause).endswith("Wait state delay is too long.")


def test_a_365_day_wait_is_one_timer_decision() -> None:
    # Given a Wait of 365 days
    driver = PureDriver(_wait(Seconds=365 * 86400), {})
    # When its step runs
    timer = _entered(driver)
    # Then it is just a timer a year out: the step neither sleeps nor reads a clock
    assert timer.due == T0 + timedelta(days=365)
    assert driver.now == T0


def test_a_365_day_wait_completes_instantly_on_a_fake_clock() -> None:
    # Given the local executor on a fake clock
    clock = FakeClock(T0)
    # When a 365-day Wait runs
    result = run(_wait(Seconds=365 * 86400), {"k": 1}, clock=clock)
    # Then it succeeds at once, the fake clock jumped a year, and history shows the gap
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert clock.now() == T0 + timedelta(days=365)
    exited = one(result.history, "WaitStateExited")
    assert exited.timestamp == "2024-12-31T00:00:00.000Z"


def test_a_timestamp_in_the_past_completes_at_once() -> None:
    # Given a Wait until a moment before the execution started
    clock = FakeClock(T0)
    # When it runs
    result = run(_wait(Timestamp="2000-01-01T00:00:00Z"), {}, clock=clock)
    # Then it succeeds without moving the clock
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert clock.now() == T0


def test_waits_in_sequence_add_up_on_the_fake_clock() -> None:
    # Given two Waits of 5 and 7 seconds in a row
    machine = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Wait", "Seconds": 5, "Next": "B"},
            "B": {"Type": "Wait", "SecondsPath": "$.s", "End": True},
        },
    }
    clock = FakeClock(T0)
    # When they run
    result = run(machine, {"s": 7}, clock=clock)
    # Then the clock moved 12 seconds and each exit is stamped at its due time
    assert clock.now() == T0 + timedelta(seconds=12)
    stamps = [e.timestamp for e in result.history if e.type == "WaitStateExited"]
    assert stamps == ["2024-01-01T00:00:05.000Z", "2024-01-01T00:00:12.000Z"]
    assert types(result.history)[-1] == "ExecutionSucceeded"


def test_jsonata_wait_output_and_assign_apply_when_the_timer_fires() -> None:
    # Given a JSONata Wait with Output and Assign
    machine = jsonata(
        {
            "StartAt": "W",
            "States": {
                "W": {
                    "Type": "Wait",
                    "Seconds": "{% $states.input.s %}",
                    "Output": {"waited": "{% $states.input.s %}"},
                    "Assign": {"entered": "{% $states.context.State.EnteredTime %}"},
                    "Next": "Show",
                },
                "Show": {
                    "Type": "Pass",
                    "Output": {"in": "{% $states.input %}", "at": "{% $entered %}"},
                    "End": True,
                },
            },
        }
    )
    # When it runs on the fake clock
    result = run(machine, {"s": 3})
    # Then the output is the Wait's Output and the variable holds when the Wait was entered
    assert result.execution.output == {"in": {"waited": 3}, "at": "2024-01-01T00:00:00.000Z"}
    assert one(result.history, "WaitStateExited").timestamp == "2024-01-01T00:00:03.000Z"
