"""How a Task's ``Resource`` shows in history: Lambda function, service integration, activity.

Pure naming only; which Python code runs a resource is the shell's business
(:mod:`engine._resources`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class ResourceKind(StrEnum):
    """The three families of Task resources, each with its own history event types."""

    LAMBDA_FUNCTION = "lambda_function"  # arn:aws:lambda:...:function:NAME → LambdaFunction*
    SERVICE = "service"  # arn:aws:states:::SERVICE:ACTION[.pattern] → Task*
    ACTIVITY = "activity"  # arn:aws:states:REGION:ACCOUNT:activity:NAME → Activity*


class Pattern(StrEnum):
    """The service integration pattern, from the resource's suffix."""

    REQUEST_RESPONSE = ""
    SYNC = ".sync"
    SYNC2 = ".sync:2"
    WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"


_LAMBDA_ARN = re.compile(r"^arn:[a-z-]+:lambda:([^:]*):([^:]*):function:([^:]+)(?::([^:]+))?$")
_SERVICE_ARN = re.compile(r"^arn:[a-z-]+:states:::([A-Za-z0-9-]+):([^:.]+(?:\.[^:.]+)*)(:2)?$")
# aws-sdk resources show as resourceType "aws-sdk:SERVICE", resource "ACTION[.pattern]" (AWS);
# the empty third group stands for _SERVICE_ARN's ":2" so both read alike.
_SDK_ARN = re.compile(r"^arn:[a-z-]+:states:::(aws-sdk:[a-z0-9-]+):([^:.]+(?:\.[^:.]+)*)()$")
_ACTIVITY_ARN = re.compile(r"^arn:[a-z-]+:states:([^:]*):([^:]*):activity:(.+)$")


@dataclass(frozen=True)
class ResourceInfo:
    """A parsed Task resource.

    Attributes:
        kind: which family of history events it uses.
        uri: the resource as written.
        resource_type: ``lambda``, ``sqs``, ``celery``... (service integrations).
        resource: the action with its pattern suffix, e.g. ``invoke`` or
            ``sendTask.waitForTaskToken`` (service), or the function/activity name.
        pattern: the integration pattern.
        data_limit_label: how the DataLimitExceeded cause names the task.
    """

    kind: ResourceKind
    uri: str
    resource_type: str
    resource: str
    pattern: Pattern
    data_limit_label: str


@lru_cache(maxsize=1024)
def describe_resource(uri: str) -> ResourceInfo:
    """Classify a Task ``Resource`` URI (validation has already checked its shape).

    Pure in ``uri`` and asked for at every task event, so remembered.
    """
    if match := _LAMBDA_ARN.match(uri):
        return ResourceInfo(
            ResourceKind.LAMBDA_FUNCTION,
            uri,
            "lambda",
            match.group(3),
            Pattern.REQUEST_RESPONSE,
            uri,
        )
    if match := _SDK_ARN.match(uri) or _SERVICE_ARN.match(uri):
        service, action = match.group(1), match.group(2) + (match.group(3) or "")
        pattern = next(
            (
                p
                for p in (Pattern.SYNC2, Pattern.SYNC, Pattern.WAIT_FOR_TASK_TOKEN)
                if action.endswith(p)
            ),
            Pattern.REQUEST_RESPONSE,
        )
        return ResourceInfo(ResourceKind.SERVICE, uri, service, action, pattern, service)
    if match := _ACTIVITY_ARN.match(uri):
        return ResourceInfo(
            ResourceKind.ACTIVITY, uri, "activity", match.group(3), Pattern.REQUEST_RESPONSE, uri
        )
    return ResourceInfo(ResourceKind.SERVICE, uri, "unknown", uri, Pattern.REQUEST_RESPONSE, uri)


def base_action(info: ResourceInfo) -> str:
    """The service action without its pattern suffix (``sendTask`` for ``sendTask.sync``)."""
    suffix = info.pattern.value
    return info.resource[: -len(suffix)] if suffix else info.resource
