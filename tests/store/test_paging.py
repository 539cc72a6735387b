"""Listings of the durable backend, paged in SQL with opaque tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._errors import InvalidToken
from engine._records import encode_token
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

Json = Any
ROLE = "arn:aws:iam::111111111111:role/orders"
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"},
                                             "B": {"Type": "Pass", "End": True}}})  # fmt: skip


def _client(store: Store) -> tuple[Client, FakeClock]:
    clock = FakeClock()
    runtime = Runtime(store, InMemoryDispatcher(), clock)
    return Client(DurableBackend(store, runtime, HandlerRegistry()), clock=clock), clock


def _walk(read: Callable[..., Json], key: str, **fields: Json) -> list[list[Json]]:
    """Every page of a listing, following the tokens."""
    pages: list[list[Json]] = []
    token = None
    while True:
        page = read(**fields, **({"nextToken": token} if token else {}))
        pages.append(page[key])
        token = page.get("nextToken")
        if token is None:
            return pages


def test_machines_page_oldest_first(store: Store) -> None:
    # Given five machines created a second apart
    client, clock = _client(store)
    for name in "abcde":
        client.create_state_machine(name=name, definition=PASS, roleArn=ROLE)
        clock.advance(1)
    # When they are listed two at a time
    pages = _walk(client.list_state_machines, "stateMachines", maxResults=2)
    # Then the pages hold them oldest first, each once
    assert [[m["name"] for m in page] for page in pages] == [["a", "b"], ["c", "d"], ["e"]]


def test_versions_page_newest_first(store: Store) -> None:
    # Given a machine with five published versions (one revision each: publishing an
    # unchanged revision again returns its version, as on AWS)
    client, _ = _client(store)
    arn = client.create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    for revision in range(5):
        role = f"{ROLE}-{revision}"
        client.update_state_machine(stateMachineArn=arn, roleArn=role, publish=True)
    # When they are listed two at a time
    pages = _walk(
        client.list_state_machine_versions,
        "stateMachineVersions",
        stateMachineArn=arn,
        maxResults=2,
    )
    # Then the pages hold them newest first, numbered 5 down to 1
    numbers = [[int(v["stateMachineVersionArn"].rsplit(":", 1)[1]) for v in p] for p in pages]
    assert numbers == [[5, 4], [3, 2], [1]]


def test_history_pages_both_ways_and_executions_filter_by_status(store: Store) -> None:
    # Given a finished execution (6 events) and a running one
    client, _ = _client(store)
    arn = client.create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    done = client.start_execution(stateMachineArn=arn, name="done")["executionArn"]
    backend = client.backend
    assert isinstance(backend, DurableBackend)
    dispatcher = backend.runtime.dispatcher
    assert isinstance(dispatcher, InMemoryDispatcher)
    dispatcher.run_all(backend.runtime, backend.handlers)
    client.start_execution(stateMachineArn=arn, name="running")
    # When the history is read two events at a time, both ways, and executions by status
    forward = _walk(client.get_execution_history, "events", executionArn=done, maxResults=2)
    backward = _walk(
        client.get_execution_history, "events", executionArn=done, maxResults=2, reverseOrder=True
    )
    running = client.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    # Then every event comes once in each order, and the filter ran in SQL
    assert [[e["id"] for e in p] for p in forward] == [[1, 2], [3, 4], [5, 6]]
    assert [[e["id"] for e in p] for p in backward] == [[6, 5], [4, 3], [2, 1]]
    assert [e["name"] for e in running] == ["running"]


@pytest.mark.parametrize("token", ["garbage", encode_token({"not": "a position"}), "e30="])
def test_a_token_this_api_did_not_issue_is_an_invalid_token(store: Store, token: str) -> None:
    # Given a machine
    client, _ = _client(store)
    arn = client.create_state_machine(name="m", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    # When a listing is asked for with a forged token
    # Then it is refused as InvalidToken, as AWS does
    with pytest.raises(InvalidToken, match="Invalid Token"):
        client.list_executions(stateMachineArn=arn, nextToken=token)
    with pytest.raises(InvalidToken, match="Invalid Token"):
        client.list_state_machines(nextToken=token)
