"""A message Redis delivered to a worker that died before naming it in a heartbeat is resent
within seconds, not a lease later (tasks/unacked.py, ADR 0041). Real Redis, real kombu
deliveries; the worker that dies is a kombu consumer that never acknowledges."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection

from config.settings import Settings
from engine import connect
from engine._api import Client
from engine._store.repository import Store
from engine._store.workers import Held, announce, heartbeat
from tasks.unacked import UNACKED, UNACKED_INDEX, UnackedSweep, delivered_message

pytestmark = [pytest.mark.redis]

MACHINE = {"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}
ROLE = "arn:aws:iam::111111111111:role/stepline-tests"
LOST_AFTER = 6.0


@pytest.fixture
def client(store: Store, redis_url: str) -> Client:
    """A durable client publishing through Celery to the test's Redis database."""
    return connect(Settings(broker_url=redis_url, lost_after_seconds=LOST_AFTER), store=store)


@pytest.fixture
def broker(redis_url: str) -> Iterator[redis.Redis]:
    """The test's Redis database, as kombu's Redis transport uses it."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def start(client: Client) -> None:
    """Start an execution: its first step message goes to ``stepline.steps``."""
    arn = client.create_state_machine(name="m", definition=json.dumps(MACHINE), roleArn=ROLE)
    client.start_execution(stateMachineArn=arn["stateMachineArn"], input="{}")


def receive_and_die(redis_url: str, broker: redis.Redis, age: float) -> Held:
    """Receive the step message without acknowledging it, as a worker killed mid-way would.

    The delivery is dated ``age`` seconds back (kombu scores it with ``time.time()``).
    """
    connection = Connection(redis_url)
    queue = connection.SimpleQueue("stepline.steps")
    queue.get(timeout=10)  # never acknowledged; the connection is left open, as a kill leaves it
    (tag,) = broker.hkeys(UNACKED)
    broker.zadd(UNACKED_INDEX, {tag: time.time() - age})
    message = delivered_message(broker.hget(UNACKED, tag) or b"")
    assert message is not None
    return message


def sweep(client: Client, redis_url: str) -> int:
    """One sweep, as the duty holder runs it."""
    config = Settings(broker_url=redis_url, lost_after_seconds=LOST_AFTER)
    return UnackedSweep(client.backend.runtime, config).check()  # type: ignore[attr-defined]


def test_a_delivery_to_a_dead_worker_is_resent_and_its_record_dropped(
    client: Client, store: Store, redis_url: str, broker: redis.Redis
) -> None:
    # Given a step message a worker received 10 s ago and never acknowledged (it died)
    start(client)
    receive_and_die(redis_url, broker, age=10)
    # When the sweep runs and the relay sends what became due
    resent = sweep(client, redis_url)
    client.backend.runtime.relay()  # type: ignore[attr-defined]
    # Then the message is back in its queue, and Redis forgot the dead delivery
    assert resent == 1
    assert broker.llen("stepline.steps") == 1
    assert (broker.hlen(UNACKED), broker.zcard(UNACKED_INDEX)) == (0, 0)


def test_a_delivery_a_live_worker_names_stays_with_it(
    client: Client, store: Store, redis_url: str, broker: redis.Redis
) -> None:
    # Given a step message a live worker received 10 s ago and names in its heartbeat
    start(client)
    message = receive_and_die(redis_url, broker, age=10)
    now = client.backend.runtime.clock.now()  # type: ignore[attr-defined]
    announce(store.engine, "celery@live", ["stepline.steps"], [], [], now)
    heartbeat(store.engine, "celery@live", [message], now)
    # When the sweep runs
    resent = sweep(client, redis_url)
    # Then it is left alone
    assert resent == 0
    assert (broker.llen("stepline.steps"), broker.hlen(UNACKED)) == (0, 1)


def test_a_delivery_younger_than_lost_after_is_not_judged(
    client: Client, redis_url: str, broker: redis.Redis
) -> None:
    # Given a step message received a moment ago (no heartbeat could name it yet)
    start(client)
    receive_and_die(redis_url, broker, age=1)
    # When the sweep runs
    resent = sweep(client, redis_url)
    # Then it waits for the worker's next heartbeats
    assert resent == 0
    assert broker.hlen(UNACKED) == 1
