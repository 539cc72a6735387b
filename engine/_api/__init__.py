"""`Client`: the Step Functions API, shaped like boto3's ``stepfunctions`` client.

Same method names (snake_case), same request fields (camelCase keyword arguments, as
boto3 takes them), same response dicts and ARN formats, same error codes::

    client = Client.local()                # in-process, in-memory (engine.connect(): durable)
    machine = client.create_state_machine(name="orders", definition=text, roleArn=role)
    run = client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    client.describe_execution(executionArn=run["executionArn"])["status"]

The storage and execution strategy is a `Backend`: the local one runs executions
synchronously in memory; the durable one (``engine._backends.durable``) checkpoints to SQL and
runs on Celery workers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from engine import _errors as errors
from engine._api.activities import ActivityDoesNotExist, ActivityOperations
from engine._api.base import DEFAULT_ACCOUNT, DEFAULT_REGION, Backend
from engine._api.boto import PagingMixin, boto3_surface, exception_namespace
from engine._api.events import EventOperations
from engine._api.executions import ExecutionOperations
from engine._api.machines import MachineOperations
from engine._clock import Clock
from engine._interpreter.turn import Limits
from engine._resources import HandlerRegistry


@boto3_surface
class Client(
    MachineOperations, ExecutionOperations, EventOperations, ActivityOperations, PagingMixin
):
    """The boto3-shaped Step Functions client.

    Build it with `engine.connect` (durable: SQL store, Celery workers) or `Client.local`
    (in-process, nothing stored). Its operations check their arguments, answer and refuse
    exactly as boto3's ``stepfunctions`` client does (`engine._api.boto`).
    """

    exceptions = exception_namespace(
        (
            ActivityDoesNotExist,
            errors.ExecutionDoesNotExist,
            errors.ExecutionAlreadyExists,
            errors.ExecutionLimitExceeded,
            errors.InvalidArn,
            errors.InvalidDefinitionRequest,
            errors.InvalidExecutionInput,
            errors.InvalidName,
            errors.InvalidToken,
            errors.InvalidOutput,
            errors.MissingRequiredParameter,
            errors.ServiceUnavailable,
            errors.StateMachineAlreadyExists,
            errors.StateMachineDoesNotExist,
            errors.StateMachineDeleting,
            errors.StateMachineTypeNotSupported,
            errors.TaskDoesNotExist,
            errors.TaskTimedOut,
            errors.ValidationException,
        )
    )
    boto3_operations: ClassVar[dict[str, Callable[..., dict[str, Any]]]]

    @classmethod
    def local(
        cls,
        handlers: HandlerRegistry | None = None,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
    ) -> Client:
        """An in-process client: executions run synchronously in memory, nothing is stored.

        Args:
            handlers: the registry Task resources resolve in (default: ``engine.registry``).
            clock: the clock executions run on (a `FakeClock` makes Waits instant).
            limits: AWS's service limits (default: AWS's values).
            region: the region in ARNs.
            account: the account in ARNs.

        Returns:
            A client on the local backend.
        """
        from engine._backends.local import LocalBackend
        from engine._integrations.services import Services

        backend = LocalBackend(handlers=handlers, clock=clock, limits=limits)
        client = cls(backend, clock=backend.clock, limits=limits, region=region, account=account)
        backend.executor.services = Services(client=client)
        return client


__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "Backend", "Client"]
