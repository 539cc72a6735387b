"""Idempotency keys on the durable path: one per invocation, the same on every redelivery."""

from __future__ import annotations

from typing import Any

import pytest

from engine._clock import FakeClock
from engine._resources import HandlerContext, HandlerRegistry
from engine._store.repository import Store
from engine._worker import execute_task
from engine.testing import InMemoryDispatcher
from tests.store.test_runtime_store import FN, LEASE, Node

Json = Any
ITEMS = 50
MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "End": True,
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": f"{FN}work", "End": True}},
            },
        }
    },
}
SINGLE = {
    "StartAt": "Work",
    "States": {"Work": {"Type": "Task", "Resource": f"{FN}work", "End": True}},
}


def _node(store: Store, handler: Any, definition: dict[str, Json]) -> Node:
    handlers = HandlerRegistry()
    handlers.register("work", handler)
    node = Node(store, FakeClock(), InMemoryDispatcher(), handlers)
    node.create_machine(definition)
    return node


def test_every_map_item_gets_its_own_idempotency_key(store: Store) -> None:
    # Given a Map of 50 items whose Task does its work once per idempotency key
    seen: set[str] = set()

    def work(event: Json, context: HandlerContext) -> Json:
        if context.idempotency_key in seen:
            return "skipped"
        seen.add(context.idempotency_key)
        return event

    node = _node(store, work, MAP)
    # When it runs durably
    arn = node.start("map", list(range(ITEMS)))
    node.drain()
    # Then every item was processed, none skipped as a duplicate of another
    assert node.output(arn) == list(range(ITEMS))
    assert len(seen) == ITEMS


class WorkerDied(Exception):
    """The worker process was killed after its handler ran, before it reported."""


def test_a_redelivered_invocation_keeps_its_idempotency_key(store: Store) -> None:
    # Given a Task whose worker dies after running the handler, before reporting
    keys: list[str] = []
    node = _node(store, lambda event, context: keys.append(context.idempotency_key), SINGLE)
    arn = node.start("redelivered", {})
    (task,) = node.dispatcher.queue
    node.dispatcher.queue.clear()

    def die() -> None:
        raise WorkerDied

    with pytest.raises(WorkerDied):
        execute_task(
            node.runtime, node.handlers, task.execution_id, task.thread_id, task.seq,
            before_report=die,
        )  # fmt: skip
    # When its lease runs out and the relay hands the task to another worker
    node.clock.advance(LEASE)
    assert node.runtime.relay() == 1
    node.drain()
    # Then the handler ran twice with the same key, and the execution succeeded
    assert node.described(arn)["status"] == "SUCCEEDED"
    assert len(keys) == 2
    assert keys[0] == keys[1]
