"""boto3's surface on `engine.Client`, taken from botocore's own ``stepfunctions`` model.

Code written for boto3's client must run unchanged against stepline, so what boto3 does
around an operation comes from botocore here rather than from a copy of it:

- every operation validates its keyword arguments against the model's input shape
  (``botocore.exceptions.ParamValidationError``: unknown names, wrong types, missing
  required members) and rejects positional arguments as boto3 does;
- every response carries ``ResponseMetadata``; every refusal is a botocore ``ClientError``
  subclass naming the operation (`engine._errors.ClientError.with_operation`);
- ``client.exceptions`` has a class for every error the model declares;
- ``get_paginator`` / ``can_paginate`` use botocore's paginator with the model's paging config.

The wire protocol (`engine._wire`) calls the same operations, unvalidated by the Python
rules (it checks the JSON its own way), through `invoke`. The CLI's one-shot commands call
the class behind `Client`, `engine._api.operations.Operations`, with requests they build
themselves, and so never load botocore's model (ADR 0050).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any, TypeVar

import botocore.session
from botocore.exceptions import ParamValidationError
from botocore.model import OperationModel, ServiceModel
from botocore.paginate import Paginator
from botocore.validate import ParamValidator

from engine._errors import ClientError

Json = Any
C = TypeVar("C", bound=type)


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model() -> ServiceModel:
    """Botocore's Step Functions service model (operations, shapes, errors)."""
    return _session().get_service_model("stepfunctions")


@functools.cache
def _paging_config() -> dict[str, Json]:
    config: dict[str, Json] = _session().get_paginator_model("stepfunctions")._paginator_config
    return config


@functools.cache
def operation_names() -> dict[str, str]:
    """boto3 method name (``start_execution``) -> AWS operation name (``StartExecution``)."""
    from botocore import xform_name

    return {xform_name(name): name for name in service_model().operation_names}


def operation_model(name: str) -> OperationModel:
    """The model of the AWS operation ``name`` (``StartExecution``)."""
    return service_model().operation_model(name)


def validate_request(operation: str, params: dict[str, Json]) -> None:
    """Check ``params`` as boto3 does before it sends ``operation``.

    Raises:
        ParamValidationError: botocore's report (unknown, mistyped or missing members).
    """
    report = ParamValidator().validate(params, operation_model(operation).input_shape)
    if report.has_errors():
        raise ParamValidationError(report=report.generate_report())


def response_metadata(status: int = 200) -> dict[str, Json]:
    """A ``ResponseMetadata`` as botocore returns it (one request id per call)."""
    request_id = str(uuid.uuid4())
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {
            "x-amzn-requestid": request_id,
            "content-type": "application/x-amz-json-1.0",
        },
        "RetryAttempts": 0,
    }


def invoke(client: Any, operation: str, params: dict[str, Json]) -> dict[str, Json]:
    """Run ``operation`` on ``client`` with already-checked ``params``; no ResponseMetadata.

    Raises:
        ClientError: the refusal, naming ``operation``.
    """
    method = type(client).boto3_operations[operation]
    try:
        result: dict[str, Json] = method(client, **params)
    except ClientError as error:
        raise error.with_operation(operation) from None
    return result


def boto3_surface(cls: C) -> C:
    """Give ``cls``'s methods named after model operations boto3's checks and metadata."""
    names = operation_names()
    operations: dict[str, Callable[..., dict[str, Json]]] = {}
    for python_name, operation in names.items():
        method = getattr(cls, python_name, None)
        if method is None:
            continue
        operations[operation] = method
        setattr(cls, python_name, _as_boto3_call(python_name, operation))
    cls.boto3_operations = operations  # type: ignore[attr-defined]
    return cls


def _as_boto3_call(python_name: str, operation: str) -> Callable[..., dict[str, Json]]:
    def call(self: Any, *args: Any, **kwargs: Json) -> dict[str, Json]:
        if args:
            raise TypeError(f"{python_name}() only accepts keyword arguments.")
        validate_request(operation, kwargs)
        response = invoke(self, operation, kwargs)
        return {**response, "ResponseMetadata": response_metadata()}

    call.__name__ = python_name
    call.__qualname__ = python_name
    call.__doc__ = f"AWS Step Functions' {operation}, with boto3's request checks and response."
    return call


def exception_namespace(known: Iterable[type[ClientError]]) -> SimpleNamespace:
    """``client.exceptions``: ``known`` classes, plus one per other error the model declares."""
    classes: dict[str, type[ClientError]] = {cls.code: cls for cls in known}
    for shape in service_model().error_shapes:
        if shape.name not in classes:
            classes[shape.name] = _declared_error(shape.name, shape.documentation)

    def from_code(code: str) -> type[ClientError]:
        """The class of error ``code`` (``ClientError`` for a code the model does not know)."""
        return classes.get(code, ClientError)

    return SimpleNamespace(**classes, ClientError=ClientError, from_code=from_code)


def _declared_error(name: str, documentation: str) -> type[ClientError]:
    doc = _plain(documentation) or f"AWS's {name}."
    return type(name, (ClientError,), {"code": name, "__doc__": doc, "__module__": __name__})


def _plain(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html or "").strip()


class PagingMixin:
    """boto3's ``get_paginator`` and ``can_paginate``, driven by botocore's paginator."""

    def can_paginate(self, operation_name: str) -> bool:
        """Whether ``operation_name`` (boto3's snake_case name) has a paginator."""
        operation = operation_names().get(operation_name)
        return operation is not None and operation in _paging_config()

    def get_paginator(self, operation_name: str) -> Paginator:
        """Botocore's paginator for ``operation_name`` (``list_executions`` ...).

        Raises:
            botocore.exceptions.OperationNotPageableError: that operation does not page.
        """
        from botocore.exceptions import OperationNotPageableError

        if not self.can_paginate(operation_name):
            raise OperationNotPageableError(operation_name=operation_name)
        operation = operation_names()[operation_name]
        return Paginator(
            getattr(self, operation_name), _paging_config()[operation], operation_model(operation)
        )
