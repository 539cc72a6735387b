"""Whole executions through `Runtime` on the SQL store, on SQLite and PostgreSQL.

Exactly-once state transitions are proved here: duplicated, shuffled and lost messages
(recovered by the relay) and concurrent deliveries all end in the same execution.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from config.settings import Settings
from engine import connect
from engine._api import Client
from engine._backends.local import LocalBackend
from engine._clock import FakeClock
from engine._interpreter.events import TaskSucceeded
from engine._interpreter.history import HistoryEvent
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import OutboxMessage, StepSession, Store
from engine.testing import InMemoryDispatcher, deliver
from tests.conftest import POSTGRES_SERVER

Json = Any
FN = "arn:aws:lambda:us-east-1:111111111111:function:"
ROLE = "arn:aws:iam::111111111111:role/orders"
MACHINE_ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:orders"
EXECUTION_ARN = "arn:aws:states:us-east-1:111111111111:execution:orders:"
LEASE = 60.0
MACHINE = {
    "StartAt": "Charge",
    "States": {
        "Charge": {"Type": "Task", "Resource": f"{FN}charge", "ResultPath": "$.charge",
                   "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Fan"},
        "Fan": {
            "Type": "Parallel",
            "ResultPath": "$.fan",
            "Next": "Each",
            "Branches": [
                {"StartAt": "Ship",
                 "States": {"Ship": {"Type": "Task", "Resource": f"{FN}ship", "End": True}}},
                {"StartAt": "Note",
                 "States": {"Note": {"Type": "Pass", "Result": "noted", "End": True}}},
            ],
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 2,
            "ResultPath": "$.doubled",
            "End": True,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Double",
                "States": {"Double": {"Type": "Task", "Resource": f"{FN}double", "End": True}},
            },
        },
    },
}  # fmt: skip
INPUT = {"order": "o-1", "items": [1, 2, 3]}
OUTPUT = {
    "order": "o-1",
    "items": [1, 2, 3],
    "charge": {"charged": 6},
    "fan": [{"shipped": "o-1"}, "noted"],
    "doubled": [2, 4, 6],
}
ROOT_TYPES = [
    ("ExecutionStarted", None),
    ("TaskStateEntered", "Charge"),
    ("LambdaFunctionScheduled", None),
    ("LambdaFunctionStarted", None),
    ("LambdaFunctionSucceeded", None),
    ("TaskStateExited", "Charge"),
    ("WaitStateEntered", "Pause"),
    ("WaitStateExited", "Pause"),
    ("ParallelStateEntered", "Fan"),
    ("ParallelStateStarted", None),
    ("ParallelStateSucceeded", None),
    ("ParallelStateExited", "Fan"),
    ("MapStateEntered", "Each"),
    ("MapStateStarted", None),
    ("MapIterationStarted", "Each"),
    ("MapIterationStarted", "Each"),
    ("MapIterationSucceeded", "Each"),
    ("MapIterationStarted", "Each"),
    ("MapIterationSucceeded", "Each"),
    ("MapIterationSucceeded", "Each"),
    ("MapStateSucceeded", None),
    ("MapStateExited", "Each"),
    ("ExecutionSucceeded", None),
]
TASK_TYPES = [
    ("TaskStateEntered", "Double"),
    ("LambdaFunctionScheduled", None),
    ("LambdaFunctionStarted", None),
    ("LambdaFunctionSucceeded", None),
    ("TaskStateExited", "Double"),
]


def _handlers() -> HandlerRegistry:
    handlers = HandlerRegistry()
    handlers.register("charge", lambda event, _: {"charged": sum(event["items"])})
    handlers.register("ship", lambda event, _: {"shipped": event["order"]})
    handlers.register("double", lambda event, _: event * 2)
    return handlers


class BrokenBroker:
    """A process that 'dies' between commit and publish: its messages never leave it."""

    def __init__(self) -> None:
        self.attempts = 0

    def publish(self, messages: list[OutboxMessage]) -> None:
        self.attempts += 1


class LossyDispatcher(InMemoryDispatcher):
    """Loses every other publish after the commit (the relay must recover each one)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.lost: list[OutboxMessage] = []

    def publish(self, messages: list[OutboxMessage]) -> None:
        self.calls += 1
        if self.calls % 2 == 0:
            self.lost.extend(messages)
            raise ConnectionError("message lost on the way to the broker")
        super().publish(messages)


@dataclass
class Node:
    """One worker process: a runtime over the shared store, with its own dispatcher."""

    store: Store
    clock: FakeClock
    dispatcher: Any
    handlers: HandlerRegistry
    fold_states: int = 0

    def __post_init__(self) -> None:
        self.client = connect(
            Settings(lease_seconds=LEASE, fold_states=self.fold_states),
            store=self.store,
            dispatcher=self.dispatcher,
            clock=self.clock,
            handlers=self.handlers,
        )
        self.runtime = self.client.backend.runtime

    def create_machine(self, definition: dict[str, Json] = MACHINE) -> None:
        self.client.create_state_machine(
            name="orders", definition=json.dumps(definition), roleArn=ROLE
        )

    def start(self, name: str, payload: Json = INPUT) -> str:
        response = self.client.start_execution(
            stateMachineArn=MACHINE_ARN, name=name, input=json.dumps(payload)
        )
        return str(response["executionArn"])

    def drain(self, **options: Any) -> None:
        self.dispatcher.join(self.runtime, self.handlers, self.clock, **options)

    def described(self, arn: str) -> dict[str, Json]:
        return self.client.describe_execution(executionArn=arn)

    def output(self, arn: str) -> Json:
        described = self.described(arn)
        assert described["status"] == "SUCCEEDED", described
        return json.loads(described["output"])


@pytest.fixture
def node(store: Store) -> Node:
    node = Node(store, FakeClock(), InMemoryDispatcher(), _handlers())
    node.create_machine()
    return node


def shape(history: list[HistoryEvent]) -> list[tuple[int, int, str, str | None]]:
    """What exactly-once promises to keep: ids, previousEventId, types and names."""
    return [(e.id, e.previous_event_id, e.type, e.state_name) for e in history]


def per_thread(history: list[HistoryEvent]) -> dict[str, list[tuple[str, str | None]]]:
    """Each thread's own events in order (independent of how threads interleave)."""
    threads: dict[str, list[tuple[str, str | None]]] = {}
    for event in history:
        threads.setdefault(event.thread_id, []).append((event.type, event.state_name))
    return threads


def events_by_item(history: list[HistoryEvent]) -> Counter[tuple[str, str, Json]]:
    """Every event once per thread and item index: a duplicated effect shows up here."""
    return Counter((e.thread_id, e.type, e.details.get("index")) for e in history)


def assert_well_formed(history: list[HistoryEvent]) -> None:
    """Ids run 1..N without gaps and every event follows one that happened before it."""
    assert [e.id for e in history] == list(range(1, len(history) + 1))
    assert all(0 <= e.previous_event_id < e.id for e in history)


def assert_same_execution(history: list[HistoryEvent], expected: list[HistoryEvent]) -> None:
    """Same events, each thread's in the same order; only branches may interleave otherwise."""
    assert_well_formed(history)
    assert per_thread(history) == per_thread(expected)
    assert events_by_item(history) == events_by_item(expected)


# --- a whole execution -------------------------------------------------------------------


def test_a_task_a_wait_a_parallel_and_a_map_run_to_success(node: Node) -> None:
    # Given an order machine with a Task, an hour's Wait, a Parallel and a Map of Tasks
    # When an execution runs to the end
    arn = node.start("clean")
    node.drain()
    # Then it succeeded with every state's result in place
    assert node.output(arn) == OUTPUT
    history = node.store.history(arn)
    assert_well_formed(history)
    threads = per_thread(history)
    assert threads["root"] == ROOT_TYPES
    assert [threads[f"root/4.0.{i}"] for i in range(3)] == [TASK_TYPES] * 3
    assert threads["root/3.0.1"] == [("PassStateEntered", "Note"), ("PassStateExited", "Note")]
    # And the Wait lasted its hour on the store's timer
    waited = {e.type: e.timestamp for e in history if e.state_name == "Pause"}
    assert waited == {
        "WaitStateEntered": "2024-01-01T00:00:00.000Z",
        "WaitStateExited": "2024-01-01T01:00:00.000Z",
    }


def test_the_durable_history_is_the_local_executors(node: Node) -> None:
    # Given the same machine run in memory by the local executor
    clock = FakeClock()
    local = LocalBackend(handlers=_handlers(), clock=clock)
    client = Client(local, clock=clock)
    client.create_state_machine(name="orders", definition=json.dumps(MACHINE), roleArn=ROLE)
    client.start_execution(stateMachineArn=MACHINE_ARN, name="local", input=json.dumps(INPUT))
    # When it runs durably on the store
    arn = node.start("durable")
    node.drain()
    # Then both record the same events and details, thread by thread
    durable = node.store.history(arn)
    expected = local.history(f"{EXECUTION_ARN}local")
    assert_same_execution(durable, expected)
    details = sorted(json.dumps([e.thread_id, e.type, e.details], sort_keys=True) for e in durable)
    assert details == sorted(
        json.dumps([e.thread_id, e.type, e.details], sort_keys=True) for e in expected
    )


FOLDABLE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"n": 1}, "Next": "Check"},
        "Check": {"Type": "Choice", "Default": "Work",
                  "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Done"}]},
        "Work": {"Type": "Task", "Resource": f"{FN}ship", "Parameters": {"order": "o-1"},
                 "Next": "Tidy"},
        "Tidy": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}  # fmt: skip


def _steps(dispatcher: InMemoryDispatcher) -> list[str]:
    return [m.shadow or "" for m in dispatcher.published if m.kind == "step"]


@pytest.mark.parametrize(
    ("budget", "step_tasks"),
    [(1, ["orders.Check", "orders.Done"]), (2, []), (3, [])],
)
def test_folded_states_give_the_same_history_with_fewer_step_tasks(
    store: Store, budget: int, step_tasks: list[str]
) -> None:
    # Given two nodes on one store, one giving every state its own step, one folding
    plain = Node(store, FakeClock(), InMemoryDispatcher(), _handlers())
    plain.create_machine(FOLDABLE)
    folded = Node(store, FakeClock(), InMemoryDispatcher(), _handlers(), fold_states=budget)
    # When each runs the Pass, Choice, Task, Pass, Succeed machine to the end
    unfolded_arn = plain.start("plain")
    plain.drain()
    folded_arn = folded.start("folded")
    folded.drain()
    # Then both record the same events, details and output
    expected, history = store.history(unfolded_arn), store.history(folded_arn)
    assert shape(history) == shape(expected)
    assert [e.details for e in history] == [e.details for e in expected]
    assert folded.output(folded_arn) == plain.output(unfolded_arn) == {"shipped": "o-1"}
    # And only states past a transaction's fold budget got a step task; without folding,
    # every state but the Task, whose handler task is its task
    assert _steps(plain.dispatcher) == [f"orders.{s}" for s in FOLDABLE["States"] if s != "Work"]
    assert _steps(folded.dispatcher) == step_tasks


WAITING = {
    "StartAt": "Pause",
    "States": {
        "Pause": {"Type": "Wait", "Seconds": 30, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": f"{FN}ship", "Parameters": {"order": "o-1"},
                 "End": True},
    },
}  # fmt: skip


def test_folding_enters_wait_and_task_states_in_the_step_that_reaches_them(store: Store) -> None:
    # Given a plain node and one folding up to five states per transaction
    plain = Node(store, FakeClock(), InMemoryDispatcher(), _handlers())
    plain.create_machine(WAITING)
    folded = Node(store, FakeClock(), InMemoryDispatcher(), _handlers(), fold_states=5)
    # When each runs Wait 30 s then Task to the end
    unfolded_arn = plain.start("plain")
    plain.drain()
    folded_arn = folded.start("folded")
    folded.drain()
    # Then both record the same history and output
    expected, history = store.history(unfolded_arn), store.history(folded_arn)
    assert shape(history) == shape(expected)
    assert [e.details for e in history] == [e.details for e in expected]
    assert folded.output(folded_arn) == {"shipped": "o-1"}
    # And the folding node published no step task: its timer and its handler task only
    assert _steps(folded.dispatcher) == []
    assert [m.kind for m in folded.dispatcher.published] == ["timer", "task"]


def test_a_task_state_is_entered_by_the_step_before_it_and_runs_as_its_handler_task(
    store: Store,
) -> None:
    # Given a machine whose Task state follows a Choice, and a Catch that leads to a Task
    machine = {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Default": "Work",
                      "Choices": [{"Variable": "$.n", "NumericEquals": 0, "Next": "Done"}]},
            "Work": {"Type": "Task", "Resource": f"{FN}boom", "Next": "Done",
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}]},
            "Recover": {"Type": "Task", "Resource": f"{FN}ship", "Parameters": {"order": "o"},
                        "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }  # fmt: skip
    handlers = _handlers()
    handlers.register("boom", lambda event, _: (_ for _ in ()).throw(ValueError("no")))
    node = Node(store, FakeClock(), InMemoryDispatcher(), handlers)
    node.create_machine(machine)
    # When it runs with the default settings (no folding)
    arn = node.start("tasks", {"n": 1})
    node.drain()
    # Then each Task state had one Celery task, its handler's, named machine.state
    published = [(m.kind, m.shadow) for m in node.dispatcher.published]
    assert published == [
        ("step", "orders.Check"),
        ("task", "orders.Work"),
        ("task", "orders.Recover"),
        ("step", "orders.Done"),
    ]
    # And the history still records every entry in order
    entered = [e.state_name for e in store.history(arn) if e.type.endswith("StateEntered")]
    assert entered == ["Check", "Work", "Recover", "Done"]
    assert node.output(arn) == {"shipped": "o"}


# --- exactly once --------------------------------------------------------------------------


def test_every_message_delivered_twice_changes_nothing(node: Node) -> None:
    # Given a clean run
    clean = node.start("clean")
    node.drain()
    # When the same machine runs with every message delivered twice
    twice = node.start("twice")
    node.drain(duplicate=True)
    # Then the history (ids, previousEventId, types, names, details) and output are identical
    assert node.output(twice) == node.output(clean) == OUTPUT
    assert shape(node.store.history(twice)) == shape(node.store.history(clean))
    assert [e.details for e in node.store.history(twice)] == [
        e.details for e in node.store.history(clean)
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("duplicate", [False, True], ids=["once", "twice"])
def test_shuffled_messages_give_the_same_execution(
    node: Node, seed: int, *, duplicate: bool
) -> None:
    # Given a clean run
    clean = node.start("clean")
    node.drain()
    # When the same machine runs with its messages delivered in a shuffled order
    shuffled = node.start("shuffled")
    node.drain(shuffle=random.Random(seed), duplicate=duplicate)
    # Then every event happened exactly once, each thread in the same order, same output.
    # (Concurrent branches may interleave differently, as they do on AWS: the ids of the
    # sequential part are the same, and the root's own events are always the same.)
    assert node.output(shuffled) == node.output(clean)
    history, expected = node.store.history(shuffled), node.store.history(clean)
    assert_same_execution(history, expected)
    assert shape(history)[:10] == shape(expected)[:10]
    assert shape(history)[-3:] == shape(expected)[-3:]


# --- the relay ------------------------------------------------------------------------------


def test_a_step_committed_but_never_published_is_relayed_after_its_lease(node: Node) -> None:
    # Given a process that committed the start (which entered the first state, a Task) but
    # died before publishing its handler task
    crashed = Node(node.store, node.clock, BrokenBroker(), node.handlers)
    arn = crashed.start("crashed")
    assert crashed.dispatcher.attempts == 1
    # When a fresh process relays before and after the lease ran out
    early = node.runtime.relay()
    node.clock.advance(LEASE)
    relayed = node.runtime.relay()
    # Then only the late relay republishes the task, and the execution completes
    assert (early, relayed) == (0, 1)
    assert [(m.kind, m.thread_id, m.seq) for m in node.dispatcher.queue] == [("task", "root", 1)]
    node.drain()
    assert node.output(arn) == OUTPUT
    assert_same_execution(node.store.history(arn), _clean_history(node))


def test_a_consumed_message_is_never_republished(node: Node) -> None:
    # Given an execution that ran to the end, every message consumed
    arn = node.start("done")
    node.drain()
    published = len(node.dispatcher.published)
    # When the relay runs long after every lease expired
    node.clock.advance(LEASE * 100)
    relayed = node.runtime.relay()
    # Then it republishes nothing and nothing is left pending
    assert relayed == 0
    assert len(node.dispatcher.published) == published
    assert node.store.due_outbox(node.clock.now(), 100) == []
    assert node.output(arn) == OUTPUT


def test_every_lost_publish_is_recovered_by_the_relay(store: Store) -> None:
    # Given a worker whose every second publish is lost after the commit
    node = Node(store, FakeClock(), LossyDispatcher(), _handlers())
    node.create_machine()
    arn = node.start("lossy")
    # When it runs, the relay publishing whatever was lost once its lease ends
    for _ in range(100):
        node.drain()
        if node.described(arn)["status"] != "RUNNING":
            break
        node.clock.advance(LEASE)
        node.runtime.relay()
    # Then messages were lost, yet the execution completed exactly once
    assert node.dispatcher.lost
    assert node.output(arn) == OUTPUT
    assert_same_execution(node.store.history(arn), _clean_history(node))


def _clean_history(node: Node) -> list[HistoryEvent]:
    """The history of a clean run of MACHINE on a fresh node over the same store."""
    clean = Node(node.store, FakeClock(), InMemoryDispatcher(), node.handlers)
    arn = clean.start(f"reference-{len(node.store.executions(MACHINE_ARN))}")
    clean.drain()
    return clean.store.history(arn)


# --- concurrency ----------------------------------------------------------------------------

ITEMS = 8
FAN = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "End": True,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Double",
                "States": {"Double": {"Type": "Task", "Resource": f"{FN}double", "End": True}},
            },
        }
    },
}


class RacingStore(Store):
    """Holds every session at a barrier, so deliveries open their transactions together."""

    barrier: threading.Barrier | None = None

    @contextmanager
    def session(self, execution_id: int | None = None) -> Iterator[StepSession]:
        if self.barrier is not None:
            self.barrier.wait(timeout=30)
        with super().session(execution_id) as session:
            yield session


def _together(calls: list[Callable[[], object]], store: RacingStore) -> None:
    """Run ``calls`` in threads that enter the store at the same moment; re-raise failures."""
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as error:
            errors.append(error)

    store.barrier = threading.Barrier(len(calls))
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    store.barrier = None
    assert errors == []


def test_concurrent_deliveries_to_one_execution_are_serialised(store: Store) -> None:
    # Given a Map whose eight task messages were all published
    racing = RacingStore(store.engine)
    node = Node(racing, FakeClock(), InMemoryDispatcher(), _handlers())
    node.create_machine(FAN)
    arn = node.start("race", list(range(ITEMS)))
    tasks = _steps_until_tasks(node)
    assert len(tasks) == ITEMS
    # When eight workers start them at once, then report their results at once
    _together([_begin(node.runtime, m) for m in tasks], racing)
    _together([_finish(node.runtime, m) for m in tasks], racing)
    node.drain()
    # Then no update was lost: every result is in, every event once, ids contiguous
    assert node.output(arn) == [2 * i for i in range(ITEMS)]
    history = racing.history(arn)
    assert_well_formed(history)
    types = Counter(e.type for e in history)
    assert types["LambdaFunctionStarted"] == types["MapIterationSucceeded"] == ITEMS


def _steps_until_tasks(node: Node) -> list[OutboxMessage]:
    """Deliver step messages until only task messages are left; returns those."""
    tasks: list[OutboxMessage] = []
    while node.dispatcher.queue:
        message = node.dispatcher.queue.popleft()
        if message.kind == "task":
            tasks.append(message)
        else:
            deliver(node.runtime, node.handlers, message)
    return tasks


def _begin(runtime: Runtime, message: OutboxMessage) -> Callable[[], object]:
    return lambda: runtime.begin_task(message.execution_id, message.thread_id, message.seq)


def _finish(runtime: Runtime, message: OutboxMessage) -> Callable[[], object]:
    item = int(message.thread_id.rsplit(".", 1)[-1])  # an iteration's id ends in its index
    event = TaskSucceeded(message.thread_id, message.seq, 2 * item)
    return lambda: runtime.finish_task(message.execution_id, message.thread_id, message.seq, event)


# --- the database restarts ------------------------------------------------------------------


@pytest.mark.postgres
def test_steps_reconnect_after_postgresql_dropped_every_connection(postgres_url: str) -> None:
    # Given an execution waiting in its one-hour Wait on PostgreSQL, its pool holding open
    # connections
    upgrade(postgres_url)
    store = Store(make_engine(postgres_url))
    node = Node(store, FakeClock(), InMemoryDispatcher(), _handlers())
    node.create_machine()
    arn = node.start("restarted")
    node.dispatcher.run_all(node.runtime, node.handlers)
    assert node.described(arn)["status"] == "RUNNING"
    # When the server drops every connection to the database (as a restart does)
    database = make_url(postgres_url).database
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        ).fetchone()
    assert dropped is not None
    assert dropped[0] >= 1
    # Then the next steps reconnect and the execution completes as if nothing happened
    node.drain()
    assert node.output(arn) == OUTPUT
    assert_same_execution(store.history(arn), _clean_history(node))
    store.engine.dispose()
