"""Backend parity: one table of scenarios, each run through the local and the durable backend.

The two backends share the interpreter's activation but not their shells (in-process
timeline vs. SQL store + outbox + timers). Every scenario must give the same
DescribeExecution answer and the same history, event for event, on both (the durable one
on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._resources import HandlerContext, HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tests.shapes import body
from tests.unit.interpreter.support import T0

Json = Any
ROLE = "arn:aws:iam::111111111111:role/parity"
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"


def _flaky(event: Json, context: HandlerContext) -> Json:
    """Fails its first attempt, as a flaky service would."""
    if context.attempt == 0:
        raise ConnectionError("the first attempt always fails")
    return {"attempt": context.attempt, "got": event}


def _declined(event: Json, context: HandlerContext) -> Json:
    raise PermissionError(f"card {event.get('card')} declined")


def _double(event: Json, context: HandlerContext) -> Json:
    return event * 2 if isinstance(event, int) else event


HANDLERS = HandlerRegistry()
HANDLERS.register("flaky", _flaky)
HANDLERS.register("declined", _declined)
HANDLERS.register("double", _double)


def _task(name: str, **fields: Json) -> dict[str, Json]:
    return {"Type": "Task", "Resource": f"{LAMBDA}{name}", **fields}


SCENARIOS: dict[str, tuple[dict[str, Json], Json]] = {
    "pass-choice-succeed": (
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Result": 3, "ResultPath": "$.n", "Next": "C"},
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Big"}],
                    "Default": "Small",
                },
                "Big": {"Type": "Succeed"},
                "Small": {"Type": "Fail", "Error": "Small"},
            },
        },
        {"x": 1},
    ),
    "task-retry-then-succeed": (
        {
            "StartAt": "T",
            "States": {
                "T": _task(
                    "flaky",
                    Retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2}],
                    End=True,
                ),
            },
        },
        {"order": 7},
    ),
    "task-catch-to-fail": (
        {
            "StartAt": "Charge",
            "States": {
                "Charge": _task(
                    "declined",
                    Catch=[
                        {"ErrorEquals": ["PermissionError"], "ResultPath": "$.e", "Next": "Undo"}
                    ],
                    Next="Done",
                ),
                "Undo": {"Type": "Fail", "Error": "Declined", "Cause": "compensated"},
                "Done": {"Type": "Succeed"},
            },
        },
        {"card": "4242"},
    ),
    "parallel-with-wait": (
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "W",
                            "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}},
                        },
                        {"StartAt": "D", "States": {"D": _task("double", End=True)}},
                    ],
                    "End": True,
                }
            },
        },
        21,
    ),
    "map-max-concurrency": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": 2,
                    "ItemProcessor": {
                        "StartAt": "D",
                        "States": {"D": _task("double", End=True)},
                    },
                    "End": True,
                }
            },
        },
        [1, 2, 3, 4, 5],
    ),
    "map-item-fails-the-execution": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": 1,
                    "ItemProcessor": {
                        "StartAt": "X",
                        "States": {"X": _task("declined", End=True)},
                    },
                    "End": True,
                }
            },
        },
        [{"card": "1"}, {"card": "2"}],
    ),
    "distributed-map-batched": (
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrency": 2,
                    "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}},
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "E",
                        "States": {"E": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            },
        },
        {"run": "r", "items": [1, 2, 3, 4, 5]},
    ),
    "intrinsics-and-variables": (
        {
            "StartAt": "A",
            "States": {
                "A": {
                    "Type": "Pass",
                    "Assign": {"id.$": "States.UUID()", "n.$": "States.MathRandom(1, 100)"},
                    "Next": "B",
                },
                "B": {
                    "Type": "Pass",
                    "Parameters": {"id.$": "$id", "n.$": "$n", "at.$": "$$.State.EnteredTime"},
                    "End": True,
                },
            },
        },
        {},
    ),
    "execution-timeout": (
        {
            "TimeoutSeconds": 3,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
        },
        {},
    ),
}


# What a scenario must give, beyond both backends agreeing.
EXPECTED_OUTPUTS: dict[str, Json] = {
    "distributed-map-batched": [
        {"BatchInput": {"run": "r"}, "Items": [1, 2]},
        {"BatchInput": {"run": "r"}, "Items": [3, 4]},
        {"BatchInput": {"run": "r"}, "Items": [5]},
    ],
}

CONCURRENT = {"map-max-concurrency", "distributed-map-batched"}


def _local() -> tuple[Client, Callable[[], None]]:
    clock = FakeClock(T0)
    return Client(LocalBackend(handlers=HANDLERS, clock=clock), clock=clock), lambda: None


def _durable(url: str) -> tuple[Client, Callable[[], None]]:
    upgrade(url)
    store = Store(make_engine(url))
    clock, dispatcher = FakeClock(T0), InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, clock)
    client = Client(DurableBackend(store, runtime, HANDLERS), clock=clock)
    return client, lambda: dispatcher.join(runtime, HANDLERS, clock)


# Lambda's error envelope carries a fresh request id per invocation, as on AWS; whatever
# the JSON escaping level it sits at, the id follows "requestId" within a few characters.
REQUEST_ID = re.compile(r'(requestId[\\": ]{2,12})[0-9a-f-]{36}')


def _comparable(value: Json) -> Json:
    """``value`` with each invocation's random request id blanked out."""
    return json.loads(REQUEST_ID.sub(r"\1-", json.dumps(value, default=str)))


def _as_multiset(history: list[Json]) -> list[str]:
    """Concurrent branches interleave differently: their events, without ids, as a bag."""
    bare = ({k: v for k, v in e.items() if k not in ("id", "previousEventId")} for e in history)
    return sorted(json.dumps(event, sort_keys=True) for event in bare)


def _run(client: Client, settle: Callable[[], None], name: str) -> tuple[Json, Json]:
    """Describe and history of scenario ``name``, run to its end."""
    definition, execution_input = SCENARIOS[name]
    arn = client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    started = client.start_execution(
        stateMachineArn=arn, name="parity", input=json.dumps(execution_input)
    )
    settle()
    described = client.describe_execution(executionArn=started["executionArn"])
    history = client.get_execution_history(executionArn=started["executionArn"])["events"]
    return _comparable(body(described)), _comparable(history)


@pytest.fixture(autouse=True)
def _same_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both backends draw the same execution seed, so States.UUID and friends agree."""
    monkeypatch.setattr("engine._api.executions.seed", lambda: 1234)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_local_and_the_durable_backend_give_the_same_execution(
    name: str, database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Given the scenario run to its end in-process (the local backend)
    local_described, local_history = _run(*_local(), name)
    # When it runs on the durable backend (SQL store, outbox, timers)
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if database == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    durable_described, durable_history = _run(*_durable(url), name)
    # Then DescribeExecution is the same, and the history event for event (the events of
    # concurrent Map iterations, which interleave as their workers run, as a multiset)
    assert durable_described == local_described
    if name in CONCURRENT:
        assert _as_multiset(durable_history) == _as_multiset(local_history)
        assert durable_history[-3:] == local_history[-3:]
    else:
        assert durable_history == local_history
    assert local_described["status"] != "RUNNING"
    if name in EXPECTED_OUTPUTS:
        assert json.loads(local_described["output"]) == EXPECTED_OUTPUTS[name]
