"""What `stepline serve` answers to requests no SDK would send: AWS's exact error bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.unit.wire.conftest import PASS_MACHINE, ROLE

NAMESPACE = "com.amazonaws.swf.service.v2.model"


def post(
    url: str, body: bytes | str, target: str | None = "AWSStepFunctions.ListStateMachines"
) -> httpx.Response:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        headers["X-Amz-Target"] = target
    content = body.encode() if isinstance(body, str) else body
    return httpx.post(url, content=content, headers=headers)


def error(code: str, message: str) -> dict[str, Any]:
    return {"__type": f"{NAMESPACE}#{code}", "message": message}


def test_malformed_json_is_a_serialization_exception(server_url: str) -> None:
    # When the body is not JSON
    response = post(server_url, b'{"maxResults": ')

    # Then AWS's SerializationException comes back with 400
    assert response.status_code == 400
    assert response.json()["__type"] == f"{NAMESPACE}#SerializationException"
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    assert response.headers["x-amzn-requestid"]


def test_a_body_that_is_not_an_object_is_a_serialization_exception(server_url: str) -> None:
    # When the body is a JSON list
    response = post(server_url, "[1, 2]")

    # Then AWS's deserializer's words come back
    assert response.status_code == 400
    assert response.json() == error(
        "SerializationException", "Start of list found where not expected"
    )


def test_a_member_of_the_wrong_type_is_a_serialization_exception(server_url: str) -> None:
    # When a string member is sent as a number
    response = post(server_url, '{"stateMachineArn": 12}', "AWSStepFunctions.DescribeStateMachine")

    # Then AWS's exact body comes back
    assert response.status_code == 400
    assert response.json() == error(
        "SerializationException", "NUMBER_VALUE cannot be converted to String"
    )


def test_an_object_where_a_string_is_due_is_a_serialization_exception(server_url: str) -> None:
    # When a string member is sent as an object
    response = post(server_url, '{"executionArn": {}}', "AWSStepFunctions.DescribeExecution")

    # Then the deserializer's words for a structure come back
    assert response.status_code == 400
    assert response.json() == error(
        "SerializationException", "Start of structure or map found where not expected."
    )


def test_a_missing_required_member_is_a_validation_exception_in_aws_words(server_url: str) -> None:
    # When StartExecution has no stateMachineArn
    response = post(server_url, '{"input": "{}"}', "AWSStepFunctions.StartExecution")

    # Then the body is AWS's, word for word
    assert response.status_code == 400
    assert response.json() == error(
        "ValidationException",
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy "
        "constraint: Member must not be null",
    )


def test_every_missing_member_is_counted(server_url: str) -> None:
    # When CreateStateMachine has none of its required members (null counts as absent)
    response = post(server_url, '{"name": null}', "AWSStepFunctions.CreateStateMachine")

    # Then all three are listed
    assert response.status_code == 400
    body = response.json()
    assert body["__type"] == f"{NAMESPACE}#ValidationException"
    assert body["message"].startswith("3 validation errors detected: Value null at 'name'")
    assert "Value null at 'definition'" in body["message"]
    assert "Value null at 'roleArn'" in body["message"]


def test_an_unknown_operation_is_refused(server_url: str) -> None:
    # When the target names no Step Functions operation
    response = post(server_url, "{}", "AWSStepFunctions.LaunchRocket")

    # Then UnknownOperationException comes back
    assert response.status_code == 400
    assert response.json()["__type"] == f"{NAMESPACE}#UnknownOperationException"


def test_a_missing_target_is_an_unknown_operation(server_url: str) -> None:
    # When there is no X-Amz-Target header
    response = post(server_url, "{}", target=None)

    # Then UnknownOperationException comes back
    assert response.status_code == 400
    assert response.json()["__type"] == f"{NAMESPACE}#UnknownOperationException"


def test_another_services_target_is_an_unknown_operation(server_url: str) -> None:
    # When the target is DynamoDB's
    response = post(server_url, "{}", "DynamoDB_20120810.ListTables")

    # Then UnknownOperationException comes back
    assert response.status_code == 400
    assert response.json()["__type"] == f"{NAMESPACE}#UnknownOperationException"


def test_unknown_members_are_ignored_as_aws_ignores_them(server_url: str) -> None:
    # When a request carries a member the model does not know
    body = {"name": "extra", "definition": PASS_MACHINE, "roleArn": ROLE, "fromTheFuture": 1}
    response = post(server_url, json.dumps(body), "AWSStepFunctions.CreateStateMachine")

    # Then the operation runs; timestamps are epoch seconds, as AWS sends them
    assert response.status_code == 200
    created = response.json()
    assert created["stateMachineArn"].endswith(":stateMachine:extra")
    assert isinstance(created["creationDate"], float)


def test_an_empty_body_is_an_empty_request(server_url: str) -> None:
    # When ListStateMachines is posted with no body at all
    response = post(server_url, b"")

    # Then it is answered as {}
    assert response.status_code == 200
    assert response.json() == {"stateMachines": []}
