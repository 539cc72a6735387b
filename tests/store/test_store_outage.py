"""The durable backend while its database is down: a retryable ClientError, not a driver error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine import _errors as errors
from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

Json = Any
# Nothing listens on port 1: every connection attempt is refused at once.
UNREACHABLE = "postgresql+psycopg://stepline:secret@127.0.0.1:1/stepline"
MACHINE = "arn:aws:states:us-east-1:111111111111:stateMachine:orders"
EXECUTION = "arn:aws:states:us-east-1:111111111111:execution:orders:e-1"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
CALLS: dict[str, Callable[[Client], Json]] = {
    "create_state_machine": lambda c: c.create_state_machine(
        name="orders", definition=PASS, roleArn="arn:aws:iam::111111111111:role/r"
    ),
    "list_state_machines": lambda c: c.list_state_machines(),
    "start_execution": lambda c: c.start_execution(stateMachineArn=MACHINE),
    "describe_execution": lambda c: c.describe_execution(executionArn=EXECUTION),
    "get_execution_history": lambda c: c.get_execution_history(executionArn=EXECUTION),
    "stop_execution": lambda c: c.stop_execution(executionArn=EXECUTION),
    "send_task_success": lambda c: c.send_task_success(taskToken="t", output="{}"),
}


@pytest.fixture
def client() -> Iterator[Client]:
    """A client whose durable backend's PostgreSQL is down."""
    store = Store(make_engine(UNREACHABLE))
    runtime = Runtime(store, InMemoryDispatcher(), FakeClock())
    try:
        yield Client(DurableBackend(store, runtime), clock=FakeClock())
    finally:
        store.engine.dispose()


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
def test_an_unreachable_store_is_a_retryable_service_unavailable(
    client: Client, call: Callable[[Client], Json]
) -> None:
    # Given PostgreSQL is unreachable
    # When an API call needs the store
    with pytest.raises(errors.ServiceUnavailable) as caught:
        call(client)
    # Then it fails as a retryable 503 naming the store (password hidden), not a driver error
    refusal = caught.value
    assert refusal.response["Error"]["Code"] == "ServiceUnavailable"
    assert refusal.response["ResponseMetadata"] == {"HTTPStatusCode": 503}
    assert refusal.retryable
    assert "127.0.0.1:1/stepline" in refusal.message
    assert "secret" not in refusal.message
    assert isinstance(refusal, errors.ClientError)
