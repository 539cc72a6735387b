"""AWS's JSON 1.0 protocol for Step Functions, independent of any web framework.

`WireProtocol.handle` takes what arrived (method, URL, headers, body) and returns the
status, headers and body to send::

    POST /  X-Amz-Target: AWSStepFunctions.StartExecution
            Content-Type: application/x-amz-json-1.0
    {"stateMachineArn": "arn:...", "input": "{}"}

The operation is any in ``type(client).boto3_operations`` (the client's, not a list kept
here), run through `engine._api.boto.invoke` with the members read against botocore's
input shape (`engine._wire.shapes`). A refusal is AWS's error body with the error's status;
a mistake of the caller is never a 500: only a fault of the server is ``InternalFailure``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ParamValidationError

from engine._api.boto import invoke, operation_model, operation_names
from engine._errors import ClientError, StoreError
from engine._wire.errors import (
    WireError,
    error_body,
    internal_failure,
    unknown_operation,
    validation,
)
from engine._wire.shapes import decode_body, encode_output, read_input
from engine._wire.sigv4 import SignedRequest, SigV4Verifier

Json = Any
TARGET_PREFIX = "AWSStepFunctions."
CONTENT_TYPE = "application/x-amz-json-1.0"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WireResponse:
    """What to send back: status, headers and body bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class WireProtocol:
    """Answers Step Functions JSON 1.0 requests with ``client``'s operations.

    Args:
        client: an `engine.Client` (durable or local) or anything with its
            ``boto3_operations``.
        verifier: checks SigV4 signatures (None: every request is accepted, as Step
            Functions Local does).
        one_at_a_time: run one operation at a time (an in-process client is not
            thread-safe; a durable one is).
        read_only: access key ids that may only call reading operations (`is_reading`).
    """

    def __init__(
        self,
        client: Any,
        *,
        verifier: SigV4Verifier | None = None,
        one_at_a_time: bool = False,
        read_only: frozenset[str] = frozenset(),
    ):
        self.client = client
        self.verifier = verifier
        self.read_only = read_only
        self._serial: AbstractContextManager[Any] = (
            threading.Lock() if one_at_a_time else nullcontext()
        )

    def handle(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> WireResponse:
        """Answer one request; never raises."""
        request_id = str(uuid.uuid4())
        request = SignedRequest(method, url, headers, body)
        try:
            payload = self._answer(request)
        except WireError as error:
            return _response(error.status, error_body(error), request_id)
        return _response(200, payload, request_id)

    def _answer(self, request: SignedRequest) -> bytes:
        key_id = self.verifier.verify(request) if self.verifier is not None else None
        operation = self._operation(request)
        if key_id in self.read_only and not is_reading(operation):
            raise WireError(
                "AccessDeniedException",
                f"User: {key_id} is not authorized to perform: states:{operation} "
                "(the key is read-only: STEPLINE_ACCESS_KEYS marks it :readonly)",
                400,
            )
        params = read_input(operation_model(operation).input_shape, decode_body(request.body))
        with self._serial:
            result = self._run(operation, params)
        return encode_output(result)

    def _operation(self, request: SignedRequest) -> str:
        if request.method.upper() != "POST":
            raise unknown_operation(f"expected POST, got {request.method}")
        target = request.header("x-amz-target")
        if not target:
            raise unknown_operation("Missing X-Amz-Target header")
        prefix, _, name = target.partition(".")
        if f"{prefix}." != TARGET_PREFIX or name not in set(operation_names().values()):
            raise unknown_operation(f"Unknown operation {target}")
        if name not in type(self.client).boto3_operations:
            raise unknown_operation(f"{name} is not implemented by this stepline server")
        return name

    def _run(self, operation: str, params: dict[str, Json]) -> dict[str, Json]:
        try:
            return invoke(self.client, operation, params)
        except ClientError as error:
            raise WireError.from_client_error(error) from None
        except StoreError as error:
            raise WireError("ServiceUnavailable", str(error), 503) from None
        except (ParamValidationError, ValueError, TypeError) as error:
            # Input the model allows but the engine cannot take: the caller's to fix.
            _log.info("%s refused its input: %s", operation, error)
            raise validation(f"{operation}: {error}") from None
        except Exception:
            _log.exception("%s failed on the server", operation)
            raise internal_failure() from None


def is_reading(operation: str) -> bool:
    """True for an operation that changes nothing (Describe*, List*, history, validation)."""
    return operation.startswith(("Describe", "List")) or operation in (
        "GetExecutionHistory",
        "ValidateStateMachineDefinition",
    )


def _response(status: int, body: bytes, request_id: str) -> WireResponse:
    headers = {
        "content-type": CONTENT_TYPE,
        "x-amzn-RequestId": request_id,
        "content-length": str(len(body)),
    }
    return WireResponse(status, headers, body)
