"""``arn:aws:states:::sqs:sendMessage`` (and ``.waitForTaskToken``) on the store's queues.

Parameters, as AWS's SendMessage: ``QueueUrl`` (a queue URL, ARN or name) and
``MessageBody`` are required; a JSON (non-string) body is sent as its compact JSON text,
as Step Functions serialises it. ``MessageAttributes`` and ``DelaySeconds`` apply;
``MessageGroupId`` and ``MessageDeduplicationId`` are accepted (queues here are not FIFO).
The result is SendMessage's response as Step Functions returns it: ``MD5OfMessageBody``,
``MessageId``, ``SdkHttpMetadata`` and ``SdkResponseMetadata``.

A ``.waitForTaskToken`` message also carries the task's token on its row (users put
``$$.Task.Token`` in the body, as on AWS); a consumer answers with SendTaskSuccess/Failure.
A redelivered Task (a worker died after sending) sends no second message: the MessageId
is derived from the invocation's idempotency key.

Errors: a queue that does not exist fails the task with ``SQS.AmazonSQSException``, the
name Step Functions gives SQS's ``AWS.SimpleQueueService.NonExistentQueue`` on
SendMessage; missing parameters fail it with the same name (``MissingParameter``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine._errors import ErrorName, StatesError
from engine._integrations.services import Services
from engine._messaging.queues import QueueDoesNotExist, md5_hex, send_message
from engine._resources import Integration, TaskCall

Json = Any
SQS_ERROR = "SQS.AmazonSQSException"
KNOWN = frozenset(
    {
        "QueueUrl",
        "MessageBody",
        "MessageAttributes",
        "DelaySeconds",
        "MessageGroupId",
        "MessageDeduplicationId",
        "MessageSystemAttributes",
    }
)


def store_of(services: Services | None, resource: str) -> Any:
    """The durable runtime of ``services``, or a `StatesError` saying the task needs one."""
    if services is None or services.runtime is None:
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"The resource '{resource}' needs the durable store (its queues and topics live "
            "there): expected a worker or engine.connect(), got an in-process client",
        )
    return services.runtime


def send(call: TaskCall, services: Services | None) -> Json:
    """Send the message the call's ``Parameters`` describe; SendMessage's response."""
    runtime = store_of(services, call.resource)
    parameters = _parameters(call.parameters)
    body = _body(parameters["MessageBody"])
    message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, call.idempotency_key))
    try:
        send_message(
            runtime.store.engine,
            parameters["QueueUrl"],
            body,
            parameters.get("MessageAttributes"),
            call.task_token,
            now=runtime.clock.now(),
            delay_seconds=parameters.get("DelaySeconds"),
            message_id=message_id,
        )
    except QueueDoesNotExist as error:
        raise StatesError(SQS_ERROR, _aws_cause(str(error), 400, "NonExistentQueue")) from None
    except ValueError as error:
        raise StatesError(SQS_ERROR, _aws_cause(str(error), 400, "InvalidParameterValue")) from None
    return response({"MD5OfMessageBody": md5_hex(body), "MessageId": message_id})


def response(fields: dict[str, Json]) -> dict[str, Json]:
    """``fields`` with the SDK metadata Step Functions adds to a service's response."""
    request_id = str(uuid.uuid4())
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    return {
        **fields,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {key: [value] for key, value in headers.items()},
            "HttpHeaders": headers,
            "HttpStatusCode": 200,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def _parameters(parameters: Json) -> dict[str, Json]:
    if not isinstance(parameters, dict):
        cause = f"sqs:sendMessage Parameters: expected an object, got {json.dumps(parameters)}"
        raise StatesError(SQS_ERROR, _aws_cause(cause, 400, "MissingParameter"))
    for name in ("QueueUrl", "MessageBody"):
        if parameters.get(name) is None:
            cause = f"sqs:sendMessage: the required parameter {name} is missing"
            raise StatesError(SQS_ERROR, _aws_cause(cause, 400, "MissingParameter"))
    unknown = sorted(set(parameters) - KNOWN)
    if unknown:
        cause = f"sqs:sendMessage: expected parameters among {sorted(KNOWN)}, got {unknown}"
        raise StatesError(SQS_ERROR, _aws_cause(cause, 400, "InvalidParameterValue"))
    return parameters


def _body(body: Json) -> str:
    if isinstance(body, str):
        return body
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _aws_cause(message: str, status: int, code: str) -> str:
    """A Cause in the shape AWS's SDK errors have (service, status, error code, request)."""
    return (
        f"{message} (Service: AmazonSQS; Status Code: {status}; "
        f"Error Code: AWS.SimpleQueueService.{code}; Request ID: {uuid.uuid4()}; Proxy: null)"
    )


INTEGRATIONS: dict[tuple[str, str], Integration] = {("sqs", "sendMessage"): send}
