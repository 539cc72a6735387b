"""How deeply a JSON value nests, and the limit on it.

Python's JSON parser and every walk over a value (templates, deep copies, the encoders of
the history and the checkpoint) recurse once or more per level, so a value nested deeper
than the interpreter's stack fails with `RecursionError` wherever it goes first -- in the
API, or worse, on a worker that then retries it forever. Values are therefore measured
where they come in (definitions, execution input, callback output) and refused there with
a message naming the limit.

AWS documents no nesting limit (Jackson, the usual Java JSON parser, stops at 1,000 levels
by default). Python's stack holds 1,000 frames in all, shared with whatever called the
parser, so stepline allows half of that (ADR 0017).
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

Json = Any

MAX_NESTING_DEPTH: Final = 500
"""The deepest nesting of arrays and objects accepted in a definition or a payload."""

MAX_PAYLOAD_DEPTH: Final = 2 * MAX_NESTING_DEPTH
"""The deepest nesting a state's input or output may reach inside an execution.

States add levels to what came in (``ResultPath``, templates, a Map's items), so a payload
may grow past `MAX_NESTING_DEPTH`; a loop adding a level per pass is stopped here, at
Jackson's default (1,000 levels), before any encoder or walk runs out of stack.
"""


class NestingTooDeep(ValueError):
    """A JSON value (or text) nests arrays and objects deeper than the limit."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(
            f"the JSON nests arrays and objects more than {max_depth} levels deep; the "
            f"maximum is {max_depth}"
        )
        self.max_depth = max_depth


def nesting_depth(value: Json) -> int:
    """How many arrays and objects enclose the deepest value (0 for a scalar).

    Measured with an explicit stack, so it works on values too deep to recurse over.
    """
    deepest = 0
    pending: list[tuple[Json, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        else:
            continue
        deepest = max(deepest, depth + 1)
    return deepest


def check_nesting(value: Json, max_depth: int = MAX_NESTING_DEPTH, text: str | None = None) -> Json:
    """Return ``value`` unchanged when it nests at most ``max_depth`` levels.

    ``text``: ``value``'s JSON text, when at hand. A value cannot nest deeper than its text
    has brackets, so a text with few of them settles it without walking the value.

    Raises:
        NestingTooDeep: it nests deeper.
    """
    if isinstance(text, str) and text.count("[") + text.count("{") <= max_depth:
        return value
    if nesting_depth(value) > max_depth:
        raise NestingTooDeep(max_depth)
    return value


def loads_within_depth(text: str, max_depth: int = MAX_NESTING_DEPTH, **options: Any) -> Json:
    """``json.loads(text, **options)``, refusing a value nested deeper than ``max_depth``.

    Strict JSON unless ``options`` say otherwise: ``NaN``, ``Infinity`` and numbers too
    large for a double (``1e400``) are refused, as they have no JSON form to pass on
    (Python's parser accepts them; the fuzz suite found them in execution outputs).

    Raises:
        NestingTooDeep: the text nests deeper (even too deep for the parser itself).
        ValueError: the text is not JSON (`json.JSONDecodeError`), as ``json.loads``.
    """
    options.setdefault("parse_constant", _refuse_constant)
    options.setdefault("parse_float", _finite_float)
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise NestingTooDeep(max_depth) from None
    return check_nesting(value, max_depth, text)


def _refuse_constant(name: str) -> Json:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text} is out of range")
    return value
