"""Plain Celery tasks the fleet's worker registers (STEPLINE_HANDLERS), for ``celery:sendTask``.

They are ordinary ``@app.task`` functions, as an existing Celery fleet has; each one that a
test must wait for says so on a Redis list (no sleeping in tests).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import redis

from tasks.app import app

CELERY_SIGNALS = "stepline:test:celery"
"""The Redis list these tasks report on (tokens, chain outputs, starts)."""


def _say(what: dict[str, Any]) -> None:
    url = os.environ.get("STEPLINE_TEST_SIGNAL_URL")
    if url:
        redis.Redis.from_url(url).rpush(CELERY_SIGNALS, json.dumps(what))


class OrderRejected(Exception):
    """A business failure a state machine may Catch by its class name."""


@app.task(name="tests.add")
def add(x: int, y: int) -> int:
    """Return ``x + y``."""
    return x + y


@app.task(name="tests.reject")
def reject(order: str) -> None:
    """Fail with `OrderRejected`."""
    raise OrderRejected(f"order {order} rejected: card declined")


@app.task(name="tests.hold_token")
def hold_token(token: str, order: str) -> None:
    """Hand the task token to the test, which completes the state with SendTaskSuccess."""
    _say({"token": token, "order": order})


@app.task(name="tests.slow_double")
def slow_double(x: int, seconds: float) -> int:
    """Say it started, take ``seconds``, return ``2 * x``."""
    _say({"started": x})
    time.sleep(seconds)
    return 2 * x


@app.task(name="tests.prepare")
def prepare(order: str) -> dict[str, Any]:
    """The first link of a chain: the execution's input."""
    return {"order": order, "prepared": True}


@app.task(name="tests.record")
def record(output: Any) -> None:
    """The last link of a chain: hand what it received to the test."""
    _say({"recorded": output})
