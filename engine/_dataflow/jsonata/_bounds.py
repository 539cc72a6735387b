"""Keeping JSONata from building strings larger than the payload limit.

Measured before this guard: ``$pad('x', 300000000)`` took a worker to 1 GB, and doubling
a string with ``&`` thirty times needs 1 GB in thirty steps, well inside the step budget.
No value larger than the payload limit can leave a state (AWS fails it with
``States.DataLimitExceeded``), so an expression that would build a string larger than the
limit is refused *before* the string exists: ``$pad``, ``$join``, ``$replace`` (plain
patterns), ``$string`` and ``&`` compute the would-be size first; every other built-in
function has its string result checked (they grow their input by a bounded factor, so
one call cannot exhaust memory, but a chain of them could).

Arrays and objects are bounded the same way (found by the fuzz suite: ``[1..100000000]``
and ``$map([1..500000], function($v){ [1..500000] })`` reached GBs): every node's result
is checked as it is returned (`BuildBudget`). One array or object of more items than
the limit has bytes (each item needs at least a digit and a comma) can never leave the
state and is refused at once, before a range is even materialised (the library builds
ranges lazily); and the items of all arrays an evaluation returns from its nodes are
counted against `MAX_BUILT_ITEMS`, so that many large arrays cannot add up either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jsonata import Jsonata, Utils

from engine._dataflow.jsonata._linear import LINEAR_BUILTINS, regex_engine
from engine._dataflow.sizes import DEFAULT_MAX_BYTES, ensure_within, json_size

_LIMIT: ContextVar[int] = ContextVar("stepline_jsonata_max_bytes", default=DEFAULT_MAX_BYTES)
BUILT_ITEMS_PER_LIMIT_BYTE = 4
"""`MAX_BUILT_ITEMS` = this × the build limit: 4 Mi items (about 32 MiB of pointers, 150 MiB
with fresh numbers) for AWS's limit, 8 times the largest array a node may return."""


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
        self.method: Any = LINEAR_BUILTINS.get(name, original.method)
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


class BuildBudget:
    """The library's per-node exit hook, bounding the arrays and objects nodes return.

    An array or object too large to leave the state is refused; the items of every array
    returned are counted against a budget.

    Raises:
        ValueTooLarge: one array or object has more items than the limit has bytes.
        BuildBudgetExceeded: the arrays returned so far hold more than `max_items` items.
    """

    def __init__(self, max_bytes: int) -> None:
        self.largest = max_bytes // 2  # "1," per item at the least
        self.max_items = BUILT_ITEMS_PER_LIMIT_BYTE * max_bytes
        self.remaining = self.max_items

    def __call__(self, _expr: Any, _input: Any, _environment: Any, result: Any) -> None:
        if not isinstance(result, list | dict):
            return
        items = len(result)
        if items > self.largest:
            ensure_within(2 * items, 2 * self.largest, "The result of an expression")
        if isinstance(result, list):
            self.remaining -= items
            if self.remaining < 0:
                raise BuildBudgetExceeded(
                    f"The evaluation built arrays of more than {self.max_items} items in all; "
                    "check for a loop that builds an array on every pass"
                )


class BuildBudgetExceeded(Exception):
    """The arrays an evaluation built hold more than `BuildBudget.max_items` items."""


class BoundedJsonata(Jsonata):  # type: ignore[misc]  # the library is untyped
    """The library's evaluator, with RE2 regexes, a bounded ``&`` and a linear ``*``.

    ``&`` refuses to build a string over the limit; the library's ``*`` copied its result
    for every member.
    """

    def __init__(self, expression: str) -> None:
        super().__init__(expression, regex_engine)

    def evaluate_wildcard(self, expr: Any, input: Any) -> Any:  # the library's names
        """``*``: every member value of an object (or of each object of an array), flattened."""
        if isinstance(input, Utils.JList) and input.outer_wrapper and input:
            input = input[0]
        values = input.values() if isinstance(input, dict) else input
        results = Utils.create_sequence()
        if not isinstance(values, Iterable) or isinstance(values, str):
            return results
        flattened = False
        for value in values:
            if isinstance(value, list):
                results.extend(self.flatten(value, None))
                flattened = True
            else:
                results.append(value)
        # The library appended arrays with Functions.append, which returns a plain array.
        return Utils.JList(results) if flattened else results

    def evaluate_string_concat(self, lhs: Any, rhs: Any) -> str:
        """``lhs & rhs``, measured first."""
        limit = _LIMIT.get()
        _refuse(_text_size(lhs, limit) + _text_size(rhs, limit), "the '&' operator")
        result: str = super().evaluate_string_concat(lhs, rhs)
        return result
