"""Task resources: registered Python handlers, invoked the way AWS invokes Lambda.

A handler is ``handler(event, context)``, registered by name. Resources resolve as AWS
resolves them:

- ``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`` → handler NAME; the
  result is the state's result; an exception fails the task with Error = the exception
  class name and Cause = Lambda's error envelope (Python-style JSON).
- ``arn:aws:states:::lambda:invoke`` with ``FunctionName`` / ``Payload`` → the same
  handler; the result is wrapped as Lambda's Invoke response and a failure's Cause is
  the compact envelope. An unknown function fails with
  ``Lambda.ResourceNotFoundException`` as AWS does.

- ``arn:aws:states:::SERVICE:ACTION[.sync|.sync:2|.waitForTaskToken]`` → the integration
  registered for ``(SERVICE, ACTION)`` (`Integration`): SQS, SNS, EventBridge, Celery,
  nested executions, HTTP... An integration may leave the task running outside the call
  (`AWAITING`): a callback token, a Celery task's end or a child execution's end
  completes it later. A resource no integration serves fails its state at once.

Nothing is ever imported because a definition names it: handlers and integrations are
registered.
"""

from __future__ import annotations

import base64
import json
import re
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine._dataflow.nesting import (
    MAX_NESTING_DEPTH,
    NestingTooDeep,
    check_nesting,
    loads_within_depth,
)
from engine._errors import ErrorName, StatesError
from engine._integrations.mocks import MockConfig, MockedOutcome
from engine._interpreter.events import Event, TaskFailed, TaskSucceeded
from engine._interpreter.integration import (
    Pattern,
    ResourceKind,
    base_action,
    describe_resource,
)
from engine._interpreter.snapshot import ROOT_THREAD_ID

if TYPE_CHECKING:
    from engine._integrations.services import Services

Json = Any
Handler = Callable[[Json, "HandlerContext"], Json]

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "111111111111"
_FUNCTION_NAME = re.compile(
    r"^(?:arn:[a-z-]+:lambda:(?P<region>[^:]+):(?P<account>\d+):function:"
    r"|(?P<short_account>\d+):function:)?(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[^:]+))?$"
)


@dataclass(frozen=True)
class HandlerContext:
    """What a handler gets besides its event (shaped like Lambda's context object).

    Attributes:
        function_name: the registered name that was invoked.
        invoked_function_arn: the function ARN as the state machine named it.
        aws_request_id: a fresh id for this invocation.
        execution_arn: the execution running the Task.
        state_name: the Task state's name.
        attempt: 0 for the first attempt, then one per retry.
        task_token: the callback token of a ``.waitForTaskToken`` task, else None.
        thread_id: the path of the thread running the Task: ``root``, or one naming each
            enclosing Parallel branch / Map iteration by its index (``root/4.0.17``).
        seq: the thread's step number when the attempt was scheduled; it tells two visits
            of the same state in one thread (a loop) apart.
        idempotency_key: unique per invocation -- execution, state, thread path (so per
            Map item and Parallel branch), visit and attempt -- and the same on every
            redelivery of that invocation: a handler that must run exactly once per
            attempt deduplicates on it (delivery is at-least-once).
    """

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    execution_arn: str = ""
    state_name: str = ""
    attempt: int = 0
    task_token: str | None = None
    thread_id: str = ROOT_THREAD_ID
    seq: int = 0

    @property
    def idempotency_key(self) -> str:
        """A key unique to this invocation, stable across its redeliveries (opaque text)."""
        return invocation_key(self)


def invocation_key(invocation: HandlerContext | TaskCall) -> str:
    """Execution, state, thread path, visit and attempt: one key per invocation.

    The thread id alone names the Map item / Parallel branch; seq separates loop visits;
    both come from the checkpoint, so a redelivered message gets the same key.
    """
    parts = (invocation.state_name, invocation.thread_id, invocation.seq, invocation.attempt)
    return "/".join(map(str, (invocation.execution_arn, *parts)))


@dataclass(frozen=True)
class TaskCall:
    """One invocation request: what the shell hands to :meth:`HandlerRegistry.invoke`.

    Attributes:
        execution_id: the execution's row id on the durable backend (None in-process):
            with ``thread_id`` and ``seq`` it addresses the task, so an integration that
            completes later (``.sync``) can report to it.
        timeout_seconds: the Task's TimeoutSeconds for this attempt, if any.
        heartbeat_seconds: the Task's HeartbeatSeconds, if any.
        test_case: the mock config test case the execution runs (started with
            ``stateMachineArn=ARN#CASE``), else None.
        state_invocation: in a test case, how many times the execution called this state
            before (retries, loops, Map iterations included): the key of its mocked response.
    """

    resource: str
    parameters: Json
    execution_arn: str = ""
    state_name: str = ""
    attempt: int = 0
    task_token: str | None = None
    thread_id: str = ROOT_THREAD_ID
    seq: int = 0
    execution_id: int | None = None
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    test_case: str | None = None
    state_invocation: int = 0

    @property
    def idempotency_key(self) -> str:
        """Unique per invocation, the same on its redeliveries (see `HandlerContext`)."""
        return invocation_key(self)


class Awaiting:
    """The outcome of an invocation whose result comes later, from outside the call."""

    def __repr__(self) -> str:
        return "AWAITING"


AWAITING = Awaiting()
"""Returned by an integration (and `HandlerRegistry.invoke`) when the task goes on after
the call: its token's callback, its Celery task's end or its child execution's end
completes it. The worker then releases the task without an outcome."""

Outcome = Json | Awaiting
Integration = Callable[[TaskCall, "Services | None"], Outcome]
"""Runs one ``arn:aws:states:::SERVICE:ACTION`` call with the caller's `Services` (None when
the caller has none): returns the result, `AWAITING`, or raises `StatesError` with the
service's error name."""

BUILTINS: dict[tuple[str, str], Integration] = {}
"""The integrations stepline ships (filled by `engine._integrations.builtin`); a registry's
own integration for the same ``(service, action)`` wins."""


class IntegrationNotFound(StatesError):
    """No integration is registered for a Task's service resource."""


class HandlerNotFound(StatesError):
    """No handler is registered under the name a resource resolves to."""


@dataclass
class HandlerRegistry:
    """Handlers by function name; resolves Task resources to them.

    ``mocks``: Step Functions Local's mock config; a Task of an execution that runs one of
    its test cases answers from it instead of calling its resource (see `invoke`).
    """

    handlers: dict[str, Handler] = field(default_factory=dict)
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    integrations: dict[tuple[str, str], Integration] = field(default_factory=dict)
    mocks: MockConfig | None = None

    def register(self, name: str, handler: Handler) -> Handler:
        """Register ``handler`` under ``name`` (returns it, so it works as a decorator)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
            raise ValueError(
                f"handler name {name!r}: expected 1-64 letters, digits, '-' or '_' "
                "(a Lambda function name)"
            )
        self.handlers[name] = handler
        return handler

    def handler(self, name: str | Handler | None = None) -> Any:
        """Decorator form: ``@registry.handler("charge_card")`` or bare ``@registry.handler``."""
        if callable(name):
            function = name
            self.register(function.__name__, function)
            return function

        def decorate(function: Handler) -> Handler:
            return self.register(name or function.__name__, function)

        return decorate

    def merge(self, other: HandlerRegistry) -> None:
        """Register every handler and integration of ``other`` here too."""
        for name, function in other.handlers.items():
            self.register(name, function)
        self.integrations.update(other.integrations)

    def names(self) -> Iterable[str]:
        """The registered names."""
        return self.handlers.keys()

    def register_integration(self, service: str, action: str, integration: Integration) -> None:
        """Serve ``arn:aws:states:::SERVICE:ACTION`` (every pattern) with ``integration``."""
        self.integrations[(service, action)] = integration

    def integration_names(self) -> list[str]:
        """``service:action`` of every integration served, built-ins included (announced)."""
        _load_builtins()
        keys = set(self.integrations) | set(BUILTINS)
        return sorted(f"{service}:{action}" for service, action in keys)

    def serves(self, resource: str) -> bool:
        """Whether this registry has what ``resource`` needs (a handler name aside)."""
        info = describe_resource(resource)
        if info.kind is ResourceKind.LAMBDA_FUNCTION or _is_lambda_invoke(info.uri):
            return True
        return self.integration_for(info.resource_type, base_action(info)) is not None

    def integration_for(self, service: str, action: str) -> Integration | None:
        """The integration serving ``service:action``: the registry's own, then a built-in.

        An integration registered for action ``*`` serves every action of its service, and
        one registered as ``("aws-sdk", "*")`` every ``aws-sdk:SERVICE`` (the AWS mode).
        """
        _load_builtins()
        keys = [(service, action), (service, "*")]
        if service.startswith("aws-sdk:"):
            keys.append(("aws-sdk", "*"))
        for table in (self.integrations, BUILTINS):
            found = next((table[key] for key in keys if key in table), None)
            if found is not None:
                return found
        return None

    def invoke(self, call: TaskCall, services: Services | None = None) -> Outcome:
        """Run the resource of ``call``; returns its result, `AWAITING`, or raises `StatesError`.

        ``services``: what integrations call (the client, the runtime, Celery...).
        A ``.waitForTaskToken`` call always awaits its callback, whatever the call returned.
        A state the execution's test case mocks is not called: its mocked response is the
        outcome, ``.waitForTaskToken`` and ``.sync`` included (no callback, no job).
        """
        mocked = self._mocked(call)
        if mocked is not None:
            return mocked.deliver()
        info = describe_resource(call.resource)
        if info.kind is ResourceKind.LAMBDA_FUNCTION:
            return self._invoke_function(call, call.resource, call.parameters, compact=False)
        if info.resource_type == "lambda" and base_action(info) == "invoke":
            result = self._invoke_lambda_integration(call)
        else:
            integration = self._integration(info.resource_type, base_action(info), call)
            result = integration(call, services)
        return AWAITING if info.pattern is Pattern.WAIT_FOR_TASK_TOKEN else result

    def _mocked(self, call: TaskCall) -> MockedOutcome | None:
        """The mocked outcome of ``call`` under its execution's test case, if it has one."""
        if self.mocks is None or call.test_case is None:
            return None
        machine_name = call.execution_arn.split(":")[6]  # arn:aws:states:R:A:execution:NAME:..
        return self.mocks.outcome(
            machine_name, call.test_case, call.state_name, call.state_invocation
        )

    def _integration(self, service: str, action: str, call: TaskCall) -> Integration:
        integration = self.integration_for(service, action)
        if integration is None:
            raise IntegrationNotFound(
                ErrorName.TASK_FAILED,
                f"The resource '{call.resource}' has no integration on this worker: expected "
                "a Lambda function ARN or a registered service integration ("
                f"{', '.join(self.integration_names()) or 'none registered'})",
            )
        return integration

    def _invoke_lambda_integration(self, call: TaskCall) -> Json:
        parameters = call.parameters if isinstance(call.parameters, dict) else {}
        function = parameters.get("FunctionName")
        if not isinstance(function, str):
            raise StatesError(
                ErrorName.TASK_FAILED,
                "lambda:invoke: 'FunctionName' must be a string naming a registered handler, "
                f"got {json.dumps(function)}",
            )
        event = _decode_payload(parameters.get("Payload"))
        result = self._invoke_function(call, function, event, compact=True)
        return _invoke_response(result, log_tail=parameters.get("LogType") == "Tail")

    def _invoke_function(
        self, call: TaskCall, function: str, event: Json, *, compact: bool
    ) -> Json:
        name, arn, qualifier = self._resolve(function)
        handler = self.handlers.get(name)
        if handler is None:
            raise HandlerNotFound(
                "Lambda.ResourceNotFoundException",
                f"Function not found: {arn}:{qualifier or '$LATEST'} (Service: AWSLambda; "
                "Status Code: 404; "
                "Error Code: ResourceNotFoundException; Request ID: "
                f"{uuid.uuid4()}; Proxy: null)",
            )
        request_id = str(uuid.uuid4())
        context = HandlerContext(
            name,
            f"{arn}:{qualifier}" if qualifier else arn,
            request_id,
            call.execution_arn,
            call.state_name,
            call.attempt,
            call.task_token,
            call.thread_id,
            call.seq,
        )
        try:
            result = handler(event, context)
        except StatesError:
            raise
        except Exception as exc:  # a handler's failure is data: Lambda's error envelope
            raise _lambda_failure(exc, request_id, compact=compact) from exc
        return _marshal(result, request_id, compact=compact)

    def _resolve(self, function: str) -> tuple[str, str, str | None]:
        """(handler name, unqualified function ARN, qualifier) of a name or ARN."""
        match = _FUNCTION_NAME.match(function)
        if match is None:
            return function, function, None
        name = match.group("name")
        region = match.group("region") or self.region
        account = match.group("account") or match.group("short_account") or self.account
        return name, f"arn:aws:lambda:{region}:{account}:function:{name}", match.group("qualifier")


def _decode_payload(payload: Json) -> Json:
    """What the function receives: no Payload is ``{}``; a string is raw JSON bytes."""
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return loads_within_depth(payload)
        except ValueError:  # not JSON (or too deep to be the state's JSON): the raw text
            return payload
    return payload


def _decode_result(result: Json) -> Json:
    """A handler returning bytes returns a raw payload: parse it as JSON, like Lambda."""
    if isinstance(result, bytes | bytearray):
        text = bytes(result).decode("utf-8")
        try:
            return json.loads(text)
        except ValueError:
            return text
    return result


def _marshal(result: Json, request_id: str, *, compact: bool) -> Json:
    """The result (raw bytes parsed) as JSON values; refuse what JSON cannot encode, as Lambda.

    A result nested deeper than the API accepts is refused too: the interpreter, the history
    and the checkpoint walk it level by level (`engine._dataflow.nesting`).
    """
    try:
        # dumps first: it refuses cycles, which the depth check would walk forever
        encoded = json.dumps(_decode_result(result), allow_nan=False)
        return check_nesting(json.loads(encoded), text=encoded)
    except RecursionError as exc:
        failure = MarshalError(f"Unable to marshal response: {NestingTooDeep(MAX_NESTING_DEPTH)}")
        raise _lambda_failure(failure, request_id, compact=compact, error_type=_MARSHAL) from exc
    except (TypeError, ValueError) as exc:  # NestingTooDeep included
        failure = MarshalError(f"Unable to marshal response: {exc}")
        raise _lambda_failure(failure, request_id, compact=compact, error_type=_MARSHAL) from exc


_MARSHAL = "Runtime.MarshalError"


class MarshalError(Exception):
    """A handler returned a value JSON cannot encode."""


def _invoke_response(payload: Json, *, log_tail: bool) -> dict[str, Json]:
    body_length = str(len(json.dumps(payload, separators=(",", ":"))))
    headers = {
        "Connection": "keep-alive",
        "Content-Length": body_length,
        "Content-Type": "application/json",
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    response: dict[str, Json] = {"ExecutedVersion": "$LATEST", "Payload": payload}
    if log_tail:
        log = base64.b64encode(b"START\nEND\n").decode("ascii")
        response["LogResult"] = log
        headers["X-Amz-Log-Result"] = log
    response["SdkHttpMetadata"] = {
        "AllHttpHeaders": {key: [value] for key, value in headers.items()},
        "HttpHeaders": headers,
        "HttpStatusCode": 200,
    }
    response["SdkResponseMetadata"] = {"RequestId": headers["x-amzn-RequestId"]}
    response["StatusCode"] = 200
    return response


def _lambda_failure(
    exc: BaseException, request_id: str, *, compact: bool, error_type: str | None = None
) -> StatesError:
    name = error_type or type(exc).__name__
    envelope = {
        "errorMessage": str(exc),
        "errorType": name,
        "requestId": request_id,
        "stackTrace": _stack_trace(exc),
    }
    separators = (",", ":") if compact else (", ", ": ")
    cause = json.dumps(envelope, separators=separators, ensure_ascii=False)
    return StatesError(name, cause)


def _stack_trace(exc: BaseException) -> list[str]:
    """Lambda's ``stackTrace``: the frames of the handler, formatted like Python does.

    An exception may carry ``lambda_stack_trace`` (a list of lines) to report exactly
    what a remote function reported.
    """
    explicit = getattr(exc, "lambda_stack_trace", None)
    if isinstance(explicit, list):
        return [str(line) for line in explicit]
    frames = traceback.extract_tb(exc.__traceback__)[1:]  # drop the registry's own frame
    return traceback.format_list(frames)


DEFAULT_REGISTRY: HandlerRegistry = HandlerRegistry()
"""The process-wide registry (``engine.registry``): ``@engine.handler`` registers here, and
`Client()`, ``stepline run`` and the workers resolve Task resources here by default."""


def _load_builtins() -> None:
    """Fill `BUILTINS` on first use (the integration modules import this one)."""
    if not BUILTINS:
        import engine._integrations.builtin  # noqa: F401  (registers on import)


def _is_lambda_invoke(uri: str) -> bool:
    info = describe_resource(uri)
    return info.resource_type == "lambda" and base_action(info) == "invoke"


def outcome_event(thread_id: str, seq: int, outcome: Json | StatesError) -> Event:
    """The event that reports a task's outcome: its result, or its error."""
    if isinstance(outcome, StatesError):
        return TaskFailed(thread_id, seq, outcome.name, outcome.cause)
    return TaskSucceeded(thread_id, seq, outcome)
