"""Handler modules given as ``.py`` paths import like dotted names: once, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine._loading import HandlerModuleError, import_handler_modules


def test_a_handler_file_imported_twice_runs_once(tmp_path: Path) -> None:
    # Given a handler file that counts its executions in a file beside it
    counter = tmp_path / "runs.txt"
    module = tmp_path / "loading_counted_handlers.py"
    module.write_text(
        f"import pathlib\nruns = pathlib.Path({str(counter)!r})\n"
        "with runs.open('a') as file:\n    file.write('x')\n"
    )
    # When it is imported twice (as `stepline worker` checks it, then Celery imports it)
    first = import_handler_modules([str(module)])
    second = import_handler_modules([str(module)])
    # Then the second import is the first module: its code ran once
    assert first == second
    assert counter.read_text() == "x"


def test_a_handler_file_that_failed_to_import_fails_again(tmp_path: Path) -> None:
    # Given a handler file that raises while it is imported
    module = tmp_path / "loading_failing_handlers.py"
    module.write_text("raise RuntimeError('not configured')\n")
    with pytest.raises(HandlerModuleError, match="not configured"):
        import_handler_modules([str(module)])
    # When it is imported again
    # Then it fails again: no half-initialised module was left behind to be reused
    with pytest.raises(HandlerModuleError, match="not configured"):
        import_handler_modules([str(module)])
