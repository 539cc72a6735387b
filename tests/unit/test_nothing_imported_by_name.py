"""A definition that names a module or a function never gets it imported or called.

Task resources resolve in the handler registry (functions the operator registered), among
the integrations stepline ships, and -- opt-in -- among an AWS API's own operations; a
name is looked up, never imported. A module on the path whose import would leave a mark
proves it for every place a definition names something.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from engine._api import Client
from engine._clock import FakeClock
from engine._errors import ClientError
from engine._resources import HandlerRegistry

MODULE = "stepline_probe_payload"
ROLE = "arn:aws:iam::111111111111:role/probe"


def task(resource: str, **fields: Any) -> str:
    """A one-Task definition."""
    state = {"Type": "Task", "Resource": resource, "End": True, **fields}
    return json.dumps({"StartAt": "T", "States": {"T": state}})


DEFINITIONS = {
    "lambda:invoke FunctionName os.system": task(
        "arn:aws:states:::lambda:invoke",
        Parameters={"FunctionName": "os.system", "Payload": {"cmd": "touch /tmp/x"}},
    ),
    "lambda:invoke FunctionName module.function": task(
        "arn:aws:states:::lambda:invoke", Parameters={"FunctionName": f"{MODULE}.run"}
    ),
    "Lambda ARN naming module.function": task(
        f"arn:aws:lambda:us-east-1:111111111111:function:{MODULE}.run"
    ),
    "Lambda ARN naming module:function": task(
        f"arn:aws:lambda:us-east-1:111111111111:function:{MODULE}:run"
    ),
    "Resource module:function": task(f"{MODULE}:run"),
    "Resource os:system": task("os:system"),
    "integration named after the module": task(f"arn:aws:states:::{MODULE}:run"),
    "celery:sendTask naming module.function": task(
        "arn:aws:states:::celery:sendTask", Parameters={"TaskName": f"{MODULE}.run"}
    ),
    "aws-sdk naming the module": task(f"arn:aws:states:::aws-sdk:{MODULE}:run"),
    "activity named after the module": task(
        f"arn:aws:states:us-east-1:111111111111:activity:{MODULE}.run", TimeoutSeconds=1
    ),
}


def outcome(client: Client, definition: str) -> str:
    """The execution's status, or ``refused`` when the API refused the definition."""
    client.validate_state_machine_definition(definition=definition)
    try:
        arn = client.create_state_machine(name="probe", definition=definition, roleArn=ROLE)
        started = client.start_execution(stateMachineArn=arn["stateMachineArn"], input="{}")
    except ClientError:
        return "refused"
    return str(client.describe_execution(executionArn=started["executionArn"])["status"])


@pytest.fixture
def importable_payload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module on sys.path whose import creates a marker file; returns the marker."""
    marker = tmp_path / "imported"
    (tmp_path / f"{MODULE}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
        f"def run(*args, **kwargs):\n    pathlib.Path({str(marker)!r}).write_text('ran')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    return marker


@pytest.fixture
def system_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every call of os.system (none is expected)."""
    calls: list[Any] = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    return calls


@pytest.mark.parametrize("definition", DEFINITIONS.values(), ids=DEFINITIONS.keys())
def test_a_definition_naming_a_module_never_imports_or_calls_it(
    definition: str, importable_payload: Path, system_calls: list[Any]
) -> None:
    # Given an in-process client with an empty handler registry
    client = Client.local(HandlerRegistry(), clock=FakeClock())
    # When the definition is validated, created and run (whatever is refused on the way)
    status = outcome(client, definition)
    # Then it did not succeed, nothing was imported and nothing was called
    assert status != "SUCCEEDED"
    assert MODULE not in sys.modules
    assert not importable_payload.exists()
    assert system_calls == []


AWS_DEFINITIONS = {
    "aws-sdk service named after the module": task(f"arn:aws:states:::aws-sdk:{MODULE}:run"),
    "aws-sdk method that is not an API operation": task(
        "arn:aws:states:::aws-sdk:s3:generatePresignedUrl",
        Parameters={"ClientMethod": "get_object"},
    ),
    "aws-sdk private method": task("arn:aws:states:::aws-sdk:s3:_makeApiCall"),
}


@pytest.mark.parametrize("definition", AWS_DEFINITIONS.values(), ids=AWS_DEFINITIONS.keys())
def test_an_aws_sdk_task_reaches_only_the_apis_operations(
    definition: str, importable_payload: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the AWS integrations on (STEPLINE_AWS_INTEGRATIONS), pointed where nothing listens
    from engine._integrations.aws import AwsClients, register_aws_integrations

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    registry = HandlerRegistry()
    register_aws_integrations(registry, AwsClients(endpoint_url="http://127.0.0.1:1"))
    client = Client.local(registry, clock=FakeClock())
    # When the definition is validated, created and run
    status = outcome(client, definition)
    # Then it was refused or failed, and nothing was imported
    assert status in ("refused", "FAILED")
    assert MODULE not in sys.modules
    assert not importable_payload.exists()
