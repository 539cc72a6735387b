"""A YAML definition runs on a real fleet: the workers read the stored text as the API did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import ROLE, Fleet

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def test_the_yaml_example_runs_to_completion_on_a_fleet(fleet: Fleet) -> None:
    # Given examples/hello.asl.yaml created as it is written, in YAML
    definition = (ROOT / "examples" / "hello.asl.yaml").read_text()
    machine = fleet.client.create_state_machine(name="hello", definition=definition, roleArn=ROLE)[
        "stateMachineArn"
    ]
    # When an execution runs on the worker fleet
    arn = fleet.start_execution(machine, {"name": "Ada"}, "yaml")
    described = fleet.await_status(arn, timeout=60)
    # Then it succeeded with the greeting, as `stepline run --local` prints it
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"greeting": "Hello, Ada!"}
