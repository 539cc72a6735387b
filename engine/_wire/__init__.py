"""The AWS Step Functions wire protocol (JSON 1.0 over HTTP): ``stepline serve``.

`WireProtocol` answers a request (headers + body) with a `Client`'s operations, checked
as AWS checks them; `SigV4Verifier` checks signatures with botocore's signer; `create_app`
puts both behind Starlette. ADR 0032.
"""

from engine._wire.app import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    HEALTH_PATH,
    METRICS_PATH,
    create_app,
    serve,
)
from engine._wire.errors import WireError
from engine._wire.protocol import CONTENT_TYPE, TARGET_PREFIX, WireProtocol, WireResponse
from engine._wire.sigv4 import SignedRequest, SigV4Verifier, parse_access_keys, read_only_keys

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "HEALTH_PATH",
    "METRICS_PATH",
    "TARGET_PREFIX",
    "SigV4Verifier",
    "SignedRequest",
    "WireError",
    "WireProtocol",
    "WireResponse",
    "create_app",
    "parse_access_keys",
    "read_only_keys",
    "serve",
]
