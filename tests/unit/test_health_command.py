"""``stepline health``: exit 0 when the part answers, else 1 and one line without secrets."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from config.settings import Settings
from engine._cli import CliSeams, main
from engine._cli.health_command import _within
from engine._wire import WireProtocol, create_app
from tasks.liveness import Heartbeat
from tests.unit.wire.conftest import local_client
from tests.wire_server import serving

SECRET = "hunter2-health"


def health(settings: Settings, *args: str) -> Result:
    """Run ``stepline health ARGS`` in-process on ``settings``."""
    return CliRunner().invoke(main, ["health", *args], obj=CliSeams(settings=settings))


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_one_line_failure(result: Result, *expected: str) -> None:
    """Exit 1, one line on stderr naming ``expected``, and no secret anywhere."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]
    assert SECRET not in result.output
    assert "Traceback" not in result.output


# --- store -------------------------------------------------------------------------------


def test_health_store_of_the_embedded_store_is_ok(tmp_path: Path) -> None:
    # Given the embedded SQLite store
    settings = Settings(home=tmp_path)
    # When its health is checked
    result = health(settings, "store")
    # Then it answers
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: store at sqlite:///")


def test_health_store_that_does_not_answer_is_one_line_without_the_password() -> None:
    # Given a PostgreSQL URL with a password, where no server listens
    url = f"postgresql+psycopg://me:{SECRET}@127.0.0.1:{closed_port()}/stepline"
    # When the store's health is checked
    result = health(Settings(database_url=url), "store", "--timeout", "10")
    # Then one line names the store (password hidden) and the driver's reason
    assert_one_line_failure(result, "stepline health store: postgresql+psycopg://me:***@")
    assert "refused" in result.stderr


def test_a_check_that_hangs_is_reported_at_the_deadline() -> None:
    # Given a check that never returns by itself
    release = threading.Event()

    def hang() -> None:
        release.wait()

    # When it is run with a short deadline
    started = time.monotonic()
    problem = _within(0.2, hang)
    release.set()
    # Then the deadline, not the check, ends the wait
    assert problem == "no answer within 0.2s"
    assert time.monotonic() - started < 5


# --- broker ------------------------------------------------------------------------------


def test_health_broker_of_the_embedded_broker_is_ok(tmp_path: Path) -> None:
    # Given the embedded SQLite broker
    settings = Settings(home=tmp_path)
    # When its health is checked
    result = health(settings, "broker")
    # Then it answers
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: broker at sqla+sqlite:///")


def test_health_broker_that_does_not_answer_is_one_line_without_the_password(
    tmp_path: Path,
) -> None:
    # Given a Redis URL with a password, where no server listens
    url = f"redis://:{SECRET}@127.0.0.1:{closed_port()}/0"
    # When the broker's health is checked
    result = health(Settings(home=tmp_path, broker_url=url), "broker")
    # Then one line names the broker (password hidden) and the reason
    assert_one_line_failure(result, "stepline health broker: redis://:***@127.0.0.1:")


# --- api ---------------------------------------------------------------------------------


@pytest.fixture
def api_url() -> Iterator[str]:
    """A `stepline serve` app on a local client."""
    with serving(create_app(WireProtocol(local_client()))) as url:
        yield url


def test_health_api_of_a_serving_server_is_ok(api_url: str) -> None:
    # Given `stepline serve`'s app listening
    # When its health is checked
    result = health(Settings(), "api", "--url", api_url)
    # Then GET /health answered 200
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"ok: api at {api_url}/health"


def test_health_api_where_nothing_listens_fails_in_one_line() -> None:
    # Given a URL where nothing listens
    url = f"http://127.0.0.1:{closed_port()}"
    # When the API's health is checked
    result = health(Settings(), "api", "--url", url)
    # Then one line says the connection was refused
    assert_one_line_failure(result, f"stepline health api: {url}/health", "refused")


# --- worker (the heartbeat file) -----------------------------------------------------------


def test_health_worker_accepts_a_fresh_heartbeat(tmp_path: Path) -> None:
    # Given a heartbeat file the worker's heartbeat just touched
    beat = tmp_path / "run" / "worker.beat"
    Heartbeat(beat).beat()
    # When the worker's health is checked with the setting naming that file
    result = health(Settings(heartbeat_file=str(beat)), "worker", "--max-age", "30")
    # Then it is alive
    assert result.exit_code == 0, result.output


def test_health_worker_refuses_a_stale_heartbeat(tmp_path: Path) -> None:
    # Given a heartbeat file last touched two minutes ago
    beat = tmp_path / "worker.beat"
    beat.touch()
    old = time.time() - 120
    os.utime(beat, (old, old))
    # When the worker's health is checked with --max-age 30
    result = health(Settings(), "worker", "--file", str(beat), "--max-age", "30")
    # Then one line says how old the heartbeat is
    assert_one_line_failure(result, "last heartbeat 120s ago, more than --max-age 30s")


def test_health_worker_without_a_heartbeat_yet_fails(tmp_path: Path) -> None:
    # Given a heartbeat file that does not exist (the worker is not ready)
    # When the worker's health is checked
    result = health(Settings(heartbeat_file=str(tmp_path / "none.beat")), "worker")
    # Then it fails, saying there is no heartbeat yet
    assert_one_line_failure(result, "no heartbeat yet")


def test_health_worker_without_a_heartbeat_file_setting_is_a_usage_error() -> None:
    # Given no STEPLINE_HEARTBEAT_FILE and no --file
    # When the worker's health is checked
    result = health(Settings(heartbeat_file=""), "worker")
    # Then it is a usage error naming the setting
    assert result.exit_code == 2
    assert "STEPLINE_HEARTBEAT_FILE" in result.stderr


def test_a_heartbeat_that_cannot_write_logs_and_keeps_going(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a heartbeat file whose folder is a file (it can never be written)
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    # When the heartbeat beats
    Heartbeat(blocker / "worker.beat").beat()
    # Then it logged a warning instead of raising (the file ages; the probe says so)
    assert "could not touch the heartbeat file" in caplog.text
