"""examples/event_driven_orders runs with its README's commands, on Redis + PostgreSQL and on
the embedded default: an OrderPlaced event starts the workflow through a rule, each service
answers on its own queue, a declined card is compensated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import engine
from tests.integration.conftest import ROOT, Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
EXAMPLE = "examples.event_driven_orders"
SERVICES = ["validation", "payments", "fraud", "inventory", "shipping", "email", "sms"]


def _spawn(env: dict[str, str], *arguments: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *arguments], cwd=ROOT, env=env, start_new_session=True)


def _run(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().strip()


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a warm shutdown waiting on a long poll
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _await_two_ended(client: engine.Client, machine: str, timeout: float = 180) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.list_executions(stateMachineArn=machine)["executions"]
        if len(listed) == 2 and all(e["status"] != "RUNNING" for e in listed):
            return [client.describe_execution(executionArn=e["executionArn"]) for e in listed]
        time.sleep(0.5)  # polling the store: the executions run in other processes
    raise AssertionError(f"the two orders did not end within {timeout}s: {listed}")


def _place_both_orders(env: dict[str, str], client: engine.Client, machine: str) -> dict[str, Any]:
    _run(env, "-m", f"{EXAMPLE}.place_order")
    _run(env, "-m", f"{EXAMPLE}.place_order", "examples/event_driven_orders/order_declined.json")
    described = _await_two_ended(client, machine)
    return {json.loads(d["input"])["detail"]["orderId"]: d for d in described}


def _assert_outcomes(client: engine.Client, orders: dict[str, Any]) -> None:
    shipped, declined = orders["A-1001"], orders["A-1002"]
    assert shipped["status"] == "SUCCEEDED", shipped
    assert json.loads(shipped["output"])["shipment"]["tracking"] == "TRK-A-1001"
    assert declined["status"] == "FAILED", declined
    assert declined["error"] == "OrderCancelled"
    events = client.get_execution_history(executionArn=declined["executionArn"])["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    assert entered[-3:] == ["RefundPayment", "NotifyFailure", "Cancelled"]


def _set_up_and_serve(env: dict[str, str]) -> tuple[str, subprocess.Popen[bytes]]:
    """The README's setup (queues, topic, workflow, rule), then the services' process."""
    machine = _run(env, "-m", f"{EXAMPLE}.setup")
    consumers = _spawn(
        env, "-m", "engine._cli", "consume", *SERVICES, "--handlers", f"{EXAMPLE}.services"
    )
    return machine, consumers


def test_the_example_runs_on_redis_and_postgresql(fleet: Fleet) -> None:
    # Given the fleet (worker, beat), the README's setup and the services
    machine, consumers = _set_up_and_serve(fleet.env)
    try:
        # When the order service places a good and a declined order
        orders = _place_both_orders(fleet.env, fleet.client, machine)
    finally:
        _stop([consumers])
    # Then the rule started one workflow each: one shipped, one compensated
    _assert_outcomes(fleet.client, orders)


def test_the_example_runs_on_the_embedded_default(tmp_path: Path) -> None:
    # Given the embedded default (SQLite store and broker in STEPLINE_HOME) with the README's
    # worker, beat and services
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STEPLINE_") or key.startswith("STEPLINE_TEST")
    }
    env.update({"PYTHONPATH": str(ROOT), "STEPLINE_HOME": str(tmp_path / "home")})
    cli = ("-m", "engine._cli")
    processes = [_spawn(env, *cli, "worker"), _spawn(env, *cli, "beat")]
    try:
        machine, consumers = _set_up_and_serve(env)
        processes.append(consumers)
        # When both orders are placed
        from config.settings import Settings

        client = engine.connect(Settings(home=tmp_path / "home"))
        orders = _place_both_orders(env, client, machine)
        # Then the same outcomes as on Redis + PostgreSQL
        _assert_outcomes(client, orders)
    finally:
        _stop(processes)
