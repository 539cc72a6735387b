"""Keeping JSONata from building strings larger than the payload limit.

Measured before this guard: ``$pad('x', 300000000)`` took a worker to 1 GB, and doubling
a string with ``&`` thirty times needs 1 GB in thirty steps, well inside the step budget.
No value larger than the payload limit can leave a state (AWS fails it with
``States.DataLimitExceeded``), so an expression that would build a string larger than the
limit is refused *before* the string exists: ``$pad``, ``$join``, ``$replace`` (plain
patterns), ``$string`` and ``&`` compute the would-be size first; every other built-in
function has its string result checked (they grow their input by a bounded factor, so
one call cannot exhaust memory, but a chain of them could).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jsonata import Jsonata, Utils

from engine._dataflow.sizes import DEFAULT_MAX_BYTES, ensure_within, json_size

_LIMIT: ContextVar[int] = ContextVar("stepline_jsonata_max_bytes", default=DEFAULT_MAX_BYTES)


@contextmanager
def size_limit(max_bytes: int) -> Iterator[None]:
    """Make ``max_bytes`` the largest string an expression may build, for a block."""
    token = _LIMIT.set(max_bytes)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def _text_size(value: Any, limit: int) -> int:
    """At least the length of ``$string(value)``, measured without building it."""
    if isinstance(value, str):
        return len(value)
    if value is None or value is Utils.NULL_VALUE:
        return 0
    if isinstance(value, list | dict):
        return json_size(value, limit)
    return 0  # numbers, booleans, functions: short


def _refuse(size: int, what: str) -> None:
    ensure_within(size, _LIMIT.get(), f"The result of {what}")


def _pad(string: Any, width: Any = None, char: Any = None) -> None:
    if isinstance(string, str) and isinstance(width, int | float):
        _refuse(int(min(abs(width), 2**62)), "$pad")


def _join(strings: Any, separator: Any = None) -> None:
    if isinstance(strings, list):
        gaps = max(len(strings) - 1, 0) * (len(separator) if isinstance(separator, str) else 0)
        _refuse(gaps + sum(len(item) for item in strings if isinstance(item, str)), "$join")


def _replace(string: Any, pattern: Any, replacement: Any = None, limit: Any = None) -> None:
    if not (isinstance(string, str) and isinstance(pattern, str) and pattern):
        return  # a regular expression or a function: the result is checked afterwards
    if not isinstance(replacement, str):
        return
    matches = string.count(pattern)
    if isinstance(limit, int | float):
        matches = min(matches, int(limit))
    _refuse(len(string) + matches * (len(replacement) - len(pattern)), "$replace")


def _string(value: Any, prettify: Any = None) -> None:
    _refuse(_text_size(value, _LIMIT.get()), "$string")


_GUARDS: dict[str, Callable[..., None]] = {
    "pad": _pad,
    "join": _join,
    "replace": _replace,
    "string": _string,
}


class _GuardedNative(Jsonata.JNativeFunction):  # type: ignore[misc]  # the library is untyped
    """A built-in function, refusing to build (or return) a string over the limit."""

    def __init__(self, name: str, original: Any) -> None:
        self.__dict__.update(original.__dict__)  # same method, signature and arity
        self._guard = _GUARDS.get(name)
        self._label = f"${name}"

    def call(self, input: Any, args: Sequence[Any] | None) -> Any:  # the library's name
        """Check the would-be size, call the built-in, check the string it returns."""
        arguments = list(args or ())
        if self._guard is not None:
            self._guard(*arguments, *([None] * (self.nargs - len(arguments))))
        result = super().call(input, args)
        if isinstance(result, str):
            _refuse(len(result), self._label)
        return result


def guarded_builtins() -> dict[str, Any]:
    """Every native JSONata built-in, wrapped with the size checks, by name."""
    return {
        name: _GuardedNative(name, function)
        for name, function in Jsonata.static_frame.bindings.items()
        if isinstance(function, Jsonata.JNativeFunction)
    }


class BoundedJsonata(Jsonata):  # type: ignore[misc]  # the library is untyped
    """The library's evaluator, with ``&`` refusing to build a string over the limit."""

    def evaluate_string_concat(self, lhs: Any, rhs: Any) -> str:
        """``lhs & rhs``, measured first."""
        limit = _LIMIT.get()
        _refuse(_text_size(lhs, limit) + _text_size(rhs, limit), "the '&' operator")
        result: str = super().evaluate_string_concat(lhs, rhs)
        return result
