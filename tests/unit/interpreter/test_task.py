"""Task: history per resource family, data flow, timeouts, heartbeats and payload limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine._clock import FakeClock
from engine._errors import StatesError
from engine._interpreter.decisions import CancelTask, RunTask
from engine._interpreter.events import (
    TaskHeartbeat,
    TaskStarted,
    TaskSucceeded,
    TimerFired,
    TimerKind,
)
from engine._interpreter.snapshot import ExecutionStatus, Phase
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
INVOKE = "arn:aws:states:::lambda:invoke"
KIB = 1024


def _task(resource: str = lambda_arn("f"), **fields: Json) -> dict[str, Json]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": resource, **fields, "End": True}},
    }


def _identity(event: Json, context: HandlerContext) -> Json:
    return event


def _boom(event: Json, context: HandlerContext) -> Json:
    raise ValueError("no luck")


# --- history per resource family ------------------------------------------------------------


def test_a_lambda_arn_task_records_lambda_function_events() -> None:
    # Given a Task naming a Lambda function ARN with a registered handler
    handlers = registry(f=lambda event, context: {"got": event})
    # When it runs
    result = run(_task(), {"a": 1}, handlers=handlers)
    # Then history shows LambdaFunction* events with the function ARN and the payloads
    assert types(result.history) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = one(result.history, "LambdaFunctionScheduled").details
    assert scheduled["resource"] == lambda_arn("f")
    assert json.loads(scheduled["input"]) == {"a": 1}
    assert one(result.history, "LambdaFunctionStarted").details == {}
    assert one(result.history, "LambdaFunctionSucceeded").details["output"] == '{"got":{"a":1}}'
    assert result.execution.output == {"got": {"a": 1}}


def test_a_lambda_invoke_task_records_task_events_with_resource_type() -> None:
    # Given lambda:invoke with FunctionName and Payload
    machine = _task(INVOKE, Parameters={"FunctionName": "f", "Payload.$": "$"})
    # When it runs
    result = run(machine, {"a": 1}, handlers=registry(f=_identity))
    # Then history shows Task* events naming the service and action
    assert types(result.history)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = one(result.history, "TaskScheduled").details
    assert scheduled["resourceType"] == "lambda"
    assert scheduled["resource"] == "invoke"
    assert scheduled["region"] == "us-east-1"
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "f", "Payload": {"a": 1}}
    started = one(result.history, "TaskStarted").details
    assert started == {"resourceType": "lambda", "resource": "invoke"}
    # And the result is Lambda's Invoke response wrapping the handler's return value
    output = result.execution.output
    assert output["Payload"] == {"a": 1}
    assert output["StatusCode"] == 200


def test_a_failing_handler_on_a_lambda_arn_reports_the_python_style_envelope() -> None:
    # Given a handler raising ValueError
    # When the Lambda ARN task runs
    result = run(_task(), {}, handlers=registry(f=_boom))
    # Then the function failed with Error = the exception class and Cause = Lambda's envelope
    failed = one(result.history, "LambdaFunctionFailed").details
    assert failed["error"] == "ValueError"
    envelope = json.loads(failed["cause"])
    assert envelope["errorMessage"] == "no luck"
    assert envelope["errorType"] == "ValueError"
    assert failed["cause"].startswith('{"errorMessage": "no luck", "errorType": "ValueError"')
    assert result.execution.error == "ValueError"


def test_a_failing_handler_through_lambda_invoke_reports_the_compact_envelope() -> None:
    # Given the same failing handler behind lambda:invoke
    machine = _task(INVOKE, Parameters={"FunctionName": "f"})
    # When it runs
    result = run(machine, {}, handlers=registry(f=_boom))
    # Then TaskFailed carries the compact envelope and the service fields
    failed = one(result.history, "TaskFailed").details
    assert failed["resourceType"] == "lambda"
    assert failed["resource"] == "invoke"
    assert failed["cause"].startswith('{"errorMessage":"no luck","errorType":"ValueError"')


def test_a_handler_raising_states_error_keeps_its_name_and_cause() -> None:
    # Given a handler raising a StatesError with a custom name
    def refuse(event: Json, context: HandlerContext) -> Json:
        raise StatesError("Custom.Refused", "nope")

    # When the task runs
    result = run(_task(), {}, handlers=registry(f=refuse))
    # Then the execution fails with exactly that error and cause
    assert (result.execution.error, result.execution.cause) == ("Custom.Refused", "nope")


def test_an_unregistered_function_fails_with_resource_not_found() -> None:
    # Given lambda:invoke naming a function nobody registered
    machine = _task(INVOKE, Parameters={"FunctionName": "ghost"})
    # When it runs
    result = run(machine, {})
    # Then it fails as AWS Lambda does for a missing function
    assert result.execution.error == "Lambda.ResourceNotFoundException"
    assert "Function not found: arn:aws:lambda:us-east-1:111111111111:function:ghost" in str(
        result.execution.cause
    )


# --- data flow --------------------------------------------------------------------------------


def test_jsonpath_task_runs_input_path_parameters_selector_result_path_output_path() -> None:
    # Given a Task using every JSONPath field
    seen: list[Json] = []

    def record(event: Json, context: HandlerContext) -> Json:
        seen.append(event)
        return {"value": event["x"] * 2, "noise": True}

    machine = _task(
        InputPath="$.in",
        Parameters={"x.$": "$.x", "attempt.$": "$$.State.RetryCount"},
        ResultSelector={"doubled.$": "$.value"},
        ResultPath="$.res",
        OutputPath="$.res",
    )
    # When it runs
    result = run(machine, {"in": {"x": 4}, "other": 1}, handlers=registry(f=record))
    # Then the handler saw Parameters over the InputPath selection, and the output is the
    # selected result placed at ResultPath, filtered by OutputPath
    assert seen == [{"x": 4, "attempt": 0}]
    assert result.execution.output == {"doubled": 8}


def test_jsonata_task_arguments_output_and_assign() -> None:
    # Given a JSONata Task with Arguments, Output and Assign
    machine = jsonata(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": lambda_arn("f"),
                    "Arguments": {"x": "{% $states.input.n + 1 %}"},
                    "Output": {"r": "{% $states.result %}", "in": "{% $states.input %}"},
                    "Assign": {"last": "{% $states.result.x %}"},
                    "Next": "Use",
                },
                "Use": {"Type": "Pass", "Output": "{% $last %}", "End": True},
            },
        }
    )
    # When it runs
    result = run(machine, {"n": 1}, handlers=registry(f=_identity))
    # Then the handler got the Arguments; Output and Assign saw the result
    exited = one(result.history, "TaskStateExited").details
    assert json.loads(exited["output"]) == {"r": {"x": 2}, "in": {"n": 1}}
    assert exited["assignedVariables"] == {"last": "2"}
    assert result.execution.output == 2


def test_the_handler_context_carries_the_idempotency_key_parts() -> None:
    # Given a handler recording its context
    contexts: list[HandlerContext] = []

    def record(event: Json, context: HandlerContext) -> Json:
        contexts.append(context)
        return None

    # When the task runs
    run(_task(), {}, handlers=registry(f=record))
    # Then the context names the execution, the state and the attempt
    (context,) = contexts
    assert context.state_name == "T"
    assert context.attempt == 0
    assert context.idempotency_key == f"{context.execution_arn}/T/root/{context.seq}/0"
    assert context.invoked_function_arn == lambda_arn("f")


def _deduplicating(seen: set[str]) -> Callable[[Json, HandlerContext], Json]:
    """A handler that does its work once per idempotency key, as the README tells users."""

    def handler(event: Json, context: HandlerContext) -> Json:
        if context.idempotency_key in seen:
            return "skipped"
        seen.add(context.idempotency_key)
        return event

    return handler


def test_every_map_item_gets_its_own_idempotency_key() -> None:
    # Given a Map of 50 items whose Task deduplicates on the idempotency key
    seen: set[str] = set()
    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "StartAt": "Work",
                    "States": {"Work": {"Type": "Task", "Resource": lambda_arn("f"), "End": True}},
                },
            }
        },
    }
    # When it runs
    result = run(machine, list(range(50)), handlers=registry(f=_deduplicating(seen)))
    # Then every item was processed, none skipped as a duplicate of another
    assert result.execution.output == list(range(50))
    assert len(seen) == 50


def test_loops_and_retries_in_every_map_item_get_their_own_idempotency_keys() -> None:
    # Given two Map items each looping twice through a Task that fails its first attempt
    keys: list[str] = []

    def flaky(event: Json, context: HandlerContext) -> Json:
        keys.append(context.idempotency_key)
        if context.attempt == 0:
            raise ValueError("transient")
        return event + 1

    processor = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": lambda_arn("f"), "Next": "Again",
                     "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 1}]},
            "Again": {"Type": "Choice", "Default": "Done",
                      "Choices": [{"Variable": "$", "NumericLessThan": 2, "Next": "Work"}]},
            "Done": {"Type": "Succeed"},
        },
    }  # fmt: skip
    machine = {
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "End": True, "ItemProcessor": processor}},
    }
    # When it runs
    result = run(machine, [0, 0], handlers=registry(f=flaky))
    # Then both items looped to 2, and no two invocations shared a key:
    # 2 items x 2 visits x 2 attempts
    assert result.execution.output == [2, 2]
    assert len(keys) == 8
    assert len(set(keys)) == 8


def test_run_task_decision_carries_resource_parameters_and_deadlines() -> None:
    # Given a Task with Parameters, TimeoutSeconds and HeartbeatSeconds
    driver = PureDriver(
        _task(INVOKE, Parameters={"FunctionName": "f"}, TimeoutSeconds=30, HeartbeatSeconds=10)
    )
    # When its step runs
    driver.start()
    driver.settle()
    # Then one RunTask and a timeout and a heartbeat timer are decided
    (task,) = driver.tasks
    assert task == RunTask(
        "root",
        driver.root.seq,
        INVOKE,
        {"FunctionName": "f"},
        "T",
        0,
        timeout_seconds=30,
        heartbeat_seconds=10,
    )
    kinds = {timer.kind: timer.due for timer in driver.timers}
    assert kinds == {
        TimerKind.TASK_TIMEOUT: T0.replace(second=30),
        TimerKind.HEARTBEAT: T0.replace(second=10),
    }
    scheduled = one(driver.history, "TaskScheduled").details
    assert (scheduled["timeoutInSeconds"], scheduled["heartbeatInSeconds"]) == (30, 10)


# --- timeouts ---------------------------------------------------------------------------------


def _slow(clock: FakeClock, seconds: float) -> Any:
    def handler(event: Json, context: HandlerContext) -> Json:
        clock.advance(seconds)
        return event

    return handler


def test_a_handler_running_past_timeout_seconds_times_out_with_states_timeout() -> None:
    # Given a 10 s TimeoutSeconds and a handler taking 60 s of fake time
    clock = FakeClock(T0)
    handlers = registry(f=_slow(clock, 60))
    # When it runs
    result = run(_task(TimeoutSeconds=10), {}, handlers=handlers, clock=clock)
    # Then the function timed out and its late result was ignored
    assert result.execution.error == "States.Timeout"
    assert types(result.history)[-2:] == ["LambdaFunctionTimedOut", "ExecutionFailed"]
    assert one(result.history, "LambdaFunctionTimedOut").details == {"error": "States.Timeout"}
    assert "LambdaFunctionSucceeded" not in types(result.history)


def test_a_lambda_invoke_timeout_is_a_task_timed_out_event() -> None:
    # Given lambda:invoke with TimeoutSecondsPath and a slow handler
    clock = FakeClock(T0)
    machine = _task(INVOKE, Parameters={"FunctionName": "f"}, TimeoutSecondsPath="$.limit")
    # When it runs
    result = run(machine, {"limit": 5}, handlers=registry(f=_slow(clock, 6)), clock=clock)
    # Then TaskTimedOut names the service and the error
    assert one(result.history, "TaskTimedOut").details == {
        "resourceType": "lambda",
        "resource": "invoke",
        "error": "States.Timeout",
    }
    assert result.execution.status is ExecutionStatus.FAILED


def test_a_handler_within_its_timeout_succeeds() -> None:
    # Given a handler taking 9 of its 10 seconds
    clock = FakeClock(T0)
    # When it runs
    result = run(
        _task(TimeoutSeconds=10), {"a": 1}, handlers=registry(f=_slow(clock, 9)), clock=clock
    )
    # Then it succeeds
    assert result.execution.status is ExecutionStatus.SUCCEEDED


def test_a_silent_handler_times_out_on_heartbeat() -> None:
    # Given HeartbeatSeconds 10 and a handler taking 60 s without a heartbeat
    clock = FakeClock(T0)
    machine = _task(TimeoutSeconds=300, HeartbeatSeconds=10)
    # When it runs
    result = run(machine, {}, handlers=registry(f=_slow(clock, 60)), clock=clock)
    # Then the task failed with States.HeartbeatTimeout
    assert result.execution.error == "States.HeartbeatTimeout"
    assert (
        one(result.history, "LambdaFunctionTimedOut").details["error"] == "States.HeartbeatTimeout"
    )


def test_a_heartbeat_pushes_the_deadline_out_and_the_older_timer_goes_stale() -> None:
    # Given a task with HeartbeatSeconds 10, started at T0
    driver = PureDriver(_task(HeartbeatSeconds=10, TimeoutSeconds=100))
    driver.start()
    driver.settle()
    task = driver.take_task()
    driver.deliver(TaskStarted(task.thread_id, task.seq))
    first = next(t for t in driver.timers if t.kind is TimerKind.HEARTBEAT)
    # When a heartbeat arrives at T0+8 and the first heartbeat timer fires at T0+10
    driver.now = T0.replace(second=8)
    beat = driver.deliver(TaskHeartbeat(task.thread_id, task.seq))
    driver.now = first.due
    early = driver.deliver(TimerFired(task.thread_id, task.seq, TimerKind.HEARTBEAT))
    # Then the heartbeat started a new timer for T0+18 and the first timer did nothing
    (renewed,) = [d for d in beat.decisions if getattr(d, "kind", None) is TimerKind.HEARTBEAT]
    assert renewed.due == T0.replace(second=18)
    assert not early.changed
    # And when the renewed timer fires, the task times out on its heartbeat
    driver.now = renewed.due
    late = driver.deliver(TimerFired(task.thread_id, task.seq, TimerKind.HEARTBEAT))
    assert CancelTask(task.thread_id, task.seq) in late.decisions
    assert driver.execution.error == "States.HeartbeatTimeout"


def test_a_result_after_the_timeout_is_stale() -> None:
    # Given a task whose timeout timer already fired
    driver = PureDriver(
        _task(TimeoutSeconds=5, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "T"}])
    )
    driver.start()
    driver.settle()
    task = driver.take_task()
    timeout = next(t for t in driver.timers if t.kind is TimerKind.TASK_TIMEOUT)
    driver.fire(timeout)
    history = list(driver.history)
    # When the task's result arrives late
    late = driver.deliver(TaskSucceeded(task.thread_id, task.seq, {"late": True}))
    # Then nothing changes
    assert not late.changed
    assert driver.history == history


def test_timeout_seconds_from_jsonata_must_be_a_positive_integer() -> None:
    # Given a JSONata TimeoutSeconds evaluating to 0
    machine = jsonata(_task(TimeoutSeconds="{% $states.input.t %}"))
    # When it runs
    result = run(machine, {"t": 0}, handlers=registry(f=_identity))
    # Then it fails with States.QueryEvaluationError before scheduling the function
    assert result.execution.error == "States.QueryEvaluationError"
    assert "LambdaFunctionScheduled" not in types(result.history)


# --- payload limits ---------------------------------------------------------------------------


def test_a_257_kib_result_fails_with_data_limit_exceeded_which_states_all_catches() -> None:
    # Given a handler returning 257 KiB and a Catch on States.ALL
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("f"),
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    handlers = registry(f=lambda event, context: "a" * (257 * KIB))
    # When it runs
    result = run(machine, {}, handlers=handlers)
    # Then the function failed with States.DataLimitExceeded and the catcher handled it
    failed = one(result.history, "LambdaFunctionFailed").details
    assert failed["error"] == "States.DataLimitExceeded"
    assert failed["cause"] == (
        f"The state/task '{lambda_arn('f')}' returned a result with a size exceeding the "
        "maximum number of bytes service limit."
    )
    assert result.execution.status is ExecutionStatus.SUCCEEDED
    assert result.execution.output["Error"] == "States.DataLimitExceeded"


def test_a_lambda_invoke_result_over_the_limit_names_the_service() -> None:
    # Given lambda:invoke returning a 257 KiB payload
    machine = _task(INVOKE, Parameters={"FunctionName": "f"})
    # When it runs
    result = run(machine, {}, handlers=registry(f=lambda event, context: "a" * (257 * KIB)))
    # Then the cause names the service as AWS does
    assert result.execution.error == "States.DataLimitExceeded"
    assert str(result.execution.cause).startswith("The state/task 'lambda' returned a result")


def test_a_pass_output_over_256_kib_fails_the_execution_without_exiting() -> None:
    # Given a Pass state producing more than 256 KiB
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": "a" * (257 * KIB), "End": True}},
    }
    # When it runs
    result = run(machine, {})
    # Then it fails with States.DataLimitExceeded straight away: no PassStateExited
    assert types(result.history) == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    assert result.execution.error == "States.DataLimitExceeded"
    assert result.execution.cause == (
        "The state/task 'P' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )


def test_exactly_256_kib_is_within_the_limit() -> None:
    # Given a result whose JSON text is exactly 256 KiB (a string: two quote bytes)
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": "a" * (256 * KIB - 2), "End": True}},
    }
    # When it runs
    result = run(machine, {})
    # Then it succeeds
    assert result.execution.status is ExecutionStatus.SUCCEEDED


# --- callbacks ----------------------------------------------------------------------------------


def test_a_wait_for_task_token_task_waits_for_its_callback() -> None:
    # Given lambda:invoke.waitForTaskToken passing the token to the handler
    tokens: list[str] = []

    def keep(event: Json, context: HandlerContext) -> Json:
        tokens.append(event["token"])
        return "ignored"

    machine = _task(
        INVOKE + ".waitForTaskToken",
        Parameters={"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
    )
    # When it runs
    result = run(machine, {}, handlers=registry(f=keep))
    # Then the handler got a token and the execution still waits (no result taken)
    assert len(tokens) == 1
    assert len(tokens[0]) == 64
    assert result.execution.status is ExecutionStatus.RUNNING
    assert result.threads["root"].phase is Phase.TASK


@pytest.mark.parametrize("seed", [1, 2])
def test_task_tokens_are_drawn_from_the_seed(seed: int) -> None:
    # Given the same token task run twice with one seed
    machine = _task(INVOKE + ".waitForTaskToken", Parameters={"FunctionName": "f"})

    def token(of_seed: int) -> str | None:
        driver = PureDriver(machine, seed=of_seed)
        driver.start()
        driver.settle()
        return driver.tasks[0].task_token

    # When the tokens are compared
    # Then one seed gives one token, and another seed another
    assert token(seed) == token(seed)
    assert token(seed) != token(seed + 10)


def test_an_unsupported_resource_fails_with_states_task_failed() -> None:
    # Given a service integration no handler serves
    machine = _task(
        "arn:aws:states:::sqs:sendMessage", Parameters={"QueueUrl": "q", "MessageBody": "m"}
    )
    # When it runs locally
    result = run(machine, {})
    # Then the task fails with States.TaskFailed naming the resource
    assert result.execution.error == "States.TaskFailed"
    assert "arn:aws:states:::sqs:sendMessage" in str(result.execution.cause)
    assert of_type(result.history, "TaskFailed")


def test_parameters_over_256_kib_fail_with_data_limit_exceeded() -> None:
    # Given 150 KiB of input that Parameters copies twice
    machine = _task(Parameters={"a.$": "$.s", "b.$": "$.s"}, ResultPath=None)
    calls: list[Json] = []
    # When the task state runs
    result = run(
        machine, {"s": "x" * (150 * KIB)}, handlers=registry(f=lambda e, c: calls.append(e))
    )
    # Then it fails with States.DataLimitExceeded and the handler never runs
    assert result.execution.error == "States.DataLimitExceeded"
    assert calls == []


def test_a_handler_returning_a_non_json_value_fails_the_task() -> None:
    # Given a handler returning a datetime, and a Catch on States.ALL
    machine = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": lambda_arn("f"),
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    handlers = registry(f=lambda event, context: {"when": T0})
    # When it runs
    result = run(machine, {}, handlers=handlers)
    # Then the task failed (no traceback escaped) and the catcher handled it
    assert "LambdaFunctionFailed" in types(result.history)
    assert result.execution.status is ExecutionStatus.SUCCEEDED
