"""Choice rules.

JSONPath rules are either a data-test expression (``Variable`` plus exactly one
comparison operator) or a Boolean expression (exactly one of ``And`` / ``Or`` / ``Not``
over nested rules). Only a top-level rule has ``Next`` (required) and ``Assign``.

JSONata rules have a ``Condition`` (a ``{% ... %}`` expression or a boolean) instead, and
may also carry ``Assign`` and ``Output``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from engine._asl.validation.context import StateContext
from engine._asl.validation.expressions import path_problem
from engine._asl.validation.report import Json, child
from engine._asl.validation.templates import check_assign, check_jsonata_value
from engine._asl.validation.values import (
    expect_array,
    expect_object,
    expect_string,
    fail,
    is_number,
)
from engine._dataflow.jsonata import is_expression
from engine._dataflow.timestamps import is_timestamp

_COMPARISONS: Final = {
    "String": ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    "Numeric": ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    "Timestamp": ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    "Boolean": ("Equals",),
}
_OPERAND_KINDS: Final = {"String": "string", "Numeric": "number", "Timestamp": "timestamp"}

OPERATORS: Final[dict[str, str]] = {
    **{
        f"{family}{name}": _OPERAND_KINDS.get(family, "boolean")
        for family, names in _COMPARISONS.items()
        for name in names
    },
    **{f"{family}{name}Path": "path" for family, names in _COMPARISONS.items() for name in names},
    "StringMatches": "string",
    **{f"Is{kind}": "boolean" for kind in ("Null", "Present", "Numeric", "String", "Boolean")},
    "IsTimestamp": "boolean",
}
"""Every data-test operator and the kind of operand it compares with."""

_OPERAND_CHECKS: Final[dict[str, tuple[str, Callable[[Json], bool]]]] = {
    "string": ("a string", lambda value: isinstance(value, str)),
    "number": ("a number", is_number),
    "boolean": ("a boolean", lambda value: isinstance(value, bool)),
    "timestamp": (
        "an ISO-8601 timestamp such as '2016-03-14T01:59:00Z'",
        lambda value: isinstance(value, str) and is_timestamp(value),
    ),
}
_COMBINATORS: Final = ("And", "Or", "Not")


def check_choices(state: StateContext, path: str, value: Json) -> None:
    """``Choices``: a non-empty list of rules."""
    if not expect_array(state.report, path, value, non_empty=True):
        return
    for index, rule in enumerate(value):
        if state.jsonata:
            _check_jsonata_rule(state, child(path, index), rule)
        else:
            _check_rule(state, child(path, index), rule, top=True)


def _check_jsonata_rule(state: StateContext, path: str, rule: Json) -> None:
    report = state.report
    if not expect_object(report, path, rule):
        return
    _check_rule_fields(state, path, rule, {"Condition", "Next", "Comment", "Assign", "Output"})
    _check_next(state, path, rule)
    if "Condition" not in rule:
        report.error(path, "The field 'Condition' is required in a JSONata Choice rule")
    elif is_expression(rule["Condition"]):
        check_jsonata_value(report, child(path, "Condition"), rule["Condition"])
    elif not isinstance(rule["Condition"], bool):
        fail(
            report,
            child(path, "Condition"),
            "a JSONata expression '{% ... %}' or a boolean",
            rule["Condition"],
        )
    if "Output" in rule:
        check_jsonata_value(report, child(path, "Output"), rule["Output"])
    if "Assign" in rule:
        check_assign(report, child(path, "Assign"), rule["Assign"], jsonata=True)


def _check_rule(state: StateContext, path: str, rule: Json, *, top: bool) -> None:
    report = state.report
    if not expect_object(report, path, rule):
        return
    allowed = {"Variable", "Comment", *OPERATORS, *_COMBINATORS}
    _check_rule_fields(state, path, rule, allowed | ({"Next", "Assign"} if top else set()))
    if top:
        _check_next(state, path, rule)
        if "Assign" in rule:
            check_assign(report, child(path, "Assign"), rule["Assign"], jsonata=False)
    combinators = [key for key in _COMBINATORS if key in rule]
    if combinators:
        _check_boolean_expression(state, path, rule, combinators)
    else:
        _check_data_test(state, path, rule)


def _check_rule_fields(state: StateContext, path: str, rule: Json, allowed: set[str]) -> None:
    for field in rule:
        if field in allowed:
            continue
        if field in ("Next", "Assign"):
            message = f"'{field}' is only allowed in a top-level Choice rule, not in a nested one"
        elif field in ("Condition", "Output", "Variable") or field in OPERATORS:
            other = "JSONPath" if state.jsonata else "JSONata"
            message = (
                f"The QueryLanguage is set to '{state.language}', but field '{field}' is only "
                f"supported in {other} Choice rules"
            )
        else:
            message = f"Field '{field}' is not supported in a Choice rule"
        state.report.error(child(path, field), message)
    if "Comment" in rule:
        expect_string(state.report, child(path, "Comment"), rule["Comment"])


def _check_next(state: StateContext, path: str, rule: dict[str, Json]) -> None:
    if "Next" not in rule:
        state.report.error(path, "The field 'Next' is required in a top-level Choice rule")
    else:
        expect_string(state.report, child(path, "Next"), rule["Next"], non_empty=True)


def _check_boolean_expression(
    state: StateContext, path: str, rule: dict[str, Json], combinators: list[str]
) -> None:
    report = state.report
    if len(combinators) > 1:
        report.error(path, f"A Choice rule may have only one of And, Or, Not; got {combinators}")
    extra = [key for key in rule if key == "Variable" or key in OPERATORS]
    if extra:
        report.error(
            path, f"A Boolean expression ({combinators[0]}) cannot also have {', '.join(extra)}"
        )
    for combinator in combinators:
        operand, operand_path = rule[combinator], child(path, combinator)
        if combinator == "Not":
            _check_rule(state, operand_path, operand, top=False)
        elif expect_array(report, operand_path, operand, non_empty=True):
            for index, nested in enumerate(operand):
                _check_rule(state, child(operand_path, index), nested, top=False)


def _check_data_test(state: StateContext, path: str, rule: dict[str, Json]) -> None:
    report = state.report
    operators = [key for key in rule if key in OPERATORS]
    if "Variable" not in rule:
        report.error(path, "The field 'Variable' is required in a data-test Choice rule")
    else:
        problem = path_problem(rule["Variable"])
        if problem is not None:
            report.error(child(path, "Variable"), f"'Variable' must be a valid JSONPath: {problem}")
    if len(operators) != 1:
        found = ", ".join(operators) or "none"
        report.error(
            path,
            "A data-test Choice rule needs exactly one comparison operator (e.g. "
            f"StringEquals, NumericLessThanPath, IsPresent), found: {found}",
        )
    for operator in operators:
        _check_operand(state, child(path, operator), operator, rule[operator])


def _check_operand(state: StateContext, path: str, operator: str, value: Json) -> None:
    kind = OPERATORS[operator]
    if kind == "path":
        problem = path_problem(value)
        if problem is not None:
            state.report.error(path, f"'{operator}' must be a valid JSONPath: {problem}")
        return
    expected, accepts = _OPERAND_CHECKS[kind]
    if not accepts(value):
        fail(state.report, path, expected, value)
