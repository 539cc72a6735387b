"""The HTTP Task core against a real HTTP server on 127.0.0.1 (no network, no sleeps)."""

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from engine._errors import StatesError, StatesRuntimeError, StatesTerminalError
from engine._integrations.http_task import invoke_http, validate_http_parameters

TIMEOUT = 5.0
SHORT_TIMEOUT = 0.2
ITEMS = {"array": ["a", "b", "c", "d"]}


@dataclass
class Seen:
    """One request the test server received."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: str


@dataclass
class Server:
    """The in-test server: its base URL, what it saw, and the gate its slow route waits on."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=parse_qsl(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length).decode(),
            )
            server.seen.append(seen)
            ROUTES.get(parts.path, _echo)(self, seen, server)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve  # noqa: N815

    return Handler


def _reply(handler: BaseHTTPRequestHandler, status: int, body: str, content_type: str) -> None:
    data = body.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("X-Trace", "one")
    handler.send_header("X-Trace", "two")
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)


def _echo(handler: BaseHTTPRequestHandler, seen: Seen, server: Server) -> None:
    _reply(handler, 200, json.dumps({"method": seen.method, "body": seen.body}), "application/json")


def _text(handler: BaseHTTPRequestHandler, seen: Seen, server: Server) -> None:
    _reply(handler, 200, "plain words", "text/plain; charset=utf-8")


def _missing(handler: BaseHTTPRequestHandler, seen: Seen, server: Server) -> None:
    _reply(handler, 404, json.dumps({"message": "no such order"}), "application/json")


def _slow(handler: BaseHTTPRequestHandler, seen: Seen, server: Server) -> None:
    # Blocks until the test ends (the fixture sets the event): no sleeping anywhere.
    server.release.wait(TIMEOUT)
    _reply(handler, 200, "{}", "application/json")


def _large(handler: BaseHTTPRequestHandler, seen: Seen, server: Server) -> None:
    _reply(handler, 200, "x" * 2048, "text/plain")


ROUTES = {"/text": _text, "/missing": _missing, "/slow": _slow, "/large": _large}


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    # A short poll interval keeps shutdown() (which waits one poll) fast.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(TIMEOUT)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: a proxy set in the environment must not route 127.0.0.1.
    with httpx.Client(trust_env=False) as http_client:
        yield http_client


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", [("array[0]", "a"), ("array[1]", "b"), ("array[2]", "c"), ("array[3]", "d")]),
        ("BRACKETS", [("array[]", "a"), ("array[]", "b"), ("array[]", "c"), ("array[]", "d")]),
        ("COMMAS", [("array", "a,b,c,d")]),
        ("REPEAT", [("array", "a"), ("array", "b"), ("array", "c"), ("array", "d")]),
    ],
)
def test_given_query_parameters_when_get_then_arrays_follow_the_array_format(
    server, client, array_format, expected
):
    # Given a GET with an array query parameter and an ArrayFormat
    parameters = {
        "ApiEndpoint": f"{server.url}/orders?region=eu",
        "Method": "GET",
        "QueryParameters": {"id": "7", **ITEMS},
        "Transform": {"RequestEncodingOptions": {"ArrayFormat": array_format}},
    }
    # When it is invoked
    result = invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    # Then the endpoint's own query stays and the array is encoded as AWS documents
    assert server.seen[0].query == [("region", "eu"), ("id", "7"), *expected]
    assert result["StatusCode"] == 200


def test_given_no_transform_when_get_then_arrays_use_indices_and_objects_brackets(server, client):
    # Given nested objects and scalars of every JSON kind in the query
    query = {"filter": {"status": "open", "tags": ["x"]}, "n": 3, "ok": True, "none": None}
    parameters = {"ApiEndpoint": server.url, "Method": "GET", "QueryParameters": query}
    # When invoked
    invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    # Then they flatten the qs way, scalars as JSON text
    assert server.seen[0].query == [
        ("filter[status]", "open"),
        ("filter[tags][0]", "x"),
        ("n", "3"),
        ("ok", "true"),
        ("none", ""),
    ]


def test_given_a_json_body_when_post_then_it_is_sent_as_json_and_the_result_is_aws_shaped(
    server, client
):
    # Given a POST with a JSON request body and a header
    parameters = {
        "ApiEndpoint": f"{server.url}/orders",
        "Method": "POST",
        "Headers": {"X-Tenant": "acme", "X-Count": 2},
        "RequestBody": {"item": "book", "quantity": 2},
    }
    # When invoked
    result = invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    # Then the server got JSON with the headers
    seen = server.seen[0]
    assert json.loads(seen.body) == {"item": "book", "quantity": 2}
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-tenant"] == "acme"
    assert seen.headers["x-count"] == "2"
    # And the result has AWS's members, the JSON body parsed and every header value listed
    assert result["StatusCode"] == 200
    assert result["StatusText"] == "OK"
    assert result["ResponseBody"] == {"method": "POST", "body": seen.body}
    assert result["Headers"]["content-type"] == ["application/json"]
    assert result["Headers"]["x-trace"] == ["one", "two"]


def test_given_url_encoded_transform_when_post_then_the_body_is_a_form(server, client):
    # Given a URL_ENCODED body with an array in BRACKETS format
    parameters = {
        "ApiEndpoint": server.url,
        "Method": "POST",
        "RequestBody": {"customer": "1234", "description": "Monthly plan", "tags": ["a", "b"]},
        "Transform": {
            "RequestBodyEncoding": "URL_ENCODED",
            "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"},
        },
    }
    # When invoked
    invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    # Then the server received a form with the form content type
    seen = server.seen[0]
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(seen.body) == [
        ("customer", "1234"),
        ("description", "Monthly plan"),
        ("tags[]", "a"),
        ("tags[]", "b"),
    ]


def test_given_a_content_type_header_when_post_then_it_wins_over_the_default(server, client):
    # Given a string body and the state's own Content-Type
    parameters = {
        "ApiEndpoint": server.url,
        "Method": "PUT",
        "Headers": {"content-type": "application/xml"},
        "RequestBody": "<order/>",
    }
    # When invoked
    invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    # Then the body is sent as is, under the state's type
    assert server.seen[0].body == "<order/>"
    assert server.seen[0].headers["content-type"] == "application/xml"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])
def test_given_each_method_when_invoked_then_the_server_sees_it(server, client, method):
    # Given each AWS method, When invoked, Then the server receives that method
    result = invoke_http(
        {"ApiEndpoint": server.url, "Method": method}, client, timeout_seconds=TIMEOUT
    )
    assert server.seen[0].method == method
    assert result["StatusCode"] == 200


def test_given_a_text_response_when_invoked_then_the_body_is_text(server, client):
    # Given an endpoint answering text/plain, When invoked, Then ResponseBody is the text
    result = invoke_http(
        {"ApiEndpoint": f"{server.url}/text", "Method": "GET"}, client, timeout_seconds=TIMEOUT
    )
    assert result["ResponseBody"] == "plain words"


# --- failures ------------------------------------------------------------------------


def test_given_a_404_when_invoked_then_states_http_status_code_404_with_the_response(
    server, client
):
    # Given an endpoint answering 404
    parameters = {"ApiEndpoint": f"{server.url}/missing", "Method": "GET"}
    # When invoked
    with pytest.raises(StatesError) as raised:
        invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    # Then the error is AWS's name and the cause carries the whole response
    assert raised.value.name == "States.Http.StatusCode.404"
    cause = json.loads(raised.value.cause or "")
    assert cause["StatusCode"] == 404
    assert cause["StatusText"] == "Not Found"
    assert cause["ResponseBody"] == {"message": "no such order"}


def test_given_a_closed_port_when_invoked_then_states_http_socket(client):
    # Given nothing listening on the port
    parameters = {"ApiEndpoint": f"http://127.0.0.1:{_closed_port()}/x", "Method": "GET"}
    # When invoked, Then the socket-level failure is States.Http.Socket, naming the URL
    with pytest.raises(StatesError) as raised:
        invoke_http(parameters, client, timeout_seconds=TIMEOUT)
    assert raised.value.name == "States.Http.Socket"
    assert "127.0.0.1" in (raised.value.cause or "")


def test_given_a_slow_endpoint_when_the_timeout_passes_then_states_http_socket(server, client):
    # Given an endpoint that answers only when the test ends
    parameters = {"ApiEndpoint": f"{server.url}/slow", "Method": "GET"}
    # When invoked with a short timeout
    with pytest.raises(StatesError) as raised:
        invoke_http(parameters, client, timeout_seconds=SHORT_TIMEOUT)
    # Then it times out as States.Http.Socket
    assert raised.value.name == "States.Http.Socket"
    assert "timed out after 0.2 seconds" in (raised.value.cause or "")


def test_given_a_body_over_the_limit_when_invoked_then_data_limit_exceeded(server, client):
    # Given a response larger than the allowed size
    parameters = {"ApiEndpoint": f"{server.url}/large", "Method": "GET"}
    # When invoked, Then the task fails as States.DataLimitExceeded
    with pytest.raises(StatesTerminalError) as raised:
        invoke_http(parameters, client, timeout_seconds=TIMEOUT, max_response_bytes=1024)
    assert raised.value.name == "States.DataLimitExceeded"


def test_given_invalid_parameters_when_invoked_then_states_runtime_listing_the_problems(client):
    # Given a bad method and no endpoint
    with pytest.raises(StatesRuntimeError) as raised:
        invoke_http({"Method": "FETCH"}, client, timeout_seconds=TIMEOUT)
    # Then States.Runtime says what is wrong with each
    assert raised.value.name == "States.Runtime"
    assert "ApiEndpoint: is required" in raised.value.detail
    assert 'Method: expected one of GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD, got "FETCH"' in (
        raised.value.detail
    )


def test_given_unresolved_paths_when_invoked_then_states_runtime(client):
    # Given a path the interpreter should have resolved, Then it is refused at run time
    with pytest.raises(StatesRuntimeError, match=r"ApiEndpoint\.\$: is not"):
        invoke_http({"ApiEndpoint.$": "$.url", "Method": "GET"}, client, timeout_seconds=TIMEOUT)


@pytest.mark.parametrize("timeout_seconds", [0, -1.0, float("nan")])
def test_given_a_bad_timeout_when_invoked_then_value_error(client, timeout_seconds):
    with pytest.raises(ValueError, match="timeout_seconds: expected a positive number"):
        invoke_http(
            {"ApiEndpoint": "http://127.0.0.1/", "Method": "GET"},
            client,
            timeout_seconds=timeout_seconds,
        )


# --- static validation ---------------------------------------------------------------


def test_given_valid_parameters_when_validated_then_no_problem():
    # Given every field AWS defines, Then nothing is reported
    parameters = {
        "ApiEndpoint": "https://api.example.com/v1/customers",
        "Method": "POST",
        "Authentication": {"ConnectionArn": "arn:aws:events:us-east-2:123456789012:connection/x"},
        "Headers": {"Content-Type": "application/json", "Authorization": "Bearer t"},
        "QueryParameters": {"limit": 10},
        "RequestBody": {"a": 1},
        "Transform": {
            "RequestBodyEncoding": "URL_ENCODED",
            "RequestEncodingOptions": {"ArrayFormat": "COMMAS"},
        },
    }
    assert validate_http_parameters(parameters) == []


def test_given_paths_and_jsonata_when_validated_then_they_count_as_present():
    # Given fields only known at run time, Then they are neither missing nor checked
    parameters = {"ApiEndpoint.$": "$.url", "Method": "{% $states.input.method %}"}
    assert validate_http_parameters(parameters) == []


def test_given_plain_http_when_validated_then_accepted_unlike_aws():
    # Given an http:// endpoint on a private network, Then it is allowed
    assert (
        validate_http_parameters({"ApiEndpoint": "http://10.0.0.5:8080/x", "Method": "GET"}) == []
    )


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ([], "Parameters: expected an object, got []"),
        ({"Method": "GET"}, "ApiEndpoint: is required"),
        ({"ApiEndpoint": "https://x.test"}, "Method: is required"),
        ({"ApiEndpoint": "ftp://x.test/f", "Method": "GET"}, "ApiEndpoint: expected an http://"),
        ({"ApiEndpoint": "https://", "Method": "GET"}, "ApiEndpoint: expected an http://"),
        ({"ApiEndpoint": "http://x:99999/", "Method": "GET"}, "ApiEndpoint: expected an http://"),
        ({"ApiEndpoint": 42, "Method": "GET"}, "ApiEndpoint: expected an http://"),
        ({"ApiEndpoint": "https://x.test", "Method": "get"}, "Method: expected one of"),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Headers": {"Host": "y"}},
            "Headers.Host: is a header an HTTP Task may not set",
        ),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Headers": {"X-Amz-Date": "d"}},
            "Headers.X-Amz-Date: is a header an HTTP Task may not set",
        ),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Headers": {"A": {"b": 1}}},
            "Headers.A: expected a string, number or boolean",
        ),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Headers": ["A"]},
            "Headers: expected an object",
        ),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "QueryParameters": "a=1"},
            "QueryParameters: expected an object",
        ),
        (
            {
                "ApiEndpoint": "https://x.test",
                "Method": "GET",
                "Transform": {"RequestBodyEncoding": "JSON"},
            },
            "Transform.RequestBodyEncoding: expected one of NONE, URL_ENCODED",
        ),
        (
            {
                "ApiEndpoint": "https://x.test",
                "Method": "GET",
                "Transform": {"RequestEncodingOptions": {"ArrayFormat": "PIPES"}},
            },
            "Transform.RequestEncodingOptions.ArrayFormat: expected one of INDICES",
        ),
        (
            {
                "ApiEndpoint": "https://x.test",
                "Method": "POST",
                "RequestBody": [1, 2],
                "Transform": {"RequestBodyEncoding": "URL_ENCODED"},
            },
            "RequestBody: expected an object to URL-encode",
        ),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Authentication": "arn"},
            'Authentication: expected {"ConnectionArn": string}',
        ),
        (
            {"ApiEndpoint": "https://x.test", "Method": "GET", "Body": {}},
            "Body: is not an HTTP Task parameter",
        ),
    ],
)
def test_given_invalid_parameters_when_validated_then_each_problem_is_named(parameters, problem):
    # Given parameters with one problem, When validated, Then the problem names its field
    problems = validate_http_parameters(parameters)
    assert len(problems) == 1
    assert problems[0].startswith(problem)
