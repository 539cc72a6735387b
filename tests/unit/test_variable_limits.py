"""Assign size limits, as AWS applies them: 256 KiB per variable and per Assign."""

from __future__ import annotations

import json

from engine._api import Client
from engine._backends.local import LocalBackend
from engine._clock import FakeClock

ROLE = "arn:aws:iam::111111111111:role/r"


def _run(machine: dict[str, object], payload: object) -> dict[str, object]:
    clock = FakeClock()
    client = Client(LocalBackend(clock=clock), clock=clock)
    arn = client.create_state_machine(name="limits", definition=json.dumps(machine), roleArn=ROLE)[
        "stateMachineArn"
    ]
    run = client.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    return client.describe_execution(executionArn=run["executionArn"])


def test_a_variable_over_256_kib_fails_the_execution_with_data_limit_exceeded() -> None:
    # Given a state assigning a 257 KiB string
    machine = {
        "QueryLanguage": "JSONata",
        "StartAt": "Big",
        "States": {
            "Big": {"Type": "Pass", "Assign": {"blob": "{% $pad('', 263168, 'x') %}"}, "End": True}
        },
    }
    # When it runs
    described = _run(machine, {})
    # Then it fails with States.DataLimitExceeded naming the variable
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert "'blob'" in str(described["cause"])


def test_variables_within_the_limits_are_assigned() -> None:
    # Given two 100 KiB variables (under the per-variable and per-Assign limits)
    machine = {
        "StartAt": "Two",
        "States": {
            "Two": {"Type": "Pass", "Assign": {"a.$": "$.part", "b.$": "$.part"}, "Next": "Use"},
            "Use": {"Type": "Pass", "OutputPath": "$a", "End": True},
        },
    }
    # When it runs
    described = _run(machine, {"part": "y" * (100 * 1024)})
    # Then both are kept
    assert described["status"] == "SUCCEEDED"
    assert json.loads(str(described["output"])) == "y" * (100 * 1024)
