"""An idle beat logs nothing per housekeeping round at INFO (it sent ~30-60 lines a minute)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import ROOT

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.slow]


def test_beat_sends_its_housekeeping_without_an_info_line_each_time(
    redis_url: str, tmp_path: Path
) -> None:
    # Given `stepline beat` at INFO, relaying every 0.2 s, and no worker
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "STEPLINE_HOME": str(tmp_path),
        "STEPLINE_BROKER_URL": redis_url,
        "STEPLINE_LOG_LEVEL": "INFO",
        "STEPLINE_RELAY_INTERVAL_SECONDS": "0.2",
    }
    log = tmp_path / "beat.log"
    with log.open("w") as output:
        beat = subprocess.Popen(
            [sys.executable, "-m", "engine._cli", "beat"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # When it has sent ten relay rounds (they wait in the steps queue)
        queue = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 60
        while queue.llen("stepline.steps") < 10:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=20)

    # Then its log says it started, and nothing about each round
    text = log.read_text()
    assert "beat: Starting..." in text
    assert "Sending due task" not in text
    assert "stepline.housekeeping.relay" not in text
