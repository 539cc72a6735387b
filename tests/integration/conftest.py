"""A real fleet for integration tests: Celery worker and beat processes on Redis + PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from engine._api import Client
from engine._interpreter.history import HistoryEvent
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store
from engine._store.workers import announcements
from tests.integration.crash_handlers import SIGNALS

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::111111111111:role/stepline-tests"


@dataclass
class Fleet:
    """Worker and beat processes sharing one store and one broker."""

    env: dict[str, str]
    client: Client
    store: Store
    signals: redis.Redis
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, role: str) -> None:
        """Start ``worker`` (``worker-b``, ...) or ``beat``; a worker once it announced itself."""
        started = datetime.now(UTC) - timedelta(seconds=1)
        command = {
            "worker": [
                "worker",
                "--hostname",
                f"{role}@%h",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--without-mingle",
                "--without-gossip",
            ],
            "beat": [
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(Path(self.env["STEPLINE_HOME"]) / "beat-schedule"),
            ],
        }[role.partition("-")[0]]
        self.processes[role] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks.app", *command],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        if role.startswith("worker"):
            self.await_condition(
                lambda: any(a.seen_at >= started for a in announcements(self.store.engine)),
                60,
                "the worker's announcement",
            )

    def kill(self, role: str) -> None:
        """kill -9 the process and all its children (no warm shutdown, nothing acked)."""
        process = self.processes.pop(role)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        """Terminate whatever still runs."""
        for role in list(self.processes):
            process = self.processes.pop(role)
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def await_signal(self, expected: str, timeout: float = 60) -> None:
        """Block until a handler announces ``expected`` (BLPOP: no sleeping)."""
        self.next_signal(expected, timeout, exact=True)

    def next_signal(self, prefix: str, timeout: float = 60, *, exact: bool = False) -> str:
        """The next signal starting with ``prefix`` (or equal to it), awaited with BLPOP."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            item = self.signals.blpop([SIGNALS], timeout=max(1, min(5, int(remaining))))
            if item is None:
                continue
            text = item[1].decode()
            if text == prefix or (not exact and text.startswith(prefix)):
                return text
        raise AssertionError(f"no {prefix!r} signal within {timeout}s")

    def role_of(self, pid: int) -> str:
        """The role whose process has ``pid``."""
        return next(role for role, process in self.processes.items() if process.pid == pid)

    def create(self, name: str, definition: dict[str, Any]) -> str:
        """Create a state machine; returns its ARN."""
        response = self.client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE
        )
        return str(response["stateMachineArn"])

    def start_execution(self, machine_arn: str, payload: Any, name: str) -> str:
        """Start an execution; returns its ARN."""
        response = self.client.start_execution(
            stateMachineArn=machine_arn, input=json.dumps(payload), name=name
        )
        return str(response["executionArn"])

    def await_status(self, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
        """Poll the store until the execution leaves RUNNING."""
        return self.await_condition(
            lambda: (
                (d := self.client.describe_execution(executionArn=execution_arn))["status"]
                != "RUNNING"
                and d
            ),
            timeout,
            f"{execution_arn} to finish",
        )

    def await_event(self, execution_arn: str, event_type: str, timeout: float = 60) -> None:
        """Poll the store until the history holds an event of ``event_type``."""
        self.await_condition(
            lambda: any(e.type == event_type for e in self.store.history(execution_arn)),
            timeout,
            f"{event_type} in {execution_arn}",
        )

    @staticmethod
    def await_condition(check: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``check`` until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def history(self, execution_arn: str) -> list[HistoryEvent]:
        """The execution's history."""
        return self.store.history(execution_arn)


@pytest.fixture
def fleet_settings() -> dict[str, str]:
    """Extra ``STEPLINE_*`` settings of the fleet's processes and client (a module overrides it)."""
    return {}


@pytest.fixture
def fleet(
    postgres_url: str, redis_url: str, tmp_path: Path, fleet_settings: dict[str, str]
) -> Iterator[Fleet]:
    """A migrated store, a Redis broker, and worker + beat processes with fast leases."""
    upgrade(postgres_url)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_HOME": str(tmp_path),
        "STEPLINE_DATABASE_URL": postgres_url,
        "STEPLINE_BROKER_URL": redis_url,
        "STEPLINE_HANDLERS": "tests.integration.crash_handlers,tests.integration.celery_test_tasks",
        "STEPLINE_LEASE_SECONDS": "6",
        "STEPLINE_RELAY_INTERVAL_SECONDS": "1",
        "STEPLINE_TEST_SIGNAL_URL": redis_url,
        **fleet_settings,
    }
    from config.settings import Settings
    from engine import connect

    config = Settings(
        home=tmp_path,
        database_url=postgres_url,
        broker_url=redis_url,
        **{
            "lease_seconds": 6,
            **{name.removeprefix("STEPLINE_").lower(): v for name, v in fleet_settings.items()},
        },
    )
    store = Store(make_engine(postgres_url))
    signals = redis.Redis.from_url(redis_url, socket_timeout=30)
    fleet = Fleet(env, connect(config, store=store), store, signals)
    fleet.start("worker")
    fleet.start("beat")
    try:
        yield fleet
    finally:
        fleet.stop_all()


def shape(history: list[HistoryEvent]) -> list[tuple[int, int, str, str | None]]:
    """What must not change between an interrupted and an uninterrupted run."""
    return [(e.id, e.previous_event_id, e.type, e.state_name) for e in history]
