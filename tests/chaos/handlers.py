"""Handlers the chaos fleet's workers import (``STEPLINE_HANDLERS=tests.chaos.handlers``).

Every call appends its ``context.idempotency_key`` to the file ``STEPLINE_CHAOS_CALLS``
names, before doing anything else, so the suite counts duplicate handler calls (a key
written twice: the invocation ran twice). A file, not Redis or the store: the faults
wipe and restart those, and a record must survive them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import engine

CALLS = "STEPLINE_CHAOS_CALLS"


def record(context: engine.HandlerContext) -> None:
    """Append this invocation's key (one short O_APPEND write: lines never interleave)."""
    path = os.environ.get(CALLS)
    if path:
        with open(path, "a", encoding="utf-8") as calls:
            calls.write(context.idempotency_key + "\n")


@engine.handler("chaos_work")
def chaos_work(event: Any, context: engine.HandlerContext) -> Any:
    """Record the call, work ``event['work']`` seconds (so a fault finds calls running)."""
    record(context)
    time.sleep(float(event.get("work", 0)))
    return {"n": int(event.get("n", 0)) + 1, "work": event.get("work", 0)}


class FirstAttemptFails(Exception):
    """What ``chaos_flaky`` raises on a first attempt (its Retry then runs it again)."""


@engine.handler("chaos_flaky")
def chaos_flaky(event: Any, context: engine.HandlerContext) -> Any:
    """Record the call; fail the first attempt, succeed on the retry."""
    record(context)
    if context.attempt == 0:
        raise FirstAttemptFails(f"attempt {context.attempt} of {context.state_name} fails")
    return {"n": int(event.get("n", 0)) + 1, "retried": context.attempt}


class AlwaysFails(Exception):
    """What ``chaos_broken`` raises: its executions end FAILED, in a clean run too."""


@engine.handler("chaos_broken")
def chaos_broken(event: Any, context: engine.HandlerContext) -> Any:
    """Record the call and fail (every attempt)."""
    record(context)
    raise AlwaysFails("this dependency is down for good")
