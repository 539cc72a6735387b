"""Flower, as users run it next to a fleet: authenticated, listing every state by name."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.conftest import ROOT, Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

MACHINE = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Pass", "Next": "Charge"},
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:quick",
            "End": True,
        },
    },
}


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


def test_flower_requires_auth_and_lists_states_by_machine_and_state_name(fleet: Fleet) -> None:
    # Given Flower started the way the Procfile starts it, with basic auth
    port, auth = _free_port(), "admin:secret"
    env = {**fleet.env, "STEPLINE_FLOWER_BASIC_AUTH": auth, "STEPLINE_FLOWER_PORT": str(port)}
    flower = subprocess.Popen(
        [sys.executable, "-m", "engine._cli", "flower"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        fleet.await_condition(lambda: _get(f"{base}/healthcheck", None)[0] == 200, 60, "Flower")

        # When executions run
        arn = fleet.create("checkout", MACHINE)
        runs = iter(range(1000))

        def run_one() -> None:
            run = fleet.start_execution(arn, {"seconds": 0}, f"flowered-{next(runs)}")
            assert fleet.await_status(run)["status"] == "SUCCEEDED"

        run_one()

        # Then the API refuses anonymous callers
        assert _get(f"{base}/api/tasks", None)[0] == 401

        # and lists the states as machine.state, with ids only as arguments
        def names() -> set[str]:
            status, tasks = _get(f"{base}/api/tasks", auth)
            return {task["name"] for task in (tasks or {}).values()} if status == 200 else set()

        def listed() -> set[str] | None:
            if (found := names()) >= {"checkout.Validate", "checkout.Charge"}:
                return found
            # Task events are broadcast (Redis pub/sub): those sent before Flower's receiver
            # subscribed are gone, and /healthcheck answers before it subscribes, so keep
            # running executions until Flower has seen one.
            run_one()
            return None

        seen = fleet.await_condition(listed, 90, "Flower to list the states")
        assert "checkout.Validate" in seen
    finally:
        os.killpg(flower.pid, signal.SIGTERM)
        flower.wait(timeout=20)
