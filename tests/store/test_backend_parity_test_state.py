"""TestState answers the same on the local and the durable backend (SQLite, PostgreSQL).

A Task without a mock calls its handler through the registry executions use on each
backend; nothing is stored by a test.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._messaging import queues
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.shapes import assert_shape, body
from tests.unit.interpreter.support import T0

Json = Any
TASK = {
    "Type": "Task",
    "Resource": "arn:aws:lambda:us-east-1:111111111111:function:add",
    "Parameters": {"n.$": "$.n"},
    "ResultPath": "$.sum",
    "Retry": [{"ErrorEquals": ["Overflow"], "MaxAttempts": 1}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
    "Next": "Done",
}


def _registry() -> HandlerRegistry:
    registry = HandlerRegistry()

    def add(event: Json, context: Json) -> Json:
        if event["n"] > 100:
            raise OverflowError("too big")
        return event["n"] + 1

    registry.register("add", add)
    return registry


def _clients(store: Store) -> dict[str, Client]:
    """A local client and a durable one over ``store``, each with the same handlers."""
    clock = FakeClock(T0)
    runtime = Runtime(store, InMemoryDispatcher(), clock)
    return {
        "local": Client(LocalBackend(handlers=_registry(), clock=clock), clock=clock),
        "durable": Client(DurableBackend(store, runtime, _registry()), clock=clock),
    }


def _without_request_ids(response: dict[str, Json]) -> str:
    """The response as text, each Lambda envelope's fresh ``requestId`` blanked."""
    return re.sub(r"requestId[^,]*,", "requestId,", json.dumps(body(response), sort_keys=True))


@pytest.mark.parametrize(
    ("value", "expected_status"),
    [({"n": 1}, "SUCCEEDED"), ({"n": 101}, "CAUGHT_ERROR")],
)
def test_given_a_real_handler_when_tested_on_each_backend_then_the_answers_agree(
    store: Store, value: Json, expected_status: str
) -> None:
    # Given the same Task on a local and a durable client
    answers = {}
    for name, client in _clients(store).items():
        # When it is tested without a mock
        response = client.test_state(
            definition=json.dumps(TASK), input=json.dumps(value), inspectionLevel="DEBUG"
        )
        assert_shape("TestState", response)
        answers[name] = response
    # Then both called the handler and classified its outcome alike
    assert _without_request_ids(answers["local"]) == _without_request_ids(answers["durable"])
    assert answers["local"]["status"] == expected_status


def test_given_a_durable_client_when_a_state_is_tested_then_no_execution_is_stored(
    store: Store,
) -> None:
    client = _clients(store)["durable"]
    client.test_state(definition=json.dumps(TASK), input='{"n": 1}')
    assert client.list_state_machines()["stateMachines"] == []


def test_given_a_durable_client_when_an_sqs_task_is_tested_then_the_message_is_on_the_queue(
    store: Store,
) -> None:
    # Given a queue on the store
    queues.create_queue(store.engine, "work", now=T0)
    client = _clients(store)["durable"]
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "work", "MessageBody.$": "$.body"},
        "End": True,
    }
    # When a SendMessage Task is tested twice without a mock
    for text in ("first", "second"):
        response = client.test_state(definition=json.dumps(state), input=json.dumps({"body": text}))
        assert_shape("TestState", response)
        assert response["status"] == "SUCCEEDED", response
    # Then both messages were sent through the store's queue, as an execution sends them
    received = queues.receive_messages(store.engine, "work", 10, 30, clock=FakeClock(T0))
    assert sorted(m.body for m in received) == ["first", "second"]
