"""Checks for the fields many state types share: paths, templates, transitions, numbers.

Each checker has the signature ``(state, path, value)``: the state being checked, the
pointer to the field and the field's value. They run only for fields the state's type and
language allow (see :mod:`engine._asl.validation.fields`).
"""

from __future__ import annotations

from collections.abc import Callable

from engine._asl.validation.context import StateContext
from engine._asl.validation.expressions import (
    intrinsic_problem,
    looks_like_jsonata,
    path_problem,
    reference_path_problem,
)
from engine._asl.validation.report import Json
from engine._asl.validation.templates import (
    DYNAMIC_EXPECTATION,
    check_assign,
    check_jsonata_value,
    check_payload_template,
)
from engine._asl.validation.values import (
    MAX_SECONDS,
    expect_boolean,
    expect_integer,
    expect_number,
    expect_string,
    label,
)

FieldCheck = Callable[[StateContext, str, Json], None]
"""Checks one field's value: ``(state, pointer to the field, value)``."""


def check_comment(state: StateContext, path: str, value: Json) -> None:
    """``Comment``: any string, never interpreted (not even ``{% ... %}``)."""
    expect_string(state.report, path, value)


def check_path(state: StateContext, path: str, value: Json) -> None:
    """A ``*Path`` field: a Path (``$...``, ``$$...`` or ``$variable...``)."""
    problem = path_problem(value)
    if problem is not None:
        state.report.error(
            path, f"The value for the field {label(path)} must be a valid JSONPath: {problem}"
        )


def check_nullable_path(state: StateContext, path: str, value: Json) -> None:
    """``InputPath`` / ``OutputPath``: a Path, or null (use ``{}``)."""
    if value is not None:
        check_path(state, path, value)


def check_result_path(state: StateContext, path: str, value: Json) -> None:
    """``ResultPath``: a Reference Path, or null (discard the result)."""
    if value is None:
        return
    problem = reference_path_problem(value)
    if problem is not None:
        state.report.error(
            path, f"The value for the field 'ResultPath' must be a valid Reference Path: {problem}"
        )


def check_path_or_intrinsic(state: StateContext, path: str, value: Json) -> None:
    """``ErrorPath`` / ``CausePath``: a Path or an intrinsic function call."""
    if isinstance(value, str) and value.startswith("States."):
        problem = intrinsic_problem(value)
    else:
        problem = path_problem(value)
    if problem is not None:
        state.report.error(
            path, f"The value for the field {label(path)} must be {DYNAMIC_EXPECTATION}: {problem}"
        )


def check_template(state: StateContext, path: str, value: Json) -> None:
    """``Parameters``, ``ResultSelector``, ``ItemSelector``: a payload template."""
    if state.jsonata:
        check_jsonata_value(state.report, path, value)
    else:
        check_payload_template(state.report, path, value)


def check_jsonata_field(state: StateContext, path: str, value: Json) -> None:
    """``Arguments`` / ``Output``: any JSON, whose ``{% ... %}`` strings must parse."""
    check_jsonata_value(state.report, path, value)


def check_state_assign(state: StateContext, path: str, value: Json) -> None:
    """``Assign``: variable names, and values in the state's language."""
    check_assign(state.report, path, value, jsonata=state.jsonata)


def check_next(state: StateContext, path: str, value: Json) -> None:
    """``Next`` / ``Default``: a state name (that it exists is checked with the scope)."""
    expect_string(state.report, path, value, non_empty=True)


def check_end(state: StateContext, path: str, value: Json) -> None:
    """``End``: a boolean (whether Next/End are consistent is checked per state)."""
    expect_boolean(state.report, path, value)


def check_ignored(state: StateContext, path: str, value: Json) -> None:
    """``Result`` and the like: any JSON, taken literally."""


def is_expression_here(state: StateContext, value: Json) -> bool:
    """Whether ``value`` is a ``{% ... %}`` expression in a JSONata state (then checked)."""
    return state.jsonata and looks_like_jsonata(value)


def integer_field(minimum: int, maximum: int = MAX_SECONDS) -> FieldCheck:
    """A checker for an integer field, which JSONata states may compute instead."""

    def check(state: StateContext, path: str, value: Json) -> None:
        if is_expression_here(state, value):
            check_jsonata_value(state.report, path, value)
            return
        expect_integer(
            state.report, path, value, minimum=minimum, maximum=maximum, or_jsonata=state.jsonata
        )

    return check


def number_field(minimum: float, maximum: float | None) -> FieldCheck:
    """A checker for a number field, which JSONata states may compute instead."""

    def check(state: StateContext, path: str, value: Json) -> None:
        if is_expression_here(state, value):
            check_jsonata_value(state.report, path, value)
            return
        expect_number(
            state.report, path, value, minimum=minimum, maximum=maximum, or_jsonata=state.jsonata
        )

    return check


def string_field(state: StateContext, path: str, value: Json) -> None:
    """A string field (``Error``, ``Cause``), which JSONata states may compute instead."""
    if is_expression_here(state, value):
        check_jsonata_value(state.report, path, value)
    else:
        expect_string(state.report, path, value)
