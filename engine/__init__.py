"""stepline: Amazon States Language state machines, run durably on Celery.

The public surface (everything else may move)::

    import engine

    @engine.handler("charge_card")          # a Lambda-style handler, by function name
    def charge_card(event, context): ...

    client = engine.connect()               # durable: SQL store + Celery, from STEPLINE_*
    client = engine.Client.local()          # in-process, nothing stored

Every name is imported on first use (PEP 562, ADR 0050): ``import engine`` loads nothing
but this module, so a handler module, a local client or ``stepline run --local`` pays only
for what it touches, never for the durable side (SQL tables, settings, Celery).
"""

from __future__ import annotations

import typing as _typing
from importlib import import_module as _import_module

if _typing.TYPE_CHECKING:
    from engine._activity_worker import ActivityWorker
    from engine._api.activities import ActivityDoesNotExist
    from engine._api.client import Client
    from engine._clock import Clock, FakeClock, SystemClock
    from engine._composition import connect
    from engine._errors import (
        ClientError,
        ConflictException,
        DefinitionError,
        DefinitionSyntaxError,
        Diagnostic,
        ErrorName,
        ExecutionAlreadyExists,
        ExecutionDoesNotExist,
        ExecutionLimitExceeded,
        ExecutionNotRedrivable,
        InvalidArn,
        InvalidDefinition,
        InvalidDefinitionRequest,
        InvalidExecutionInput,
        InvalidName,
        InvalidOutput,
        InvalidToken,
        MissingRequiredParameter,
        ResourceNotFound,
        ServiceUnavailable,
        StateMachineAlreadyExists,
        StateMachineDeleting,
        StateMachineDoesNotExist,
        StateMachineTypeNotSupported,
        StatesError,
        SteplineError,
        StoreError,
        StoreNotMigrated,
        StoreUnreachable,
        TaskDoesNotExist,
        TaskTimedOut,
        TooManyTags,
        ValidationException,
    )
    from engine._interpreter.snapshot import ExecutionStatus
    from engine._loading import HandlerModuleError
    from engine._messaging.consumer import Message, QueueConsumer, consumer, messaging, serve
    from engine._resources import DEFAULT_REGISTRY as _DEFAULT_REGISTRY
    from engine._resources import HandlerContext, HandlerRegistry

    registry = _DEFAULT_REGISTRY
    handler = registry.handler
    __version__: str

_HOMES = {
    "ActivityDoesNotExist": "engine._api.activities",
    "ActivityWorker": "engine._activity_worker",
    "Client": "engine._api.client",
    "Clock": "engine._clock",
    "ExecutionStatus": "engine._interpreter.snapshot",
    "FakeClock": "engine._clock",
    "HandlerContext": "engine._resources",
    "HandlerModuleError": "engine._loading",
    "HandlerRegistry": "engine._resources",
    "Message": "engine._messaging.consumer",
    "QueueConsumer": "engine._messaging.consumer",
    "SystemClock": "engine._clock",
    "connect": "engine._composition",
    "consumer": "engine._messaging.consumer",
    "messaging": "engine._messaging.consumer",
    "serve": "engine._messaging.consumer",
    "ClientError": "engine._errors",
    "ConflictException": "engine._errors",
    "DefinitionError": "engine._errors",
    "DefinitionSyntaxError": "engine._errors",
    "Diagnostic": "engine._errors",
    "ErrorName": "engine._errors",
    "ExecutionAlreadyExists": "engine._errors",
    "ExecutionDoesNotExist": "engine._errors",
    "ExecutionLimitExceeded": "engine._errors",
    "ExecutionNotRedrivable": "engine._errors",
    "InvalidArn": "engine._errors",
    "InvalidDefinition": "engine._errors",
    "InvalidDefinitionRequest": "engine._errors",
    "InvalidExecutionInput": "engine._errors",
    "InvalidName": "engine._errors",
    "InvalidOutput": "engine._errors",
    "InvalidToken": "engine._errors",
    "MissingRequiredParameter": "engine._errors",
    "ResourceNotFound": "engine._errors",
    "ServiceUnavailable": "engine._errors",
    "StateMachineAlreadyExists": "engine._errors",
    "StateMachineDeleting": "engine._errors",
    "StateMachineDoesNotExist": "engine._errors",
    "StateMachineTypeNotSupported": "engine._errors",
    "StatesError": "engine._errors",
    "SteplineError": "engine._errors",
    "StoreError": "engine._errors",
    "StoreNotMigrated": "engine._errors",
    "StoreUnreachable": "engine._errors",
    "TaskDoesNotExist": "engine._errors",
    "TaskTimedOut": "engine._errors",
    "TooManyTags": "engine._errors",
    "ValidationException": "engine._errors",
}
"""Where each exported class or function is defined: the module `__getattr__` imports."""


if not _typing.TYPE_CHECKING:  # type checkers see the imports above, and only them

    def __getattr__(name: str) -> object:
        """An export, imported from its module on first use and kept (PEP 562)."""
        if name in _HOMES:
            value = getattr(_import_module(_HOMES[name]), name)
        elif name in ("registry", "handler"):
            # The default registry: workers and ``stepline run`` resolve Task resources
            # in it; ``@engine.handler("name")`` registers a function there.
            registry = _import_module("engine._resources").DEFAULT_REGISTRY
            value = registry if name == "registry" else registry.handler
        elif name == "__version__":
            value = _installed_version()
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    """The module's names and every export, imported or not."""
    return sorted({*globals(), *__all__})


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stepline")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "0+unknown"


__all__ = [
    "ActivityDoesNotExist",
    "ActivityWorker",
    "Client",
    "ClientError",
    "Clock",
    "ConflictException",
    "DefinitionError",
    "DefinitionSyntaxError",
    "Diagnostic",
    "ErrorName",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "ExecutionLimitExceeded",
    "ExecutionNotRedrivable",
    "ExecutionStatus",
    "FakeClock",
    "HandlerContext",
    "HandlerModuleError",
    "HandlerRegistry",
    "InvalidArn",
    "InvalidDefinition",
    "InvalidDefinitionRequest",
    "InvalidExecutionInput",
    "InvalidName",
    "InvalidOutput",
    "InvalidToken",
    "Message",
    "MissingRequiredParameter",
    "QueueConsumer",
    "ResourceNotFound",
    "ServiceUnavailable",
    "StateMachineAlreadyExists",
    "StateMachineDeleting",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "StatesError",
    "SteplineError",
    "StoreError",
    "StoreNotMigrated",
    "StoreUnreachable",
    "SystemClock",
    "TaskDoesNotExist",
    "TaskTimedOut",
    "TooManyTags",
    "ValidationException",
    "__version__",
    "connect",
    "consumer",
    "handler",
    "messaging",
    "registry",
    "serve",
]
