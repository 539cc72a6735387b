"""Converting between JSONata values and the JSON values the engine stores.

JSONata has two "nothing" values: ``null`` (the library's ``Utils.NULL_VALUE``) and
``undefined`` (Python None at the top level of a result). Inside arrays and objects a
Python None can only be a JSON ``null`` that came from the input, because JSONata's
constructors drop undefined members.
"""

from __future__ import annotations

import json
import math
from typing import Any

from jsonata import Utils

from engine._dataflow.jsonata._messages import FunctionError
from engine._dataflow.scope import Json

# JavaScript prints integral numbers below 1e21 without an exponent; AWS shows them as
# integers (e.g. ``$sum([1.5, 1.5])`` gives 3).
_LARGEST_PLAIN_INTEGER = 1e21


class UnsupportedResultError(Exception):
    """A JSONata result that has no JSON form (a function, a regex, NaN, Infinity)."""


def to_json(value: Any) -> Json:
    """Convert a JSONata result (not undefined) to a plain JSON value.

    Sequences become lists, JSONata ``null`` becomes None and integral numbers become
    ints.

    Args:
        value: what the library returned.

    Returns:
        A value made only of dict, list, str, int, float, bool and None.

    Raises:
        UnsupportedResultError: ``value`` holds a function, a regex or a non-finite number.
    """
    if value is None or value is Utils.NULL_VALUE:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return normalise_number(value)
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    raise UnsupportedResultError(type(value).__name__)


def normalise_number(value: float) -> int | float:
    """An int for integral floats JavaScript prints without a fraction, else the float.

    Raises:
        UnsupportedResultError: ``value`` is NaN or infinite.
    """
    if not math.isfinite(value):
        raise UnsupportedResultError(repr(value))
    if value.is_integer() and abs(value) < _LARGEST_PLAIN_INTEGER:
        return int(value)
    return value


def parse_json_text(text: str) -> Any:
    """``JSON.parse`` for ``$parse``: strict JSON to a JSONata value.

    Args:
        text: the JSON text.

    Returns:
        The decoded value; a top-level ``null`` is JSONata ``null`` (not undefined).

    Raises:
        FunctionError: the text is not strict JSON (NaN and Infinity are refused).
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as error:
        raise FunctionError(
            f"The $parse function could not parse {text!r} as JSON: {error}"
        ) from error
    return Utils.NULL_VALUE if value is None else value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value
