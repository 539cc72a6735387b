"""Passwords in the settings never reach a log line or an error, whatever the process does.

Every URL here holds a password and points at a port where nothing listens, so each
command has to report a failure -- the moment a URL is most likely to be printed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT

pytestmark = [pytest.mark.celery, pytest.mark.slow]

SECRET = "hunter2-no-leak"
STEPLINE = [sys.executable, "-m", "engine._cli"]
PASS = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def secret_env(tmp_path: Path) -> dict[str, str]:
    """Settings whose every credential is SECRET, on servers that do not answer."""
    down = closed_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_HOME": str(tmp_path),
        "STEPLINE_DATABASE_URL": f"postgresql+psycopg://me:{SECRET}@127.0.0.1:{down}/stepline",
        "STEPLINE_BROKER_URL": f"redis://:{SECRET}@127.0.0.1:{down}/0",
        "STEPLINE_RESULT_BACKEND": f"redis://:{SECRET}@127.0.0.1:{down}/1",
        "STEPLINE_ACCESS_KEYS": f"AKIDNOLEAK:{SECRET}",
        "STEPLINE_FLOWER_BASIC_AUTH": f"admin:{SECRET}",
        "STEPLINE_FLOWER_PORT": str(closed_port()),
        "STEPLINE_HANDLERS": "",
    }
    env.pop("STEPLINE_QUEUES", None)
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``stepline ARGS`` to its end (a minute at most)."""
    return subprocess.run(
        [*STEPLINE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["describe", "arn:aws:states:us-east-1:111111111111:execution:m:e"],
        ["db", "upgrade"],
        ["db", "current"],
        ["serve"],
        ["health", "store"],
        ["health", "broker"],
    ],
    ids=" ".join,
)
def test_a_command_that_cannot_reach_its_servers_prints_no_password(
    secret_env: dict[str, str], args: list[str]
) -> None:
    # Given settings whose store and broker URLs hold a password and do not answer
    # When the command runs
    finished = run(secret_env, *args)
    # Then it fails, and neither stdout nor stderr holds the password
    assert finished.returncode != 0, finished.stdout
    assert SECRET not in finished.stdout + finished.stderr


def test_start_with_the_broker_down_prints_no_password(
    secret_env: dict[str, str], tmp_path: Path
) -> None:
    # Given the embedded store holding a machine, and a broker URL with a password, down
    env = {**secret_env, "STEPLINE_DATABASE_URL": ""}
    machine = tmp_path / "m.json"
    machine.write_text(PASS)
    assert run(env, "create", "m", str(machine)).returncode == 0
    # When an execution is started
    started = run(env, "start", "m")
    # Then it is stored, and the line about the broker hides the password
    assert started.returncode == 0, started.stderr
    assert "redis://:***@127.0.0.1:" in started.stderr
    assert SECRET not in started.stdout + started.stderr


@pytest.mark.parametrize(
    ("args", "failing"),
    [
        (["worker", "--pool", "solo"], "Cannot connect to redis://:**@"),
        (["beat"], "beat: Connection error"),
        (["flower"], "Broker: redis://:**@"),
    ],
    ids=["worker", "beat", "flower"],
)
def test_a_fleet_process_retrying_its_broker_logs_no_password(
    secret_env: dict[str, str], tmp_path: Path, args: list[str], failing: str
) -> None:
    # Given a fleet process whose broker does not answer
    log = tmp_path / "process.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*STEPLINE, *args],
            cwd=ROOT,
            env=secret_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # When it has logged its banner and its failure to connect
        deadline = time.monotonic() + 60
        while failing not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, f"no {failing!r} within 60s"
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    # Then no line of its output holds the password
    assert SECRET not in log.read_text(errors="replace")
