"""WARNING diagnostics for Task resources nothing serves: the API and ``stepline validate``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from engine._api import Client
from engine._cli import main
from engine._integrations.aws import AwsClients, register_aws_integrations
from engine._resources import HandlerRegistry
from tasks import wiring
from tests.shapes import body

Json = Any
DYNAMODB = "arn:aws:states:::dynamodb:putItem"


def task(resource: str, **fields: Json) -> dict[str, Json]:
    return {"Type": "Task", "Resource": resource, **fields}


def machine(states: dict[str, Json]) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


UNSERVED = machine({"Put": task(DYNAMODB, Parameters={"TableName": "t"}, End=True)})
NESTED = machine(
    {
        "P": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "A",
                    "States": {"A": task("arn:aws:states:::glue:startJobRun.sync", End=True)},
                }
            ],
            "Next": "M",
        },
        "M": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "S/1",
                "States": {"S/1": task("arn:aws:states:::aws-sdk:s3:getObject", End=True)},
            },
            "End": True,
        },
    }
)


def test_by_default_only_errors_are_returned_as_aws_does() -> None:
    # Given a valid definition whose Task nothing here serves
    client = Client.local(HandlerRegistry())
    # When it is validated without a severity (AWS's default: ERROR)
    result = client.validate_state_machine_definition(definition=UNSERVED)
    # Then it is OK with no diagnostics
    assert body(result) == {"result": "OK", "diagnostics": [], "truncated": False}


def test_severity_warning_names_the_unserved_resource_and_keeps_the_result_ok() -> None:
    # Given the same definition
    client = Client.local(HandlerRegistry())
    # When it is validated with severity WARNING
    result = client.validate_state_machine_definition(definition=UNSERVED, severity="WARNING")
    # Then the result stays OK and one WARNING points at the Resource, naming it and the fix
    assert result["result"] == "OK"
    (warning,) = result["diagnostics"]
    assert warning["severity"] == "WARNING"
    assert warning["code"] == "UNSERVED_RESOURCE"
    assert warning["location"] == "/States/Put/Resource"
    assert DYNAMODB in warning["message"]
    assert "http:invoke" in warning["message"]  # what is served instead
    assert "STEPLINE_AWS_INTEGRATIONS=true" in warning["message"]


def test_nested_tasks_are_found_and_served_resources_are_not_warned_about() -> None:
    # Given Parallel and Map tasks, and Lambda, activity and http:invoke tasks
    served = machine(
        {
            "L": task("arn:aws:lambda:us-east-1:111111111111:function:anything", Next="A"),
            "A": task("arn:aws:states:us-east-1:111111111111:activity:work", Next="H"),
            "H": task(
                "arn:aws:states:::http:invoke",
                Parameters={"ApiEndpoint": "https://example.com", "Method": "GET"},
                End=True,
            ),
        }
    )
    client = Client.local(HandlerRegistry())
    # When each is validated with severity WARNING
    nested = client.validate_state_machine_definition(definition=NESTED, severity="WARNING")
    clean = client.validate_state_machine_definition(definition=served, severity="WARNING")
    # Then the nested unserved resources are warned about at their JSON pointers, the rest not
    locations = [d["location"] for d in nested["diagnostics"]]
    assert locations == [
        "/States/P/Branches/0/States/A/Resource",
        "/States/M/ItemProcessor/States/S~11/Resource",
    ]
    assert clean["diagnostics"] == []


def test_the_aws_mode_serves_what_was_warned_about() -> None:
    # Given a registry with the AWS integrations registered
    registry = HandlerRegistry()
    register_aws_integrations(registry, AwsClients())
    # When both definitions are validated with severity WARNING
    client = Client.local(registry)
    results = [
        client.validate_state_machine_definition(definition=text, severity="WARNING")
        for text in (UNSERVED, NESTED)
    ]
    # Then only glue:startJobRun (not in the AWS mode's optimized set) is left unserved
    assert results[0]["diagnostics"] == []
    assert [d["location"] for d in results[1]["diagnostics"]] == [
        "/States/P/Branches/0/States/A/Resource"
    ]


def test_max_results_truncates_the_diagnostics() -> None:
    # Given a definition with two unserved resources
    client = Client.local(HandlerRegistry())
    # When it is validated with maxResults 1
    result = client.validate_state_machine_definition(
        definition=NESTED, severity="WARNING", maxResults=1
    )
    # Then one diagnostic is returned and the list is marked truncated
    assert len(result["diagnostics"]) == 1
    assert result["truncated"] is True


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    wiring.settings.cache_clear()
    yield
    wiring.settings.cache_clear()


def test_stepline_validate_prints_the_warning_and_still_says_ok(
    tmp_path: Path, fresh_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a valid file whose Task needs the AWS mode, with the AWS mode off
    monkeypatch.setenv("STEPLINE_AWS_INTEGRATIONS", "false")
    path = tmp_path / "put.asl.json"
    path.write_text(UNSERVED)
    # When it is validated
    result = CliRunner().invoke(main, ["validate", str(path)])
    # Then a WARNING line names the resource, the file is OK, and the exit code is 0
    assert result.exit_code == 0, result.output
    warning, ok = result.output.splitlines()
    assert warning.startswith(f"{path}:/States/Put/Resource: WARNING no integration serves")
    assert DYNAMODB in warning
    assert ok == f"{path}: OK"


def test_stepline_validate_in_the_aws_mode_has_nothing_to_warn_about(
    tmp_path: Path, fresh_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same file, with STEPLINE_AWS_INTEGRATIONS=true
    monkeypatch.setenv("STEPLINE_AWS_INTEGRATIONS", "true")
    path = tmp_path / "put.asl.json"
    path.write_text(UNSERVED)
    # When it is validated
    result = CliRunner().invoke(main, ["validate", str(path)])
    # Then it is just OK
    assert result.exit_code == 0, result.output
    assert result.output == f"{path}: OK\n"
