"""Nested executions, activities and callbacks on a real fleet (Celery worker + beat on
Redis + PostgreSQL), including a worker killed -9 while a child or an activity is outstanding."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from engine import ActivityWorker
from engine._errors import TaskTimedOut
from tests.integration.conftest import Fleet, shape

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

Json = Any
START = "arn:aws:states:::states:startExecution"
CHILD_OK = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"n": 7}, "End": True}}}
CHILD_FAILS = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}


def _child_waits(seconds: int) -> Json:
    return {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}}}


def _start_child(resource: str, child: str, **fields: Json) -> Json:
    parameters = {"StateMachineArn": child, "Input": {"from": "parent"}}
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **fields}


def _only_child(fleet: Fleet, child_machine: str) -> str:
    found = fleet.await_condition(
        lambda: fleet.client.list_executions(stateMachineArn=child_machine)["executions"],
        60,
        "the child execution",
    )
    return str(found[0]["executionArn"])


def test_sync_and_sync2_children_return_their_output_as_aws(fleet: Fleet) -> None:
    # Given a parent running a child under .sync, then under .sync:2
    child = fleet.create("child", CHILD_OK)
    parent = fleet.create(
        "parent",
        {
            "StartAt": "Sync",
            "States": {
                "Sync": _start_child(f"{START}.sync", child, ResultPath="$.sync", Next="Sync2"),
                "Sync2": _start_child(f"{START}.sync:2", child, ResultPath="$.sync2", End=True),
            },
        },
    )
    # When it runs on the fleet
    run = fleet.start_execution(parent, {}, "sync")
    described = fleet.await_status(run)
    # Then .sync gave Output as a string, .sync:2 as JSON
    output = json.loads(described["output"])
    assert described["status"] == "SUCCEEDED"
    assert (output["sync"]["Status"], output["sync"]["Output"]) == ("SUCCEEDED", '{"n":7}')
    assert output["sync2"]["Output"] == {"n": 7}


def test_a_failing_child_fails_its_task_with_states_task_failed(fleet: Fleet) -> None:
    # Given a parent catching the failure of a .sync child that fails
    child = fleet.create("failing-child", CHILD_FAILS)
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]
    parent = fleet.create(
        "catching-parent",
        {
            "StartAt": "Sync",
            "States": {
                "Sync": _start_child(f"{START}.sync", child, Catch=catch, End=True),
                "Caught": {"Type": "Pass", "End": True},
            },
        },
    )
    # When it runs
    described = fleet.await_status(fleet.start_execution(parent, {}, "fails"))
    # Then it caught States.TaskFailed with the child's description as Cause
    caught = json.loads(described["output"])
    assert caught["Error"] == "States.TaskFailed"
    assert json.loads(caught["Cause"])["Status"] == "FAILED"


def test_stopping_the_parent_stops_its_sync_child(fleet: Fleet) -> None:
    # Given a parent waiting on a .sync child that waits a minute
    child = fleet.create("long-child", _child_waits(60))
    parent = fleet.create(
        "stopped-parent",
        {"StartAt": "Sync", "States": {"Sync": _start_child(f"{START}.sync", child, End=True)}},
    )
    run = fleet.start_execution(parent, {}, "stopped")
    child_run = _only_child(fleet, child)
    # When the parent is stopped
    fleet.client.stop_execution(executionArn=run)
    # Then the child is aborted too
    assert fleet.await_status(child_run, timeout=60)["status"] == "ABORTED"


def _activity_machine(fleet: Fleet, name: str, activity: str, **fields: Json) -> str:
    work = {"Type": "Task", "Resource": activity, "End": True, **fields}
    return fleet.create(name, {"StartAt": "Work", "States": {"Work": work}})


def test_an_activity_worker_in_a_thread_serves_the_activity(fleet: Fleet) -> None:
    # Given an execution waiting on an activity, and a worker thread serving it
    fleet.client.activity_poll_seconds = 1.0
    activity = fleet.client.create_activity(name="double")["activityArn"]
    machine = _activity_machine(fleet, "activity", activity, HeartbeatSeconds=30)
    stop = threading.Event()
    worker = ActivityWorker(
        fleet.client, activity, lambda x: {"n": x["n"] * 2}, worker_name="t1", heartbeat_seconds=1
    )
    thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        # When the execution runs
        described = fleet.await_status(fleet.start_execution(machine, {"n": 21}, "served"))
    finally:
        stop.set()
        thread.join(timeout=30)
    # Then it succeeded with the worker's answer
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"n": 42})


def test_an_activity_without_heartbeats_times_out_and_late_answers_are_refused(
    fleet: Fleet,
) -> None:
    # Given an activity task taken by a worker that never reports back (HeartbeatSeconds 2)
    fleet.client.activity_poll_seconds = 30.0
    activity = fleet.client.create_activity(name="silent")["activityArn"]
    machine = _activity_machine(fleet, "silent", activity, HeartbeatSeconds=2)
    run = fleet.start_execution(machine, {}, "silent")
    token = fleet.client.get_activity_task(activityArn=activity, workerName="w")["taskToken"]
    assert token
    # When its heartbeat deadline passes
    described = fleet.await_status(run, timeout=60)
    # Then the execution failed with States.HeartbeatTimeout, and the late answer is refused
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")
    with pytest.raises(TaskTimedOut):
        fleet.client.send_task_success(taskToken=token, output="{}")


def test_a_repeated_answer_is_task_timed_out(fleet: Fleet) -> None:
    # Given an activity task answered once
    fleet.client.activity_poll_seconds = 30.0
    activity = fleet.client.create_activity(name="twice")["activityArn"]
    run = fleet.start_execution(_activity_machine(fleet, "twice", activity), {}, "twice")
    token = fleet.client.get_activity_task(activityArn=activity)["taskToken"]
    fleet.client.send_task_success(taskToken=token, output='{"ok":true}')
    assert fleet.await_status(run)["status"] == "SUCCEEDED"
    # When it is answered again, Then TaskTimedOut, as AWS answers a closed task
    with pytest.raises(TaskTimedOut):
        fleet.client.send_task_success(taskToken=token, output="{}")


def test_killed_while_a_child_is_outstanding_the_parent_completes_as_if_uninterrupted(
    fleet: Fleet,
) -> None:
    # Given a clean run of a parent whose .sync child waits 4 s
    child = fleet.create("crash-child", _child_waits(4))
    parent = fleet.create(
        "crash-parent",
        {"StartAt": "Sync", "States": {"Sync": _start_child(f"{START}.sync:2", child, End=True)}},
    )
    clean = fleet.start_execution(parent, {}, "clean")
    assert fleet.await_status(clean)["status"] == "SUCCEEDED"
    # When the worker is killed -9 while the child of a second run waits, then restarted
    crashed = fleet.start_execution(parent, {}, "crashed")
    fleet.await_condition(
        lambda: len(
            fleet.client.list_executions(stateMachineArn=child, statusFilter="RUNNING")[
                "executions"
            ]
        ),
        60,
        "the second run's child to be running",
    )
    fleet.kill("worker")
    fleet.start("worker")
    # Then the parent completes with the history of the uninterrupted run
    assert fleet.await_status(crashed)["status"] == "SUCCEEDED"
    assert shape(fleet.history(crashed)) == shape(fleet.history(clean))


def test_killed_while_an_activity_is_outstanding_it_completes_as_if_uninterrupted(
    fleet: Fleet,
) -> None:
    # Given a clean run of an activity answered by hand
    fleet.client.activity_poll_seconds = 30.0
    activity = fleet.client.create_activity(name="crash")["activityArn"]
    machine = _activity_machine(fleet, "crash-activity", activity)

    def answer(run: str) -> dict[str, Json]:
        token = fleet.client.get_activity_task(activityArn=activity, workerName="w")["taskToken"]
        fleet.client.send_task_success(taskToken=token, output='{"ok":true}')
        return fleet.await_status(run)

    clean = fleet.start_execution(machine, {}, "clean")
    assert answer(clean)["status"] == "SUCCEEDED"
    # When the worker is killed -9 while a second run's activity task waits, then restarted
    crashed = fleet.start_execution(machine, {}, "crashed")
    fleet.await_event(crashed, "ActivityScheduled")
    fleet.kill("worker")
    fleet.start("worker")
    # Then it is served and completes with the history of the uninterrupted run
    assert answer(crashed)["status"] == "SUCCEEDED"
    assert shape(fleet.history(crashed)) == shape(fleet.history(clean))
