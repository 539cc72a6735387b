"""A worker whose handler modules cannot be imported stops at start, naming the module.

Before, Celery swallowed the import error raised in a signal receiver: the worker said
"ready", served the steps queue alone, and every Task waited for a handler nobody served.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT

pytestmark = [pytest.mark.celery]

CELERY = [sys.executable, "-m", "celery", "-A", "tasks.app", "worker"]
STEPLINE = [sys.executable, "-m", "engine._cli", "worker"]
WORKER_OPTIONS = ["--pool", "prefork", "--concurrency", "1", "--without-mingle", "--without-gossip"]


def start_worker(command: list[str], handlers: str, home: Path) -> subprocess.CompletedProcess[str]:
    """Run a worker on the embedded default (no servers) until it exits; at most a minute."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(home)]),
        "STEPLINE_HOME": str(home),
        "STEPLINE_HANDLERS": handlers,
    }
    for name in ("STEPLINE_DATABASE_URL", "STEPLINE_BROKER_URL", "STEPLINE_QUEUES"):
        env.pop(name, None)
    return subprocess.run(
        [*command, *WORKER_OPTIONS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a worker that started serving would never exit: fail, not hang
        check=False,
    )


@pytest.mark.parametrize("command", [CELERY, STEPLINE], ids=["celery-worker", "stepline-worker"])
def test_a_worker_whose_handler_module_does_not_exist_exits_non_zero_naming_it(
    command: list[str], tmp_path: Path
) -> None:
    # Given STEPLINE_HANDLERS naming a module that does not exist
    # When a worker starts
    finished = start_worker(command, "a_module_that_does_not_exist", tmp_path)
    # Then it exits non-zero at once, and stderr names the module and the setting
    assert finished.returncode == 2, finished.stderr
    assert "a_module_that_does_not_exist" in finished.stderr
    assert "STEPLINE_HANDLERS" in finished.stderr
    assert " ready." not in finished.stderr


@pytest.mark.parametrize("command", [CELERY, STEPLINE], ids=["celery-worker", "stepline-worker"])
def test_a_worker_whose_handler_module_raises_on_import_exits_non_zero_with_the_error(
    command: list[str], tmp_path: Path
) -> None:
    # Given a handler module that raises while it is imported
    module = tmp_path / "exploding_handlers.py"
    module.write_text("import engine\n\nraise RuntimeError('no PAYMENTS_API_URL set')\n")
    # When a worker starts with it
    finished = start_worker(command, "exploding_handlers", tmp_path)
    # Then it exits non-zero, and stderr names the module, the error and where it was raised
    assert finished.returncode == 2, finished.stderr
    assert "'exploding_handlers' raised RuntimeError: no PAYMENTS_API_URL set" in finished.stderr
    assert f"{module}, line 3" in finished.stderr
