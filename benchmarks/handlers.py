"""Handlers the benchmark workers import (``STEPLINE_HANDLERS=benchmarks.handlers``).

``noop`` returns its input. ``tracked`` does the same while counting, in Redis, how many
handlers run at this instant and keeping the highest count seen: the Map benchmark reads
that peak to check that MaxConcurrency was never exceeded.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import redis

import engine

RUNNING_KEY = "bench:running"
PEAK_KEY = "bench:peak"
CALLS_KEY = "bench:calls"
TRACKER_URL = "STEPLINE_BENCH_REDIS_URL"

# INCR the running count and raise the peak to it, atomically (one round trip).
_ENTER = """
local now = redis.call('INCR', KEYS[1])
redis.call('INCR', KEYS[3])
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if now > peak then redis.call('SET', KEYS[2], now) end
return now
"""


@cache
def _tracker() -> Any:
    client = redis.Redis.from_url(os.environ[TRACKER_URL])
    return client, client.register_script(_ENTER)


@engine.handler("noop")
def noop(event: Any, context: engine.HandlerContext) -> Any:
    return event


@engine.handler("tracked")
def tracked(event: Any, context: engine.HandlerContext) -> Any:
    client, enter = _tracker()
    enter(keys=[RUNNING_KEY, PEAK_KEY, CALLS_KEY])
    try:
        return event
    finally:
        client.decr(RUNNING_KEY)
