"""``stepline serve`` wires the protocol from the settings (the server itself is replaced)."""

from __future__ import annotations

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

    def record(protocol: Any, host: str, port: int) -> None:
        calls.update(protocol=protocol, host=host, port=port)

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
