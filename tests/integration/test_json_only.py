"""A worker accepts JSON messages only: a pickled one is refused before it is unpickled.

Unpickling runs whatever the message's author chose, so a pickled message on a stepline
queue must never be deserialised -- let alone run its task -- while the worker carries on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Queue

from config.settings import Settings
from tasks.app import create_app
from tests.integration.celery_test_tasks import CELERY_SIGNALS
from tests.integration.conftest import ROOT

pytestmark = [pytest.mark.celery, pytest.mark.redis]

STEPS = "stepline.steps"
WORKER = [sys.executable, "-m", "engine._cli", "worker"]


class MakesADirectory:
    """Unpickled, it creates ``path``: the visible effect of code run by deserialising."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (str(self.path),)


@pytest.fixture
def worker_log(redis_url: str, tmp_path: Path) -> Iterator[Path]:
    """A stepline worker on the Redis broker, with the test's Celery tasks; its output file."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_HOME": str(tmp_path),
        "STEPLINE_BROKER_URL": redis_url,
        "STEPLINE_HANDLERS": "tests.integration.celery_test_tasks",
        "STEPLINE_TEST_SIGNAL_URL": redis_url,
    }
    for name in ("STEPLINE_DATABASE_URL", "STEPLINE_QUEUES"):
        env.pop(name, None)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*WORKER, "--concurrency", "1", "--without-mingle", "--without-gossip"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def publish_pickled(redis_url: str, tmp_path: Path, args: list[Any]) -> None:
    """Put a protocol-2 message for ``tests.hold_token`` on the steps queue, pickled."""
    app = create_app(Settings(home=tmp_path, broker_url=redis_url))
    message = app.amqp.as_task_v2(str(uuid.uuid4()), "tests.hold_token", args=args)
    queue = Queue(STEPS, Exchange(STEPS, "direct"), STEPS)
    with Connection(redis_url) as connection:
        connection.Producer(serializer="pickle").publish(
            message.body,
            exchange=queue.exchange,
            routing_key=STEPS,
            declare=[queue],
            headers=message.headers,
            **message.properties,
        )


def test_a_pickled_message_is_refused_unread_and_the_worker_serves_the_next(
    worker_log: Path, redis_url: str, tmp_path: Path
) -> None:
    # Given a pickled message whose arguments would create a directory when unpickled,
    # naming a task that reports on a Redis list when it runs
    marker = tmp_path / "unpickled"
    publish_pickled(redis_url, tmp_path, [MakesADirectory(marker), "pickled"])
    # And after it, the same task in an ordinary JSON message
    sender = create_app(Settings(home=tmp_path, broker_url=redis_url))
    sender.send_task("tests.hold_token", args=["json-token", "json"], queue=STEPS)
    # When the worker has served the JSON message (BLPOP: no sleeping)
    signals = redis.Redis.from_url(redis_url, socket_timeout=90)
    reported = signals.blpop([CELERY_SIGNALS], timeout=60)
    # Then the JSON message ran, and it is the only one that did
    assert reported is not None, worker_log.read_text(errors="replace")
    assert json.loads(reported[1]) == {"token": "json-token", "order": "json"}
    assert signals.llen(CELERY_SIGNALS) == 0
    # And the pickled message was never unpickled
    assert not marker.exists()
    # And the worker logged its refusal
    deadline = time.monotonic() + 30
    while "ContentDisallowed" not in (text := worker_log.read_text(errors="replace")):
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert "Refusing to deserialize untrusted content of type pickle" in text
