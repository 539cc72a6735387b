"""The JSONata functions Step Functions adds or changes, bound into every evaluation.

Added by AWS: ``$partition``, ``$range``, ``$hash``, ``$random([seed])``, ``$uuid`` and
``$parse``. Changed here so that the pure core stays deterministic: ``$now`` and
``$millis`` read the injected clock, ``$random()``, ``$uuid()`` and ``$shuffle`` draw
from the injected random source. ``$eval`` is unavailable in AWS, so it is bound to
nothing: calling it fails with ``T1006: Attempted to invoke a non-function``.

The functions are built once; the clock and random source of the evaluation in progress
are read from a context variable set by the evaluator.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonata import Functions, Jsonata, Utils

from engine._dataflow.intrinsic_functions import HASH_ALGORITHMS
from engine._dataflow.jsonata._messages import FunctionError
from engine._dataflow.jsonata._values import parse_json_text
from engine._dataflow.scope import Rng

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_RANGE_LENGTH = 1_000_000


class MissingScopeValueError(LookupError):
    """The expression needs ``Scope.now`` or ``Scope.rng`` but the caller gave none.

    A wiring error of the engine, never a user error: it is not turned into a
    ``States.QueryEvaluationError``.
    """


@dataclass
class _Evaluation:
    now: datetime | None
    rng: Rng | None


_CURRENT: ContextVar[_Evaluation | None] = ContextVar("stepline_jsonata", default=None)


@contextmanager
def evaluation_sources(now: datetime | None, rng: Rng | None) -> Iterator[None]:
    """Make ``now`` and ``rng`` the clock and random source of the functions, for a block."""
    token = _CURRENT.set(_Evaluation(now, rng))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def _rng() -> Rng:
    current = _CURRENT.get()
    if current is None or current.rng is None:
        raise MissingScopeValueError(
            "JSONata $random/$uuid/$shuffle need Scope.rng; none was given"
        )
    return current.rng


def _millis() -> int:
    current = _CURRENT.get()
    if current is None or current.now is None:
        raise MissingScopeValueError("JSONata $now/$millis need Scope.now; none was given")
    now = current.now if current.now.tzinfo else current.now.replace(tzinfo=UTC)
    return (now - _EPOCH) // timedelta(milliseconds=1)


def _now(picture: str | None = None, timezone: str | None = None) -> Any:
    return Functions.datetime_from_millis(_millis(), picture, timezone)


def _partition(array: list[Any] | None, size: float | None) -> Any:
    if array is None or size is None:
        return None
    if not _is_integer(size) or size < 1:
        raise FunctionError(
            f"The size argument of $partition must be a positive integer, got {size}"
        )
    step = int(size)
    # A plain list (not a JSONata sequence) so that [[x]] is never collapsed to [x].
    return [list(array[start : start + step]) for start in range(0, len(array), step)]


def _range(start: float | None, end: float | None, step: float | None) -> Any:
    if start is None or end is None or step is None:
        return None
    if step == 0:
        raise FunctionError("The step argument of $range must not be zero")
    count = math.floor((end - start) / step) + 1
    if count > _MAX_RANGE_LENGTH:
        raise FunctionError(
            f"$range would create {count} items; at most {_MAX_RANGE_LENGTH} are allowed"
        )
    # A JSONata sequence: AWS returns 1, not [1], for a range of one item
    # (case intrinsic_functions.test_array_jsonata.test_array_range.2).
    return Utils.create_sequence_from_iter(start + index * step for index in range(count))


def _hash(value: str | None, algorithm: str | None) -> Any:
    if value is None or algorithm is None:
        return None
    name = HASH_ALGORITHMS.get(algorithm)
    if name is None:
        supported = ", ".join(HASH_ALGORITHMS)
        raise FunctionError(
            f"The hashing algorithm '{algorithm}' of $hash is not supported; use one of {supported}"
        )
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def _random(seed: float | None = None) -> float:
    if seed is None:
        return _rng().random()
    return java_random_double(math.trunc(seed))


def java_random_double(seed: int) -> float:
    """The first ``nextDouble()`` of ``java.util.Random(seed)``: same seed, same number.

    AWS runs on the JVM; this mirrors its standard seeded generator (the exact generator
    AWS uses for ``$random(seed)`` is not recorded in the corpus).
    """
    multiplier, mask = 0x5DEECE66D, (1 << 48) - 1
    state = (seed ^ multiplier) & mask

    def next_bits(bits: int) -> int:
        nonlocal state
        state = (state * multiplier + 0xB) & mask
        return state >> (48 - bits)

    high = next_bits(26)
    low = next_bits(27)
    return ((high << 27) + low) * 2.0**-53


def _uuid() -> str:
    bits = _rng().getrandbits(128)
    bits = (bits & ~(0xF << 76)) | (0x4 << 76)  # version 4
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    digits = f"{bits:032x}"
    return "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))


def _parse(text: str | None) -> Any:
    return None if text is None else parse_json_text(text)


def _shuffle(array: list[Any] | None) -> Any:
    if array is None:
        return None
    rng = _rng()
    shuffled = list(array)
    for index in range(len(shuffled) - 1, 0, -1):
        other = int(rng.random() * (index + 1))
        shuffled[index], shuffled[other] = shuffled[other], shuffled[index]
    return shuffled


def _is_integer(value: float) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


class _Native(Jsonata.JFunctionCallable):  # type: ignore[misc]
    """Adapts a Python callable to the library's function protocol."""

    def __init__(self, implementation: Callable[..., Any]):
        self._implementation = implementation

    def call(self, _input: Any, args: Any) -> Any:
        return self._implementation(*(args or ()))


def _function(implementation: Callable[..., Any], signature: str) -> Any:
    # The signature makes the library check argument types (errors T0410/T0412).
    return Jsonata.JFunction(_Native(implementation), signature)


STEP_FUNCTIONS_FUNCTIONS: dict[str, Any] = {
    "partition": _function(_partition, "<an:a>"),
    "range": _function(_range, "<nnn:a>"),
    "hash": _function(_hash, "<ss:s>"),
    "random": _function(_random, "<n?:n>"),
    "uuid": _function(_uuid, "<:s>"),
    "parse": _function(_parse, "<s:x>"),
    "now": _function(_now, "<s?s?:s>"),
    "millis": _function(_millis, "<:n>"),
    "shuffle": _function(_shuffle, "<a:a>"),
    "eval": None,
}
"""Bindings that add or replace JSONata functions, by name without the ``$``."""
