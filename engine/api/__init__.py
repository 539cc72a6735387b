"""`Client`: the Step Functions API, shaped like boto3's ``stepfunctions`` client.

Same method names (snake_case), same request fields (camelCase keyword arguments, as
boto3 takes them), same response dicts and ARN formats, same error codes::

    client = Client()                      # local: in-process, in-memory
    machine = client.create_state_machine(name="orders", definition=text, roleArn=role)
    run = client.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    client.describe_execution(executionArn=run["executionArn"])["status"]

The storage and execution strategy is a `Backend`: the local one runs executions
synchronously in memory; the durable one (``engine.backends.durable``) checkpoints to SQL and
runs on Celery workers.
"""

from __future__ import annotations

from types import SimpleNamespace

from engine import errors
from engine.api.base import DEFAULT_ACCOUNT, DEFAULT_REGION, Backend
from engine.api.executions import ExecutionOperations
from engine.api.machines import MachineOperations


class Client(MachineOperations, ExecutionOperations):
    """The boto3-shaped Step Functions client."""

    exceptions = SimpleNamespace(
        **{
            cls.code: cls
            for cls in (
                errors.ExecutionDoesNotExist,
                errors.ExecutionAlreadyExists,
                errors.InvalidArn,
                errors.InvalidDefinitionRequest,
                errors.InvalidExecutionInput,
                errors.InvalidName,
                errors.InvalidToken,
                errors.InvalidOutput,
                errors.MissingRequiredParameter,
                errors.StateMachineAlreadyExists,
                errors.StateMachineDoesNotExist,
                errors.StateMachineTypeNotSupported,
                errors.TaskDoesNotExist,
                errors.TaskTimedOut,
                errors.ValidationException,
            )
        },
        ClientError=errors.ClientError,
    )


__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "Backend", "Client"]
