"""The local and the durable backend agree: the same request gives the same execution.

Each test runs through ``Client`` on the local backend and on the durable one (SQLite and
PostgreSQL, driven in-process with `InMemoryDispatcher`).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

import engine
from engine import _errors as errors
from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._dataflow.nesting import MAX_NESTING_DEPTH
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.unit.interpreter.support import T0
from tests.unit.test_examples import EXAMPLES, SHIPPED

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


def _handlers() -> HandlerRegistry:
    """The examples' handlers (registered on import, like ``--handlers``) and ``noop``."""
    spec = importlib.util.spec_from_file_location("order_handlers", EXAMPLES / "order_handlers.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with patch.object(engine, "handler", HANDLERS.handler):
        spec.loader.exec_module(module)
    return HANDLERS


HANDLERS = HandlerRegistry()
HANDLERS.register("noop", lambda event, context: None)


def local_harness() -> Harness:
    """A client over the in-memory backend."""
    clock = FakeClock(T0)
    backend = LocalBackend(handlers=_handlers(), clock=clock)
    return Harness(Client(backend, clock=clock))


def durable_harness(store: Store) -> Harness:
    """A client over the SQL store, its messages delivered in-process."""
    clock, dispatcher = FakeClock(T0), InMemoryDispatcher()
    handlers = _handlers()
    runtime = Runtime(store, dispatcher, clock)
    client = Client(DurableBackend(store, runtime, handlers), clock=clock)
    return Harness(client, lambda: dispatcher.join(runtime, handlers, clock))


BACKENDS = [
    pytest.param("local", id="local"),
    pytest.param("sqlite", id="durable-sqlite"),
    pytest.param("postgres", id="durable-postgres", marks=pytest.mark.postgres),
]


@contextmanager
def migrated_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store of ``request.param`` (``sqlite`` or ``postgres``), migrated to the head."""
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    upgrade(url)
    engine = make_engine(url)
    try:
        yield Store(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """Each backend in turn: local, then durable on SQLite and on PostgreSQL."""
    if request.param == "local":
        yield local_harness()
        return
    with migrated_store(request, tmp_path) as store:
        yield durable_harness(store)


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


YAML = """\
# YAML, with JSON's meaning
StartAt: Greet
States:
  Greet:
    Type: Pass
    Parameters:
      greeting.$: States.Format('Hello, {}!', $.name)
      on: 2016-03-14T01:59:00Z
    Next: Done
  Done:
    Type: Succeed
"""


def test_a_yaml_definition_runs_to_completion(harness: Harness) -> None:
    # Given a state machine written in YAML (as the README advertises)
    arn = harness.client.create_state_machine(name="hello", definition=YAML, roleArn=FIRST_ROLE)[
        "stateMachineArn"
    ]
    # When an execution runs
    execution = harness.client.start_execution(stateMachineArn=arn, input='{"name": "Ada"}')
    # Then it succeeds as the JSON equivalent would, on every backend
    assert harness.output(execution["executionArn"]) == {
        "greeting": "Hello, Ada!",
        "on": "2016-03-14T01:59:00Z",
    }


WAITING_YAML = """\
StartAt: Hold
States:
  Hold:
    Type: Task
    Resource: arn:aws:states:::lambda:invoke.waitForTaskToken
    Parameters:
      FunctionName: noop
      Payload:
        token.$: $$.Task.Token
    End: true
"""


def test_a_yaml_execution_can_be_stopped(harness: Harness) -> None:
    # Given a YAML machine whose execution waits for a callback
    client = harness.client
    arn = client.create_state_machine(name="hold", definition=WAITING_YAML, roleArn=FIRST_ROLE)[
        "stateMachineArn"
    ]
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    harness.settle()
    # When it is stopped (``stepline stop``)
    client.stop_execution(executionArn=execution, error="Operator", cause="no longer needed")
    # Then it ended ABORTED with the operator's error
    described = client.describe_execution(executionArn=execution)
    assert (described["status"], described["error"]) == ("ABORTED", "Operator")


# Every definition in examples/, with the inputs the examples' README runs it with.
EXAMPLE_RUNS = {
    "hello.asl.yaml": [('{"name": "Ada"}', "SUCCEEDED", {"greeting": "Hello, Ada!"})],
    "order_processing.asl.json": [
        ("@order_input.json", "SUCCEEDED", SHIPPED),
        ("@order_input_out_of_stock.json", "FAILED", None),
    ],
}


def test_every_example_definition_has_a_run_here() -> None:
    # Then no example definition escapes the run on both backends below
    assert sorted(EXAMPLE_RUNS) == sorted(p.name for p in EXAMPLES.glob("*.asl.*"))


@pytest.mark.parametrize(
    ("definition", "payload", "status", "output"),
    [
        pytest.param(name, *run, id=f"{name}-{index}")
        for name, runs in EXAMPLE_RUNS.items()
        for index, run in enumerate(runs)
    ],
)
def test_every_example_runs_on_every_backend(
    harness: Harness, definition: str, payload: str, status: str, output: Json
) -> None:
    # Given an example definition and one of its inputs
    text = (EXAMPLES / definition).read_text()
    if payload.startswith("@"):
        payload = (EXAMPLES / payload[1:]).read_text()
    machine = harness.client.create_state_machine(
        name=definition.split(".")[0], definition=text, roleArn=FIRST_ROLE
    )["stateMachineArn"]
    # When it runs
    arn = harness.client.start_execution(stateMachineArn=machine, input=payload)["executionArn"]
    harness.settle()
    # Then it ends as documented
    described = harness.client.describe_execution(executionArn=arn)
    assert described["status"] == status, described
    if output is not None:
        assert json.loads(described["output"]) == output


def test_a_nul_in_a_state_name_is_refused_at_create_on_every_backend(harness: Harness) -> None:
    # Given a definition whose state name holds a NUL (PostgreSQL cannot store one in text)
    name = "Charge\x00"
    definition = json.dumps({"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}})
    # When a machine is created from it
    with pytest.raises(errors.InvalidDefinitionRequest) as caught:
        harness.client.create_state_machine(name="nul", definition=definition, roleArn=FIRST_ROLE)
    # Then it is an invalid definition, not a database error at the first execution
    assert "control character U+0000" in caught.value.message


def test_an_input_nested_to_the_limit_runs_on_every_backend(harness: Harness) -> None:
    # Given a machine passing its input through a Pass, a payload template and a Map
    definition = {
        "StartAt": "Copy",
        "States": {
            "Copy": {"Type": "Pass", "Parameters": {"items.$": "$"}, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "End": True,
                "ItemProcessor": {
                    "StartAt": "Keep",
                    "States": {"Keep": {"Type": "Pass", "End": True}},
                },
            },
        },
    }
    arn = harness.client.create_state_machine(
        name="deep", definition=json.dumps(definition), roleArn=FIRST_ROLE
    )["stateMachineArn"]
    payload = "[" * MAX_NESTING_DEPTH + "]" * MAX_NESTING_DEPTH
    # When an input nested exactly as deep as allowed runs
    execution = harness.client.start_execution(stateMachineArn=arn, input=payload)
    # Then it succeeds with its value intact (the Map kept the one inner item)
    assert harness.output(execution["executionArn"]) == json.loads(payload)
