"""``.waitForTaskToken`` on the durable path: the task waits in SQL until SendTaskSuccess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import _errors as errors
from engine import connect
from engine._clock import FakeClock
from engine._resources import HandlerContext, HandlerRegistry
from engine._store.db import make_engine
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

MACHINE = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}},
            "TimeoutSeconds": 3600,
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
    },
}


class Fixture:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.tokens: list[str] = []
        self.handlers = HandlerRegistry()
        self.handlers.register("ask", self._ask)
        store = Store(make_engine(f"sqlite:///{tmp_path / 'store.db'}"))
        store.create_schema()
        self.dispatcher = InMemoryDispatcher()
        self.client = connect(
            store=store, dispatcher=self.dispatcher, clock=self.clock, handlers=self.handlers
        )
        self.runtime = self.client.backend.runtime
        self.arn = self.client.create_state_machine(
            name="approval", definition=json.dumps(MACHINE), roleArn="arn:aws:iam::1:role/r"
        )["stateMachineArn"]

    def _ask(self, event: dict[str, str], context: HandlerContext) -> None:
        self.tokens.append(event["token"])

    def start(self) -> str:
        run = self.client.start_execution(stateMachineArn=self.arn, input="{}")["executionArn"]
        self.dispatcher.run_all(self.runtime, self.handlers)
        return str(run)

    def status(self, run: str) -> dict[str, object]:
        return self.client.describe_execution(executionArn=run)


@pytest.fixture
def fx(tmp_path: Path) -> Fixture:
    return Fixture(tmp_path)


def test_a_callback_task_waits_until_send_task_success(fx: Fixture) -> None:
    # Given an execution whose task handed its token out
    run = fx.start()
    assert fx.status(run)["status"] == "RUNNING"
    assert len(fx.tokens) == 1
    # When the token comes back with an output
    fx.client.send_task_success(taskToken=fx.tokens[0], output='{"approved": true}')
    fx.dispatcher.join(fx.runtime, fx.handlers, fx.clock)
    # Then the execution continues with that output
    described = fx.status(run)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(str(described["output"])) == {"approved": True}


def test_send_task_failure_fails_the_task_with_its_error(fx: Fixture) -> None:
    # Given a waiting execution
    run = fx.start()
    # When the token comes back as a failure
    fx.client.send_task_failure(taskToken=fx.tokens[0], error="Rejected", cause="no budget")
    fx.dispatcher.join(fx.runtime, fx.handlers, fx.clock)
    # Then the execution fails with that error
    described = fx.status(run)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Rejected",
        "no budget",
    )


def test_an_unknown_token_is_refused(fx: Fixture) -> None:
    # Given no task waiting on a token
    # When a callback names it
    # Then it is refused with boto3's code
    with pytest.raises(errors.ClientError) as refused:
        fx.client.send_task_success(taskToken="nope", output="{}")
    assert refused.value.response["Error"]["Code"] == "TaskDoesNotExist"


def test_the_task_times_out_when_no_callback_comes(fx: Fixture) -> None:
    # Given a waiting execution
    run = fx.start()
    # When its hour passes with no callback
    fx.clock.advance(3601)
    fx.runtime.fire_due_timers()
    fx.dispatcher.join(fx.runtime, fx.handlers, fx.clock)
    # Then it fails with States.Timeout
    assert (fx.status(run)["status"], fx.status(run)["error"]) == ("FAILED", "States.Timeout")


def test_a_callback_after_the_timeout_is_refused(fx: Fixture) -> None:
    # Given a task that timed out waiting for its callback
    run = fx.start()
    fx.clock.advance(3601)
    fx.runtime.fire_due_timers()
    fx.dispatcher.join(fx.runtime, fx.handlers, fx.clock)
    # When the callback arrives late
    # Then it is refused with TaskTimedOut and the execution stays failed
    with pytest.raises(errors.ClientError) as refused:
        fx.client.send_task_success(taskToken=fx.tokens[0], output="{}")
    assert refused.value.response["Error"]["Code"] == "TaskTimedOut"
    assert fx.status(run)["error"] == "States.Timeout"
