"""Activities on the durable backend in-process (and on the local client): the API,
GetActivityTask, ActivityStarted with the worker's name, heartbeats and their timeout,
and AWS's answers to repeated and late callbacks."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from engine import ActivityDoesNotExist, ActivityWorker
from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._errors import TaskDoesNotExist, TaskTimedOut
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.shapes import assert_shape
from tests.unit.interpreter.support import T0

Json = Any
ROLE = "arn:aws:iam::111111111111:role/activities"


class Durable:
    """A durable client on SQLite whose messages and timers run in-process on demand."""

    def __init__(self, url: str) -> None:
        upgrade(url)
        store = Store(make_engine(url))
        self.clock, self.dispatcher = FakeClock(T0), InMemoryDispatcher()
        self.handlers = HandlerRegistry()
        self.runtime = Runtime(store, self.dispatcher, self.clock)
        self.client = Client(DurableBackend(store, self.runtime, self.handlers), clock=self.clock)
        self.client.activity_poll_seconds = 0.0

    def settle(self) -> None:
        self.dispatcher.run_all(self.runtime, self.handlers)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.runtime.fire_due_timers()
        self.settle()


@pytest.fixture
def durable(tmp_path: Path) -> Durable:
    return Durable(f"sqlite:///{tmp_path / 'store.db'}")


def _start(client: Client, activity_arn: str, **task: Json) -> str:
    state = {"Type": "Task", "Resource": activity_arn, "End": True, **task}
    definition = {"StartAt": "Work", "States": {"Work": state}}
    machine = client.create_state_machine(
        name="uses-activity", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    return str(client.start_execution(stateMachineArn=machine, input='{"n":2}')["executionArn"])


def _types(client: Client, arn: str) -> list[str]:
    events = client.get_execution_history(executionArn=arn)["events"]
    return [event["type"] for event in events]


def test_the_activity_api_is_idempotent_and_lists_and_deletes(durable: Durable) -> None:
    # Given an activity created twice under one name
    first = durable.client.create_activity(name="resize")
    again = durable.client.create_activity(name="resize")
    # Then it is one activity, described and listed
    assert first["activityArn"] == again["activityArn"]
    assert first["activityArn"] == "arn:aws:states:us-east-1:111111111111:activity:resize"
    described = durable.client.describe_activity(activityArn=first["activityArn"])
    assert described["name"] == "resize"
    listed = durable.client.list_activities()["activities"]
    assert [a["name"] for a in listed] == ["resize"]
    # When it is deleted, Then it does not exist any more
    durable.client.delete_activity(activityArn=first["activityArn"])
    with pytest.raises(ActivityDoesNotExist):
        durable.client.describe_activity(activityArn=first["activityArn"])


def test_a_worker_takes_the_task_and_its_answer_ends_the_execution(durable: Durable) -> None:
    # Given an execution waiting on an activity
    activity = durable.client.create_activity(name="double")["activityArn"]
    arn = _start(durable.client, activity)
    durable.settle()
    # When a worker takes the task and answers it
    worker = ActivityWorker(
        durable.client,
        activity,
        lambda x: {"n": x["n"] * 2},
        worker_name="w1",
        heartbeat_seconds=None,
    )
    assert worker.run_once()
    durable.settle()
    # Then the execution succeeded with the answer, ActivityStarted naming the worker
    described = durable.client.describe_execution(executionArn=arn)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"n": 4})
    assert _types(durable.client, arn)[2:5] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
    ]
    events = durable.client.get_execution_history(executionArn=arn)["events"]
    assert events[3]["activityStartedEventDetails"] == {"workerName": "w1"}


def test_no_waiting_task_gives_no_token(durable: Durable) -> None:
    # Given an activity with no task
    activity = durable.client.create_activity(name="idle")["activityArn"]
    # When a worker polls
    answer = durable.client.get_activity_task(activityArn=activity)
    # Then there is no token, as boto3 reads AWS's null one
    assert "taskToken" not in answer
    assert_shape("GetActivityTask", answer)


def test_a_missing_heartbeat_times_the_activity_out(durable: Durable) -> None:
    # Given a task taken by a worker that never reports back, HeartbeatSeconds 5
    activity = durable.client.create_activity(name="slow")["activityArn"]
    arn = _start(durable.client, activity, HeartbeatSeconds=5, TimeoutSeconds=60)
    durable.settle()
    token = durable.client.get_activity_task(activityArn=activity, workerName="w")["taskToken"]
    # When 3 s pass, a heartbeat comes, then 6 s pass without one
    durable.advance(3)
    durable.client.send_task_heartbeat(taskToken=token)
    durable.advance(6)
    # Then the execution failed with States.HeartbeatTimeout; the late answer is TaskTimedOut
    described = durable.client.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")
    assert "ActivityTimedOut" in _types(durable.client, arn)
    with pytest.raises(TaskTimedOut):
        durable.client.send_task_success(taskToken=token, output="{}")


def test_a_repeated_callback_is_task_timed_out_and_an_unknown_one_does_not_exist(
    durable: Durable,
) -> None:
    # Given an activity task answered once
    activity = durable.client.create_activity(name="once")["activityArn"]
    _start(durable.client, activity)
    durable.settle()
    token = durable.client.get_activity_task(activityArn=activity)["taskToken"]
    durable.client.send_task_success(taskToken=token, output="{}")
    # When it is answered again, Then TaskTimedOut (AWS: the task is closed)
    with pytest.raises(TaskTimedOut):
        durable.client.send_task_success(taskToken=token, output="{}")
    # And a token nobody issued is TaskDoesNotExist
    with pytest.raises(TaskDoesNotExist):
        durable.client.send_task_success(taskToken="0" * 64, output="{}")


def test_the_local_client_serves_activities_too() -> None:
    # Given the in-process client, an activity and an execution waiting on it
    client = Client.local(HandlerRegistry(), clock=FakeClock(T0))
    client.activity_poll_seconds = 0.0
    activity = client.create_activity(name="local")["activityArn"]
    arn = _start(client, activity)
    # When a worker serves it
    worker = ActivityWorker(client, activity, lambda x: x["n"] + 1, heartbeat_seconds=None)
    assert worker.run_once()
    # Then the execution succeeded; a repeated answer is TaskTimedOut
    assert client.describe_execution(executionArn=arn)["output"] == "3"
    assert _types(client, arn)[3] == "ActivityStarted"


def test_a_late_callback_on_the_local_client_is_task_timed_out() -> None:
    # Given a local execution whose callback task timed out
    client = Client.local(HandlerRegistry(), clock=FakeClock(T0))
    client.activity_poll_seconds = 0.0
    activity = client.create_activity(name="late")["activityArn"]
    arn = _start(client, activity, TimeoutSeconds=5)
    token = client.get_activity_task(activityArn=activity)["taskToken"]
    client.clock.advance(6)  # type: ignore[attr-defined]
    assert client.describe_execution(executionArn=arn)["status"] == "FAILED"
    # When the answer comes late, Then TaskTimedOut, as on AWS
    with pytest.raises(TaskTimedOut):
        client.send_task_success(taskToken=token, output="{}")


def test_the_worker_heartbeats_while_its_function_runs(
    durable: Durable, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker heartbeating every 20 ms and a function taking 300 ms
    activity = durable.client.create_activity(name="beats")["activityArn"]
    _start(durable.client, activity, HeartbeatSeconds=60)
    durable.settle()
    beats: list[str] = []
    send = durable.client.send_task_heartbeat

    def counted(**request: Json) -> Json:
        beats.append(request["taskToken"])
        return send(**request)

    monkeypatch.setattr(durable.client, "send_task_heartbeat", counted)
    worker = ActivityWorker(
        durable.client, activity, lambda x: threading.Event().wait(0.3), heartbeat_seconds=0.02
    )
    # When it serves the task
    assert worker.run_once()
    # Then it reported the task alive several times meanwhile
    assert len(beats) >= 3


def test_a_failing_function_fails_the_task_with_its_exception(durable: Durable) -> None:
    # Given a worker whose function raises
    activity = durable.client.create_activity(name="fails")["activityArn"]
    arn = _start(durable.client, activity)
    durable.settle()

    def broken(task_input: Json) -> Json:
        raise LookupError("no such order")

    # When it serves the task
    assert ActivityWorker(durable.client, activity, broken, heartbeat_seconds=None).run_once()
    durable.settle()
    # Then the execution failed with the exception's class name and message
    described = durable.client.describe_execution(executionArn=arn)
    assert (described["error"], described["cause"]) == ("LookupError", "no such order")
