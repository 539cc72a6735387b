"""The conformance runner's ``--executor celery``: a real Celery worker on Redis, PostgreSQL store.

One embedded Celery worker (thread pool) and one beat loop serve every case; each case
registers its handlers in the default registry, starts an execution through the
durable `Client`, and waits until the execution leaves RUNNING.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg

Json = Any
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/stepline_conformance"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"
CASE_TIMEOUT_SECONDS = 180.0


@contextmanager
def celery_environment() -> Iterator[CeleryCases]:
    """Configure, start the worker and the beat loop; yield the case runner."""
    database = os.environ.get("STEPLINE_CONFORMANCE_DATABASE_URL", DEFAULT_DATABASE)
    broker = os.environ.get("STEPLINE_CONFORMANCE_BROKER_URL", DEFAULT_BROKER)
    _recreate_database(database)
    _flush_redis(broker)
    os.environ.update(
        {
            "STEPLINE_DATABASE_URL": database,
            "STEPLINE_BROKER_URL": broker,
            "STEPLINE_HANDLER_QUEUE": "stepline.conformance.handlers",
            "STEPLINE_LEASE_SECONDS": "30",
        }
    )
    from engine import connect
    from engine._store.migrate import upgrade
    from tasks import wiring
    from tasks.app import app, serving_queues
    from tasks.embedded import beat_loop, embedded_worker

    upgrade(database)
    config = wiring.settings()
    runtime = wiring.runtime()
    with ExitStack() as stack:
        stack.enter_context(embedded_worker(app, serving_queues(config), concurrency=4))
        stack.enter_context(beat_loop(runtime, 0.25))
        yield CeleryCases(connect(config, store=runtime.store))


class CeleryCases:
    """Runs cases against the durable client served by the embedded worker."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @property
    def durable_client(self) -> Any:
        """The durable client the worker serves (``--executor http`` puts a server on it)."""
        return self._client

    def client(self, handlers: Any) -> Any:
        """The durable client; ``handlers`` become the registry of the worker and the client."""
        import engine

        # One registry object everywhere (the worker's, the client's sync backend's):
        # refilled per case, not replaced.
        engine.registry.handlers.clear()
        engine.registry.merge(handlers)
        return self._client

    def wait(self, client: Any, execution_arn: str) -> None:
        """Block until the execution ends (the runner is a tool; it polls the store)."""
        deadline = time.monotonic() + CASE_TIMEOUT_SECONDS
        while client.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {CASE_TIMEOUT_SECONDS}s")
            time.sleep(0.01)


def _recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    admin = url.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()
