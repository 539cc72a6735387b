"""``states:startExecution`` on the durable backend in-process (fake dispatcher and clock),
and on the local client: every pattern, a failing child, stop propagation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.children import CHILDREN
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.unit.interpreter.support import T0

Json = Any
ROLE = "arn:aws:iam::111111111111:role/nested"
START = "arn:aws:states:::states:startExecution"


@dataclass
class Fleet:
    """A durable client whose messages run in-process until nothing is left."""

    client: Client
    settle: Callable[[], None]
    store: Store


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    store = Store(make_engine(url))
    clock, dispatcher, handlers = FakeClock(T0), InMemoryDispatcher(), HandlerRegistry()
    runtime = Runtime(store, dispatcher, clock)
    client = Client(DurableBackend(store, runtime, handlers), clock=clock)
    return Fleet(client, lambda: dispatcher.join(runtime, handlers, clock), store)


def _machine(client: Client, name: str, definition: Json) -> str:
    created = client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


CHILD_OK = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"n": 7}, "End": True}}}
CHILD_FAILS = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "no"}}}
CHILD_WAITS = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": True}}}


def _parent(resource: str, child_arn: str, **task: Json) -> Json:
    parameters = {"StateMachineArn": child_arn, "Input": {"from": "parent"}}
    return {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": parameters,
                "End": True,
                **task,
            }
        },
    }


def _run(fleet: Fleet, parent: Json) -> dict[str, Json]:
    arn = _machine(fleet.client, "parent", parent)
    started = fleet.client.start_execution(stateMachineArn=arn, name="run", input="{}")
    fleet.settle()
    return fleet.client.describe_execution(executionArn=started["executionArn"])


def test_sync_returns_the_childs_description_with_output_as_a_string(fleet: Fleet) -> None:
    # Given a parent starting a child that succeeds, under .sync
    child = _machine(fleet.client, "child", CHILD_OK)
    # When the parent runs to its end
    described = _run(fleet, _parent(f"{START}.sync", child))
    # Then its output is the child's DescribeExecution, Output as a JSON string
    output = json.loads(described["output"])
    assert described["status"] == "SUCCEEDED"
    assert output["Status"] == "SUCCEEDED"
    assert output["Output"] == '{"n":7}'
    assert output["ExecutionArn"].startswith(
        "arn:aws:states:us-east-1:111111111111:execution:child:"
    )
    assert isinstance(output["StartDate"], int)
    assert isinstance(output["StopDate"], int)


def test_sync2_returns_the_output_as_json(fleet: Fleet) -> None:
    # Given a parent starting a child that succeeds, under .sync:2
    child = _machine(fleet.client, "child", CHILD_OK)
    # When the parent runs to its end
    described = _run(fleet, _parent(f"{START}.sync:2", child))
    # Then Output is the child's output as JSON
    assert json.loads(described["output"])["Output"] == {"n": 7}


def test_a_failed_child_fails_the_task_with_states_task_failed(fleet: Fleet) -> None:
    # Given a child that fails and a parent catching every error of its .sync task
    child = _machine(fleet.client, "child", CHILD_FAILS)
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    parent = _parent(f"{START}.sync", child, Catch=catch)
    del parent["States"]["Start"]["End"]
    parent["States"]["Start"]["Next"] = "Caught"
    parent["States"]["Caught"] = {"Type": "Pass", "End": True}
    # When the parent runs
    described = _run(fleet, parent)
    # Then it caught States.TaskFailed whose Cause is the child's description as JSON
    caught = json.loads(described["output"])
    assert caught["Error"] == "States.TaskFailed"
    cause = json.loads(caught["Cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "Nope", "no")


def test_request_response_returns_the_arn_and_start_date(fleet: Fleet) -> None:
    # Given a parent starting a child without waiting
    child = _machine(fleet.client, "child", CHILD_OK)
    # When the parent runs
    described = _run(fleet, _parent(START, child))
    # Then its result is StartExecution's answer, and the child ran too
    output = json.loads(described["output"])
    assert set(output) == {"ExecutionArn", "StartDate"}
    child_run = fleet.client.describe_execution(executionArn=output["ExecutionArn"])
    assert child_run["status"] == "SUCCEEDED"
    assert json.loads(child_run["input"]) == {"from": "parent"}


def test_stopping_the_parent_stops_its_sync_child(fleet: Fleet) -> None:
    # Given a parent waiting on a .sync child that waits 100 s
    child = _machine(fleet.client, "child", CHILD_WAITS)
    arn = _machine(fleet.client, "parent", _parent(f"{START}.sync", child))
    started = fleet.client.start_execution(stateMachineArn=arn, name="run", input="{}")
    runtime: Runtime = fleet.client.backend.runtime  # type: ignore[attr-defined]
    dispatcher: InMemoryDispatcher = runtime.dispatcher  # type: ignore[assignment]
    handlers = fleet.client.backend.handlers  # type: ignore[attr-defined]
    dispatcher.run_all(runtime, handlers)
    with fleet.store.engine.connect() as db:
        child_arn = db.execute(CHILDREN.select()).mappings().one()["child_arn"]
    assert fleet.client.describe_execution(executionArn=child_arn)["status"] == "RUNNING"
    # When the parent is stopped
    fleet.client.stop_execution(executionArn=started["executionArn"])
    dispatcher.run_all(runtime, handlers)
    # Then the child is aborted too
    assert fleet.client.describe_execution(executionArn=child_arn)["status"] == "ABORTED"


def test_wait_for_task_token_hands_the_token_to_the_child(fleet: Fleet) -> None:
    # Given a parent passing its task token to a child that waits
    child = _machine(fleet.client, "child", CHILD_WAITS)
    parent = _parent(f"{START}.waitForTaskToken", child)
    parent["States"]["Start"]["Parameters"]["Input"] = {"token.$": "$$.Task.Token"}
    arn = _machine(fleet.client, "parent", parent)
    started = fleet.client.start_execution(stateMachineArn=arn, name="run", input="{}")
    runtime: Runtime = fleet.client.backend.runtime  # type: ignore[attr-defined]
    dispatcher: InMemoryDispatcher = runtime.dispatcher  # type: ignore[assignment]
    handlers = fleet.client.backend.handlers  # type: ignore[attr-defined]
    dispatcher.run_all(runtime, handlers)
    children = fleet.client.list_executions(stateMachineArn=child)["executions"]
    child_input = fleet.client.describe_execution(executionArn=children[0]["executionArn"])
    token = json.loads(child_input["input"])["token"]
    # When the token's success is sent
    fleet.client.send_task_success(taskToken=token, output='{"done":true}')
    dispatcher.run_all(runtime, handlers)
    # Then the parent succeeds with that output
    described = fleet.client.describe_execution(executionArn=started["executionArn"])
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"done": True})


def test_a_local_client_runs_the_sync_child_in_process() -> None:
    # Given the in-process client and a child that succeeds
    client = Client.local(HandlerRegistry(), clock=FakeClock(T0))
    child = _machine(client, "child", CHILD_OK)
    arn = _machine(client, "parent", _parent(f"{START}.sync:2", child))
    # When the parent runs
    run = client.start_execution(stateMachineArn=arn, input="{}")
    # Then it got the child's output at once
    described = client.describe_execution(executionArn=run["executionArn"])
    assert json.loads(described["output"])["Output"] == {"n": 7}


def test_a_refused_start_fails_the_task_with_the_step_functions_exception(fleet: Fleet) -> None:
    # Given a parent starting a state machine that does not exist
    missing = "arn:aws:states:us-east-1:111111111111:stateMachine:missing"
    # When it runs
    described = _run(fleet, _parent(f"{START}.sync", missing))
    # Then the task failed with StartExecution's error, named as Step Functions names it
    assert described["status"] == "FAILED"
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert "Error Code: StateMachineDoesNotExist" in described["cause"]


def test_a_redelivered_start_names_the_same_child() -> None:
    # Given one invocation (same idempotency key) delivered twice
    from engine._integrations.nested import default_name
    from engine._resources import TaskCall

    call = TaskCall(START, {}, execution_arn="arn:x", state_name="S", thread_id="root", seq=3)
    # Then both deliveries name the child alike, and another visit differently
    assert default_name(call) == default_name(call)
    assert default_name(call) != default_name(TaskCall(START, {}, "arn:x", "S", seq=4))


def test_a_sync_task_that_times_out_stops_its_child_at_once(fleet: Fleet) -> None:
    # Given a parent whose .sync task allows 5 s for a child that waits 100 s, then catches
    # the timeout and waits 50 s more
    child = _machine(fleet.client, "child", CHILD_WAITS)
    catch = [{"ErrorEquals": ["States.Timeout"], "Next": "Later"}]
    parent = _parent(f"{START}.sync", child, TimeoutSeconds=5, Catch=catch)
    parent["States"]["Later"] = {"Type": "Wait", "Seconds": 50, "End": True}
    arn = _machine(fleet.client, "parent", parent)
    # When the parent runs to its end (the fake clock jumps from deadline to deadline)
    started = fleet.client.start_execution(stateMachineArn=arn, name="run", input="{}")
    fleet.settle()
    # Then the child was stopped when the task timed out, not when the parent ended
    described = fleet.client.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    children = fleet.client.list_executions(stateMachineArn=child)["executions"]
    assert [c["status"] for c in children] == ["ABORTED"]
    stopped_after = (children[0]["stopDate"] - described["startDate"]).total_seconds()
    assert 5 <= stopped_after < 10


def test_the_parent_execution_id_reaches_the_child_as_aws_documents_it(fleet: Fleet) -> None:
    # Given a parent passing $$.Execution.Id under AWS's documented key, as AWS's guide shows
    child = _machine(fleet.client, "child", CHILD_OK)
    parent = _parent(START, child)
    parent["States"]["Start"]["Parameters"]["Input"] = {
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"
    }
    # When it runs
    described = _run(fleet, parent)
    # Then the child's input names the parent execution (Step Functions adds nothing itself)
    child_run = json.loads(described["output"])["ExecutionArn"]
    child_input = json.loads(fleet.client.describe_execution(executionArn=child_run)["input"])
    assert child_input == {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": described["executionArn"]}
