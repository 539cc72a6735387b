"""``stepline run`` and ``stepline start --wait`` show states as they happen, not at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import ROOT, Fleet

pytestmark = [pytest.mark.celery, pytest.mark.slow]

GATE_HANDLERS = '''
import pathlib, time
import engine

@engine.handler("gate")
def gate(event, context):
    """Return once the test opens the gate (a file), a minute at most."""
    deadline = time.monotonic() + 60
    while not pathlib.Path(event["gate"]).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the gate was never opened")
        time.sleep(0.05)
    return {"passed": True}
'''
GATED = {
    "StartAt": "Validate",
    "States": {
        "Validate": {"Type": "Pass", "Next": "Gate"},
        "Gate": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:gate",
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def read_until(stream: object, expected: str, timeout: float = 120) -> list[str]:
    """Lines of ``stream`` up to and including the one equal to ``expected``."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if lines[-1].rstrip() == expected:
            return lines
    raise AssertionError(f"no line {expected!r} in {lines}")


def test_a_durable_run_shows_each_state_while_the_execution_goes_on(tmp_path: Path) -> None:
    # Given the embedded default, and a machine whose Task waits for the test to open a gate
    (tmp_path / "gate_handlers.py").write_text(GATE_HANDLERS)
    machine = tmp_path / "gated.asl.json"
    machine.write_text(json.dumps(GATED))
    gate = tmp_path / "gate-open"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPLINE_")}
    env.update(PYTHONPATH=str(ROOT), STEPLINE_HOME=str(tmp_path / "home"))
    command = [sys.executable, "-m", "engine._cli", "run", str(machine)]
    options = [
        "--input",
        json.dumps({"gate": str(gate)}),
        "--handlers",
        str(tmp_path / "gate_handlers.py"),
    ]
    # When it runs with its stderr on a pipe (not a terminal)
    run = subprocess.Popen(
        [*command, *options],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Then the Task is shown entered while the execution still waits on it
        shown = read_until(run.stderr, "entered  Gate")
        assert run.poll() is None
        assert shown[-3:] == ["entered  Validate", shown[-2], "entered  Gate"]
        assert shown[-2].startswith("exited   Validate")
        # and once the gate opens, its end and the next state follow, then the output
        gate.touch()
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err
    assert json.loads(out) == {"passed": True}
    rest = err.splitlines()
    assert rest[0].startswith("exited   Gate")
    assert rest[1:3] == ["entered  Done", rest[2]]
    assert rest[2].startswith("exited   Done")
    assert rest[3].startswith("execution: arn:aws:states:")


@pytest.mark.redis
@pytest.mark.postgres
def test_start_wait_on_a_fleet_shows_the_states_then_the_output(fleet: Fleet) -> None:
    # Given a fleet serving a machine
    machine = fleet.create(
        "shown",
        {
            "StartAt": "Validate",
            "States": {
                "Validate": {"Type": "Pass", "Next": "Charge"},
                "Charge": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:111111111111:function:fails_until_fixed",
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
                    "End": True,
                },
                "Recover": {"Type": "Pass", "Result": "recovered", "End": True},
            },
        },
    )
    # When `stepline start --wait` starts it (stderr not a terminal)
    started = subprocess.run(
        [sys.executable, "-m", "engine._cli", "start", machine, "--wait"],
        cwd=ROOT,
        env=fleet.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then stdout has the ARN and the output, stderr each state as it went, failure included
    assert started.returncode == 0, started.stderr
    arn, output = started.stdout.split("\n", 1)
    assert arn.startswith("arn:aws:states:")
    assert json.loads(output) == "recovered"
    kinds = [line.split()[:2] for line in started.stderr.splitlines()]
    assert kinds == [
        ["entered", "Validate"],
        ["exited", "Validate"],
        ["entered", "Charge"],
        ["failed", "Charge"],
        ["exited", "Charge"],
        ["entered", "Recover"],
        ["exited", "Recover"],
    ]
    assert "NotFixedYet (LambdaFunctionFailed)" in started.stderr
