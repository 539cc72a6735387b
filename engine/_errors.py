"""Errors raised by stepline.

The tree::

    SteplineError                       every error stepline raises on purpose
    ├── DefinitionError (ValueError)    a state machine definition cannot be used
    │   ├── DefinitionSyntaxError       the text is not JSON/YAML (line and column given)
    │   └── InvalidDefinition           the ASL is invalid; carries every Diagnostic
    ├── StatesError                     a failure visible to ASL: Retry/Catch match its name
    │   ├── StatesTerminalError         a failure Retry/Catch never handle
    │   └── StatesRuntimeError          a runtime failure whose cause AWS prefixes with
    │                                   "An error occurred while executing the state ..."
    ├── ClientError                     an API call refused, with boto3's error code
    │   ├── ExecutionDoesNotExist, InvalidDefinitionRequest, InvalidExecutionInput, ...
    └── StoreError                      the SQL store cannot be used as configured
        ├── StoreUnreachable            no connection (wrong URL, server down)
        └── StoreNotMigrated            its schema is not the code's: run `stepline db upgrade`

`StatesError` is data, not control flow across layers: the interpreter catches it at the
state boundary and turns it into Retry, Catch or a failed thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError as BotocoreClientError


class ErrorName(StrEnum):
    """The predefined ASL error names (the ``States.`` family)."""

    ALL = "States.ALL"
    DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
    EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
    HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
    INTRINSIC_FAILURE = "States.IntrinsicFailure"
    ITEM_READER_FAILED = "States.ItemReaderFailed"
    NO_CHOICE_MATCHED = "States.NoChoiceMatched"
    PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
    PERMISSIONS = "States.Permissions"
    QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
    RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
    RESULT_WRITER_FAILED = "States.ResultWriterFailed"
    RUNTIME = "States.Runtime"
    TASK_FAILED = "States.TaskFailed"
    TIMEOUT = "States.Timeout"
    BRANCH_FAILED = "States.BranchFailed"


class SteplineError(Exception):
    """Root of every error stepline raises on purpose."""


class DefinitionError(SteplineError, ValueError):
    """A state machine definition cannot be used."""


class DefinitionSyntaxError(DefinitionError):
    """The definition text is not well-formed JSON or YAML.

    Attributes:
        line: 1-based line of the problem, when known.
        column: 1-based column of the problem, when known.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a definition.

    Attributes:
        path: JSON pointer to the offending value, e.g. ``/States/Wait1/Seconds``.
        message: what was expected and what was found there.
        code: a stable short code for the kind of problem (e.g. ``SCHEMA_VALIDATION_FAILED``).
    """

    path: str
    message: str
    code: str = "SCHEMA_VALIDATION_FAILED"

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


class InvalidDefinition(DefinitionError):
    """The ASL definition is invalid; ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        lines = "\n".join(f"  {d}" for d in self.diagnostics)
        super().__init__(f"{len(self.diagnostics)} problem(s) in the definition:\n{lines}")


class StatesError(SteplineError):
    """A failure visible to ASL, matched by Retry/Catch on ``name`` only.

    Attributes:
        name: the ASL error name, e.g. ``States.TaskFailed`` or a handler's exception name.
        cause: the human readable cause (may be None, as AWS allows).
    """

    def __init__(self, name: str, cause: str | None = None):
        super().__init__(f"{name}: {cause}" if cause is not None else name)
        self.name = name
        self.cause = cause


class StatesTerminalError(StatesError):
    """A failure no Retry or Catch handles (e.g. a state's payload over the size limit)."""


class StatesRuntimeError(StatesError):
    """A runtime failure whose cause AWS prefixes with the state name and entered event id.

    ``detail`` is the part after the prefix; the interpreter adds the prefix because only
    it knows the state and the event id. ``location`` names the field that failed (e.g.
    ``Output/result``), reported in the ``EvaluationFailed`` history event.
    """

    def __init__(self, name: str, detail: str, *, location: str | None = None):
        super().__init__(name, detail)
        self.detail = detail
        self.location = location

    def prefixed_cause(self, state_name: str, entered_event_id: int) -> str:
        """The cause as AWS words it for a state entered at ``entered_event_id``."""
        return (
            f"An error occurred while executing the state '{state_name}' "
            f"(entered at the event id #{entered_event_id}). {self.detail}"
        )


class ClientError(SteplineError, BotocoreClientError):  # type: ignore[misc]  # botocore is untyped
    """An API call was refused: a botocore ``ClientError`` with AWS's error code.

    ``code`` is AWS's error code (``ExecutionDoesNotExist``, ``InvalidDefinition`` ...);
    ``response`` is botocore's ``{"Error": {"Code", "Message"}, "ResponseMetadata": ...}``,
    so ``except botocore.exceptions.ClientError`` code written for boto3 catches it. The
    client names the operation (`with_operation`) when the error leaves an API call.
    """

    code = "ClientError"
    http_status = 400

    def __init__(self, message: str, operation_name: str = ""):
        self.message = message
        # object values: botocore puts numbers there too (ResponseMetadata.HTTPStatusCode)
        response: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": self.http_status},
        }
        BotocoreClientError.__init__(self, response, operation_name)
        if not operation_name:
            self.args = (f"An error occurred ({self.code}): {message}",)

    def with_operation(self, operation_name: str) -> ClientError:
        """This error, worded as botocore words it for a call to ``operation_name``."""
        self.operation_name = operation_name
        self.args = (
            f"An error occurred ({self.code}) when calling the {operation_name} "
            f"operation: {self.message}",
        )
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # botocore's pickles (response, operation_name); ours are rebuilt from the message.
        return (_rebuild_client_error, (type(self), self.message, self.operation_name))


def _rebuild_client_error(cls: type[ClientError], message: str, operation_name: str) -> ClientError:
    """Unpickle a `ClientError` (subclasses take only the message)."""
    error = cls(message)
    return error.with_operation(operation_name) if operation_name else error


class ExecutionDoesNotExist(ClientError):
    """No execution has that ARN."""

    code = "ExecutionDoesNotExist"


class ExecutionAlreadyExists(ClientError):
    """An execution with that name exists with a different input, or has ended."""

    code = "ExecutionAlreadyExists"


class ExecutionLimitExceeded(ClientError):
    """Too many executions are running."""

    code = "ExecutionLimitExceeded"


class InvalidArn(ClientError):
    """The ARN is malformed."""

    code = "InvalidArn"


class InvalidDefinitionRequest(ClientError):
    """The ASL definition is invalid (boto3 code ``InvalidDefinition``).

    Named apart from the validator's `InvalidDefinition`, which carries diagnostics; the
    API raises this one, with boto3's code.
    """

    code = "InvalidDefinition"


class InvalidExecutionInput(ClientError):
    """The execution input is not valid JSON, is too large or too deeply nested."""

    code = "InvalidExecutionInput"


class InvalidName(ClientError):
    """The name is not allowed."""

    code = "InvalidName"


class InvalidToken(ClientError):
    """The task token is not valid."""

    code = "InvalidToken"


class InvalidOutput(ClientError):
    """The task output is not valid JSON."""

    code = "InvalidOutput"


class MissingRequiredParameter(ClientError):
    """A required request parameter is missing."""

    code = "MissingRequiredParameter"


class StateMachineAlreadyExists(ClientError):
    """A state machine with that name and another definition or role exists."""

    code = "StateMachineAlreadyExists"


class StateMachineDoesNotExist(ClientError):
    """No state machine has that ARN."""

    code = "StateMachineDoesNotExist"


class StateMachineDeleting(ClientError):
    """The state machine is being deleted."""

    code = "StateMachineDeleting"


class StateMachineTypeNotSupported(ClientError):
    """The operation is not supported for this state machine type."""

    code = "StateMachineTypeNotSupported"


class TaskDoesNotExist(ClientError):
    """No task waits for that token."""

    code = "TaskDoesNotExist"


class TaskTimedOut(ClientError):
    """The task already timed out (or its execution ended)."""

    code = "TaskTimedOut"


class ValidationException(ClientError):
    """A request field is invalid (e.g. over its length limit)."""

    code = "ValidationException"


class ConflictException(ClientError):
    """The request conflicts with the resource's state.

    A stale revisionId, a version an alias routes to being deleted, an alias name taken
    with another configuration.
    """

    code = "ConflictException"


class ResourceNotFound(ClientError):
    """No resource (alias, Map Run, or machine or activity to tag) has that ARN."""

    code = "ResourceNotFound"


class TooManyTags(ClientError):
    """A resource would carry more than its 50 tags."""

    code = "TooManyTags"


class ServiceUnavailable(ClientError):
    """The service cannot answer now (its store is unreachable); retry the call later.

    Shaped as botocore shapes a 503: ``response["ResponseMetadata"]["HTTPStatusCode"]`` is
    503, which botocore's retry modes treat as transient.
    """

    code = "ServiceUnavailable"
    http_status = 503
    retryable = True


class StoreError(SteplineError):
    """The SQL store (``STEPLINE_DATABASE_URL``) cannot be used as configured.

    Attributes:
        url: the store's URL, password hidden.
    """

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


class StoreUnreachable(StoreError, ConnectionError):
    """No connection to the store: the URL is wrong or its server is down."""

    def __init__(self, url: str, reason: str):
        super().__init__(
            f"cannot connect to the store at {url} ({reason}): check STEPLINE_DATABASE_URL "
            "and that the database server is running",
            url,
        )
        self.reason = reason


class StoreNotMigrated(StoreError):
    """The store's schema is not the one this code needs."""

    def __init__(self, url: str, revision: str | None, head: str | None):
        super().__init__(
            f"the store at {url} is at schema revision {revision or 'none (empty)'}, this "
            f"stepline needs {head}: run `stepline db upgrade`",
            url,
        )
        self.revision = revision
        self.head = head


class ExecutionNotRedrivable(ClientError):
    """RedriveExecution refused: the execution did not end unsuccessfully, or is too old.

    AWS's limits: 14 days since its end, a year since its start, a history almost full.
    """

    code = "ExecutionNotRedrivable"
