"""Error texts, worded as AWS Step Functions words them.

AWS reports a JSONata failure as ``<code>: <message>`` with the message of the reference
JavaScript implementation (case ``intrinsic_functions.test_math_operations_jsonata.
test_math_random_seeded``: ``"T1006: Attempted to invoke a non-function"``). The Python
port keeps the codes and templates but its automated translation replaced the word
"function" by "Object" and it formats inserts with Python's ``str``; here the original
wording is restored and inserts are JSON-encoded as ``{{x}}`` (raw for ``{{{x}}}``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from jsonata import JException

from engine._dataflow.scope import Json

_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")

# D1011's text, used when Python's own recursion limit is hit before JSONata's.
STACK_OVERFLOW = (
    "D1011: Stack overflow. Check for non-terminating recursive function.  "
    "Consider rewriting as tail-recursive"
)


class FunctionError(Exception):
    """An error raised by one of the Step Functions JSONata functions ($partition, ...).

    Its message is reported as is, without a JSONata error code.
    """


def describe_error(error: BaseException) -> str:
    """The text AWS appends after "threw an error during evaluation. ".

    Args:
        error: what the JSONata evaluation raised.

    Returns:
        ``"<code>: <message>"`` for JSONata errors, the bare message otherwise.
    """
    if isinstance(error, JException):
        return _describe_jexception(error)
    if isinstance(error, RecursionError):
        return STACK_OVERFLOW
    if isinstance(error, ZeroDivisionError):
        # JavaScript divides to Infinity/NaN, which JSONata then reports as D1001.
        return "D1001: Number out of range: division by zero"
    return str(error) or type(error).__name__


def _describe_jexception(error: Any) -> str:
    code = str(error.error)
    template = JException.error_codes.get(code)
    if template is None:
        # The port sometimes raises with a full sentence in place of a code.
        return code
    inserts = [error.current, error.expected, error.extra]
    return f"{code}: {_render(template.replace('Object', 'function'), inserts)}"


def _render(template: str, inserts: list[Any]) -> str:
    remaining = iter(inserts)

    def substitute(match: re.Match[str]) -> str:
        value = next(remaining, None)
        if value is None:
            return "undefined"
        return str(value) if match.group(1) else _stringify(value)

    return _PLACEHOLDER.sub(substitute, template)


def _stringify(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(value)


def compact_json(value: Json) -> str:
    """``value`` as AWS prints it inside messages: compact JSON, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_type_name(value: Json) -> str:
    """The JSON type name AWS uses in "Expected 'array', but was 'string'" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
