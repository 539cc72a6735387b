"""The console's routes on `stepline serve`'s app, in front of an in-process client."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from engine._api import Client
from engine._clock import FakeClock
from engine._console import COOKIE, ConsoleAuth, console_routes
from engine._wire import WireProtocol, create_app
from tests.unit.graph.support import ORDER, ROLE, registry, task

Json = Any
WRITE = {"x-stepline-console": "1"}
PARALLEL_AND_MAP = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Parallel",
            "Next": "Each",
            "ResultPath": "$.fan",
            "Branches": [{"StartAt": "A", "States": {"A": task("ok", End=True)}}],
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "B", "States": {"B": task("ok", End=True)}},
            "End": True,
        },
    },
}
# Waits for a callback that never comes: the in-process execution stays RUNNING
WAITS = {
    "StartAt": "Hold",
    "States": {
        "Hold": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "ok", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


def console(client: Client, auth: ConsoleAuth | None = None) -> Any:
    with warnings.catch_warnings():  # Starlette's TestClient asks for httpx2; httpx serves
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    app = create_app(WireProtocol(client), console_routes(client, auth or ConsoleAuth({})))
    return TestClient(app)


@pytest.fixture
def client() -> Client:
    return Client.local(registry(), clock=FakeClock())


def machine(client: Client, name: str, definition: Json) -> str:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    return client.create_state_machine(name=name, definition=text, roleArn=ROLE)["stateMachineArn"]


def test_get_slash_is_the_console_and_post_slash_stays_the_aws_protocol(client: Client):
    # Given a server without access keys
    http = console(client)

    # When a browser gets / and an SDK posts to /
    page = http.get("/")
    sdk = http.post(
        "/",
        content=b"{}",
        headers={
            "x-amz-target": "AWSStepFunctions.ListStateMachines",
            "content-type": "application/x-amz-json-1.0",
        },
    )

    # Then the browser gets the console's shell and the SDK its JSON answer
    assert page.status_code == 200
    assert 'data-page="machines"' in page.text
    assert sdk.json() == {"stateMachines": []}
    # And the vendored layout library is served from the package, not fetched
    elk = http.get("/console/static/elk.bundled.js")
    assert elk.status_code == 200
    assert "ELK" in elk.text[:2000]
    assert http.get("/health").json() == {"status": "ok"}


def test_an_execution_answers_with_its_coloured_graph_visits_and_map_items(client: Client):
    # Given an execution through a Parallel and a Map over two items
    arn = machine(client, "fan", PARALLEL_AND_MAP)
    run = client.start_execution(stateMachineArn=arn, input='{"items": [1, 2]}')

    # When the console asks for it
    data = console(client).get("/console/api/execution", params={"arn": run["executionArn"]})

    # Then every state is coloured, nested ones included, and the Map has per-item status
    body = data.json()
    nodes = {n["name"]: n for n in body["graph"]["nodes"] if n["type"] not in ("Start", "End")}
    assert {name: n["status"] for name, n in nodes.items()} == {
        "Fan": "SUCCEEDED",
        "A": "SUCCEEDED",
        "Each": "SUCCEEDED",
        "B": "SUCCEEDED",
    }
    assert nodes["Each"]["visits"][0]["items"] == {"0": "SUCCEEDED", "1": "SUCCEEDED"}
    assert body["execution"]["status"] == "SUCCEEDED"
    assert body["events"] > 10
    assert body["mapRuns"] == []  # an inline Map has iterations, not Map Runs


def test_executions_are_filtered_by_status_searched_by_name_and_paged(client: Client):
    # Given 60 succeeded executions and one failing one across two machines
    ok = machine(client, "ok", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    bad = machine(client, "bad", {"StartAt": "T", "States": {"T": task("broken", End=True)}})
    for index in range(60):
        client.start_execution(stateMachineArn=ok, name=f"order-{index:03}")
    client.start_execution(stateMachineArn=bad, name="Refund-Order-7")
    http = console(client)

    # When the console lists them
    first = http.get("/console/api/executions").json()
    second = http.get("/console/api/executions", params={"token": first["nextToken"]}).json()
    failed = http.get("/console/api/executions", params={"status": "FAILED"}).json()
    found = http.get("/console/api/executions", params={"q": "refund-ORDER"}).json()
    of_ok = http.get("/console/api/executions", params={"machine": ok, "q": "order-05"}).json()

    # Then pages of 50, newest first, hold every execution once
    names = [e["name"] for e in first["executions"] + second["executions"]]
    assert len(names) == len(set(names)) == 61
    assert names[0] == "Refund-Order-7"
    assert second["nextToken"] is None
    # And the filters and the (case-insensitive) name search narrow the list
    assert [e["name"] for e in failed["executions"]] == ["Refund-Order-7"]
    assert [e["machineName"] for e in found["executions"]] == ["bad"]
    assert len(of_ok["executions"]) == 10
    # And a search too short for the index, and an unknown status, are refused by name
    short = http.get("/console/api/executions", params={"q": "or"})
    assert short.status_code == 400
    assert "q: expected at least 3 characters" in short.json()["message"]
    refused = http.get("/console/api/executions", params={"status": "DONE"})
    assert refused.status_code == 400
    assert "status: expected one of RUNNING" in refused.json()["message"]


def test_a_machine_answers_with_versions_aliases_and_diagnostics_on_its_graph(client: Client):
    # Given a published machine whose Task nothing here serves (a validator warning)
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True}
        },
    }
    arn = client.create_state_machine(
        name="put", definition=json.dumps(definition), roleArn=ROLE, publish=True
    )["stateMachineArn"]

    # When the console asks for it
    body = console(client).get("/console/api/machine", params={"arn": arn}).json()

    # Then its version is listed and the warning sits on the Task's node
    assert len(body["versions"]) == 1
    assert body["aliases"] == []
    (put,) = [n for n in body["graph"]["nodes"] if n["name"] == "Put"]
    assert put["diagnostics"][0].startswith("WARNING UNSERVED_RESOURCE at /States/Put/Resource")


def test_a_typed_definition_is_validated_with_errors_on_its_states(client: Client):
    # Given a definition whose Next names no state
    text = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}})

    # When the console validates it
    body = console(client).post("/console/api/validate", json={"definition": text}).json()

    # Then the error is placed on A
    (node,) = [n for n in body["graph"]["nodes"] if n["name"] == "A"]
    assert node["diagnostics"][0].startswith("ERROR MISSING_TRANSITION_TARGET at /States/A/Next")
    assert body["diagnostics"][0]["location"] == "/States/A/Next"


def test_start_and_stop_go_through_the_client_and_need_the_console_header():
    # Given a machine that waits for a callback
    client = Client.local(registry(), clock=FakeClock())
    arn = machine(client, "waits", WAITS)
    http = console(client)

    # When the console starts it, then stops it
    started = http.post("/console/api/start", json={"stateMachineArn": arn}, headers=WRITE)
    execution = started.json()["executionArn"]
    stopped = http.post("/console/api/stop", json={"executionArn": execution}, headers=WRITE)

    # Then the execution ran and was aborted
    assert started.status_code == 200
    assert stopped.status_code == 200
    assert client.describe_execution(executionArn=execution)["status"] == "ABORTED"
    # And a change without the header (a cross-site form could send one) is refused
    forged = http.post("/console/api/start", json={"stateMachineArn": arn})
    assert forged.status_code == 403
    # And a refusal of the API comes back with its code
    again = http.post("/console/api/redrive", json={"executionArn": execution + "x"}, headers=WRITE)
    assert again.json()["error"] == "ExecutionDoesNotExist"


# --- the login ----------------------------------------------------------------------

KEYS = {"AKIDWRITER": "writer-secret", "AKIDREADER": "reader-secret"}


def logged_in(client: Client, key_id: str, secret: str) -> Any:
    http = console(client, ConsoleAuth(KEYS, frozenset({"AKIDREADER"})))
    http.post("/console/login", data={"key_id": key_id, "secret": secret, "next": "/console/"})
    return http


def test_with_access_keys_pages_ask_for_a_login_and_the_api_refuses(client: Client):
    # Given a server with access keys
    http = console(client, ConsoleAuth(KEYS))

    # When a caller without a session opens a page and calls the API
    page = http.get("/console/executions?status=FAILED", follow_redirects=False)
    data = http.get("/console/api/executions")

    # Then the page sends it to the login (coming back afterwards) and the API says 401
    assert page.status_code == 303
    assert page.headers["location"].startswith("/console/login?next=%2Fconsole%2Fexecutions")
    assert data.status_code == 401


def test_a_wrong_secret_is_refused_and_a_right_one_logs_in(client: Client):
    # Given a server with access keys
    http = console(client, ConsoleAuth(KEYS))

    # When a caller logs in wrongly, then rightly
    wrong = http.post("/console/login", data={"key_id": "AKIDWRITER", "secret": "guess"})
    right = http.post(
        "/console/login",
        data={"key_id": "AKIDWRITER", "secret": "writer-secret", "next": "/console/validate"},
        follow_redirects=False,
    )

    # Then the wrong one gets the form again, the right one a cookie and its page
    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    assert right.status_code == 303
    assert right.headers["location"] == "/console/validate"
    assert http.get("/console/api/session").json()["user"] == "AKIDWRITER"


def test_a_read_only_key_may_look_but_not_stop():
    # Given a running execution and a caller logged in with a read-only key
    client = Client.local(registry(), clock=FakeClock())
    execution = client.start_execution(stateMachineArn=machine(client, "waits", WAITS))
    http = logged_in(client, "AKIDREADER", "reader-secret")

    # When it reads, then tries to stop the execution
    session = http.get("/console/api/session").json()
    stop = http.post(
        "/console/api/stop", json={"executionArn": execution["executionArn"]}, headers=WRITE
    )

    # Then reading works, the stop is refused and the execution runs on
    assert session["canWrite"] is False
    assert stop.status_code == 403
    assert stop.json()["error"] == "AccessDeniedException"
    assert client.describe_execution(executionArn=execution["executionArn"])["status"] == (
        "RUNNING"
    )


def test_a_tampered_expired_or_revoked_cookie_is_no_session():
    # Given a cookie issued at t=1000 for the writer
    now = [1000.0]
    auth = ConsoleAuth(KEYS, now=lambda: now[0])
    cookie = auth.log_in("AKIDWRITER", "writer-secret")
    assert cookie is not None
    payload, _, signature = cookie.partition(".")

    # When it is read back as issued, altered, after 12 hours, and once its key is gone
    # Then only the untouched, fresh cookie of a configured key is a session
    assert auth.caller(cookie).key_id == "AKIDWRITER"
    assert auth.caller(payload + "." + "0" * len(signature)) is None
    assert auth.caller(None) is None
    now[0] += 12 * 3600 + 1
    assert auth.caller(cookie) is None
    now[0] = 1000.0
    assert ConsoleAuth({"AKIDREADER": "reader-secret"}, now=lambda: 1000.0).caller(cookie) is None


def test_the_login_goes_back_only_to_this_site(client: Client):
    # Given a login form whose next points off-site
    http = console(client, ConsoleAuth(KEYS))

    # When the login succeeds
    answer = http.post(
        "/console/login",
        data={"key_id": "AKIDWRITER", "secret": "writer-secret", "next": "//evil.example/"},
        follow_redirects=False,
    )

    # Then it lands on this server
    assert answer.headers["location"] == "/"
    assert COOKIE in answer.headers["set-cookie"]
    assert "samesite=strict" in answer.headers["set-cookie"].lower()


def test_the_order_example_draws_with_every_state(client: Client):
    # Given the order example as a machine
    arn = machine(client, "orders", ORDER.read_text())

    # When the console asks for the machine
    body = console(client).get("/console/api/machine", params={"arn": arn}).json()

    # Then all 13 states are nodes and its Choice and Catch edges are there
    kinds = {e["kind"] for e in body["graph"]["edges"]}
    assert len([n for n in body["graph"]["nodes"] if n["type"] not in ("Start", "End")]) == 13
    assert {"choice", "default", "catch", "next", "start", "end"} <= kinds


def test_a_failed_execution_is_redriven_from_the_console(client: Client):
    # Given an execution that failed in its Task
    arn = machine(client, "bad", {"StartAt": "T", "States": {"T": task("broken", End=True)}})
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    assert client.describe_execution(executionArn=execution)["status"] == "FAILED"

    # When the console redrives it
    answer = console(client).post(
        "/console/api/redrive", json={"executionArn": execution}, headers=WRITE
    )

    # Then it ran again from its failed state (and failed again: the handler always does)
    assert answer.status_code == 200
    assert "redriveDate" in answer.json()
    assert client.describe_execution(executionArn=execution)["redriveCount"] == 1


def test_a_distributed_map_run_lists_each_child_executions_status(client: Client):
    # Given an execution whose Distributed Map ran over three items
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "B",
                    "States": {"B": task("ok", End=True)},
                },
                "End": True,
            }
        },
    }
    arn = machine(client, "distributed", definition)
    run = client.start_execution(stateMachineArn=arn, input="[1, 2, 3]")

    # When the console asks for the execution
    body = console(client).get("/console/api/execution", params={"arn": run["executionArn"]})

    # Then its Map Run is there with its counts and each child's status
    (map_run,) = body.json()["mapRuns"]
    assert map_run["status"] == "SUCCEEDED"
    assert map_run["itemCounts"]["succeeded"] == 3
    assert [item["status"] for item in map_run["items"]] == ["SUCCEEDED"] * 3
