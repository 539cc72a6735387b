"""Type and range checks for single values, each reporting what it expected and found.

Every ``expect_*`` function records a diagnostic at ``path`` and returns False when the
value does not fit, so callers can skip checks that only make sense for a well-typed
value. Booleans are never numbers here, although Python's ``bool`` is an ``int``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeGuard

from engine._asl.validation.report import Json, Report, describe

MAX_SECONDS = 99_999_999
"""The largest count of seconds AWS accepts in Wait, Task and Retry fields."""


def label(path: str) -> str:
    """How a message names the field at ``path``: its key, or its index in an array."""
    parent, _, last = path.rpartition("/")
    last = last.replace("~1", "/").replace("~0", "~")
    if last.isdigit():
        owner = parent.rpartition("/")[2].replace("~1", "/").replace("~0", "~")
        return f"Item {last} of '{owner}'"
    return f"'{last}'" if last else "The definition"


def fail(report: Report, path: str, expected: str, value: Json) -> bool:
    """Record that the value at ``path`` is not ``expected``; always False."""
    report.error(path, f"{label(path)} must be {expected}, got {describe(value)}")
    return False


def is_integer(value: Json) -> TypeGuard[int]:
    """Whether ``value`` is a JSON integer (not a boolean, not a fraction)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Json) -> TypeGuard[int | float]:
    """Whether ``value`` is a JSON number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


JSONATA_ALTERNATIVE = " or a JSONata expression '{% ... %}'"


def expect_integer(
    report: Report,
    path: str,
    value: Json,
    *,
    minimum: int = 0,
    maximum: int = MAX_SECONDS,
    or_jsonata: bool = False,
) -> bool:
    """An integer in ``[minimum, maximum]`` (``or_jsonata``: the message offers JSONata too)."""
    expected = _range_text("an integer", minimum, maximum)
    expected += JSONATA_ALTERNATIVE if or_jsonata else ""
    if not is_integer(value) or not minimum <= value <= maximum:
        return fail(report, path, expected, value)
    return True


def expect_number(
    report: Report,
    path: str,
    value: Json,
    *,
    minimum: float,
    maximum: float | None = None,
    or_jsonata: bool = False,
) -> bool:
    """A number in ``[minimum, maximum]`` (no upper bound when ``maximum`` is None)."""
    expected = _range_text("a number", minimum, maximum)
    expected += JSONATA_ALTERNATIVE if or_jsonata else ""
    if not is_number(value) or value < minimum or (maximum is not None and value > maximum):
        return fail(report, path, expected, value)
    return True


def _range_text(kind: str, minimum: float, maximum: float | None) -> str:
    if maximum is None:
        return f"{kind} >= {minimum}"
    return f"{kind} between {minimum} and {maximum}"


def expect_string(report: Report, path: str, value: Json, *, non_empty: bool = False) -> bool:
    """A string (a non-empty one when ``non_empty``)."""
    if not isinstance(value, str):
        return fail(report, path, "a string", value)
    if non_empty and not value:
        return fail(report, path, "a non-empty string", value)
    return True


def expect_boolean(report: Report, path: str, value: Json) -> bool:
    """``true`` or ``false``."""
    return isinstance(value, bool) or fail(report, path, "a boolean", value)


def expect_object(report: Report, path: str, value: Json) -> bool:
    """A JSON object."""
    return isinstance(value, dict) or fail(report, path, "an object", value)


def expect_array(report: Report, path: str, value: Json, *, non_empty: bool = False) -> bool:
    """A JSON array (a non-empty one when ``non_empty``)."""
    if not isinstance(value, list):
        return fail(report, path, "an array", value)
    if non_empty and not value:
        return fail(report, path, "a non-empty array", value)
    return True


def expect_choice(report: Report, path: str, value: Json, choices: Iterable[str]) -> bool:
    """One of the strings in ``choices``."""
    options = list(choices)
    if isinstance(value, str) and value in options:
        return True
    return fail(report, path, "one of " + ", ".join(f"'{o}'" for o in options), value)
