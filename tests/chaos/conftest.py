"""Fixtures of the chaos suite: its own Redis and PostgreSQL, a fresh fleet per run, the report.

The control run (no fault) runs once per session; every fault run is compared with it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from engine._store.migrate import upgrade
from tests.chaos.faults import CONTROL
from tests.chaos.harness import ChaosFleet
from tests.chaos.report import Row, table, write
from tests.chaos.runs import Run, run_wave
from tests.chaos.services import OwnPostgres, OwnRedis, ServiceError, scratch_folder
from tests.conftest import unavailable

ROWS = pytest.StashKey[list[Row]]()
REPORT = pytest.StashKey[Path]()


class Servers:
    """The suite's own Redis and PostgreSQL."""

    def __init__(self, redis_server: OwnRedis, postgres: OwnPostgres) -> None:
        self.redis = redis_server
        self.postgres = postgres


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """A redis-server (appendonly yes) and a PostgreSQL cluster on free ports, for this session."""
    folder = scratch_folder("stepline-chaos-")
    own_redis = OwnRedis(folder / "redis")
    own_postgres = OwnPostgres(folder / "postgres")
    try:
        own_redis.folder.mkdir()
        own_postgres.folder.mkdir()
        own_redis.start()
        own_postgres.start()
    except ServiceError as error:
        own_redis.stop()
        own_postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
        unavailable("the chaos suite's own Redis and PostgreSQL", error)
    try:
        yield Servers(own_redis, own_postgres)
    finally:
        own_redis.stop()
        own_postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


def fresh_fleet(servers: Servers, home: Path) -> ChaosFleet:
    """A started fleet on a new, migrated database and an emptied Redis."""
    url = servers.postgres.create_database(f"chaos_{uuid.uuid4().hex[:10]}")
    upgrade(url)
    client = redis.Redis.from_url(servers.redis.url)
    client.flushall()
    client.close()
    fleet = ChaosFleet.create(servers.redis, servers.postgres, url, home)
    try:
        fleet.start()
    except BaseException:
        fleet.stop()
        raise
    return fleet


@pytest.fixture
def fleet(servers: Servers, tmp_path: Path) -> Iterator[ChaosFleet]:
    """A fresh fleet for one fault run, stopped afterwards."""
    started = fresh_fleet(servers, tmp_path)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def control(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The wave on a fleet nothing disturbs: what every fault run must end like."""
    started = fresh_fleet(servers, tmp_path_factory.mktemp("control"))
    try:
        return run_wave(started, CONTROL)
    finally:
        started.stop()


@pytest.fixture(scope="session")
def report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Row]]:
    """The report's rows; written as JSON after the last run, printed in the summary."""
    rows = request.config.stash.setdefault(ROWS, [])
    yield rows
    request.config.stash[REPORT] = write(rows, tmp_path_factory.getbasetemp())


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the chaos table at the end of the session (with or without ``-s``)."""
    rows = config.stash.get(ROWS, [])
    if not rows:
        return
    terminalreporter.section("chaos suite")
    terminalreporter.write_line(table(rows))
    if REPORT in config.stash:
        terminalreporter.write_line(f"report: {config.stash[REPORT]}")
