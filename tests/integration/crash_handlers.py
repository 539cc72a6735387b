"""Handlers the crash tests' worker processes import (STEPLINE_HANDLERS).

Each handler announces itself on a Redis list, so a test can await "the handler is now
running" instead of sleeping.
"""

from __future__ import annotations

import os
import time
from typing import Any

import redis

import engine

SIGNALS = "stepline:test:signals"


def _signal(name: str) -> None:
    url = os.environ.get("STEPLINE_TEST_SIGNAL_URL")
    if url:
        redis.Redis.from_url(url).rpush(SIGNALS, name)


@engine.handler("slow")
def slow(event: Any, context: engine.HandlerContext) -> Any:
    """Announce, then take ``event['seconds']`` seconds (long enough to be killed in)."""
    _signal(f"slow:{context.attempt}")
    time.sleep(float(event.get("seconds", 3)))
    return {"done": event.get("id")}


@engine.handler("whose")
def whose(event: Any, context: engine.HandlerContext) -> Any:
    """Announce which worker runs it (its main process's pid), then take a few seconds."""
    _signal(f"pid:{os.getppid()}")
    time.sleep(float(event.get("seconds", 3)))
    return {"done": event.get("id")}


@engine.handler("quick")
def quick(event: Any, context: engine.HandlerContext) -> Any:
    """Announce and return at once."""
    _signal("quick")
    time.sleep(float(event.get("seconds", 0)))
    return event


FIXED = "stepline:test:fixed"


class NotFixedYet(Exception):
    """What ``fails_until_fixed`` raises until a test sets the Redis key ``FIXED``."""


@engine.handler("fails_until_fixed")
def fails_until_fixed(event: Any, context: engine.HandlerContext) -> Any:
    """Announce; fail until the test sets ``FIXED`` (a redrive test's broken dependency)."""
    _signal("fails_until_fixed")
    url = os.environ.get("STEPLINE_TEST_SIGNAL_URL")
    if not url or not redis.Redis.from_url(url).exists(FIXED):
        raise NotFixedYet("the dependency is still broken")
    return {"fixed": event}
