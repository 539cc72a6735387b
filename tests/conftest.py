"""Shared fixtures: real PostgreSQL and Redis, and a migrated store on SQLite and PostgreSQL.

Locally a missing service skips the tests that need it; with ``CI=true`` it fails them
instead, because CI must prove the integration paths. The servers default to the local
ones (``STEPLINE_TEST_POSTGRES``, ``STEPLINE_TEST_REDIS`` point elsewhere).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest
import redis
from hypothesis import HealthCheck, settings

from engine._store.db import make_engine
from engine._store.migrate import upgrade
from engine._store.repository import Store

# Properties are about values, not speed: a busy 2-core machine must not fail them on time.
settings.register_profile(
    "stepline", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False
)
settings.load_profile("stepline")

POSTGRES_SERVER = os.environ.get("STEPLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REDIS_SERVER = os.environ.get("STEPLINE_TEST_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("STEPLINE_TEST_REDIS_DB", "15"))  # flushed around every test
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def unavailable(service: str, error: BaseException) -> NoReturn:
    """Skip the test, or fail it under ``CI=true``: CI must not skip integration tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{service} is required in CI: {error}")
    pytest.skip(f"{service} is unreachable, so this test is skipped: {error}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (SQLAlchemy URL), dropped after the test."""
    name = f"stepline_test_{uuid.uuid4().hex[:12]}"
    try:
        with _postgres_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        unavailable("PostgreSQL", error)
    try:
        yield f"{POSTGRES_SERVER.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with _postgres_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_admin() -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the maintenance database (CREATE/DROP DATABASE need autocommit)."""
    return psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=3)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of its own (index 15), flushed before and after the test."""
    url = f"{REDIS_SERVER}/{REDIS_DB}"
    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as error:
        unavailable("Redis", error)
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a temp-file SQLite, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A `Store` on a database migrated to head, on SQLite and on PostgreSQL."""
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield Store(engine)
    finally:
        engine.dispose()
