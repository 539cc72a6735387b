"""The syntax of what a field may compute with: JSONPath, intrinsic calls, JSONata, names.

The parsers live in :mod:`engine._dataflow` (they also run the expressions); this module
only words their verdicts for a field of a definition.
"""

from __future__ import annotations

from engine._asl.validation.report import Json, describe
from engine._dataflow.intrinsics import IntrinsicSyntaxError, is_intrinsic_call, parse_call
from engine._dataflow.jsonata import check_syntax, is_expression
from engine._dataflow.jsonpath import check_path_syntax, check_reference_path_syntax

MAX_VARIABLE_NAME = 80
RESERVED_VARIABLES = frozenset({"states"})
"""``$states`` is the JSONata state context; a variable may not shadow it."""


def path_problem(value: Json) -> str | None:
    """Why ``value`` is not a Path (``$...``, ``$$...`` or ``$variable...``), or None."""
    if not isinstance(value, str):
        return f"got {describe(value)}"
    return check_path_syntax(value)


def reference_path_problem(value: Json) -> str | None:
    """Why ``value`` is not a Reference Path (definite, input-rooted), or None."""
    if not isinstance(value, str):
        return f"got {describe(value)}"
    return check_reference_path_syntax(value)


def intrinsic_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed intrinsic function call, or None."""
    try:
        parse_call(text)
    except IntrinsicSyntaxError as error:
        return str(error)
    return None


def dynamic_value_problem(value: Json) -> str | None:
    """Why ``value`` is neither a Path nor an intrinsic call (a ``.$`` field's value)."""
    if isinstance(value, str) and value.startswith("$"):
        return check_path_syntax(value)
    if isinstance(value, str) and is_intrinsic_call(value):
        return intrinsic_problem(value)
    return f"got {describe(value)}"


def looks_like_jsonata(value: Json) -> bool:
    """Whether ``value`` is, or was meant to be, a ``{% ... %}`` JSONata expression."""
    return isinstance(value, str) and (value.startswith("{%") or is_expression(value))


def jsonata_problem(text: str) -> str | None:
    """Why ``text`` (meant as ``{% ... %}``) is not a valid JSONata expression, or None."""
    return check_syntax(text)


def variable_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a workflow variable, or None.

    A name follows Unicode's identifier rules (a letter or ``_`` first, then letters,
    digits or ``_``), like ``$name`` references in JSONPath and JSONata, and has at most
    80 characters.
    """
    if not name.isidentifier():
        return (
            f"'{name}' is not a valid variable name: it must start with a letter or '_' "
            "and contain only letters, digits and '_'"
        )
    if len(name) > MAX_VARIABLE_NAME:
        return f"variable name '{name[:20]}...' has {len(name)} characters; at most 80 are allowed"
    if name in RESERVED_VARIABLES:
        return f"'{name}' is reserved (it is the JSONata '$states' object)"
    return None
