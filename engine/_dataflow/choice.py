"""Evaluation of JSONPath Choice rules, as AWS evaluates them.

A rule is a `Comparison` (``Variable`` tested by one operator), or ``Not`` / ``And`` /
``Or`` of rules. AWS's behaviour, which this module follows:

* a value of the wrong type never matches: ``StringEquals`` on a number, ``NumericEquals``
  on ``true`` or ``"1"``, ``TimestampEquals`` on a string that is not a timestamp are all
  false, never errors; booleans are not numbers;
* numbers compare by value (``1 == 1.0``); strings compare as Java compares them, by UTF-16
  code unit; timestamps compare as instants (offsets applied, nanoseconds kept);
* a ``Variable`` (or a ``*Path`` operand) that selects nothing is a ``States.Runtime``
  error, except under ``IsPresent``, which exists to test exactly that;
* ``Variable`` and ``*Path`` operands are reference paths into the state input (``$``),
  the context object (``$$``) or a workflow variable (``$name``).

JSONata ``Condition`` rules are the interpreter's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from engine._asl.model import And, ChoiceRule, Comparison, Condition, Json, Not, Or
from engine._dataflow.jsonpath import PathNotFound, query
from engine._dataflow.regex import compile_regex
from engine._dataflow.scope import Scope
from engine._dataflow.timestamps import is_timestamp, timestamp_ns
from engine._errors import ErrorName, StatesRuntimeError

_Test = Callable[[Json, Json], bool]
_PATH_SUFFIX = "Path"


def evaluate_rule(rule: ChoiceRule, scope: Scope) -> bool:
    """Whether a JSONPath Choice rule matches.

    ``And`` and ``Or`` stop at the first rule that decides them, so a later rule's missing
    path is not reported.

    Args:
        rule: a `Comparison`, `Not`, `And` or `Or` from the parsed model.
        scope: the state's effective input (``$``), context object and variables.

    Returns:
        True when the rule matches.

    Raises:
        StatesRuntimeError: ``States.Runtime`` when a path of a comparison other than
            ``IsPresent`` selects nothing.
        TypeError: ``rule`` is a JSONata `Condition`, or an unknown comparison operator
            (the validator rules both out).
    """
    if isinstance(rule, Comparison):
        return _evaluate_comparison(rule, scope)
    if isinstance(rule, Not):
        return not evaluate_rule(rule.rule, scope)
    if isinstance(rule, And):
        return all(evaluate_rule(inner, scope) for inner in rule.rules)
    if isinstance(rule, Or):
        return any(evaluate_rule(inner, scope) for inner in rule.rules)
    if isinstance(rule, Condition):
        raise TypeError("a JSONata Condition is evaluated by the interpreter, not evaluate_rule")
    raise TypeError(f"not a Choice rule: {rule!r}")


def _evaluate_comparison(rule: Comparison, scope: Scope) -> bool:
    """One data-test expression: the operator applied to ``Variable`` and the operand."""
    if rule.operator == "IsPresent":
        return _is_present(rule.variable, scope) is rule.value
    test, operand_is_path = _operator(rule.operator)
    value = _read(rule.variable, scope)
    operand = _read(rule.value, scope) if operand_is_path else rule.value
    return test(value, operand)


def _operator(name: str) -> tuple[_Test, bool]:
    """The test behind operator ``name`` and whether its operand is a path."""
    if name in _TESTS:
        return _TESTS[name], False
    base = name.removesuffix(_PATH_SUFFIX)
    if base != name and base in _TESTS and base not in _NO_PATH_FORM:
        return _TESTS[base], True
    raise TypeError(f"unknown Choice comparison operator {name!r}")


# --- reading paths ----------------------------------------------------------------------


def _read(path: str, scope: Scope) -> Json:
    """The value ``path`` selects, or the ``States.Runtime`` error AWS raises for none."""
    value = _select_reference(path, scope)
    if value is _MISSING:
        raise StatesRuntimeError(
            ErrorName.RUNTIME,
            f"Invalid path '{path}': The choice state's condition path references "
            "an invalid value.",
        )
    return value


def _is_present(path: str, scope: Scope) -> bool:
    """Whether ``path`` selects something (a JSON ``null`` counts as present)."""
    return _select_reference(path, scope) is not _MISSING


def _select_reference(path: str, scope: Scope) -> Json:
    """What ``path`` selects from the input, the context object or a variable, or `_MISSING`."""
    try:
        return query(path, scope)
    except PathNotFound:
        return _MISSING


# Stands for "the path selects nothing": JSON null is a value, so None cannot.
_MISSING: Json = object()


# --- the operators ----------------------------------------------------------------------


def _is_number(value: Json) -> bool:
    """A JSON number: int or float, but not bool (which Python counts as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _utf16(text: str) -> bytes:
    """A key that orders strings by UTF-16 code unit, as Java's ``String.compareTo``."""
    return text.encode("utf-16-be", "surrogatepass")


def _strings(compare: Callable[[bytes, bytes], bool]) -> _Test:
    """A test that is ``compare`` on two strings' UTF-16 keys, false for any non-string."""

    def test(value: Json, operand: Json) -> bool:
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        return compare(_utf16(value), _utf16(operand))

    return test


def _numbers(compare: Callable[[float, float], bool]) -> _Test:
    """A test that is ``compare`` on two numbers, false for anything else."""

    def test(value: Json, operand: Json) -> bool:
        return _is_number(value) and _is_number(operand) and compare(value, operand)

    return test


def _timestamps(compare: Callable[[int, int], bool]) -> _Test:
    """A test that is ``compare`` on two timestamps' instants, false for non-timestamps."""

    def test(value: Json, operand: Json) -> bool:
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        left, right = timestamp_ns(value), timestamp_ns(operand)
        return left is not None and right is not None and compare(left, right)

    return test


def _boolean_equals(value: Json, operand: Json) -> bool:
    """``BooleanEquals``: both booleans and equal."""
    return isinstance(value, bool) and isinstance(operand, bool) and value is operand


def _string_matches(value: Json, pattern: Json) -> bool:
    r"""``StringMatches``: ``*`` matches any run of characters; ``\*`` and ``\\`` escape."""
    if not (isinstance(value, str) and isinstance(pattern, str)):
        return False
    return _wildcard_regex(pattern).fullmatch(value) is not None


@lru_cache(maxsize=256)
def _wildcard_regex(pattern: str) -> Any:
    r"""The regex equivalent of an AWS ``StringMatches`` pattern, matched by RE2.

    A backslash makes the next character literal (AWS documents ``\*`` and ``\\``); a
    trailing lone backslash stands for itself. RE2, not ``re``: ``.*`` runs backtrack in
    ``re`` (``a*a*a*a*a*a*a*a*a*a*a*a*b`` against 40 ``a`` took minutes).
    """
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            parts.append(_literal(pattern[index]))
        else:
            parts.append(".*" if char == "*" else _literal(char))
        index += 1
    return compile_regex("".join(parts), dot_all=True)


def _literal(char: str) -> str:
    """``char`` as an RE2 pattern matching only itself (a lone surrogate: U+FFFD, see regex)."""
    if char.isascii() and char.isalnum():
        return char
    code = 0xFFFD if 0xD800 <= ord(char) <= 0xDFFF else ord(char)
    return f"\\x{{{code:x}}}"


def _is_test(predicate: Callable[[Json], bool]) -> _Test:
    """An ``Is*`` test: the predicate's verdict on the value equals the literal boolean."""

    def test(value: Json, expected: Json) -> bool:
        return predicate(value) is expected

    return test


_TESTS: dict[str, _Test] = {
    "StringEquals": _strings(lambda a, b: a == b),
    "StringLessThan": _strings(lambda a, b: a < b),
    "StringGreaterThan": _strings(lambda a, b: a > b),
    "StringLessThanEquals": _strings(lambda a, b: a <= b),
    "StringGreaterThanEquals": _strings(lambda a, b: a >= b),
    "StringMatches": _string_matches,
    "NumericEquals": _numbers(lambda a, b: a == b),
    "NumericLessThan": _numbers(lambda a, b: a < b),
    "NumericGreaterThan": _numbers(lambda a, b: a > b),
    "NumericLessThanEquals": _numbers(lambda a, b: a <= b),
    "NumericGreaterThanEquals": _numbers(lambda a, b: a >= b),
    "BooleanEquals": _boolean_equals,
    "TimestampEquals": _timestamps(lambda a, b: a == b),
    "TimestampLessThan": _timestamps(lambda a, b: a < b),
    "TimestampGreaterThan": _timestamps(lambda a, b: a > b),
    "TimestampLessThanEquals": _timestamps(lambda a, b: a <= b),
    "TimestampGreaterThanEquals": _timestamps(lambda a, b: a >= b),
    "IsNull": _is_test(lambda value: value is None),
    "IsNumeric": _is_test(_is_number),
    "IsString": _is_test(lambda value: isinstance(value, str)),
    "IsBoolean": _is_test(lambda value: isinstance(value, bool)),
    "IsTimestamp": _is_test(is_timestamp),
}

# Operators ASL gives no `*Path` form (the `Is*` family takes a literal boolean).
_NO_PATH_FORM = frozenset(
    {"StringMatches", "IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
)
