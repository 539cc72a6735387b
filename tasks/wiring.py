"""Per-process wiring of a worker: its settings, and its runtime built by the composition root.

``engine/_composition.py`` (``engine.connect``) builds the store, dispatcher and runtime;
this module only keeps this process's copies. Built lazily on first use, so each prefork
child opens its own database connections after the fork.
"""

from __future__ import annotations

import threading
from functools import cache

from config.settings import Settings, load_settings
from engine._composition import build_runtime
from engine._integrations.mocks import with_mocks
from engine._integrations.services import Services, durable_services
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry
from engine._runtime import Runtime

_lock = threading.RLock()  # services() builds the runtime under it
_runtime: Runtime | None = None
_services: Services | None = None


@cache
def settings() -> Settings:
    """This process's settings (read once)."""
    return load_settings()


def runtime() -> Runtime:
    """This process's runtime, publishing through Celery (built by `engine.connect`'s root)."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(settings())
        return _runtime


def set_runtime(runtime: Runtime) -> None:
    """Use ``runtime`` in this process (embedded mode and tests wire their own)."""
    global _runtime
    with _lock:
        _runtime = runtime


def reset() -> None:
    """Forget the runtime (after a fork, or in tests)."""
    global _runtime, _services
    with _lock:
        _runtime = None
        _services = None


def services() -> Services:
    """What this worker's integrations call: its client, runtime and Celery app."""
    global _services
    with _lock:
        if _services is None:
            from tasks.app import app

            _services = durable_services(runtime(), handlers(), celery=app)
        return _services


def handlers() -> HandlerRegistry:
    """The registry handler tasks resolve resources in (the default one).

    With ``STEPLINE_AWS_INTEGRATIONS`` on, it also serves real AWS through boto3 (ADR 0024);
    with ``STEPLINE_MOCK_CONFIG`` (or ``SFN_MOCK_CONFIG``) set, a test case's Tasks answer from
    that file.
    """
    _register_aws()
    return _registry()


@cache
def _registry() -> HandlerRegistry:
    """The default registry, answering from the mock config file when one is set (ADR 0029)."""
    if not settings().mock_config:
        return DEFAULT_REGISTRY
    return with_mocks(DEFAULT_REGISTRY, settings().mock_config)


@cache
def _register_aws() -> bool:
    """Register the AWS integrations once per process when the setting asks for them."""
    if not settings().aws_integrations:
        return False
    from engine._integrations.aws import AwsClients, register_aws_integrations

    clients = AwsClients(endpoint_url=settings().aws_endpoint_url or None)
    register_aws_integrations(DEFAULT_REGISTRY, clients)
    return True
