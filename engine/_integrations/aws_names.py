"""How Step Functions names AWS things: services, operations, errors, and the JSON it returns.

- ``aws-sdk`` resources name the service in lower case (``dynamodb``, ``sfn``, ``acmpca``)
  and the action in camelCase (``putItem``); boto3 names the service its own way
  (``stepfunctions``, ``acm-pca``) and the method in snake_case (``put_item``).
- ``aws-sdk`` errors are ``<Service>.<Name>Exception``: the service in PascalCase as the
  Java SDK v2 spells it (``DynamoDb``, ``AcmPca``, ``Sqs``, ``S3``), and the exception name
  always ending in ``Exception`` (``S3.NoSuchKeyException``), as AWS's guide says.
- optimized integrations keep their historical prefixes (``DynamoDB.``, ``SQS.``, ``SNS.``,
  ``EventBridge.``...).
- results are the API's response as JSON: dates as ISO 8601 text, blobs as text (UTF-8) or
  base64, and no ``ResponseMetadata``.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

Json = Any

# ASL's aws-sdk service names that are not boto3's service names.
SDK_SERVICE_ALIASES = {
    "sfn": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchlogs": "logs",
    "elasticloadbalancingv2": "elbv2",
    "elasticloadbalancing": "elb",
}
OPTIMIZED_PREFIXES = {
    "dynamodb": "DynamoDB",
    "sqs": "SQS",
    "sns": "SNS",
    "events": "EventBridge",
    "s3": "S3",
    "lambda": "Lambda",
}
"""The error prefix of each optimized integration (``arn:aws:states:::SERVICE:ACTION``)."""

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z]*|[a-z]+|\d+")


def boto3_service(sdk_service: str, available: list[str]) -> str | None:
    """boto3's name for an ``aws-sdk`` service name, or None when boto3 has no such service."""
    if sdk_service in SDK_SERVICE_ALIASES:
        return SDK_SERVICE_ALIASES[sdk_service]
    if sdk_service in available:
        return sdk_service
    # ASL drops the dashes of boto3's names: acmpca is acm-pca.
    return next((name for name in available if name.replace("-", "") == sdk_service), None)


def operation_name(action: str) -> str:
    """The API operation of an ASL action: ``putItem`` → ``PutItem``."""
    return action[:1].upper() + action[1:]


def sdk_error_prefix(service_id: str) -> str:
    """The Java SDK v2 PascalCase of a service id: ``DynamoDB`` → ``DynamoDb``."""
    return "".join(word.capitalize() for word in _WORDS.findall(service_id))


def exception_name(code: str) -> str:
    """An error code as Step Functions names it: its last segment, ending in ``Exception``."""
    name = re.split(r"[.#]", code)[-1] or "Unknown"
    return name if name.endswith("Exception") else f"{name}Exception"


def error_cause(message: str, service: str, status: Any, request_id: Any, code: str) -> str:
    """The Cause AWS gives a failed service call (message, then the call's coordinates)."""
    return (
        f"{message} (Service: {service}, Status Code: {status}, Error Code: {code}, "
        f"Request ID: {request_id})"
    )


def to_json(value: Any) -> Json:
    """A boto3 response as JSON values (dates as ISO text, blobs as text, streams read)."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items() if key != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes | bytearray):
        return _blob_text(bytes(value))
    if hasattr(value, "read"):  # a StreamingBody (S3 GetObject's Body)
        return _blob_text(value.read())
    return value


def _blob_text(data: bytes) -> str:
    """A blob as Step Functions shows it: its UTF-8 text, or base64 when it is not text."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")
