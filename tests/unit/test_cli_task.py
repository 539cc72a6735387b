"""``stepline task success|failure|heartbeat TOKEN`` on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from config.settings import Settings
from engine._cli import main
from engine._cli.common import CliSeams
from engine._composition import connect
from engine.testing import InMemoryDispatcher

ROLE = "arn:aws:iam::111111111111:role/cli"


def _stepline(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), obj=CliSeams(settings=settings))


def _waiting_token(settings: Settings, **task: object) -> tuple[str, str]:
    """(execution ARN, token) of an execution waiting on an activity task a worker took."""
    dispatcher = InMemoryDispatcher()
    client = connect(settings, dispatcher=dispatcher)
    client.activity_poll_seconds = 0.0
    activity = client.create_activity(name="cli")["activityArn"]
    state = {"Type": "Task", "Resource": activity, "End": True, **task}
    definition = {"StartAt": "Work", "States": {"Work": state}}
    machine = client.create_state_machine(
        name="cli", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = client.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    dispatcher.run_all(client.backend.runtime, client.backend.handlers)  # type: ignore[attr-defined]
    token = client.get_activity_task(activityArn=activity, workerName="cli")["taskToken"]
    return arn, token


def _described(settings: Settings, arn: str) -> dict[str, object]:
    return connect(settings, dispatcher=InMemoryDispatcher()).describe_execution(executionArn=arn)


def test_task_success_completes_the_task_and_a_second_one_is_task_timed_out(
    tmp_path: Path,
) -> None:
    # Given an execution waiting on a task whose token a worker holds
    settings = Settings(home=tmp_path, database_url="")
    arn, token = _waiting_token(settings)
    # When `stepline task success` answers it
    result = _stepline(settings, "task", "success", token, "--output", '{"a":1}')
    # Then the execution succeeded with that output
    assert result.exit_code == 0, result.output
    described = _described(settings, arn)
    assert (described["status"], described["output"]) == ("SUCCEEDED", '{"a":1}')
    # And answering again is AWS's TaskTimedOut, one line, exit 1
    again = _stepline(settings, "task", "success", token)
    assert again.exit_code == 1
    assert again.stderr.startswith("stepline: TaskTimedOut: ")


def test_task_failure_fails_the_task_with_the_error_and_cause(tmp_path: Path) -> None:
    # Given an execution waiting on a task
    settings = Settings(home=tmp_path, database_url="")
    arn, token = _waiting_token(settings)
    # When `stepline task failure` answers it
    result = _stepline(settings, "task", "failure", token, "--error", "Oops", "--cause", "why")
    # Then the execution failed with them
    assert result.exit_code == 0, result.output
    described = _described(settings, arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Oops",
        "why",
    )


def test_task_heartbeat_is_accepted_and_an_unknown_token_does_not_exist(tmp_path: Path) -> None:
    # Given a task with a heartbeat deadline
    settings = Settings(home=tmp_path, database_url="")
    _arn, token = _waiting_token(settings, HeartbeatSeconds=60)
    # When a heartbeat is sent, Then it is accepted
    assert _stepline(settings, "task", "heartbeat", token).exit_code == 0
    # And a token nobody issued is TaskDoesNotExist, one line, exit 1
    unknown = _stepline(settings, "task", "heartbeat", "f" * 64)
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("stepline: TaskDoesNotExist: ")
