"""The embedded default, as a new user meets it: ``stepline run`` with no configuration runs
durably on SQLite files (store and broker) with an in-process Celery worker, and the history
can be read afterwards with ``stepline history``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery, pytest.mark.slow]


def stepline(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPLINE_")}
    env["STEPLINE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "engine._cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_order_example_runs_on_the_embedded_default_and_its_history_stays(
    tmp_path: Path,
) -> None:
    # Given no configuration at all (no Redis, no PostgreSQL: SQLite files in STEPLINE_HOME)
    # When the README's example runs
    ran = stepline(
        tmp_path,
        "run",
        "examples/order_processing.asl.json",
        "--input",
        "@examples/order_input.json",
        "--handlers",
        "examples/order_handlers.py",
    )
    # Then it succeeds with the order shipped
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "SHIPPED"
    assert (tmp_path / "stepline.db").exists()
    assert (tmp_path / "broker.db").exists()
    arn = re.search(r"execution: (\S+)", ran.stderr)
    assert arn is not None, ran.stderr

    # When its history is read later, by another process
    history = stepline(tmp_path, "history", arn.group(1))
    # Then the whole run is there, retry included, ending in success
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert "ExecutionStarted" in lines[0]
    assert "ExecutionSucceeded" in lines[-1]
    assert sum("LambdaFunctionFailed" in line for line in lines) == 1  # the retried charge

    # And the execution is listed
    listed = stepline(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert "SUCCEEDED" in listed.stdout
    assert arn.group(1) in listed.stdout
