"""SigV4 on the server: a request's signature recomputed with botocore's own signer.

With access keys configured (``STEPLINE_ACCESS_KEYS=AKID:SECRET[,AKID2:SECRET2]``), every
request must carry ``Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/
aws4_request, SignedHeaders=..., Signature=...``. The verifier rebuilds the request from
what it received (method, URL, the signed headers, body), lets `botocore.auth.SigV4Auth`
compute the signature for the key's secret at the request's ``X-Amz-Date``, and compares in
constant time. Nothing here signs: the canonical request is botocore's, so it cannot drift
from what boto3 sent. Refusals are AWS's: ``MissingAuthenticationTokenException`` (403),
``UnrecognizedClientException`` (403), ``InvalidSignatureException`` (403) and
``IncompleteSignatureException`` (400, a malformed header).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from engine._wire.errors import WireError

_ALGORITHM = "AWS4-HMAC-SHA256"
_PART = re.compile(r"(\w+)=([^,\s]*)")
# AWS refuses a request signed more than 15 minutes away from its own clock.
MAX_SKEW = timedelta(minutes=15)
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


READ_ONLY_SUFFIX = ":readonly"
"""Ends an entry of ``STEPLINE_ACCESS_KEYS`` whose key may read but not change anything."""


def parse_access_keys(text: str) -> dict[str, str]:
    """``AKID:SECRET[:readonly][,AKID2:SECRET2]`` as ``{akid: secret}``.

    Raises:
        ValueError: an entry is not ``AKID:SECRET`` (names the entry, never the secret).
    """
    keys: dict[str, str] = {}
    for position, entry in enumerate(text.split(","), start=1):
        if not entry.strip():
            continue
        key_id, separator, secret = entry.strip().removesuffix(READ_ONLY_SUFFIX).partition(":")
        if not separator or not key_id or not secret:
            raise ValueError(
                f"STEPLINE_ACCESS_KEYS entry {position}: expected AKID:SECRET, got "
                f"{key_id or '(empty)'}{':' if separator else ''}... "
                "(an access key id, a colon and a secret)"
            )
        keys[key_id] = secret
    return keys


def read_only_keys(text: str) -> frozenset[str]:
    """The access key ids of ``STEPLINE_ACCESS_KEYS`` marked ``:readonly``."""
    return frozenset(
        entry.strip().partition(":")[0]
        for entry in text.split(",")
        if entry.strip().endswith(READ_ONLY_SUFFIX)
    )


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs of an HTTP request, as received.

    Attributes:
        method: ``POST``.
        url: scheme, host, path and query as the client addressed them.
        headers: every header received, names in any case, repeats kept.
        body: the raw body bytes.
    """

    method: str
    url: str
    headers: Sequence[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class _Authorization:
    key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


class SigV4Verifier:
    """Accepts a request only if it is SigV4-signed with one of ``keys``.

    Args:
        keys: access key id -> secret access key.
        now: the current time (tests pass a fixed one).
    """

    def __init__(
        self, keys: Mapping[str, str], now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ):
        self._keys = dict(keys)
        self._now = now

    def verify(self, request: SignedRequest) -> str:
        """The access key id ``request`` is signed with, if it is a configured key.

        Raises:
            WireError: AWS's refusal (missing token, unknown key, bad or stale signature).
        """
        header = request.header("authorization")
        if not header:
            raise WireError(
                "MissingAuthenticationTokenException", "Missing Authentication Token", 403
            )
        authorization = _parse(header)
        secret = self._keys.get(authorization.key_id)
        if secret is None:
            raise WireError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                403,
            )
        timestamp = request.header("x-amz-date")
        if timestamp is None:
            raise _incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
        self._check_time(timestamp, authorization.date)
        expected = _signature(request, authorization, secret, timestamp)
        if not hmac.compare_digest(expected, authorization.signature):
            raise WireError("InvalidSignatureException", _BAD_SIGNATURE, 403)
        return authorization.key_id

    def _check_time(self, timestamp: str, scope_date: str) -> None:
        try:
            signed_at = datetime.strptime(timestamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            raise _incomplete(
                f"X-Amz-Date: expected an ISO 8601 basic timestamp (20260101T000000Z), "
                f"got {timestamp!r}"
            ) from None
        if not timestamp.startswith(scope_date):
            raise WireError("InvalidSignatureException", _BAD_SIGNATURE, 403)
        now = self._now()
        if abs(now - signed_at) > MAX_SKEW:
            raise WireError(
                "InvalidSignatureException",
                f"Signature expired: {timestamp} is now earlier or later than "
                f"{(now - MAX_SKEW).strftime(SIGV4_TIMESTAMP)} .. "
                f"{(now + MAX_SKEW).strftime(SIGV4_TIMESTAMP)}",
                403,
            )


def _parse(header: str) -> _Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != _ALGORITHM:
        raise _incomplete(
            f"Authorization header: expected algorithm {_ALGORITHM}, got {algorithm!r}"
        )
    parts = dict(_PART.findall(rest))
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not parts.get(name):
            raise _incomplete(f"Authorization header requires '{name}' parameter.")
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise _incomplete(
            "Authorization header: expected Credential=AKID/DATE/REGION/SERVICE/aws4_request, "
            f"got {parts['Credential']!r}"
        )
    return _Authorization(
        key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=tuple(parts["SignedHeaders"].split(";")),
        signature=parts["Signature"],
    )


def _signature(
    request: SignedRequest, authorization: _Authorization, secret: str, timestamp: str
) -> str:
    """The signature botocore computes for ``request`` with ``secret``."""
    signed = set(authorization.signed_headers)
    headers = [(name, value) for name, value in request.headers if name.lower() in signed]
    rebuilt = AWSRequest(method=request.method, url=request.url, data=request.body)
    for name, value in headers:
        rebuilt.headers.add_header(name, value)
    rebuilt.context["timestamp"] = timestamp
    signer = SigV4Auth(
        Credentials(authorization.key_id, secret), authorization.service, authorization.region
    )
    canonical = signer.canonical_request(rebuilt)
    signature: str = signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt)
    return signature


def _incomplete(message: str) -> WireError:
    return WireError("IncompleteSignatureException", message, 400)
