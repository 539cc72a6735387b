"""Import the modules that register handlers (``--handlers``, ``STEPLINE_HANDLERS``).

One convention, shared by ``stepline run`` and the workers: a module registers its
functions with ``@engine.handler("name")`` (into `engine.registry`); a module that keeps
its own ``handlers: HandlerRegistry`` has it merged into the default registry.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from engine._errors import SteplineError
from engine._resources import DEFAULT_REGISTRY, HandlerRegistry


class HandlerModuleError(SteplineError, ImportError):
    """A handler module cannot be found, or raised while being imported."""


def import_handler_modules(modules: Sequence[str]) -> list[ModuleType]:
    """Import each module so that its handlers register themselves.

    A module is a dotted name importable from the current directory, or a path to a
    ``.py`` file.

    Raises:
        HandlerModuleError: with what was expected, what was given and where it broke.
    """
    loaded = []
    for name in modules:
        module = _load(name)
        exposed = getattr(module, "handlers", None)
        if isinstance(exposed, HandlerRegistry) and exposed is not DEFAULT_REGISTRY:
            DEFAULT_REGISTRY.merge(exposed)
        loaded.append(module)
    return loaded


def _load(name: str) -> ModuleType:
    try:
        return _import(name)
    except HandlerModuleError:
        raise
    except ModuleNotFoundError as exc:
        if not _names_module(exc, name):
            raise HandlerModuleError(f"importing {name!r} raised {_exception_line(exc)}") from None
        raise HandlerModuleError(
            f"expected a dotted module name importable from {Path.cwd()} or a path to a "
            f".py file, got {name!r} (no module named {exc.name!r})"
        ) from None
    except Exception as exc:  # the user's module is broken: say where, not a traceback
        raise HandlerModuleError(f"importing {name!r} raised {_exception_line(exc)}") from None


def _import(name: str) -> ModuleType:
    """Import a dotted module name, or execute a ``.py`` file as a module."""
    if not (name.endswith(".py") or "/" in name or "\\" in name):
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as `python -m` would: the project's modules
        return importlib.import_module(name)
    path = Path(name).resolve()
    if not path.is_file():
        raise HandlerModuleError(
            f"expected a path to a .py file or a dotted module name, got {name!r} "
            f"(no such file: {path})"
        )
    module_name = f"stepline_handlers_{path.stem}"
    loaded = sys.modules.get(module_name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded  # `stepline worker` imports it before Celery does: run it once
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise HandlerModuleError(f"expected a Python source file, got {name!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)  # as importlib does: a failed import leaves no module
        raise
    return module


def _names_module(exc: ModuleNotFoundError, name: str) -> bool:
    """Whether ``exc`` says ``name`` itself (or its package) is missing, not an import in it."""
    return exc.name is not None and (name == exc.name or name.startswith(exc.name + "."))


def _exception_line(exc: BaseException) -> str:
    """``Type: message (file, line N)``: where the user's code raised, on one line."""
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        return f"{kind}: {exc.msg} ({exc.filename}, line {exc.lineno})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _internal(f.filename)]
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"{kind}: {exc}{where}"


def _internal(filename: str) -> bool:
    """Frames of the import machinery and of this module say nothing about the user's code."""
    return filename.startswith("<frozen") or filename == __file__
