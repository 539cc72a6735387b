"""How `WireProtocol` maps what an operation raises: the caller's mistakes are never 500."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from engine._errors import ServiceUnavailable, StoreUnreachable
from engine._wire import WireProtocol

HEADERS = [("X-Amz-Target", "AWSStepFunctions.ListStateMachines")]


class Raising:
    """A client whose ListStateMachines raises ``error`` (the protocol only needs its table)."""

    boto3_operations: ClassVar[dict[str, Any]] = {
        "ListStateMachines": lambda self, **params: self.fail()
    }

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def fail(self) -> Any:
        raise self.error


def answer(error: BaseException) -> tuple[int, dict[str, Any]]:
    response = WireProtocol(Raising(error)).handle("POST", "http://h/", HEADERS, b"{}")
    return response.status, json.loads(response.body)


def code(body: dict[str, Any]) -> str:
    return str(body["__type"].rsplit("#", 1)[1])


def test_service_unavailable_keeps_its_503() -> None:
    # When the operation says the store is down
    status, body = answer(ServiceUnavailable("the store is unreachable"))

    # Then the caller gets 503 ServiceUnavailable (botocore retries it)
    assert (status, code(body)) == (503, "ServiceUnavailable")
    assert body["message"] == "the store is unreachable"


def test_a_store_error_that_escaped_is_service_unavailable() -> None:
    # When a store error escapes the operation
    status, body = answer(StoreUnreachable("sqlite:///x", "no such file"))

    # Then it is still 503, not a 500
    assert (status, code(body)) == (503, "ServiceUnavailable")


def test_a_value_error_from_input_is_the_callers_validation_exception() -> None:
    # When the engine refuses input the model allows with a bare ValueError
    status, body = answer(ValueError("maxResults: expected 0..1000, got 5000"))

    # Then it is the caller's mistake: 400 ValidationException naming the operation
    assert (status, code(body)) == (400, "ValidationException")
    assert body["message"] == "ListStateMachines: maxResults: expected 0..1000, got 5000"


def test_a_genuine_fault_is_an_internal_failure_without_its_details() -> None:
    # When the operation fails for a reason that is not the caller's
    status, body = answer(RuntimeError("connection pool exhausted at 0x7f..."))

    # Then 500 InternalFailure, without leaking the server's internals
    assert (status, code(body)) == (500, "InternalFailure")
    assert "0x7f" not in body["message"]


def test_an_operation_the_model_has_but_the_client_lacks_is_named() -> None:
    # When TagResource (in botocore's model) is asked of a client without it
    headers = [("X-Amz-Target", "AWSStepFunctions.TagResource")]
    body = b'{"resourceArn": "arn:aws:states:us-east-1:111111111111:stateMachine:m", "tags": []}'
    response = WireProtocol(Raising(ValueError())).handle("POST", "http://h/", headers, body)

    # Then it is an unknown operation naming it, not a crash
    assert response.status == 400
    document = json.loads(response.body)
    assert code(document) == "UnknownOperationException"
    assert "TagResource" in document["message"]
