"""The console's listing of every machine's executions, in SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, text

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._errors import InvalidToken
from engine._records import ExecutionQuery
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

ROLE = "arn:aws:iam::111111111111:role/console"
PASS = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})


def started(store: Store) -> tuple[Client, list[str]]:
    """Two machines' executions a second apart, alternating, 7 of them; a few stopped."""
    clock = FakeClock()
    client = Client(
        DurableBackend(store, Runtime(store, InMemoryDispatcher(), clock), HandlerRegistry()),
        clock=clock,
    )
    machines = [
        client.create_state_machine(name=name, definition=PASS, roleArn=ROLE)["stateMachineArn"]
        for name in ("orders", "refunds")
    ]
    names = []
    for index in range(7):
        name = f"{'Order' if index % 2 == 0 else 'refund'}_{index}"
        arn = client.start_execution(stateMachineArn=machines[index % 2], name=name)
        if index in (1, 4):
            client.stop_execution(executionArn=arn["executionArn"])
        names.append(name)
        clock.advance(1)
    return client, names


def every_page(store: Store, query: ExecutionQuery, limit: int) -> list[list[str]]:
    pages, token = [], None
    while True:
        page = store.search_executions(query, limit=limit, token=token)
        pages.append([item.name for item in page.items])
        token = page.next_token
        if token is None:
            return pages


def test_every_machines_executions_come_newest_first_a_page_at_a_time(store: Store):
    # Given seven executions of two machines
    _, names = started(store)

    # When they are listed three at a time
    pages = every_page(store, ExecutionQuery(), limit=3)

    # Then each comes once, newest first
    assert pages == [names[::-1][:3], names[::-1][3:6], names[::-1][6:]]


def test_status_machine_and_name_narrow_the_listing(store: Store):
    # Given seven executions, two of them stopped
    client, names = started(store)
    refunds = client.list_state_machines()["stateMachines"][1]["stateMachineArn"]

    # When filtered by status, by machine and by a piece of the name in another case
    aborted = every_page(store, ExecutionQuery(status="ABORTED"), limit=10)
    of_refunds = every_page(store, ExecutionQuery(machine_arn=refunds), limit=10)
    found = every_page(store, ExecutionQuery(name="ORDER_"), limit=10)
    literal = every_page(store, ExecutionQuery(name="r_"), limit=10)  # as LIKE: "re" too

    # Then each narrows as asked; a _ in a search is a plain character
    assert aborted == [[names[4], names[1]]]
    assert of_refunds == [[names[5], names[3], names[1]]]
    assert found == [[names[6], names[4], names[2], names[0]]]
    assert literal == found


def test_a_token_of_another_listing_is_refused(store: Store):
    # When a listing is asked to go on from a token it did not issue
    # Then it refuses by saying so
    with pytest.raises(InvalidToken, match="not a token this API issued"):
        store.search_executions(ExecutionQuery(), token="bm9wZQ")


def test_the_listing_indexes_exist(store: Store):
    # Given a migrated store
    # When its indexes on executions are read
    indexes = {index["name"] for index in inspect(store.engine).get_indexes("executions")}

    # Then the console's listings have theirs (migration 0011), and on PostgreSQL its name
    # search a trigram index
    assert {"ix_executions_start", "ix_executions_status_start"} <= indexes
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as db:
            trigram = db.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_executions_name_trgm'")
            )
        assert "gin (lower((name)::text) gin_trgm_ops)" in trigram
