"""Flower, as users run it next to a fleet: authenticated, listing every state by name.

What an operator sees (ADR 0046): each state task as ``machine.state``, whatever order the
task events reach Flower in; a failed state as FAILURE with its error's name; each task's
execution ARN in its kwargs (never a payload); no housekeeping tasks unless asked for.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine._store.rows import OUTBOX
from tests.integration.conftest import ROOT, Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

AUTH = "admin:secret"
LAMBDA = "arn:aws:lambda:us-east-1:111111111111:function:"
MACHINE = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Pass", "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": LAMBDA + "quick", "End": True},
    },
}
CHECKOUT = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Pass", "Next": "Route"},
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.seconds", "NumericEquals": 0, "Next": "Charge"}],
            "Default": "Charge",
        },
        "Charge": {"Type": "Task", "Resource": LAMBDA + "quick", "Next": "Ship"},
        "Ship": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
CHECKOUT_TASKS = Counter({f"checkout.{state}": 1 for state in CHECKOUT["States"]})
"""The Celery tasks of one CHECKOUT execution: one per state (a Task state's is its handler's)."""
REFUND = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": LAMBDA + "fails_until_fixed",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Reject"}],
            "End": True,
        },
        "Reject": {"Type": "Fail", "Error": "Order.Rejected", "Cause": "card declined"},
    },
}


@pytest.fixture
def fleet_settings() -> dict[str, str]:
    """Workers whose task-sent events come late (after the worker's), as under load."""
    modules = "tests.integration.crash_handlers,tests.integration.late_sent_events"
    return {"STEPLINE_HANDLERS": modules}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, auth: str | None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
            try:
                return response.status, json.loads(body or b"null")
            except ValueError:  # /healthcheck answers plain text
                return response.status, body.decode()
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError):  # not listening yet
        return 0, None


@contextmanager
def flower(fleet: Fleet) -> Iterator[str]:
    """Flower started the way the Procfile starts it, with basic auth; yields its URL."""
    port = _free_port()
    env = {**fleet.env, "STEPLINE_FLOWER_BASIC_AUTH": AUTH, "STEPLINE_FLOWER_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "engine._cli", "flower"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        fleet.await_condition(lambda: _get(f"{base}/healthcheck", None)[0] == 200, 60, "Flower")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def tasks(base: str, search: str = "") -> dict[str, dict[str, Any]]:
    """Flower's task list (``search``: Flower's task filter query)."""
    query = "?" + urllib.parse.urlencode({"search": search}) if search else ""
    status, found = _get(f"{base}/api/tasks{query}", AUTH)
    return found or {} if status == 200 else {}


def of_execution(base: str, execution_arn: str) -> list[dict[str, Any]]:
    """The tasks Flower lists for one execution: found by the ARN in their kwargs."""
    return list(tasks(base, f"kwargs:execution={execution_arn}").values())


def await_flower_listening(fleet: Fleet, base: str) -> None:
    """Run executions until Flower lists one: it missed the events sent before it subscribed.

    Task events are broadcast (Redis pub/sub), and /healthcheck answers before Flower's
    receiver subscribes.
    """
    arn = fleet.create("warmup", MACHINE)
    runs = iter(range(1000))

    def listed() -> bool:
        run = fleet.start_execution(arn, {"seconds": 0}, f"warmup-{next(runs)}")
        assert fleet.await_status(run)["status"] == "SUCCEEDED"
        return {"warmup.Validate", "warmup.Charge"} <= {t["name"] for t in tasks(base).values()}

    fleet.await_condition(listed, 90, "Flower to list the states")


def test_flower_requires_auth_and_lists_states_by_machine_and_state_name(fleet: Fleet) -> None:
    # Given Flower next to the fleet, listening
    with flower(fleet) as base:
        await_flower_listening(fleet, base)

        # Then the API refuses anonymous callers
        assert _get(f"{base}/api/tasks", None)[0] == 401
        # and lists states only: beat's housekeeping (every second here) sends no events
        assert not [t for t in tasks(base).values() if t["name"].startswith("stepline.")]
        # and lists the states as machine.state, with ids only as arguments
        listed = tasks(base, "warmup.Validate")
        assert listed
        for task in listed.values():
            assert task["name"] == "warmup.Validate"
            execution_id, thread_id, seq = ast.literal_eval(task["args"])
            assert (type(execution_id), type(thread_id), type(seq)) == (int, str, int)
            assert "seconds" not in task["args"] + task["kwargs"]  # the input is never shown


def test_every_state_task_is_named_by_its_state_and_failed_states_show_failure(
    fleet: Fleet,
) -> None:
    # Given Flower listening next to the fleet
    with flower(fleet) as base:
        await_flower_listening(fleet, base)

        # When five checkouts run (25 state tasks), and a refund whose Task fails and is
        # caught into a Fail state
        checkout = fleet.create("checkout", CHECKOUT)
        runs = [fleet.start_execution(checkout, {"seconds": 0}, f"co-{n}") for n in range(5)]
        refund = fleet.start_execution(fleet.create("refund", REFUND), {}, "refund-1")
        for run in [*runs, refund]:
            fleet.await_status(run)

        # Then Flower names 25 of 25 state tasks machine.state, each execution's own found
        # by its ARN
        def all_listed() -> list[list[dict[str, Any]]] | None:
            found = [of_execution(base, run) for run in runs]
            done = all(t["state"] == "SUCCESS" for listed in found for t in listed)
            return found if done and sum(map(len, found)) == 25 else None

        listed = fleet.await_condition(all_listed, 60, "Flower to list 25 state tasks")
        for per_execution in listed:
            assert Counter(task["name"] for task in per_execution) == CHECKOUT_TASKS

        # and the refund's failed states as FAILURE, with the error's name only
        def refund_failed() -> dict[str, dict[str, Any]] | None:
            found = {t["name"]: t for t in of_execution(base, refund)}
            ended = {n: t for n, t in found.items() if t["state"] in {"FAILURE", "SUCCESS"}}
            return ended if ended.keys() >= {"refund.Charge", "refund.Reject"} else None

        failed = fleet.await_condition(refund_failed, 60, "Flower to list the refund's states")
        assert failed["refund.Charge"]["state"] == "FAILURE"
        assert "NotFixedYet (LambdaFunctionFailed)" in failed["refund.Charge"]["exception"]
        assert failed["refund.Reject"]["state"] == "FAILURE"
        assert "Order.Rejected (ExecutionFailed)" in failed["refund.Reject"]["exception"]
        assert "card declined" not in failed["refund.Reject"]["exception"]  # the cause stays
        assert failed["refund.Reject"]["exception"].count("its cause is in") == 1

    # and the failure re-ran nothing: one attempt, the execution ended as the store says,
    # and no message of it is left for the relay to send again
    history = fleet.history(refund)
    assert [e.type for e in history].count("LambdaFunctionStarted") == 1
    assert fleet.client.describe_execution(executionArn=refund)["error"] == "Order.Rejected"
    execution_id = fleet.store.execution_id(refund)
    with fleet.store.engine.connect() as db:
        pending = db.execute(
            OUTBOX.select().where(OUTBOX.c.execution_id == execution_id, OUTBOX.c.done.is_(False))
        ).all()
    assert pending == []
