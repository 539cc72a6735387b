"""Timer messages name the timer by its key; messages of older releases carry its row id."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine._api import Client
from engine._backends.durable import DurableBackend
from engine._clock import FakeClock
from engine._consumer import consume, message_args
from engine._resources import HandlerRegistry
from engine._runtime import Runtime
from engine._store.kinds import MessageKind
from engine._store.repository import Store, TimerKey, timer_address
from engine._store.rows import TIMERS
from engine.testing import InMemoryDispatcher

ROLE = "arn:aws:iam::111111111111:role/orders"
WAIT = {
    "StartAt": "Pause",
    "States": {"Pause": {"Type": "Wait", "Seconds": 30, "End": True}},
}


def _waiting(store: Store) -> tuple[Runtime, InMemoryDispatcher, FakeClock, str]:
    clock = FakeClock()
    dispatcher = InMemoryDispatcher()
    runtime = Runtime(store, dispatcher, clock)
    client = Client(DurableBackend(store, runtime, HandlerRegistry()), clock=clock)
    arn = client.create_state_machine(name="w", definition=json.dumps(WAIT), roleArn=ROLE)
    run = client.start_execution(stateMachineArn=arn["stateMachineArn"], name="w")
    dispatcher.run_all(runtime, HandlerRegistry())  # enters the Wait: a timer and its message
    return runtime, dispatcher, clock, run["executionArn"]


def _status(store: Store, arn: str) -> str:
    record = store.execution(arn)
    assert record is not None
    return str(record.status)


def test_a_timer_message_carries_the_timers_key(store: Store) -> None:
    # Given an execution waiting 30 s
    runtime, dispatcher, clock, arn = _waiting(store)
    # When its countdown message is read and delivered once due
    [message] = [m for m in dispatcher.queue if m.kind is MessageKind.TIMER]
    args = message_args(message)
    clock.advance(30)
    consume(runtime, HandlerRegistry(), MessageKind.TIMER, args)
    # Then the message named (execution, thread, seq, kind), and the timer fired
    assert timer_address(*args) == TimerKey(message.execution_id, "root", message.seq, "wait")
    assert _status(store, arn) == "SUCCEEDED"


def test_a_timer_message_of_an_older_release_fires_by_row_id(store: Store) -> None:
    # Given an execution waiting 30 s, and the row id of its timer
    runtime, _, clock, arn = _waiting(store)
    with store.engine.connect() as db:
        timer_id = db.scalar(select(TIMERS.c.id))
    assert isinstance(timer_id, int)
    # When a message carrying only that id arrives once the timer is due
    clock.advance(timedelta(seconds=30).total_seconds())
    consume(runtime, HandlerRegistry(), MessageKind.TIMER, (timer_id,))
    # Then the timer fired all the same
    assert _status(store, arn) == "SUCCEEDED"


def test_a_timer_message_with_other_arguments_is_refused() -> None:
    # Given arguments that are neither a key nor an id
    # When they are read as a timer's address
    # Then the error says what was expected and what came
    with pytest.raises(ValueError, match=r"expected \(execution_id, thread_id, seq, kind\)"):
        timer_address("x", 1)
