"""`assert_shape`: a response is what botocore's model says the operation returns.

botocore's parser already drops what it does not know; this also checks that every member
the model requires is there and each value has its shape's type, so a server (or the
Python client) that answers with a missing or mistyped member fails the test.
"""

from __future__ import annotations

from typing import Any

from botocore.validate import ParamValidator

from engine._api.boto import operation_model, service_model


def assert_shape(operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """Fail unless ``response`` (ResponseMetadata stripped) fits ``operation``'s output shape.

    Args:
        operation: AWS's operation name (``StartExecution``) or boto3's (``start_execution``).
        response: what the client returned.

    Returns:
        ``response``, so a test can check and read it in one expression.
    """
    from engine._api.boto import operation_names

    name = operation_names().get(operation, operation)
    shape = operation_model(name).output_shape
    body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    if shape is None:
        assert body == {}, f"{name} returns nothing, got {body!r}"
        return response
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), (
        f"{name}'s response breaks its shape:\n{report.generate_report()}"
    )
    return response


def assert_fits(shape_name: str, value: Any) -> None:
    """Fail unless ``value`` fits the model's shape ``shape_name`` (``HistoryEvent`` ...)."""
    report = ParamValidator().validate(value, service_model().shape_for(shape_name))
    assert not report.has_errors(), f"not a {shape_name}:\n{report.generate_report()}"


def body(response: dict[str, Any]) -> dict[str, Any]:
    """``response`` without its ``ResponseMetadata`` (a new request id on every call)."""
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}
