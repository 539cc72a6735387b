"""Several ``stepline run`` in one folder, and Ctrl-C on one (ADR 0036).

Real ``stepline`` processes on the embedded default (SQLite store and broker in
``.stepline/`` of a temp folder), as a user starts them from a shell.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery, pytest.mark.slow]

GATE_HANDLERS = '''
"""A handler that writes started.N and then waits until the file "release" exists."""
import pathlib, time
import engine

@engine.handler("gate")
def gate(event, context):
    pathlib.Path(f"started.{context.attempt}").write_text("")
    while not pathlib.Path("release").exists():
        time.sleep(0.05)
    return {"passed": event["n"]}
'''
GATE_MACHINE = {
    "StartAt": "Gate",
    "States": {
        "Gate": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:111111111111:function:gate",
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "Parameters": {"ok.$": "$.passed"}, "End": True},
    },
}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEPLINE_")}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def _spawn(folder: Path, label: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """``stepline ARGS`` in ``folder``, its output in ``label``.out and ``label``.err there."""
    with (folder / f"{label}.out").open("wb") as out, (folder / f"{label}.err").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "engine._cli", *args],
            cwd=folder,
            env=_env(**env),
            stdout=out,
            stderr=err,
        )


def _stepline(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine._cli", *args],
        cwd=folder,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _output(folder: Path, label: str) -> tuple[str, str]:
    return (folder / f"{label}.out").read_text(), (folder / f"{label}.err").read_text()


def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _status(folder: Path, arn: str) -> str:
    described = _stepline(folder, "describe", arn)
    assert described.returncode == 0, described.stderr
    return str(json.loads(described.stdout)["status"])


def _gate_folder(tmp_path: Path) -> Path:
    (tmp_path / "gate_handlers.py").write_text(GATE_HANDLERS)
    (tmp_path / "gate.asl.json").write_text(json.dumps(GATE_MACHINE))
    return tmp_path


def _run_gate(folder: Path, n: int, **env: str) -> subprocess.Popen[bytes]:
    arguments = ["run", "gate.asl.json", "--input", json.dumps({"n": n})]
    return _spawn(folder, "run", *arguments, "--handlers", "gate_handlers.py", **env)


def _resume_command(stderr: str) -> list[str]:
    """The advice's ``stepline resume ...`` line, as arguments of this interpreter's CLI."""
    match = re.search(r"continue it: stepline (resume .+)", stderr)
    assert match is not None, stderr
    return shlex.split(match.group(1))


def test_three_runs_started_together_in_one_folder_all_succeed(tmp_path: Path) -> None:
    # Given a fresh folder with the order example (no .stepline/ yet)
    for name in ("order_processing.asl.json", "order_input.json", "order_handlers.py"):
        (tmp_path / name).write_bytes((ROOT / "examples" / name).read_bytes())
    # When three `stepline run` start at once there
    arguments = ["run", "order_processing.asl.json", "--input", "@order_input.json"]
    runs = [
        _spawn(tmp_path, f"run{i}", *arguments, "--handlers", "order_handlers.py") for i in range(3)
    ]
    codes = [run.wait(timeout=240) for run in runs]
    # Then each exits 0 with its order shipped, and each execution is its own
    outputs = [_output(tmp_path, f"run{i}") for i in range(3)]
    assert codes == [0, 0, 0], [err for _, err in outputs]
    assert [json.loads(out)["status"] for out, _ in outputs] == ["SHIPPED"] * 3
    arns = {re.search(r"execution: (\S+)", err).group(1) for _, err in outputs}  # type: ignore[union-attr]
    assert len(arns) == 3
    listed = _stepline(tmp_path, "list", "--status", "SUCCEEDED")
    assert all(arn in listed.stdout for arn in arns)


def test_ctrl_c_leaves_the_execution_running_and_resume_completes_it(tmp_path: Path) -> None:
    # Given a run whose handler is running (it waits for the test's "release" file)
    folder = _gate_folder(tmp_path)
    run = _run_gate(folder, 7)
    _until(lambda: (folder / "started.0").exists())
    # When Ctrl-C reaches it, and the running handler then returns
    run.send_signal(signal.SIGINT)
    _until(lambda: "finishing the tasks" in _output(folder, "run")[1])
    (folder / "release").touch()
    code = run.wait(timeout=60)
    # Then it exits 130 saying the execution is left RUNNING and how to continue or stop it
    _, stderr = _output(folder, "run")
    assert code == 130, stderr
    arn = re.search(r"execution (\S+) is left RUNNING in \.stepline/", stderr)
    assert arn is not None, stderr
    assert f"stop it:     stepline stop {arn.group(1)}" in stderr
    assert _status(folder, arn.group(1)) == "RUNNING"

    # When the advised resume command runs
    resumed = _stepline(folder, *_resume_command(stderr))
    # Then it serves the execution to its end and prints the output like `run`
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"ok": 7}
    assert _status(folder, arn.group(1)) == "SUCCEEDED"
    assert not (folder / "started.1").exists()  # the handler ran once: it finished on Ctrl-C


def test_a_second_ctrl_c_exits_at_once_and_resume_runs_the_abandoned_task_again(
    tmp_path: Path,
) -> None:
    # Given a run whose handler blocks, and claims that lapse after 2 s unless renewed
    folder = _gate_folder(tmp_path)
    run = _run_gate(folder, 8, STEPLINE_CLAIM_SECONDS="2")
    _until(lambda: (folder / "started.0").exists())
    # When Ctrl-C comes twice while the handler still blocks
    run.send_signal(signal.SIGINT)
    _until(lambda: "finishing the tasks" in _output(folder, "run")[1])
    run.send_signal(signal.SIGINT)
    code = run.wait(timeout=30)
    # Then it exits 130 at once with the advice, the execution still RUNNING
    _, stderr = _output(folder, "run")
    assert code == 130, stderr
    assert "is left RUNNING" in stderr
    # And a resume without the handlers says it would wait for them; SIGTERM ends it (143)
    arn = _resume_command(stderr)[1]
    bare = _spawn(folder, "bare", "resume", arn)
    _until(lambda: "no handler loaded here serves" in _output(folder, "bare")[1])
    bare.send_signal(signal.SIGTERM)
    assert bare.wait(timeout=60) == 143, _output(folder, "bare")[1]
    assert "stepline.fn.gate: pass the --handlers" in _output(folder, "bare")[1]
    (folder / "release").touch()
    # And the resume runs the abandoned task again and completes the execution
    resumed = subprocess.run(
        [sys.executable, "-m", "engine._cli", *_resume_command(stderr)],
        cwd=folder,
        env=_env(STEPLINE_CLAIM_SECONDS="2"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"ok": 8}
    assert "message(s) sent again" in resumed.stderr


def test_a_worker_that_dies_while_starting_is_reported_at_once_with_its_cause(
    tmp_path: Path,
) -> None:
    import sqlite3

    from config.settings import Settings
    from tasks.app import create_app
    from tasks.embedded import EmbeddedWorkerFailed, embedded_worker

    # Given an embedded broker whose queue table refuses every new queue
    app = create_app(Settings(home=tmp_path))
    with sqlite3.connect(tmp_path / "broker.db") as broker:
        broker.executescript(
            "CREATE TABLE kombu_queue (id INTEGER PRIMARY KEY, name VARCHAR(200) UNIQUE);"
            "CREATE TRIGGER refuse BEFORE INSERT ON kombu_queue "
            "BEGIN SELECT RAISE(ABORT, 'no new queues'); END;"
        )
    # When an embedded worker starts on it (its consumer dies declaring its queue)
    started = time.monotonic()
    with (
        pytest.raises(EmbeddedWorkerFailed, match=r"could not start: .*no new queues"),
        embedded_worker(app, ["stepline.test-refused"]),
    ):
        pass
    # Then the cause is raised as soon as the worker died, not after the start timeout
    assert time.monotonic() - started < 30
