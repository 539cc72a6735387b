"""The composition root: the one place the durable `Client` is wired from the settings.

::

    import engine

    client = engine.connect()       # STEPLINE_* settings; with none, SQLite files in .stepline/
    client.start_execution(stateMachineArn=arn, input="{}")

The CLI, the Celery tasks (``tasks/wiring.py``), the embedded mode, the conformance runner
and the benchmarks all build here. A test that needs its own clock, store or dispatcher
passes it as a keyword instead of wiring the pieces by hand.

This module is a process edge: it alone in ``engine/`` reads ``config`` and ``tasks``
(import-linter lets it, and only it). It imports them, and the store and runtime, inside
the functions: ``import engine`` (a handler module, a local client) builds no Celery app,
reads no environment and loads no SQL toolkit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine._clock import Clock, SystemClock
from engine._errors import StoreNotMigrated, StoreUnreachable
from engine._integrations.mocks import with_mocks
from engine._interpreter.turn import Limits
from engine._loading import import_handler_modules
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry

if TYPE_CHECKING:
    from config.settings import Settings
    from engine._api.client import Client
    from engine._runtime import Dispatcher, Runtime, RuntimeSettings
    from engine._store.repository import Store


def connect(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    dispatcher: Dispatcher | None = None,
    clock: Clock | None = None,
    handlers: HandlerRegistry | None = None,
) -> Client:
    """The durable client: executions checkpointed in SQL, advanced by Celery workers.

    Imports the handler modules the settings name (``STEPLINE_HANDLERS``).

    Args:
        settings: the configuration; read from ``STEPLINE_*`` (and ``.env``) when None.
        store: the store to use instead of the one at ``settings.store_url``.
        dispatcher: publishes committed messages (default: Celery on the settings' broker).
        clock: the clock executions run on (default: the system clock).
        handlers: the registry Task resources resolve in (default: ``engine.registry``).

    Returns:
        A boto3-shaped `Client` on the durable backend.

    Raises:
        StoreUnreachable: the store's database cannot be reached.
        StoreNotMigrated: the store's schema is not this code's (``stepline db upgrade``).
        HandlerModuleError: a handler module cannot be imported.
        MockConfigError: the mock config file (``STEPLINE_MOCK_CONFIG``) is unreadable or
            malformed.
    """
    from engine._api.client import Client
    from engine._backends.durable import DurableBackend

    config = settings if settings is not None else read_settings()
    import_handler_modules(config.handler_modules)
    runtime = build_runtime(config, store=store, dispatcher=dispatcher, clock=clock)
    registry = handlers if handlers is not None else DEFAULT_REGISTRY
    if config.mock_config:
        registry = with_mocks(registry, config.mock_config)
    return Client(
        DurableBackend(runtime.store, runtime, registry),
        clock=runtime.clock,
        region=config.region,
        account=config.account,
        limits=runtime.limits,
    )


def build_runtime(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    dispatcher: Dispatcher | None = None,
    clock: Clock | None = None,
) -> Runtime:
    """The runtime a worker (or `connect`) drives executions with.

    Args:
        settings: the configuration; read from ``STEPLINE_*`` when None.
        store: the store (default: `open_store` on the settings).
        dispatcher: the publisher (default: `celery_dispatcher` on the settings).
        clock: the clock (default: the system clock).

    Returns:
        A `Runtime` with the settings' limits and timing.
    """
    from engine._runtime import Runtime

    config = settings if settings is not None else read_settings()
    store = store if store is not None else open_store(config)
    observe(store, config)
    return Runtime(
        store,
        dispatcher if dispatcher is not None else celery_dispatcher(config),
        clock or SystemClock(),
        limits=limits(config),
        settings=runtime_settings(config),
    )


def open_store(settings: Settings) -> Store:
    """The store at ``settings.store_url``, checked to be reachable and migrated.

    The embedded SQLite default migrates itself (there is no release step to do it);
    any other database must have been migrated with ``stepline db upgrade``.

    Raises:
        StoreUnreachable: the database cannot be reached.
        StoreNotMigrated: a server database is not at the latest schema revision.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from engine._store.db import make_engine
    from engine._store.migrate import current, head, upgrade
    from engine._store.repository import Store

    url = settings.store_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        revision, latest = current(url), head()
        if revision != latest and url.startswith("sqlite"):
            upgrade(url)
        elif revision != latest:
            raise StoreNotMigrated(shown, revision, latest)
    except OperationalError as error:
        raise StoreUnreachable(shown, _first_line(error)) from error
    return Store(make_engine(url))


def observe(store: Store, settings: Settings) -> None:
    """Count and log every step ``store`` commits: Prometheus metrics and execution logs.

    Listening again replaces the listeners (ADRs 0044, 0045): a store wired twice counts once.
    """
    from engine._observe.execution_logs import ExecutionLogs, JsonLinesFile
    from engine._observe.metrics import count_committed

    store.listen("metrics", count_committed)
    log_file = settings.execution_log_file
    sink = JsonLinesFile(log_file) if log_file else None
    store.listen("execution-logs", ExecutionLogs(store.logging_configuration, file=sink))


def celery_dispatcher(settings: Settings) -> Dispatcher:
    """Publishes through Celery on the settings' broker (the process's app when they match)."""
    from tasks import wiring
    from tasks.app import create_app
    from tasks.dispatcher import CeleryDispatcher

    if settings == wiring.settings():
        from tasks.app import app
    else:  # e.g. a benchmark's or a test's settings: an app of their own
        app = create_app(settings)
    return CeleryDispatcher(app, settings)


def read_settings() -> Settings:
    """This process's settings, read once from ``STEPLINE_*`` (and ``.env``)."""
    from tasks import wiring

    return wiring.settings()


def limits(settings: Settings) -> Limits:
    """AWS's service limits as the settings change them."""
    return Limits(
        payload_bytes=settings.max_payload_bytes,
        definition_bytes=settings.max_definition_bytes,
    )


def runtime_settings(settings: Settings) -> RuntimeSettings:
    """The runtime's timing and routing, from the settings."""
    from engine._runtime import RuntimeSettings

    return RuntimeSettings(
        lease_seconds=settings.lease_seconds,
        claim_seconds=settings.claim_seconds,
        timer_horizon_seconds=settings.timer_horizon_seconds,
        steps_queue=settings.steps_queue,
        handler_queue_prefix=settings.handler_queue_prefix,
        handler_queue=settings.handler_queue,
        integrations_queue=settings.integrations_queue,
        fold_states=settings.fold_states,
    )


def _first_line(error: Exception) -> str:
    """The driver's own message, without SQLAlchemy's SQL and background-link lines."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


__all__ = ["build_runtime", "celery_dispatcher", "connect", "limits", "observe", "open_store"]
