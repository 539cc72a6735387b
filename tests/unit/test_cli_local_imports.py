"""``stepline run --local`` and ``import engine`` load only what they use (ADR 0050).

A module-set check, not a timing: what a fresh interpreter has imported once the command
has run. The durable side (SQL toolkit, settings, Celery, the store and runtime) and the
libraries of other commands (rich for progress, httpx for HTTP Tasks, PyYAML for YAML
definitions) stay unloaded; a top-level import that pulls one of them in fails here.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import engine
from engine._cli import _ELSEWHERE

ROOT = Path(engine.__file__).resolve().parents[1]

DURABLE = ("sqlalchemy", "sqlmodel", "alembic", "celery", "kombu", "redis", "psycopg")
"""The durable side's libraries: `engine.connect` and the durable commands import them."""

SHELL = ("config", "tasks", "pydantic", "pydantic_settings", "engine._store", "engine._runtime")
"""The settings, the Celery tasks, the store and the runtime."""

OTHER_COMMANDS = (
    "rich",
    "httpx",
    "yaml",
    "jsonata",
    "engine._graph",
    "engine._wire",
    "engine._console",
    "engine._cli.store_commands",
    "engine._cli.messaging_commands",
    "engine._cli.event_commands",
    "engine._cli.task_commands",
    "engine._cli.serve_command",
    "engine._cli.graph_command",
    "engine._cli.health_command",
)
"""What a local run of a JSON definition without JSONata does not use."""

BOTO3_SURFACE = (
    "engine._api.client",
    "engine._api.boto",
    "botocore.session",
    "botocore.model",
    "botocore.validate",
    "botocore.client",
    "urllib3",
    "http.client",
)
"""`engine.Client`'s boto3 surface and botocore's model (the CLI calls `Operations`)."""

_PROBE = """
import json, sys
from engine._cli import main
main(sys.argv[1:], standalone_mode=False)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_after(code: str, *arguments: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (it prints them last)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(modules)


def unwanted(modules: set[str], *groups: tuple[str, ...]) -> list[str]:
    """The modules of ``groups`` (packages with their submodules) found in ``modules``."""
    names = [name for group in groups for name in group]
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names))


def test_a_local_run_loads_neither_the_durable_side_nor_other_commands_nor_botocore_model(
    tmp_path: Path,
) -> None:
    # Given a JSON definition of two Pass states
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": True}},
    }
    (tmp_path / "machine.json").write_text(json.dumps(definition), encoding="utf-8")
    # When `stepline run machine.json --local` runs in a fresh interpreter
    modules = loaded_after(_PROBE, "run", "machine.json", "--local", cwd=tmp_path)
    # Then it ran on the local executor, and loaded nothing of the durable side, the
    # settings, the other commands or botocore's model
    assert "engine._backends.local" in modules
    assert unwanted(modules, DURABLE, SHELL, OTHER_COMMANDS, BOTO3_SURFACE) == []


def test_importing_engine_imports_no_submodule_until_a_name_is_used(tmp_path: Path) -> None:
    # Given a fresh interpreter that imports engine
    code = "import json, sys, engine; print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    # When nothing of it is used yet
    modules = loaded_after(code, cwd=tmp_path)
    # Then no submodule is loaded (a handler module pays only for what it uses)
    assert sorted(m for m in modules if m.startswith("engine.")) == []
    assert unwanted(modules, DURABLE, SHELL, OTHER_COMMANDS, ("botocore",)) == []


def test_every_command_imported_on_use_is_named_with_the_module_defining_it() -> None:
    # Given the commands `stepline` imports only when one is named
    modules = set(_ELSEWHERE.values())
    # When each of their modules is imported
    defined = {
        command.name: module
        for module in modules
        for command in importlib.import_module(f"engine._cli.{module}").COMMANDS
    }
    # Then the table names every command those modules define, each with its own module
    assert defined == _ELSEWHERE
