"""What TestState shows at TRACE for an HTTP Task: the request sent and the response got.

The HTTP client the ``http:invoke`` integration makes (`Services.http`) gets event hooks
that record the request and the response's status line and headers; the response body is
the one the integration returned (or put in its error's cause), so the body is read once,
under the integration's own size and time limits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

Json = Any


@dataclass
class HttpTrace:
    """The request and response of one HTTP Task call, as botocore's shapes hold them."""

    request: dict[str, str] = field(default_factory=dict)
    response: dict[str, str] = field(default_factory=dict)
    traced: dict[str, dict[str, str]] = field(default_factory=dict)

    def wrap(self, make_client: Callable[[], httpx.Client]) -> Callable[[], httpx.Client]:
        """A client factory like ``make_client`` whose clients report to this trace."""

        def make() -> httpx.Client:
            client = make_client()
            hooks = client.event_hooks
            client.event_hooks = {
                "request": [*hooks.get("request", []), self._on_request],
                "response": [*hooks.get("response", []), self._on_response],
            }
            return client

        return make

    def _on_request(self, request: httpx.Request) -> None:
        self.request = {
            "protocol": request.url.scheme.upper(),
            "method": request.method,
            "url": str(request.url),
            "headers": _header_text(request.headers),
            "body": request.content.decode("utf-8", errors="replace"),
        }

    def _on_response(self, response: httpx.Response) -> None:
        self.response = {
            "protocol": response.http_version,
            "statusCode": str(response.status_code),
            "statusMessage": response.reason_phrase,
            "headers": _header_text(response.headers),
        }

    def finish(self, result: Json) -> None:
        """Complete ``traced``, the response body taken from the Task's result (or cause)."""
        if self.request:
            self.traced["request"] = self.request
        if self.response:
            body = result.get("ResponseBody", "") if isinstance(result, dict) else ""
            text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
            self.traced["response"] = {**self.response, "body": text}


def _header_text(headers: httpx.Headers) -> str:
    """Headers as one text, ``Name: value`` per line, as AWS's inspection data shows them."""
    return "\n".join(f"{name}: {value}" for name, value in headers.multi_items())
