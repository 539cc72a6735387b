"""Variables (Assign) and JSONata state live in the checkpoint: a new process resumes them."""

from __future__ import annotations

import json
from pathlib import Path

from engine import connect
from engine._api import Client
from engine._clock import FakeClock
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

MACHINE = {
    "QueryLanguage": "JSONata",
    "StartAt": "Remember",
    "States": {
        "Remember": {
            "Type": "Pass",
            "Assign": {"customer": "{% $states.input.customer %}", "visits": 1},
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 60, "Next": "Branches"},
        "Branches": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Inner",
                    "States": {
                        "Inner": {
                            "Type": "Pass",
                            "Assign": {"visits": "{% $visits + 100 %}"},
                            "Output": "{% $customer & ':' & $string($visits) %}",
                            "End": True,
                        }
                    },
                }
            ],
            "Next": "Greet",
        },
        "Greet": {
            "Type": "Pass",
            "Output": {
                "hello": "{% $customer %}",
                "visits": "{% $visits %}",
                "branch": "{% $states.input[0] %}",
            },
            "End": True,
        },
    },
}


def _runtime(url: str, clock: FakeClock) -> tuple[Runtime, InMemoryDispatcher, Client]:
    store = Store(make_engine(url))
    store.create_schema()
    dispatcher = InMemoryDispatcher()
    client = connect(store=store, dispatcher=dispatcher, clock=clock)
    return client.backend.runtime, dispatcher, client  # type: ignore[attr-defined]


def test_assigned_variables_survive_a_restart_and_stay_scoped(tmp_path: Path) -> None:
    # Given an execution that assigned variables and now waits
    url, clock = f"sqlite:///{tmp_path / 'store.db'}", FakeClock()
    runtime, dispatcher, client = _runtime(url, clock)
    arn = client.create_state_machine(
        name="vars", definition=json.dumps(MACHINE), roleArn="arn:aws:iam::1:role/r"
    )["stateMachineArn"]
    run = client.start_execution(stateMachineArn=arn, input='{"customer": "ada"}')["executionArn"]
    dispatcher.run_all(runtime, HandlerRegistry())
    assert client.describe_execution(executionArn=run)["status"] == "RUNNING"

    # When the process is gone and a new one (new engine, runtime, dispatcher) resumes
    del runtime, dispatcher, client
    clock.advance(61)
    runtime, dispatcher, client = _runtime(url, clock)
    runtime.fire_due_timers()
    dispatcher.join(runtime, HandlerRegistry(), clock)

    # Then the variables assigned before the restart are still there, and the branch's own
    # assignment did not leak out of the Parallel
    described = client.describe_execution(executionArn=run)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"hello": "ada", "visits": 1, "branch": "ada:1"}
