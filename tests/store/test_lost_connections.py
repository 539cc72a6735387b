"""Without pool pre-ping: a connection the server ended is replaced, not an error.

A checkout sees the server's hang-up on the socket; a connection that died unseen fails its
first statement and the transaction runs once more (`again_if_connection_lost`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import again_if_connection_lost, make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

ROLE = "arn:aws:iam::111111111111:role/r"
CHAIN = json.dumps(
    {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}},
    }
)


@pytest.fixture
def fleet(postgres_url: str) -> Iterator[tuple[Client, Runtime, InMemoryDispatcher, str]]:
    """A durable client on its own PostgreSQL database, its runtime and in-memory broker."""
    upgrade(postgres_url)
    store = Store(make_engine(postgres_url))
    dispatcher = InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, FakeClock())
    try:
        yield (
            Client(DurableBackend(store, runtime), clock=FakeClock()),
            runtime,
            dispatcher,
            postgres_url,
        )
    finally:
        store.engine.dispose()


def _drop_every_connection_to(url: str) -> int:
    """The server ends every session on the database (as a restart or failover would)."""
    database = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_an_api_call_on_a_dropped_pooled_connection_succeeds(
    fleet: tuple[Client, Runtime, InMemoryDispatcher, str],
) -> None:
    # Given a machine, and the pool's connections dropped by the server since their last use
    client, _runtime, _dispatcher, url = fleet
    machine = client.create_state_machine(name="m", definition=CHAIN, roleArn=ROLE)
    assert _drop_every_connection_to(url) >= 1
    # When the API is called
    started = client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    # Then it answers (the dead connection was replaced and the call run again)
    described = client.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "RUNNING"


@pytest.mark.postgres
def test_a_step_on_a_dropped_pooled_connection_is_run_again(
    fleet: tuple[Client, Runtime, InMemoryDispatcher, str],
) -> None:
    # Given a started execution whose store connections the server then dropped
    client, runtime, dispatcher, url = fleet
    machine = client.create_state_machine(name="m", definition=CHAIN, roleArn=ROLE)
    started = client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    assert _drop_every_connection_to(url) >= 1
    # When the worker consumes the execution's messages
    steps = dispatcher.run_all(runtime, HandlerRegistry())
    # Then every step committed once and the execution ended
    assert steps == 2
    described = client.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    history = client.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in history].count("PassStateEntered") == 2


def _lost(invalidated: bool) -> OperationalError:
    return OperationalError(
        "SELECT 1", None, Exception("server closed"), connection_invalidated=invalidated
    )


def test_a_transaction_that_lost_its_connection_runs_once_more() -> None:
    # Given a transaction whose first run hit a connection that had died
    runs: list[int] = []

    def transaction() -> str:
        runs.append(1)
        if len(runs) == 1:
            raise _lost(invalidated=True)
        return "committed"

    # When it is run through again_if_connection_lost
    # Then it ran twice and its second result is returned
    assert again_if_connection_lost(transaction) == "committed"
    assert len(runs) == 2


@pytest.mark.parametrize("failures", [[False], [True, True]], ids=["other-outage", "twice"])
def test_other_outages_and_second_failures_are_raised(failures: list[bool]) -> None:
    # Given a transaction failing with an outage that is not a lost connection, or twice
    raised = iter(failures)

    def transaction() -> None:
        raise _lost(invalidated=next(raised))

    # When it is run through again_if_connection_lost
    # Then the error reaches the caller (Celery's retry, the API's ServiceUnavailable)
    with pytest.raises(OperationalError):
        again_if_connection_lost(transaction)
