"""`Client`: the Step Functions API, shaped like boto3's ``stepfunctions`` client.

Same method names (snake_case), same request fields (camelCase keyword arguments, as
boto3 takes them), same response dicts and ARN formats, same error codes::

    client = Client.local()                # in-process, in-memory (engine.connect(): durable)
    machine = client.create_state_machine(name="orders", definition=text, roleArn=role)
    run = client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    client.describe_execution(executionArn=run["executionArn"])["status"]

The storage and execution strategy is a `Backend`: the local one runs executions
synchronously in memory; the durable one (``engine._backends.durable``) checkpoints to SQL and
runs on Celery workers. The operations themselves are `engine._api.operations.Operations`;
this class adds boto3's surface, read from botocore's model when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from engine import _errors as errors
from engine._api.activities import ActivityDoesNotExist
from engine._api.boto import PagingMixin, boto3_surface, exception_namespace
from engine._api.operations import Operations


@boto3_surface
class Client(Operations, PagingMixin):
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
