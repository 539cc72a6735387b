"""A 365-day Wait is one timer row: nothing waits in a broker or in worker memory until the
beat job, a year later (time travelled with freezegun), fires it and the execution goes on."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from freezegun import freeze_time

from engine import connect
from engine._clock import SystemClock
from engine._resources import HandlerRegistry
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine.testing import InMemoryDispatcher
from tasks import wiring
from tasks.timers import fire_due_timers
from tests.integration.conftest import Fleet

YEAR_WAIT = {
    "StartAt": "Sign",
    "States": {
        "Sign": {"Type": "Pass", "Result": {"contract": "c-1"}, "Next": "OneYear"},
        "OneYear": {"Type": "Wait", "Seconds": 365 * 24 * 3600, "Next": "Renew"},
        "Renew": {"Type": "Pass", "Parameters": {"renewed.$": "$.contract"}, "End": True},
    },
}
ROLE = "arn:aws:iam::111111111111:role/stepline-tests"


def test_a_year_long_wait_is_a_timer_row_until_the_beat_job_fires_it(tmp_path: Path) -> None:
    with freeze_time("2026-01-01T00:00:00Z") as frozen:
        # Given a durable runtime (SQLite store) and a machine that waits 365 days
        url = f"sqlite:///{tmp_path / 'store.db'}"
        upgrade(url)
        store, dispatcher = Store(make_engine(url)), InMemoryDispatcher()
        client = connect(store=store, dispatcher=dispatcher)
        runtime = client.backend.runtime
        arn = client.create_state_machine(
            name="renewal", definition=json.dumps(YEAR_WAIT), roleArn=ROLE
        )["stateMachineArn"]

        # When it starts and every message is delivered
        run = client.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        dispatcher.run_all(runtime, HandlerRegistry())

        # Then it waits as one timer row, with no message anywhere
        assert client.describe_execution(executionArn=run)["status"] == "RUNNING"
        assert store.counts()["timers"] == 1
        assert not dispatcher.queue
        assert store.due_outbox(SystemClock().now() + timedelta(days=364), 10) == []

        # When a year passes and the beat job runs
        frozen.tick(timedelta(days=365, seconds=1))
        wiring.set_runtime(runtime)
        try:
            assert fire_due_timers.run() == 1
        finally:
            wiring.reset()
        dispatcher.run_all(runtime, HandlerRegistry())

        # Then the execution continues after the Wait and completes
        described = client.describe_execution(executionArn=run)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"renewed": "c-1"}
        waited = described["stopDate"] - described["startDate"]
        assert waited >= timedelta(days=365)


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.slow
def test_a_year_long_wait_holds_nothing_in_the_worker_or_the_broker(
    fleet: Fleet, redis_url: str
) -> None:
    # Given a real worker fleet and a machine that waits 365 days
    arn = fleet.create("renewal", YEAR_WAIT)
    run = fleet.start_execution(arn, {}, "year")

    # When the execution reaches the Wait
    fleet.await_event(run, "WaitStateEntered")

    # Then no message waits in Redis (no ETA task held by a worker either)
    broker = redis.Redis.from_url(redis_url)
    fleet.await_condition(lambda: broker.llen("stepline.steps") == 0, 30, "an empty steps queue")
    assert broker.hlen("unacked") == 0
    assert fleet.store.counts()["timers"] == 1

    # When a year passes (time travel) and the beat job runs
    with freeze_time(fleet.client.clock.now() + timedelta(days=365, seconds=5), tick=True):
        assert fleet.client.backend.runtime.fire_due_timers() == 1  # type: ignore[attr-defined]

    # Then the worker takes the execution the rest of the way
    described = fleet.await_status(run)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"renewed": "c-1"}
