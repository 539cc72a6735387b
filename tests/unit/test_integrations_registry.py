"""Service integrations in the registry: dispatch by (service, action), waits, unknown ones."""

from __future__ import annotations

from typing import Any

import pytest

from engine._resources import AWAITING, HandlerRegistry, IntegrationNotFound, TaskCall

Json = Any


def _registry() -> tuple[HandlerRegistry, list[TaskCall]]:
    calls: list[TaskCall] = []

    def send(call: TaskCall, services: Any) -> Json:
        calls.append(call)
        return {"MessageId": "m-1"}

    registry = HandlerRegistry()
    registry.register_integration("sqs", "sendMessage", send)
    return registry, calls


def test_a_service_resource_runs_its_registered_integration() -> None:
    # Given an integration registered for sqs:sendMessage
    registry, calls = _registry()
    call = TaskCall("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": "m"})
    # When the resource is invoked
    result = registry.invoke(call)
    # Then the integration got the call and its result is the task's result
    assert result == {"MessageId": "m-1"}
    assert calls == [call]


def test_a_wait_for_task_token_call_awaits_its_callback_whatever_the_call_returned() -> None:
    # Given the same integration, called with .waitForTaskToken
    registry, calls = _registry()
    call = TaskCall(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken", {"QueueUrl": "q"}, task_token="t"
    )
    # When it is invoked
    outcome = registry.invoke(call)
    # Then the message was sent and the task awaits its token's callback
    assert outcome is AWAITING
    assert len(calls) == 1


def test_a_resource_with_no_integration_fails_at_once_naming_it() -> None:
    # Given a registry without a Glue integration (nor is one built in)
    registry, _ = _registry()
    # When glue:startJobRun is invoked
    with pytest.raises(IntegrationNotFound) as raised:
        registry.invoke(TaskCall("arn:aws:states:::glue:startJobRun", {}))
    # Then it fails as States.TaskFailed naming the resource and what is registered
    assert raised.value.name == "States.TaskFailed"
    assert "arn:aws:states:::glue:startJobRun" in str(raised.value.cause)
    assert "sqs:sendMessage" in str(raised.value.cause)


def test_a_registry_names_what_it_serves_and_merges_integrations() -> None:
    # Given a registry with an integration, merged into another
    registry, _ = _registry()
    merged = HandlerRegistry()
    merged.merge(registry)
    # When it is asked what it serves
    # Then the integration is named, and a resource of it is served, an unknown one not
    assert "sqs:sendMessage" in merged.integration_names()
    assert "http:invoke" in merged.integration_names()  # a built-in
    assert merged.serves("arn:aws:states:::sqs:sendMessage.waitForTaskToken")
    assert merged.serves("arn:aws:lambda:us-east-1:111111111111:function:anything")
    assert not merged.serves("arn:aws:states:::glue:startJobRun")
