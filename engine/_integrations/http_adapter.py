"""``arn:aws:states:::http:invoke``: the HTTP Task on httpx (see `http_task`)."""

from __future__ import annotations

from typing import Any

import httpx

from engine._integrations.http_task import MAX_TIMEOUT_SECONDS, invoke_http
from engine._integrations.services import Services
from engine._resources import Integration, TaskCall

Json = Any
# The Task's own TimeoutSeconds timer must end a call the server never answers, so AWS's
# outcome (States.Timeout, a TaskTimedOut event) is recorded, not the socket's: the HTTP
# client waits this much longer before giving up on its own.
TIMER_GRACE_SECONDS = 2.0


def invoke(call: TaskCall, services: Services | None) -> Json:
    """Call the endpoint; a fresh HTTP client per call (workers are forked processes)."""
    timeout = min(
        float(call.timeout_seconds or MAX_TIMEOUT_SECONDS) + TIMER_GRACE_SECONDS,
        MAX_TIMEOUT_SECONDS,
    )
    make_client = services.http if services is not None else httpx.Client
    with make_client() as client:
        return invoke_http(call.parameters, client, timeout_seconds=timeout)


INTEGRATIONS: dict[tuple[str, str], Integration] = {("http", "invoke"): invoke}
