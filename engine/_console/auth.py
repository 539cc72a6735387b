"""Who is using the console: a login with the API's access keys, kept in a signed cookie.

A browser cannot SigV4-sign its requests, so the console asks once for an access key id
and its secret (the same ``STEPLINE_ACCESS_KEYS`` the API checks, ADR 0042) and sets a
cookie ``<payload>.<signature>``: the payload names the key and an expiry, the signature
is an HMAC-SHA256 of the payload with that key's secret. Nothing is kept on the server, so
every ``stepline serve`` of a deployment accepts the cookie, and removing or changing a
key from the configuration ends its sessions. A key marked ``:readonly`` may look but
not start, stop or redrive. Without access keys there is no login and everyone may write,
as with the API.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from hashlib import sha256

COOKIE = "stepline_console"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Caller:
    """Who makes a console request.

    Attributes:
        key_id: the access key id logged in with (``anonymous`` without authentication).
        can_write: may start, stop and redrive executions.
    """

    key_id: str
    can_write: bool


ANONYMOUS = Caller("anonymous", can_write=True)


class ConsoleAuth:
    """Logs callers in with an access key and recognises them by their cookie.

    Args:
        keys: access key id -> secret (empty: no authentication).
        read_only: key ids that may not change anything.
        now: seconds since the epoch (tests pass a fixed clock).
    """

    def __init__(
        self,
        keys: Mapping[str, str],
        read_only: frozenset[str] = frozenset(),
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keys = dict(keys)
        self._read_only = read_only
        self._now = now

    @property
    def required(self) -> bool:
        """True when callers must log in (access keys are configured)."""
        return bool(self._keys)

    def log_in(self, key_id: str, secret: str) -> str | None:
        """The cookie value for a correct key id and secret, else None."""
        expected = self._keys.get(key_id)
        if expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            return None
        payload = _encode({"k": key_id, "e": int(self._now()) + SESSION_SECONDS})
        return f"{payload}.{_sign(expected, payload)}"

    def caller(self, cookie: str | None) -> Caller | None:
        """Who holds ``cookie`` (None: not logged in, tampered with, expired or revoked)."""
        if not self.required:
            return ANONYMOUS
        payload, _, signature = (cookie or "").partition(".")
        decoded = _decode(payload)
        claims: dict[str, object] = decoded if isinstance(decoded, dict) else {}
        key_id = claims.get("k")
        secret = self._keys.get(key_id) if isinstance(key_id, str) else None
        if secret is None or not hmac.compare_digest(_sign(secret, payload), signature):
            return None
        expiry = claims.get("e")
        if not isinstance(expiry, int) or expiry < self._now():
            return None
        return Caller(str(key_id), can_write=key_id not in self._read_only)


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), sha256).hexdigest()


def _encode(claims: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


def _decode(payload: str) -> object:
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
