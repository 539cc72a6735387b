"""Per-process wiring of a worker: settings, store, runtime, handlers.

Built lazily on first use, so each prefork child opens its own database connections
after the fork.
"""

from __future__ import annotations

import threading
from functools import cache

from config.settings import Settings, load_settings
from engine.clock import SystemClock
from engine.interpreter.turn import Limits
from engine.resources import DEFAULT_REGISTRY, HandlerRegistry
from engine.runtime import Dispatcher, Runtime, RuntimeSettings
from engine.store.db import make_engine
from engine.store.migrate import check, upgrade
from engine.store.repository import Store

_lock = threading.Lock()
_runtime: Runtime | None = None


@cache
def settings() -> Settings:
    """This process's settings (read once)."""
    return load_settings()


def runtime_settings(config: Settings) -> RuntimeSettings:
    """The runtime's timing, from the settings."""
    return RuntimeSettings(
        lease_seconds=config.lease_seconds,
        timer_horizon_seconds=config.timer_horizon_seconds,
        steps_queue=config.steps_queue,
        handler_queue_prefix=config.handler_queue_prefix,
        handler_queue=config.handler_queue,
        fold_states=config.fold_states,
    )


def build_store(config: Settings) -> Store:
    """The store for ``config``; the embedded SQLite default migrates itself on first use."""
    if config.store_url.startswith("sqlite") and not check(config.store_url):
        upgrade(config.store_url)
    return Store(make_engine(config.store_url))


def build_runtime(config: Settings, dispatcher: Dispatcher, store: Store | None = None) -> Runtime:
    """A runtime on ``config``'s store publishing through ``dispatcher``."""
    return Runtime(
        store or build_store(config),
        dispatcher,
        SystemClock(),
        limits=Limits(payload_bytes=config.max_payload_bytes),
        settings=runtime_settings(config),
    )


def runtime() -> Runtime:
    """This process's runtime, publishing through Celery."""
    global _runtime
    with _lock:
        if _runtime is None:
            from tasks.app import app
            from tasks.dispatcher import CeleryDispatcher

            config = settings()
            _runtime = build_runtime(config, CeleryDispatcher(app, config))
        return _runtime


def set_runtime(runtime: Runtime) -> None:
    """Use ``runtime`` in this process (embedded mode and tests wire their own)."""
    global _runtime
    with _lock:
        _runtime = runtime


def reset() -> None:
    """Forget the runtime (after a fork, or in tests)."""
    global _runtime
    with _lock:
        _runtime = None


def handlers() -> HandlerRegistry:
    """The registry handler tasks resolve resources in (the default one)."""
    return DEFAULT_REGISTRY
