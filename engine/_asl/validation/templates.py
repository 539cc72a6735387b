"""Payload templates and variable assignments, in each query language.

JSONPath: in ``Parameters``, ``ResultSelector``, ``ItemSelector``, ``Assign`` (and the
``Parameters`` of an ItemReader or ResultWriter) a key ending in ``.$`` takes its value
from a Path or an intrinsic call, at any depth of objects and arrays. ``Result`` is a
literal and is never walked.

JSONata: any string of the form ``{% ... %}``, at any depth, is an expression and must
parse. A string that opens with ``{%`` but does not close with ``%}`` is reported too:
AWS would keep it as a literal, which is never what its author meant.
"""

from __future__ import annotations

from engine._asl.validation.expressions import (
    dynamic_value_problem,
    jsonata_problem,
    looks_like_jsonata,
    variable_name_problem,
)
from engine._asl.validation.report import Code, Json, Report, child
from engine._asl.validation.values import expect_object

DYNAMIC_SUFFIX = ".$"
DYNAMIC_EXPECTATION = "a valid JSONPath or a valid intrinsic function call"


def check_dynamic_value(report: Report, path: str, key: str, value: Json) -> None:
    """The value of a ``.$`` field: a Path or an intrinsic call."""
    problem = dynamic_value_problem(value)
    if problem is not None:
        report.error(
            path, f"The value for the field '{key}' must be {DYNAMIC_EXPECTATION}: {problem}"
        )


def check_payload_template(report: Report, path: str, value: Json) -> None:
    """A JSONPath payload template: every ``.$`` field, at any depth, computes its value."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_payload_template(report, child(path, index), item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        item_path = child(path, key)
        if key.endswith(DYNAMIC_SUFFIX):
            _check_collision(report, item_path, key, value)
            check_dynamic_value(report, item_path, key, item)
        else:
            check_payload_template(report, item_path, item)


def _check_collision(report: Report, path: str, key: str, template: dict[str, Json]) -> None:
    """``"a"`` and ``"a.$"`` in one object would both produce the field ``a``."""
    plain = key.removesuffix(DYNAMIC_SUFFIX)
    if plain in template:
        report.error(
            path,
            f"The fields '{plain}' and '{key}' both produce the field '{plain}'; keep only one",
        )


def check_jsonata_value(report: Report, path: str, value: Json) -> None:
    """Any JSON value of a JSONata state: every ``{% ... %}`` string in it must parse."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_jsonata_value(report, child(path, index), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_jsonata_value(report, child(path, key), item)
    elif looks_like_jsonata(value):
        problem = jsonata_problem(value)
        if problem is not None:
            report.error(path, problem, Code.INVALID_JSONATA)


def check_assign(report: Report, path: str, value: Json, *, jsonata: bool) -> None:
    """An ``Assign`` object: valid variable names, and values computed as the language says."""
    if not expect_object(report, path, value):
        return
    for key, item in value.items():
        item_path = child(path, key)
        dynamic = not jsonata and key.endswith(DYNAMIC_SUFFIX)
        name = key.removesuffix(DYNAMIC_SUFFIX) if dynamic else key
        problem = variable_name_problem(name)
        if problem is not None:
            report.error(item_path, f"Invalid variable name in Assign: {problem}")
        if jsonata:
            check_jsonata_value(report, item_path, item)
        elif dynamic:
            _check_collision(report, item_path, key, value)
            check_dynamic_value(report, item_path, key, item)
        else:
            check_payload_template(report, item_path, item)
