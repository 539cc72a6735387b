"""What a Map failing on the history limit leaves in the durable store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._interpreter.turn import Limits
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.repository import Store
from engine._store.rows import OUTBOX, THREADS
from engine.testing import InMemoryDispatcher

Json = Any
ROLE = "arn:aws:iam::111111111111:role/r"
HISTORY_CAUSE = "The execution reached the maximum number of history events (200)."


def _map(steps: int) -> dict[str, Json]:
    """An inline Map whose iterations each pass through ``steps`` Pass states."""
    names = [f"P{index}" for index in range(steps)]
    states: dict[str, Json] = {
        name: {"Type": "Pass", "Next": following} for name, following in pairwise(names)
    }
    states[names[-1]] = {"Type": "Pass", "End": True}
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 5,
                "ItemProcessor": {"StartAt": names[0], "States": states},
                "End": True,
            }
        },
    }


def _run(store: Store, machine: dict[str, Json], items: int) -> dict[str, Json]:
    clock = FakeClock()
    dispatcher, handlers = InMemoryDispatcher(), HandlerRegistry()
    runtime = Runtime(store, dispatcher, clock, limits=Limits(history_events=200))
    client = Client(DurableBackend(store, runtime, handlers), clock=clock)
    arn = client.create_state_machine(name="each", definition=json.dumps(machine), roleArn=ROLE)
    run = client.start_execution(
        stateMachineArn=arn["stateMachineArn"], input=json.dumps({"items": [0] * items})
    )
    dispatcher.join(runtime, handlers, clock)
    return client.describe_execution(executionArn=run["executionArn"])


def _rows(store: Store) -> tuple[int, int, int]:
    """(thread rows, unconsumed outbox rows, consumed outbox rows)."""
    with store.engine.connect() as db:
        threads = db.scalar(select(func.count()).select_from(THREADS))
        pending = db.scalar(select(func.count()).where(OUTBOX.c.done.is_(False)))
        consumed = db.scalar(select(func.count()).where(OUTBOX.c.done.is_(True)))
    return int(threads or 0), int(pending or 0), int(consumed or 0)


def test_a_map_too_large_for_the_history_fails_before_creating_its_threads(
    store: Store,
) -> None:
    # Given a 200-event history and an inline Map over 300 items (at least 1,200 events)
    machine = _map(steps=1)
    # When it runs on the durable store
    described = _run(store, machine, items=300)
    # Then it fails with the history limit's error and only the root's row was ever written
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == HISTORY_CAUSE
    threads, pending, _consumed = _rows(store)
    assert (threads, pending) == (1, 0)


def test_a_map_failing_on_the_history_midway_leaves_only_the_root_thread(store: Store) -> None:
    # Given a 200-event history and 40 iterations of three states (320 events, over 200)
    machine = _map(steps=3)
    # When it runs on the durable store and fails midway
    described = _run(store, machine, items=40)
    # Then the execution failed on the history limit, and its 40 iteration rows and
    # consumed messages were deleted with the failure (nothing is left to send)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"] == HISTORY_CAUSE
    threads, pending, consumed = _rows(store)
    assert (threads, pending) == (1, 0)
    assert consumed < 10  # late duplicates consumed after the failure, pruned by the relay
