"""``stepline worker`` and ``flower`` hand over to Celery only when it is safe to.

Celery itself is replaced: these tests see the arguments it would have been given.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import engine._cli
from config.settings import Settings
from engine._cli import CliSeams, main


@pytest.fixture
def celery_argv(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The argument lists ``stepline`` handed to Celery, instead of running Celery."""
    calls: list[list[str]] = []
    monkeypatch.setattr(engine._cli, "_exec_celery", calls.append)
    monkeypatch.delenv("FLOWER_ADDRESS", raising=False)
    return calls


def stepline(settings: Settings, *args: str) -> Result:
    """Run ``stepline ARGS`` in-process on ``settings``."""
    return CliRunner().invoke(main, list(args), obj=CliSeams(settings=settings))


def test_worker_with_a_missing_handler_module_never_starts_celery(
    tmp_path: Path, celery_argv: list[list[str]]
) -> None:
    # Given STEPLINE_HANDLERS naming a module that does not exist
    settings = Settings(home=tmp_path, handlers="cli_fleet_no_such_module")
    # When the worker is started
    result = stepline(settings, "worker")
    # Then it is a usage error naming the setting and the module, and Celery never ran
    assert result.exit_code == 2
    assert "STEPLINE_HANDLERS" in result.stderr
    assert "'cli_fleet_no_such_module'" in result.stderr
    assert celery_argv == []


def test_worker_with_importable_handlers_hands_over_to_celery(
    tmp_path: Path, celery_argv: list[list[str]]
) -> None:
    # Given STEPLINE_HANDLERS naming an importable module
    module = tmp_path / "cli_fleet_handlers.py"
    module.write_text("import engine\n")
    settings = Settings(home=tmp_path, handlers=str(module))
    # When the worker is started with extra arguments
    result = stepline(settings, "worker", "--concurrency", "4")
    # Then Celery's worker gets them
    assert result.exit_code == 0, result.output
    ((command, *rest),) = celery_argv
    assert command == "worker"
    assert rest[-2:] == ["--concurrency", "4"]


def test_flower_listens_on_localhost_by_default(
    tmp_path: Path, celery_argv: list[list[str]]
) -> None:
    # Given Flower's basic auth
    settings = Settings(home=tmp_path, flower_basic_auth="admin:pw")
    # When Flower is started without an address
    result = stepline(settings, "flower")
    # Then it is told to listen on 127.0.0.1 only (Flower's own default is every interface)
    assert result.exit_code == 0, result.output
    ((_, *arguments),) = celery_argv
    assert "--address=127.0.0.1" in arguments


@pytest.mark.parametrize("given", [["--address=0.0.0.0"], ["--address", "0.0.0.0"]])
def test_flower_honours_an_explicit_address(
    tmp_path: Path, celery_argv: list[list[str]], given: list[str]
) -> None:
    # Given Flower's basic auth
    settings = Settings(home=tmp_path, flower_basic_auth="admin:pw")
    # When Flower is started with an address (as in a container)
    result = stepline(settings, "flower", *given)
    # Then that address is the only one Flower gets
    assert result.exit_code == 0, result.output
    ((_, *arguments),) = celery_argv
    assert arguments[-len(given) :] == given
    assert not any("127.0.0.1" in a for a in arguments)


def test_flower_honours_flowers_own_address_variable(
    tmp_path: Path, celery_argv: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given FLOWER_ADDRESS in the environment (Flower reads it itself)
    monkeypatch.setenv("FLOWER_ADDRESS", "10.0.0.5")
    settings = Settings(home=tmp_path, flower_basic_auth="admin:pw")
    # When Flower is started
    result = stepline(settings, "flower")
    # Then stepline does not override it with 127.0.0.1
    assert result.exit_code == 0, result.output
    ((_, *arguments),) = celery_argv
    assert not any(a.startswith("--address") for a in arguments)
