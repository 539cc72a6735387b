"""The local executor: drives the pure interpreter in-process on an injected clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine._clock import FakeClock
from engine._interpreter.seeded import step_rng
from engine._interpreter.snapshot import ExecutionStatus, Phase
from engine._interpreter.turn import Limits
from engine._local import LocalExecutor
from engine._resources import HandlerContext
from tests.unit.interpreter.support import T0, build, header, lambda_arn, one, registry, run, types

Json = Any

UUID_PASS = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Pass",
            "Parameters": {"id.$": "States.UUID()", "r.$": "States.MathRandom(1, 1000000)"},
            "End": True,
        }
    },
}


def test_a_run_reports_its_final_execution_history_and_stop_time() -> None:
    # Given a 10 s Wait on a fake clock
    clock = FakeClock(T0)
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}}}
    # When the executor runs it
    result = run(machine, {"a": 1}, clock=clock)
    # Then the run is finished, stopped when the clock reached the Wait's end
    assert result.finished
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output == {"a": 1}
    assert result.stopped_at == T0 + timedelta(seconds=10)
    assert result.threads["root"].phase is Phase.DONE


def test_events_are_processed_in_time_order_across_branches() -> None:
    # Given branches waiting 3 s and 1 s
    machine = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Three",
                        "States": {"Three": {"Type": "Wait", "Seconds": 3, "End": True}},
                    },
                    {
                        "StartAt": "One",
                        "States": {"One": {"Type": "Wait", "Seconds": 1, "End": True}},
                    },
                ],
            }
        },
    }
    # When it runs
    result = run(machine, {})
    # Then the 1 s Wait exits first
    exits = [e.details["name"] for e in result.history if e.type == "WaitStateExited"]
    assert exits == ["One", "Three"]


def test_a_timer_falling_due_while_a_handler_runs_fires_before_its_result() -> None:
    # Given one branch whose handler takes 10 s and one waiting 5 s
    clock = FakeClock(T0)

    def slow(event: Json, context: HandlerContext) -> Json:
        clock.advance(10)
        return "slow"

    machine = {
        "StartAt": "Par",
        "States": {
            "Par": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "T",
                        "States": {"T": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}},
                    },
                    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}},
                ],
            }
        },
    }
    # When it runs
    result = run(machine, {}, handlers=registry(f=slow), clock=clock)
    # Then the Wait (due at 5 s) exits before the task's result (at 10 s) is recorded;
    # handlers run inline, so both are stamped when the handler gave control back
    kinds = types(result.history)
    assert kinds.index("WaitStateExited") < kinds.index("LambdaFunctionSucceeded")
    assert one(result.history, "WaitStateExited").timestamp == "2024-01-01T00:00:10.000Z"
    assert one(result.history, "LambdaFunctionSucceeded").timestamp == "2024-01-01T00:00:10.000Z"
    assert one(result.history, "LambdaFunctionStarted").timestamp == "2024-01-01T00:00:00.000Z"


def test_the_same_seed_replays_random_values_and_another_seed_does_not() -> None:
    # Given a Pass drawing a UUID and a random number
    # When it runs twice with seed 1 and once with seed 2
    first = run(UUID_PASS, {}, seed=1)
    second = run(UUID_PASS, {}, seed=1)
    other = run(UUID_PASS, {}, seed=2)
    # Then seed 1 repeats its values and whole history; seed 2 draws others
    assert first.execution.output == second.execution.output
    assert first.history == second.history
    assert first.execution.output != other.execution.output


def test_step_rng_derives_a_stream_per_seed_thread_and_seq() -> None:
    # Given the executor's per-step random sources
    # When streams are drawn for equal and differing keys
    same = [step_rng(5, "root", 3).random() for _ in range(2)]
    # Then equal keys give equal streams and any differing part changes it
    assert same[0] == same[1]
    assert step_rng(5, "root", 3).random() != step_rng(5, "root", 4).random()
    assert step_rng(5, "root", 3).random() != step_rng(5, "root/1.0.0", 3).random()
    assert step_rng(5, "root", 3).random() != step_rng(6, "root", 3).random()


def test_limits_are_passed_to_the_interpreter() -> None:
    # Given a 100-byte payload limit
    executor = LocalExecutor(clock=FakeClock(T0), limits=Limits(payload_bytes=100))
    machine = build(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "x" * 200, "End": True}}}
    )
    # When a Pass produces 200 bytes
    result = executor.run(machine, header({}))
    # Then it fails as over the limit
    assert result.execution.error == "States.DataLimitExceeded"


def test_a_callback_task_leaves_the_run_unfinished() -> None:
    # Given a .waitForTaskToken task whose handler returns at once
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f"},
                "End": True,
            }
        },
    }
    # When it runs
    result = run(machine, {}, handlers=registry(f=lambda event, context: "ignored"))
    # Then the run is not finished: it waits for SendTaskSuccess
    assert not result.finished
    assert result.execution.status is ExecutionStatus.RUNNING
    assert types(result.history)[-1] == "TaskStarted"


def test_one_executor_runs_executions_independently() -> None:
    # Given one executor and a handler counting calls per execution input
    calls: list[Json] = []
    handlers = registry(f=lambda event, context: calls.append(event) or event)
    executor = LocalExecutor(handlers, FakeClock(T0))
    machine = build(
        {
            "StartAt": "T",
            "States": {"T": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}},
        }
    )
    # When it runs two executions
    first = executor.run(machine, header({"n": 1}))
    second = executor.run(machine, header({"n": 2}))
    # Then each has its own result and history
    assert (first.execution.output, second.execution.output) == ({"n": 1}, {"n": 2})
    assert len(first.history) == len(second.history)
    assert calls == [{"n": 1}, {"n": 2}]


def test_the_executor_never_reads_the_system_clock_with_a_fake_one() -> None:
    # Given a fake clock set far in the past
    clock = FakeClock(T0 - timedelta(days=3650))
    # When a machine runs
    result = run({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {}, clock=clock)
    # Then every timestamp is the fake time
    assert {e.timestamp for e in result.history} == {"2014-01-03T00:00:00.000Z"}
