"""The 18 ``States.*`` intrinsic functions as a registry of plain functions.

`FUNCTIONS` maps each name to ``function(argument values, scope) -> result``; `SIGNATURES`
gives arity and argument types (see `KINDS`), checked on literals when a call is parsed
(:mod:`engine._dataflow.intrinsics`) and on every value when it is evaluated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from engine._dataflow.jsonpath import compact_json
from engine._dataflow.nesting import loads_within_depth
from engine._dataflow.scope import Json, Rng, Scope
from engine._dataflow.sizes import (
    ensure_value_within,
    ensure_within,
    json_size,
    string_size,
)

_MAX_ENCODING_INPUT: Final = 10_000
_MAX_RANGE_ITEMS: Final = 1_000
_INT32: Final = 2**31
HASH_ALGORITHMS: Final = {
    name: name.replace("-", "").lower()
    for name in ("MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512")
}
"""ASL's hash algorithm names (States.Hash, JSONata's $hash) → hashlib's names."""


@dataclass(frozen=True)
class Signature:
    """Arity (``max_args`` None: no limit) and argument types (see `KINDS`) of a function."""

    min_args: int
    max_args: int | None
    kinds: tuple[str, ...] = ()
    rest: str = "any"

    def kind(self, position: int) -> str:
        """The type of the argument at 0-based ``position``."""
        return self.kinds[position] if position < len(self.kinds) else self.rest


class ArgumentError(Exception):
    """A function's arguments are unusable; ``args[0]`` says why."""


def _is_number(value: Json) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integral(value: Json) -> bool:
    # not float(value).is_integer(): a 400-digit int does not fit a float (OverflowError)
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


KINDS: Final[dict[str, tuple[str, Callable[[Json], bool]]]] = {
    "any": ("any value", lambda value: True),
    "string": ("a string", lambda value: isinstance(value, str)),
    "number": ("a number", _is_number),
    "integer": ("an integer", lambda value: _is_integral(value)),
    "array": ("an array", lambda value: isinstance(value, list)),
    "object": ("a JSON object", lambda value: isinstance(value, dict)),
    "boolean": ("a boolean", lambda value: isinstance(value, bool)),
}
"""Each argument type: how messages name it, and its test."""


def is_kind(value: Json, kind: str) -> bool:
    """Whether ``value`` has the argument type ``kind``."""
    return KINDS[kind][1](value)


def _round_half_up(number: int | float) -> int:
    """Java's ``Math.round``: to the nearest integer, halves towards positive infinity."""
    return number if isinstance(number, int) else math.floor(number + 0.5)


def _canonical(value: Json) -> str:
    """A key equal for equal JSON values (member order ignored, 1 and 1.0 distinct)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# --- the functions ------------------------------------------------------------------------

IntrinsicFunction = Callable[[list[Json], Scope], Json]
"""An intrinsic function: ``function(argument values, scope) -> result``."""

_FUNCTIONS: dict[str, IntrinsicFunction] = {}
_SIGNATURES: dict[str, Signature] = {}
FUNCTIONS: Final[Mapping[str, IntrinsicFunction]] = _FUNCTIONS
"""Every intrinsic function by name (AWS's 18), filled by `_register` below."""
SIGNATURES: Final[Mapping[str, Signature]] = _SIGNATURES
"""Arity and argument types of every function in `FUNCTIONS`."""


def _register(
    name: str, min_args: int, max_args: int | None, kinds: tuple[str, ...] = ()
) -> Callable[[IntrinsicFunction], IntrinsicFunction]:
    def add(function: IntrinsicFunction) -> IntrinsicFunction:
        _FUNCTIONS[name] = function
        _SIGNATURES[name] = Signature(min_args, max_args, kinds)
        return function

    return add


@_register("States.Format", 1, None, ("string",))
def _format(args: list[Json], scope: Scope) -> Json:
    template, values = args[0], args[1:]
    if len(template) - 1 != len(values):
        raise ArgumentError(
            f"the template has {len(template) - 1} '{{}}' placeholder(s) "
            f"but {len(values)} value(s) were given"
        )
    _ensure_format_within(template, values, scope.max_bytes)
    rendered = [template[0]]
    for value, text in zip(values, template[1:], strict=True):
        rendered += [_format_value(value), text]
    return "".join(rendered)


def _ensure_format_within(template: tuple[str, ...], values: list[Json], limit: int) -> None:
    """Refuse a States.Format whose text would exceed ``limit`` bytes, before building it.

    A container prints about as long as its JSON (Java's ``toString`` drops the quotes and
    adds a space after each comma: at most 1.5 times as long).
    """
    size = sum(string_size(text, limit) - 2 for text in template)
    for value in values:
        size += string_size(value, limit) if isinstance(value, str) else json_size(value, limit)
        ensure_within(size, limit, "The result of 'States.Format'")


def _format_value(value: Json) -> str:
    """A value as States.Format prints it: Java's ``Map``/``List`` ``toString`` for containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    return compact_json(value)


@_register("States.StringToJson", 1, 1, ("string",))
def _string_to_json(args: list[Json], scope: Scope) -> Json:
    text = args[0]
    if not text.strip():
        return None  # AWS parses an empty string as null
    try:
        return loads_within_depth(text, parse_constant=_reject_constant)
    except ValueError as error:  # not JSON, or nested too deeply for the interpreter
        raise ArgumentError(
            f"the string is not valid JSON ({error}): {compact_json(text)}"
        ) from None


def _reject_constant(name: str) -> Json:
    raise ValueError(f"{name} is not JSON")


@_register("States.JsonToString", 1, 1)
def _json_to_string(args: list[Json], scope: Scope) -> Json:
    # The text escapes its own quotes: about 1.2 times the JSON size; refuse at the JSON size.
    ensure_value_within(args[0], scope.max_bytes, "The result of 'States.JsonToString'")
    return compact_json(args[0])


@_register("States.Array", 0, None)
def _array(args: list[Json], scope: Scope) -> Json:
    return list(args)


@_register("States.ArrayPartition", 2, 2, ("array", "integer"))
def _array_partition(args: list[Json], scope: Scope) -> Json:
    items, size = args[0], int(args[1])
    if size <= 0:
        raise ArgumentError(f"the chunk size must be a positive integer, but is {args[1]}")
    chunks = -(-len(items) // size)
    ensure_within(  # each chunk adds its brackets and a comma to the items' JSON
        json_size(items, scope.max_bytes) + 3 * chunks,
        scope.max_bytes,
        "The result of 'States.ArrayPartition'",
    )
    return [items[start : start + size] for start in range(0, len(items), size)]


@_register("States.ArrayContains", 2, 2, ("array", "any"))
def _array_contains(args: list[Json], scope: Scope) -> Json:
    wanted = _canonical(args[1])
    return any(_canonical(item) == wanted for item in args[0])


@_register("States.ArrayRange", 3, 3, ("integer", "integer", "integer"))
def _array_range(args: list[Json], scope: Scope) -> Json:
    start, end, step = (int(arg) for arg in args)
    if step == 0:
        raise ArgumentError("the step (argument 3) must not be 0")
    # Counted, not len(range(...)): len raises OverflowError past 2**63 items.
    count = max((end - start) // step + 1, 0)
    if count > _MAX_RANGE_ITEMS:
        raise ArgumentError(
            f"the range would hold {count} items, more than the {_MAX_RANGE_ITEMS} allowed"
        )
    return [start + index * step for index in range(count)]


@_register("States.ArrayGetItem", 2, 2, ("array", "integer"))
def _array_get_item(args: list[Json], scope: Scope) -> Json:
    items, index = args[0], int(args[1])
    if not 0 <= index < len(items):
        raise ArgumentError(
            f"the index {index} is out of bounds for an array of {len(items)} item(s)"
        )
    return items[index]


@_register("States.ArrayLength", 1, 1, ("array",))
def _array_length(args: list[Json], scope: Scope) -> Json:
    return len(args[0])


@_register("States.ArrayUnique", 1, 1, ("array",))
def _array_unique(args: list[Json], scope: Scope) -> Json:
    seen: dict[str, Json] = {}
    for item in args[0]:
        seen.setdefault(_canonical(item), item)
    return list(seen.values())


@_register("States.Base64Encode", 1, 1, ("string",))
def _base64_encode(args: list[Json], scope: Scope) -> Json:
    text = _limited(args[0])
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


@_register("States.Base64Decode", 1, 1, ("string",))
def _base64_decode(args: list[Json], scope: Scope) -> Json:
    text = _limited(args[0])
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):  # ValueError: not ASCII
        raise ArgumentError(
            f"the string is not Base64-encoded UTF-8 text: {compact_json(text)}"
        ) from None


def _limited(text: str) -> str:
    if len(text) > _MAX_ENCODING_INPUT:
        raise ArgumentError(
            f"the string has {len(text)} characters, more than the {_MAX_ENCODING_INPUT} allowed"
        )
    return text


@_register("States.Hash", 2, 2, ("string", "string"))
def _hash(args: list[Json], scope: Scope) -> Json:
    data, algorithm = args
    if algorithm not in HASH_ALGORITHMS:
        raise ArgumentError(
            f"the algorithm {compact_json(algorithm)} is not one of {', '.join(HASH_ALGORITHMS)}"
        )
    return hashlib.new(HASH_ALGORITHMS[algorithm], data.encode("utf-8")).hexdigest()


@_register("States.JsonMerge", 3, 3, ("object", "object", "boolean"))
def _json_merge(args: list[Json], scope: Scope) -> Json:
    first, second, deep = args
    if deep:
        raise ArgumentError("only the shallow merge is supported: argument 3 must be false")
    return {**first, **second}


@_register("States.MathRandom", 2, 3, ("number", "number", "integer"))
def _math_random(args: list[Json], scope: Scope) -> Json:
    start, end = _round_half_up(args[0]), _round_half_up(args[1])
    if not -_INT32 <= start < end < _INT32:
        raise ArgumentError(f"start ({start}) must be less than end ({end}), both 32-bit integers")
    if len(args) == 3:
        return start + _java_random_int(int(args[2]), end - start)
    if scope.rng is None:
        raise ValueError("States.MathRandom needs a random source: the scope has no rng")
    return start + min(int(scope.rng.random() * (end - start)), end - start - 1)


def _java_random_int(seed: int, bound: int) -> int:
    """``new java.util.Random(seed).nextInt(bound)``: the same number for the same seed."""
    multiplier, mask = 0x5DEECE66D, (1 << 48) - 1
    state = (seed ^ multiplier) & mask

    def next31() -> int:
        nonlocal state
        state = (state * multiplier + 0xB) & mask
        return state >> 17

    if bound & -bound == bound:
        return (bound * next31()) >> 31
    while True:
        bits = next31()
        value = bits % bound
        if bits - value + (bound - 1) < _INT32:
            return value


@_register("States.MathAdd", 2, 2, ("number", "number"))
def _math_add(args: list[Json], scope: Scope) -> Json:
    return _round_half_up(args[0]) + _round_half_up(args[1])


@_register("States.StringSplit", 2, 2, ("string", "string"))
def _string_split(args: list[Json], scope: Scope) -> Json:
    text, delimiters = args
    if not delimiters:
        return [text] if text else []
    parts: list[str] = []
    size = 1  # "[" ... "]", each part adds its JSON and a separator
    for match in re.finditer(f"[^{re.escape(delimiters)}]+", text):
        parts.append(match.group())
        size += string_size(parts[-1], scope.max_bytes) + 1
        ensure_within(size, scope.max_bytes, "The result of 'States.StringSplit'")
    return parts


@_register("States.UUID", 0, 0)
def _uuid(args: list[Json], scope: Scope) -> Json:
    if scope.rng is None:
        raise ValueError("States.UUID needs a random source: the scope has no rng")
    return random_uuid(scope.rng)


def random_uuid(rng: Rng) -> str:
    """A version-4 UUID drawn from ``rng`` (a seeded source gives the same one on replay)."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF << 76)) | (0x4 << 76)  # version 4
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    digits = f"{bits:032x}"
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))
