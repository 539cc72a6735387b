r"""EventBridge event patterns: validate a pattern, match it against an event.

Semantics follow the EventBridge user guide ("Event patterns", "Content filtering in
Amazon EventBridge event patterns", "Comparison operators", "Arrays in event patterns"):

- A pattern is a JSON object. Every leaf is an array of matchers, OR-ed; sibling fields
  are AND-ed; nested objects match nested objects of the event.
- A matcher is an exact value (string, number, ``null``, boolean; numbers compare by
  value, so ``300`` matches ``3.0e2``) or a one-key operator object: ``prefix``,
  ``suffix`` (both also with ``{"equals-ignore-case": ...}``), ``equals-ignore-case``,
  ``anything-but`` (a value, a list of strings or of numbers, or ``prefix`` / ``suffix``
  / ``equals-ignore-case`` / ``wildcard``), ``numeric`` (``=``, or one lower and/or one
  upper bound), ``exists``, ``wildcard`` (``*``; ``\*`` and ``\\`` escape) and ``cidr``
  (IPv4 or IPv6). ``"$or": [pattern, pattern, ...]`` ORs whole sub-patterns.
- An array in the event matches when any of its elements matches; an array of objects
  is searched element by element. ``exists`` looks at leaves only: a field holding an
  object "does not exist" for it, as AWS documents.

Why not a library: PyPI's ``event-ruler`` (0.3.0, last release 2023) wraps AWS's Go
Ruler through a native gopy build and is not maintained; moto's matcher
(``moto.events.models``) implements only ``exists``, ``prefix`` and ``numeric`` (any
other operator warns and *matches*), compares exact values as strings only, and would
pull moto and boto into the runtime. The semantics are small and documented, so they are
written here, each tested against AWS's own examples.

Decisions where AWS is silent: an empty pattern, an empty matcher list and an empty
object are refused (they can only be mistakes); string operators (``prefix``,
``wildcard`` and the string forms of ``anything-but``) never match non-string values.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

Json = Any

OR_KEY = "$or"
# The EventBridge user guide bounds numeric matching to +/-5.0e9.
NUMERIC_LIMIT = 5.0e9
_LOWER = frozenset({">", ">="})
_UPPER = frozenset({"<", "<="})
_MISSING: Any = object()


class InvalidEventPattern(ValueError):
    """An event pattern EventBridge would refuse (its API error: InvalidEventPatternException).

    Attributes:
        path: JSONPath-like location of the problem in the pattern, e.g. ``$.detail.x[0]``.
        expected: what is allowed there.
        received: what was found there.
    """

    code = "InvalidEventPatternException"

    def __init__(self, path: str, expected: str, received: str):
        super().__init__(
            f"Event pattern is not valid at {path}: expected {expected}, got {received}"
        )
        self.path = path
        self.expected = expected
        self.received = received


def validate_pattern(pattern: Json) -> None:
    """Check that ``pattern`` is an event pattern EventBridge accepts.

    Args:
        pattern: the parsed JSON pattern.

    Raises:
        InvalidEventPattern: naming the first problem's path, what was expected there and
            what was received.
    """
    _validate_object(pattern, "$")


def matches(pattern: Json, event: Json) -> bool:
    """Whether ``event`` matches ``pattern`` with EventBridge's semantics.

    Args:
        pattern: the parsed JSON pattern; it is validated first.
        event: the parsed JSON event (any JSON; only objects can match).

    Returns:
        True when every field of the pattern matches the event.

    Raises:
        InvalidEventPattern: when the pattern is malformed, so that a typo never reads as
            "no match".
    """
    validate_pattern(pattern)
    return isinstance(event, dict) and _match_object(pattern, event)


# --- validation ----------------------------------------------------------------------


def _validate_object(pattern: Json, path: str) -> None:
    if not isinstance(pattern, dict):
        raise InvalidEventPattern(path, "a JSON object", _describe(pattern))
    if not pattern:
        raise InvalidEventPattern(path, "at least one field", "an empty object")
    for key, rule in pattern.items():
        _validate_field(key, rule, _child(path, key))


def _validate_field(key: str, rule: Json, path: str) -> None:
    if key == OR_KEY:
        _validate_or(rule, path)
    elif isinstance(rule, dict):
        _validate_object(rule, path)
    elif isinstance(rule, list):
        _validate_matchers(rule, path)
    else:
        raise InvalidEventPattern(path, "an object or an array of match values", _describe(rule))


def _validate_or(rule: Json, path: str) -> None:
    if not isinstance(rule, list) or len(rule) < 2:
        raise InvalidEventPattern(path, "an array of at least two patterns", _describe(rule))
    for index, branch in enumerate(rule):
        _validate_object(branch, f"{path}[{index}]")


def _validate_matchers(matchers: list[Json], path: str) -> None:
    if not matchers:
        raise InvalidEventPattern(path, "at least one match value", "an empty array")
    for index, matcher in enumerate(matchers):
        where = f"{path}[{index}]"
        if isinstance(matcher, dict):
            _validate_operator(matcher, where)
        elif isinstance(matcher, list):
            raise InvalidEventPattern(where, "a value or an operator object", _describe(matcher))


def _validate_operator(matcher: dict[str, Json], path: str) -> None:
    if len(matcher) != 1:
        raise InvalidEventPattern(path, "an object with exactly one operator", _describe(matcher))
    ((name, argument),) = matcher.items()
    validator = _VALIDATORS.get(name)
    if validator is None:
        expected = "one of the operators " + ", ".join(sorted(_VALIDATORS))
        raise InvalidEventPattern(path, expected, f"the operator {name!r}")
    validator(argument, _child(path, name))


def _need_string(argument: Json, path: str) -> None:
    if not isinstance(argument, str):
        raise InvalidEventPattern(path, "a string", _describe(argument))


def _validate_affix(argument: Json, path: str) -> None:
    # prefix / suffix take a string or {"equals-ignore-case": string}.
    if isinstance(argument, dict) and list(argument) == ["equals-ignore-case"]:
        _need_string(argument["equals-ignore-case"], _child(path, "equals-ignore-case"))
    elif not isinstance(argument, str):
        expected = 'a string or {"equals-ignore-case": string}'
        raise InvalidEventPattern(path, expected, _describe(argument))


def _validate_exists(argument: Json, path: str) -> None:
    if not isinstance(argument, bool):
        raise InvalidEventPattern(path, "true or false", _describe(argument))


def _validate_wildcard(argument: Json, path: str) -> None:
    _need_string(argument, path)
    try:
        _wildcard_regex(argument)
    except ValueError as error:
        received = f"{argument!r} ({error})"
        raise InvalidEventPattern(path, "a valid wildcard pattern", received) from None


def _validate_cidr(argument: Json, path: str) -> None:
    _need_string(argument, path)
    try:
        ipaddress.ip_network(argument, strict=False)
    except ValueError:
        raise InvalidEventPattern(path, "an IPv4 or IPv6 CIDR block", repr(argument)) from None


def _validate_numeric(argument: Json, path: str) -> None:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        expected = 'an array of one or two [operator, number] pairs, e.g. [">", 0, "<=", 5]'
        raise InvalidEventPattern(path, expected, _describe(argument))
    pairs = [(argument[i], argument[i + 1]) for i in range(0, len(argument), 2)]
    for index, (operator, bound) in enumerate(pairs):
        _validate_comparison(operator, bound, f"{path}[{2 * index}]")
    _validate_range([operator for operator, _ in pairs], [bound for _, bound in pairs], path)


def _validate_comparison(operator: Json, bound: Json, path: str) -> None:
    if operator not in _COMPARATORS:
        raise InvalidEventPattern(path, "one of =, <, <=, >, >=", _describe(operator))
    if not _is_number(bound) or not -NUMERIC_LIMIT <= bound <= NUMERIC_LIMIT:
        expected = f"a number between -{NUMERIC_LIMIT:.1e} and {NUMERIC_LIMIT:.1e}"
        raise InvalidEventPattern(_next_index(path), expected, _describe(bound))


def _validate_range(operators: list[str], bounds: list[float], path: str) -> None:
    if len(operators) == 1:
        return
    if operators[0] not in _LOWER or operators[1] not in _UPPER:
        expected = "a lower bound (> or >=) followed by an upper bound (< or <=)"
        raise InvalidEventPattern(path, expected, _describe(operators))
    if bounds[0] >= bounds[1]:
        raise InvalidEventPattern(path, "a lower bound below the upper bound", _describe(bounds))


def _validate_anything_but(argument: Json, path: str) -> None:
    if isinstance(argument, dict):
        _validate_anything_but_operator(argument, path)
    elif isinstance(argument, list):
        _validate_anything_but_list(argument, path)
    elif not isinstance(argument, str) and not _is_number(argument):
        expected = "a string, a number, a list of strings or numbers, or an operator object"
        raise InvalidEventPattern(path, expected, _describe(argument))


def _validate_anything_but_list(argument: list[Json], path: str) -> None:
    all_strings = all(isinstance(item, str) for item in argument)
    all_numbers = all(_is_number(item) for item in argument)
    if not argument or not (all_strings or all_numbers):
        expected = "a non-empty list of only strings or only numbers"
        raise InvalidEventPattern(path, expected, _describe(argument))


def _validate_anything_but_operator(argument: dict[str, Json], path: str) -> None:
    names = sorted(_ANYTHING_BUT_OPERATORS)
    if len(argument) != 1 or next(iter(argument)) not in _ANYTHING_BUT_OPERATORS:
        expected = "an object with one of " + ", ".join(names)
        raise InvalidEventPattern(path, expected, _describe(argument))
    ((name, inner),) = argument.items()
    where = _child(path, name)
    if name in ("prefix", "suffix"):
        _need_string(inner, where)
        return
    values = inner if isinstance(inner, list) else [inner]
    if not values:
        raise InvalidEventPattern(where, "a string or a non-empty list of strings", "[]")
    check = _validate_wildcard if name == "wildcard" else _need_string
    for index, value in enumerate(values):
        check(value, f"{where}[{index}]" if isinstance(inner, list) else where)


_VALIDATORS: dict[str, Callable[[Json, str], None]] = {
    "prefix": _validate_affix,
    "suffix": _validate_affix,
    "equals-ignore-case": _need_string,
    "anything-but": _validate_anything_but,
    "numeric": _validate_numeric,
    "exists": _validate_exists,
    "wildcard": _validate_wildcard,
    "cidr": _validate_cidr,
}
_ANYTHING_BUT_OPERATORS = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})


# --- matching ------------------------------------------------------------------------


def _match_object(pattern: dict[str, Json], event: dict[str, Json]) -> bool:
    return all(_match_field(key, rule, event) for key, rule in pattern.items())


def _match_field(key: str, rule: Json, event: dict[str, Json]) -> bool:
    if key == OR_KEY:
        return any(_match_object(branch, event) for branch in rule)
    value = event.get(key, _MISSING)
    if isinstance(rule, dict):
        return _match_nested(rule, value)
    return _match_leaf(rule, value)


def _match_nested(rule: dict[str, Json], value: Json) -> bool:
    if isinstance(value, dict):
        return _match_object(rule, value)
    if isinstance(value, list) and value:
        # An array of objects is searched element by element (one element must match).
        return any(_match_nested(rule, item) for item in value)
    # Nothing to descend into: only `exists: false` (and $or of it) can still match.
    return _match_object(rule, {})


def _match_leaf(matchers: list[Json], value: Json) -> bool:
    values = list(_leaf_values(value))
    return any(_match_matcher(matcher, values) for matcher in matchers)


def _leaf_values(value: Json) -> Iterator[Json]:
    """The scalar values at a leaf: none when missing or an object, the elements of arrays."""
    if value is _MISSING or isinstance(value, dict):
        return
    if isinstance(value, list):
        for item in value:
            yield from _leaf_values(item)
        return
    yield value


def _match_matcher(matcher: Json, values: list[Json]) -> bool:
    if isinstance(matcher, dict):
        ((name, argument),) = matcher.items()
        if name == "exists":
            return bool(values) is argument
        operator = _OPERATORS[name]
        return any(operator(argument, value) for value in values)
    return any(_equal(matcher, value) for value in values)


def _equal(expected: Json, value: Json) -> bool:
    if _is_number(expected) and _is_number(value):
        return math.isclose(expected, value, rel_tol=0.0, abs_tol=1e-9)
    return type(expected) is type(value) and bool(expected == value)


def _match_prefix(argument: Json, value: Json) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict):
        return value.casefold().startswith(argument["equals-ignore-case"].casefold())
    return value.startswith(argument)


def _match_suffix(argument: Json, value: Json) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict):
        return value.casefold().endswith(argument["equals-ignore-case"].casefold())
    return value.endswith(argument)


def _match_ignore_case(argument: str, value: Json) -> bool:
    return isinstance(value, str) and value.casefold() == argument.casefold()


def _match_wildcard(argument: str, value: Json) -> bool:
    return isinstance(value, str) and _wildcard_regex(argument).fullmatch(value) is not None


def _match_cidr(argument: str, value: Json) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(argument, strict=False)
    except ValueError:
        return False


def _match_numeric(argument: list[Json], value: Json) -> bool:
    if not _is_number(value):
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(_COMPARATORS[operator](value, bound) for operator, bound in pairs)


def _match_anything_but(argument: Json, value: Json) -> bool:
    if isinstance(argument, dict):
        ((name, inner),) = argument.items()
        if not isinstance(value, str):
            return False
        if name in ("prefix", "suffix"):
            return not _OPERATORS[name](inner, value)
        excluded = inner if isinstance(inner, list) else [inner]
        return not any(_OPERATORS[name](item, value) for item in excluded)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equal(item, value) for item in excluded)


_COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda value, bound: math.isclose(value, bound, rel_tol=0.0, abs_tol=1e-9),
    "<": lambda value, bound: value < bound,
    "<=": lambda value, bound: value <= bound,
    ">": lambda value, bound: value > bound,
    ">=": lambda value, bound: value >= bound,
}
_OPERATORS: dict[str, Callable[[Any, Json], bool]] = {
    "prefix": _match_prefix,
    "suffix": _match_suffix,
    "equals-ignore-case": _match_ignore_case,
    "anything-but": _match_anything_but,
    "numeric": _match_numeric,
    "wildcard": _match_wildcard,
    "cidr": _match_cidr,
}


# --- helpers -------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _wildcard_regex(text: str) -> re.Pattern[str]:
    r"""Compile an EventBridge wildcard (``*`` any run; ``\*``, ``\\`` literal).

    Raises:
        ValueError: on consecutive ``*`` or a backslash escaping anything else.
    """
    parts: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            escaped = text[index + 1 : index + 2]
            if escaped not in ("*", "\\"):
                raise ValueError(f"'\\' at position {index} must escape '*' or '\\'")
            parts.append(re.escape(escaped))
            index += 2
            continue
        if char == "*" and text[index + 1 : index + 2] == "*":
            raise ValueError(f"consecutive '*' at position {index}")
        parts.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)


def _is_number(value: Json) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _child(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _next_index(path: str) -> str:
    """The path of the element after ``path`` (``x[2]`` -> ``x[3]``)."""
    head, _, tail = path.rpartition("[")
    return f"{head}[{int(tail.rstrip(']')) + 1}]"


def _describe(value: Json) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    kind = "null" if value is None else kinds.get(type(value), "a number")
    text = json.dumps(value, default=repr)
    if len(text) > 60:
        text = text[:57] + "..."
    return kind if value is None else f"{kind} {text}"
