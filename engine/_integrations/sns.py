"""``arn:aws:states:::sns:publish`` on the store's topics: fan out to subscribed queues.

Parameters, as AWS's Publish: ``TopicArn`` (or ``TargetArn``; an ARN or a topic name) and
``Message`` are required; a JSON (non-string) message is sent as its compact JSON text.
``Subject`` and ``MessageAttributes`` apply; ``MessageStructure``, ``MessageGroupId`` and
``MessageDeduplicationId`` are accepted. The result is Publish's response as Step
Functions returns it: ``MessageId`` plus the SDK metadata.

Errors: a topic that does not exist fails the task with ``SNS.NotFoundException`` (the
SDK's exception for SNS's ``NotFound`` error code, which Publish models); missing
parameters with ``SNS.InvalidParameterException``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine._errors import StatesError
from engine._integrations.services import Services
from engine._integrations.sqs import response, store_of
from engine._messaging.topics import TopicDoesNotExist, publish
from engine._resources import Integration, TaskCall

Json = Any
NOT_FOUND = "SNS.NotFoundException"
INVALID = "SNS.InvalidParameterException"
KNOWN = frozenset(
    {
        "TopicArn",
        "TargetArn",
        "PhoneNumber",
        "Message",
        "Subject",
        "MessageAttributes",
        "MessageStructure",
        "MessageGroupId",
        "MessageDeduplicationId",
    }
)


def publish_task(call: TaskCall, services: Services | None) -> Json:
    """Publish the message the call's ``Parameters`` describe; Publish's response."""
    runtime = store_of(services, call.resource)
    parameters = _parameters(call.parameters)
    message = parameters["Message"]
    text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, call.idempotency_key))
    try:
        publish(
            runtime.store.engine,
            parameters.get("TopicArn") or parameters["TargetArn"],
            text,
            parameters.get("Subject"),
            parameters.get("MessageAttributes"),
            now=runtime.clock.now(),
            message_id=message_id,
        )
    except TopicDoesNotExist as error:
        cause = _aws_cause(f"Topic does not exist: {error}", 404, "NotFound")
        raise StatesError(NOT_FOUND, cause) from None
    except ValueError as error:
        raise StatesError(INVALID, _aws_cause(str(error), 400, "InvalidParameter")) from None
    return response({"MessageId": message_id})


def _parameters(parameters: Json) -> dict[str, Json]:
    if not isinstance(parameters, dict):
        cause = f"sns:publish Parameters: expected an object, got {json.dumps(parameters)}"
        raise StatesError(INVALID, _aws_cause(cause, 400, "InvalidParameter"))
    if parameters.get("Message") is None:
        cause = "sns:publish: the required parameter Message is missing"
        raise StatesError(INVALID, _aws_cause(cause, 400, "InvalidParameter"))
    if not (parameters.get("TopicArn") or parameters.get("TargetArn")):
        cause = "sns:publish: expected TopicArn or TargetArn (a topic), got neither"
        raise StatesError(INVALID, _aws_cause(cause, 400, "InvalidParameter"))
    unknown = sorted(set(parameters) - KNOWN)
    if unknown:
        cause = f"sns:publish: expected parameters among {sorted(KNOWN)}, got {unknown}"
        raise StatesError(INVALID, _aws_cause(cause, 400, "InvalidParameter"))
    return parameters


def _aws_cause(message: str, status: int, code: str) -> str:
    return (
        f"{message} (Service: AmazonSNS; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )


INTEGRATIONS: dict[tuple[str, str], Integration] = {("sns", "publish"): publish_task}
