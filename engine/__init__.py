"""stepline: Amazon States Language state machines, run durably on Celery.

The public surface (everything else may move)::

    import engine

    @engine.handler("charge_card")          # a Lambda-style handler, by function name
    def charge_card(event, context): ...

    client = engine.connect()               # durable: SQL store + Celery, from STEPLINE_*
    client = engine.Client.local()          # in-process, nothing stored
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from engine._activity_worker import ActivityWorker
from engine._api import Client
from engine._api.activities import ActivityDoesNotExist
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

try:
    __version__ = _version("stepline")
except _PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

registry = _DEFAULT_REGISTRY
"""The default registry: workers and ``stepline run`` resolve Task resources here."""

handler = registry.handler
"""Decorator registering a function in the default registry: ``@engine.handler("name")``."""

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
