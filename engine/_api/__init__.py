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
from pathlib import Path
from typing import Any, ClassVar

from engine import _errors as errors
from engine._api.activities import ActivityDoesNotExist, ActivityOperations
from engine._api.aliases import AliasOperations
from engine._api.base import DEFAULT_ACCOUNT, DEFAULT_REGION, Backend
from engine._api.boto import PagingMixin, boto3_surface, exception_namespace
from engine._api.events import EventOperations
from engine._api.executions import ExecutionOperations
from engine._api.machines import MachineOperations
from engine._api.map_runs import MapRunOperations
from engine._api.tags import TagOperations
from engine._api.test_state import TestStateOperations
from engine._clock import Clock
from engine._integrations.mocks import MockConfig, with_mocks
from engine._interpreter.turn import Limits
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry


@boto3_surface
class Client(
    MachineOperations,
    AliasOperations,
    TagOperations,
    ExecutionOperations,
    MapRunOperations,
    EventOperations,
    ActivityOperations,
    TestStateOperations,
    PagingMixin,
):
    """The boto3-shaped Step Functions client.

    Build it with `engine.connect` (durable: SQL store, Celery workers) or `Client.local`
    (in-process, nothing stored). Its operations check their arguments, answer and refuse
    exactly as boto3's ``stepfunctions`` client does (`engine._api.boto`).
    """

    exceptions = exception_namespace(
        (
            ActivityDoesNotExist,
            errors.ConflictException,
            errors.ExecutionDoesNotExist,
            errors.ExecutionAlreadyExists,
            errors.ExecutionLimitExceeded,
            errors.ExecutionNotRedrivable,
            errors.InvalidArn,
            errors.InvalidDefinitionRequest,
            errors.InvalidExecutionInput,
            errors.InvalidName,
            errors.InvalidToken,
            errors.InvalidOutput,
            errors.MissingRequiredParameter,
            errors.ResourceNotFound,
            errors.ServiceUnavailable,
            errors.StateMachineAlreadyExists,
            errors.StateMachineDoesNotExist,
            errors.StateMachineDeleting,
            errors.StateMachineTypeNotSupported,
            errors.TaskDoesNotExist,
            errors.TaskTimedOut,
            errors.TooManyTags,
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
        mock_config: MockConfig | str | Path | None = None,
    ) -> Client:
        """An in-process client: executions run synchronously in memory, nothing is stored.

        Args:
            handlers: the registry Task resources resolve in (default: ``engine.registry``).
            clock: the clock executions run on (a `FakeClock` makes Waits instant).
            limits: AWS's service limits (default: AWS's values).
            region: the region in ARNs.
            account: the account in ARNs.
            mock_config: Step Functions Local's mock config (parsed, or the path of its
                file): ``stateMachineArn=ARN#CASE`` then runs test case CASE.

        Returns:
            A client on the local backend.

        Raises:
            MockConfigError: the mock config file is unreadable or malformed.
        """
        from engine._backends.local import LocalBackend
        from engine._integrations.services import Services

        if mock_config is not None:
            handlers = with_mocks(handlers or DEFAULT_REGISTRY, mock_config)
        backend = LocalBackend(handlers=handlers, clock=clock, limits=limits)
        client = cls(backend, clock=backend.clock, limits=limits, region=region, account=account)
        backend.executor.services = Services(client=client)
        return client


__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "Backend", "Client"]
