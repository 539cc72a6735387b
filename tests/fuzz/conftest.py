"""Prints (and, with ``STEPLINE_FUZZ_REPORT=path``, records) the fuzz numbers at the end."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.fuzz.harness import LEDGER


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line: the case count, the slowest case and the peak memory of a case."""
    if not LEDGER.cases:
        return
    terminalreporter.write_line(LEDGER.summary())
    report = os.environ.get("STEPLINE_FUZZ_REPORT")
    if report:
        LEDGER.write(Path(report))
