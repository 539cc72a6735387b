"""Real AWS services through boto3, opt-in (``STEPLINE_AWS_INTEGRATIONS=true``).

`register_aws_integrations` makes a registry serve, with the environment's credentials (and
``STEPLINE_AWS_ENDPOINT_URL`` when set, e.g. LocalStack or moto):

- AWS's optimized integrations ``arn:aws:states:::SERVICE:ACTION`` for `OPTIMIZED`
  (``sqs:sendMessage``, ``sns:publish``, ``events:putEvents``, DynamoDB's item actions,
  ``s3:getObject|putObject``), and a Distributed Map's ItemReader / ResultWriter over S3
  (`engine._integrations.s3_map`). They override stepline's self-hosted SQS/SNS/EventBridge
  built-ins (a registry's own integration wins). As on AWS: a JSON ``MessageBody``,
  ``Message`` or ``Detail`` is sent as its JSON text, ``putEvents`` adds the execution and
  state machine ARNs to each entry's ``Resources`` and fails with ``EventBridge.FailedEntry``
  when an entry failed, the result carries ``SdkHttpMetadata``/``SdkResponseMetadata``,
  and errors are ``DynamoDB.ConditionalCheckFailedException``, ``SQS.…``.
- every ``arn:aws:states:::aws-sdk:SERVICE:ACTION``: the parameters are the API's
  PascalCase members, the result is the API's response without ``ResponseMetadata``, and
  errors are ``<Service>.<Name>Exception`` (``DynamoDb.ConditionalCheckFailedException``).

``lambda:invoke`` stays on the registry's handlers: a Lambda in AWS is called through
``aws-sdk:lambda:invoke``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine._errors import ErrorName, StatesError
from engine._integrations.aws_names import (
    OPTIMIZED_PREFIXES,
    boto3_service,
    error_cause,
    exception_name,
    operation_name,
    sdk_error_prefix,
    to_json,
)
from engine._integrations.s3_map import S3ObjectStore, register_s3_map_integrations
from engine._interpreter.integration import describe_resource

if TYPE_CHECKING:
    from engine._integrations.services import Services
    from engine._resources import HandlerRegistry, TaskCall

Json = Any
SDK = "aws-sdk"
OPTIMIZED = {
    "sqs": ("sendMessage",),
    "sns": ("publish",),
    "events": ("putEvents",),
    "dynamodb": ("getItem", "putItem", "updateItem", "deleteItem", "query"),
    "s3": ("getObject", "putObject"),
}
"""The optimized actions served through boto3, by service."""
# Fields AWS sends as JSON text when the state gives them as JSON values.
_JSON_TEXT_FIELDS = {("sqs", "sendMessage"): "MessageBody", ("sns", "publish"): "Message"}


@dataclass
class AwsClients:
    """boto3 clients of one process, made on first use (a forked worker makes its own).

    Attributes:
        endpoint_url: where every client sends (None: AWS's endpoints).
        region: the clients' region (None: the environment's, else us-east-1).
    """

    endpoint_url: str | None = None
    region: str | None = None
    _clients: dict[tuple[int, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str) -> Any:
        """The boto3 client of ``service`` (boto3's name) in this process."""
        key = (os.getpid(), service)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._make(service)
            return self._clients[key]

    def _make(self, service: str) -> Any:
        import boto3  # only a worker that opted in needs boto3 loaded

        session = boto3.session.Session()
        region = self.region or session.region_name or "us-east-1"
        return session.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def available(self) -> list[str]:
        """The service names boto3 knows."""
        import boto3

        return list(boto3.session.Session().get_available_services())


def register_aws_integrations(registry: HandlerRegistry, clients: AwsClients) -> None:
    """Serve AWS's optimized integrations and every ``aws-sdk`` resource through ``clients``."""
    for service, actions in OPTIMIZED.items():
        for action in actions:
            registry.register_integration(service, action, _optimized(clients, service, action))
    registry.register_integration(SDK, "*", _sdk(clients))
    # A Distributed Map's ItemReader / ResultWriter read and write S3 through the same clients.
    register_s3_map_integrations(registry, lambda: S3ObjectStore(clients.client("s3")))


def _optimized(clients: AwsClients, service: str, action: str) -> Callable[..., Json]:
    def integration(call: TaskCall, services: Services | None) -> Json:
        parameters = _prepare(service, action, call)
        client = clients.client(service)
        method = getattr(client, _method(client, action, call.resource))
        response = call_service(method, parameters, OPTIMIZED_PREFIXES[service])
        result = _with_sdk_metadata(response)
        if service == "events" and result.get("FailedEntryCount"):
            cause = json.dumps(result["Entries"], separators=(",", ":"))
            raise StatesError("EventBridge.FailedEntry", cause)
        return result

    return integration


def _sdk(clients: AwsClients) -> Callable[..., Json]:
    def integration(call: TaskCall, services: Services | None) -> Json:
        sdk_service, action = _sdk_target(call.resource)
        name = boto3_service(sdk_service, clients.available())
        if name is None:
            raise StatesError(
                ErrorName.TASK_FAILED,
                f"{call.resource}: expected an AWS service boto3 knows, got {sdk_service!r}",
            )
        client = clients.client(name)
        prefix = sdk_error_prefix(client.meta.service_model.service_id)
        method = getattr(client, _method(client, action, call.resource))
        return to_json(call_service(method, _parameters(call), prefix))

    return integration


def _sdk_target(resource: str) -> tuple[str, str]:
    """(service, action) of ``arn:aws:states:::aws-sdk:SERVICE:ACTION[.pattern]``."""
    info = describe_resource(resource)
    suffix = info.pattern.value
    action = info.resource[: -len(suffix)] if suffix else info.resource
    return info.resource_type.removeprefix(f"{SDK}:"), action


def _method(client: Any, action: str, resource: str) -> str:
    """boto3's method for an ASL action (``putItem`` → ``put_item``), or fail naming it."""
    from botocore import xform_name

    operation = operation_name(action)
    if operation not in client.meta.service_model.operation_names:
        service = client.meta.service_model.service_name
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"{resource}: expected an action of the {service} API, got {action!r} "
            f"(no operation {operation})",
        )
    return str(xform_name(operation))


def _parameters(call: TaskCall) -> dict[str, Json]:
    if call.parameters is None:
        return {}
    if not isinstance(call.parameters, dict):
        raise StatesError(
            ErrorName.TASK_FAILED,
            f"{call.resource}: expected Parameters to be an object of the API's members, "
            f"got {json.dumps(call.parameters)[:60]}",
        )
    return dict(call.parameters)


def _prepare(service: str, action: str, call: TaskCall) -> dict[str, Json]:
    """The optimized integration's request: JSON values sent as text, ARNs added, as AWS."""
    parameters = _parameters(call)
    text_field = _JSON_TEXT_FIELDS.get((service, action))
    if text_field and not isinstance(parameters.get(text_field, ""), str):
        parameters[text_field] = json.dumps(parameters[text_field], separators=(",", ":"))
    if (service, action) == ("events", "putEvents"):
        parameters["Entries"] = [_event_entry(e, call) for e in parameters.get("Entries") or []]
    return parameters


def _event_entry(entry: Json, call: TaskCall) -> Json:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    if "Detail" in entry and not isinstance(entry["Detail"], str):
        entry["Detail"] = json.dumps(entry["Detail"], separators=(",", ":"))
    if call.execution_arn:
        machine = _machine_arn(call.execution_arn)
        entry["Resources"] = [*entry.get("Resources", []), machine, call.execution_arn]
    return entry


def _machine_arn(execution_arn: str) -> str:
    """``…:execution:MACHINE:NAME`` → ``…:stateMachine:MACHINE``."""
    head, _, tail = execution_arn.partition(":execution:")
    return f"{head}:stateMachine:{tail.split(':')[0]}"


def call_service(method: Callable[..., Any], parameters: dict[str, Json], prefix: str) -> Any:
    """Call boto3; a service error becomes ``<prefix>.<Name>Exception``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**parameters)
    except ClientError as error:
        raise _service_error(error, prefix) from None
    except BotoCoreError as error:  # bad parameters, no credentials, endpoint unreachable
        raise StatesError(ErrorName.TASK_FAILED, f"{prefix}: {error}") from None


def _service_error(error: Any, prefix: str) -> StatesError:
    details = error.response.get("Error", {})
    metadata = error.response.get("ResponseMetadata", {})
    # A modeled error's class is named after its shape (QueueDoesNotExist), not its wire code.
    modeled = type(error).__name__
    code = modeled if modeled != "ClientError" else str(details.get("Code", "Unknown"))
    name = exception_name(code)
    cause = error_cause(
        str(details.get("Message", "")),
        prefix,
        metadata.get("HTTPStatusCode"),
        metadata.get("RequestId"),
        code,
    )
    return StatesError(f"{prefix}.{name}", cause)


def _with_sdk_metadata(response: dict[str, Any]) -> Json:
    """An optimized integration's result: the response plus AWS's SDK metadata fields."""
    metadata = response.get("ResponseMetadata", {})
    headers = dict(metadata.get("HTTPHeaders", {}))
    result = to_json(response)
    result["SdkHttpMetadata"] = {
        "AllHttpHeaders": {name: [value] for name, value in headers.items()},
        "HttpHeaders": headers,
        "HttpStatusCode": metadata.get("HTTPStatusCode", 200),
    }
    result["SdkResponseMetadata"] = {"RequestId": metadata.get("RequestId", "")}
    return result
