"""What the built-in integrations call, handed to them when a worker (or a client) starts.

An integration is a function of a `TaskCall`; the services it needs — the API client
(child executions), the runtime and its store (queues, topics, activities, ``.sync``
completions), the Celery app (``celery:sendTask``), an HTTP client — are bound when it is
registered, so nothing is looked up because a definition names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from engine._api.operations import Operations
    from engine._resources import HandlerRegistry
    from engine._runtime import Runtime


@dataclass(frozen=True)
class Services:
    """The outside world, as built-in integrations see it.

    Attributes:
        client: the API of this process, on the backend it runs on: a boto3-shaped
            `Client`, or the `Operations` behind it for ``stepline run --local``.
        runtime: the durable runtime (None in-process: integrations that need the store
            or a fleet are then not registered).
        celery: the Celery app of a worker (None when there is none).
        http: makes the HTTP client of ``http:invoke`` calls.
    """

    client: Operations
    runtime: Runtime | None = None
    celery: Any = None
    http: Callable[[], httpx.Client] = lambda: new_http_client()


def new_http_client() -> httpx.Client:
    """An HTTP client with httpx's defaults (imported here: only HTTP Tasks need one)."""
    import httpx

    return httpx.Client()


def durable_services(runtime: Runtime, handlers: HandlerRegistry, celery: Any = None) -> Services:
    """The services of a worker driving ``runtime`` (its client on the same store)."""
    from engine._api import Client
    from engine._backends.durable import DurableBackend

    client = Client(DurableBackend(runtime.store, runtime, handlers), clock=runtime.clock)
    return Services(client=client, runtime=runtime, celery=celery)
