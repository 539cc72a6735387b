"""A lost worker's work moves to another worker within seconds, with beat down and the
default 120 s lease: heartbeats name what each worker holds, and any worker runs the
fleet's duties under a store lock (ADR 0035). Redis + PostgreSQL, real Celery workers."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine._store.workers import WORKERS
from tests.integration.conftest import Fleet

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

FN = "arn:aws:lambda:us-east-1:111111111111:function:"
MACHINE = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": {"seconds": 3, "id": "order-1"}, "Next": "Charge"},
        "Charge": {"Type": "Task", "Resource": FN + "whose", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
LEASE = 120.0
"""The default lease: recovery must not wait for it."""


@pytest.fixture
def fleet_settings() -> dict[str, str]:
    """Default timing: the lease the relay would otherwise wait for."""
    return {"STEPLINE_LEASE_SECONDS": str(LEASE)}


@pytest.fixture
def two_workers_no_beat(fleet: Fleet) -> Fleet:
    """Two workers and no beat process: the workers' own duty threads must recover."""
    fleet.kill("beat")
    fleet.start("worker-b")
    return fleet


def test_a_worker_killed_mid_handler_hands_its_task_over_in_seconds(
    two_workers_no_beat: Fleet,
) -> None:
    fleet = two_workers_no_beat
    # Given an execution whose Task handler runs on one of two workers (beat is down)
    machine = fleet.create("lost-worker", MACHINE)
    arn = fleet.start_execution(machine, {}, "killed")
    runner = fleet.role_of(int(fleet.next_signal("pid:").removeprefix("pid:")))
    # When that worker is killed -9 and nothing restarts it
    killed_at = time.monotonic()
    fleet.kill(runner)
    # Then the other worker runs the handler again well before a lease has passed
    survivor = int(fleet.next_signal("pid:", timeout=LEASE / 2).removeprefix("pid:"))
    recovered_after = time.monotonic() - killed_at
    assert fleet.role_of(survivor) != runner
    # and the execution succeeds with one LambdaFunctionStarted/Succeeded pair
    described = fleet.await_status(arn, timeout=60)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '{"done":"order-1"}')
    types = [event.type for event in fleet.history(arn)]
    assert (types.count("LambdaFunctionStarted"), types.count("LambdaFunctionSucceeded")) == (1, 1)
    print(f"handler re-run on the surviving worker {recovered_after:.1f} s after kill -9")


def test_a_frozen_worker_loses_its_task_and_commits_nothing_twice(
    two_workers_no_beat: Fleet,
) -> None:
    fleet = two_workers_no_beat
    # Given an execution whose Task handler runs on one of two workers
    machine = fleet.create("frozen-worker", MACHINE)
    arn = fleet.start_execution(machine, {}, "frozen")
    pid = int(fleet.next_signal("pid:").removeprefix("pid:"))
    runner = fleet.role_of(pid)
    # When that worker is frozen (SIGSTOP, its handler child too)
    os.killpg(fleet.processes[runner].pid, signal.SIGSTOP)
    try:
        # Then the other worker takes the task over well before a lease has passed
        taken_by = int(fleet.next_signal("pid:", timeout=LEASE / 2).removeprefix("pid:"))
        assert fleet.role_of(taken_by) != runner
        described = fleet.await_status(arn, timeout=60)
    finally:
        # and when the frozen worker resumes and finishes its handler
        resumed = datetime.now(UTC)
        os.killpg(fleet.processes[runner].pid, signal.SIGCONT)
    fleet.await_condition(lambda: holds_nothing_since(fleet, runner, resumed), 60, "its report")
    # Then its late report changed nothing: one start, one success, the first worker's output
    assert (described["status"], described["output"]) == ("SUCCEEDED", '{"done":"order-1"}')
    types = [event.type for event in fleet.history(arn)]
    assert (types.count("LambdaFunctionStarted"), types.count("LambdaFunctionSucceeded")) == (1, 1)
    assert fleet.client.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"


def holds_nothing_since(fleet: Fleet, role: str, since: datetime) -> bool:
    """Whether worker ``role`` heartbeat since ``since`` holding no message (its task ended)."""
    with fleet.store.engine.connect() as db:
        rows = db.execute(
            select(WORKERS.c.seen_at, WORKERS.c.inflight).where(
                WORKERS.c.name.startswith(f"{role}@")
            )
        ).all()
    return any(seen_at >= since and not inflight for seen_at, inflight in rows)
