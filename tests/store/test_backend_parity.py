"""The local and the durable backend agree: the same request gives the same execution.

Each test runs through ``Client`` on the local backend and on the durable one (SQLite and
PostgreSQL, driven in-process with `InMemoryDispatcher`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.api import Client
from engine.backends.durable import DurableBackend
from engine.backends.local import LocalBackend
from engine.clock import FakeClock
from engine.resources import HandlerRegistry
from engine.runtime import Runtime
from engine.store.db import make_engine
from engine.store.migrate import upgrade
from engine.store.repository import Store
from engine.testing import InMemoryDispatcher, drain
from tests.unit.interpreter.support import T0

Json = Any
FIRST_ROLE = "arn:aws:iam::111111111111:role/first"
SECOND_ROLE = "arn:aws:iam::111111111111:role/second"
CONTEXT = json.dumps(
    {
        "StartAt": "Show",
        "States": {
            "Show": {
                "Type": "Pass",
                "Parameters": {
                    "role.$": "$$.Execution.RoleArn",
                    "machine.$": "$$.StateMachine.Id",
                    "name.$": "$$.StateMachine.Name",
                },
                "End": True,
            }
        },
    }
)


@dataclass
class Harness:
    """A client over one backend, and how to run what it started to the end."""

    client: Client
    settle: Callable[[], None] = lambda: None  # the local backend runs executions at start

    def output(self, arn: str) -> Json:
        """The output of the succeeded execution ``arn``."""
        self.settle()
        described = self.client.describe_execution(executionArn=arn)
        assert described["status"] == "SUCCEEDED", described
        return json.loads(described["output"])


def local_harness(handlers: HandlerRegistry | None = None) -> Harness:
    """A client over the in-memory backend."""
    clock = FakeClock(T0)
    backend = LocalBackend(handlers=handlers or HandlerRegistry(), clock=clock)
    return Harness(Client(backend, clock=clock))


def durable_harness(store: Store, handlers: HandlerRegistry | None = None) -> Harness:
    """A client over the SQL store, its messages delivered in-process."""
    clock, dispatcher = FakeClock(T0), InMemoryDispatcher()
    handlers = handlers or HandlerRegistry()
    runtime = Runtime(store, dispatcher, clock)
    client = Client(DurableBackend(store, runtime, handlers), clock=clock)
    return Harness(client, lambda: drain(runtime, dispatcher, handlers, clock))


BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("sqlite", id="durable-sqlite"),
    pytest.param("postgres", id="durable-postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """Each backend in turn: local, then durable on SQLite and on PostgreSQL."""
    if request.param == "local":
        yield local_harness()
        return
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    upgrade(url)
    engine = make_engine(url)
    try:
        yield durable_harness(Store(engine))
    finally:
        engine.dispose()


def test_a_version_execution_runs_as_the_versions_role(harness: Harness) -> None:
    # Given version 1 published with the first role, then the machine moved to a second role
    client = harness.client
    created = client.create_state_machine(
        name="roles", definition=CONTEXT, roleArn=FIRST_ROLE, publish=True
    )
    arn = created["stateMachineArn"]
    client.update_state_machine(stateMachineArn=arn, roleArn=SECOND_ROLE)
    # When version 1 and the machine itself are started
    of_version = client.start_execution(stateMachineArn=f"{arn}:1")["executionArn"]
    of_machine = client.start_execution(stateMachineArn=arn)["executionArn"]
    # Then, as on AWS, the version's execution runs as the version's role, the other as the
    # machine's current role; both name the machine (or version) they run
    assert harness.output(of_version) == {
        "role": FIRST_ROLE,
        "machine": f"{arn}:1",
        "name": "roles",
    }
    assert harness.output(of_machine) == {"role": SECOND_ROLE, "machine": arn, "name": "roles"}
