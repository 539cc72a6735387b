"""``celery:sendTask`` on the durable backend, in-process: the fake Celery app stands in for
the broker, and the tests call the completion callbacks a Celery worker would call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._integrations.celery_tasks import send_task
from engine._integrations.services import Services
from engine._resources import HandlerRegistry, TaskCall
from engine._runtime import Runtime
from engine._store.continuations import (
    ended_continuations,
    pending_continuations,
    put_continuation,
    take_continuation,
)
from engine._store.repository import Store
from engine._store.workers import announce
from engine.testing import InMemoryDispatcher
from tasks import wiring
from tasks.celery_sync import celery_failed, celery_succeeded
from tests.unit.integrations.test_celery_send_task import FakeCelery

Json = Any
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROLE = "arn:aws:iam::111111111111:role/celery"


class Fixture:
    """A durable client whose ``celery:sendTask`` sends to a fake Celery app."""

    def __init__(self, store: Store) -> None:
        self.celery = FakeCelery()
        self.clock = FakeClock(T0)
        self.dispatcher = InMemoryDispatcher()
        self.runtime = Runtime(store, self.dispatcher, self.clock)
        self.registry = HandlerRegistry()
        self.registry.register_integration("celery", "sendTask", self._send)
        self.client = Client(DurableBackend(store, self.runtime, self.registry), clock=self.clock)

    def _send(self, call: TaskCall, services: Services | None) -> Json:
        assert services is not None
        return send_task(call, replace(services, celery=self.celery))

    def run(self, resource: str, parameters: Json, name: str = "e") -> str:
        task = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
        definition = {"StartAt": "Send", "States": {"Send": task}}
        machine = self.client.create_state_machine(
            name=f"m-{name}", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        arn = self.client.start_execution(stateMachineArn=machine, name=name, input="{}")
        self.dispatcher.run_all(self.runtime, self.registry)
        return str(arn["executionArn"])

    def describe(self, arn: str) -> dict[str, Json]:
        self.dispatcher.run_all(self.runtime, self.registry)
        return dict(self.client.describe_execution(executionArn=arn))


@pytest.fixture
def env(store: Store) -> Iterator[Fixture]:
    fixture = Fixture(store)
    wiring.set_runtime(fixture.runtime)  # what the callbacks report to
    try:
        yield fixture
    finally:
        wiring.reset()


SYNC = "arn:aws:states:::celery:sendTask.sync"


def test_request_response_succeeds_once_the_task_is_sent(env: Fixture) -> None:
    # When a state sends a task request-response
    arn = env.run("arn:aws:states:::celery:sendTask", {"TaskName": "t", "Queue": "q"})
    # Then the execution succeeds with what was sent where, without waiting for the task
    described = env.describe(arn)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output == {"TaskId": env.celery.sent[0]["task_id"], "TaskName": "t", "Queue": "q"}


def test_sync_ends_with_the_tasks_return_value_reported_by_its_link(env: Fixture) -> None:
    # Given a worker that announced the Celery task, and a .sync state sending it
    announce(env.runtime.store.engine, "w@h", [], [], ["celery-task:t"], T0)
    arn = env.run(SYNC, {"TaskName": "t", "Args": [2]})
    # Then the execution waits (no worker held) until the task ends
    assert env.describe(arn)["status"] == "RUNNING"
    # When Celery calls the link with the task's return value
    celery_succeeded({"total": 4}, **env.celery.sent[0]["link"]["kwargs"])
    # Then the state's result is that value
    described = env.describe(arn)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"total": 4}


def test_sync_fails_with_the_exception_class_as_error_and_its_message_as_cause(
    env: Fixture,
) -> None:
    # Given a .sync state whose task is running
    announce(env.runtime.store.engine, "w@h", [], [], ["celery-task:t"], T0)
    arn = env.run(SYNC, {"TaskName": "t"})
    # When Celery calls the errback with the failed request and its exception
    kwargs = env.celery.sent[0]["link_error"]["kwargs"]
    celery_failed(SimpleNamespace(id="x"), KeyError("no such order"), None, **kwargs)
    # Then the execution fails with Error = the class name, Cause = the exception's text
    described = env.describe(arn)
    assert described["status"] == "FAILED"
    assert (described["error"], described["cause"]) == ("KeyError", "'no such order'")


def test_a_repeated_report_of_the_same_task_changes_nothing(env: Fixture) -> None:
    # Given a .sync state that already ended with its task's result
    announce(env.runtime.store.engine, "w@h", [], [], ["celery-task:t"], T0)
    arn = env.run(SYNC, {"TaskName": "t"})
    kwargs = env.celery.sent[0]["link"]["kwargs"]
    celery_succeeded(1, **kwargs)
    history = env.client.get_execution_history(executionArn=arn)["events"]
    # When the task ran twice (at-least-once) and reports again, differently
    celery_failed("task-id", ValueError("late"), None, **kwargs)
    # Then the execution keeps its outcome and its history
    assert env.describe(arn)["status"] == "SUCCEEDED"
    assert env.client.get_execution_history(executionArn=arn)["events"] == history


def test_an_unknown_task_name_fails_a_sync_state_at_once(env: Fixture) -> None:
    # Given workers that announced other Celery tasks only
    announce(env.runtime.store.engine, "w@h", [], [], ["celery-task:other"], T0)
    # When a .sync state sends a task nobody registered
    arn = env.run(SYNC, {"TaskName": "misspelt"})
    # Then the execution fails at once, naming the task and what was expected
    described = env.describe(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "Celery.NotRegistered"
    assert "'misspelt'" in described["cause"]
    assert "celery-task:misspelt" in described["cause"]
    assert env.celery.sent == []


def test_a_continuation_is_taken_once_and_kept_when_sending_fails(store: Store) -> None:
    # Given a stored continuation, stored twice (a redelivered start)
    put_continuation(store.engine, "arn:x", {"chain": [{"task": "next"}]}, T0)
    put_continuation(store.engine, "arn:x", {"chain": []}, T0)
    assert pending_continuations(store.engine) == [("arn:x", {"chain": [{"task": "next"}]})]

    # When sending it fails
    def broken(_: Json) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        take_continuation(store.engine, "arn:x", broken)
    # Then it is still there; when sending works it is taken once, and only once
    sent: list[Json] = []
    assert take_continuation(store.engine, "arn:x", sent.append) is True
    assert take_continuation(store.engine, "arn:x", sent.append) is False
    assert sent == [{"chain": [{"task": "next"}]}]
    assert pending_continuations(store.engine) == []


def test_only_continuations_of_ended_executions_are_due(env: Fixture) -> None:
    # Given continuations of a running execution, an ended one and a vanished one
    announce(env.runtime.store.engine, "w@h", [], [], ["celery-task:t"], T0)
    running = env.run(SYNC, {"TaskName": "t"}, name="running")
    ended = env.run("arn:aws:states:::celery:sendTask", {"TaskName": "t"}, name="ended")
    engine = env.runtime.store.engine
    for arn in (running, ended, "arn:gone"):
        put_continuation(engine, arn, {"chain": []}, T0)
    # When the beat job asks which are due
    due = ended_continuations(engine)
    # Then the running execution's continuation waits; the others are due
    assert sorted(due) == sorted([ended, "arn:gone"])


def test_a_failure_report_that_meets_a_store_outage_is_resent_as_a_message(
    env: Fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a .sync state whose task fails while the store refuses the first report
    import tasks.celery_sync as celery_sync

    announce(env.runtime.store.engine, "w@h", [], [], ["celery-task:t"], T0)
    arn = env.run(SYNC, {"TaskName": "t"})
    report = celery_sync._report
    outage = iter([True])

    def flaky_report(*args: Json) -> None:
        if next(outage, False):
            raise ConnectionError("store down")
        report(*args)

    resent: list[tuple[Json, Json, Json]] = []
    monkeypatch.setattr(celery_sync, "_report", flaky_report)
    monkeypatch.setattr(
        celery_failed, "apply_async", lambda args, kwargs, **o: resent.append((args, kwargs, o))
    )
    # When the failing worker calls the errback
    kwargs = env.celery.sent[0]["link_error"]["kwargs"]
    celery_failed(SimpleNamespace(id="t-1"), ValueError("bad input"), None, **kwargs)
    # Then the report is re-sent as a message carrying the failure already read
    ((args, message, options),) = resent
    assert args == ("t-1",)
    assert (message["error"], message["cause"]) == ("ValueError", "bad input")
    assert options == {"queue": "stepline.integrations"}
    # and once delivered, it fails the state as the first report would have
    celery_failed(*args, **message)
    described = env.describe(arn)
    assert (described["status"], described["error"]) == ("FAILED", "ValueError")
