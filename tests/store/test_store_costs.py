"""What the store's hot paths cost in SQL, and what concurrent starts of one name give.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event (every statement
the driver runs, reads included) and write transactions with the ``commit`` event.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, event

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._errors import ExecutionAlreadyExists
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher

Json = Any
ROLE = "arn:aws:iam::111111111111:role/orders"
MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:orders"
PASSES = {
    "StartAt": "One",
    "States": {
        "One": {"Type": "Pass", "Next": "Two"},
        "Two": {"Type": "Pass", "End": True},
    },
}


@dataclass
class Counter:
    """Statements and commits an engine ran while counting."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def counting(engine: Engine) -> Iterator[Counter]:
    """Count every statement and commit on ``engine`` inside the block."""
    counter = Counter()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        counter.statements.append(statement)

    def on_commit(_conn: Any) -> None:
        counter.commits += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


def _client(store: Store, *, create: bool = True) -> Client:
    clock = FakeClock()
    runtime = Runtime(store, InMemoryDispatcher(), clock)
    client = Client(DurableBackend(store, runtime, HandlerRegistry()), clock=clock)
    if create:
        client.create_state_machine(name="orders", definition=json.dumps(PASSES), roleArn=ROLE)
    return client


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[Store]:
    """A migrated store on a fresh PostgreSQL database."""
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        yield Store(engine)
    finally:
        engine.dispose()


def _without_rules_probe(statements: list[str]) -> list[str]:
    """``statements`` without the one cached "any event rules?" read a start may make."""
    probes = [s for s in statements if "FROM event_rules" in s]
    assert len(probes) <= 1, "the event rules are probed once per few seconds, not per start"
    return [s for s in statements if "FROM event_rules" not in s]


def _run_all(client: Client) -> None:
    backend = client.backend
    assert isinstance(backend, DurableBackend)
    runtime = backend.runtime
    dispatcher = runtime.dispatcher
    assert isinstance(dispatcher, InMemoryDispatcher)
    dispatcher.run_all(runtime, backend.handlers)


# --- start_execution ---------------------------------------------------------------------


@pytest.mark.postgres
def test_a_start_is_one_transaction_of_at_most_six_statements(pg_store: Store) -> None:
    # Given a machine on PostgreSQL, and a client in a process that never read it
    _client(pg_store)
    client = _client(Store(pg_store.engine), create=False)
    # When an execution is started
    with counting(pg_store.engine) as counter:
        client.start_execution(stateMachineArn=MACHINE_ARN, name="counted", input='{"n": 1}')
    # Then it took one write transaction and at most six statements, reads included
    # (besides the event bus's "any rules?" probe, made once per few seconds: ADR 0022)
    assert counter.commits == 1
    statements = _without_rules_probe(counter.statements)
    assert len(statements) <= 6, "\n".join(statements)
    # And the next start of that process makes no probe at all: six statements, all told
    with counting(pg_store.engine) as again:
        client.start_execution(stateMachineArn=MACHINE_ARN, name="again", input='{"n": 2}')
    assert again.commits == 1
    assert len(again.statements) <= 6, "\n".join(again.statements)
    # And the machine's versions were not read (it has none to read anyway)
    assert not any("state_machine_versions.arn" in s for s in counter.statements)


@pytest.mark.postgres
def test_starting_a_version_reads_that_version_alone(pg_store: Store) -> None:
    # Given a machine with three published versions (one revision each, as AWS needs)
    client = _client(pg_store)
    for revision in range(3):
        role = f"arn:aws:iam::111111111111:role/revision-{revision}"
        client.update_state_machine(stateMachineArn=MACHINE_ARN, roleArn=role, publish=True)
    # When version 2 is started
    with counting(pg_store.engine) as counter:
        client.start_execution(stateMachineArn=f"{MACHINE_ARN}:2", name="v2", input="{}")
    # Then one more read than a plain start: the version by its ARN, not every version
    assert counter.commits == 1
    statements = _without_rules_probe(counter.statements)
    assert len(statements) <= 7, "\n".join(statements)


def _together(calls: list[Callable[[], Json]]) -> list[Json]:
    """Run ``calls`` at the same moment on threads; each result, or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Json] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_eight_concurrent_identical_starts_give_one_execution(store: Store) -> None:
    # Given a machine
    client = _client(store)

    def start() -> Json:
        return client.start_execution(stateMachineArn=MACHINE_ARN, name="once", input='{"a": 1}')

    # When eight threads start the same name with the same input at once
    answers = _together([start] * 8)
    # Then all eight got the same answer, and one execution exists with one history
    assert all(isinstance(a, dict) for a in answers), answers
    assert len({(a["executionArn"], a["startDate"]) for a in answers}) == 1
    assert [e.name for e in store.executions(MACHINE_ARN)] == ["once"]
    started = [e for e in store.history(answers[0]["executionArn"]) if e.type == "ExecutionStarted"]
    assert len(started) == 1


def test_concurrent_starts_with_other_inputs_lose_with_execution_already_exists(
    store: Store,
) -> None:
    # Given a machine
    client = _client(store)

    def start(n: int) -> Callable[[], Json]:
        return lambda: client.start_execution(
            stateMachineArn=MACHINE_ARN, name="contested", input=json.dumps({"n": n})
        )

    # When eight threads start the same name, each with its own input, at once
    answers = _together([start(n) for n in range(8)])
    # Then one started it and the seven others got ExecutionAlreadyExists, no database error
    winners = [a for a in answers if isinstance(a, dict)]
    losers = [a for a in answers if not isinstance(a, dict)]
    assert len(winners) == 1
    assert all(isinstance(a, ExecutionAlreadyExists) for a in losers), losers
    assert len(losers) == 7
    assert len(store.executions(MACHINE_ARN)) == 1


def test_a_finished_execution_is_not_started_again(store: Store) -> None:
    # Given an execution that ran to the end
    client = _client(store)
    client.start_execution(stateMachineArn=MACHINE_ARN, name="done", input="{}")
    _run_all(client)
    # When the same start is made again
    # Then it is refused, as AWS refuses reusing a closed execution's name
    with pytest.raises(ExecutionAlreadyExists):
        client.start_execution(stateMachineArn=MACHINE_ARN, name="done", input="{}")


# --- paged reads -------------------------------------------------------------------------


def _statements(store: Store, read: Callable[[], Json]) -> list[str]:
    with counting(store.engine) as counter:
        read()
    return counter.statements


@pytest.mark.postgres
def test_one_page_of_executions_costs_the_same_with_3_or_60_stored(pg_store: Store) -> None:
    # Given a machine with 3 executions
    client = _client(pg_store)

    def start(count: int, offset: int) -> None:
        for n in range(offset, offset + count):
            client.start_execution(stateMachineArn=MACHINE_ARN, name=f"e{n}", input="{}")
            assert isinstance(client.clock, FakeClock)
            client.clock.advance(1)

    def first_page() -> Json:
        return client.list_executions(stateMachineArn=MACHINE_ARN, maxResults=1)

    start(3, 0)
    few = _statements(pg_store, first_page)
    # When 57 more are stored
    start(57, 3)
    many = _statements(pg_store, first_page)
    # Then a one-item page runs the same statements, and fetches at most two rows
    assert many == few
    assert len(few) <= 2, few
    assert all("LIMIT" in s for s in few if "FROM executions" in s)
    assert first_page()["executions"][0]["name"] == "e59"


@pytest.mark.postgres
def test_one_history_page_costs_the_same_with_short_and_long_histories(pg_store: Store) -> None:
    # Given a short history and a long one (a Map of 60 items)
    client = _client(pg_store)
    short = client.start_execution(stateMachineArn=MACHINE_ARN, name="short", input="{}")
    many = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
            }
        },
    }
    client.create_state_machine(name="many", definition=json.dumps(many), roleArn=ROLE)
    long = client.start_execution(
        stateMachineArn=MACHINE_ARN.replace("orders", "many"), input=json.dumps(list(range(60)))
    )
    _run_all(client)
    assert len(pg_store.history(long["executionArn"])) > 60 * 3

    def page(arn: str) -> Callable[[], Json]:
        return lambda: client.get_execution_history(executionArn=arn, maxResults=3)

    # When one page of three events is read from each
    few, lots = (
        _statements(pg_store, page(short["executionArn"])),
        _statements(pg_store, page(long["executionArn"])),
    )
    # Then both ran the same statements: the execution, then one LIMITed page
    assert few == lots
    assert len(few) <= 2, few


def test_pages_walk_every_item_once_in_order(store: Store) -> None:
    # Given seven executions started one second apart, two of them with equal start dates
    client = _client(store)
    clock = client.clock
    assert isinstance(clock, FakeClock)
    for n in range(7):
        client.start_execution(stateMachineArn=MACHINE_ARN, name=f"e{n}", input="{}")
        if n != 3:
            clock.advance(1)
    # When they are listed three at a time with the tokens handed back
    names: list[str] = []
    token: str | None = None
    while True:
        fields = {"nextToken": token} if token else {}
        page = client.list_executions(stateMachineArn=MACHINE_ARN, maxResults=3, **fields)
        names += [e["name"] for e in page["executions"]]
        token = page.get("nextToken")
        if token is None:
            break
    # Then every execution came once, newest first
    assert sorted(names) == [f"e{n}" for n in range(7)]
    assert names[:3] == ["e6", "e5", "e4"] or names[:3] == ["e6", "e5", "e3"]
    assert len(names) == len(set(names))
