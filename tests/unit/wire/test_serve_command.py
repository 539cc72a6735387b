"""``stepline serve`` wires the protocol from the settings (the server itself is replaced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine._wire
from config.settings import Settings
from engine._backends.local import LocalBackend
from engine._cli import main
from engine._cli.common import CliSeams


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``stepline serve`` would have served, instead of serving it."""
    calls: dict[str, Any] = {}

    def record(
        protocol: Any, host: str, port: int, metrics: Any = None, extra_routes: Any = ()
    ) -> None:
        calls.update(protocol=protocol, host=host, port=port, metrics=metrics, routes=extra_routes)

    monkeypatch.setattr(engine._wire, "serve", record)
    return calls


def invoke(settings: Settings, *args: str) -> Any:
    return CliRunner().invoke(main, ["serve", *args], obj=CliSeams(settings=settings))


def test_serve_binds_localhost_on_step_functions_locals_port(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    # When serve runs with no options and no access keys
    result = invoke(Settings(home=tmp_path), "--local")

    # Then it serves an in-process client on 127.0.0.1:8083, unauthenticated, and says so
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8083)
    assert isinstance(served["protocol"].client.backend, LocalBackend)
    assert served["protocol"].verifier is None
    assert "not authenticated" in result.output
    # And it answers scrapes at /metrics
    body, _ = served["metrics"]()
    assert b"stepline_executions_started_total" in body
    # And the web console is served beside the protocol, at /
    assert "the web console is at http://127.0.0.1:8083/" in result.output
    assert "/console/api/execution" in {route.path for route in served["routes"]}


def test_serve_requires_signatures_when_access_keys_are_set(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    # When access keys are configured
    result = invoke(Settings(home=tmp_path, access_keys="AK:secret"), "--local", "--port", "9000")

    # Then the protocol verifies signatures
    assert result.exit_code == 0, result.output
    assert served["port"] == 9000
    assert served["protocol"].verifier is not None


def test_malformed_access_keys_are_a_usage_error(tmp_path: Path, served: dict[str, Any]) -> None:
    # When an access key entry has no secret
    result = invoke(Settings(home=tmp_path, access_keys="AK"), "--local")

    # Then serve refuses to start, naming the setting
    assert result.exit_code == 2
    assert "STEPLINE_ACCESS_KEYS" in result.output
    assert served == {}


MOCKS = {
    "StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "Paid"}}}},
    "MockedResponses": {"Paid": {"0": {"Return": {"paid": True}}}},
}


def test_serve_local_reads_the_mock_config(tmp_path: Path, served: dict[str, Any]) -> None:
    # Given a mock config file named by SFN_MOCK_CONFIG's setting
    path = tmp_path / "MockConfigFile.json"
    path.write_text(json.dumps(MOCKS), encoding="utf-8")

    # When serve --local runs
    result = invoke(Settings(home=tmp_path, mock_config=str(path)), "--local")

    # Then the in-process client answers the file's test cases
    assert result.exit_code == 0, result.output
    mocks = served["protocol"].client.backend.handlers.mocks
    assert mocks is not None
    assert mocks.has_test_case("Orders", "HappyPath")


@pytest.mark.parametrize("local", [["--local"], []], ids=["local", "fleet"])
def test_a_bad_mock_config_is_one_line_naming_the_file_and_the_place(
    tmp_path: Path, served: dict[str, Any], local: list[str]
) -> None:
    # Given a mock config whose StateMachines is not an object
    path = tmp_path / "MockConfigFile.json"
    path.write_text('{"StateMachines": 3}', encoding="utf-8")

    # When serve starts with it
    result = invoke(Settings(home=tmp_path, mock_config=str(path)), *local)

    # Then it refuses in one line: the file, the place, what was expected, and the fix
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"stepline: mock config {path}, at $.StateMachines: expected a JSON object, got 3: "
        "fix the file or unset SFN_MOCK_CONFIG/STEPLINE_MOCK_CONFIG"
    ]
    assert served == {}
