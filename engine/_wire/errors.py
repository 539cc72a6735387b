"""Refusals at the wire: AWS's error codes, HTTP statuses and the JSON 1.0 error body.

Every answer that is not a success is one `WireError`; `error_body` words it as AWS's
JSON 1.0 services do, so botocore's parser raises the same ``ClientError`` (its ``Code``
is what follows ``#`` in ``__type``).
"""

from __future__ import annotations

import json

from engine._errors import ClientError

ERROR_NAMESPACE = "com.amazonaws.swf.service.v2.model"


class WireError(Exception):
    """A request refused before or while it ran, with AWS's code and HTTP status.

    Attributes:
        code: AWS's error code (``SerializationException``, ``ExecutionDoesNotExist`` ...).
        message: the human readable message AWS would send.
        status: the HTTP status (400 for a client's mistake, 403 for authentication, 5xx
            only for a fault of the server).
    """

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    @classmethod
    def from_client_error(cls, error: ClientError) -> WireError:
        """The wire form of an operation's refusal (its code and ``http_status``)."""
        return cls(error.code, error.message, error.http_status)


def serialization(message: str) -> WireError:
    """AWS's answer to a body that is not JSON, or a member of the wrong JSON type."""
    return WireError("SerializationException", message)


def unknown_operation(message: str) -> WireError:
    """AWS's answer to a missing or unknown ``X-Amz-Target``."""
    return WireError("UnknownOperationException", message)


def validation(message: str) -> WireError:
    """AWS's answer to a request whose members break the model's constraints."""
    return WireError("ValidationException", message)


def internal_failure() -> WireError:
    """A fault of the server itself: the only 500 it sends."""
    return WireError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
    )


def error_body(error: WireError) -> bytes:
    """``{"__type": "<namespace>#<Code>", "message": ...}``, as AWS's JSON 1.0 sends it."""
    document = {"__type": f"{ERROR_NAMESPACE}#{error.code}", "message": error.message}
    return json.dumps(document).encode()
