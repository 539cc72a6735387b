"""The pure core (engine/_asl, engine/_dataflow, engine/_interpreter) reads no clock or randomness.

An AST scan of every module: no I/O-shell or nondeterministic imports, no engine module
outside the core (but ``engine._errors``), no ``datetime.now()``-style calls and no
``time.*`` use. Then behaviour: JSONata's clock and random functions take the injected
values.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.interpreter.support import jsonata, pass_machine, run

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("engine/_asl", "engine/_dataflow", "engine/_interpreter")
FORBIDDEN_MODULES = frozenset(
    {
        "celery",
        "kombu",
        "redis",
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "psycopg",
        "psycopg2",
        "config",
        "tasks",
        "os",
        "time",
        "random",
        "uuid",
        "secrets",
        "threading",
        "subprocess",
        "socket",
    }
)
ALLOWED_ENGINE = ("engine._asl", "engine._dataflow", "engine._interpreter", "engine._errors")
CLOCK_CALLS = frozenset(
    {"now", "utcnow", "today", "fromtimestamp", "utcfromtimestamp", "monotonic", "perf_counter"}
)


def _modules() -> list[Path]:
    found = sorted(path for package in PURE_PACKAGES for path in (ROOT / package).rglob("*.py"))
    assert len(found) > 20, "the scan must see the pure packages"
    return found


def _imported(tree: ast.AST) -> list[tuple[int, str]]:
    """Every absolute module name imported, with its line."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append((node.lineno, node.module))
    return names


# The one module that may import `random`: it only builds generators from an explicit seed,
# which are pure functions of that seed (checked below).
SEEDED = "engine/_interpreter/seeded.py"


def _violations(source: str, *, seeded: bool = False) -> list[str]:
    tree = ast.parse(source)
    found = []
    for line, module in _imported(tree):
        top = module.split(".")[0]
        if seeded and module == "random":
            continue
        if top in FORBIDDEN_MODULES:
            found.append(f"{line}: imports {module}")
        elif top == "engine" and not module.startswith(ALLOWED_ENGINE):
            found.append(f"{line}: imports {module}, outside the pure core")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_CALLS
        ):
            found.append(f"{node.lineno}: calls .{node.func.attr}()")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "time"
        ):
            found.append(f"{node.lineno}: uses time.{node.attr}")
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pure_module_imports_no_shell_and_reads_no_clock(path: Path) -> None:
    # Given a module of the pure core
    # When its AST is scanned
    seeded = str(path.relative_to(ROOT)) == SEEDED
    violations = _violations(path.read_text(), seeded=seeded)
    # Then it imports nothing nondeterministic or from the shell, and calls no clock
    assert violations == []


def test_the_seeded_module_only_builds_generators_from_an_explicit_seed() -> None:
    # Given the one module allowed to import random
    tree = ast.parse((ROOT / SEEDED).read_text())
    # When every use of the random module is collected
    uses = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "random"
    ]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.func in uses]
    # Then each is random.Random called with a seed: never the global generator
    assert uses
    assert {use.attr for use in uses} == {"Random"}
    assert all(len(call.args) == 1 for call in calls)


def test_the_scan_catches_what_it_forbids() -> None:
    # Given a module breaking every rule
    source = (
        "import os\nfrom time import sleep\nimport random\nfrom engine._clock import FakeClock\n"
        "from datetime import datetime, date\nx = datetime.now()\ny = date.today()\n"
        "import time\nz = time.monotonic()\nfrom engine._errors import StatesError\n"
    )
    # When it is scanned
    violations = _violations(source)
    # Then every violation is reported, and the allowed imports are not
    assert violations == [
        "1: imports os",
        "2: imports time",
        "3: imports random",
        "4: imports engine._clock, outside the pure core",
        "8: imports time",
        "6: calls .now()",
        "7: calls .today()",
        "9: calls .monotonic()",
        "9: uses time.monotonic",
    ]


def test_jsonata_clock_and_random_functions_use_the_injected_values() -> None:
    # Given a JSONata Pass reading $now(), $millis() and $random()
    machine = jsonata(
        pass_machine(
            Output={"now": "{% $now() %}", "ms": "{% $millis() %}", "r": "{% $random() %}"}
        )
    )
    # When it runs twice on the fake clock with one seed
    first = run(machine, {}, seed=9).execution.output
    second = run(machine, {}, seed=9).execution.output
    # Then the time is the fake clock's and the random draw repeats
    assert first["now"] == "2024-01-01T00:00:00.000Z"
    assert first["ms"] == 1704067200000
    assert first == second
    assert run(machine, {}, seed=10).execution.output["r"] != first["r"]
