"""WARNING diagnostics: Task resources that nothing in this process can serve.

A definition naming ``arn:aws:states:::dynamodb:putItem`` is valid ASL, but with the AWS
mode off no integration runs it and its executions would fail at that Task. The validation
API reports such a resource as a WARNING (AWS's ``severity``), which never turns an ``OK``
result into ``FAIL``: the definition may be meant for a fleet that serves more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine._interpreter.integration import ResourceKind, describe_resource
from engine._resources import HandlerRegistry

Json = Any
UNSERVED_RESOURCE = "UNSERVED_RESOURCE"
# What the AWS mode (STEPLINE_AWS_INTEGRATIONS) would serve: worth naming in the warning.
_AWS_MODE_SERVICES = ("sqs", "sns", "events", "dynamodb", "s3")


def unserved_resource_warnings(raw: Json, registry: HandlerRegistry) -> list[dict[str, str]]:
    """One WARNING diagnostic per Task whose resource ``registry`` cannot serve.

    Args:
        raw: the definition's JSON (any shape: what is not a Task with a string Resource is
            skipped; the ERROR diagnostics report it).
        registry: the handlers and integrations this process runs Tasks with.

    Returns:
        ``{"severity": "WARNING", "code", "message", "location"}`` diagnostics, in document
        order; locations are JSON pointers to the ``Resource`` field.
    """
    return [
        _warning(resource, location, registry)
        for resource, location in _task_resources(raw, "")
        if not _served(resource, registry)
    ]


def _served(resource: str, registry: HandlerRegistry) -> bool:
    # Activities are served by whoever polls GetActivityTask: nothing to check here.
    if describe_resource(resource).kind is ResourceKind.ACTIVITY:
        return True
    return registry.serves(resource)


def _warning(resource: str, location: str, registry: HandlerRegistry) -> dict[str, str]:
    info = describe_resource(resource)
    served = ", ".join(registry.integration_names()) or "none"
    message = (
        f"no integration serves the Task resource '{resource}': expected a Lambda function "
        f"ARN, an activity ARN or a service integration this process serves ({served}); "
        "its executions would fail at this state"
    )
    service = info.resource_type.split(":")[0]
    if service == "aws-sdk" or service in _AWS_MODE_SERVICES:
        message += " unless STEPLINE_AWS_INTEGRATIONS=true (real AWS through boto3)"
    return {
        "severity": "WARNING",
        "code": UNSERVED_RESOURCE,
        "message": message,
        "location": location,
    }


def _task_resources(machine: Json, pointer: str) -> Iterator[tuple[str, str]]:
    """(Resource, JSON pointer) of every Task, nested branches and Map processors included."""
    states = machine.get("States") if isinstance(machine, dict) else None
    if not isinstance(states, dict):
        return
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        here = f"{pointer}/States/{_escape(str(name))}"
        if state.get("Type") == "Task" and isinstance(state.get("Resource"), str):
            yield state["Resource"], f"{here}/Resource"
        yield from _nested(state, here)


def _nested(state: dict[str, Json], here: str) -> Iterator[tuple[str, str]]:
    branches = state.get("Branches")
    if isinstance(branches, list):
        for index, branch in enumerate(branches):
            yield from _task_resources(branch, f"{here}/Branches/{index}")
    for field in ("ItemProcessor", "Iterator"):
        yield from _task_resources(state.get(field), f"{here}/{field}")


def _escape(token: str) -> str:
    """A JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")
