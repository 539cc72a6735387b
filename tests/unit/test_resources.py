"""Task resources resolve to registered handlers, invoked the way AWS invokes Lambda."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from engine._errors import StatesError
from engine._resources import HandlerContext, HandlerNotFound, HandlerRegistry, TaskCall

Json = Any
INVOKE = "arn:aws:states:::lambda:invoke"
ARN = "arn:aws:lambda:us-east-1:111111111111:function:"


def _echo(event: Json, context: HandlerContext) -> Json:
    return {"event": event, "name": context.function_name, "arn": context.invoked_function_arn}


@pytest.fixture
def handlers() -> HandlerRegistry:
    found = HandlerRegistry()
    found.register("echo", _echo)
    return found


def test_register_returns_the_handler_and_the_decorators_register_by_name() -> None:
    # Given an empty registry
    registry = HandlerRegistry()

    # When handlers are registered directly and with both decorator forms
    @registry.handler
    def bare(event: Json, context: HandlerContext) -> Json:
        return "bare"

    @registry.handler("named")
    def other(event: Json, context: HandlerContext) -> Json:
        return "named"

    direct = registry.register("direct", _echo)
    # Then each is known by its name
    assert direct is _echo
    assert sorted(registry.names()) == ["bare", "direct", "named"]
    assert registry.handlers["named"] is other


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "a:b", "arn:aws:lambda"])
def test_register_refuses_names_lambda_would_refuse(name: str) -> None:
    # Given a name Lambda does not allow
    # When it is registered
    # Then a ValueError names it
    with pytest.raises(ValueError, match="handler name"):
        HandlerRegistry().register(name, _echo)


def test_merge_copies_every_handler(handlers: HandlerRegistry) -> None:
    # Given a second registry
    target = HandlerRegistry()
    # When the first is merged into it
    target.merge(handlers)
    # Then it knows the same handlers
    assert list(target.names()) == ["echo"]


@pytest.mark.parametrize(
    "resource",
    [ARN + "echo", ARN + "echo:prod", "arn:aws:lambda:eu-west-1:222222222222:function:echo"],
)
def test_a_lambda_arn_runs_the_handler_of_that_name(
    handlers: HandlerRegistry, resource: str
) -> None:
    # Given a function ARN (any region, account or qualifier)
    # When it is invoked with parameters
    result = handlers.invoke(TaskCall(resource, {"a": 1}))
    # Then the handler got the parameters as its event, and its return value is the result
    assert result["event"] == {"a": 1}
    assert result["name"] == "echo"


@pytest.mark.parametrize(
    "function", ["echo", "111111111111:function:echo", ARN + "echo", ARN + "echo:$LATEST"]
)
def test_lambda_invoke_resolves_every_function_name_form(
    handlers: HandlerRegistry, function: str
) -> None:
    # Given lambda:invoke naming the function by name, partial ARN or full ARN
    call = TaskCall(INVOKE, {"FunctionName": function, "Payload": {"k": "v"}})
    # When it is invoked
    response = handlers.invoke(call)
    # Then the handler ran with the Payload, wrapped as Lambda's Invoke response
    assert response["Payload"]["event"] == {"k": "v"}
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert response["SdkHttpMetadata"]["HttpStatusCode"] == 200


@pytest.mark.parametrize(
    ("payload", "event"), [(None, {}), ('{"a":1}', {"a": 1}), ("plain", "plain"), ([1], [1])]
)
def test_lambda_invoke_payload_decoding(
    handlers: HandlerRegistry, payload: Json, event: Json
) -> None:
    # Given a Payload that is absent, JSON text, other text, or a value
    parameters = (
        {"FunctionName": "echo"}
        if payload is None
        else {"FunctionName": "echo", "Payload": payload}
    )
    # When it is invoked
    response = handlers.invoke(TaskCall(INVOKE, parameters))
    # Then the function receives {} / the parsed JSON / the text / the value
    assert response["Payload"]["event"] == event


def test_a_handler_returning_bytes_returns_a_raw_json_payload() -> None:
    # Given handlers returning JSON bytes and non-JSON bytes
    registry = HandlerRegistry()
    registry.register("json", lambda event, context: b'"HelloWorld!"')
    registry.register("text", lambda event, context: b"not json")
    # When they are invoked
    # Then the bytes are parsed as JSON when they can be, else kept as text
    assert registry.invoke(TaskCall(ARN + "json", {})) == "HelloWorld!"
    assert registry.invoke(TaskCall(ARN + "text", {})) == "not json"


def test_log_type_tail_adds_a_base64_log(handlers: HandlerRegistry) -> None:
    # Given LogType Tail
    call = TaskCall(INVOKE, {"FunctionName": "echo", "LogType": "Tail"})
    # When it is invoked
    response = handlers.invoke(call)
    # Then the response carries a base64 log
    assert base64.b64decode(response["LogResult"]).startswith(b"START")


def test_an_exception_becomes_lambdas_error_envelope_in_python_style_for_function_arns() -> None:
    # Given a handler raising KeyError
    registry = HandlerRegistry()

    def fail(event: Json, context: HandlerContext) -> Json:
        raise KeyError("missing")

    registry.register("fail", fail)
    # When it is invoked by its ARN
    with pytest.raises(StatesError) as caught:
        registry.invoke(TaskCall(ARN + "fail", {}))
    # Then Error is the class name and Cause the envelope with ", " / ": " separators
    assert caught.value.name == "KeyError"
    envelope = json.loads(str(caught.value.cause))
    assert list(envelope) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert envelope["errorMessage"] == "'missing'"
    assert any("raise KeyError" in line for line in envelope["stackTrace"])
    assert str(caught.value.cause).startswith('{"errorMessage": ')


def test_through_lambda_invoke_the_envelope_is_compact() -> None:
    # Given the same failing handler behind lambda:invoke
    registry = HandlerRegistry()

    def fail(event: Json, context: HandlerContext) -> Json:
        raise RuntimeError("bad")

    registry.register("fail", fail)
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        registry.invoke(TaskCall(INVOKE, {"FunctionName": "fail"}))
    # Then the Cause is compact JSON
    assert str(caught.value.cause).startswith('{"errorMessage":"bad","errorType":"RuntimeError"')


def test_an_explicit_lambda_stack_trace_is_reported_verbatim() -> None:
    # Given an exception carrying the stack trace a remote function reported
    registry = HandlerRegistry()

    def fail(event: Json, context: HandlerContext) -> Json:
        error = Exception("remote")
        error.lambda_stack_trace = ["  File x, line 1\n"]  # type: ignore[attr-defined]
        raise error

    registry.register("fail", fail)
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        registry.invoke(TaskCall(ARN + "fail", {}))
    # Then that trace is the envelope's stackTrace
    assert json.loads(str(caught.value.cause))["stackTrace"] == ["  File x, line 1\n"]


def test_a_states_error_from_a_handler_passes_through_unchanged() -> None:
    # Given a handler raising a StatesError
    registry = HandlerRegistry()

    def refuse(event: Json, context: HandlerContext) -> Json:
        raise StatesError("My.Error", "cause")

    registry.register("refuse", refuse)
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        registry.invoke(TaskCall(ARN + "refuse", {}))
    # Then name and cause are the handler's
    assert (caught.value.name, caught.value.cause) == ("My.Error", "cause")


def test_an_unknown_function_is_lambdas_resource_not_found(handlers: HandlerRegistry) -> None:
    # Given a function name nobody registered
    # When it is invoked through lambda:invoke
    with pytest.raises(HandlerNotFound) as caught:
        handlers.invoke(TaskCall(INVOKE, {"FunctionName": "ghost"}))
    # Then the error is AWS's for a missing function
    assert caught.value.name == "Lambda.ResourceNotFoundException"
    assert str(caught.value.cause).startswith(
        f"Function not found: {ARN}ghost:$LATEST (Service: AWSLambda;"
    )


@pytest.mark.parametrize("parameters", [{}, {"FunctionName": 3}, None, "text"])
def test_lambda_invoke_without_a_function_name_fails_as_task_failed(
    handlers: HandlerRegistry, parameters: Json
) -> None:
    # Given lambda:invoke whose parameters name no function
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        handlers.invoke(TaskCall(INVOKE, parameters))
    # Then it fails with States.TaskFailed explaining FunctionName
    assert caught.value.name == "States.TaskFailed"
    assert "'FunctionName' must be a string" in str(caught.value.cause)


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::sqs:sendMessage",
        "arn:aws:states:us-east-1:111111111111:activity:a",
        "arn:aws:states:::lambda:getFunction",
    ],
)
def test_a_resource_no_handler_serves_fails_as_task_failed(
    handlers: HandlerRegistry, resource: str
) -> None:
    # Given a resource this registry does not serve
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        handlers.invoke(TaskCall(resource, {}))
    # Then it fails with States.TaskFailed naming the resource
    assert caught.value.name == "States.TaskFailed"
    assert resource in str(caught.value.cause)


def test_the_context_carries_the_call_and_a_fresh_request_id() -> None:
    # Given a handler keeping its contexts
    contexts: list[HandlerContext] = []
    registry = HandlerRegistry()
    registry.register("keep", lambda event, context: contexts.append(context))
    call = TaskCall(
        INVOKE + ".waitForTaskToken", {"FunctionName": "keep"}, "arn:exec", "S", 2, "tok"
    )
    # When it is invoked twice
    registry.invoke(call)
    registry.invoke(call)
    # Then the context names the execution, state, attempt and token; request ids differ
    first, second = contexts
    assert (first.execution_arn, first.state_name, first.attempt, first.task_token) == (
        "arn:exec",
        "S",
        2,
        "tok",
    )
    assert first.idempotency_key == "arn:exec/S/root/0/2"
    assert first.aws_request_id != second.aws_request_id


def test_the_invoked_function_arn_keeps_the_qualifier(handlers: HandlerRegistry) -> None:
    # Given a function ARN with an alias
    # When it is invoked
    result = handlers.invoke(TaskCall(ARN + "echo:prod", {}))
    # Then the context's invoked ARN is the ARN the state machine named
    assert result["arn"] == ARN + "echo:prod"


@pytest.mark.parametrize("depth", [501, 10_000])
def test_a_result_nested_too_deeply_is_a_marshal_error(depth: int) -> None:
    # Given a handler returning arrays nested beyond the limit (past Python's stack, too)
    registry = HandlerRegistry()

    def deep(event: Json, context: HandlerContext) -> Json:
        value: Json = []
        for _ in range(depth - 1):
            value = [value]
        return value

    registry.register("deep", deep)
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        registry.invoke(TaskCall(ARN + "deep", {}))
    # Then the task fails as Lambda's runtime fails an unencodable response, naming the limit
    assert caught.value.name == "Runtime.MarshalError"
    assert "more than 500 levels deep" in str(caught.value.cause)


def test_a_raw_result_nested_too_deeply_is_a_marshal_error() -> None:
    # Given a handler returning raw JSON bytes nested 10,000 levels deep
    registry = HandlerRegistry()
    registry.register("raw", lambda event, context: b"[" * 10_000 + b"]" * 10_000)
    # When it is invoked
    with pytest.raises(StatesError) as caught:
        registry.invoke(TaskCall(ARN + "raw", {}))
    # Then the task fails with Runtime.MarshalError naming the limit, not RecursionError
    assert caught.value.name == "Runtime.MarshalError"
    assert "more than 500 levels deep" in str(caught.value.cause)
