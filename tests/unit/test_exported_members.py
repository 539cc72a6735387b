"""`engine` is the public surface: what it exports, and that each export is documented.

As httpx's tests/test_exported_members.py: ``__all__`` lists exactly the public names of
the package namespace, each is importable, and each carries a docstring.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from pathlib import Path

import pytest

import engine


def public_names() -> set[str]:
    """The names of engine's namespace that are not private and not its own submodules.

    Read at call time: importing ``engine.x`` anywhere adds ``x`` to the namespace.
    """
    return {
        name
        for name in dir(engine)
        if not name.startswith("_")
        and not inspect.ismodule(getattr(engine, name))
        and name != "annotations"
    }


def test_all_lists_exactly_the_public_names() -> None:
    # Given the engine package
    # When its public names are compared with __all__
    exported = set(engine.__all__) - {"__version__"}
    # Then nothing public is missing from __all__, and __all__ names nothing extra
    assert exported == public_names()
    assert len(engine.__all__) == len(set(engine.__all__))


@pytest.mark.parametrize("name", sorted(set(engine.__all__) - {"__version__"}))
def test_each_export_is_importable_and_documented(name: str) -> None:
    # Given an exported name
    # When it is imported from engine
    member = getattr(engine, name)
    # Then it carries a docstring of its own
    documented = inspect.getdoc(member) or ""
    assert documented.strip(), f"engine.{name} has no docstring"


def test_every_client_error_is_exported_and_in_client_exceptions() -> None:
    # Given every ClientError subclass
    subclasses = {cls for cls in vars(engine._errors).values() if _is_client_error(cls)}
    # Then each is exported from engine, and boto3-style under Client.exceptions by its code
    assert {cls.__name__ for cls in subclasses} <= set(engine.__all__)
    for cls in subclasses:
        assert getattr(engine.Client.exceptions, cls.code) is cls


def test_version_is_the_installed_distribution_version() -> None:
    # Given the installed stepline distribution
    # Then engine.__version__ is its version
    assert engine.__version__ == importlib.metadata.version("stepline")


def test_the_package_ships_a_py_typed_marker() -> None:
    # Given the engine package folder
    marker = Path(engine.__file__).with_name("py.typed")
    # Then it holds the PEP 561 marker, and pyproject packages it
    assert marker.is_file()
    pyproject = Path(engine.__file__).parents[1] / "pyproject.toml"
    assert '"py.typed"' in pyproject.read_text()


def _is_client_error(value: object) -> bool:
    return (
        inspect.isclass(value)
        and issubclass(value, engine.ClientError)
        and value is not engine.ClientError
    )


PUBLIC_MODULES = {"__init__.py", "testing.py", "py.typed"}
"""Besides the package itself, only `engine.testing` (the fakes for users' tests) is public."""


def test_every_other_module_is_private() -> None:
    # Given the entries of the engine package
    package = Path(engine.__file__).parent
    entries = {p.name for p in package.iterdir() if p.name != "__pycache__"}
    # When the public ones are set aside
    others = entries - PUBLIC_MODULES
    # Then every other module and subpackage is private (re-exported from engine if public)
    assert others
    assert sorted(name for name in others if not name.startswith("_")) == []
