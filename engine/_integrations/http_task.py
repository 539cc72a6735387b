"""The core of Step Functions' HTTP Task (``arn:aws:states:::http:invoke``), on httpx.

``invoke_http(parameters, client, timeout_seconds=...)`` sends the request an HTTP Task's
resolved ``Parameters`` describe and returns AWS's result shape::

    {"Headers": {"content-type": ["application/json"], ...},  # lower-case name -> values
     "ResponseBody": {...},   # parsed when the content type is JSON, else the text
     "StatusCode": 200,
     "StatusText": "OK"}

Parameters (AWS's names): ``ApiEndpoint`` and ``Method`` (GET, POST, PUT, DELETE, PATCH,
OPTIONS, HEAD) are required; ``Headers``, ``QueryParameters``, ``RequestBody`` and
``Transform`` (``RequestBodyEncoding``: NONE | URL_ENCODED;
``RequestEncodingOptions.ArrayFormat``: INDICES (default) | BRACKETS | COMMAS | REPEAT)
are optional. URL encoding follows AWS's examples: ``{"a": ["x", "y"]}`` is
``a[0]=x&a[1]=y`` (INDICES), ``a[]=x&a[]=y`` (BRACKETS), ``a=x,y`` (COMMAS) and
``a=x&a=y`` (REPEAT); nested objects are ``a[b]=c``. A ``RequestBody`` is sent as JSON
(``application/json``), as a form with ``URL_ENCODED`` (``application/x-www-form-urlencoded``)
or, when it is a string, as is (``text/plain``); a ``Content-Type`` in ``Headers`` wins.

Errors, as ASL sees them (``StatesError`` names, matched by Retry/Catch):

- a non-2xx response: ``States.Http.StatusCode.<code>``; the Cause is the response in
  the result shape above, as compact JSON, so a Catch can read the body.
- a timeout: ``States.Http.Socket`` (AWS's name for an HTTP Task that times out). A
  connection failure (refused, reset, DNS) has no documented AWS name; stepline reports
  it as ``States.Http.Socket`` too, since it fails at the same socket layer and a Retry on
  that name should cover both.
- invalid parameters at run time: ``States.Runtime`` (a `StatesRuntimeError`).

Differences from AWS, on purpose:

- AWS requires ``https://`` endpoints with publicly trusted certificates; stepline runs on
  private networks, so ``http://`` is accepted as well.
- AWS resolves ``Authentication.ConnectionArn`` (an EventBridge connection) for
  credentials; it is accepted and ignored here, and ``Authorization`` may be sent in
  ``Headers`` (AWS reserves it for the connection). The other headers AWS refuses are
  refused.
- AWS cuts every call at 60 s; here ``timeout_seconds`` bounds each phase (connect, send,
  each read) and the whole body read, capped at those 60 s.
- AWS documents ``Transform`` for the request body; its ``ArrayFormat`` also encodes
  arrays and objects in ``QueryParameters`` here, so one option controls both.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from engine._errors import ErrorName, StatesError, StatesRuntimeError, StatesTerminalError

Json = Any

HTTP_INVOKE_RESOURCE = "arn:aws:states:::http:invoke"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
BODY_ENCODINGS = ("NONE", "URL_ENCODED")
ARRAY_FORMATS = ("INDICES", "BRACKETS", "COMMAS", "REPEAT")
DEFAULT_ARRAY_FORMAT = "INDICES"
SOCKET_ERROR = "States.Http.Socket"
STATUS_CODE_ERROR_PREFIX = "States.Http.StatusCode."
# AWS ends an HTTP Task's call after 60 seconds.
MAX_TIMEOUT_SECONDS = 60.0
# AWS's payload quota: a larger response can never be a state's result.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024
KNOWN_FIELDS = frozenset(
    {
        "ApiEndpoint",
        "Method",
        "Authentication",
        "InvocationConfig",
        "Headers",
        "QueryParameters",
        "RequestBody",
        "Transform",
    }
)
# Headers AWS refuses in an HTTP Task definition (the connection or the transport sets them).
FORBIDDEN_HEADERS = frozenset(
    {
        "a-im", "accept-charset", "accept-datetime", "accept-encoding", "cache-control",
        "connection", "content-encoding", "content-md5", "date", "expect", "forwarded",
        "from", "host", "http2-settings", "if-match", "if-modified-since", "if-none-match",
        "if-range", "if-unmodified-since", "max-forwards", "origin", "pragma",
        "proxy-authorization", "referer", "server", "te", "trailer", "transfer-encoding",
        "upgrade", "via", "warning",
    }
)  # fmt: skip
FORBIDDEN_HEADER_PREFIXES = ("x-forwarded-", "x-amz-", "x-amzn-")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_MISSING: Any = object()
_DYNAMIC: Any = object()


def validate_http_parameters(parameters: Json) -> list[str]:
    """Statically check an HTTP Task's ``Parameters``.

    Fields given as paths (``"ApiEndpoint.$"``) or JSONata (``"{% ... %}"``) are only
    known at run time: they count as present and their values are not checked.

    Args:
        parameters: the state's ``Parameters`` (or ``Arguments``) object.

    Returns:
        One message per problem (``"Method: expected one of ..., got ..."``); empty when
        the parameters are valid.
    """
    return _problems(parameters, allow_dynamic=True)


def invoke_http(
    parameters: Json,
    client: httpx.Client,
    *,
    timeout_seconds: float,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Json:
    """Send the HTTP request that resolved HTTP Task parameters describe.

    Args:
        parameters: the resolved ``Parameters`` (no paths or JSONata left).
        client: the httpx client to send with (its redirect, proxy and TLS settings apply;
            its timeout does not: ``timeout_seconds`` does).
        timeout_seconds: bound on each phase and on the body read; capped at AWS's 60 s.
        max_response_bytes: a larger response body fails the task.

    Returns:
        ``{"Headers", "ResponseBody", "StatusCode", "StatusText"}`` for a 2xx response.

    Raises:
        StatesRuntimeError: ``States.Runtime`` for invalid parameters.
        StatesError: ``States.Http.StatusCode.<code>`` for a non-2xx response,
            ``States.Http.Socket`` when the call times out or cannot connect.
        StatesTerminalError: ``States.DataLimitExceeded`` for a body over the limit.
        ValueError: when ``timeout_seconds`` is not a positive number.
    """
    timeout = _timeout(timeout_seconds)
    problems = _problems(parameters, allow_dynamic=False)
    if problems:
        detail = "Invalid HTTP Task parameters: " + "; ".join(problems)
        raise StatesRuntimeError(ErrorName.RUNTIME, detail)
    request = _build_request(parameters, client, timeout)
    result = _send(client, request, timeout.read or MAX_TIMEOUT_SECONDS, max_response_bytes)
    if not 200 <= result["StatusCode"] < 300:
        cause = json.dumps(result, separators=(",", ":"), ensure_ascii=False)
        raise StatesError(f"{STATUS_CODE_ERROR_PREFIX}{result['StatusCode']}", cause)
    return result


# --- validation ----------------------------------------------------------------------


def _problems(parameters: Json, *, allow_dynamic: bool) -> list[str]:
    if not isinstance(parameters, dict):
        return [f"Parameters: expected an object, got {_describe(parameters)}"]
    fields = {name: _lookup(parameters, name, allow_dynamic) for name in KNOWN_FIELDS}
    known = ", ".join(sorted(KNOWN_FIELDS))
    problems = [
        f"{name}: is not an HTTP Task parameter (expected one of {known})"
        for name in parameters
        if (name.removesuffix(".$") if allow_dynamic else name) not in KNOWN_FIELDS
    ]
    problems += _check_endpoint(fields["ApiEndpoint"])
    problems += _check_method(fields["Method"])
    problems += _check_headers(fields["Headers"], allow_dynamic)
    problems += _check_object("QueryParameters", fields["QueryParameters"])
    problems += _check_transform(fields["Transform"])
    for name in ("Authentication", "InvocationConfig"):
        problems += _check_connection(name, fields[name])
    problems += _check_encoded_body(fields["RequestBody"], fields["Transform"])
    return problems


def _lookup(parameters: dict[str, Json], name: str, allow_dynamic: bool) -> Json:
    """The field's value, `_DYNAMIC` when only known at run time, or `_MISSING`."""
    if allow_dynamic and f"{name}.$" in parameters:
        return _DYNAMIC
    value = parameters.get(name, _MISSING)
    return _DYNAMIC if allow_dynamic and _is_jsonata(value) else value


def _check_endpoint(endpoint: Json) -> list[str]:
    if endpoint is _DYNAMIC:
        return []
    if endpoint is _MISSING:
        return ["ApiEndpoint: is required (the URL to call)"]
    expected = "ApiEndpoint: expected an http:// or https:// URL with a host"
    if not isinstance(endpoint, str):
        return [f"{expected}, got {_describe(endpoint)}"]
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - parsing the port raises on a malformed one
    except ValueError as error:
        return [f"{expected}, got {endpoint!r} ({error})"]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{expected}, got {endpoint!r}"]
    return []


def _check_method(method: Json) -> list[str]:
    if method is _DYNAMIC:
        return []
    if method is _MISSING:
        return [f"Method: is required (one of {', '.join(METHODS)})"]
    return _check_choice("Method", method, METHODS)


def _check_headers(headers: Json, allow_dynamic: bool) -> list[str]:
    if headers is _DYNAMIC or headers is _MISSING:
        return []
    if not isinstance(headers, dict):
        return [f"Headers: expected an object of header names to values, got {_describe(headers)}"]
    problems = []
    for key, value in headers.items():
        name = key.removesuffix(".$") if allow_dynamic else key
        problems += _check_header(name, value, dynamic=name != key)
    return problems


def _check_header(name: str, value: Json, *, dynamic: bool) -> list[str]:
    lowered = name.lower()
    if lowered in FORBIDDEN_HEADERS or lowered.startswith(FORBIDDEN_HEADER_PREFIXES):
        return [f"Headers.{name}: is a header an HTTP Task may not set"]
    if not dynamic and (isinstance(value, dict | list) or value is None):
        return [f"Headers.{name}: expected a string, number or boolean, got {_describe(value)}"]
    return []


def _check_object(field: str, value: Json) -> list[str]:
    if value is _DYNAMIC or value is _MISSING or isinstance(value, dict):
        return []
    return [f"{field}: expected an object, got {_describe(value)}"]


def _check_transform(transform: Json) -> list[str]:
    if transform is _DYNAMIC or transform is _MISSING:
        return []
    if not isinstance(transform, dict):
        return [f"Transform: expected an object, got {_describe(transform)}"]
    encoding = transform.get("RequestBodyEncoding", "NONE")
    problems = _check_choice("Transform.RequestBodyEncoding", encoding, BODY_ENCODINGS)
    options = transform.get("RequestEncodingOptions", {})
    if not isinstance(options, dict):
        field = "Transform.RequestEncodingOptions"
        return [*problems, f"{field}: expected an object, got {_describe(options)}"]
    array_format = options.get("ArrayFormat", DEFAULT_ARRAY_FORMAT)
    field = "Transform.RequestEncodingOptions.ArrayFormat"
    return problems + _check_choice(field, array_format, ARRAY_FORMATS)


def _check_choice(field: str, value: Json, choices: tuple[str, ...]) -> list[str]:
    if value in choices:
        return []
    return [f"{field}: expected one of {', '.join(choices)}, got {_describe(value)}"]


def _check_connection(field: str, value: Json) -> list[str]:
    # Accepted and ignored (see the module docstring); only its shape is checked.
    if value is _DYNAMIC or value is _MISSING:
        return []
    if isinstance(value, dict) and isinstance(value.get("ConnectionArn", ""), str):
        return []
    return [f'{field}: expected {{"ConnectionArn": string}}, got {_describe(value)}']


def _check_encoded_body(body: Json, transform: Json) -> list[str]:
    if body is _DYNAMIC or body is _MISSING or not _url_encoded(transform):
        return []
    if isinstance(body, dict | str):
        return []
    return [f"RequestBody: expected an object to URL-encode, got {_describe(body)}"]


# --- the request ---------------------------------------------------------------------


def _timeout(timeout_seconds: float) -> httpx.Timeout:
    if not isinstance(timeout_seconds, int | float) or not timeout_seconds > 0:
        raise ValueError(f"timeout_seconds: expected a positive number, got {timeout_seconds!r}")
    if math.isinf(timeout_seconds):
        timeout_seconds = MAX_TIMEOUT_SECONDS
    return httpx.Timeout(min(float(timeout_seconds), MAX_TIMEOUT_SECONDS))


def _build_request(
    parameters: dict[str, Json], client: httpx.Client, timeout: httpx.Timeout
) -> httpx.Request:
    transform = parameters.get("Transform") or {}
    array_format = _array_format(transform)
    body = parameters.get("RequestBody")
    content, content_type = _encode_body(body, _url_encoded(transform), array_format)
    headers = _headers(parameters.get("Headers") or {}, content_type)
    query = urlencode(list(_form_pairs(parameters.get("QueryParameters") or {}, array_format)))
    try:
        url = _with_query(parameters["ApiEndpoint"], query)
        return client.build_request(
            parameters["Method"], url, headers=headers, content=content, timeout=timeout
        )
    except (httpx.InvalidURL, ValueError) as error:
        raise StatesRuntimeError(ErrorName.RUNTIME, f"Invalid HTTP Task request: {error}") from None


def _with_query(endpoint: str, query: str) -> str:
    """The endpoint with ``query`` appended to the query string it may already have."""
    parts = urlsplit(endpoint)
    joined = "&".join(part for part in (parts.query, query) if part)
    return urlunsplit(parts._replace(query=joined))


def _array_format(transform: dict[str, Json]) -> str:
    options = transform.get("RequestEncodingOptions") or {}
    return str(options.get("ArrayFormat", DEFAULT_ARRAY_FORMAT))


def _headers(given: dict[str, Json], content_type: str | None) -> dict[str, str]:
    headers = {name: _scalar_text(value) for name, value in given.items()}
    # The body's own type is only a default: a Content-Type the state sets wins.
    if content_type and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = content_type
    return headers


def _encode_body(
    body: Json, url_encoded: bool, array_format: str
) -> tuple[bytes | None, str | None]:
    """The request's bytes and their default Content-Type."""
    if body is None:
        return None, None
    if url_encoded:
        text = body if isinstance(body, str) else urlencode(list(_form_pairs(body, array_format)))
        return text.encode(), FORM_CONTENT_TYPE
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), "application/json"


def _url_encoded(transform: Json) -> bool:
    return isinstance(transform, dict) and transform.get("RequestBodyEncoding") == "URL_ENCODED"


def _form_pairs(value: Json, array_format: str, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Flatten JSON into form pairs the way AWS's ArrayFormat options describe."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _form_pairs(item, array_format, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(value, list):
        yield from _array_pairs(value, array_format, prefix)
    else:
        yield prefix, _scalar_text(value)


def _array_pairs(items: list[Json], array_format: str, prefix: str) -> Iterator[tuple[str, str]]:
    scalars = not any(isinstance(item, dict | list) for item in items)
    if array_format == "COMMAS" and scalars:
        yield prefix, ",".join(_scalar_text(item) for item in items)
        return
    for index, item in enumerate(items):
        if array_format == "REPEAT" and scalars:
            key = prefix
        elif array_format == "BRACKETS" and scalars:
            key = f"{prefix}[]"
        else:
            # Objects inside arrays need their index to stay distinct, whatever the format.
            key = f"{prefix}[{index}]"
        yield from _form_pairs(item, array_format, key)


def _scalar_text(value: Json) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value)


# --- the response --------------------------------------------------------------------


def _send(client: httpx.Client, request: httpx.Request, seconds: float, max_bytes: int) -> Json:
    deadline = time.monotonic() + seconds
    try:
        response = client.send(request, stream=True)
        try:
            body = _read_body(response, deadline, max_bytes)
        finally:
            response.close()
    except httpx.TimeoutException as error:
        cause = f"timed out after {seconds:g} seconds ({type(error).__name__})"
        raise StatesError(SOCKET_ERROR, f"The HTTP request to {request.url} {cause}") from None
    except httpx.TransportError as error:
        cause = f"failed: {type(error).__name__}: {error}"
        raise StatesError(SOCKET_ERROR, f"The HTTP request to {request.url} {cause}") from None
    return _result(response, body)


def _read_body(response: httpx.Response, deadline: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            detail = f"The HTTP response body is larger than {max_bytes} bytes"
            raise StatesTerminalError(ErrorName.DATA_LIMIT_EXCEEDED, detail)
        if time.monotonic() > deadline:
            # A server dripping bytes never trips the per-read timeout; this bounds the total.
            raise httpx.ReadTimeout("the response body took too long", request=response.request)
        chunks.append(chunk)
    return b"".join(chunks)


def _result(response: httpx.Response, body: bytes) -> Json:
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        headers.setdefault(name, []).append(value)
    return {
        "Headers": headers,
        "ResponseBody": _response_body(response, body),
        "StatusCode": response.status_code,
        "StatusText": response.reason_phrase,
    }


def _response_body(response: httpx.Response, body: bytes) -> Json:
    text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if text and (media_type == "application/json" or media_type.endswith("+json")):
        try:
            return json.loads(text)
        except ValueError:
            return text  # a server that mislabels its body still gets its text through
    return text


# --- helpers -------------------------------------------------------------------------


def _is_jsonata(value: Json) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def _describe(value: Json) -> str:
    if value is _MISSING:
        return "nothing"
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."
