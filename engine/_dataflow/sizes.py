"""The size of a JSON value, measured without building it, and the error for a value too large.

AWS limits every state input and output, variable and callback output to 256 KiB of UTF-8
JSON. Serialising a value just to measure it costs as much memory as the value's text,
which for a value built from many references to one large value (``States.Array($, $,
...)``, a JSONata ``$string`` of it) is far more than the value itself. `json_size`
therefore walks the value with an explicit stack and stops as soon as the count passes the
limit; functions that would build a large value ask first (`ensure_within`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any, Final

from engine._dataflow.nesting import MAX_PAYLOAD_DEPTH, NestingTooDeep
from engine._errors import ErrorName, StatesTerminalError

Json = Any

BUILD_HEADROOM: Final = 4
"""How many payload limits an expression may build before it is refused.

A value a little over the limit is left to the check that names what was too large (a
variable, a state's output); only one far over it -- which could only end the execution
anyway -- is refused while it is being built.
"""

DEFAULT_MAX_BYTES: Final = BUILD_HEADROOM * 256 * 1024
"""The largest value an expression may build with AWS's payload limit (see `Scope`)."""

_SCALAR_SIZES: Final = {True: 4, False: 5, None: 4}


class ValueTooLarge(StatesTerminalError):
    """A value (or the value an operation would build) is larger than the payload limit.

    A terminal ``States.DataLimitExceeded``, as AWS reports a result over the limit; the
    interpreter words the cause as AWS does, naming the state.
    """

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(
            ErrorName.DATA_LIMIT_EXCEEDED,
            f"{what} would be larger than {limit} bytes",
        )
        self.limit = limit


def utf8_exceeds(text: str, limit: int) -> bool:
    """Whether ``text`` is more than ``limit`` bytes as UTF-8, encoding at most ``limit`` chars.

    A character takes 1 to 4 bytes, so the length in characters settles most texts
    without encoding them.
    """
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


_encode_string: Final = encode_basestring
"""The JSON text of a string, unicode kept (what ``json.dumps(text, ensure_ascii=False)`` does)."""


def string_size(text: str, limit: int) -> int:
    """Bytes of ``text`` as a JSON string (quotes and escapes included); > ``limit`` if over."""
    if len(text) > limit:
        return len(text) + 2  # at least one byte a character, plus the quotes
    encoded = _encode_string(text)
    if encoded.isascii():
        return len(encoded)
    return len(encoded.encode("utf-8", "surrogatepass"))


def json_size(value: Json, limit: int, max_depth: int = MAX_PAYLOAD_DEPTH) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON, counting no further than just past ``limit``.

    Returns:
        The exact size when it is at most ``limit``; some number above ``limit`` otherwise.

    Raises:
        NestingTooDeep: ``value`` nests arrays and objects deeper than ``max_depth``.
    """
    total = _shallow_size(value, limit)
    if total > limit or not isinstance(value, dict | list):
        return total
    # One iterator per open container; scalars are counted inline (this runs for every
    # state's input and output, so it avoids a call per value).
    stack: list[Iterator[Json]] = [_children(value)]
    while stack:
        for item in stack[-1]:
            kind = type(item)
            if kind is str:
                total += string_size(item, limit - total)
            elif kind is int:
                total += len(int.__repr__(item))
            else:
                total += _shallow_size(item, limit - total)
                if isinstance(item, dict | list):
                    if len(stack) >= max_depth:
                        raise NestingTooDeep(max_depth)
                    if total > limit:
                        return total
                    stack.append(_children(item))
                    break
            if total > limit:
                return total
        else:
            stack.pop()
    return total


def _children(item: Json) -> Iterator[Json]:
    if isinstance(item, dict):
        return iter(item.values())
    return iter(item) if isinstance(item, list) else iter(())


def _shallow_size(item: Json, budget: int) -> int:
    """Bytes of ``item`` itself: a scalar whole; a container's brackets, commas and keys."""
    if isinstance(item, str):
        return string_size(item, budget)
    if isinstance(item, bool) or item is None:
        return _SCALAR_SIZES[item]
    if isinstance(item, dict):
        if not item:
            return 2
        return 2 + len(item) - 1 + len(item) + _keys_size(item, budget)  # "key": per key
    if isinstance(item, list):
        return 2 + max(len(item) - 1, 0)
    return len(json.dumps(item))


def _keys_size(item: dict[Any, Json], budget: int) -> int:
    """Bytes of an object's keys as JSON strings, quotes included (one encoding for all)."""
    try:
        joined = "".join(item)
    except TypeError:  # a key that is not a string: JSON shows it as one
        return sum(string_size(str(key), budget) for key in item)
    # Escaping is per character, so the keys escaped together are the keys escaped one by
    # one: drop the pair of quotes around the whole and add a pair per key.
    return string_size(joined, budget) - 2 + 2 * len(item)


def ensure_within(size: int, limit: int, what: str) -> None:
    """Refuse an operation whose result would be ``size`` bytes when that exceeds ``limit``.

    Raises:
        ValueTooLarge: ``size`` > ``limit``.
    """
    if size > limit:
        raise ValueTooLarge(what, limit)


def ensure_value_within(value: Json, limit: int, what: str) -> Json:
    """``value`` when its JSON text fits in ``limit`` bytes.

    Raises:
        ValueTooLarge: it does not.
        NestingTooDeep: it nests too deeply to be sent anywhere.
    """
    ensure_within(json_size(value, limit), limit, what)
    return value
