"""Processes and services for one benchmark: a fresh store, a Redis db, worker and beat.

The approach of tests/integration/conftest.py (real ``celery worker`` / ``beat``
subprocesses, handlers registered through ``STEPLINE_HANDLERS``) without pytest, plus
the two things benchmarks need: the raw-Celery worker, and the memory of a process tree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from config.settings import Settings
from engine import connect
from engine._api import Client
from engine._runtime import Runtime
from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store

ROOT = Path(__file__).resolve().parents[1]
ROLE = "arn:aws:iam::111111111111:role/stepline-bench"
WORKER_ARGS = [
    "--pool",
    "prefork",
    "--concurrency",
    "2",
    "--loglevel",
    "WARNING",
    "--without-mingle",
    "--without-gossip",
]


@dataclass(frozen=True)
class Services:
    """Where the benchmarks run: PostgreSQL server (admin URL) and a Redis database."""

    postgres: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    redis: str = "redis://127.0.0.1:6379/12"
    database: str = "stepline_bench"

    def store_url(self, kind: str, home: Path) -> str:
        """The store URL of ``kind`` (``postgres`` or ``sqlite``)."""
        if kind == "sqlite":
            return f"sqlite:///{home / 'store.db'}"
        return self.postgres.rsplit("/", 1)[0] + f"/{self.database}"

    def recreate_database(self) -> None:
        """Drop and create the benchmark database (a fresh store per run)."""
        self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        """Drop the benchmark database."""
        self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        url = self.postgres.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql.encode())

    def flush_redis(self) -> None:
        """Empty the benchmark's Redis database (queues, unacked, counters)."""
        redis.Redis.from_url(self.redis).flushdb()


def celery_settings(
    services: Services, store_url: str, home: Path, fold_states: int = 0
) -> Settings:
    """stepline's settings for a benchmark fleet."""
    return Settings(
        home=home, database_url=store_url, broker_url=services.redis, fold_states=fold_states
    )


def fleet_env(
    services: Services, store_url: str, home: Path, fold_states: int = 0
) -> dict[str, str]:
    """The environment of the worker and beat subprocesses."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_HOME": str(home),
        "STEPLINE_DATABASE_URL": store_url,
        "STEPLINE_BROKER_URL": services.redis,
        "STEPLINE_HANDLERS": "benchmarks.handlers",
        "STEPLINE_BENCH_REDIS_URL": services.redis,
        "STEPLINE_LOG_LEVEL": "WARNING",
        "STEPLINE_FOLD_STATES": str(fold_states),
    }


@dataclass
class Processes:
    """Subprocesses started by a benchmark, stopped together."""

    env: dict[str, str]
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, role: str, app: str, *args: str) -> subprocess.Popen[bytes]:
        """Start ``celery -A app <args>`` in its own process group."""
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", app, *args],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,  # the banner; warnings and errors go to stderr
        )
        self.running[role] = process
        return process

    def stop_all(self) -> None:
        """Warm shutdown of each main process; SIGKILL to what is left after 60 s."""
        for role in list(self.running):
            self.kill(role, signal.SIGTERM)

    def kill(self, role: str, how: int = signal.SIGKILL) -> None:
        """Signal the main process (``how``), wait, then SIGKILL the rest of its group.

        SIGTERM to the main process only: sent to the whole group it would also reach the
        pool children, which then die mid-task instead of finishing it.
        """
        process = self.running.pop(role)
        try:
            os.kill(process.pid, how)
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@dataclass
class SteplineFleet:
    """A stepline worker (and beat) with a client on the same store and broker."""

    processes: Processes
    store: Store
    client: Client
    runtime: Runtime
    broker: redis.Redis

    @property
    def worker_pid(self) -> int:
        """The pid of the worker's main process."""
        return self.processes.running["worker"].pid

    def create(self, name: str, definition: dict[str, Any]) -> str:
        """Create a state machine; returns its ARN."""
        response = self.client.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE
        )
        return str(response["stateMachineArn"])

    def start(self, machine_arn: str, payload: Any, name: str | None = None) -> str:
        """Start an execution; returns its ARN."""
        request: dict[str, Any] = {"stateMachineArn": machine_arn, "input": json.dumps(payload)}
        if name:
            request["name"] = name
        return str(self.client.start_execution(**request)["executionArn"])

    def await_done(
        self, execution_arn: str, timeout: float = 600, interval: float = 0.05
    ) -> dict[str, Any]:
        """Poll until the execution leaves RUNNING; returns its description.

        Timings use the ``stopDate`` the worker committed, so the polling interval only
        decides how soon the end is noticed, not what is measured.
        """
        described: dict[str, Any] = await_condition(
            lambda: (
                (d := self.client.describe_execution(executionArn=execution_arn))["status"]
                != "RUNNING"
                and d
            ),
            timeout,
            f"{execution_arn} to finish",
            interval=interval,
        )
        return described

    def queues_empty(self) -> bool:
        """No message waits in any Redis list of this db, and none is unacked."""
        lists = [k for k in self.broker.keys("stepline.*") if self.broker.type(k) == b"list"]
        return all(self.broker.llen(k) == 0 for k in lists) and self.broker.hlen("unacked") == 0


def build_client(config: Settings, store: Store) -> tuple[Client, Runtime]:
    """A durable client publishing through Celery (`engine.connect`), and its runtime."""
    client = connect(config, store=store)
    return client, client.backend.runtime  # type: ignore[attr-defined]


@contextmanager
def stepline_fleet(
    services: Services, store_kind: str, *, beat: bool = True, fold_states: int = 0
) -> Iterator[Any]:
    """A fresh store and Redis db, a worker (prefork -c 2) and beat; yields the fleet.

    ``fold_states``: STEPLINE_FOLD_STATES of the worker and the client (0: the default).
    """
    with tempfile.TemporaryDirectory(prefix="stepline-bench-") as folder:
        home = Path(folder)
        url = services.store_url(store_kind, home)
        if store_kind == "postgres":
            services.recreate_database()
        services.flush_redis()
        upgrade(url)  # as `stepline db upgrade` (the release step) does
        store = Store(make_engine(url))
        settings = celery_settings(services, url, home, fold_states)
        client, runtime = build_client(settings, store)
        processes = Processes(fleet_env(services, url, home, fold_states))
        processes.start("worker", "tasks.app", "worker", *WORKER_ARGS)
        broker = redis.Redis.from_url(services.redis)
        _await_consumer(broker, "stepline.steps")
        if beat:
            schedule = str(home / "beat-schedule")
            processes.start("beat", "tasks.app", "beat", "--loglevel", "WARNING", "-s", schedule)
        try:
            yield SteplineFleet(processes, store, client, runtime, broker)
        finally:
            processes.stop_all()
            store.engine.dispose()
            services.flush_redis()


@contextmanager
def raw_fleet(services: Services, *, flush: bool = True) -> Iterator[tuple[Processes, redis.Redis]]:
    """A raw-Celery worker with stepline's Celery settings (benchmarks.rawapp).

    ``flush=False``: leave the Redis db as it is, before and after (another fleet shares it).
    """
    with tempfile.TemporaryDirectory(prefix="stepline-bench-raw-") as folder:
        if flush:
            services.flush_redis()
        env = fleet_env(services, "", Path(folder))
        processes = Processes(env)
        processes.start("worker", "benchmarks.rawapp", "worker", "-Q", "bench.raw", *WORKER_ARGS)
        broker = redis.Redis.from_url(services.redis)
        _await_consumer(broker, "bench.raw")
        try:
            yield processes, broker
        finally:
            processes.stop_all()
            if flush:
                services.flush_redis()


def _await_consumer(broker: redis.Redis, queue: str) -> None:
    """Wait until a worker has bound ``queue`` (so nothing published now is dropped)."""
    key = f"_kombu.binding.{queue}"
    await_condition(lambda: broker.exists(key), 120, f"a worker consuming {queue}")


def await_condition(
    check: Callable[[], Any], timeout: float, what: str, *, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
