"""A ready worker keeps touching its heartbeat file while its store is away.

Liveness must not restart workers because the database is briefly down: the heartbeat
proves the process lives, and ``stepline health store`` says the store is away.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ROOT

pytestmark = [pytest.mark.celery, pytest.mark.redis]

SECRET = "hunter2-liveness"
STEPLINE = [sys.executable, "-m", "engine._cli"]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def await_true(check: Callable[[], Any], timeout: float, what: str, process: Any) -> Any:
    """Poll ``check`` until truthy; fail at once if ``process`` has exited meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        assert process.poll() is None, f"the worker exited ({process.returncode}) before {what}"
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def store_down_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    """A Redis broker that answers, and a store (with a password) that does not."""
    down = closed_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_HOME": str(tmp_path),
        "STEPLINE_BROKER_URL": redis_url,
        "STEPLINE_DATABASE_URL": f"postgresql+psycopg://me:{SECRET}@127.0.0.1:{down}/stepline",
        "STEPLINE_RESULT_BACKEND": f"redis://:{SECRET}@127.0.0.1:{down}/1",
        "STEPLINE_HEARTBEAT_FILE": str(tmp_path / "run" / "worker.beat"),
        "STEPLINE_HANDLERS": "",
    }
    env.pop("STEPLINE_QUEUES", None)
    return env


@pytest.fixture
def worker(store_down_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """``stepline worker`` running on that environment; its output goes to a file."""
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*STEPLINE, "worker", "--pool", "solo", "--without-mingle", "--without-gossip"],
            cwd=ROOT,
            env=store_down_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def stepline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``stepline ARGS`` as a probe would."""
    return subprocess.run(
        [*STEPLINE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_heartbeat_goes_on_while_the_store_is_down_and_no_secret_is_logged(
    worker: tuple[Any, Path], store_down_env: dict[str, str]
) -> None:
    process, log = worker
    beat = Path(store_down_env["STEPLINE_HEARTBEAT_FILE"])
    # Given a worker that became ready while its store does not answer
    await_true(beat.exists, 90, "the first heartbeat", process)
    first = beat.stat().st_mtime_ns
    # When some seconds pass
    # Then the heartbeat file is touched again (the store is not asked)
    await_true(lambda: beat.stat().st_mtime_ns > first, 30, "a second heartbeat", process)
    # And the liveness probe passes while the readiness probe of the store fails
    alive = stepline(store_down_env, "health", "worker", "--max-age", "15")
    assert alive.returncode == 0, alive.stderr
    ready = stepline(store_down_env, "health", "store", "--timeout", "10")
    assert ready.returncode == 1
    assert "me:***@" in ready.stderr
    # And the worker said its store was unreachable, with the password hidden
    said = "cannot connect to the store at postgresql+psycopg://me:***@"
    await_true(lambda: said in log.read_text(errors="replace"), 30, "the store error", process)
    text = log.read_text(errors="replace")
    # And no output of the worker or the probes holds the password
    for output in (text, alive.stdout, alive.stderr, ready.stdout, ready.stderr):
        assert SECRET not in output
