"""Definitions and executions the graph tests share (run on the local client)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import engine
from engine._api import Client
from engine._clock import FakeClock
from engine._resources import HandlerRegistry

Json = Any
ROLE = "arn:aws:iam::111111111111:role/test"
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"
ORDER = Path(__file__).parents[3] / "examples" / "order_processing.asl.json"


class Flaky(Exception):
    """Fails the first attempt of ``flaky``."""


class Broken(Exception):
    """Always raised by ``broken``."""


def registry() -> HandlerRegistry:
    """Handlers: ``ok`` echoes, ``flaky`` fails its first attempt, ``broken`` always fails."""
    handlers = HandlerRegistry()

    @handlers.handler("ok")
    def ok(event: Json, context: engine.HandlerContext) -> Json:
        return event

    @handlers.handler("flaky")
    def flaky(event: Json, context: engine.HandlerContext) -> Json:
        if context.attempt == 0:
            raise Flaky("first attempt")
        return event

    @handlers.handler("broken")
    def broken(event: Json, context: engine.HandlerContext) -> Json:
        raise Broken("always")

    return handlers


def task(name: str, **fields: Json) -> dict[str, Json]:
    """A Task state calling handler ``name``."""
    return {"Type": "Task", "Resource": LAMBDA + name, **fields}


def run(definition: Json, payload: Json = None) -> tuple[dict[str, Json], list[dict[str, Json]]]:
    """Run ``definition`` locally; its DescribeExecution and its history."""
    client = Client.local(registry(), clock=FakeClock())
    text = json.dumps(definition)
    arn = client.create_state_machine(name="m", definition=text, roleArn=ROLE)["stateMachineArn"]
    started = client.start_execution(stateMachineArn=arn, input=json.dumps(payload or {}))
    described = client.describe_execution(executionArn=started["executionArn"])
    events = client.get_execution_history(executionArn=started["executionArn"])["events"]
    return described, events
