"""Step Functions Local's mock config behaves the same on the local and the durable backend.

Each test runs through ``Client`` on the local backend and on the durable one (SQLite and
PostgreSQL, driven in-process with `InMemoryDispatcher`), with the same mock config.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine import _errors as errors
from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._integrations.mocks import parse_mock_config, with_mocks
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine.testing import InMemoryDispatcher
from tests.shapes import assert_shape
from tests.store.test_backend_parity import migrated_store
from tests.unit.interpreter.support import T0

Json = Any
ROLE = "arn:aws:iam::111111111111:role/mocked"
MOCKS = parse_mock_config(
    {
        "StateMachines": {
            "Orders": {
                "TestCases": {
                    "RetryPath": {"Charge": "ChargeFlaky", "Notify": "Queued"},
                    "HybridPath": {"Notify": "Queued"},
                    "BeyondThePlan": {"Charge": "ChargeFailsOnce"},
                }
            },
            "Shipping": {"TestCases": {"InMap": {"Ship": "Shipped"}}},
            "Nesting": {
                "TestCases": {
                    "ChildDone": {"Child": "ChildOk"},
                    "ChildFails": {"Child": "ChildBad"},
                }
            },
        },
        "MockedResponses": {
            "ChargeFlaky": {
                "0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow"}},
                "1-2": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "down"}},
                "3": {"Return": {"StatusCode": 200, "Payload": {"charged": "mocked"}}},
            },
            "ChildOk": {"0": {"Return": {"Status": "SUCCEEDED", "Output": {"done": 1}}}},
            "ChildBad": {"0": {"Throw": {"Error": "States.TaskFailed", "Cause": "child failed"}}},
            "ChargeFailsOnce": {"0": {"Throw": {"Error": "Lambda.ServiceException"}}},
            "Queued": {"0": {"Return": {"MessageId": "mocked-message"}}},
            "Shipped": {"0": {"Return": {"shipped": 1}}, "1": {"Return": {"shipped": 2}}},
        },
    }
)
ORDERS = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "ResultSelector": {"charged.$": "$.Payload.charged"},
            "ResultPath": "$.charge",
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.TooManyRequestsException", "Lambda.ServiceException"],
                    "IntervalSeconds": 1,
                    "MaxAttempts": 3,
                    "BackoffRate": 1,
                }
            ],
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/nobody-reads-this",
                "MessageBody": {"token.$": "$$.Task.Token"},
            },
            "ResultPath": "$.notify",
            "End": True,
        },
    },
}
SHIPPING = {
    "StartAt": "Items",
    "States": {
        "Items": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "Ship",
                "States": {
                    "Ship": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:111111111111:function:ship",
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}

NESTING = {
    "StartAt": "Child",
    "States": {
        "Child": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:us-east-1:111111111111:stateMachine:nobody"
            },
            "OutputPath": "$.Output",
            "Catch": [
                {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Recovered"}
            ],
            "End": True,
        },
        "Recovered": {"Type": "Pass", "End": True},
    },
}


@dataclass
class Harness:
    """A client over one backend, how to run what it started, and what was really called."""

    client: Client
    calls: list[str]
    settle: Callable[[], None] = lambda: None

    def described(self, arn: str) -> dict[str, Json]:
        """DescribeExecution of ``arn`` once everything due has run."""
        self.settle()
        response = self.client.describe_execution(executionArn=arn)
        assert_shape("DescribeExecution", response)
        return response

    def history(self, arn: str) -> list[dict[str, Json]]:
        """The history of ``arn`` (types and details, no ids or timestamps)."""
        response = self.client.get_execution_history(executionArn=arn)
        assert_shape("GetExecutionHistory", response)
        return [
            {k: v for k, v in event.items() if k not in {"timestamp", "id", "previousEventId"}}
            for event in response["events"]
        ]


def _registry(calls: list[str]) -> HandlerRegistry:
    registry = HandlerRegistry()

    def charge(event: Json, context: Any) -> Json:
        calls.append("charge")
        return {"charged": "really"}

    def ship(event: Json, context: Any) -> Json:
        calls.append("ship")
        return {"shipped": "really"}

    registry.register("charge", charge)
    registry.register("ship", ship)
    return with_mocks(registry, MOCKS)


@pytest.fixture(params=["local", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """Each backend in turn, with the same mock config."""
    calls: list[str] = []
    handlers, clock = _registry(calls), FakeClock(T0)
    if request.param == "local":
        yield Harness(Client.local(handlers, clock=clock), calls)
        return
    with migrated_store(request, tmp_path) as store:
        dispatcher = InMemoryDispatcher()
        runtime = Runtime(store, dispatcher, clock)
        client = Client(DurableBackend(store, runtime, handlers), clock=clock)
        yield Harness(client, calls, lambda: dispatcher.join(runtime, handlers, clock))


def _machine(harness: Harness, definition: dict[str, Json], name: str = "Orders") -> str:
    created = harness.client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE
    )
    return str(created["stateMachineArn"])


def _types(history: list[dict[str, Json]]) -> list[str]:
    return [event["type"] for event in history]


def test_given_retry_path_when_started_with_the_test_case_then_mocks_throw_then_return(
    harness: Harness,
) -> None:
    # Given Orders, whose RetryPath throws three times before Charge returns
    arn = _machine(harness, ORDERS)
    # When it is started with ARN#RetryPath
    started = harness.client.start_execution(
        stateMachineArn=f"{arn}#RetryPath", name="retry-path", input='{"order": 7}'
    )
    assert_shape("StartExecution", started)
    # Then the execution is the machine's, named as asked, and nothing was really called
    assert started["executionArn"] == arn.replace(":stateMachine:", ":execution:") + ":retry-path"
    described = harness.described(started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert described["stateMachineArn"] == arn
    assert json.loads(described["output"]) == {
        "order": 7,
        "charge": {"charged": "mocked"},
        "notify": {"MessageId": "mocked-message"},
    }
    assert harness.calls == []
    # And the history is a real call's: each attempt scheduled, started, then failed / succeeded;
    # the mocked .waitForTaskToken ends without a callback
    history = harness.history(started["executionArn"])
    assert _types(history) == [
        "ExecutionStarted",
        "TaskStateEntered",
        *["TaskScheduled", "TaskStarted", "TaskFailed"] * 3,
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    failures = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
    assert [(f["error"], f["cause"]) for f in failures] == [
        ("Lambda.TooManyRequestsException", "slow"),
        ("Lambda.ServiceException", "down"),
        ("Lambda.ServiceException", "down"),
    ]
    assert {f["resourceType"] for f in failures} == {"lambda"}


def test_given_hybrid_path_when_started_then_unlisted_states_are_really_called(
    harness: Harness,
) -> None:
    arn = _machine(harness, ORDERS)
    started = harness.client.start_execution(stateMachineArn=f"{arn}#HybridPath", input="{}")
    described = harness.described(started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["charge"] == {"charged": "really"}
    assert harness.calls == ["charge"]


def test_given_a_mocked_state_in_a_map_when_started_then_iterations_take_successive_responses(
    harness: Harness,
) -> None:
    arn = _machine(harness, SHIPPING, name="Shipping")
    mocked = harness.client.start_execution(
        stateMachineArn=f"{arn}#InMap", input='{"items": [1, 2]}'
    )
    real = harness.client.start_execution(stateMachineArn=arn, input='{"items": [3]}')
    # (Step Functions Local counts a state's calls over the execution: iteration 2 is call 1)
    assert json.loads(harness.described(mocked["executionArn"])["output"]) == [
        {"shipped": 1},
        {"shipped": 2},
    ]
    assert json.loads(harness.described(real["executionArn"])["output"]) == [{"shipped": "really"}]
    assert harness.calls == ["ship"]
    lambda_events = [e["type"] for e in harness.history(mocked["executionArn"])]
    assert lambda_events.count("LambdaFunctionSucceeded") == 2


def test_given_attempts_beyond_the_mocked_keys_when_retried_then_the_execution_fails_naming_it(
    harness: Harness,
) -> None:
    arn = _machine(harness, ORDERS)
    started = harness.client.start_execution(stateMachineArn=f"{arn}#BeyondThePlan", input="{}")
    described = harness.described(started["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "invocation 1" in described["cause"]
    assert harness.calls == []


def test_given_an_unknown_test_case_when_started_then_state_machine_does_not_exist(
    harness: Harness,
) -> None:
    arn = _machine(harness, ORDERS)
    with pytest.raises(errors.StateMachineDoesNotExist, match="got 'SadPath'"):
        harness.client.start_execution(stateMachineArn=f"{arn}#SadPath")
    with pytest.raises(errors.StateMachineDoesNotExist):
        harness.client.start_execution(stateMachineArn=f"{arn}#")


def test_given_a_test_case_of_another_machine_when_started_then_state_machine_does_not_exist(
    harness: Harness,
) -> None:
    other = _machine(harness, SHIPPING, name="Shipping")
    with pytest.raises(errors.StateMachineDoesNotExist, match="state machine 'Shipping'"):
        harness.client.start_execution(stateMachineArn=f"{other}#RetryPath")


def test_given_an_express_machine_when_start_sync_runs_a_test_case_then_mocks_answer(
    harness: Harness,
) -> None:
    # Given Orders as an EXPRESS machine (which cannot wait for a token: Notify just sends)
    notify = {
        **ORDERS["States"]["Notify"],
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/1/q", "MessageBody": "x"},
    }
    express = {**ORDERS, "States": {**ORDERS["States"], "Notify": notify}}
    created = harness.client.create_state_machine(
        name="Orders", definition=json.dumps(express), roleArn=ROLE, type="EXPRESS"
    )
    # When StartSyncExecution runs its RetryPath
    done = harness.client.start_sync_execution(
        stateMachineArn=f"{created['stateMachineArn']}#RetryPath", input="{}"
    )
    # Then the mocks answered, and the response is StartSyncExecution's shape
    assert_shape("StartSyncExecution", done)
    assert done["status"] == "SUCCEEDED"
    assert done["stateMachineArn"] == created["stateMachineArn"]
    assert json.loads(done["output"])["charge"] == {"charged": "mocked"}
    assert harness.calls == []


@pytest.mark.parametrize(
    ("test_case", "output"),
    [
        ("ChildDone", {"done": 1}),
        ("ChildFails", {"error": {"Error": "States.TaskFailed", "Cause": "child failed"}}),
    ],
)
def test_given_a_mocked_sync_child_when_started_then_it_ends_at_once_and_catch_applies(
    harness: Harness, test_case: str, output: Json
) -> None:
    # Given a .sync:2 child execution of a machine that does not exist, mocked
    arn = _machine(harness, NESTING, name="Nesting")
    # When the test case runs
    started = harness.client.start_execution(stateMachineArn=f"{arn}#{test_case}", input="{}")
    # Then no child ran: the mocked result (or the caught mocked error) is the output
    described = harness.described(started["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == output
