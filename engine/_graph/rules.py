"""Choice rules as short labels for the edges of a graph: ``$.total > 100 and $.vip``."""

from __future__ import annotations

import json
from typing import Any, Final

Json = Any

MAX_LABEL = 60
"""Longer labels end in an ellipsis: an edge label must stay readable on a graph."""

_SYMBOLS: Final = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_FAMILIES: Final = ("String", "Numeric", "Timestamp", "Boolean")
_TYPE_TESTS: Final = {
    "IsNull": "null",
    "IsPresent": "present",
    "IsNumeric": "numeric",
    "IsString": "a string",
    "IsBoolean": "a boolean",
    "IsTimestamp": "a timestamp",
}


def rule_label(rule: dict[str, Json]) -> str:
    """The label of a top-level Choice rule (its ``Comment`` when it has one)."""
    comment = rule.get("Comment")
    text = comment if isinstance(comment, str) and comment else _expression(rule)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _expression(rule: Json) -> str:
    if not isinstance(rule, dict):
        return "?"
    if "Condition" in rule:
        condition = rule["Condition"]
        text = condition if isinstance(condition, str) else json.dumps(condition)
        return text.removeprefix("{%").removesuffix("%}").strip()
    for combinator, joiner in (("And", " and "), ("Or", " or ")):
        if isinstance(rule.get(combinator), list):
            return joiner.join(_nested(r) for r in rule[combinator])
    if "Not" in rule:
        return f"not {_nested(rule['Not'])}"
    return _comparison(rule)


def _nested(rule: Json) -> str:
    text = _expression(rule)
    return f"({text})" if " and " in text or " or " in text else text


def _comparison(rule: dict[str, Json]) -> str:
    variable = rule.get("Variable", "?")
    for operator, value in rule.items():
        if operator in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        if operator in _TYPE_TESTS:
            negation = "" if value is True else "not "
            return f"{variable} is {negation}{_TYPE_TESTS[operator]}"
        if operator == "StringMatches":
            return f"{variable} matches {json.dumps(value)}"
        symbol = _symbol(operator)
        if symbol is not None:
            shown = value if operator.endswith("Path") else json.dumps(value)
            return f"{variable} {symbol} {shown}"
    return str(variable)


def _symbol(operator: str) -> str | None:
    name = operator.removesuffix("Path")
    for family in _FAMILIES:
        if name.startswith(family) and name[len(family) :] in _SYMBOLS:
            return _SYMBOLS[name[len(family) :]]
    return None
