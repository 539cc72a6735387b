"""The ``stepline`` command: validate and run (local mode), their output and exit codes."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from config.settings import Settings
from engine._cli import CliSeams, history_lines, main
from engine._clock import FakeClock
from tests.unit.interpreter.support import T0

Json = Any
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
ECHO = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Bad.Thing", "Cause": "why"}}}
HISTORY_LINE = re.compile(r"^ *\d+  [A-Za-z]+ +\S+ +\{.*\}$")


def lambda_task(name: str, **extra: Json) -> dict[str, Json]:
    """A one-state machine calling handler ``name`` through its Lambda ARN."""
    resource = f"arn:aws:lambda:us-east-1:111111111111:function:{name}"
    return {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": resource, "End": True, **extra}},
    }


def invoke(*args: str | Path, clock: FakeClock | None = None) -> Result:
    """Run ``stepline ARGS`` in-process on a fake clock (``run`` with ``--local``: the durable
    default is proven by tests/integration/test_cli_durable.py)."""
    seams = CliSeams(clock=clock or FakeClock(T0))
    argv = [str(a) for a in args]
    if argv[:1] == ["run"]:
        argv.insert(1, "--local")
    return CliRunner().invoke(main, argv, obj=seams)


def write(path: Path, content: Json) -> Path:
    """``content`` written to ``path`` (JSON unless it is already text)."""
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def assert_no_traceback(result: Result) -> None:
    """The command ended through its exit code, not through an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


@pytest.fixture
def handler_module(tmp_path: Path) -> Path:
    """A handler file registering ``cli_test_double`` and ``cli_test_boom``."""
    source = (
        "import engine\n\n"
        "@engine.handler('cli_test_double')\n"
        "def double(event, context):\n"
        "    return {'value': event['value'] * 2, 'attempt': context.attempt}\n\n"
        "@engine.handler('cli_test_boom')\n"
        "def boom(event, context):\n"
        "    raise ValueError('boom: ' + str(event['value']))\n"
    )
    return write(tmp_path / "cli_handlers.py", source)


# --- validate ---------------------------------------------------------------------------


def test_validate_prints_ok_for_a_valid_json_file_and_exits_0(tmp_path: Path) -> None:
    # Given a valid definition
    path = write(tmp_path / "pass.asl.json", PASS)

    # When it is validated
    result = invoke("validate", path)

    # Then the file is reported OK
    assert result.exit_code == 0
    assert result.output == f"{path}: OK\n"


def test_validate_reads_yaml_files(tmp_path: Path) -> None:
    # Given a valid definition written in YAML
    path = write(
        tmp_path / "pass.asl.yaml", "StartAt: P\nStates:\n  P:\n    Type: Pass\n    End: true\n"
    )

    # When it is validated
    result = invoke("validate", path)

    # Then it is OK
    assert result.exit_code == 0
    assert result.output == f"{path}: OK\n"


def test_validate_reports_every_problem_with_its_json_pointer_and_exits_1(tmp_path: Path) -> None:
    # Given a definition with an unknown state type and a dangling Next
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Bogus"}, "B": {"Type": "Pass", "Next": "Nowhere"}},
    }
    path = write(tmp_path / "bad.asl.json", definition)

    # When it is validated
    result = invoke("validate", path)

    # Then every problem is listed as FILE:/pointer: message
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(f"{path}:/States/A/Type: ") and "Bogus" in line for line in lines)
    assert any(line.startswith(f"{path}:/States/B/Next: ") and "Nowhere" in line for line in lines)
    assert all(line.startswith(f"{path}:/") for line in lines)
    assert_no_traceback(result)


def test_validate_checks_every_file_and_fails_if_any_is_invalid(tmp_path: Path) -> None:
    # Given one valid and one invalid file
    good = write(tmp_path / "good.json", PASS)
    bad = write(tmp_path / "bad.json", {"StartAt": "Missing", "States": PASS["States"]})

    # When both are validated
    result = invoke("validate", good, bad)

    # Then the good one is OK, the bad one's problem is listed, and the exit code is 1
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{good}: OK"
    assert result.output.splitlines()[1].startswith(f"{bad}:/StartAt: ")


def test_validate_reports_malformed_json_with_line_and_column(tmp_path: Path) -> None:
    # Given JSON missing a comma on line 3
    path = write(
        tmp_path / "broken.json",
        '{"StartAt": "A",\n "States": {\n  "A": {"Type": "Pass" "End": true}}}',
    )

    # When it is validated
    result = invoke("validate", path)

    # Then one clear line names the file, the problem and where it is
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:/: Invalid JSON: ")
    assert "(line 3, column 24)" in result.output
    assert_no_traceback(result)


def test_validate_reports_malformed_yaml_with_line_and_column(tmp_path: Path) -> None:
    # Given YAML whose flow mapping is never closed
    path = write(tmp_path / "broken.yaml", "StartAt: A\nStates:\n  A: {Type: Pass, End: true\n")

    # When it is validated
    result = invoke("validate", path)

    # Then the YAML error is reported with its position
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:/: Invalid YAML: ")
    assert re.search(r"\(line \d+, column \d+\)", result.output)
    assert_no_traceback(result)


def test_validate_reports_a_file_that_is_not_utf8_as_invalid(tmp_path: Path) -> None:
    # Given a file starting with a byte UTF-8 cannot start a character with
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff{}")

    # When it is validated
    result = invoke("validate", path)

    # Then it is invalid, with the byte named
    assert result.exit_code == 1
    assert result.output == f"{path}:/: expected UTF-8 text, got byte 0xff at offset 0\n"


def test_validate_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    # Given a path that does not exist
    missing = tmp_path / "missing.json"

    # When it is validated
    result = invoke("validate", missing)

    # Then click reports a usage error naming the file
    assert result.exit_code == 2
    assert "missing.json" in result.output
    assert "does not exist" in result.output


def test_validate_without_files_is_a_usage_error() -> None:
    # When validate is called with no file
    result = invoke("validate")

    # Then it is a usage error
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_validate_as_express_refuses_what_express_machines_cannot_do(tmp_path: Path) -> None:
    # Given a callback task, which only Standard machines support
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}
    task |= {"Parameters": {"FunctionName": "f"}, "End": True}
    path = write(tmp_path / "callback.json", {"StartAt": "T", "States": {"T": task}})

    # When it is validated as STANDARD and as EXPRESS
    standard = invoke("validate", path)
    express = invoke("validate", "--type", "EXPRESS", path)

    # Then only the EXPRESS validation fails, at the Resource
    assert standard.exit_code == 0
    assert express.exit_code == 1
    assert express.output.startswith(f"{path}:/States/T/Resource: ")


# --- run: success and failure -----------------------------------------------------------


def test_run_prints_the_output_as_pretty_json_and_exits_0(tmp_path: Path) -> None:
    # Given a machine that returns {"ok": true}
    path = write(tmp_path / "pass.asl.json", PASS)

    # When it runs
    result = invoke("run", path)

    # Then the output is printed, indented, and nothing else
    assert result.exit_code == 0
    assert result.stdout == '{\n  "ok": true\n}\n'
    assert result.stderr == ""


def test_run_passes_input_given_as_json_text(tmp_path: Path) -> None:
    # Given a machine echoing its input
    path = write(tmp_path / "echo.json", ECHO)

    # When it runs with --input JSON
    result = invoke("run", path, "--input", '{"a": [1, 2]}')

    # Then the input comes back
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"a": [1, 2]}


def test_run_reads_input_from_a_file_given_with_at(tmp_path: Path) -> None:
    # Given a machine echoing its input and an input file
    path = write(tmp_path / "echo.json", ECHO)
    data = write(tmp_path / "input.json", {"from": "file"})

    # When it runs with --input @path
    result = invoke("run", path, "--input", f"@{data}")

    # Then the file's content was the input
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"from": "file"}


def test_run_without_input_starts_with_an_empty_object(tmp_path: Path) -> None:
    # Given a machine echoing its input
    path = write(tmp_path / "echo.json", ECHO)

    # When it runs without --input
    result = invoke("run", path)

    # Then the input was {}
    assert json.loads(result.stdout) == {}


def test_run_of_a_yaml_definition(tmp_path: Path) -> None:
    # Given a YAML machine using an intrinsic function
    text = (
        "StartAt: Greet\nStates:\n  Greet:\n    Type: Pass\n    Parameters:\n"
        "      greeting.$: States.Format('Hi {}', $.name)\n    End: true\n"
    )
    path = write(tmp_path / "greet.asl.yaml", text)

    # When it runs
    result = invoke("run", path, "--input", '{"name": "Ada"}')

    # Then the intrinsic was evaluated
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"greeting": "Hi Ada"}


def test_run_of_a_failing_execution_prints_error_and_cause_on_stderr_and_exits_1(
    tmp_path: Path,
) -> None:
    # Given a machine that fails
    path = write(tmp_path / "fail.json", FAIL)

    # When it runs
    result = invoke("run", path)

    # Then the status, error and cause go to stderr; nothing to stdout
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "status: FAILED\nerror: Bad.Thing\ncause: why\n"


def test_run_names_the_execution_with_name(tmp_path: Path) -> None:
    # Given a machine returning its execution's name
    parameters = {"name.$": "$$.Execution.Name"}
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": parameters, "End": True}},
    }
    path = write(tmp_path / "named.json", machine)

    # When it runs with --name
    result = invoke("run", path, "--name", "my-run-1")

    # Then the execution had that name
    assert json.loads(result.stdout) == {"name": "my-run-1"}


def test_run_refuses_an_invalid_execution_name_as_a_usage_error(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When it runs with a name holding a slash
    result = invoke("run", path, "--name", "bad/name")

    # Then it is a usage error naming the problem
    assert result.exit_code == 2
    assert "InvalidName" in result.stderr
    assert "'bad/name'" in result.stderr
    assert_no_traceback(result)


def test_run_refuses_an_empty_execution_name_as_a_usage_error(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When it runs with an empty --name
    result = invoke("run", path, "--name", "")

    # Then it is a usage error on --name, in one line, not a traceback
    assert result.exit_code == 2
    assert "Invalid value for '--name': must not be empty" in result.stderr
    assert_no_traceback(result)


def test_run_as_express(tmp_path: Path) -> None:
    # Given a machine returning its execution id
    parameters = {"id.$": "$$.Execution.Id"}
    machine = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": parameters, "End": True}},
    }
    path = write(tmp_path / "express.json", machine)

    # When it runs as EXPRESS
    result = invoke("run", path, "--type", "EXPRESS")

    # Then it ran as an Express execution
    assert result.exit_code == 0
    assert json.loads(result.stdout)["id"].startswith(
        "arn:aws:states:us-east-1:111111111111:express:"
    )


def test_run_waits_on_the_injected_clock(tmp_path: Path) -> None:
    # Given an hour-long Wait and a fake clock
    machine = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    path = write(tmp_path / "wait.json", machine)
    clock = FakeClock(T0)

    # When it runs on that clock
    result = invoke("run", path, clock=clock)

    # Then it succeeded, and the hour passed on the fake clock only
    assert result.exit_code == 0
    assert clock.now() == T0 + timedelta(hours=1)


def test_run_reports_an_execution_left_waiting_for_a_callback(
    tmp_path: Path, handler_module: Path
) -> None:
    # Given a callback task whose handler never calls back
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}
    task |= {"Parameters": {"FunctionName": "cli_test_double", "Payload": {"value": 1}}}
    path = write(
        tmp_path / "callback.json", {"StartAt": "T", "States": {"T": task | {"End": True}}}
    )

    # When it runs
    result = invoke("run", path, "--handlers", handler_module)

    # Then the command says why it cannot finish and exits 1
    assert result.exit_code == 1
    assert result.stderr.startswith("status: RUNNING (waiting for a task token callback")


# --- run: handlers ----------------------------------------------------------------------


def test_run_calls_handlers_registered_by_a_py_file(tmp_path: Path, handler_module: Path) -> None:
    # Given a Lambda task and a handler file
    path = write(tmp_path / "double.json", lambda_task("cli_test_double"))

    # When it runs with --handlers FILE.py
    result = invoke("run", path, "--input", '{"value": 21}', "--handlers", handler_module)

    # Then the handler's result is the output
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"value": 42, "attempt": 0}


def test_run_imports_handlers_by_dotted_module_name_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a package in the current directory that registers a handler
    package = tmp_path / "cli_test_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = "import engine\nengine.handler('cli_test_triple')(lambda e, c: e * 3)\n"
    write(package / "handlers.py", source)
    path = write(tmp_path / "triple.json", lambda_task("cli_test_triple"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))

    # When it runs with --handlers package.module
    result = invoke("run", path, "--input", "5", "--handlers", "cli_test_pkg.handlers")

    # Then the handler was found
    assert result.exit_code == 0
    assert json.loads(result.stdout) == 15


def test_run_of_a_raising_handler_reports_its_exception_as_the_error(
    tmp_path: Path, handler_module: Path
) -> None:
    # Given a Lambda task whose handler raises ValueError
    path = write(tmp_path / "boom.json", lambda_task("cli_test_boom"))

    # When it runs
    result = invoke("run", path, "--input", '{"value": 7}', "--handlers", handler_module)

    # Then the execution failed with Lambda's error envelope as the cause
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[:2] == ["status: FAILED", "error: ValueError"]
    cause = json.loads(lines[2].removeprefix("cause: "))
    assert cause["errorType"] == "ValueError"
    assert cause["errorMessage"] == "boom: 7"
    assert_no_traceback(result)


def test_run_of_an_unregistered_handler_fails_like_a_missing_lambda(tmp_path: Path) -> None:
    # Given a Lambda task naming a function nobody registered
    path = write(tmp_path / "ghost.json", lambda_task("cli_test_ghost"))

    # When it runs
    result = invoke("run", path)

    # Then the task failed as AWS fails it
    assert result.exit_code == 1
    assert "error: Lambda.ResourceNotFoundException" in result.stderr


def test_run_with_a_missing_handler_module_is_a_usage_error(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When --handlers names a module that does not exist
    result = invoke("run", path, "--handlers", "cli_test_no_such.module")

    # Then one line says what was expected and what was received
    assert result.exit_code == 2
    assert "expected a dotted module name" in result.stderr
    assert "'cli_test_no_such.module'" in result.stderr
    assert_no_traceback(result)


def test_run_with_a_missing_handler_file_is_a_usage_error(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When --handlers names a .py file that does not exist
    result = invoke("run", path, "--handlers", tmp_path / "nope.py")

    # Then the missing file is named
    assert result.exit_code == 2
    assert "no such file" in result.stderr
    assert "nope.py" in result.stderr


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import cli_test_not_installed\n", "ModuleNotFoundError: No module named"),
        ("def broken(:\n", "SyntaxError: invalid syntax"),
        ("raise RuntimeError('no config')\n", "RuntimeError: no config"),
    ],
)
def test_run_with_a_handler_module_that_fails_to_import_names_the_error_and_line(
    tmp_path: Path, source: str, expected: str
) -> None:
    # Given a handler file that cannot be imported
    module = write(tmp_path / "cli_broken_handlers.py", source)
    path = write(tmp_path / "pass.json", PASS)

    # When it is used
    result = invoke("run", path, "--handlers", module)

    # Then the error names the exception, the file and the line; no traceback
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "cli_broken_handlers.py, line 1)" in result.stderr
    assert_no_traceback(result)


# --- run: bad input and bad definitions -------------------------------------------------


def test_run_with_malformed_input_json_is_a_usage_error(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When --input is not JSON
    result = invoke("run", path, "--input", "{oops")

    # Then the option, the expectation and the received text are named
    assert result.exit_code == 2
    message = result.stderr
    assert "'--input'" in message
    assert "expected JSON text or @FILE" in message
    assert "'{oops'" in message
    assert_no_traceback(result)


def test_run_with_an_input_file_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When --input names a missing file
    result = invoke("run", path, "--input", "@missing-input.json")

    # Then the file and the reason are named
    assert result.exit_code == 2
    assert "'@missing-input.json'" in result.stderr
    assert "No such file or directory" in result.stderr


def test_run_with_an_input_file_holding_malformed_json_is_a_usage_error(tmp_path: Path) -> None:
    # Given an input file that is not JSON
    path = write(tmp_path / "pass.json", PASS)
    data = write(tmp_path / "input.json", '{"a": }')

    # When it is used as --input
    result = invoke("run", path, "--input", f"@{data}")

    # Then the file and the JSON error's position are named
    assert result.exit_code == 2
    assert str(data) in result.stderr
    assert "line 1 column 7" in result.stderr


def test_run_of_an_invalid_definition_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    # Given a definition with an unknown state type
    path = write(tmp_path / "bad.json", {"StartAt": "A", "States": {"A": {"Type": "Bogus"}}})

    # When it runs
    result = invoke("run", path)

    # Then the problems are listed as validate lists them, and nothing ran
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}:/States/A/Type: " in result.stderr
    assert_no_traceback(result)


def test_run_of_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    # Given a definition that is not JSON
    path = write(tmp_path / "broken.json", '{"StartAt": \n  }')

    # When it runs
    result = invoke("run", path)

    # Then the syntax error and its position are reported
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:/: Invalid JSON: ")
    assert "(line 2, column 3)" in result.stderr


def test_run_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    # When run is given a file that does not exist
    result = invoke("run", tmp_path / "missing.json")

    # Then it is a usage error
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_run_refuses_an_unknown_machine_type(tmp_path: Path) -> None:
    # Given a valid machine
    path = write(tmp_path / "pass.json", PASS)

    # When --type is not STANDARD or EXPRESS
    result = invoke("run", path, "--type", "TURBO")

    # Then it is a usage error
    assert result.exit_code == 2
    assert "'TURBO' is not one of" in result.stderr


# --- run --history ----------------------------------------------------------------------


def test_run_with_history_prints_one_line_per_event_before_the_output(tmp_path: Path) -> None:
    # Given a two-state machine
    machine = {
        "StartAt": "First",
        "States": {"First": {"Type": "Pass", "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    path = write(tmp_path / "two.json", machine)

    # When it runs with --history
    result = invoke("run", path, "--input", '{"n": 1}', "--history")

    # Then the history comes first, one line per event, then the output
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    events = [line.split()[:3] for line in lines[:6]]
    assert events == [
        ["1", "ExecutionStarted", "-"],
        ["2", "PassStateEntered", "First"],
        ["3", "PassStateExited", "First"],
        ["4", "SucceedStateEntered", "Done"],
        ["5", "SucceedStateExited", "Done"],
        ["6", "ExecutionSucceeded", "-"],
    ]
    assert all(HISTORY_LINE.match(line) for line in lines[:6])
    assert lines[1].endswith('{"input":{"n":1}}')
    assert json.loads("\n".join(lines[6:])) == {"n": 1}


def test_run_with_history_shows_the_history_of_a_failed_execution_too(
    tmp_path: Path, handler_module: Path
) -> None:
    # Given a task whose handler raises
    path = write(tmp_path / "boom.json", lambda_task("cli_test_boom"))

    # When it runs with --history
    result = invoke(
        "run", path, "--input", '{"value": 1}', "--handlers", handler_module, "--history"
    )

    # Then the history is on stdout, ending with the failure
    assert result.exit_code == 1
    types = [line.split()[1] for line in result.stdout.splitlines()]
    assert types[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_history_lines_name_map_events_by_their_map_not_by_the_state_before() -> None:
    # Given a Map whose end follows an event of the state inside it
    events = [
        {"id": 1, "previousEventId": 0, "type": "MapStateEntered",
         "stateEnteredEventDetails": {"name": "Lines"}},
        {"id": 2, "previousEventId": 1, "type": "MapStateStarted",
         "mapStateStartedEventDetails": {"length": 1}},
        {"id": 3, "previousEventId": 2, "type": "PassStateEntered",
         "stateEnteredEventDetails": {"name": "Inner"}},
        {"id": 4, "previousEventId": 3, "type": "MapStateSucceeded"},
    ]  # fmt: skip

    # When they are formatted
    names = [line.split()[2] for line in history_lines(events)]

    # Then MapStateStarted follows its Map, and MapStateSucceeded is not blamed on Inner
    assert names == ["Lines", "Lines", "Inner", "-"]


def test_history_lines_give_task_events_the_name_of_their_state() -> None:
    # Given a Task's events, chained by previousEventId, with payloads as JSON text
    entered = {"name": "Charge", "input": '{"a":1}', "inputDetails": {"truncated": False}}
    events = [
        {"id": 1, "previousEventId": 0, "type": "TaskStateEntered",
         "stateEnteredEventDetails": entered},
        {"id": 2, "previousEventId": 1, "type": "LambdaFunctionScheduled",
         "lambdaFunctionScheduledEventDetails": {"resource": "arn", "input": '{"a":1}'}},
        {"id": 3, "previousEventId": 2, "type": "LambdaFunctionStarted"},
        {"id": 4, "previousEventId": 3, "type": "ExecutionFailed",
         "executionFailedEventDetails": {"error": "E"}},
    ]  # fmt: skip

    # When they are formatted
    lines = list(history_lines(events))

    # Then the Lambda events carry the state's name, payloads are decoded, and the
    # execution event carries none
    assert [line.split()[:3] for line in lines] == [
        ["1", "TaskStateEntered", "Charge"],
        ["2", "LambdaFunctionScheduled", "Charge"],
        ["3", "LambdaFunctionStarted", "Charge"],
        ["4", "ExecutionFailed", "-"],
    ]
    assert lines[0].endswith('{"input":{"a":1}}')
    assert lines[2].endswith("{}")


# --- durable commands: a problem the user can fix is one line and a non-zero exit -----------


def durable(settings: Settings, *args: str | Path) -> Result:
    """Run ``stepline ARGS`` in-process on ``settings`` (no environment read)."""
    return CliRunner().invoke(main, [str(a) for a in args], obj=CliSeams(settings=settings))


def embedded(home: Path, **fields: Json) -> Settings:
    """The embedded default (SQLite store in ``home``) with ``fields`` changed."""
    return Settings(home=home, database_url="", **fields)


def one_line(text: str) -> str:
    """The only line of ``text`` (fails when there are more)."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_an_unreachable_database_is_one_line_naming_the_setting_and_exit_1() -> None:
    # Given a store URL where no server listens (port 1), with a password
    settings = Settings(database_url="postgresql+psycopg://me:secret@127.0.0.1:1/stepline")
    # When a durable command runs
    result = durable(settings, "list")
    # Then one line names the store (password hidden), the cause and the setting to check
    assert result.exit_code == 1
    assert_no_traceback(result)
    line = one_line(result.stderr)
    assert line.startswith("stepline: cannot connect to the store at postgresql+psycopg://me:***@")
    assert "STEPLINE_DATABASE_URL" in line
    assert "secret" not in result.output


@pytest.mark.postgres
def test_an_unmigrated_database_is_one_line_saying_run_db_upgrade(postgres_url: str) -> None:
    # Given an empty PostgreSQL database (never migrated)
    settings = Settings(database_url=postgres_url)
    # When a durable command runs
    result = durable(settings, "describe", "arn:aws:states:us-east-1:111111111111:execution:m:e")
    # Then one line says what to run, and the exit status is 1
    assert result.exit_code == 1
    assert_no_traceback(result)
    line = one_line(result.stderr)
    assert "schema revision none" in line
    assert line.endswith("run `stepline db upgrade`")


def test_start_with_the_broker_down_stores_the_execution_and_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    # Given the embedded SQLite store, a machine, and a broker URL where nothing listens
    settings = embedded(tmp_path, broker_url="redis://127.0.0.1:1/0")
    assert durable(settings, "create", "m", write(tmp_path / "m.json", PASS)).exit_code == 0
    # When an execution is started
    result = durable(settings, "start", "m", "--input", '{"a": 1}')
    # Then its ARN is printed and the exit status is 0: it is committed and will run later
    assert result.exit_code == 0, result.output
    assert_no_traceback(result)
    arn = one_line(result.stdout)
    assert arn.startswith("arn:aws:states:us-east-1:111111111111:execution:m:")
    # And stderr says, in one line, that the broker is unreachable and what happens next
    line = one_line(result.stderr)
    assert "stored but the broker at redis://127.0.0.1:1/0 is unreachable" in line
    assert "will run once the broker is back" in line
    assert "STEPLINE_BROKER_URL" in line
    # And the execution is in the store, RUNNING
    described = durable(settings, "describe", arn)
    assert json.loads(described.stdout)["status"] == "RUNNING"
    # And it can be stopped while the broker is still down, without a traceback
    stopped = durable(settings, "stop", arn)
    assert stopped.exit_code == 0, stopped.output
    assert_no_traceback(stopped)
    assert json.loads(durable(settings, "describe", arn).stdout)["status"] == "ABORTED"


def test_start_with_a_10000_deep_input_is_one_line_and_exit_1(tmp_path: Path) -> None:
    # Given a machine in the embedded store, and an input nested 10,000 deep
    settings = embedded(tmp_path, broker_url="redis://127.0.0.1:1/0")
    assert durable(settings, "create", "m", write(tmp_path / "m.json", PASS)).exit_code == 0
    deep = write(tmp_path / "deep.json", "[" * 10_000 + "]" * 10_000)
    # When it is started with that input
    result = durable(settings, "start", "m", "--input", f"@{deep}")
    # Then the API's refusal is one line on stderr, and the exit status is 1
    assert result.exit_code == 1
    assert_no_traceback(result)
    line = one_line(result.stderr)
    assert line.startswith("InvalidExecutionInput: ") or "nested too deeply" in line, line
    assert result.stdout == ""


def test_describe_of_an_unknown_execution_is_the_api_error_in_one_line(tmp_path: Path) -> None:
    # Given an empty embedded store
    settings = embedded(tmp_path)
    # When an execution that does not exist is described
    result = durable(settings, "describe", "arn:aws:states:us-east-1:111111111111:execution:m:e")
    # Then boto3's error code and message are the one line, exit 1
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith("ExecutionDoesNotExist: ")


def test_create_of_a_definition_over_the_size_limit_names_limit_and_size(tmp_path: Path) -> None:
    # Given STEPLINE_MAX_DEFINITION_BYTES=200 and a 300-byte definition
    settings = embedded(tmp_path, max_definition_bytes=200)
    big = {**PASS, "Comment": "x" * (300 - len(json.dumps(PASS)) - 15)}
    path = write(tmp_path / "big.json", big)
    size = len(path.read_bytes())
    # When it is created
    result = durable(settings, "create", "big", path)
    # Then AWS's error says the limit and the size received, in one line
    assert result.exit_code == 1
    assert_no_traceback(result)
    line = one_line(result.stderr)
    assert "ValidationException" in line
    assert "less than or equal to 200" in line
    assert f"received {size} bytes" in line


def test_db_upgrade_of_an_unreachable_database_is_one_line_and_exit_1() -> None:
    # Given a store URL where no server listens
    settings = Settings(database_url="postgresql+psycopg://me@127.0.0.1:1/stepline")
    # When the migrations are run
    result = durable(settings, "db", "upgrade")
    # Then one line names the problem and the setting to check
    assert result.exit_code == 1
    assert_no_traceback(result)
    line = one_line(result.stderr)
    assert line.startswith("stepline: cannot reach the store (")
    assert "STEPLINE_DATABASE_URL" in line


def test_flower_without_basic_auth_refuses_to_start() -> None:
    # Given settings without STEPLINE_FLOWER_BASIC_AUTH
    settings = Settings(flower_basic_auth="")
    # When Flower is asked for
    result = durable(settings, "flower")
    # Then it is a usage error naming the setting: Flower's API must not be open
    assert result.exit_code == 2
    assert "STEPLINE_FLOWER_BASIC_AUTH=user:password" in result.stderr


def test_given_executions_of_two_machines_when_listed_then_one_list_newest_first(
    tmp_path: Path,
) -> None:
    # Given executions of two STANDARD machines, started a minute apart and interleaved,
    # and an EXPRESS machine (AWS lists no Express executions)
    from engine._composition import connect
    from engine.testing import InMemoryDispatcher

    settings = embedded(tmp_path)
    clock = FakeClock(T0)
    client = connect(settings, dispatcher=InMemoryDispatcher(), clock=clock)
    definition, role = json.dumps(PASS), "arn:aws:iam::111111111111:role/r"
    arns = {
        name: client.create_state_machine(name=name, definition=definition, roleArn=role)[
            "stateMachineArn"
        ]
        for name in ("a", "b")
    }
    client.create_state_machine(name="x", definition=definition, roleArn=role, type="EXPRESS")
    for machine, name in (("a", "first"), ("b", "second"), ("a", "third")):
        client.start_execution(stateMachineArn=arns[machine], name=name)
        clock.advance(60)
    # When `stepline list` runs without a machine
    result = durable(settings, "list")
    # Then one list holds every execution, newest first across machines
    assert result.exit_code == 0, result.output
    names = [line.rsplit(":", 1)[1] for line in result.stdout.splitlines()]
    assert names == ["third", "second", "first"]


def test_given_an_express_machine_when_started_with_wait_then_invalid_arn_in_one_line(
    tmp_path: Path,
) -> None:
    # Given an EXPRESS machine in the embedded store
    from engine._composition import connect
    from engine.testing import InMemoryDispatcher

    settings = embedded(tmp_path)
    client = connect(settings, dispatcher=InMemoryDispatcher())
    role = "arn:aws:iam::111111111111:role/r"
    client.create_state_machine(name="x", definition=json.dumps(PASS), roleArn=role, type="EXPRESS")
    # When `stepline start x --wait` runs
    result = durable(settings, "start", "x", "--wait")
    # Then the ARN is printed, and waiting is AWS's refusal to describe it, in one line
    assert result.exit_code == 1
    assert_no_traceback(result)
    assert ":express:x:" in result.stdout
    assert one_line(result.stderr).startswith("InvalidArn: ")


def test_redrive_of_a_stopped_execution_runs_it_again_from_its_state(tmp_path: Path) -> None:
    # Given an execution in the embedded store that was stopped while the broker was down
    settings = embedded(tmp_path, broker_url="redis://127.0.0.1:1/0")
    assert durable(settings, "create", "m", write(tmp_path / "m.json", PASS)).exit_code == 0
    arn = one_line(durable(settings, "start", "m").stdout)
    assert durable(settings, "stop", arn).exit_code == 0
    # When it is redriven
    result = durable(settings, "redrive", arn, "--client-token", "cli-1")
    # Then it runs again (its step waits for the broker), counted as one redrive
    assert result.exit_code == 0, result.output
    assert_no_traceback(result)
    assert one_line(result.stdout) == f"redriven {arn}"
    described = json.loads(durable(settings, "describe", arn).stdout)
    assert (described["status"], described["redriveCount"]) == ("RUNNING", 1)
    # And redriving it again while it runs is AWS's refusal, in one line
    again = durable(settings, "redrive", arn)
    assert again.exit_code == 1
    assert one_line(again.stderr).startswith("ExecutionNotRedrivable: ")
