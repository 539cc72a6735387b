"""Queues and topics on the store: SQS and SNS semantics, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine._clock import FakeClock
from engine._messaging import queues, topics
from engine._messaging.names import queue_name, topic_name
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from tests.unit.interpreter.support import T0


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated store on SQLite, and on PostgreSQL (receives there lock with SKIP LOCKED)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'queues.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()  # the PostgreSQL test database is dropped after the test


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def test_a_queue_is_named_by_its_name_url_or_arn() -> None:
    # Given the forms AWS writes a queue in
    forms = [
        "payments",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/payments",
        "http://localhost:4566/000000000000/payments",
        "arn:aws:sqs:us-east-1:111111111111:payments",
    ]
    # Then each comes down to the queue's name; a topic's ARN to the topic's
    assert {queue_name(form) for form in forms} == {"payments"}
    assert topic_name("arn:aws:sns:us-east-1:111111111111:orders") == "orders"
    # And a malformed reference is refused, naming it
    with pytest.raises(ValueError, match="'bad name'"):
        queue_name("bad name")


def test_a_message_stays_hidden_for_its_visibility_timeout_then_comes_back(
    store: Engine, clock: FakeClock
) -> None:
    # Given a queue with one message
    queues.create_queue(store, "work", now=clock.now())
    sent = queues.send_message(store, "work", "hello", now=clock.now())
    # When it is received with a 10 s visibility timeout
    first = queues.receive_messages(store, "work", 1, 10, clock=clock)
    # Then nobody else gets it within those 10 s
    assert [m.message_id for m in first] == [sent]
    assert queues.receive_messages(store, "work", 1, 10, clock=clock) == []
    # And once they pass, undeleted, it is received again with a new receipt
    clock.advance(10)
    again = queues.receive_messages(store, "work", 1, 10, clock=clock)
    assert [(m.message_id, m.receive_count) for m in again] == [(sent, 2)]
    assert again[0].receipt != first[0].receipt


def test_a_deleted_message_is_gone_and_a_stale_receipt_deletes_nothing(
    store: Engine, clock: FakeClock
) -> None:
    # Given a message received twice (the first receipt went stale)
    queues.create_queue(store, "work", now=clock.now())
    queues.send_message(store, "work", "hello", now=clock.now())
    stale = queues.receive_messages(store, "work", 1, 1, clock=clock)[0]
    clock.advance(1)
    current = queues.receive_messages(store, "work", 1, 1, clock=clock)[0]
    # When both receipts delete it
    # Then the stale one deletes nothing, the current one deletes it for good
    assert not queues.delete_message(store, "work", stale.receipt)
    assert queues.delete_message(store, "work", current.receipt)
    clock.advance(60)
    assert queues.receive_messages(store, "work", 10, clock=clock) == []


def test_a_long_poll_is_bounded_and_returns_when_a_message_is_there(
    store: Engine, clock: FakeClock
) -> None:
    # Given an empty queue
    queues.create_queue(store, "work", now=clock.now())
    # When a consumer long-polls for 5 s
    assert queues.receive_messages(store, "work", 1, wait_seconds=5, clock=clock) == []
    # Then it waited exactly the 5 s (the fake clock moved by the poll's steps)
    assert (clock.now() - T0).total_seconds() == pytest.approx(5)
    # And a poll longer than SQS's 20 s is refused, naming the argument
    with pytest.raises(ValueError, match="wait_seconds"):
        queues.receive_messages(store, "work", 1, wait_seconds=21, clock=clock)


def test_delay_seconds_hides_a_new_message(store: Engine, clock: FakeClock) -> None:
    # Given a message sent with a 30 s delay
    queues.create_queue(store, "work", now=clock.now())
    queues.send_message(store, "work", "later", now=clock.now(), delay_seconds=30)
    # Then it is not received before, and is after
    assert queues.receive_messages(store, "work", clock=clock) == []
    clock.advance(30)
    assert [m.body for m in queues.receive_messages(store, "work", clock=clock)] == ["later"]


def test_change_visibility_zero_releases_a_message_at_once(store: Engine, clock: FakeClock) -> None:
    # Given a received message
    queues.create_queue(store, "work", now=clock.now())
    queues.send_message(store, "work", "x", now=clock.now())
    receipt = queues.receive_messages(store, "work", 1, 300, clock=clock)[0].receipt
    # When its visibility is set to 0
    assert queues.change_visibility(store, "work", receipt, 0, now=clock.now())
    # Then it is received again at once
    assert len(queues.receive_messages(store, "work", clock=clock)) == 1


def test_a_missing_queue_is_named(store: Engine, clock: FakeClock) -> None:
    # Given no queue "nowhere"
    # When a message is sent to it
    # Then QueueDoesNotExist names it
    with pytest.raises(queues.QueueDoesNotExist, match="'nowhere'"):
        queues.send_message(store, "nowhere", "x", now=clock.now())


def test_one_message_id_is_sent_once(store: Engine, clock: FakeClock) -> None:
    # Given a message sent twice with the same id (a redelivered Task)
    queues.create_queue(store, "work", now=clock.now())
    for _ in range(2):
        queues.send_message(store, "work", "x", now=clock.now(), message_id="m-1")
    # Then the queue holds one copy
    assert len(queues.receive_messages(store, "work", 10, clock=clock)) == 1


def test_create_list_and_delete_queues(store: Engine, clock: FakeClock) -> None:
    # Given two queues
    url = queues.create_queue(store, "a", now=clock.now())
    queues.create_queue(store, "b", {"VisibilityTimeout": "5"}, now=clock.now())
    # Then they are listed by URL, the same create is a no-op, another is refused
    assert url == queues.get_queue_url(store, "a")
    assert queues.list_queues(store) == [url, queues.get_queue_url(store, "b")]
    assert queues.create_queue(store, "a", now=clock.now()) == url
    with pytest.raises(queues.QueueAlreadyExists, match="'b'"):
        queues.create_queue(store, "b", {"VisibilityTimeout": "9"}, now=clock.now())
    # And a deleted queue is gone
    queues.delete_queue(store, url)
    assert queues.list_queues(store, "a") == []


def test_a_topic_fans_out_as_an_envelope_or_raw(store: Engine, clock: FakeClock) -> None:
    # Given a topic with one queue subscribed plainly and one with raw delivery
    for name in ("plain", "raw"):
        queues.create_queue(store, name, now=clock.now())
    arn = topics.create_topic(store, "orders", now=clock.now())
    topics.subscribe(store, arn, "sqs", "plain", now=clock.now())
    topics.subscribe(
        store, "orders", "sqs", queues.get_queue_url(store, "raw"),
        {"RawMessageDelivery": "true"}, now=clock.now(),
    )  # fmt: skip
    attributes = {"kind": {"DataType": "String", "StringValue": "new"}}
    # When a message is published
    message_id = topics.publish(store, arn, "hi", "Subject", attributes, now=clock.now())
    # Then the plain queue gets SNS's envelope, the raw one the message and its attributes
    envelope = json.loads(queues.receive_messages(store, "plain", clock=clock)[0].body)
    assert envelope["Type"] == "Notification"
    assert (envelope["MessageId"], envelope["TopicArn"]) == (message_id, arn)
    assert (envelope["Message"], envelope["Subject"]) == ("hi", "Subject")
    assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "new"}}
    raw = queues.receive_messages(store, "raw", clock=clock)[0]
    assert (raw.body, raw.attributes) == ("hi", attributes)


def test_a_missing_topic_is_named(store: Engine, clock: FakeClock) -> None:
    # Given no topic "ghost"
    # Then publishing to it raises TopicDoesNotExist naming it
    with pytest.raises(topics.TopicDoesNotExist, match="'ghost'"):
        topics.publish(store, "ghost", "x", now=clock.now())


def test_concurrent_receivers_never_get_the_same_message(store: Engine, clock: FakeClock) -> None:
    # Given a queue of 40 messages
    queues.create_queue(store, "work", now=clock.now())
    for number in range(40):
        queues.send_message(store, "work", str(number), now=clock.now())
    # When four receivers take them at the same time, ten at a time
    with ThreadPoolExecutor(4) as pool:
        batches = list(
            pool.map(lambda _: queues.receive_messages(store, "work", 10, clock=clock), range(4))
        )
    # Then every message went to exactly one receiver
    bodies = [message.body for batch in batches for message in batch]
    assert sorted(bodies, key=int) == [str(number) for number in range(40)]


def test_pruning_removes_old_deleted_rows_and_messages_past_retention(
    store: Engine, clock: FakeClock
) -> None:
    # Given a deleted message and an undeleted one on a queue keeping messages for 60 s
    queues.create_queue(store, "work", {"MessageRetentionPeriod": "60"}, now=clock.now())
    queues.send_message(store, "work", "done", now=clock.now(), message_id="done")
    receipt = queues.receive_messages(store, "work", clock=clock)[0].receipt
    queues.delete_message(store, "work", receipt)
    queues.send_message(store, "work", "waiting", now=clock.now())
    # When the queue is pruned within the windows, nothing goes
    keep = timedelta(seconds=30)
    assert queues.prune_messages(store, now=clock.now(), keep_deleted=keep) == 0
    # And the deleted one still blocks a resend of its id
    queues.send_message(store, "work", "done", now=clock.now(), message_id="done")
    clock.advance(30)
    assert [m.body for m in queues.receive_messages(store, "work", 10, clock=clock)] == ["waiting"]
    # Then past them, both rows go
    clock.advance(31)
    assert queues.prune_messages(store, now=clock.now(), keep_deleted=keep) == 2
