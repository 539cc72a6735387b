"""stepline: Amazon States Language state machines, run durably on Celery.

The public surface::

    import engine

    @engine.handler("charge_card")          # a Lambda-style handler, by function name
    def charge_card(event, context): ...

    client = engine.Client()                # boto3-shaped Step Functions API
"""

from engine.api import Client
from engine.clock import Clock, FakeClock, SystemClock
from engine.errors import (
    ClientError,
    DefinitionError,
    DefinitionSyntaxError,
    Diagnostic,
    ErrorName,
    InvalidDefinition,
    StatesError,
    SteplineError,
)
from engine.interpreter.snapshot import ExecutionStatus
from engine.resources import DEFAULT_REGISTRY, HandlerContext, HandlerRegistry

registry = DEFAULT_REGISTRY
"""The default registry: workers and ``stepline run`` resolve Task resources here."""

handler = registry.handler
"""Decorator registering a function in the default registry: ``@engine.handler("name")``."""

__all__ = [
    "Client",
    "ClientError",
    "Clock",
    "DefinitionError",
    "DefinitionSyntaxError",
    "Diagnostic",
    "ErrorName",
    "ExecutionStatus",
    "FakeClock",
    "HandlerContext",
    "HandlerRegistry",
    "InvalidDefinition",
    "StatesError",
    "SteplineError",
    "SystemClock",
    "handler",
    "registry",
]
